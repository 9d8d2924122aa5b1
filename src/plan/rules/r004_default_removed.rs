//! R004 default removed: a default present in the database is absent from the files.

use super::{col_object, Finding, RuleId};
use crate::plan::diff::Change;

pub const SAFE_PATH: &str = "Keep the `default` in the files; running code may rely on it when it inserts without that column. Change it to another default if it is wrong.";

pub fn check(change: &Change) -> Option<Finding> {
    let Change::DropDefault {
        table,
        column,
        live,
    } = change
    else {
        return None;
    };
    Some(Finding {
        rule: RuleId::R004,
        object: col_object(table, &column.name),
        message: format!(
            "column `{table}.{}` has the default `{}` in the database but none in the files",
            column.name, live.sql
        ),
        safe_path: SAFE_PATH.into(),
        live: Some(live.sql.clone()),
        desired: None,
        origin: column.origin.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Column, QualName};

    #[test]
    fn refuses_a_removed_default() {
        let change = Change::DropDefault {
            table: QualName::new("public", "t"),
            column: Column::new("n", "integer"),
            live: crate::desired::expr::from_catalog("0"),
        };
        assert_eq!(check(&change).unwrap().rule, RuleId::R004);
    }
}
