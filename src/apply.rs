//! Apply a plan safely: one transaction, a transaction-level advisory lock (two
//! deploys never apply at once, and no error path can leak it), a re-plan under
//! the lock, `lock_timeout` and `statement_timeout` set locally, verification
//! against the files before COMMIT, and a history row.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::db::{Db, SqlError};
use crate::model::Catalog;
use crate::plan::Plan;
use crate::{history, Error};

/// The advisory lock key: the bytes of "reconcil" as a bigint. Advisory locks are per database.
pub const LOCK_KEY: i64 = 0x7265_636f_6e63_696c;

#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// How long a statement may wait for a table lock (default 5s).
    pub lock_timeout: Duration,
    /// How long one statement may run (default 10 min).
    pub statement_timeout: Duration,
    /// How long to wait for another apply to finish (the advisory lock).
    pub wait_for_other_apply: Duration,
    /// The hash `plan` printed; a different plan under the lock runs nothing.
    pub expect_plan: Option<String>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            lock_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(600),
            wait_for_other_apply: Duration::from_secs(300),
            expect_plan: None,
        }
    }
}

/// What apply reports while it works.
pub enum Event<'a> {
    /// The plan computed before taking the lock.
    Planned(&'a Plan),
    /// The lock is ours; this is the plan that will run.
    Locked(&'a Plan),
    /// A statement ran.
    Executed {
        id: &'a str,
        sql: &'a str,
        duration: Duration,
    },
}

/// A session that holds a lock we waited for.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Blocker {
    pub pid: i32,
    pub application_name: String,
    pub state: String,
    /// Seconds since its transaction began.
    pub transaction_seconds: f64,
    pub lock_mode: String,
    pub query: String,
}

/// Why an apply stopped; nothing was applied in every case.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{} change(s) refused; nothing was applied", plan.refused.len())]
    Refused { plan: Box<Plan> },
    #[error("the plan changed: expected hash {expected}, the plan under the lock is {actual}; nothing was applied")]
    PlanChanged {
        expected: String,
        actual: String,
        plan: Box<Plan>,
    },
    #[error("lock timeout: `{statement}` waited longer than {lock_timeout:?} for a lock on {table}; rolled back, nothing was applied")]
    LockTimeout {
        statement: String,
        table: String,
        lock_timeout: Duration,
        our_pid: i32,
        blockers: Vec<Blocker>,
        error: SqlError,
    },
    #[error("statement failed; rolled back, nothing was applied: {error}")]
    Statement { id: String, error: SqlError },
    #[error("after applying, the database still differs from the files ({remaining} statement(s), {refused} refusal(s)); rolled back")]
    Verification {
        remaining: usize,
        refused: usize,
        plan: Box<Plan>,
    },
    #[error("{0}")]
    Other(#[from] Error),
}

impl From<SqlError> for ApplyError {
    fn from(e: SqlError) -> Self {
        ApplyError::Other(Error::Sql(e))
    }
}

impl ApplyError {
    pub fn exit_code(&self) -> u8 {
        use crate::error::exit;
        match self {
            ApplyError::Refused { .. } | ApplyError::PlanChanged { .. } => exit::REFUSED,
            ApplyError::Other(e) => e.exit_code(),
            _ => exit::OPERATIONAL,
        }
    }
}

/// The outcome of a successful apply.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    pub plan: Plan,
    /// `(step id, duration)` of each statement, in order.
    pub timings: Vec<(String, Duration)>,
    pub total: Duration,
}

fn interval(d: Duration) -> String {
    format!("{}ms", d.as_millis().max(1))
}

/// Apply the files to the database behind `db`.
pub async fn apply(
    db: &Db,
    desired: Catalog,
    opts: &ApplyOptions,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) -> Result<Applied, ApplyError> {
    // The plan a person reads first. Refusals stop here: nothing runs, not even the allowed part.
    let first = crate::plan_with(db, &desired).await?;
    on_event(Event::Planned(&first));
    if !first.refused.is_empty() {
        return Err(ApplyError::Refused {
            plan: Box::new(first),
        });
    }

    let started = Instant::now();
    db.execute("BEGIN").await?;
    match locked_apply(db, desired, opts, on_event, started).await {
        // When nothing ran, COMMIT ends a transaction that changed nothing.
        Ok(applied) => {
            db.execute("COMMIT").await?;
            Ok(applied)
        }
        Err(mut e) => {
            // Best effort: the server rolls back anyway if the connection is gone.
            let _ = db.execute("ROLLBACK").await;
            if let ApplyError::LockTimeout {
                table, blockers, ..
            } = &mut e
            {
                *blockers = find_blockers(db, table).await.unwrap_or_default();
            }
            Err(e)
        }
    }
}

/// Inside the transaction: lock, re-plan, run, verify, record.
async fn locked_apply(
    db: &Db,
    desired: Catalog,
    opts: &ApplyOptions,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
    started: Instant,
) -> Result<Applied, ApplyError> {
    // Behind a pooler in transaction mode, the server process is only ours for
    // this transaction: its pid is read here, not at connect time.
    let rows = db
        .simple(&format!(
            "SET LOCAL lock_timeout = '{}'; SET LOCAL statement_timeout = '{}'; \
             SELECT pg_backend_pid(), pg_advisory_xact_lock({LOCK_KEY})",
            interval(opts.wait_for_other_apply),
            interval(opts.wait_for_other_apply + opts.statement_timeout),
        ))
        .await?;
    let our_pid = rows
        .first()
        .and_then(|r| r.first())
        .and_then(|v| v.as_deref())
        .and_then(|v| v.parse().ok())
        .unwrap_or(db.backend_pid);
    // Plan again: this is the state the statements will meet.
    let plan = crate::plan_in_transaction(db, &desired).await?;
    on_event(Event::Locked(&plan));
    if !plan.refused.is_empty() {
        return Err(ApplyError::Refused {
            plan: Box::new(plan),
        });
    }
    if let Some(expected) = &opts.expect_plan {
        if expected != &plan.plan_hash {
            return Err(ApplyError::PlanChanged {
                expected: expected.clone(),
                actual: plan.plan_hash.clone(),
                plan: Box::new(plan),
            });
        }
    }
    if plan.statements.is_empty() {
        return Ok(Applied {
            plan,
            timings: Vec::new(),
            total: started.elapsed(),
        });
    }
    // If this process dies while a statement waits, the server notices within a
    // second (PostgreSQL 14+) instead of when the wait ends.
    let check_client = if db.server_version >= 140000 {
        "; SET LOCAL client_connection_check_interval = '1s'"
    } else {
        ""
    };
    db.execute(&format!(
        "SET LOCAL lock_timeout = '{}'; SET LOCAL statement_timeout = '{}'; SET LOCAL search_path = public{check_client}",
        interval(opts.lock_timeout),
        interval(opts.statement_timeout),
    ))
    .await?;
    let mut timings = Vec::new();
    for s in &plan.statements {
        let t = Instant::now();
        if let Err(error) = db.execute(&s.sql).await {
            if error.is_lock_timeout() {
                return Err(ApplyError::LockTimeout {
                    statement: s.sql.clone(),
                    table: s.table.clone().unwrap_or_default(),
                    lock_timeout: opts.lock_timeout,
                    our_pid,
                    blockers: Vec::new(),
                    error,
                });
            }
            return Err(ApplyError::Statement {
                id: s.id.clone(),
                error,
            });
        }
        let d = t.elapsed();
        on_event(Event::Executed {
            id: &s.id,
            sql: &s.sql,
            duration: d,
        });
        timings.push((s.id.clone(), d));
    }
    // Verify before COMMIT: the database must now match the files.
    let check = crate::plan_in_transaction(db, &desired).await?;
    if !check.statements.is_empty() || !check.refused.is_empty() {
        return Err(ApplyError::Verification {
            remaining: check.statements.len(),
            refused: check.refused.len(),
            plan: Box::new(check),
        });
    }
    let total = started.elapsed();
    let sql: Vec<String> = plan.statements.iter().map(|s| s.sql.clone()).collect();
    history::record(
        db,
        &plan.plan_hash,
        "transaction",
        None,
        &sql,
        total.as_millis() as i64,
    )
    .await?;
    Ok(Applied {
        plan,
        timings,
        total,
    })
}

/// Sessions holding a lock on `table` (`schema.name` as plans print it).
pub async fn find_blockers(db: &Db, table: &str) -> Result<Vec<Blocker>, SqlError> {
    if table.is_empty() {
        return Ok(Vec::new());
    }
    let q = crate::model::QualName::new(
        table.split_once('.').map_or("public", |(s, _)| s),
        table.split_once('.').map_or(table, |(_, n)| n),
    );
    let rows = db
        .simple(&format!(
            "SELECT coalesce(json_agg(x), '[]') FROM ( \
               SELECT DISTINCT ON (a.pid) a.pid, coalesce(a.application_name, '') AS \"applicationName\", \
                      coalesce(a.state, '') AS state, \
                      coalesce(extract(epoch FROM now() - a.xact_start), 0)::float8 AS \"transactionSeconds\", \
                      l.mode AS \"lockMode\", coalesce(a.query, '') AS query \
               FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
               WHERE l.granted AND l.relation = to_regclass({}) AND l.pid <> pg_backend_pid() \
               ORDER BY a.pid) x",
            crate::names::quote_literal(&q.sql())
        ))
        .await?;
    let json = rows
        .first()
        .and_then(|r| r.first())
        .and_then(|v| v.clone())
        .unwrap_or_else(|| "[]".into());
    Ok(serde_json::from_str(&json).unwrap_or_default())
}
