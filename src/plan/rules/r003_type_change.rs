//! R003 type change: a column's canonical type differs from the database's.

use super::{col_object, Finding, RuleId};
use crate::plan::diff::Change;

pub const SAFE_PATH: &str = "Add a new column of the new type, backfill it, switch the code to it, then mark the old column `deprecated`.";

pub fn check(change: &Change) -> Option<Finding> {
    let Change::ChangeType {
        table,
        column,
        live,
    } = change
    else {
        return None;
    };
    Some(Finding {
        rule: RuleId::R003,
        object: col_object(table, &column.name),
        message: format!(
            "column `{table}.{}` is `{}` in the database but `{}` in the files; changing a type can rewrite the table and break running code",
            column.name,
            live.type_sql(),
            column.type_sql()
        ),
        safe_path: SAFE_PATH.into(),
        live: Some(live.type_sql()),
        desired: Some(column.type_sql()),
        origin: column.origin.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Column, QualName};

    #[test]
    fn refuses_a_type_change_only() {
        let change = Change::ChangeType {
            table: QualName::new("public", "t"),
            column: Column::new("n", "bigint"),
            live: Column::new("n", "integer"),
        };
        let f = check(&change).unwrap();
        assert_eq!(f.rule, RuleId::R003);
        assert_eq!(f.live.as_deref(), Some("integer"));
        let other = Change::DropNotNull {
            table: QualName::new("public", "t"),
            column: Column::new("n", "bigint"),
        };
        assert!(check(&other).is_none());
    }
}
