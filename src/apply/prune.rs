//! `prune`, the second step of a two-step removal (SPEC §4): drop what an
//! applied version of the files marked `deprecated` and the files now lack,
//! and nothing else. The objects come from the history (each apply records
//! what its files marked `deprecated`), are checked against the files now and
//! the database, and are dropped under the apply lock and the lock timeout:
//! tables and columns in one transaction with their history row, then each
//! index `CONCURRENTLY`, outside a transaction, with a row of its own.

use std::time::Instant;

use crate::apply::watch::{blockers_after_timeout, Watch};
use crate::apply::{
    check_locked_plan, interval, set_local_timeouts, take_session_lock_alone, Applied, ApplyError,
    ApplyOptions, Event, PhaseDone,
};
use crate::catalog::history::{self, DeprecatedObject};
use crate::catalog::introspect;
use crate::connect::db::{Db, SqlError};
use crate::model::{Catalog, QualName};
use crate::plan::render::{drop_prunable, Prunable};
use crate::plan::{self, Plan};
use crate::Error;

/// What `prune` drops: from `deprecated` (every object an applied version of
/// the files marked `deprecated`), those that `files` no longer have and
/// `live` still has. A column or index of a table the files do not manage is
/// left alone (its table was not marked), as is anything of a table dropped
/// here. Pure.
pub fn prunable(deprecated: &[DeprecatedObject], files: &Catalog, live: &Catalog) -> Vec<Prunable> {
    let mut tables = Vec::new();
    let mut rest = Vec::new();
    let mut code = Vec::new();
    for d in deprecated {
        let table = QualName::new(d.schema.clone(), d.table.clone());
        match d.kind.as_str() {
            "view" | "materialized view" => {
                let m = d.kind != "view";
                if !files.views.contains_key(&table)
                    && live.views.get(&table).is_some_and(|v| v.materialized == m)
                {
                    code.push(Prunable::View(table, m));
                }
                continue;
            }
            "function" | "procedure" => {
                let id = crate::model::RoutineId {
                    name: table,
                    args: d.name.clone(),
                };
                if !files.routines.contains_key(&id) && live.routines.contains_key(&id) {
                    code.push(Prunable::Routine(id, d.kind == "procedure"));
                }
                continue;
            }
            _ => {}
        }
        let (Some(l), desired) = (live.tables.get(&table), files.tables.get(&table)) else {
            continue;
        };
        match (d.kind.as_str(), desired) {
            ("table", None) => tables.push(Prunable::Table(table)),
            ("column", Some(t)) if t.column(&d.name).is_none() && l.column(&d.name).is_some() => {
                rest.push(Prunable::Column {
                    table,
                    column: d.name.clone(),
                })
            }
            ("index", Some(t))
                if !t.indexes.iter().any(|i| i.name == d.name)
                    && l.indexes.iter().any(|i| i.name == d.name) =>
            {
                rest.push(Prunable::Index {
                    table,
                    name: d.name.clone(),
                })
            }
            ("trigger", Some(t))
                if !t.triggers.iter().any(|x| x.name == d.name)
                    && l.triggers.iter().any(|x| x.name == d.name) =>
            {
                rest.push(Prunable::Trigger {
                    table,
                    name: d.name.clone(),
                })
            }
            ("policy", Some(t))
                if !t.policies.iter().any(|x| x.name == d.name)
                    && l.policies.iter().any(|x| x.name == d.name) =>
            {
                rest.push(Prunable::Policy {
                    table,
                    name: d.name.clone(),
                })
            }
            _ => {}
        }
    }
    for v in [&mut tables, &mut rest, &mut code] {
        v.sort_by_key(|p| format!("{p:?}"));
        v.dedup();
    }
    // In the transaction: triggers and policies; routines whose signature names a table
    // or view dropped here (its row type); views (one that uses another of
    // them first); tables (a foreign key of theirs may reference a column
    // dropped here); columns; the other routines (a default may call them).
    // Then indexes, outside the transaction.
    let dropped: std::collections::HashSet<String> = tables
        .iter()
        .chain(code.iter())
        .filter_map(|p| match p {
            Prunable::Table(t) | Prunable::View(t, _) => Some(t.name.clone()),
            _ => None,
        })
        .collect();
    let names_dropped = |id: &crate::model::RoutineId| {
        live.routines
            .get(id)
            .is_some_and(|r| crate::plan::render::code::after_relations(r, &dropped))
    };
    let order = |p: &Prunable| match p {
        Prunable::Trigger { .. } | Prunable::Policy { .. } => 0,
        Prunable::Routine(id, _) if names_dropped(id) => 1,
        Prunable::View(..) => 2,
        Prunable::Table(_) => 3,
        Prunable::Column { .. } => 4,
        Prunable::Routine(..) => 5,
        Prunable::Index { .. } => 6,
    };
    let mut all: Vec<Prunable> = tables.iter().cloned().chain(rest).chain(code).collect();
    all.sort_by_key(order);
    order_views_for_drop(&mut all, live);
    all
}

/// Views that use another view of the list (as the database records it, in
/// pg_depend) are dropped before it: of the views left, one that no other
/// uses goes next.
fn order_views_for_drop(all: &mut [Prunable], live: &Catalog) {
    let at: Vec<usize> = (0..all.len())
        .filter(|&i| matches!(all[i], Prunable::View(..)))
        .collect();
    let Some(&first) = at.first() else {
        return;
    };
    let views: Vec<(QualName, bool)> = at
        .iter()
        .filter_map(|&i| match &all[i] {
            Prunable::View(v, m) => Some((v.clone(), *m)),
            _ => None,
        })
        .collect();
    // What the catalog records (pg_depend of the view's rewrite rule).
    let names = |a: &QualName, b: &QualName| {
        live.views
            .get(a)
            .is_some_and(|lv| lv.uses.contains(&crate::model::code::Uses::View(b.clone())))
    };
    let mut left: Vec<usize> = (0..views.len()).collect();
    let mut ordered = Vec::new();
    while !left.is_empty() {
        let next = left
            .iter()
            .position(|&i| {
                !left
                    .iter()
                    .any(|&j| j != i && names(&views[j].0, &views[i].0))
            })
            .unwrap_or(0);
        ordered.push(left.remove(next));
    }
    for (k, i) in ordered.into_iter().enumerate() {
        let (v, m) = views[i].clone();
        all[first + k] = Prunable::View(v, m);
    }
}

/// Of `candidates`, those that the last recorded version of the files that
/// had them marked `deprecated` (`versions`: the last applied first). A mark
/// taken back later (the code uses the object again), or a name that came
/// back unmarked after an earlier prune, keeps the object. Versions are
/// loaded newest first, only until every candidate is decided; one that no
/// longer loads decides nothing, and a candidate no readable version has is kept.
fn still_marked(candidates: Vec<Prunable>, versions: &[history::AppliedFiles]) -> Vec<Prunable> {
    let mut undecided = candidates.clone();
    let mut marked = Vec::new();
    for v in versions {
        if undecided.is_empty() {
            break;
        }
        let Some(Ok(cat)) = v.load() else {
            continue;
        };
        undecided.retain(|c| match deprecated_in(&cat, c) {
            Some(true) => {
                marked.push(c.clone());
                false
            }
            Some(false) => false,
            None => true,
        });
    }
    // In the order of `prunable`: tables, columns, then indexes.
    candidates
        .into_iter()
        .filter(|c| marked.contains(c))
        .collect()
}

/// Whether `files` mark `p` deprecated; `None` when they do not have it.
fn deprecated_in(files: &Catalog, p: &Prunable) -> Option<bool> {
    match p {
        Prunable::Table(t) => files.tables.get(t).map(|t| t.deprecated.is_some()),
        Prunable::Column { table, column } => files
            .tables
            .get(table)
            .and_then(|t| t.column(column))
            .map(|c| c.deprecated.is_some()),
        Prunable::Index { table, name } => files
            .tables
            .get(table)
            .and_then(|t| t.indexes.iter().find(|i| &i.name == name))
            .map(|i| i.deprecated.is_some()),
        Prunable::Trigger { table, name } => files
            .tables
            .get(table)
            .and_then(|t| t.triggers.iter().find(|i| &i.name == name))
            .map(|i| i.deprecated.is_some()),
        Prunable::Policy { table, name } => files
            .tables
            .get(table)
            .and_then(|t| t.policies.iter().find(|p| &p.name == name))
            .map(|p| p.deprecated.is_some()),
        Prunable::View(v, _) => files.views.get(v).map(|v| v.deprecated.is_some()),
        Prunable::Routine(id, _) => files.routines.get(id).map(|r| r.deprecated.is_some()),
    }
}

/// The prune plan: its statements in the order they run, with their locks,
/// and the hash `--expect-plan` / `expectPlan` compare. Changes nothing (read
/// in a transaction of its own, rolled back).
pub async fn plan(db: &Db, files: &Catalog) -> Result<Plan, Error> {
    db.begin("ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    let result = async {
        let deprecated = history::deprecated_ever(db).await?;
        if deprecated.is_empty() {
            return Ok::<_, SqlError>(Vec::new());
        }
        let mut live = introspect::introspect(db).await?;
        // What the files' patterns exclude is never considered, nor dropped.
        crate::model::exclude::apply(&files.exclude, &mut live);
        let candidates = prunable(&deprecated, files, &live);
        if candidates.is_empty() {
            return Ok(candidates);
        }
        let versions = history::recorded_versions(db, false).await?;
        Ok(still_marked(candidates, &versions))
    }
    .await;
    db.execute("ROLLBACK").await?;
    let statements: Vec<_> = result?.iter().map(drop_prunable).collect();
    Ok(Plan {
        plan_hash: plan::hash(&statements),
        statements,
        refused: Vec::new(),
        unmanaged: Vec::new(),
        in_sync: Vec::new(),
        busy_tables: Vec::new(),
        files_hash: None,
        applied_files: None,
    })
}

/// Prune: under the apply lock (session-level, held throughout), plan again,
/// check `opts.expect_plan`, then run the plan: tables and columns in one
/// transaction under `lock_timeout`, with a history row (mode `prune`), then
/// each index `DROP INDEX CONCURRENTLY`, each recorded as it commits. An
/// error names what stays committed.
pub async fn prune(
    db: &Db,
    files: &Catalog,
    opts: &ApplyOptions,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) -> Result<Applied, ApplyError> {
    db.pin_session().await?;
    let locked = take_session_lock_alone(db, opts).await;
    let result = match locked {
        Ok(pid) => prune_locked(db, files, opts, on_event, pid).await,
        Err(e) => Err(e),
    };
    let _ = db
        .execute(&format!(
            "RESET lock_timeout; RESET statement_timeout; {}; \
             SELECT pg_catalog.pg_advisory_unlock({})",
            Db::reset_pinned_sql(),
            crate::apply::LOCK_KEY
        ))
        .await;
    result
}

async fn prune_locked(
    db: &Db,
    files: &Catalog,
    opts: &ApplyOptions,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
    our_pid: i32,
) -> Result<Applied, ApplyError> {
    let started = Instant::now();
    let plan = plan(db, files).await?;
    on_event(Event::Locked(&plan));
    check_locked_plan(&plan, opts)?;
    let (indexes, in_transaction): (Vec<_>, Vec<_>) = plan
        .statements
        .iter()
        .partition(|s| s.sql.starts_with("DROP INDEX CONCURRENTLY"));
    let mut timings = Vec::new();
    let mut committed: Vec<String> = Vec::new();
    let mut watch = Watch::new(db, our_pid, opts.lock_timeout);
    // A lock timeout names who held the lock (looked up once the
    // transaction is over, when the watcher saw nobody).
    let fail = |s: &crate::plan::render::Statement,
                error: SqlError,
                committed: &[String],
                watched: &mut Vec<crate::apply::Blocker>| {
        if error.is_lock_timeout() {
            ApplyError::LockTimeout {
                statement: s.sql.clone(),
                table: s.table.clone().unwrap_or_default(),
                lock_timeout: opts.lock_timeout,
                attempts: 1,
                our_pid,
                blockers: std::mem::take(watched),
                error,
                committed: committed.to_vec(),
            }
        } else {
            ApplyError::Statement {
                id: s.id.clone(),
                // What prune drops is no longer in the files.
                origin: s.origin.clone(),
                error,
                committed: committed.to_vec(),
            }
        }
    };
    if !in_transaction.is_empty() {
        db.begin("").await?;
        let done = async {
            set_local_timeouts(db, opts).await?;
            let t = Instant::now();
            let mut ran = Vec::new();
            for s in &in_transaction {
                let (d, failure) = watch.run(&s.id, &s.sql, on_event).await;
                if let Some(e) = failure {
                    return Err(fail(s, e, &[], &mut watch.last));
                }
                on_event(Event::Executed {
                    id: &s.id,
                    sql: &s.sql,
                    duration: d,
                });
                ran.push((s.id.clone(), d));
            }
            let sql: Vec<String> = in_transaction.iter().map(|s| s.sql.clone()).collect();
            history::record(
                db,
                &opts.via,
                &plan.plan_hash,
                "prune",
                None,
                &sql,
                t.elapsed().as_millis() as i64,
                None,
            )
            .await?;
            Ok(ran)
        }
        .await;
        match done {
            Ok(ran) => {
                db.execute("COMMIT").await?;
                committed.extend(ran.iter().map(|(id, _)| id.clone()));
                timings.extend(ran);
            }
            Err(mut e) => {
                let _ = db.execute("ROLLBACK").await;
                if let ApplyError::LockTimeout {
                    table, blockers, ..
                } = &mut e
                {
                    *blockers = blockers_after_timeout(db, blockers, table).await;
                }
                return Err(e);
            }
        }
    }
    for s in indexes {
        let attempt = async {
            db.execute(&format!(
                "SET lock_timeout = '{}'; SET statement_timeout = '0'",
                interval(opts.lock_timeout)
            ))
            .await?;
            let (d, failure) = watch.run(&s.id, &s.sql, on_event).await;
            if let Some(e) = failure {
                return Err(e);
            }
            history::record(
                db,
                &opts.via,
                &plan.plan_hash,
                "prune",
                None,
                std::slice::from_ref(&s.sql),
                d.as_millis() as i64,
                None,
            )
            .await?;
            Ok::<_, SqlError>(d)
        }
        .await;
        match attempt {
            Ok(d) => {
                on_event(Event::Executed {
                    id: &s.id,
                    sql: &s.sql,
                    duration: d,
                });
                committed.push(s.id.clone());
                timings.push((s.id.clone(), d));
            }
            Err(e) => {
                let mut e = fail(s, e, &committed, &mut watch.last);
                if let ApplyError::LockTimeout {
                    table, blockers, ..
                } = &mut e
                {
                    *blockers = blockers_after_timeout(db, blockers, table).await;
                }
                return Err(e);
            }
        }
    }
    Ok(Applied {
        phases: vec![PhaseDone {
            phase: 1,
            executed: committed,
            total: started.elapsed(),
        }],
        plan,
        timings,
        total: started.elapsed(),
        mode: "prune",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(toml: &str) -> Catalog {
        crate::desired::load::load_sources(vec![("s.toml".into(), toml.into())]).unwrap()
    }

    fn dep(kind: &str, table: &str, name: &str) -> DeprecatedObject {
        DeprecatedObject {
            kind: kind.into(),
            schema: "public".into(),
            table: table.into(),
            name: name.into(),
        }
    }

    #[test]
    fn only_what_was_marked_and_is_gone_from_the_files_and_still_live() {
        let live = cat(r#"
[tables.leads]
columns.id = { type = "bigint", primary_key = true }
columns.fax = { type = "text" }
columns.pager = { type = "text" }
columns.kept = { type = "text" }
indexes.leads_fax = { columns = ["fax"] }
[tables.old]
columns.id = { type = "bigint" }
columns.x = { type = "text" }
"#);
        let files = cat(r#"
[tables.leads]
columns.id = { type = "bigint", primary_key = true }
columns.kept = { type = "text", deprecated = "still in the files" }
"#);
        let deprecated = [
            dep("column", "leads", "fax"),
            dep("column", "leads", "kept"),
            dep("index", "leads", "leads_fax"),
            dep("column", "leads", "gone_already"),
            dep("table", "old", "old"),
            dep("column", "old", "x"),
            dep("table", "never", "never"),
        ];
        let p = prunable(&deprecated, &files, &live);
        assert_eq!(
            p,
            vec![
                Prunable::Table(QualName::new("public", "old")),
                Prunable::Column {
                    table: QualName::new("public", "leads"),
                    column: "fax".into()
                },
                Prunable::Index {
                    table: QualName::new("public", "leads"),
                    name: "leads_fax".into()
                },
            ]
        );
        // `pager` was never marked: never pruned.
        assert!(!format!("{p:?}").contains("pager"));
    }
}
