//! R005 not null added: an existing nullable column becomes `not_null`.

use super::{col_object, Finding, RuleId};
use crate::plan::diff::Change;

pub const SAFE_PATH: &str = "Add a CHECK (column IS NOT NULL) constraint, backfill the NULL rows, and ship code that always writes the column; make it NOT NULL by hand once the check is validated.";

pub fn check(change: &Change) -> Option<Finding> {
    let Change::SetNotNull { table, column } = change else {
        return None;
    };
    Some(Finding {
        rule: RuleId::R005,
        object: col_object(table, &column.name),
        message: format!(
            "column `{table}.{}` is nullable in the database but `not_null` in the files; existing NULLs and running code that writes NULL would fail",
            column.name
        ),
        safe_path: SAFE_PATH.into(),
        live: Some("NULL".into()),
        desired: Some("NOT NULL".into()),
        origin: column.origin.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Column, QualName};

    #[test]
    fn refuses_not_null_on_existing_column() {
        let change = Change::SetNotNull {
            table: QualName::new("public", "t"),
            column: Column::new("n", "integer"),
        };
        assert_eq!(check(&change).unwrap().rule, RuleId::R005);
    }
}
