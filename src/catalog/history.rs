//! The history table: every applied plan, in the database itself. It lives in a
//! schema of its own (`_reconcile`), apart from the tables of Rails, sqlx,
//! Drizzle, Prisma, Flyway or Alembic, and is never part of a diff.

use serde::Serialize;

use crate::connect::db::{Db, SqlError};
use crate::model::{Catalog, Sources};

pub const TABLE: &str = "_reconcile.history";

/// Statements that create the history table when it is missing (run inside apply's transaction).
/// (The history of an older reconcile gets its new columns once, and
/// only then is it locked: `ALTER TABLE` takes ACCESS EXCLUSIVE, even with
/// `IF NOT EXISTS`, and would wait for every transaction that read the history.)
///
/// Each version of the files is kept once in `_reconcile.files`, by its
/// hash, apart from the history rows: deleting old history rows loses no version.
pub const ENSURE: &str = "CREATE SCHEMA IF NOT EXISTS _reconcile; \
    CREATE TABLE IF NOT EXISTS _reconcile.history ( \
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
      applied_at timestamptz NOT NULL DEFAULT now(), \
      applied_by text NOT NULL DEFAULT current_user, \
      client text, \
      plan_hash text NOT NULL, \
      mode text NOT NULL DEFAULT 'transaction', \
      phase integer, \
      statements jsonb NOT NULL, \
      duration_ms bigint NOT NULL, \
      tool_version text NOT NULL, \
      files_hash text, \
      deprecated jsonb, \
      via text, \
      settled jsonb); \
    CREATE TABLE IF NOT EXISTS _reconcile.files ( \
      files_hash text PRIMARY KEY, \
      recorded_at timestamptz NOT NULL DEFAULT now(), \
      files jsonb NOT NULL); \
    DO $reconcile$ BEGIN \
      IF (SELECT count(*) FROM pg_catalog.pg_attribute \
          WHERE attrelid = '_reconcile.history'::regclass \
            AND attname IN ('files_hash', 'deprecated', 'via', 'settled') AND NOT attisdropped) < 4 THEN \
        ALTER TABLE _reconcile.history \
          ADD COLUMN IF NOT EXISTS files_hash text, \
          ADD COLUMN IF NOT EXISTS deprecated jsonb, \
          ADD COLUMN IF NOT EXISTS via text, \
          ADD COLUMN IF NOT EXISTS settled jsonb; \
      END IF; \
    END $reconcile$";

/// Which surface applied a plan: the `via` of a history row
/// ([`crate::apply::ApplyOptions::via`]).
pub mod via {
    /// `reconcile apply`.
    pub const CLI_APPLY: &str = "cli apply";
    /// `reconcile prune`.
    pub const CLI_PRUNE: &str = "cli prune";
    /// `POST /__admin/migrate`.
    pub const HTTP_MIGRATE: &str = "http migrate";
    /// `POST /__admin/prune`.
    pub const HTTP_PRUNE: &str = "http prune";
    /// `reconcile serve` with `RUN_MIGRATIONS_ON_BOOT=true`.
    pub const BOOT: &str = "boot";
    /// An application calling the library (the default of `ApplyOptions`).
    pub const LIBRARY: &str = "library";
    /// A row written before reconcile recorded it.
    pub const UNKNOWN: &str = "unknown";
}

/// The version of the files' record: `{"format": FILES_FORMAT, "files": [{"path", "text"}]}`.
pub const FILES_FORMAT: i64 = 1;

/// One applied plan.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: i64,
    pub applied_at: String,
    pub applied_by: String,
    /// The host it ran on (`$HOSTNAME`), when set.
    pub client: Option<String>,
    /// Which surface applied it (see [`via`]); `unknown` for older rows.
    pub via: String,
    pub plan_hash: String,
    pub mode: String,
    pub phase: Option<i32>,
    pub statements: Vec<String>,
    pub duration_ms: i64,
    pub tool_version: String,
    /// The version of the files it applied (`Sources::hash`), when recorded.
    pub files_hash: Option<String>,
}

/// An object that a version of the files marked `deprecated`: what `prune`
/// may drop once the files no longer have it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct DeprecatedObject {
    /// `table`, `column`, `index`, `trigger`, `policy`, `view`, `materialized view`,
    /// `function` or `procedure`.
    pub kind: String,
    pub schema: String,
    /// The table (a view's, a routine's own name).
    pub table: String,
    /// A column's, an index's or a trigger's name; a table's or a view's own
    /// name; a routine's argument types (`integer, text`).
    pub name: String,
}

/// The objects `files` mark `deprecated`.
pub fn deprecated_objects(files: &Catalog) -> Vec<DeprecatedObject> {
    let mut out = Vec::new();
    for t in files.tables.values() {
        let at = |kind: &str, name: &str| DeprecatedObject {
            kind: kind.into(),
            schema: t.name.schema.clone(),
            table: t.name.name.clone(),
            name: name.into(),
        };
        if t.deprecated.is_some() {
            out.push(at("table", &t.name.name));
        }
        for c in t.columns.iter().filter(|c| c.deprecated.is_some()) {
            out.push(at("column", &c.name));
        }
        for i in t.indexes.iter().filter(|i| i.deprecated.is_some()) {
            out.push(at("index", &i.name));
        }
        for tr in t.triggers.iter().filter(|tr| tr.deprecated.is_some()) {
            out.push(at("trigger", &tr.name));
        }
        for p in t.policies.iter().filter(|p| p.deprecated.is_some()) {
            out.push(at("policy", &p.name));
        }
    }
    for v in files.views.values().filter(|v| v.deprecated.is_some()) {
        out.push(DeprecatedObject {
            kind: v.kind().into(),
            schema: v.name.schema.clone(),
            table: v.name.name.clone(),
            name: v.name.name.clone(),
        });
    }
    for r in files.routines.values().filter(|r| r.deprecated.is_some()) {
        out.push(DeprecatedObject {
            kind: r.kind().into(),
            schema: r.id.name.schema.clone(),
            table: r.id.name.name.clone(),
            name: r.id.args.clone(),
        });
    }
    out
}

/// Record an applied plan; call inside the transaction that applied it.
/// `files` is the desired catalog it applied: its version (`Sources::hash`)
/// goes on the row, its text the first time that version is recorded, and
/// the objects it marks `deprecated`; `via` names the surface that applied
/// it (see [`via`]).
#[allow(clippy::too_many_arguments)]
pub async fn record(
    db: &Db,
    via: &str,
    plan_hash: &str,
    mode: &str,
    phase: Option<i32>,
    statements: &[String],
    duration_ms: i64,
    files: Option<&Catalog>,
) -> Result<(), SqlError> {
    let row = Pending {
        plan_hash: plan_hash.into(),
        mode: mode.into(),
        phase,
        statements: statements.to_vec(),
        duration_ms,
        settled: None,
    };
    write(db, via, Some(&row), files, false).await
}

/// An applied plan's history row, written with the COMMIT of the
/// transaction that applied it (see [`record_then_commit`]).
#[derive(Clone, Debug)]
pub struct Pending {
    pub plan_hash: String,
    /// `transaction` or `online`.
    pub mode: String,
    pub phase: Option<i32>,
    pub statements: Vec<String>,
    pub duration_ms: i64,
    /// The verified state (`catalog::settled`), when the apply recorded
    /// one; the history's tables were then made earlier in the transaction.
    pub settled: Option<super::settled::Settled>,
}

/// Record `row` (as [`record`] does, with `files` when given), then COMMIT,
/// in one round trip; with no row, only COMMIT. The server runs them in
/// order: when an insert fails, the transaction is aborted and the COMMIT
/// rolls it back (PostgreSQL answers COMMIT in a failed transaction with
/// ROLLBACK), so nothing is committed and the insert's error is returned.
/// Errors: the first failure, in the order sent.
pub async fn record_then_commit(
    db: &Db,
    via: &str,
    row: Option<&Pending>,
    files: Option<&Catalog>,
) -> Result<(), SqlError> {
    write(db, via, row, files, true).await
}

/// Record `settled` on the last history row, in place of what it recorded,
/// then COMMIT, in one round trip: for an apply that ran nothing and found
/// the database as the files of that row want it. The record only saves
/// later plans a catalog read, so when the UPDATE fails (a role that may
/// insert history rows but not update them), the COMMIT ends a transaction
/// that changed nothing and the apply still succeeds. Errors: the COMMIT's.
pub async fn settle_then_commit(
    db: &Db,
    settled: &super::settled::Settled,
) -> Result<(), SqlError> {
    let settled = serde_json::to_string(settled).expect("strings serialize");
    let params = [Some(settled.as_str())];
    // Issued together, so pipelined: after a failed UPDATE, PostgreSQL
    // answers COMMIT by rolling back, without an error.
    let (_updated, committed) = futures_util::future::join(
        db.execute_text_params(
            "UPDATE _reconcile.history SET settled = $1::jsonb \
             WHERE id = (SELECT max(id) FROM _reconcile.history)",
            &params,
        ),
        db.execute("COMMIT"),
    )
    .await;
    committed
}

/// The history row (when given) and the COMMIT (when asked), pipelined.
async fn write(
    db: &Db,
    via: &str,
    row: Option<&Pending>,
    files: Option<&Catalog>,
    commit: bool,
) -> Result<(), SqlError> {
    let Some(row) = row else {
        return if commit {
            db.execute("COMMIT").await
        } else {
            Ok(())
        };
    };
    let statements = serde_json::to_string(&row.statements).expect("strings serialize");
    let client = std::env::var("HOSTNAME").ok();
    let duration = row.duration_ms.to_string();
    let phase = row.phase.map(|p| p.to_string());
    let sources = files.and_then(|f| f.sources.as_ref());
    let files_hash = sources.map(Sources::hash);
    let files_json = sources.map(files_record);
    let deprecated =
        files.map(|f| serde_json::to_string(&deprecated_objects(f)).expect("strings serialize"));
    let settled = row
        .settled
        .as_ref()
        .map(|s| serde_json::to_string(s).expect("strings serialize"));
    let files_params = files_hash
        .as_deref()
        .zip(files_json.as_deref())
        .map(|(hash, json)| [Some(hash), Some(json)]);
    let history_params = [
        client.as_deref(),
        Some(row.plan_hash.as_str()),
        Some(row.mode.as_str()),
        phase.as_deref(),
        Some(&statements),
        Some(&duration),
        Some(env!("CARGO_PKG_VERSION")),
        files_hash.as_deref(),
        deprecated.as_deref(),
        Some(via),
        settled.as_deref(),
    ];
    // The table's creation and the inserts, sent together (one round trip):
    // the server runs them in order (in a transaction, none after a failure).
    let mut pipeline = crate::connect::db::Pipeline::new();
    // A row that records a settled state comes from an apply whose
    // verification made the tables already, in this transaction (before its
    // fingerprint: see `apply::verification_read`), or from one that ran
    // nothing and read its fingerprint from the history's last row (the
    // tables exist, with the `settled` column: made and migrated by ENSURE).
    if row.settled.is_none() {
        pipeline.push(db.execute(ENSURE));
    }
    if let Some(params) = &files_params {
        pipeline.push(db.execute_text_params(
            "INSERT INTO _reconcile.files (files_hash, files) VALUES ($1, $2::jsonb) \
             ON CONFLICT (files_hash) DO NOTHING",
            params,
        ));
    }
    pipeline.push(db.execute_text_params(
        "INSERT INTO _reconcile.history (client, plan_hash, mode, phase, statements, duration_ms, tool_version, \
           files_hash, deprecated, via, settled) \
         VALUES ($1, $2, $3, $4::integer, $5::jsonb, $6::bigint, $7, $8, $9::jsonb, $10, $11::jsonb)",
        &history_params,
    ));
    if commit {
        pipeline.push(db.execute("COMMIT"));
    }
    pipeline.finish().await
}

/// The recorded form of a version of the files (see `FILES_FORMAT`).
fn files_record(sources: &Sources) -> String {
    let files: Vec<serde_json::Value> = sources
        .files
        .iter()
        .map(|(path, text)| serde_json::json!({ "path": path, "text": &**text }))
        .collect();
    serde_json::json!({ "format": FILES_FORMAT, "files": files }).to_string()
}

/// The version of the files that the last apply recorded.
#[derive(Clone, Debug)]
pub struct AppliedFiles {
    /// The last history row that applied it.
    pub id: i64,
    /// `Sources::hash` of those files.
    pub hash: String,
    /// The files; `None` when their record is missing or in a format this version cannot read.
    pub sources: Option<Sources>,
}

impl AppliedFiles {
    /// Load this version of the files, each file named `history #<id>: <path>`
    /// so that a finding about an object it had says where it was; `None`
    /// when its text is missing or unreadable.
    pub fn load(&self) -> Option<Result<Catalog, crate::desired::load::LoadError>> {
        let sources = self.sources.as_ref()?;
        let files = sources
            .files
            .iter()
            .map(|(path, text)| (format!("history #{}: {path}", self.id), text.to_string()))
            .collect();
        Some(crate::desired::load::load_sources(files))
    }
}

/// Whether the history records versions of the files (an older reconcile
/// did not, and a database never applied has no history): one catalog query.
async fn records_files(db: &Db) -> Result<bool, SqlError> {
    let rows = db
        .simple(
            "SELECT pg_catalog.to_regclass('_reconcile.files') IS NOT NULL \
                AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute \
                    WHERE attrelid = pg_catalog.to_regclass('_reconcile.history') \
                      AND attname = 'deprecated' AND NOT attisdropped)",
        )
        .await?;
    Ok(crate::connect::db::first_value(&rows) == Some("t"))
}

/// The files the last apply applied, when an apply recorded them; read in
/// the caller's transaction (two queries at most).
pub async fn last_applied(db: &Db) -> Result<Option<AppliedFiles>, SqlError> {
    Ok(recorded_versions(db, true).await?.into_iter().next())
}

/// As [`last_applied`], in one round trip whatever the database holds, so
/// that it can be pipelined with other requests (see `plan::against`): the
/// check that the history records files, and the read itself inside a
/// savepoint (rolled back: without the tables, the read fails and its
/// result is not used), are sent together. Inside a transaction only.
pub async fn last_applied_pipelined(db: &Db) -> Result<Option<AppliedFiles>, SqlError> {
    let read = versions_sql(true);
    let (recorded, rows, undone) = futures_util::future::join3(
        records_files(db),
        db.simple_many(&["SAVEPOINT reconcile_history", &read]),
        db.execute("ROLLBACK TO SAVEPOINT reconcile_history; RELEASE SAVEPOINT reconcile_history"),
    )
    .await;
    undone?;
    if !recorded? {
        return Ok(None);
    }
    let rows = rows?.pop().unwrap_or_default();
    Ok(versions_from(rows).into_iter().next())
}

/// The versions of the files recorded, the last applied first (`LIMIT 1`
/// with `last_only`): id, files_hash, files.
fn versions_sql(last_only: bool) -> String {
    format!(
        "SELECT v.id, v.files_hash, f.files::text \
         FROM (SELECT files_hash, max(id) AS id FROM _reconcile.history \
               WHERE files_hash IS NOT NULL GROUP BY files_hash \
               ORDER BY max(id) DESC {}) v \
         LEFT JOIN _reconcile.files f ON f.files_hash = v.files_hash \
         ORDER BY v.id DESC",
        if last_only { "LIMIT 1" } else { "" }
    )
}

/// The rows of `versions_sql`, read.
fn versions_from(rows: Vec<Vec<Option<String>>>) -> Vec<AppliedFiles> {
    rows.into_iter()
        .filter_map(|r| match r.as_slice() {
            [id, Some(hash), files] => Some(AppliedFiles {
                id: id.as_deref().and_then(|i| i.parse().ok()).unwrap_or(0),
                hash: hash.clone(),
                sources: files.as_deref().and_then(parse_files_record),
            }),
            _ => None,
        })
        .collect()
}

/// Every version of the files an apply recorded, the last applied first
/// (each once, at the last row that applied it); `last_only`: only that one.
pub async fn recorded_versions(db: &Db, last_only: bool) -> Result<Vec<AppliedFiles>, SqlError> {
    if !records_files(db).await? {
        return Ok(Vec::new());
    }
    let rows = db.simple(&versions_sql(last_only)).await?;
    Ok(versions_from(rows))
}

/// A recorded version of the files, when its format is one this version reads.
fn parse_files_record(json: &str) -> Option<Sources> {
    #[derive(serde::Deserialize)]
    struct Record {
        format: i64,
        files: Vec<File>,
    }
    #[derive(serde::Deserialize)]
    struct File {
        path: String,
        text: String,
    }
    let r: Record = serde_json::from_str(json).ok()?;
    (r.format == FILES_FORMAT).then(|| Sources {
        files: r
            .files
            .into_iter()
            .map(|f| (f.path, f.text.into()))
            .collect(),
    })
}

/// Every object that an applied version of the files marked `deprecated`.
pub async fn deprecated_ever(db: &Db) -> Result<Vec<DeprecatedObject>, SqlError> {
    if !records_files(db).await? {
        return Ok(Vec::new());
    }
    let rows = db
        .simple(
            "SELECT coalesce(jsonb_agg(DISTINCT d), '[]') \
             FROM _reconcile.history h, jsonb_array_elements(h.deprecated) d \
             WHERE jsonb_typeof(h.deprecated) = 'array'",
        )
        .await?;
    let json = crate::connect::db::first_value(&rows).unwrap_or("[]");
    serde_json::from_str(json).map_err(|e| SqlError {
        message: format!("cannot read the deprecated objects of the history: {e}"),
        code: None,
        detail: None,
        hint: None,
        statement: None,
    })
}

/// The history, newest first (empty when nothing was ever applied); read in
/// a read-only transaction of its own, with the session settings pinned.
pub async fn read(db: &Db, limit: i64) -> Result<Vec<Entry>, SqlError> {
    db.begin("READ ONLY").await?;
    let rows = db
        .simple(&format!(
            "SELECT coalesce(json_agg(x ORDER BY x.id DESC), '[]') FROM ( \
               SELECT id, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS \"appliedAt\", \
                      applied_by AS \"appliedBy\", client, plan_hash AS \"planHash\", mode, phase, statements, \
                      duration_ms AS \"durationMs\", tool_version AS \"toolVersion\", \
                      to_jsonb(h) ->> 'files_hash' AS \"filesHash\", to_jsonb(h) ->> 'via' AS via \
               FROM _reconcile.history h ORDER BY id DESC LIMIT {limit}) x"
        ))
        .await;
    // Ends the transaction, failed or not.
    db.execute("ROLLBACK").await?;
    match rows {
        Ok(rows) => parse(rows),
        // No history table yet: nothing was ever applied.
        Err(e) if e.code.as_deref() == Some("42P01") || e.code.as_deref() == Some("3F000") => {
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}

fn parse(rows: Vec<Vec<Option<String>>>) -> Result<Vec<Entry>, SqlError> {
    let json = crate::connect::db::first_value(&rows).unwrap_or("[]");
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Raw {
        id: i64,
        applied_at: String,
        applied_by: String,
        client: Option<String>,
        plan_hash: String,
        mode: String,
        phase: Option<i32>,
        statements: Vec<String>,
        duration_ms: i64,
        tool_version: String,
        files_hash: Option<String>,
        via: Option<String>,
    }
    let raw: Vec<Raw> = serde_json::from_str(json).map_err(|e| SqlError {
        message: format!("cannot read the history: {e}"),
        code: None,
        detail: None,
        hint: None,
        statement: None,
    })?;
    Ok(raw
        .into_iter()
        .map(|r| Entry {
            id: r.id,
            applied_at: r.applied_at,
            applied_by: r.applied_by,
            client: r.client,
            via: r.via.unwrap_or_else(|| via::UNKNOWN.into()),
            plan_hash: r.plan_hash,
            mode: r.mode,
            phase: r.phase,
            statements: r.statements,
            duration_ms: r.duration_ms,
            tool_version: r.tool_version,
            files_hash: r.files_hash,
        })
        .collect())
}
