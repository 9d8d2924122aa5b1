//! The one-way chain that the command line, the admin server and the CI
//! guard call: load the files and read the catalog, plan, apply, dump, history.

use std::path::PathBuf;

use crate::apply;
use crate::catalog::{history, introspect};
use crate::connect::db;
use crate::desired::load;
use crate::model::{self, exclude};
use crate::plan::against::{plan_against, read_catalog, settled_record};
use crate::plan::Plan;
use crate::surfaces::dump;
use crate::trace::trace;
use crate::Error;

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
/// The files are read and parsed on another thread meanwhile; a database
/// as the last apply verified it is not read again (`settled_record`).
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
    let result = async {
        // BEGIN and the last apply's record, while the files load: when the
        // database is as that apply verified it, for these files, its
        // catalog is not read at all; else it is read next (REPEATABLE READ:
        // the same snapshot), still while the files load.
        let (record, _) =
            settled_record(&db, Some("ISOLATION LEVEL REPEATABLE READ"), false).await?;
        let with_exclude = |loaded: Result<model::Catalog, Error>| {
            let mut desired = loaded?;
            load::add_exclude(&mut desired, &target.exclude)?;
            trace("load (in parallel)", t);
            Ok::<_, Error>(desired)
        };
        let (desired, live) = match record {
            Some(record) => {
                let desired = with_exclude(loading.await)?;
                if let Some(plan) = record.plan(&desired) {
                    return Ok(plan);
                }
                (desired, read_catalog(&db, None).await?)
            }
            None => {
                let (live, loaded) =
                    futures_util::future::join(read_catalog(&db, None), loading).await;
                (with_exclude(loaded)?, live?)
            }
        };
        plan_against(&db, desired, live).await
    }
    .await;
    ended(db, result, config.describe()).await
}

/// End a plan's session, its transaction still open: nothing to keep, and
/// ending the session rolls it back without waiting for a ROLLBACK's answer.
/// The plan (or its error) with where it was made and what it sent.
async fn ended(
    db: db::Db,
    plan: Result<Plan, Error>,
    target: String,
) -> Result<PlanOutcome, Error> {
    let statements_sent = db.statements_sent();
    db.close().await;
    Ok(PlanOutcome {
        plan: plan?,
        target,
        statements_sent,
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

/// Apply: load the files, connect, and apply (see `apply::apply`).
pub async fn apply_target(
    target: &Target,
    opts: &apply::ApplyOptions,
    on_event: &mut (dyn FnMut(apply::Event<'_>) + Send),
) -> Result<apply::Applied, apply::ApplyError> {
    let (desired, _, db) = open_target(target).await?;
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
    // Each file says where its JSON Schema is, for editors; the schema is written beside them.
    let files = dump::editors::with_schema(dump::files(&live, schemas));
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

/// The files of `target` (with its `exclude` patterns) and a connection to its database.
async fn open_target(target: &Target) -> Result<(model::Catalog, db::Settings, db::Db), Error> {
    let mut files = load::load_dir(&target.schema_dir)?;
    load::add_exclude(&mut files, &target.exclude)?;
    let config = db::config_from(target.database_url.as_deref())?;
    let db = db::Db::connect(&config).await?;
    Ok((files, config, db))
}

/// Prune the database of `target` against its files (see `apply::prune::prune`).
pub async fn prune_target(
    target: &Target,
    opts: &apply::ApplyOptions,
    on_event: &mut (dyn FnMut(apply::Event<'_>) + Send),
) -> Result<apply::Applied, apply::ApplyError> {
    let (files, _, db) = open_target(target).await?;
    apply::prune::prune(&db, &files, opts, on_event).await
}

/// The prune plan of `target` (see `apply::prune::plan`), and where it was computed.
pub async fn prune_plan_target(target: &Target) -> Result<PlanOutcome, Error> {
    let (files, config, db) = open_target(target).await?;
    let plan = apply::prune::plan(&db, &files).await?;
    Ok(PlanOutcome {
        plan,
        target: config.describe(),
        statements_sent: db.statements_sent(),
    })
}

/// Plan `desired` (files loaded once, e.g. for a fleet) against the database
/// that `settings` names, in a transaction of its own that is rolled back.
/// Errors: connecting, a catalog query, or the files as this database judges them.
pub async fn plan_loaded(
    settings: &db::Settings,
    desired: &model::Catalog,
) -> Result<PlanOutcome, Error> {
    let db = db::Db::connect(settings).await?;
    // As `plan`: BEGIN and the catalog in one round trip, and the session
    // ended instead of waiting for a ROLLBACK's answer.
    let plan = crate::plan::against::plan_open(&db, desired).await;
    ended(db, plan, settings.describe()).await
}

/// Apply `desired` (files loaded once, e.g. for a fleet) to the database that
/// `settings` names (see `apply::apply`: its own transaction and advisory lock).
pub async fn apply_loaded(
    settings: &db::Settings,
    desired: model::Catalog,
    opts: &apply::ApplyOptions,
    on_event: &mut (dyn FnMut(apply::Event<'_>) + Send),
) -> Result<apply::Applied, apply::ApplyError> {
    let db = db::Db::connect(settings).await.map_err(Error::from)?;
    apply::apply(&db, desired, opts, on_event).await
}

/// The history of applied plans of the database that `settings` names, newest first.
pub async fn history_on(settings: &db::Settings, limit: i64) -> Result<Vec<history::Entry>, Error> {
    let db = db::Db::connect(settings).await?;
    Ok(history::read(&db, limit).await?)
}

/// The schema files of `dir` with the `exclude` patterns, loaded once (for a fleet).
pub fn load_files(
    dir: &std::path::Path,
    exclude: &[exclude::Pattern],
) -> Result<model::Catalog, Error> {
    let mut files = load::load_dir(dir)?;
    load::add_exclude(&mut files, exclude)?;
    Ok(files)
}
