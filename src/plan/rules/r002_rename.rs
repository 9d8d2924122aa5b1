//! R002 rename: a removed object and an added one of the same kind and shape.
//! Only the CI guard sees renames (it compares two versions of the files); for
//! plan and apply a rename is an added object and an unmanaged one.

use super::{Finding, RuleId};
use crate::model::Origin;

pub const SAFE_PATH: &str = "Add the new one, backfill it, switch the code to it, then mark the old one `deprecated` and remove it in a later change.";

pub fn renamed(kind: &str, old: &str, new: &str, origin: Option<Origin>) -> Finding {
    Finding {
        rule: RuleId::R002,
        object: format!("{kind} {old}"),
        message: format!(
            "{kind} `{old}` looks renamed to `{new}`: running code still uses the old name"
        ),
        safe_path: SAFE_PATH.into(),
        live: Some(old.to_string()),
        desired: Some(new.to_string()),
        origin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_old_and_new() {
        let f = renamed("column", "leads.phone", "leads.phone_number", None);
        assert_eq!(f.rule, RuleId::R002);
        assert!(f.message.contains("leads.phone") && f.message.contains("phone_number"));
    }
}
