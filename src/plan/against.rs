//! A plan against a live database: read the catalog and the files last
//! applied, let PostgreSQL print and judge the files' expressions, diff,
//! classify and render, inside a transaction the caller owns or one of its own.

use crate::catalog::{history, introspect, settled};
use crate::connect::db;
use crate::desired::load;
use crate::model::{self, exclude, names};
use crate::plan::{self, canon, diff, rules, validate, Plan};
use crate::trace::trace;
use crate::Error;

/// Plan against an open connection, in a transaction of its own that is rolled back.
pub async fn plan_with(db: &db::Db, desired: &model::Catalog) -> Result<Plan, Error> {
    let result = plan_open(db, desired).await;
    db.execute("ROLLBACK").await?;
    result
}

/// As [`plan_with`], leaving its transaction open (with the probes rolled
/// back): the caller sends `ROLLBACK`, e.g. pipelined with what comes next.
pub(crate) async fn plan_open(db: &db::Db, desired: &model::Catalog) -> Result<Plan, Error> {
    // BEGIN and whether the database is as the last apply verified it, in
    // one round trip; if it is not, the catalog and the files last applied
    // in the next (the same snapshot: REPEATABLE READ).
    let begin = Some("ISOLATION LEVEL REPEATABLE READ");
    if let Some(plan) = settled_plan(db, begin, desired, false).await?.plan {
        return Ok(plan);
    }
    let live = read_catalog(db, None).await?;
    plan_against(db, desired.clone(), live).await
}

/// Where a plan starts: the plan an apply verified, when the database is
/// still as it left it (`settled_plan`), or the catalog and the files last
/// applied, to plan from.
pub(crate) enum Read {
    Settled(Box<Plan>),
    Catalog {
        live: Box<Live>,
        /// The catalog's fingerprint (`catalog::settled`), read in the same
        /// transaction before `live`, when it was (see `settled_record`).
        fingerprint: Option<String>,
    },
}

impl Read {
    /// The plan: the settled one, or the one from the catalog (see `plan_against`).
    pub(crate) async fn plan(self, db: &db::Db, desired: &model::Catalog) -> Result<Plan, Error> {
        match self {
            Read::Settled(plan) => Ok(*plan),
            Read::Catalog { live, .. } => plan_against(db, desired.clone(), *live).await,
        }
    }
}

/// `settled_plan` in the caller's transaction (with `always`, see
/// `settled_record`), and when the database is not settled, the catalog
/// (`read_catalog`) in the next round trip.
pub(crate) async fn read_settled_or_catalog(
    db: &db::Db,
    desired: &model::Catalog,
    always: bool,
) -> Result<Read, db::SqlError> {
    let asked = settled_plan(db, None, desired, always).await?;
    Ok(match asked.plan {
        Some(plan) => Read::Settled(Box::new(plan)),
        None => Read::Catalog {
            live: Box::new(read_catalog(db, None).await?),
            fingerprint: asked.fingerprint,
        },
    })
}

/// What the question of `settled_plan` found.
pub(crate) struct Asked {
    /// The plan that the last apply verified, when the database is still as
    /// it left it, for these files.
    pub(crate) plan: Option<Plan>,
    /// The catalog's fingerprint when asked, when it was read (see
    /// `settled_record`): what an apply that finds nothing to do records.
    pub(crate) fingerprint: Option<String>,
}

/// The plan of a database left as the last apply verified it
/// (`catalog::settled`): when the last history row's record has the
/// catalog's fingerprint now and the key of `desired`, the plan is the one
/// that apply verified (nothing to run, nothing refused) with the unmanaged
/// objects it listed; else none, and the catalog must be read. With
/// `always`, the fingerprint is read whenever the history has a row, for a
/// caller that may record it. One round trip (see [`settled_record`]).
pub(crate) async fn settled_plan(
    db: &db::Db,
    begin: Option<&str>,
    desired: &model::Catalog,
    always: bool,
) -> Result<Asked, db::SqlError> {
    if desired.sources.is_none() {
        // Files without their text have no key (`settled::inputs_key`).
        begin_if(db, begin).await?;
        return Ok(Asked {
            plan: None,
            fingerprint: None,
        });
    }
    let (record, fingerprint) = settled_record(db, begin, always).await?;
    Ok(Asked {
        plan: record.and_then(|record| record.plan(desired)),
        fingerprint,
    })
}

/// The record of the last history row (`catalog::settled::Settled`), when
/// the catalog's fingerprint now is the one it recorded.
pub(crate) struct SettledRecord {
    /// The last history row that recorded files, and their hash.
    history_id: i64,
    files_hash: String,
    settled: settled::Settled,
}

/// The last history row's record, when the catalog still has the
/// fingerprint it recorded; `None` on PostgreSQL before 14, and for a
/// database with no history, an older history or no record (the read runs in
/// a savepoint, rolled back: not an error). Beside it, the fingerprint now,
/// when it was read: when the last row has a record or, with `always`, a
/// row at all. One round trip, inside the caller's transaction; with
/// `begin`, the transaction is opened (`Db::begin`) in the same round trip.
/// Errors: `begin` failing, or the rollback.
pub(crate) async fn settled_record(
    db: &db::Db,
    begin: Option<&str>,
    always: bool,
) -> Result<(Option<SettledRecord>, Option<String>), db::SqlError> {
    let t = std::time::Instant::now();
    let Some(fingerprint) = settled::fingerprint_sql(db.server_version) else {
        begin_if(db, begin).await?;
        return Ok((None, None));
    };
    let read = settled::last_row_sql(&fingerprint, always);
    // Requests issued together are pipelined (`join3` issues them in order).
    let (begun, rows, undone) = futures_util::future::join3(
        begin_if(db, begin),
        db.simple_many(&["SAVEPOINT reconcile_settled", &read]),
        db.execute("ROLLBACK TO SAVEPOINT reconcile_settled; RELEASE SAVEPOINT reconcile_settled"),
    )
    .await;
    begun?;
    undone?;
    trace("settled?", t);
    let Ok(mut rows) = rows else {
        return Ok((None, None));
    };
    let row = rows
        .pop()
        .and_then(|r| r.into_iter().next())
        .unwrap_or_default();
    Ok((record_of(&row), row.get(3).cloned().flatten()))
}

/// The record of the question's row (`settled::last_row_sql`: the last
/// files row's id and hash, the record, the fingerprint now), when it holds
/// one and the fingerprint now is the one it recorded.
fn record_of(row: &[Option<String>]) -> Option<SettledRecord> {
    let [Some(id), Some(files_hash), Some(record), Some(now)] = row else {
        return None;
    };
    let settled = serde_json::from_str::<settled::Settled>(record).ok()?;
    if settled.fingerprint != *now {
        return None;
    }
    Some(SettledRecord {
        history_id: id.parse().ok()?,
        files_hash: files_hash.clone(),
        settled,
    })
}

impl SettledRecord {
    /// The verified plan, when it was made for `desired` (the same files,
    /// `--exclude` patterns and build: `settled::inputs_key`); else `None`.
    pub(crate) fn plan(self, desired: &model::Catalog) -> Option<Plan> {
        let files_now = desired.sources.as_ref().map(model::Sources::hash)?;
        if settled::key_of(&files_now, &desired.exclude) != self.settled.inputs
            || files_now != self.files_hash
        {
            return None;
        }
        // As `Plan::build` makes a plan with nothing to run: every table of
        // the files (but what the patterns exclude) is in sync.
        let in_sync = desired
            .tables
            .keys()
            .filter(|n| !exclude::excluded(&desired.exclude, n))
            .map(|n| n.to_string())
            .collect();
        Some(Plan {
            statements: Vec::new(),
            refused: Vec::new(),
            unmanaged: self.settled.unmanaged,
            in_sync,
            busy_tables: Vec::new(),
            plan_hash: plan::hash(&[]),
            files_hash: Some(files_now),
            applied_files: Some(plan::AppliedFiles {
                history_id: self.history_id,
                files_hash: self.files_hash,
                unreadable: None,
            }),
        })
    }
}

/// Read the catalog, let PostgreSQL print the files' expressions where needed,
/// diff, classify and render; inside the caller's transaction.
///
/// Errors: [`Error::Load`] when PostgreSQL rejects an expression, a type or
/// an enum literal of the files (see `validate`), or when a reference of the
/// files to a table outside them names a table or column the database lacks;
/// [`Error::Sql`] when a catalog query fails.
pub async fn plan_in_transaction(db: &db::Db, desired: &model::Catalog) -> Result<Plan, Error> {
    let live = read_catalog(db, None).await?;
    plan_against(db, desired.clone(), live).await
}

/// `Db::begin` with `begin` (e.g. `ISOLATION LEVEL REPEATABLE READ`), or
/// nothing without it (the caller's transaction is used).
async fn begin_if(db: &db::Db, begin: Option<&str>) -> Result<(), db::SqlError> {
    match begin {
        Some(how) => db.begin(how).await,
        None => Ok(()),
    }
}

/// What a plan reads from the database before it looks at the files: the
/// catalog, and the files the last apply recorded.
pub(crate) struct Live {
    pub catalog: model::Catalog,
    pub last_applied: Option<history::AppliedFiles>,
}

/// Read the catalog and the files last applied, in one round trip: with
/// `begin` (e.g. `ISOLATION LEVEL REPEATABLE READ`), the transaction is
/// opened (`Db::begin`) in the same round trip, before them; else they are
/// read in the caller's transaction. Errors: the first failure, in the order
/// sent; when `begin` is given the caller rolls back whatever happened.
pub(crate) async fn read_catalog(db: &db::Db, begin: Option<&str>) -> Result<Live, db::SqlError> {
    read_catalog_with(db, begin, true).await
}

/// As [`read_catalog`]; without `unmanaged`, the objects the format does not
/// manage are left unlisted (`introspect::introspect_with`): for a plan whose
/// statements and refusals alone matter (apply's verification).
pub(crate) async fn read_catalog_with(
    db: &db::Db,
    begin: Option<&str>,
    unmanaged: bool,
) -> Result<Live, db::SqlError> {
    let t = std::time::Instant::now();
    // Requests issued together are pipelined (`join3` issues them in order).
    let (begun, catalog, last_applied) = futures_util::future::join3(
        begin_if(db, begin),
        introspect::introspect_with(db, unmanaged),
        history::last_applied_pipelined(db),
    )
    .await;
    begun?;
    let catalog = catalog?;
    let last_applied = last_applied?;
    trace("introspect", t);
    Ok(Live {
        catalog,
        last_applied,
    })
}

/// The plan from `desired` to `live`, read in the caller's transaction.
/// The files' references to tables outside them are checked against `live`
/// first (`load::check_outside_references`).
pub(crate) async fn plan_against(
    db: &db::Db,
    mut desired: model::Catalog,
    live: Live,
) -> Result<Plan, Error> {
    let Live {
        catalog: mut live,
        last_applied,
    } = live;
    load::check_outside_references(&desired, &live)?;
    load::grants::check_named_roles(&desired, &live)?;
    // The third side: the files last applied (before canonicalizing, which
    // the recorded files are not).
    let t = std::time::Instant::now();
    let (applied, removals) = three_way(last_applied, &desired);
    trace("files last applied", t);
    // What the patterns exclude is never considered, on either side (a
    // removal from the files last applied is judged only where `live` has it).
    let patterns = std::mem::take(&mut desired.exclude);
    exclude::apply(&patterns, &mut live);
    exclude::apply(&patterns, &mut desired);
    let t = std::time::Instant::now();
    canon::canonicalize(db, &mut desired, &live).await?;
    trace("canonicalize", t);
    let t = std::time::Instant::now();
    canon::code::canonicalize_code(db, &mut desired, &live).await?;
    trace("canonicalize functions, views and triggers", t);
    canon::partition::canonicalize_partitions(db, &mut desired, &live).await?;
    canon::exclusion::canonicalize_exclusions(db, &mut desired, &live).await?;
    validate::validate(db, &desired, &live).await?;
    let t = std::time::Instant::now();
    let mut plan = Plan::build(&desired, &live);
    trace("diff and render", t);
    // Tables never analyzed have no size estimate; measure the ones the plan touches.
    if measure_unknown_sizes(db, &mut live, &plan).await? {
        plan = Plan::build(&desired, &live);
    }
    plan.judge_removals(&removals, &live);
    plan.applied_files = applied;
    // Freeing two models of a large schema takes a while: another thread
    // does it while the plan is printed.
    std::thread::spawn(move || drop((desired, live)));
    Ok(plan)
}

/// The files the last apply recorded, and what the files now removed from
/// them (`rules::removals`); nothing when no apply recorded files, or when
/// they are the files now.
fn three_way(
    last: Option<history::AppliedFiles>,
    desired: &model::Catalog,
) -> (Option<plan::AppliedFiles>, Vec<rules::removals::Removal>) {
    let Some(last) = last else {
        return (None, Vec::new());
    };
    let mut applied = plan::AppliedFiles {
        history_id: last.id,
        files_hash: last.hash.clone(),
        unreadable: None,
    };
    let same = desired
        .sources
        .as_ref()
        .is_some_and(|s| s.hash() == last.hash);
    let loaded = last.load().filter(|_| !same && desired.sources.is_some());
    let Some(loaded) = loaded else {
        if !same && desired.sources.is_some() {
            applied.unreadable =
                Some("their record is in a format this version does not read".into());
        }
        return (Some(applied), Vec::new());
    };
    match loaded {
        Ok(old) => {
            let changes = diff::diff(desired, &old);
            let removals = rules::removals::removals(&old, desired, &changes);
            (Some(applied), removals)
        }
        Err(e) => {
            applied.unreadable = Some(format!("they no longer load: {e}"));
            (Some(applied), Vec::new())
        }
    }
}

/// For the tables a plan touches whose size the catalog does not estimate
/// (never vacuumed or analyzed), ask for `pg_relation_size`, in one statement.
/// Whether any size was filled in.
async fn measure_unknown_sizes(
    db: &db::Db,
    live: &mut model::Catalog,
    plan: &Plan,
) -> Result<bool, db::SqlError> {
    let touched: std::collections::HashSet<&str> = plan
        .statements
        .iter()
        .filter_map(|s| s.table.as_deref())
        .collect();
    let unknown: Vec<model::QualName> = live
        .tables
        .values()
        .filter(|t| t.stats.as_ref().is_some_and(|s| s.bytes < 0))
        .filter(|t| touched.contains(t.name.to_string().as_str()))
        .map(|t| t.name.clone())
        .collect();
    if unknown.is_empty() {
        return Ok(false);
    }
    let values: Vec<String> = unknown
        .iter()
        .map(|n| {
            format!(
                "({}, {})",
                names::quote_literal(&n.schema),
                names::quote_literal(&n.name)
            )
        })
        .collect();
    let rows = db
        .simple(&format!(
            "SELECT v.s, v.n, pg_relation_size(format('%I.%I', v.s, v.n)::regclass) FROM (VALUES {}) v(s, n)",
            values.join(", ")
        ))
        .await?;
    for r in rows {
        if let [Some(s), Some(n), Some(bytes)] = r.as_slice() {
            let name = model::QualName::new(s.clone(), n.clone());
            if let (Some(t), Ok(b)) = (live.tables.get_mut(&name), bytes.parse()) {
                if let Some(stats) = t.stats.as_mut() {
                    stats.bytes = b;
                }
            }
        }
    }
    Ok(true)
}
