//! How a plan runs (SPEC §4): in one transaction, or online in three phases.
//! Pure: the plan's statements in, the order and grouping they run in out.
//!
//! Online, phase 1 is one quick transaction (everything but the statements
//! below, with constraints on existing tables added `NOT VALID`); phase 2 runs
//! each index build on an existing table `CONCURRENTLY`, outside a transaction;
//! phase 3 validates each `NOT VALID` constraint in a transaction of its own.
//! In both modes, enum values that the plan uses are added and committed first.

use serde::Serialize;

use crate::plan::Plan;

/// One statement as it runs.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub id: String,
    pub sql: String,
    /// The table whose lock it waits for (`schema.name` as plans print it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    pub lock: &'static str,
    /// The index it builds concurrently (see `OnlineStep::builds_index`).
    #[serde(skip)]
    pub builds_index: Option<crate::model::QualName>,
    /// Where the files wrote the object it comes from (`Statement::origin`).
    #[serde(skip)]
    pub origin: Option<crate::model::Origin>,
}

/// How the steps of a phase are run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Run {
    /// All in one transaction.
    OneTransaction,
    /// Each outside any transaction (`CREATE INDEX CONCURRENTLY` refuses one).
    EachOutsideTransaction,
    /// Each in a transaction of its own.
    EachInItsOwnTransaction,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Phase {
    /// 0: enum values committed first; 1, 2, 3: the phases of SPEC §4.
    pub number: u8,
    pub run: Run,
    pub steps: Vec<Step>,
}

impl Phase {
    /// What the phase does, for a person.
    pub fn title(&self) -> &'static str {
        match self.number {
            0 => "enum values the plan uses, committed first",
            2 => "indexes built concurrently, outside a transaction",
            3 => "constraints validated, each in a transaction of its own",
            _ => "one transaction",
        }
    }
}

/// The phases of a plan, in order; phases with no step are left out.
pub fn schedule(plan: &Plan, online: bool) -> Vec<Phase> {
    let step = |id: &str, sql: &str, s: &crate::plan::render::Statement, lock| Step {
        id: id.to_string(),
        sql: sql.to_string(),
        table: s.table.clone(),
        lock,
        builds_index: None,
        origin: s.origin.clone(),
    };
    let mut phases: Vec<Phase> = [
        (0, Run::OneTransaction),
        (1, Run::OneTransaction),
        (2, Run::EachOutsideTransaction),
        (3, Run::EachInItsOwnTransaction),
    ]
    .into_iter()
    .map(|(number, run)| Phase {
        number,
        run,
        steps: Vec::new(),
    })
    .collect();
    for s in &plan.statements {
        if s.commit_first {
            phases[0].steps.push(step(&s.id, &s.sql, s, s.lock));
        } else if !online || s.online.is_empty() {
            phases[1].steps.push(step(&s.id, &s.sql, s, s.lock));
        } else {
            for o in &s.online {
                let p = usize::from(o.phase.clamp(1, 3));
                let mut st = step(&o.id, &o.sql, s, o.lock);
                st.builds_index = o.builds_index.clone();
                phases[p].steps.push(st);
            }
        }
    }
    phases.retain(|p| !p.steps.is_empty());
    phases
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::render::{OnlineStep, Statement};

    fn statement(id: &str, online: Vec<(u8, &str)>, commit_first: bool) -> Statement {
        Statement {
            id: id.into(),
            sql: format!("SQL {id}"),
            table: Some("t".into()),
            lock: "ACCESS EXCLUSIVE",
            hazard: None,
            warning: None,
            table_rows: None,
            table_bytes: None,
            online: online
                .into_iter()
                .map(|(phase, sql)| OnlineStep {
                    phase,
                    id: format!("{id}@{phase}"),
                    sql: sql.into(),
                    lock: "SHARE UPDATE EXCLUSIVE",
                    builds_index: None,
                })
                .collect(),
            commit_first,
            partitioned: false,
            origin: None,
        }
    }

    fn plan(statements: Vec<Statement>) -> Plan {
        Plan {
            statements,
            refused: Vec::new(),
            unmanaged: Vec::new(),
            in_sync: Vec::new(),
            busy_tables: Vec::new(),
            plan_hash: String::new(),
            files_hash: None,
            applied_files: None,
        }
    }

    fn shape(phases: &[Phase]) -> Vec<(u8, Vec<String>)> {
        phases
            .iter()
            .map(|p| (p.number, p.steps.iter().map(|s| s.sql.clone()).collect()))
            .collect()
    }

    #[test]
    fn online_forms_are_spread_over_the_phases_in_plan_order() {
        let p = plan(vec![
            statement("value", vec![], true),
            statement("column", vec![], false),
            statement("fk", vec![(1, "FK NOT VALID"), (3, "VALIDATE FK")], false),
            statement("index", vec![(2, "INDEX CONCURRENTLY")], false),
            statement(
                "check",
                vec![(1, "CHECK NOT VALID"), (3, "VALIDATE CHECK")],
                false,
            ),
        ]);
        assert_eq!(
            shape(&schedule(&p, true)),
            vec![
                (0, vec!["SQL value".to_string()]),
                (
                    1,
                    vec![
                        "SQL column".into(),
                        "FK NOT VALID".into(),
                        "CHECK NOT VALID".into()
                    ]
                ),
                (2, vec!["INDEX CONCURRENTLY".into()]),
                (3, vec!["VALIDATE FK".into(), "VALIDATE CHECK".into()]),
            ]
        );
        let online = schedule(&p, true);
        assert_eq!(online[2].run, Run::EachOutsideTransaction);
        assert_eq!(online[2].steps[0].id, "index@2");
        assert_eq!(online[3].run, Run::EachInItsOwnTransaction);
    }

    #[test]
    fn one_transaction_ignores_online_forms_but_commits_used_enum_values_first() {
        let p = plan(vec![
            statement("value", vec![], true),
            statement("index", vec![(2, "INDEX CONCURRENTLY")], false),
        ]);
        assert_eq!(
            shape(&schedule(&p, false)),
            vec![
                (0, vec!["SQL value".to_string()]),
                (1, vec!["SQL index".to_string()]),
            ]
        );
        assert!(schedule(&plan(Vec::new()), true).is_empty());
    }
}
