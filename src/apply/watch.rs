//! While a statement of apply or prune waits for a lock, say who holds it.
//!
//! A statement runs on the applying session; if it has not finished after
//! `first_look` (1 s, or half the lock timeout when that is shorter), a
//! second session, opened then and kept for the rest of the run, asks
//! `pg_blocking_pids` of the applying server process and `pg_stat_activity`
//! who holds it up, and an `Event::Waiting` is sent; then again every
//! `LOOK_EVERY`. A statement that finishes quickly costs no query at all.

use std::time::{Duration, Instant};

use crate::connect::db::{Db, SqlError};

use super::{Blocker, Event};

/// The pause between two looks at a statement that still waits.
pub const LOOK_EVERY: Duration = Duration::from_secs(5);

/// The longest one look may take (opening the second session included);
/// past it the look is given up, and tried again at the next.
pub const LOOK_LIMIT: Duration = Duration::from_secs(3);

/// The first look at a statement that has not finished: after 1 s, or half
/// the lock timeout when that is shorter (so that it comes before the
/// timeout); `lock_timeout` zero is no limit.
pub fn first_look(lock_timeout: Duration) -> Duration {
    let one = Duration::from_secs(1);
    if lock_timeout.is_zero() {
        one
    } else {
        one.min(lock_timeout / 2)
    }
}

/// The watcher of one apply or prune: the server process that applies, the
/// second session (opened at the first look), and who blocked the last
/// statement watched.
pub struct Watch<'a> {
    db: &'a Db,
    /// The server process that runs the statements.
    pid: i32,
    first: Duration,
    other: Option<Db>,
    /// The second session could not be opened: no more tries.
    unavailable: bool,
    /// Who held up the last statement, as the last look saw it.
    pub last: Vec<Blocker>,
}

impl<'a> Watch<'a> {
    /// A watcher of the statements `db` runs on server process `pid`, under
    /// `lock_timeout`; it opens nothing until a statement waits.
    pub fn new(db: &'a Db, pid: i32, lock_timeout: Duration) -> Watch<'a> {
        Watch {
            db,
            pid,
            first: first_look(lock_timeout),
            other: None,
            unavailable: false,
            last: Vec::new(),
        }
    }

    /// Run `sql` (statement `id` of the plan) on the applying session; while
    /// it waits for a lock, send `Event::Waiting`. Its duration, and its
    /// error if it failed.
    pub async fn run(
        &mut self,
        id: &str,
        sql: &str,
        on_event: &mut (dyn FnMut(Event<'_>) + Send),
    ) -> (Duration, Option<SqlError>) {
        let statement = self.db.execute_one(sql);
        self.wait(id, statement, Instant::now(), on_event).await
    }

    /// Wait for the result of statement `id`, which the server began at
    /// `started` (for a statement of a pipeline: when the result before it
    /// arrived); while it waits for a lock, send `Event::Waiting`. The time
    /// from `started` to its result, and its error if it failed.
    pub async fn wait(
        &mut self,
        id: &str,
        statement: impl std::future::Future<Output = Result<(), SqlError>>,
        started: Instant,
        on_event: &mut (dyn FnMut(Event<'_>) + Send),
    ) -> (Duration, Option<SqlError>) {
        self.last.clear();
        tokio::pin!(statement);
        let mut next = self.first;
        loop {
            tokio::select! {
                r = &mut statement => return (started.elapsed(), r.err()),
                _ = tokio::time::sleep_until((started + next).into()) => {}
            }
            // The look runs beside the statement, never in its way: when the
            // statement ends first, its answer is taken at once (the look is
            // dropped), so the applying session never sits idle in its
            // transaction, holding its locks, while a second session connects.
            let found = {
                let look = tokio::time::timeout(LOOK_LIMIT, self.look());
                tokio::pin!(look);
                tokio::select! {
                    r = &mut statement => return (started.elapsed(), r.err()),
                    found = &mut look => found.ok().flatten(),
                }
            };
            if let Some((object, blockers)) = found {
                if !blockers.is_empty() {
                    on_event(Event::Waiting {
                        id,
                        object: &object,
                        blockers: &blockers,
                        waited: started.elapsed(),
                    });
                    self.last = blockers;
                }
            }
            next += LOOK_EVERY;
        }
    }

    /// What the applying session waits for (a table as plans print it, `t`
    /// or `auth.t`, or what else it is)
    /// and who holds it up; `None` when the second session is unavailable or
    /// its query failed (the statement runs on, unwatched).
    async fn look(&mut self) -> Option<(String, Vec<Blocker>)> {
        if self.other.is_none() && !self.unavailable {
            // Its queries run outside a transaction: the settings they rely
            // on (a search_path that cannot shadow `=`) are pinned for the session.
            match self.db.connect_again().await {
                Ok(db) if db.pin_session().await.is_ok() => self.other = Some(db),
                _ => self.unavailable = true,
            }
        }
        let rows = self
            .other
            .as_ref()?
            .simple(&look_sql(self.pid))
            .await
            .ok()?;
        let row = rows.first()?;
        let object = row.first().cloned().flatten().unwrap_or_default();
        let blockers = row
            .get(1)
            .and_then(|v| v.as_deref())
            .and_then(|v| serde_json::from_str(v).ok())
            .unwrap_or_default();
        Some((object, blockers))
    }
}

/// One row: the object server process `pid` waits to lock, and the sessions
/// `pg_blocking_pids` names (holders, or requests queued before ours), as JSON
/// `Blocker`s.
fn look_sql(pid: i32) -> String {
    format!(
        "WITH w AS (SELECT l.* FROM pg_catalog.pg_locks l WHERE l.pid = {pid} AND NOT l.granted LIMIT 1) \
         SELECT (SELECT CASE WHEN w.relation IS NOT NULL THEN \
                   (SELECT CASE WHEN n.nspname = 'public' THEN '' ELSE pg_catalog.quote_ident(n.nspname) || '.' END \
                           || pg_catalog.quote_ident(c.relname) \
                    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = w.relation) \
                 WHEN w.locktype IN ('transactionid', 'virtualxid') THEN 'the end of another transaction' \
                 ELSE w.locktype END FROM w), \
           (SELECT coalesce(pg_catalog.json_agg(x ORDER BY x.pid), '[]') FROM ( \
              SELECT a.pid, coalesce(a.application_name, '') AS \"applicationName\", coalesce(a.state, '') AS state, \
                     coalesce(extract(epoch FROM pg_catalog.now() - a.xact_start), 0)::float8 AS \"transactionSeconds\", \
                     coalesce((SELECT pg_catalog.string_agg(DISTINCT h.mode, ', ') FROM pg_catalog.pg_locks h, w \
                               WHERE h.pid = a.pid AND h.granted AND h.locktype = w.locktype \
                                 AND h.relation IS NOT DISTINCT FROM w.relation \
                                 AND h.transactionid IS NOT DISTINCT FROM w.transactionid \
                                 AND h.virtualxid IS NOT DISTINCT FROM w.virtualxid), '') AS \"lockMode\", \
                     coalesce(a.query, '') AS query \
              FROM (SELECT DISTINCT b FROM pg_catalog.unnest(pg_catalog.pg_blocking_pids({pid})) b) p \
              JOIN pg_catalog.pg_stat_activity a ON a.pid = p.b) x)"
    )
}

/// Who held the lock, if the watcher saw them; else the sessions holding a
/// lock on `table` now (`super::find_blockers`, on the applying session,
/// outside any transaction).
pub async fn blockers_after_timeout(db: &Db, watched: &[Blocker], table: &str) -> Vec<Blocker> {
    if !watched.is_empty() {
        return watched.to_vec();
    }
    super::find_blockers(db, table).await.unwrap_or_default()
}

/// `pid 29245 (app: web, idle in transaction, 3.2 s)`: a blocker as the
/// waiting line and the timeout's advice name it.
pub fn describe(b: &Blocker) -> String {
    format!(
        "pid {} (app: {}, {}, {:.1} s)",
        b.pid,
        if b.application_name.is_empty() {
            "none"
        } else {
            &b.application_name
        },
        if b.state.is_empty() { "?" } else { &b.state },
        b.transaction_seconds
    )
}

/// `waiting for a lock on t held by pid 29245 (app: web, ...)`.
pub fn waiting_line(object: &str, blockers: &[Blocker], waited: Duration) -> String {
    let on = if object.is_empty() {
        String::new()
    } else {
        format!(" on {object}")
    };
    let by: Vec<String> = blockers.iter().map(describe).collect();
    format!(
        "waiting for a lock{on} held by {} (waited {:.1} s)",
        by.join(", "),
        waited.as_secs_f64()
    )
}

/// What to do about a lock timeout on `table`: end the sessions named, by
/// their pids, or run apply again once they end.
pub fn advice(table: &str, blockers: &[Blocker]) -> String {
    let queue = format!(
        "a longer --lock-timeout makes every query on {table} queue behind the statement meanwhile"
    );
    if blockers.is_empty() {
        return format!(
            "the session that held the lock on {table} has finished since: run it again; {queue}"
        );
    }
    let held: Vec<String> = blockers
        .iter()
        .map(|b| {
            let mode = if b.lock_mode.is_empty() {
                "waits ahead of us for a lock".to_string()
            } else {
                format!("holds {}", b.lock_mode)
            };
            format!("{} {mode} on {table}", describe(b))
        })
        .collect();
    let end: Vec<String> = blockers
        .iter()
        .map(|b| format!("pg_terminate_backend({})", b.pid))
        .collect();
    let (it, ends) = if blockers.len() == 1 {
        ("it", "it ends")
    } else {
        ("them", "they end")
    };
    format!(
        "{}; end {it} with SELECT {} or retry when {ends}; {queue}",
        held.join("; "),
        end.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web(pid: i32, mode: &str) -> Blocker {
        Blocker {
            pid,
            application_name: "web".into(),
            state: "idle in transaction".into(),
            transaction_seconds: 3.21,
            lock_mode: mode.into(),
            query: "SELECT 1".into(),
        }
    }

    #[test]
    fn the_first_look_comes_before_the_lock_timeout() {
        assert_eq!(first_look(Duration::ZERO), Duration::from_secs(1));
        assert_eq!(first_look(Duration::from_secs(5)), Duration::from_secs(1));
        assert_eq!(
            first_look(Duration::from_millis(300)),
            Duration::from_millis(150)
        );
    }

    #[test]
    fn the_waiting_line_names_pid_app_state_and_age() {
        assert_eq!(
            waiting_line(
                "public.people",
                &[web(29245, "AccessShareLock")],
                Duration::from_millis(1040)
            ),
            "waiting for a lock on public.people held by pid 29245 (app: web, idle in transaction, 3.2 s) (waited 1.0 s)"
        );
    }

    #[test]
    fn the_advice_names_the_real_pids() {
        let a = advice(
            "public.people",
            &[web(29245, "AccessShareLock"), web(7, "")],
        );
        assert!(
            a.starts_with("pid 29245 (app: web, idle in transaction, 3.2 s) holds AccessShareLock on public.people; pid 7 "),
            "{a}"
        );
        assert!(
            a.contains("end them with SELECT pg_terminate_backend(29245), pg_terminate_backend(7) or retry when they end"),
            "{a}"
        );
        assert!(!a.contains("(pid)"), "a template: {a}");
        assert!(advice("public.people", &[]).contains("has finished since"));
    }

    #[test]
    fn the_look_reads_only_the_pid_given() {
        let sql = look_sql(4242);
        assert!(sql.contains("pg_blocking_pids(4242)"), "{sql}");
        assert!(sql.contains("l.pid = 4242 AND NOT l.granted"), "{sql}");
    }
}
