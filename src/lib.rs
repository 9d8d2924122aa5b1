//! `reconcile`: a declarative, additive-only schema reconciler for PostgreSQL.
//!
//! Data flows one way: load desired (TOML) → introspect actual (catalog) → diff
//! → classify by the rules → render SQL → plan → print → apply → record.
//! The CLI (`main.rs`) and the admin server call the same functions below.

pub mod admin;
pub mod apply;
pub mod canon;
pub mod check;
pub mod conninfo;
pub mod db;
pub mod diff;
pub mod dump;
pub mod error;
pub mod exclude;
pub mod expr;
pub mod history;
pub mod introspect;
pub mod load;
pub mod model;
pub mod names;
pub mod par;
pub mod phases;
pub mod plan;
pub mod prune;
pub mod render;
pub mod report;
pub mod rules;
pub mod tls;
pub mod types;
pub mod validate;

use std::path::PathBuf;

pub use error::Error;
pub use plan::Plan;

/// What to reconcile and where.
#[derive(Clone, Debug)]
pub struct Target {
    pub schema_dir: PathBuf,
    /// `--database-url`; else `DATABASE_URL`; else the libpq variables.
    pub database_url: Option<String>,
    /// `--exclude` patterns, beside the files' own `exclude` key.
    pub exclude: Vec<exclude::Pattern>,
}

/// A computed plan and where it was computed.
pub struct PlanOutcome {
    pub plan: Plan,
    /// `host=… port=… user=… dbname=…` (never the password).
    pub target: String,
    /// Statements sent to the server while planning.
    pub statements_sent: usize,
}

/// Plan: load the files, read the catalog, diff, classify, render. Changes nothing.
/// The files are read and parsed on other threads while the server reads its catalog.
pub async fn plan(target: &Target) -> Result<PlanOutcome, Error> {
    let t = std::time::Instant::now();
    let loading = load_in_background(&target.schema_dir);
    let connected = match db::config_from(target.database_url.as_deref()) {
        Ok(config) => db::Db::connect(&config)
            .await
            .map(|db| (config, db))
            .map_err(Error::from),
        Err(e) => Err(e.into()),
    };
    // Bad files are reported first, as when nothing could be reached.
    let (config, db) = match connected {
        Ok(c) => c,
        Err(e) => return Err(loading.await.err().unwrap_or(e)),
    };
    db.begin("ISOLATION LEVEL REPEATABLE READ").await?;
    let result = async {
        let live = read_catalog(&db).await?;
        let mut desired = loading.await?;
        load::add_exclude(&mut desired, &target.exclude)?;
        trace("load (in parallel)", t);
        plan_against(&db, desired, live).await
    }
    .await;
    db.execute("ROLLBACK").await?;
    Ok(PlanOutcome {
        plan: result?,
        target: config.describe(),
        statements_sent: db.statements_sent(),
    })
}

/// `load::load_dir` on a blocking thread; the future yields its result.
fn load_in_background(
    dir: &std::path::Path,
) -> impl std::future::Future<Output = Result<model::Catalog, Error>> {
    let dir = dir.to_path_buf();
    let handle = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || load::load_dir(&dir)
    });
    async move {
        match handle.await {
            Ok(loaded) => Ok(loaded?),
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                // The runtime is shutting down: load here instead.
                Err(_) => Ok(load::load_dir(&dir)?),
            },
        }
    }
}

/// Plan against an open connection, in a transaction of its own that is rolled back.
pub async fn plan_with(db: &db::Db, desired: &model::Catalog) -> Result<Plan, Error> {
    db.begin("ISOLATION LEVEL REPEATABLE READ").await?;
    let result = plan_in_transaction(db, desired).await;
    db.execute("ROLLBACK").await?;
    result
}

/// Read the catalog, let PostgreSQL print the files' expressions where needed,
/// diff, classify and render; inside the caller's transaction.
///
/// Errors: [`Error::Load`] when PostgreSQL rejects an expression, a type or
/// an enum literal of the files (see `validate`), or when a reference of the
/// files to a table outside them names a table or column the database lacks;
/// [`Error::Sql`] when a catalog query fails.
pub async fn plan_in_transaction(db: &db::Db, desired: &model::Catalog) -> Result<Plan, Error> {
    let live = read_catalog(db).await?;
    plan_against(db, desired.clone(), live).await
}

async fn read_catalog(db: &db::Db) -> Result<model::Catalog, db::SqlError> {
    let t = std::time::Instant::now();
    let live = introspect::introspect(db).await?;
    trace("introspect", t);
    Ok(live)
}

/// The plan from `desired` to `live`, read in the caller's transaction.
/// The files' references to tables outside them are checked against `live`
/// first (`load::check_outside_references`).
async fn plan_against(
    db: &db::Db,
    mut desired: model::Catalog,
    mut live: model::Catalog,
) -> Result<Plan, Error> {
    load::check_outside_references(&desired, &live)?;
    // The third side: the files last applied (before canonicalizing, which
    // the recorded files are not).
    let t = std::time::Instant::now();
    let (applied, removals) = three_way(db, &desired).await?;
    trace("files last applied", t);
    // What the patterns exclude is never considered, on either side (a
    // removal from the files last applied is judged only where `live` has it).
    let patterns = std::mem::take(&mut desired.exclude);
    exclude::apply(&patterns, &mut live);
    exclude::apply(&patterns, &mut desired);
    let t = std::time::Instant::now();
    canon::canonicalize(db, &mut desired, &live).await?;
    trace("canonicalize", t);
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
async fn three_way(
    db: &db::Db,
    desired: &model::Catalog,
) -> Result<(Option<plan::AppliedFiles>, Vec<rules::removals::Removal>), db::SqlError> {
    let Some(last) = history::last_applied(db).await? else {
        return Ok((None, Vec::new()));
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
    let Some(sources) = last.sources.filter(|_| !same && desired.sources.is_some()) else {
        if !same && desired.sources.is_some() {
            applied.unreadable =
                Some("their record is in a format this version does not read".into());
        }
        return Ok((Some(applied), Vec::new()));
    };
    // Named so that a finding about a removed object says where it was.
    let files = sources
        .files
        .iter()
        .map(|(path, text)| (format!("history #{}: {path}", last.id), text.to_string()))
        .collect();
    match load::load_sources(files) {
        Ok(old) => {
            let changes = diff::diff(desired, &old);
            let removals = rules::removals::removals(&old, desired, &changes);
            Ok((Some(applied), removals))
        }
        Err(e) => {
            applied.unreadable = Some(format!("they no longer load: {e}"));
            Ok((Some(applied), Vec::new()))
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

/// Apply: load the files, connect, and apply (see `apply::apply`).
pub async fn apply_target(
    target: &Target,
    opts: &apply::ApplyOptions,
    on_event: &mut (dyn FnMut(apply::Event<'_>) + Send),
) -> Result<apply::Applied, apply::ApplyError> {
    let mut desired = load::load_dir(&target.schema_dir).map_err(Error::from)?;
    load::add_exclude(&mut desired, &target.exclude).map_err(Error::from)?;
    let config = db::config_from(target.database_url.as_deref()).map_err(Error::from)?;
    let db = db::Db::connect(&config).await.map_err(Error::from)?;
    apply::apply(&db, desired, opts, on_event).await
}

/// What `dump` wrote.
pub struct Dumped {
    pub files: Vec<dump::File>,
    /// Counts of what was written: tables, enums, domains, sequences, extensions.
    pub counts: std::collections::BTreeMap<&'static str, usize>,
    /// What the format does not express: kept in the database, not written.
    pub unmanaged: Vec<model::UnmanagedObject>,
    pub target: String,
}

/// Dump: read the catalog and write it as schema files under `out`
/// (restricted to `schemas` when not empty; without what `exclude` patterns
/// match). Nothing is written when a file exists, unless `force`.
pub async fn dump_target(
    database_url: Option<&str>,
    out: &std::path::Path,
    schemas: &[String],
    exclude: &[exclude::Pattern],
    force: bool,
) -> Result<Dumped, Error> {
    let config = db::config_from(database_url)?;
    let db = db::Db::connect(&config).await?;
    db.begin("ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    let live = introspect::introspect(&db).await;
    db.execute("ROLLBACK").await?;
    let mut live = live?;
    exclude::apply(exclude, &mut live);
    live.exclude = exclude.to_vec();
    let files = dump::files(&live, schemas);
    dump::write(out, &files, force)?;
    let unmanaged = live
        .unmanaged
        .iter()
        .filter(|o| {
            // `schema.name ...`: objects of schemas left out are not reported.
            let schema = o.name.split_once('.').map(|(s, _)| s);
            schema.is_none_or(|s| dump::in_schemas(schemas, s) || !live.schemas.contains(s))
        })
        .cloned()
        .collect();
    Ok(Dumped {
        counts: dump::summary(&live, schemas),
        files,
        unmanaged,
        target: config.describe(),
    })
}

/// The history of applied plans, newest first.
pub async fn history_target(
    database_url: Option<&str>,
    limit: i64,
) -> Result<Vec<history::Entry>, Error> {
    let config = db::config_from(database_url)?;
    let db = db::Db::connect(&config).await?;
    Ok(history::read(&db, limit).await?)
}

/// With `RECONCILE_TRACE` set, phase timings go to stderr.
pub(crate) fn trace(phase: &str, since: std::time::Instant) {
    if std::env::var_os("RECONCILE_TRACE").is_some() {
        // Resident memory now and at its peak (Linux), to see what each phase costs.
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let kb = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map_or(String::new(), |v| v.trim().to_string())
        };
        eprintln!(
            "[trace] {phase}: {:.1}ms (rss {}, peak {})",
            since.elapsed().as_secs_f64() * 1000.0,
            kb("VmRSS:"),
            kb("VmHWM:")
        );
    }
}
