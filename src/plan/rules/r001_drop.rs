//! R001 drop: an object present in the database but not in the files is never
//! dropped. The CI guard refuses removing it from the files unless the base
//! version marked it `deprecated`; plan and apply refuse it the same way when
//! the files last applied had it (see `removals`), and otherwise report it as
//! unmanaged and keep it. `prune` drops what an applied version marked `deprecated`.

use super::{Finding, RuleId};
use crate::model::Origin;

pub const SAFE_PATH: &str = "Mark it `deprecated = \"why\"` first and ship code that stops using it; remove it from the files in a later change. The database keeps it until `reconcile prune` drops it.";

/// The finding for an object removed from the files (the CI guard).
pub fn removed(kind: &str, name: &str, origin: Option<Origin>) -> Finding {
    Finding {
        rule: RuleId::R001,
        object: format!("{kind} {name}"),
        message: format!(
            "{kind} `{name}` was removed from the files without being marked `deprecated` first"
        ),
        safe_path: SAFE_PATH.into(),
        live: None,
        desired: None,
        origin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_object_and_the_two_step_path() {
        let f = removed("column", "leads.fax", None);
        assert_eq!(f.rule, RuleId::R001);
        assert!(f.message.contains("leads.fax"));
        assert!(f.safe_path.contains("deprecated"));
    }
}
