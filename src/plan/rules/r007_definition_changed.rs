//! R007 definition changed: an index, constraint, identity, generated expression,
//! enum, domain, composite or range type or extension's schema keeps its name but changes its definition;
//! a function whose return type or argument names change, a view whose columns
//! change, a materialized view whose query changes, a row-level security
//! policy that changes, row-level security switched off, a partition whose
//! bound or parent changes.

use super::{col_object, Finding, RuleId};
use crate::plan::diff::Change;

pub const SAFE_PATH: &str = "Create the new definition under a new name, switch to it, then mark the old one `deprecated` and remove it in a later change.";

pub fn check(change: &Change) -> Option<Finding> {
    let (object, live, desired, origin) = match change {
        Change::ChangeIndex {
            table,
            desired,
            live,
        } => (
            format!("index {} on {table}", desired.name),
            live.compare_key(),
            desired.compare_key(),
            desired.origin.clone(),
        ),
        Change::ChangeConstraint {
            table,
            desired,
            live,
        } => (
            format!("constraint {} on {table}", desired.name()),
            live.definition(),
            desired.definition(),
            desired.origin().cloned(),
        ),
        Change::ChangeIdentity {
            table,
            column,
            live,
        } => (
            col_object(table, &column.name),
            live.identity
                .map_or("no identity".into(), |i| i.sql().to_string()),
            column
                .identity
                .map_or("no identity".into(), |i| i.sql().to_string()),
            column.origin.clone(),
        ),
        Change::ChangeGenerated {
            table,
            column,
            live,
        } => (
            col_object(table, &column.name),
            live.generated.as_ref().map_or("not generated".into(), |g| {
                format!("GENERATED ALWAYS AS ({}) STORED", g.sql)
            }),
            column
                .generated
                .as_ref()
                .map_or("not generated".into(), |g| {
                    format!("GENERATED ALWAYS AS ({}) STORED", g.sql)
                }),
            column.origin.clone(),
        ),
        Change::ChangeExtensionSchema {
            name,
            desired,
            live,
            origin,
        } => (
            format!("extension {name}"),
            format!("WITH SCHEMA {live}"),
            format!("WITH SCHEMA {desired}"),
            origin.clone(),
        ),
        Change::ChangeDomain { desired, live } => (
            format!("domain {}", desired.name),
            live.definition(false),
            desired.definition(false),
            desired.origin.clone(),
        ),
        Change::ChangeUserType { desired, live } => (
            format!("{} {}", desired.kind(), desired.name()),
            live.definition(),
            desired.definition(),
            desired.origin().clone(),
        ),
        Change::ChangePartitioning {
            table,
            desired,
            live,
            origin,
        } => (
            format!("partitioning of table {table}"),
            live.as_ref().map_or("not partitioned".into(), |p| {
                format!("PARTITION BY {}", p.sql)
            }),
            desired.as_ref().map_or("not partitioned".into(), |p| {
                format!("PARTITION BY {}", p.sql)
            }),
            origin.clone(),
        ),
        Change::EnumOrderChanged { en, live } => (
            format!("enum {}", en.name),
            live.join(", "),
            en.values.join(", "),
            en.origin.clone(),
        ),
        Change::ChangeRoutineSignature { desired, live } => {
            return Some(Finding {
                rule: RuleId::R007,
                object: format!("{} {}", desired.kind(), desired.id),
                message: format!(
                    "{} {} keeps its name and argument types but changes its return type, argument names or defaults, which PostgreSQL cannot replace in place",
                    desired.kind(),
                    desired.id
                ),
                safe_path: "Create the new version under a new name (or with other argument types), switch the callers to it, then mark the old one `deprecated` and remove it in a later change.".into(),
                live: Some(live.signature()),
                desired: Some(desired.signature()),
                origin: desired.origin.clone(),
            })
        }
        Change::ChangePartitionBound {
            partition,
            desired,
            live,
            origin,
            ..
        } => {
            return Some(Finding {
                rule: RuleId::R007,
                object: format!("partition {partition}"),
                message: format!(
                    "partition {partition} keeps its name but its bound or parent differs from the database's; \
                     moving rows between partitions is not done in place"
                ),
                safe_path: "Declare a new partition under a new name for the new bound (detach the old one by hand first when the bounds overlap: \
                     `ALTER TABLE parent DETACH PARTITION old CONCURRENTLY`), move its rows, then mark the old one `deprecated` and remove it in a later change."
                    .into(),
                live: Some(live.clone()),
                desired: Some(desired.clone()),
                origin: origin.clone(),
            })
        }
        Change::ChangeView { desired, live, why } => {
            return Some(Finding {
                rule: RuleId::R007,
                object: format!("{} {}", desired.kind(), desired.name),
                message: format!(
                    "{} {} cannot be replaced in place: {why}",
                    desired.kind(),
                    desired.name
                ),
                safe_path: format!(
                    "Create a {} under a new name with the new query, switch the code to it, then mark the old one `deprecated` and remove it in a later change.",
                    desired.kind()
                ),
                live: Some(live.definition()),
                desired: Some(desired.definition()),
                origin: desired.origin.clone(),
            })
        }
        Change::ChangePolicy {
            table,
            desired,
            live,
        } => {
            return Some(Finding {
                rule: RuleId::R007,
                object: format!("policy {} on {table}", desired.name),
                message: format!(
                    "policy {} on {table} keeps its name but changes what it allows: it could hide rows from running code or show rows that must not be seen",
                    desired.name
                ),
                safe_path: "Add a policy under a new name with the new definition, switch the code that relies on it, then mark the old policy `deprecated` and remove it with `reconcile prune`.".into(),
                live: Some(live.definition()),
                desired: Some(desired.definition()),
                origin: desired.origin.clone(),
            })
        }
        Change::ChangePersistence {
            table,
            unlogged,
            origin,
        } => {
            let (now, then, why) = if *unlogged {
                ("logged", "UNLOGGED", "an unlogged table is emptied after a crash and is not replicated; ALTER TABLE ... SET UNLOGGED also rewrites it under ACCESS EXCLUSIVE")
            } else {
                ("UNLOGGED", "logged", "ALTER TABLE ... SET LOGGED rewrites the whole table into the WAL under ACCESS EXCLUSIVE, blocking every query until it is done")
            };
            return Some(Finding {
                rule: RuleId::R007,
                object: format!("table {table}"),
                message: format!("table {table} is {now} in the database and {then} in the files: {why}"),
                safe_path: "Change it by hand in a maintenance window (ALTER TABLE ... SET LOGGED or SET UNLOGGED), then plan again; or keep the files as the database has it.".into(),
                live: Some(now.to_string()),
                desired: Some(then.to_string()),
                origin: origin.clone(),
            });
        }
        Change::DisableRowSecurity {
            table,
            forced,
            origin,
        } => {
            let (what, key, effect) = if *forced {
                (
                    "FORCE ROW LEVEL SECURITY",
                    "force_row_level_security",
                    "the table's owner would bypass its policies",
                )
            } else {
                (
                    "row level security",
                    "row_level_security",
                    "every role that can read the table would see every row",
                )
            };
            return Some(Finding {
                rule: RuleId::R007,
                object: format!("table {table}"),
                message: format!(
                    "the files switch {what} off on {table}, where the database has it on: {effect}"
                ),
                safe_path: format!(
                    "Keep `{key} = true` (or leave the key out: the database's stays); to let a role see more rows, add a policy for it. Switching it off is a decision for a person, by hand."
                ),
                live: Some(format!("{what} on")),
                desired: Some(format!("{what} off")),
                origin: origin.clone(),
            });
        }
        _ => return None,
    };
    Some(Finding {
        rule: RuleId::R007,
        message: format!("{object} keeps its name but its definition differs from the database's"),
        object,
        safe_path: SAFE_PATH.into(),
        live: Some(live),
        desired: Some(desired),
        origin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Check, QualName};
    use crate::plan::diff::Constraint;

    #[test]
    fn refuses_a_changed_check_and_shows_both() {
        let mk = |e: &str| {
            Constraint::Check(Check {
                name: "c".into(),
                expr: crate::desired::expr::from_catalog(e),
                validated: true,
                no_inherit: false,
                origin: None,
            })
        };
        let change = Change::ChangeConstraint {
            table: QualName::new("public", "t"),
            desired: mk("n > 1"),
            live: mk("n > 0"),
        };
        let f = check(&change).unwrap();
        assert_eq!(f.rule, RuleId::R007);
        assert_eq!(f.live.as_deref(), Some("CHECK (n > 0)"));
        assert_eq!(f.desired.as_deref(), Some("CHECK (n > 1)"));
    }
}
