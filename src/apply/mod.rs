//! Apply a plan safely: one transaction, a transaction-level advisory lock (two
//! deploys never apply at once, and no error path can leak it), a re-plan under
//! the lock, `lock_timeout` and `statement_timeout` set locally, verification
//! against the files before COMMIT, and a history row.

pub mod prune;
pub mod watch;

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::catalog::{history, settled};
use crate::connect::db::{first_value, Db, Pipeline, SqlError};
use crate::model::Catalog;
use crate::plan::against::{
    plan_against, read_catalog, read_catalog_with, read_settled_or_catalog, settled_plan, Asked,
    Live, Read,
};
use crate::plan::phases::{schedule, Phase, Run, Step};
use crate::plan::{blocks_writes, Plan};
use crate::Error;

/// The advisory lock key: the bytes of "reconcil" as a bigint. Advisory locks are per database.
pub const LOCK_KEY: i64 = 0x7265_636f_6e63_696c;

/// Held, shared and session-level, by `apply --online` for its whole run
/// beside `LOCK_KEY`, so that an apply waiting for `LOCK_KEY` can tell that an
/// online apply holds it (`pg_locks` does not say whether a lock is
/// session-level).
pub const ONLINE_KEY: i64 = LOCK_KEY + 1;

/// How often a waiting apply asks for the lock again, at most.
const LOCK_POLL_MAX: Duration = Duration::from_secs(1);

/// `pg_locks` shows a bigint advisory key as its high half in `classid`, its
/// low half in `objid`, and `objsubid = 1`, with the database it belongs to
/// (advisory locks are per database: the same key taken in another database
/// is another lock): the condition that finds `key` of this database in the
/// `pg_locks` row called `row`.
fn advisory_key_condition(row: &str, key: i64) -> String {
    let k = key as u64;
    format!(
        "{row}.locktype = 'advisory' AND {row}.classid = {} AND {row}.objid = {} AND {row}.objsubid = 1 \
         AND {row}.database = {}",
        k >> 32,
        k & 0xffff_ffff,
        crate::catalog::THIS_DATABASE
    )
}

#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// How long a statement may wait for a table lock (default 5s; 1s online).
    pub lock_timeout: Duration,
    /// How long one statement may run (default 10 min).
    pub statement_timeout: Duration,
    /// How long to wait for another apply to finish (the advisory lock).
    pub wait_for_other_apply: Duration,
    /// The hash `plan` printed; a different plan under the lock runs nothing.
    pub expect_plan: Option<String>,
    /// Online (SPEC §4): a quick transaction, then indexes built concurrently,
    /// then constraints validated, each in a transaction of its own.
    pub online: bool,
    /// Online: how many times a step that timed out waiting for a lock is tried.
    pub lock_attempts: u32,
    /// Online: the wait before the second attempt; it doubles each time (with jitter).
    pub retry_backoff: Duration,
    /// Which surface applies, recorded in the history row's `via`
    /// (`history::via`; default `library`).
    pub via: String,
    /// Read the catalog in the round trip that takes the lock, beside the
    /// question whether the database is as the last apply verified it
    /// (`catalog::settled`), instead of after its answer: one round trip
    /// less when something changed, the server's time for a catalog read
    /// thrown away when nothing did. Default `true` (one database, far away:
    /// round trips dominate); a fleet sets `false` (many databases at once:
    /// the server's time dominates).
    pub read_ahead: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            lock_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(600),
            wait_for_other_apply: Duration::from_secs(300),
            expect_plan: None,
            online: false,
            lock_attempts: 5,
            retry_backoff: Duration::from_millis(500),
            via: history::via::LIBRARY.into(),
            read_ahead: true,
        }
    }
}

/// The lock timeout of an online apply when none is given: short, because
/// every query on the table queues behind a statement waiting for its lock.
pub const ONLINE_LOCK_TIMEOUT: Duration = Duration::from_secs(1);

/// What apply reports while it works.
pub enum Event<'a> {
    /// The plan computed before taking the lock.
    Planned(&'a Plan),
    /// The lock is ours; this is the plan that will run.
    Locked(&'a Plan),
    /// A phase begins.
    Phase(&'a Phase),
    /// A statement ran.
    Executed {
        id: &'a str,
        sql: &'a str,
        duration: Duration,
    },
    /// A step timed out waiting for a lock; it is tried again after `wait`.
    Retry {
        id: &'a str,
        attempt: u32,
        wait: Duration,
        blockers: &'a [Blocker],
    },
    /// Statement `id` has waited `waited` so far for a lock on `object`
    /// (a table as plans print it, `t` or `auth.t`, or what else it waits for) that `blockers` hold; sent
    /// after about a second, then every few seconds (see `watch`).
    Waiting {
        id: &'a str,
        object: &'a str,
        blockers: &'a [Blocker],
        waited: Duration,
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

/// What stays when an apply stops: nothing, or the steps committed before.
fn outcome(committed: &[String]) -> String {
    if committed.is_empty() {
        "rolled back, nothing was applied".into()
    } else {
        format!(
            "{} step(s) committed before it stay ({}); once the cause is fixed, running apply again finishes the job",
            committed.len(),
            committed.join(", ")
        )
    }
}

/// `, held by pid 29245 (app: web)`: who held the lock a statement timed out on.
fn held_by(blockers: &[Blocker]) -> String {
    if blockers.is_empty() {
        return String::new();
    }
    let by: Vec<String> = blockers
        .iter()
        .map(|b| {
            let app = if b.application_name.is_empty() {
                "none"
            } else {
                &b.application_name
            };
            format!("pid {} (app: {app})", b.pid)
        })
        .collect();
    format!(", held by {}", by.join(", "))
}

/// ` (schema/t.toml:12:1)`: where the files wrote a failed step's object.
fn at(origin: &Option<crate::model::Origin>) -> String {
    origin
        .as_ref()
        .map_or(String::new(), |o| format!(" (written at {o})"))
}

/// Why an apply stopped; `committed` lists what an earlier phase committed.
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
    #[error("lock timeout: `{statement}` waited longer than {lock_timeout:?} for a lock on {table}{}{}; {}",
        if *attempts > 1 { format!(" ({attempts} attempts)") } else { String::new() }, held_by(blockers), outcome(committed))]
    LockTimeout {
        statement: String,
        table: String,
        lock_timeout: Duration,
        attempts: u32,
        our_pid: i32,
        blockers: Vec<Blocker>,
        error: SqlError,
        committed: Vec<String>,
    },
    /// A statement of the plan failed: its step id, and where the files wrote
    /// the object it comes from.
    #[error("statement {id}{} failed; {}: {error}", at(origin), outcome(committed))]
    Statement {
        id: String,
        /// The object's file, line and column, when it comes from the files.
        origin: Option<crate::model::Origin>,
        error: SqlError,
        committed: Vec<String>,
    },
    #[error("after applying, the database still differs from the files ({remaining} statement(s), {refused} refusal(s)); {}", outcome(committed))]
    Verification {
        remaining: usize,
        refused: usize,
        plan: Box<Plan>,
        committed: Vec<String>,
    },
    #[error("apply --online needs a server session of its own for its whole run (a session-level advisory lock, and CREATE INDEX CONCURRENTLY outside a transaction), \
             but this connection goes through a pooler in transaction mode: {evidence}. {} \
             Connect directly to the server, or through a pool in session mode, for the online apply; `apply` without --online works through this pooler",
             if committed.is_empty() { "Nothing was applied.".to_string() } else { format!("It stopped; committed before: {}; the advisory lock may stay with a pooled server process until the pooler closes it.", committed.join(", ")) })]
    Pooled {
        evidence: String,
        committed: Vec<String>,
    },
    /// An error after earlier steps committed.
    #[error("{error}; {}", outcome(committed))]
    Stopped {
        error: Error,
        committed: Vec<String>,
    },
    /// Another apply held the advisory lock for the whole wait.
    #[error("another apply held the apply lock for longer than {waited:?} (held by {holders}); nothing was applied")]
    Busy { waited: Duration, holders: String },
    /// This apply waited for an online apply that stopped before its end.
    #[error("an online apply (apply --online) held the lock while this apply waited, and stopped with {remaining} statement(s) of the plan left to run; \
             in one transaction they would build indexes without CONCURRENTLY and block writes, so nothing was applied: \
             run `reconcile apply --online` to finish its work")]
    OnlineUnfinished { remaining: usize },
    /// An error found the transaction already ended: what ran before it may be committed.
    #[error("{error} (correction: the transaction was no longer open when this error came, so what ran before it may have been committed; check the database and `reconcile history`)")]
    TransactionEnded { error: String },
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
            ApplyError::Other(e) | ApplyError::Stopped { error: e, .. } => e.exit_code(),
            _ => exit::OPERATIONAL,
        }
    }
}

/// One phase, done.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhaseDone {
    pub phase: u8,
    pub executed: Vec<String>,
    #[serde(skip)]
    pub total: Duration,
}

/// The outcome of a successful apply.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    pub plan: Plan,
    /// `(step id, duration)` of each statement, in order.
    pub timings: Vec<(String, Duration)>,
    pub total: Duration,
    /// `transaction` or `online`.
    pub mode: &'static str,
    /// The phases that ran, in order.
    pub phases: Vec<PhaseDone>,
}

/// A timeout for `SET lock_timeout` / `statement_timeout`: `0` (no limit,
/// as PostgreSQL reads it) for zero, else whole milliseconds, at least 1.
pub(crate) fn interval(d: Duration) -> String {
    if d.is_zero() {
        "0".into()
    } else {
        format!("{}ms", d.as_millis().clamp(1, i32::MAX as u128))
    }
}

/// Apply the files to the database behind `db`.
pub async fn apply(
    db: &Db,
    desired: Catalog,
    opts: &ApplyOptions,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) -> Result<Applied, ApplyError> {
    if !opts.online {
        // The plan a person reads first is the one under the lock when the
        // lock is free at once (the catalog is read in the round trip that
        // takes it); else the one read beside the first try (see
        // `take_transaction_lock`). Refusals stop there: nothing runs.
        return in_transactions(db, &desired, opts, on_event, Opened::Nothing).await;
    }
    // Online: the plan a person reads first, before any lock. Refusals stop
    // here: nothing runs, not even the allowed part. Its transaction is
    // rolled back with the first request of what follows.
    let first = match crate::plan::against::plan_open(db, &desired).await {
        Ok(plan) => plan,
        Err(e) => {
            db.execute("ROLLBACK").await?;
            return Err(e.into());
        }
    };
    on_event(Event::Planned(&first));
    if !first.refused.is_empty() {
        db.execute("ROLLBACK").await?;
        return Err(ApplyError::Refused {
            plan: Box::new(first),
        });
    }
    if !first.is_empty() {
        db.execute("ROLLBACK").await?;
        online(db, &desired, opts, on_event).await
    } else {
        in_transactions(db, &desired, opts, on_event, Opened::PlanShown).await
    }
}

/// What `in_transactions` finds when it starts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Opened {
    /// No transaction, and no plan shown yet (`Event::Planned` is still to come).
    Nothing,
    /// The first plan was shown, and its transaction is still open.
    PlanShown,
}

/// Without --online: the plan in one transaction, under a transaction-level
/// advisory lock; enum values that the plan uses are committed first, in a
/// locked transaction of their own.
async fn in_transactions(
    db: &Db,
    desired: &Catalog,
    opts: &ApplyOptions,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
    opened: Opened,
) -> Result<Applied, ApplyError> {
    let started = Instant::now();
    let mut applied: Option<Applied> = None;
    let mut waited_for_online = false;
    let mut open = opened == Opened::PlanShown;
    let mut shown = opened == Opened::PlanShown;
    loop {
        let to_show = !shown;
        let (our_pid, online_held, read, shown_while_waiting) = take_transaction_lock(
            db,
            desired,
            opts,
            std::mem::take(&mut open),
            to_show,
            on_event,
        )
        .await?;
        waited_for_online |= online_held;
        // The lock was free at once: the plan under it is the one shown.
        let announce = !shown && !shown_while_waiting;
        shown = true;
        let before = applied.as_ref();
        let done = locked_transaction(
            db,
            desired,
            opts,
            on_event,
            before,
            started,
            (our_pid, read),
            waited_for_online,
            announce,
        )
        .await;
        match done {
            // The history row and COMMIT in one round trip; when nothing
            // ran, COMMIT alone ends a transaction that changed nothing. A
            // failed insert makes that COMMIT roll everything back.
            Ok((done, record)) => {
                match &record {
                    Record::Nothing => history::record_then_commit(db, &opts.via, None, None).await,
                    Record::Row(row, files) => {
                        let files = files.then_some(desired);
                        history::record_then_commit(db, &opts.via, Some(row), files).await
                    }
                    Record::Settle(settled) => history::settle_then_commit(db, settled).await,
                }?;
                let first_part = done.phases.first().is_some_and(|p| p.phase == 0);
                applied = Some(match applied {
                    None => done,
                    Some(mut a) => {
                        a.timings.extend(done.timings);
                        a.phases.extend(done.phases);
                        a.total = started.elapsed();
                        a
                    }
                });
                if !first_part {
                    return Ok(applied.expect("set above"));
                }
            }
            Err(mut e) => {
                // "Rolled back" only when the transaction was still open.
                if db.transaction_state().await == crate::connect::db::TransactionState::Idle {
                    e = ApplyError::TransactionEnded {
                        error: e.to_string(),
                    };
                }
                // Best effort: the server rolls back anyway if the connection is gone.
                let _ = db.execute("ROLLBACK").await;
                if let ApplyError::LockTimeout {
                    table, blockers, ..
                } = &mut e
                {
                    *blockers = watch::blockers_after_timeout(db, blockers, table).await;
                }
                return Err(e);
            }
        }
    }
}

/// Open a transaction that holds the transaction-level advisory lock; the
/// server process it runs on, whether an online apply held the lock at
/// some point while we waited, what to plan `desired` from as the
/// transaction sees the database (`Read`: the plan the last apply verified
/// when nothing changed since, see `settled_plan`; else the catalog and files
/// last applied, see `read_catalog`), and whether the plan was shown while
/// waiting. With `rollback_first`, the transaction left open by the first
/// plan is rolled back first, in the same round trip.
///
/// With `to_show` (no plan was shown yet) and the lock held by another
/// session at the first try, the plan of what was read beside that try is
/// shown (`Event::Planned`) before waiting, and a refusal in it ends the
/// apply there (`ApplyError::Refused`), as it did before any lock.
///
/// The wait holds no snapshot: each try is a transaction of its own
/// (`pg_try_advisory_xact_lock`), rolled back when the lock is taken, and
/// the pauses between tries are spent outside any transaction. A session
/// waiting inside `pg_advisory_xact_lock` would hold its statement's
/// snapshot, which `CREATE INDEX CONCURRENTLY` of an online apply holding the
/// lock waits for: a deadlock (40P01). Gives up after
/// `opts.wait_for_other_apply`, naming the holder.
async fn take_transaction_lock(
    db: &Db,
    desired: &Catalog,
    opts: &ApplyOptions,
    mut rollback_first: bool,
    mut to_show: bool,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) -> Result<(i32, bool, Read, bool), ApplyError> {
    let mut shown = false;
    let mut wait = LockWait::new();
    let mut online_seen = false;
    let mut first_try = true;
    let try_lock = format!(
        "SELECT pg_catalog.pg_backend_pid(), pg_catalog.pg_try_advisory_xact_lock({LOCK_KEY}), \
           EXISTS (SELECT FROM pg_catalog.pg_locks l WHERE {} AND l.granted)",
        advisory_key_condition("l", ONLINE_KEY)
    );
    loop {
        // Behind a pooler in transaction mode, the server process is only ours
        // for this transaction: its pid is read here, not at connect time.
        // In one round trip: the ROLLBACK of an open transaction, BEGIN, the
        // pinned settings, the try, whether the database is as the last
        // apply verified it and, with `read_ahead`, the catalog and the files
        // last applied (on the first try only: read, and thrown away, when
        // the lock is not ours; the try does not wait).
        let rollback = std::mem::take(&mut rollback_first);
        let first = std::mem::take(&mut first_try);
        let ((rolled_back, rows, settled), ahead) = futures_util::future::join(
            futures_util::future::join3(
                async {
                    if rollback {
                        db.execute("ROLLBACK").await
                    } else {
                        Ok(())
                    }
                },
                db.begin_and("", &try_lock),
                async {
                    if first {
                        Some(settled_plan(db, None, desired, true).await)
                    } else {
                        None
                    }
                },
            ),
            async {
                if first && opts.read_ahead {
                    Some(read_catalog(db, None).await)
                } else {
                    None
                }
            },
        )
        .await;
        let rows = rolled_back.and(rows);
        let row = match rows {
            Ok(rows) => rows.into_iter().next().unwrap_or_default(),
            Err(e) => {
                let _ = db.execute("ROLLBACK").await;
                return Err(e.into());
            }
        };
        let field = |i: usize| row.get(i).and_then(|v| v.as_deref());
        let our_pid = field(0)
            .and_then(|v| v.parse().ok())
            .unwrap_or(db.backend_pid);
        let locked = field(1) == Some("t");
        online_seen |= !locked && field(2) == Some("t");
        // The database as the last apply verified it (asked beside the
        // first try), else its catalog (read beside it too with
        // `read_ahead`, else in the next round trip); when the lock is ours,
        // or to show the plan before waiting.
        let read = match settled {
            Some(Ok(Asked {
                plan: Some(plan), ..
            })) => Some(Ok(Read::Settled(Box::new(plan)))),
            Some(Err(e)) => Some(Err(e)),
            Some(Ok(Asked {
                plan: None,
                fingerprint,
            })) if locked || to_show => Some(
                match ahead {
                    Some(live) => live,
                    None => read_catalog(db, None).await,
                }
                .map(|live| Read::Catalog {
                    live: Box::new(live),
                    fingerprint,
                }),
            ),
            None if locked => Some(read_settled_or_catalog(db, desired, true).await),
            _ => None,
        };
        let read = match read.transpose() {
            Ok(read) => read,
            Err(e) => {
                let _ = db.execute("ROLLBACK").await;
                return Err(e.into());
            }
        };
        let show = std::mem::take(&mut to_show) && first;
        match read {
            Some(read) if locked => return Ok((our_pid, online_seen, read, shown)),
            Some(read) if show => {
                // Another apply holds the lock: show the plan as the database
                // is now, before waiting (refused: nothing to wait for).
                let plan = match read.plan(db, desired).await {
                    Ok(plan) => plan,
                    Err(e) => {
                        let _ = db.execute("ROLLBACK").await;
                        return Err(e.into());
                    }
                };
                on_event(Event::Planned(&plan));
                shown = true;
                if !plan.refused.is_empty() {
                    db.execute("ROLLBACK").await?;
                    return Err(ApplyError::Refused {
                        plan: Box::new(plan),
                    });
                }
            }
            _ => {}
        }
        db.execute("ROLLBACK").await?;
        wait.pause(db, opts).await?;
    }
}

/// Take the session-level advisory lock of `apply --online`, and `ONLINE_KEY`
/// beside it; the server process that holds them. As in
/// `take_transaction_lock`, the wait holds no snapshot (each try is a
/// statement of its own, outside any transaction), so a concurrent build of
/// the online apply that holds the lock never waits for us.
async fn take_session_lock(db: &Db, opts: &ApplyOptions) -> Result<i32, ApplyError> {
    let pid = take_session_lock_alone(db, opts).await?;
    db.execute(&format!(
        "SELECT pg_catalog.pg_advisory_lock_shared({ONLINE_KEY})"
    ))
    .await?;
    Ok(pid)
}

/// `LOCK_KEY` alone, session-level: for work outside a transaction that is
/// not an online apply (`prune`). The server process it runs on.
pub(crate) async fn take_session_lock_alone(
    db: &Db,
    opts: &ApplyOptions,
) -> Result<i32, ApplyError> {
    let mut wait = LockWait::new();
    loop {
        let rows = db
            .simple(&format!(
                "SELECT pg_catalog.pg_backend_pid(), pg_catalog.pg_try_advisory_lock({LOCK_KEY})"
            ))
            .await?;
        if rows
            .first()
            .and_then(|r| r.get(1))
            .and_then(|v| v.as_deref())
            == Some("t")
        {
            return Ok(first_value(&rows)
                .and_then(|v| v.parse().ok())
                .unwrap_or(db.backend_pid));
        }
        wait.pause(db, opts).await?;
    }
}

/// The pauses between tries for the apply lock: 20 ms, doubling up to
/// `LOCK_POLL_MAX`, for `opts.wait_for_other_apply` in all.
struct LockWait {
    started: Instant,
    next: Duration,
}

impl LockWait {
    fn new() -> LockWait {
        LockWait {
            started: Instant::now(),
            next: Duration::from_millis(20),
        }
    }

    /// Sleep before the next try (holding no transaction), or give up with
    /// `ApplyError::Busy`, naming the holders, once the wait is over.
    async fn pause(&mut self, db: &Db, opts: &ApplyOptions) -> Result<(), ApplyError> {
        let left = opts
            .wait_for_other_apply
            .saturating_sub(self.started.elapsed());
        if left.is_zero() {
            return Err(ApplyError::Busy {
                waited: opts.wait_for_other_apply,
                holders: lock_holders(db).await,
            });
        }
        tokio::time::sleep(self.next.min(left)).await;
        self.next = next_poll(self.next);
        Ok(())
    }
}

/// The pause after `pause`: twice as long, at most `LOCK_POLL_MAX`.
fn next_poll(pause: Duration) -> Duration {
    (pause * 2).min(LOCK_POLL_MAX)
}

/// The server processes holding the apply lock, described for an error.
async fn lock_holders(db: &Db) -> String {
    let rows = async {
        db.begin("READ ONLY").await?;
        let rows = db
            .simple(&format!(
                "SELECT pg_catalog.string_agg(format('server process %s (%s, %s)', a.pid, \
                        coalesce(nullif(a.application_name, ''), 'no application name'), \
                        CASE WHEN o.pid IS NULL THEN 'apply' ELSE 'apply --online' END), ', ') \
                 FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid \
                 LEFT JOIN pg_catalog.pg_locks o ON o.pid = l.pid AND {} AND o.granted \
                 WHERE {} AND l.granted",
                advisory_key_condition("o", ONLINE_KEY),
                advisory_key_condition("l", LOCK_KEY),
            ))
            .await;
        db.execute("ROLLBACK").await?;
        rows
    }
    .await;
    match rows {
        Ok(rows) => first_value(&rows)
            .unwrap_or("a session that has since ended")
            .to_string(),
        Err(e) => format!("unknown ({e})"),
    }
}

/// Inside a transaction that holds the advisory lock (see
/// `take_transaction_lock`): re-plan, run and verify; what ran, and the
/// history row to write with the COMMIT (and whether it carries the files),
/// which the caller sends. `before`: what an earlier transaction of this
/// apply committed (the enum values). `announce`: no plan was shown yet, so
/// this one is shown first (`Event::Planned`).
#[allow(clippy::too_many_arguments)]
async fn locked_transaction(
    db: &Db,
    desired: &Catalog,
    opts: &ApplyOptions,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
    before: Option<&Applied>,
    started: Instant,
    (our_pid, read): (i32, Read),
    waited_for_online: bool,
    announce: bool,
) -> Result<(Applied, Record), ApplyError> {
    let committed: Vec<String> = before.map_or(Vec::new(), |a| {
        a.timings.iter().map(|(id, _)| id.clone()).collect()
    });
    // Plan again (on the catalog read with the lock): this is the state the
    // statements will meet.
    let fingerprint = match &read {
        Read::Catalog { fingerprint, .. } => fingerprint.clone(),
        Read::Settled(_) => None,
    };
    let plan = read.plan(db, desired).await?;
    // An online apply held the lock and left work undone (it failed, or was
    // stopped): in one transaction, its indexes would be built without
    // CONCURRENTLY, blocking writes to busy tables. Leave it to --online.
    if waited_for_online && !plan.is_empty() {
        return Err(ApplyError::OnlineUnfinished {
            remaining: plan.statements.len(),
        });
    }
    match before {
        None => {
            if announce {
                // No plan was shown before the lock: this one is the first.
                on_event(Event::Planned(&plan));
            }
            on_event(Event::Locked(&plan));
            check_locked_plan(&plan, opts)?;
        }
        // The enum values are in; what is left must be the rest of the plan
        // that was checked (the lock was released in between).
        Some(first) => {
            let rest: Vec<&str> = first
                .plan
                .statements
                .iter()
                .filter(|s| !s.commit_first)
                .map(|s| s.sql.as_str())
                .collect();
            let now: Vec<&str> = plan.statements.iter().map(|s| s.sql.as_str()).collect();
            if rest != now || !plan.refused.is_empty() {
                return Err(ApplyError::Stopped {
                    error: Error::Other(format!(
                        "the database changed while the lock was released after the enum values: \
                         the rest of the plan is now {} statement(s) and {} refusal(s) instead of the {} statement(s) checked; nothing more ran",
                        now.len(),
                        plan.refused.len(),
                        rest.len()
                    )),
                    committed,
                });
            }
        }
    }
    let phases = schedule(&plan, false);
    let Some(phase) = phases.first() else {
        // Nothing to run: the catalog read under the lock is the database as
        // the files want it. When its fingerprint was read before it, that
        // state is recorded (`catalog::settled`), so that the next plan need
        // not read the catalog (after a new build of reconcile, files that
        // changed by a comment, or a full read for any other reason).
        let settled = fingerprint
            .zip(settled::inputs_key(desired))
            .map(|(fingerprint, inputs)| settled::Settled {
                fingerprint,
                inputs,
                unmanaged: plan.unmanaged.clone(),
            });
        // The files changed (a new `deprecated` mark, a comment in a file):
        // record the version, for later three-way plans, with that state.
        let row = if plan.files_changed() {
            Record::Row(
                history::Pending {
                    plan_hash: plan.plan_hash.clone(),
                    mode: "transaction".into(),
                    phase: None,
                    statements: Vec::new(),
                    duration_ms: 0,
                    settled,
                },
                true,
            )
        } else {
            settled.map_or(Record::Nothing, Record::Settle)
        };
        let applied = Applied {
            plan,
            timings: Vec::new(),
            total: started.elapsed(),
            mode: "transaction",
            phases: Vec::new(),
        };
        return Ok((applied, row));
    };
    on_event(Event::Phase(phase));
    let t = Instant::now();
    let mut watch = watch::Watch::new(db, our_pid, opts.lock_timeout);
    // The timeouts and every statement, sent together (one round trip).
    let mut pipeline = Pipeline::new();
    pipeline.push(set_local_timeouts(db, opts));
    // The catalog for the verification is read in the same round trip, after
    // the statements (once the enum values are in, only the rest is left; if
    // a statement fails, the read fails too and is not used). Where the
    // database can be recorded as settled (`catalog::settled`), the
    // fingerprint is read just before it, with the history's tables made
    // first (so that the fingerprint counts them), and the unmanaged objects
    // are listed; else only its statements and refusals matter.
    let verify = phase.number != 0;
    let record = settled::inputs_key(desired)
        .zip(settled::fingerprint_sql(db.server_version))
        .filter(|_| verify);
    let (ran, after) = futures_util::future::join(
        run_pipelined(db, &phase.steps, pipeline, &mut watch, on_event, true),
        async {
            if verify {
                Some(verification_read(db, record.as_ref().map(|(_, sql)| sql.as_str())).await)
            } else {
                None
            }
        },
    )
    .await;
    let durations = match ran {
        Ok(d) => d,
        Err(GroupError::Step(i, error)) => {
            let mut e = step_error(&phase.steps[i], error, opts, our_pid, 1, committed);
            if let ApplyError::LockTimeout { blockers, .. } = &mut e {
                *blockers = std::mem::take(&mut watch.last);
            }
            return Err(e);
        }
        Err(GroupError::Other(e)) => return Err(e.into()),
        Err(GroupError::Pooled(evidence)) => {
            return Err(ApplyError::Pooled {
                evidence,
                committed,
            })
        }
    };
    let timings: Vec<(String, Duration)> = phase
        .steps
        .iter()
        .map(|s| s.id.clone())
        .zip(durations)
        .collect();
    // Verify before COMMIT: the database must now match the files (once the
    // enum values are in, only the rest is left).
    let mut settled = None;
    if let Some(after) = after {
        let (fingerprint, after) = after?;
        let check = plan_against(db, desired.clone(), after).await?;
        if !check.statements.is_empty() || !check.refused.is_empty() {
            return Err(ApplyError::Verification {
                remaining: check.statements.len(),
                refused: check.refused.len(),
                plan: Box::new(check),
                committed,
            });
        }
        settled = fingerprint
            .zip(record)
            .map(|(fingerprint, (inputs, _))| settled::Settled {
                fingerprint,
                inputs,
                unmanaged: check.unmanaged,
            });
    }
    let plan_hash = before.map_or(&plan.plan_hash, |a| &a.plan.plan_hash);
    let total = before.map_or(started, |_| t).elapsed();
    let row = history::Pending {
        plan_hash: plan_hash.clone(),
        mode: "transaction".into(),
        phase: (phase.number == 0).then_some(0),
        statements: phase.steps.iter().map(|s| s.sql.clone()).collect(),
        duration_ms: total.as_millis() as i64,
        settled,
    };
    let applied = Applied {
        phases: vec![PhaseDone {
            phase: phase.number,
            executed: timings.iter().map(|(id, _)| id.clone()).collect(),
            total: t.elapsed(),
        }],
        plan,
        timings,
        total: started.elapsed(),
        mode: "transaction",
    };
    // The enum values alone are not the files applied.
    let with_files = phase.number != 0;
    Ok((applied, Record::Row(row, with_files)))
}

/// What the COMMIT of a locked transaction writes in the history.
enum Record {
    /// Nothing: COMMIT alone.
    Nothing,
    /// A row, and whether it carries the files.
    Row(history::Pending, bool),
    /// No row: the last one's record of a settled state is replaced (nothing
    /// ran, and the files are those it records).
    Settle(settled::Settled),
}

/// Refusals and `--expect-plan`, on the plan under the lock. (The error is as
/// large as every apply error: it is returned once per apply, at most.)
#[allow(clippy::result_large_err)]
pub(crate) fn check_locked_plan(plan: &Plan, opts: &ApplyOptions) -> Result<(), ApplyError> {
    if !plan.refused.is_empty() {
        return Err(ApplyError::Refused {
            plan: Box::new(plan.clone()),
        });
    }
    if let Some(expected) = &opts.expect_plan {
        if expected != &plan.plan_hash {
            return Err(ApplyError::PlanChanged {
                expected: expected.clone(),
                actual: plan.plan_hash.clone(),
                plan: Box::new(plan.clone()),
            });
        }
    }
    Ok(())
}

/// `lock_timeout` and `statement_timeout` for this transaction (the other
/// settings were pinned by `Db::begin`).
pub(crate) async fn set_local_timeouts(db: &Db, opts: &ApplyOptions) -> Result<(), SqlError> {
    db.execute(&format!(
        "SET LOCAL lock_timeout = '{}'; SET LOCAL statement_timeout = '{}'{}",
        interval(opts.lock_timeout),
        interval(opts.statement_timeout),
        check_client(db, "LOCAL ").map_or(String::new(), |c| format!("; {c}")),
    ))
    .await
}

/// If this process dies while a statement waits, the server notices within a
/// second (PostgreSQL 14+) instead of when the wait ends.
fn check_client(db: &Db, scope: &str) -> Option<String> {
    (db.server_version >= 140000)
        .then(|| format!("SET {scope}client_connection_check_interval = '1s'"))
}

fn step_error(
    s: &Step,
    error: SqlError,
    opts: &ApplyOptions,
    our_pid: i32,
    attempts: u32,
    committed: Vec<String>,
) -> ApplyError {
    if error.is_lock_timeout() {
        ApplyError::LockTimeout {
            statement: s.sql.clone(),
            table: s.table.clone().unwrap_or_default(),
            lock_timeout: opts.lock_timeout,
            attempts,
            our_pid,
            blockers: Vec::new(),
            error,
            committed,
        }
    } else {
        ApplyError::Statement {
            id: s.id.clone(),
            origin: s.origin.clone(),
            error,
            committed,
        }
    }
}

/// With --online: the phases of SPEC §4 under a session-level advisory lock.
async fn online(
    db: &Db,
    desired: &Catalog,
    opts: &ApplyOptions,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) -> Result<Applied, ApplyError> {
    // An inconclusive probe (no second session within the time) lets the
    // per-step check guard alone.
    let probe = tokio::time::timeout(Duration::from_secs(10), transaction_pooler(db)).await;
    if let Ok(Some(evidence)) = probe {
        return Err(ApplyError::Pooled {
            evidence,
            committed: Vec::new(),
        });
    }
    // A session-level lock, since CREATE INDEX CONCURRENTLY cannot run in a
    // transaction; it is released at the end, or when the session ends. The
    // session's settings are pinned for its steps outside a transaction.
    db.pin_session().await?;
    let our_pid = match take_session_lock(db, opts).await {
        Ok(pid) => pid,
        Err(e) => {
            let _ = db.execute(&Db::reset_pinned_sql()).await;
            return Err(e);
        }
    };
    let mut committed = Vec::new();
    let result = online_locked(db, desired, opts, on_event, our_pid, &mut committed).await;
    let _ = db
        .execute(&format!(
            "RESET lock_timeout; RESET statement_timeout; {}; \
             RESET client_connection_check_interval; \
             SELECT pg_catalog.pg_advisory_unlock_shared({ONLINE_KEY}), pg_catalog.pg_advisory_unlock({LOCK_KEY})",
            Db::reset_pinned_sql()
        ))
        .await;
    // Whatever stopped it, say what stays committed. (A lock timeout names
    // its blockers already: `with_retries` looked them up.)
    result.map_err(|e| match e {
        ApplyError::Other(error) if !committed.is_empty() => {
            ApplyError::Stopped { error, committed }
        }
        e => e,
    })
}

async fn online_locked(
    db: &Db,
    desired: &Catalog,
    opts: &ApplyOptions,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
    our_pid: i32,
    committed: &mut Vec<String>,
) -> Result<Applied, ApplyError> {
    let started = Instant::now();
    let plan = crate::plan::against::plan_with(db, desired).await?;
    on_event(Event::Locked(&plan));
    check_locked_plan(&plan, opts)?;
    // (The other settings were pinned for the session by `online`.)
    if let Some(check) = check_client(db, "") {
        db.execute(&check).await?;
    }
    let mut timings = Vec::new();
    let mut done = Vec::new();
    let mut watch = watch::Watch::new(db, our_pid, opts.lock_timeout);
    let phases = schedule(&plan, true);
    let last_phase = phases.len().saturating_sub(1);
    for (p, phase) in phases.into_iter().enumerate() {
        on_event(Event::Phase(&phase));
        let t = Instant::now();
        let groups: Vec<&[Step]> = match phase.run {
            Run::OneTransaction => vec![&phase.steps[..]],
            _ => phase.steps.chunks(1).collect(),
        };
        let in_transaction = phase.run != Run::EachOutsideTransaction;
        let last_group = groups.len().saturating_sub(1);
        for (g, steps) in groups.into_iter().enumerate() {
            // The row of the last group records the version of the files.
            let files = (p == last_phase && g == last_group).then_some(desired);
            // Each transaction records what it committed; outside one, a row per step.
            let group = Group {
                steps,
                in_transaction,
                record: (&plan.plan_hash, phase.number),
                files,
            };
            let ran =
                with_retries(db, opts, on_event, our_pid, committed, &group, &mut watch).await?;
            for (s, d) in steps.iter().zip(&ran) {
                on_event(Event::Executed {
                    id: &s.id,
                    sql: &s.sql,
                    duration: *d,
                });
                timings.push((s.id.clone(), *d));
                committed.push(s.id.clone());
            }
            if !in_transaction {
                let d = ran.iter().sum::<Duration>();
                record_steps(
                    db,
                    &opts.via,
                    &plan.plan_hash,
                    phase.number,
                    steps,
                    d,
                    files,
                )
                .await?;
            }
        }
        done.push(PhaseDone {
            phase: phase.number,
            executed: phase.steps.iter().map(|s| s.id.clone()).collect(),
            total: t.elapsed(),
        });
    }
    // The database must now match the files.
    let check = crate::plan::against::plan_with(db, desired).await?;
    if !check.statements.is_empty() || !check.refused.is_empty() {
        return Err(ApplyError::Verification {
            remaining: check.statements.len(),
            refused: check.refused.len(),
            plan: Box::new(check),
            committed: committed.clone(),
        });
    }
    Ok(Applied {
        plan,
        timings,
        total: started.elapsed(),
        mode: "online",
        phases: done,
    })
}

/// The timeouts of a step. One that takes a lock that lets writes through
/// (a concurrent build, a validation) may wait and run long: it holds nobody
/// up, and a build stopped half-way is wasted work. One whose lock blocks
/// writes waits no longer than the lock timeout.
fn timeouts_sql(steps: &[Step], opts: &ApplyOptions, scope: &str) -> String {
    let (lock, statement) = if steps.iter().any(|s| blocks_writes(s.lock)) {
        (opts.lock_timeout, interval(opts.statement_timeout))
    } else {
        (opts.statement_timeout, "0".to_string())
    };
    format!(
        "SET {scope}lock_timeout = '{}'; SET {scope}statement_timeout = '{statement}'",
        interval(lock)
    )
}

/// Why a group of steps did not run.
enum GroupError {
    /// The step at this index failed.
    Step(usize, SqlError),
    /// Our session is not the one that took the lock.
    Pooled(String),
    Other(SqlError),
}

impl From<SqlError> for GroupError {
    fn from(e: SqlError) -> Self {
        GroupError::Other(e)
    }
}

/// Run a group of steps (see `Group`); each step's duration.
async fn run_group(
    db: &Db,
    group: &Group<'_>,
    opts: &ApplyOptions,
    watch: &mut watch::Watch<'_>,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) -> Result<Vec<Duration>, GroupError> {
    let steps = group.steps;
    if group.in_transaction {
        db.begin("").await?;
    }
    let scope = if group.in_transaction { "LOCAL " } else { "" };
    let timeouts = timeouts_sql(steps, opts, scope);
    let result = async {
        let out = if group.in_transaction {
            // In a transaction, the timeouts and the steps are sent together.
            let mut pipeline = Pipeline::new();
            pipeline.push(db.execute(&timeouts));
            run_pipelined(db, steps, pipeline, watch, on_event, false).await?
        } else {
            db.execute(&timeouts).await?;
            let mut out = Vec::new();
            for (i, s) in steps.iter().enumerate() {
                let (d, failure) = watch.run(&s.id, &s.sql, on_event).await;
                if let Some(e) = failure {
                    return Err(GroupError::Step(i, e));
                }
                out.push(d);
            }
            out
        };
        if group.in_transaction {
            let (hash, phase) = group.record;
            record_steps(
                db,
                &opts.via,
                hash,
                phase,
                steps,
                out.iter().sum(),
                group.files,
            )
            .await?;
        }
        Ok(out)
    }
    .await;
    if !group.in_transaction {
        return result;
    }
    match result {
        Ok(out) => {
            db.execute("COMMIT").await?;
            Ok(out)
        }
        Err(e) => {
            let _ = db.execute("ROLLBACK").await;
            Err(e)
        }
    }
}

/// The catalog for apply's verification (see `read_catalog_with`), in the
/// caller's transaction. With `fingerprint` (`catalog::settled`), the
/// history's tables are made first (`history::ENSURE`), then the fingerprint
/// is read, then the catalog with its unmanaged objects: all sent at once,
/// in that order. The fingerprint (`None` when it gave no row) and the catalog.
///
/// Each statement of the read takes its own snapshot (READ COMMITTED), after
/// the fingerprint's: what another session commits in between is seen by the
/// read and not counted in the fingerprint, so the recorded fingerprint never
/// matches again, unless that session removes exactly what it added in
/// between, before the next plan.
async fn verification_read(
    db: &Db,
    fingerprint: Option<&str>,
) -> Result<(Option<String>, Live), SqlError> {
    let Some(fingerprint) = fingerprint else {
        return Ok((None, read_catalog_with(db, None, false).await?));
    };
    let (ensured, rows, live) = futures_util::future::join3(
        db.execute(history::ENSURE),
        db.simple(fingerprint),
        read_catalog_with(db, None, true),
    )
    .await;
    ensured?;
    let fingerprint = first_value(&rows?).map(str::to_string);
    Ok((fingerprint, live?))
}

/// Run `steps` on the applying session, pipelined: the requests already in
/// `pipeline` (settings), then every step, are sent at once, and the results
/// are taken as they arrive, in order. A step's duration is the time from the
/// result before it to its own (the server runs them one after the other);
/// while one waits for a lock, `watch` reports who holds it (`Event::Waiting`).
/// With `report_executed`, `Event::Executed` is sent as each result arrives.
///
/// The first failure is returned: a step's as `GroupError::Step` (its
/// index), an earlier request's as `GroupError::Other`. In a transaction the
/// server runs nothing after it (each later request fails with 25P02, and
/// those results are awaited and dropped), so the caller rolls back.
async fn run_pipelined<'a>(
    db: &'a Db,
    steps: &'a [Step],
    mut pipeline: Pipeline<'a>,
    watch: &mut watch::Watch<'_>,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
    report_executed: bool,
) -> Result<Vec<Duration>, GroupError> {
    let before = pipeline.len();
    for s in steps {
        pipeline.push(db.execute_one(&s.sql));
    }
    pipeline.send().await;
    for _ in 0..before {
        if let Some(Err(e)) = pipeline.next().await {
            let _ = pipeline.finish().await;
            return Err(GroupError::Other(e));
        }
    }
    let mut last = Instant::now();
    let mut out = Vec::with_capacity(steps.len());
    for (i, s) in steps.iter().enumerate() {
        let Some(result) = pipeline.take() else {
            break;
        };
        let (d, failure) = watch.wait(&s.id, result, last, on_event).await;
        last = Instant::now();
        if let Some(e) = failure {
            let _ = pipeline.finish().await;
            return Err(GroupError::Step(i, e));
        }
        if report_executed {
            on_event(Event::Executed {
                id: &s.id,
                sql: &s.sql,
                duration: d,
            });
        }
        out.push(d);
    }
    Ok(out)
}

/// A history row for steps of an online phase, written as they commit.
async fn record_steps(
    db: &Db,
    via: &str,
    hash: &str,
    phase: u8,
    steps: &[Step],
    d: Duration,
    files: Option<&Catalog>,
) -> Result<(), SqlError> {
    history::record(
        db,
        via,
        hash,
        "online",
        Some(i32::from(phase)),
        &steps.iter().map(|s| s.sql.clone()).collect::<Vec<_>>(),
        d.as_millis() as i64,
        files,
    )
    .await
}

/// Steps that run together: in one transaction (with the phase's history
/// row when `record` is given), or one statement outside any transaction.
struct Group<'a> {
    steps: &'a [Step],
    in_transaction: bool,
    /// The plan hash and phase number of its history row.
    record: (&'a str, u8),
    /// The files applied, on the last group of the apply.
    files: Option<&'a Catalog>,
}

/// Run a group until it succeeds, on our own session; a lock timeout is tried
/// again, up to `opts.lock_attempts` times, after an exponential backoff with jitter.
async fn with_retries(
    db: &Db,
    opts: &ApplyOptions,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
    our_pid: i32,
    committed: &[String],
    group: &Group<'_>,
    watch: &mut watch::Watch<'_>,
) -> Result<Vec<Duration>, ApplyError> {
    let steps = group.steps;
    let mut n = 1;
    loop {
        let attempt = match same_session(db, our_pid).await {
            Ok(()) => run_group(db, group, opts, watch, on_event).await,
            Err(e) => Err(e),
        };
        let (i, error) = match attempt {
            Ok(d) => return Ok(d),
            Err(GroupError::Pooled(evidence)) => {
                return Err(ApplyError::Pooled {
                    evidence,
                    committed: committed.to_vec(),
                })
            }
            Err(GroupError::Other(e)) => return Err(e.into()),
            Err(GroupError::Step(i, e)) => (i, e),
        };
        let s = &steps[i];
        // A concurrent build that stopped leaves an invalid index behind.
        if let Some(index) = &s.builds_index {
            if error.is_lock_timeout() {
                let dropped = async {
                    db.execute(&timeouts_sql(std::slice::from_ref(s), opts, ""))
                        .await?;
                    drop_invalid_index(db, index).await
                };
                if let Err(e) = dropped.await {
                    return Err(step_error(s, e, opts, our_pid, n, committed.to_vec()));
                }
            }
        }
        if !error.is_lock_timeout() || n >= opts.lock_attempts.max(1) {
            let mut e = step_error(s, error, opts, our_pid, n, committed.to_vec());
            if let ApplyError::LockTimeout { blockers, .. } = &mut e {
                *blockers = watch::blockers_after_timeout(
                    db,
                    &watch.last,
                    s.table.as_deref().unwrap_or(""),
                )
                .await;
            }
            return Err(e);
        }
        let blockers =
            watch::blockers_after_timeout(db, &watch.last, s.table.as_deref().unwrap_or("")).await;
        let wait = backoff(opts.retry_backoff, n);
        on_event(Event::Retry {
            id: &s.id,
            attempt: n,
            wait,
            blockers: &blockers,
        });
        tokio::time::sleep(wait).await;
        n += 1;
    }
}

/// The wait before attempt `n + 1`: `base × 2^(n-1)`, at most 30 s, of which a
/// random half (so that two waiting deploys do not retry in step).
fn backoff(base: Duration, n: u32) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let full = base
        .saturating_mul(1 << (n - 1).min(16))
        .min(Duration::from_secs(30));
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let fraction = (random % 1000) as f64 / 1000.0;
    full.mul_f64(0.5 + fraction / 2.0)
}

/// `DROP INDEX CONCURRENTLY` of an index a failed concurrent build left invalid.
async fn drop_invalid_index(db: &Db, index: &crate::model::QualName) -> Result<(), SqlError> {
    let rows = db
        .simple(&format!(
            "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass({})",
            crate::model::names::quote_literal(&index.sql())
        ))
        .await?;
    if first_value(&rows) == Some("t") {
        db.execute(&format!(
            "DROP INDEX CONCURRENTLY IF EXISTS {}",
            index.sql()
        ))
        .await?;
    }
    Ok(())
}

/// The session-level lock belongs to the server process that took it: every
/// step checks that it still talks to that process.
async fn same_session(db: &Db, our_pid: i32) -> Result<(), GroupError> {
    let pid = db.current_pid().await?;
    if pid == our_pid {
        Ok(())
    } else {
        Err(GroupError::Pooled(format!(
            "the advisory lock was taken by server process {our_pid}, and this step would run on server process {pid}"
        )))
    }
}

/// Whether a pooler in transaction mode sits between us and the server: a
/// second session opens a transaction (a pooler in transaction mode hands it
/// the server process it gave us last), then our session asks for its server
/// process again. Directly, or through a pool in session mode, it is the same.
async fn transaction_pooler(db: &Db) -> Option<String> {
    let before = db.current_pid().await.ok()?;
    // Without a second session, the per-step check still guards.
    let other = db.connect_again().await.ok()?;
    other
        .simple("BEGIN; SELECT pg_catalog.pg_backend_pid()")
        .await
        .ok()?;
    let after = tokio::time::timeout(Duration::from_secs(2), db.current_pid()).await;
    let _ = other.execute("ROLLBACK").await;
    match after {
        Ok(Ok(now)) if now == before => None,
        Ok(Ok(now)) => Some(format!(
            "two statements of this session ran on server processes {before} and {now}"
        )),
        Ok(Err(_)) => None,
        Err(_) => Some(format!(
            "a statement of this session waited for a free server process while another session held one (it ran on server process {before} before)"
        )),
    }
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
    db.begin("READ ONLY").await?;
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
            crate::model::names::quote_literal(&q.sql())
        ))
        .await;
    db.execute("ROLLBACK").await?;
    Ok(serde_json::from_str(first_value(&rows?).unwrap_or("[]")).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_is_whole_milliseconds_and_zero_is_no_limit() {
        assert_eq!(interval(Duration::ZERO), "0");
        assert_eq!(interval(Duration::from_micros(10)), "1ms");
        assert_eq!(interval(Duration::from_millis(300)), "300ms");
        assert_eq!(interval(Duration::from_secs(1 << 40)), "2147483647ms");
    }

    #[test]
    fn backoff_doubles_and_keeps_a_random_half() {
        let base = Duration::from_millis(100);
        for _ in 0..100 {
            for (n, full) in [(1u32, 100u64), (2, 200), (3, 400), (6, 3200)] {
                let wait = backoff(base, n);
                assert!(
                    wait >= Duration::from_millis(full / 2) && wait <= Duration::from_millis(full),
                    "attempt {n}: {wait:?}"
                );
            }
            // At most 30 s, whatever the attempt.
            let wait = backoff(base, 40);
            assert!(
                wait >= Duration::from_secs(15) && wait <= Duration::from_secs(30),
                "{wait:?}"
            );
        }
        let waits: std::collections::HashSet<Duration> =
            (0..50).map(|_| backoff(base, 3)).collect();
        assert!(waits.len() > 1, "no jitter: {waits:?}");
    }

    #[test]
    fn the_lock_poll_doubles_up_to_its_maximum() {
        assert_eq!(
            next_poll(Duration::from_millis(20)),
            Duration::from_millis(40)
        );
        assert_eq!(next_poll(Duration::from_millis(600)), LOCK_POLL_MAX);
        assert_eq!(next_poll(LOCK_POLL_MAX), LOCK_POLL_MAX);
    }

    /// "reco" and "ncil": the halves of the key as `pg_locks` shows them.
    #[test]
    fn advisory_key_condition_splits_the_key_as_pg_locks_does() {
        assert_eq!(
            advisory_key_condition("l", LOCK_KEY),
            "l.locktype = 'advisory' AND l.classid = 1919247215 AND l.objid = 1852008812 AND l.objsubid = 1 \
             AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())"
        );
        assert_eq!(ONLINE_KEY - LOCK_KEY, 1);
        assert!(advisory_key_condition("o", ONLINE_KEY).contains("o.objid = 1852008813"));
    }

    #[test]
    fn outcome_says_what_stays() {
        assert_eq!(outcome(&[]), "rolled back, nothing was applied");
        assert_eq!(
            outcome(&["a".into(), "b".into()]),
            "2 step(s) committed before it stay (a, b); once the cause is fixed, running apply again finishes the job"
        );
    }

    fn step(lock: &'static str) -> Step {
        Step {
            id: "x".into(),
            sql: "SELECT 1".into(),
            table: Some("public.t".into()),
            lock,
            builds_index: None,
            origin: None,
        }
    }

    /// A step that blocks writes waits no longer than the lock timeout; one
    /// that lets writes through may wait and run as long as the statement timeout.
    #[test]
    fn timeouts_follow_the_lock_a_step_takes() {
        let opts = ApplyOptions {
            lock_timeout: Duration::from_millis(300),
            statement_timeout: Duration::from_secs(60),
            ..ApplyOptions::default()
        };
        assert_eq!(
            timeouts_sql(
                &[step("SHARE UPDATE EXCLUSIVE"), step("ACCESS EXCLUSIVE")],
                &opts,
                "LOCAL "
            ),
            "SET LOCAL lock_timeout = '300ms'; SET LOCAL statement_timeout = '60000ms'"
        );
        assert_eq!(
            timeouts_sql(&[step("SHARE UPDATE EXCLUSIVE")], &opts, ""),
            "SET lock_timeout = '60000ms'; SET statement_timeout = '0'"
        );
    }

    #[test]
    fn exit_codes_follow_the_error() {
        let busy = ApplyError::Busy {
            waited: Duration::from_secs(1),
            holders: "pid 1".into(),
        };
        assert_eq!(busy.exit_code(), 1);
        let usage = ApplyError::Other(Error::Usage("bad".into()));
        assert_eq!(usage.exit_code(), 2);
        let stopped = ApplyError::Stopped {
            error: Error::Usage("bad".into()),
            committed: vec!["a".into()],
        };
        assert_eq!(stopped.exit_code(), 2);
        assert_eq!(ApplyError::OnlineUnfinished { remaining: 1 }.exit_code(), 1);
    }
}
