//! The history table: every applied plan, in the database itself. It lives in a
//! schema of its own (`_reconcile`), apart from the tables of Rails, sqlx,
//! Drizzle, Prisma, Flyway or Alembic, and is never part of a diff.

use serde::Serialize;

use crate::db::{Db, SqlError};

pub const TABLE: &str = "_reconcile.history";

/// Statements that create the history table when it is missing (run inside apply's transaction).
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
      tool_version text NOT NULL)";

/// One applied plan.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: i64,
    pub applied_at: String,
    pub applied_by: String,
    pub client: Option<String>,
    pub plan_hash: String,
    pub mode: String,
    pub phase: Option<i32>,
    pub statements: Vec<String>,
    pub duration_ms: i64,
    pub tool_version: String,
}

/// Record an applied plan; call inside the transaction that applied it.
pub async fn record(
    db: &Db,
    plan_hash: &str,
    mode: &str,
    phase: Option<i32>,
    statements: &[String],
    duration_ms: i64,
) -> Result<(), SqlError> {
    db.execute(ENSURE).await?;
    let statements = serde_json::to_string(statements).expect("strings serialize");
    let client = std::env::var("HOSTNAME").ok();
    let duration = duration_ms.to_string();
    let phase = phase.map(|p| p.to_string());
    db.execute_text_params(
        "INSERT INTO _reconcile.history (client, plan_hash, mode, phase, statements, duration_ms, tool_version) \
         VALUES ($1, $2, $3, $4::integer, $5::jsonb, $6::bigint, $7)",
        &[
            client.as_deref(),
            Some(plan_hash),
            Some(mode),
            phase.as_deref(),
            Some(&statements),
            Some(&duration),
            Some(env!("CARGO_PKG_VERSION")),
        ],
    )
    .await
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
                      duration_ms AS \"durationMs\", tool_version AS \"toolVersion\" \
               FROM _reconcile.history ORDER BY id DESC LIMIT {limit}) x"
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
    let json = crate::db::first_value(&rows).unwrap_or("[]");
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
            plan_hash: r.plan_hash,
            mode: r.mode,
            phase: r.phase,
            statements: r.statements,
            duration_ms: r.duration_ms,
            tool_version: r.tool_version,
        })
        .collect())
}
