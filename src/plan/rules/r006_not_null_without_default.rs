//! R006 not null without default: a new `not_null` column without a default on
//! a table that already exists.

use super::{col_object, Finding, RuleId};
use crate::plan::diff::Change;

pub const SAFE_PATH: &str = "Give the new column a `default`, or add it nullable, backfill it and ship code that writes it before asking for NOT NULL.";

pub fn check(change: &Change) -> Option<Finding> {
    let Change::AddColumn { table, column, .. } = change else {
        return None;
    };
    let filled = column.default.is_some()
        || column.identity.is_some()
        || column.generated.is_some()
        || column.serial.is_some();
    if !column.not_null || filled {
        return None;
    }
    Some(Finding {
        rule: RuleId::R006,
        object: col_object(table, &column.name),
        message: format!(
            "new column `{table}.{}` is `not_null` without a default, on a table that already exists: its existing rows and running code that inserts without it would fail",
            column.name
        ),
        safe_path: SAFE_PATH.into(),
        live: None,
        desired: None,
        origin: column.origin.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Column, QualName};

    #[test]
    fn refuses_only_without_default() {
        let mut column = Column::new("n", "integer");
        column.not_null = true;
        let change = Change::AddColumn {
            table: QualName::new("public", "t"),
            column: column.clone(),
            stats: None,
        };
        assert_eq!(check(&change).unwrap().rule, RuleId::R006);
        column.default = Some(crate::desired::expr::from_catalog("0"));
        let change = Change::AddColumn {
            table: QualName::new("public", "t"),
            column,
            stats: None,
        };
        assert!(check(&change).is_none());
    }

    /// Each way PostgreSQL fills the existing rows counts as a default.
    #[test]
    fn identity_generated_and_serial_fill_the_rows() {
        let fills: [fn(&mut Column); 3] = [
            |c| c.identity = Some(crate::model::Identity::Always),
            |c| c.generated = Some(Box::new(crate::desired::expr::from_catalog("1"))),
            |c| {
                c.serial = Some(Box::new(crate::model::Serial {
                    keyword: "serial",
                    sequence: QualName::new("public", "t_n_seq"),
                }))
            },
        ];
        for fill in fills {
            let mut column = Column::new("n", "integer");
            column.not_null = true;
            fill(&mut column);
            let change = Change::AddColumn {
                table: QualName::new("public", "t"),
                column,
                stats: None,
            };
            assert!(check(&change).is_none());
        }
    }
}
