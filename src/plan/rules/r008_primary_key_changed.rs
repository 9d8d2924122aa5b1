//! R008 primary key changed: the key of an existing table changes (or a table
//! without one gets one).

use super::{Finding, RuleId};
use crate::plan::diff::Change;

pub const SAFE_PATH: &str = "Keep the primary key as it is; add a unique constraint (or a unique index) on the new key columns instead, and switch the code to it.";

pub fn check(change: &Change) -> Option<Finding> {
    let Change::ChangePrimaryKey {
        table,
        desired,
        live,
    } = change
    else {
        return None;
    };
    let show = |k: &crate::model::Key| format!("CONSTRAINT {} PRIMARY KEY {}", k.name, k.body());
    Some(Finding {
        rule: RuleId::R008,
        object: format!("primary key of {table}"),
        message: match live {
            Some(_) => format!("the primary key of `{table}` differs from the database's"),
            None => {
                format!("table `{table}` has no primary key in the database; the files give it one")
            }
        },
        safe_path: SAFE_PATH.into(),
        live: Some(live.as_ref().map_or("no primary key".into(), show)),
        desired: Some(show(desired)),
        origin: desired.origin.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Key, QualName};

    #[test]
    fn refuses_changed_key_columns() {
        let k = |cols: &[&str]| Key::new("t_pkey", cols.iter().map(|c| c.to_string()).collect());
        let change = Change::ChangePrimaryKey {
            table: QualName::new("public", "t"),
            desired: k(&["a", "b"]),
            live: Some(k(&["a"])),
        };
        let f = check(&change).unwrap();
        assert_eq!(f.rule, RuleId::R008);
        assert!(f.desired.unwrap().contains("a, b"));
    }
}
