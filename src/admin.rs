//! Admin HTTP endpoints (SPEC §5): health, dry-run and migrate, behind a token,
//! for platforms where a deploy cannot run a command. A router that an axum or
//! hyper application can mount; `reconcile serve` is the thin binary around it.
//! Plan and apply are the library's own: no second implementation.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::apply::{ApplyError, ApplyOptions};
use crate::{Error, Target};

/// The shortest accepted ADMIN_TOKEN.
pub const MIN_TOKEN_LEN: usize = 32;

/// Where log lines go (stderr by default); never given the token.
pub type LogSink = Arc<dyn Fn(&str) + Send + Sync>;

#[derive(Clone)]
pub struct AdminConfig {
    pub schema_dir: PathBuf,
    /// None: DATABASE_URL, then the libpq variables.
    pub database_url: Option<String>,
    /// ADMIN_TOKEN
    pub token: Option<String>,
    /// APP_ENV, else NODE_ENV, else `development`
    pub env_name: String,
    /// RUN_MIGRATIONS_ON_BOOT
    pub migrations_on_boot: bool,
    pub apply: ApplyOptions,
}

impl AdminConfig {
    /// Read the configuration from the environment (SPEC §5).
    pub fn from_env(schema_dir: PathBuf, database_url: Option<String>) -> AdminConfig {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        AdminConfig {
            schema_dir,
            database_url,
            token: var("ADMIN_TOKEN"),
            env_name: var("APP_ENV")
                .or_else(|| var("NODE_ENV"))
                .unwrap_or_else(|| "development".into()),
            migrations_on_boot: var("RUN_MIGRATIONS_ON_BOOT").is_some_and(|v| is_true(&v)),
            apply: online_options(
                ApplyOptions::default(),
                var("RECONCILE_ONLINE").is_some_and(|v| is_true(&v)),
            ),
        }
    }
}

/// With `online`, the options of `apply --online` (its shorter lock timeout).
fn online_options(opts: ApplyOptions, online: bool) -> ApplyOptions {
    if online && !opts.online {
        ApplyOptions {
            online,
            lock_timeout: crate::apply::ONLINE_LOCK_TIMEOUT,
            ..opts
        }
    } else {
        opts
    }
}

/// `?online=true` (any true spelling) in a query string.
fn online_requested(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        q.split('&')
            .filter_map(|pair| pair.strip_prefix("online="))
            .any(is_true)
    })
}

fn is_true(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on"
    )
}

/// How the migrations at boot went.
#[derive(Clone, Debug)]
pub enum BootStatus {
    Skipped,
    Running,
    Applied {
        statements: usize,
        plan_hash: String,
    },
    Failed(String),
}

struct Inner {
    config: AdminConfig,
    boot: Mutex<BootStatus>,
    log: LogSink,
    /// Held (shared) by every apply; shutdown takes it exclusively, so it waits
    /// for an apply in progress to commit or roll back.
    applying: tokio::sync::RwLock<()>,
}

#[derive(Clone)]
pub struct AdminState(Arc<Inner>);

impl AdminState {
    pub fn new(config: AdminConfig, log: LogSink) -> AdminState {
        AdminState(Arc::new(Inner {
            config,
            boot: Mutex::new(BootStatus::Skipped),
            log,
            applying: tokio::sync::RwLock::new(()),
        }))
    }

    fn target(&self) -> Target {
        Target {
            schema_dir: self.0.config.schema_dir.clone(),
            database_url: self.0.config.database_url.clone(),
        }
    }

    fn log(&self, line: &str) {
        (self.0.log)(line);
    }

    /// Wait until no apply is in progress, and keep new ones from starting.
    pub async fn drain(&self) {
        let _exclusive = self.0.applying.write().await;
        self.log(&log_line(
            "info",
            "no apply in progress; shutting down",
            json!({}),
        ));
    }
}

/// The stderr sink.
pub fn stderr_log() -> LogSink {
    Arc::new(|line: &str| eprintln!("{line}"))
}

fn log_line(level: &str, msg: &str, fields: Value) -> String {
    let mut v = json!({ "ts": now_rfc3339(), "level": level, "msg": msg });
    if let (Some(obj), Value::Object(extra)) = (v.as_object_mut(), fields) {
        obj.extend(extra);
    }
    v.to_string()
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// The admin routes, with request logging.
pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/__admin/health", get(health).fallback(only_get))
        .route("/__admin/migrate/dry-run", get(dry_run).fallback(only_get))
        .route(
            "/__admin/migrate",
            axum::routing::post(migrate).fallback(only_post),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), log_requests))
        .with_state(state)
}

/// One structured line per admin call: method, path (never the query string), status, duration.
async fn log_requests(State(state): State<AdminState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    state.log(&log_line(
        "info",
        "admin request",
        json!({
            "method": method.as_str(),
            "path": path,
            "status": response.status().as_u16(),
            "durationMs": started.elapsed().as_millis() as u64,
        }),
    ));
    response
}

fn error(status: StatusCode, message: impl Into<String>, extra: Value) -> Response {
    let mut body = json!({ "success": false, "error": message.into() });
    if let (Some(obj), Value::Object(extra)) = (body.as_object_mut(), extra) {
        obj.extend(extra);
    }
    (status, Json(body)).into_response()
}

/// 405 with the `Allow` header and a JSON body.
fn method_not_allowed(allow: &'static str, message: &str) -> Response {
    let mut r = error(StatusCode::METHOD_NOT_ALLOWED, message, json!({}));
    r.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static(allow));
    r
}

async fn only_post() -> Response {
    method_not_allowed("POST", "Method not allowed: use POST /__admin/migrate")
}

async fn only_get() -> Response {
    method_not_allowed("GET", "Method not allowed: use GET")
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "Not found: the admin endpoints are GET /__admin/health, GET /__admin/migrate/dry-run and POST /__admin/migrate",
        json!({}),
    )
}

/// Constant-time comparison: the time taken does not depend on where the strings differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= (x ^ y) as usize;
    }
    diff == 0
}

/// The token from `Authorization: Bearer <token>` or `?token=<token>`.
fn presented_token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(t) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
        {
            return Some(t.trim().to_string());
        }
    }
    let query = query?;
    for pair in query.split('&') {
        if let Some(v) = pair.strip_prefix("token=") {
            return Some(percent_decode(v));
        }
    }
    None
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `None` when the request carries the right token; else the response to send.
fn refuse_unauthorized(
    state: &AdminState,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Option<Response> {
    let Some(expected) = state
        .0
        .config
        .token
        .as_deref()
        .filter(|t| t.len() >= MIN_TOKEN_LEN)
    else {
        return Some(error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "Admin endpoints are disabled: ADMIN_TOKEN is unset or shorter than {MIN_TOKEN_LEN} characters. \
                 Set ADMIN_TOKEN to a random secret of at least {MIN_TOKEN_LEN} characters (for example: openssl rand -hex 32) and restart."
            ),
            json!({}),
        ));
    };
    match presented_token(headers, query) {
        Some(t) if constant_time_eq(t.as_bytes(), expected.as_bytes()) => None,
        _ => Some(error(
            StatusCode::UNAUTHORIZED,
            "Invalid admin token",
            json!({}),
        )),
    }
}

async fn health(State(state): State<AdminState>) -> Response {
    let database = match database_ok(&state).await {
        Ok(()) => "ok".to_string(),
        Err(e) => format!("error: {e}"),
    };
    let boot = state.0.boot.lock().expect("boot status").clone();
    let mut body = json!({
        "status": if database == "ok" && !matches!(boot, BootStatus::Failed(_)) { "ok" } else { "degraded" },
        "timestamp": now_rfc3339(),
        "env": state.0.config.env_name,
        "migrationsEnabled": state.0.config.migrations_on_boot,
        "database": if database == "ok" { "ok" } else { "error" },
    });
    if database != "ok" {
        body["databaseError"] = json!(database.trim_start_matches("error: "));
    }
    match boot {
        BootStatus::Skipped => {}
        BootStatus::Running => body["bootMigration"] = json!({ "status": "running" }),
        BootStatus::Applied {
            statements,
            plan_hash,
        } => {
            body["bootMigration"] =
                json!({ "status": "applied", "statements": statements, "planHash": plan_hash })
        }
        BootStatus::Failed(e) => body["bootMigration"] = json!({ "status": "failed", "error": e }),
    }
    (StatusCode::OK, Json(body)).into_response()
}

async fn database_ok(state: &AdminState) -> Result<(), Error> {
    let config = crate::db::config_from(state.0.config.database_url.as_deref())?;
    let db = tokio::time::timeout(Duration::from_secs(5), crate::db::Db::connect(&config))
        .await
        .map_err(|_| Error::Other("timed out connecting".into()))??;
    db.simple("SELECT 1").await?;
    Ok(())
}

/// The status and body of a library error.
fn error_response(e: &Error) -> Response {
    match e {
        Error::Db(crate::db::DbError::Connect { .. }) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("Database unreachable: {e}"),
            json!({}),
        ),
        Error::Load(l) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Invalid schema files: {e}"),
            json!({ "diagnostics": l.0 }),
        ),
        Error::Sql(s) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("SQL error: {}", s.message),
            json!({ "sql": s }),
        ),
        _ => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), json!({})),
    }
}

async fn dry_run(
    State(state): State<AdminState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    if let Some(r) = refuse_unauthorized(&state, &headers, uri.query()) {
        return r;
    }
    match crate::plan(&state.target()).await {
        Err(e) => error_response(&e),
        Ok(outcome) => {
            let p = outcome.plan;
            (
                StatusCode::OK,
                Json(json!({
                    "success": true,
                    "dryRun": true,
                    "result": {
                        "wouldExecute": p.statements.iter().map(|s| &s.id).collect::<Vec<_>>(),
                        "wouldSkip": p.in_sync.iter().map(|t| format!("table:{t}")).collect::<Vec<_>>(),
                        "totalSteps": p.statements.len(),
                        "sql": p.statements.iter().map(|s| &s.sql).collect::<Vec<_>>(),
                        "refused": p.refused,
                        "planHash": p.plan_hash,
                    }
                })),
            )
                .into_response()
        }
    }
}

async fn migrate(
    State(state): State<AdminState>,
    method: Method,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    debug_assert_eq!(method, Method::POST);
    if let Some(r) = refuse_unauthorized(&state, &headers, uri.query()) {
        return r;
    }
    let opts = online_options(state.0.config.apply.clone(), online_requested(uri.query()));
    // The apply runs in a task of its own: a client that goes away does not cut it in half.
    let task_state = state.clone();
    let task = tokio::spawn(async move { run_apply(&task_state, &opts).await });
    match task.await {
        Ok(r) => r,
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the apply task failed: {e}"),
            json!({}),
        ),
    }
}

fn ms(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

async fn run_apply(state: &AdminState, opts: &ApplyOptions) -> Response {
    let Ok(_guard) = state.0.applying.try_read() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Shutting down: no new apply is started",
            json!({}),
        );
    };
    let started = Instant::now();
    let result = crate::apply_target(&state.target(), opts, &mut |_| {}).await;
    match result {
        Ok(applied) => {
            let executed: Vec<&String> = applied.timings.iter().map(|(id, _)| id).collect();
            let timings: BTreeMap<&String, String> =
                applied.timings.iter().map(|(id, d)| (id, ms(*d))).collect();
            state.log(&log_line(
                "info",
                "migrate applied",
                json!({ "statements": executed.len(), "planHash": applied.plan.plan_hash, "mode": applied.mode }),
            ));
            let mut result = json!({
                "executed": executed,
                "skipped": applied.plan.in_sync.iter().map(|t| format!("table:{t}")).collect::<Vec<_>>(),
                "timings": timings,
                "totalTime": ms(started.elapsed()),
                "planHash": applied.plan.plan_hash,
            });
            if opts.online {
                result["phases"] = applied
                    .phases
                    .iter()
                    .map(|p| json!({ "phase": p.phase, "executed": p.executed, "totalTime": ms(p.total) }))
                    .collect();
            }
            (
                StatusCode::OK,
                Json(json!({ "success": true, "result": result })),
            )
                .into_response()
        }
        Err(e) => apply_error_response(&e),
    }
}

fn apply_error_response(e: &ApplyError) -> Response {
    match e {
        ApplyError::Refused { plan } => error(
            StatusCode::CONFLICT,
            format!(
                "{} change(s) refused; nothing was applied",
                plan.refused.len()
            ),
            json!({ "refused": plan.refused, "planHash": plan.plan_hash }),
        ),
        ApplyError::PlanChanged {
            expected, actual, ..
        } => error(
            StatusCode::CONFLICT,
            e.to_string(),
            json!({ "expectedPlanHash": expected, "planHash": actual }),
        ),
        ApplyError::LockTimeout {
            our_pid,
            blockers,
            statement,
            ..
        } => error(
            StatusCode::SERVICE_UNAVAILABLE,
            e.to_string(),
            json!({ "statement": statement, "pid": our_pid, "blockers": blockers }),
        ),
        ApplyError::Statement {
            id,
            error: sql,
            committed,
        } => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("SQL error in {id}: {}", sql.message),
            json!({ "step": id, "sql": sql, "committed": committed }),
        ),
        ApplyError::Pooled { committed, .. } => error(
            StatusCode::SERVICE_UNAVAILABLE,
            e.to_string(),
            json!({ "committed": committed }),
        ),
        ApplyError::Verification { .. } => {
            error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), json!({}))
        }
        ApplyError::Stopped {
            error: inner,
            committed,
        } => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            e.to_string(),
            json!({ "committed": committed, "cause": inner.to_string() }),
        ),
        ApplyError::Busy { .. } => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string(), json!({})),
        ApplyError::OnlineUnfinished { remaining } => error(
            StatusCode::CONFLICT,
            e.to_string(),
            json!({ "remaining": remaining }),
        ),
        ApplyError::TransactionEnded { .. } => {
            error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), json!({}))
        }
        ApplyError::Other(inner) => error_response(inner),
    }
}

/// What happens at start: the two `[BOOT]` lines, or an apply whose outcome is logged.
/// A failure is logged and kept for health; the server starts anyway.
pub async fn boot(state: &AdminState) {
    if !state.0.config.migrations_on_boot {
        state.log("[BOOT] Migrations skipped (RUN_MIGRATIONS_ON_BOOT=false)");
        state.log("[BOOT] To run migrations, use: POST /__admin/migrate");
        return;
    }
    state.log("[BOOT] Running migrations (RUN_MIGRATIONS_ON_BOOT=true)");
    *state.0.boot.lock().expect("boot status") = BootStatus::Running;
    let _guard = state.0.applying.read().await;
    let status =
        match crate::apply_target(&state.target(), &state.0.config.apply, &mut |_| {}).await {
            Ok(applied) => {
                state.log(&format!(
                    "[BOOT] Migrations applied: {} statement(s), plan hash {}",
                    applied.timings.len(),
                    applied.plan.plan_hash
                ));
                BootStatus::Applied {
                    statements: applied.timings.len(),
                    plan_hash: applied.plan.plan_hash,
                }
            }
            Err(e) => {
                let reason = e.to_string();
                state.log(&format!("[BOOT] Migrations failed: {reason}"));
                BootStatus::Failed(reason)
            }
        };
    *state.0.boot.lock().expect("boot status") = status;
}

/// Serve until `shutdown` resolves; then let an apply in progress finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AdminState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    state.log(&log_line(
        "info",
        "admin server listening",
        json!({ "addr": addr.to_string() }),
    ));
    boot(&state).await;
    axum::serve(listener, router(state.clone()))
        .with_graceful_shutdown(shutdown)
        .await?;
    state.drain().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    #[test]
    fn token_from_header_or_query() {
        let mut h = HeaderMap::new();
        assert_eq!(
            presented_token(&h, Some("a=1&token=x%2By")),
            Some("x+y".into())
        );
        h.insert(header::AUTHORIZATION, "Bearer secret".parse().unwrap());
        assert_eq!(presented_token(&h, None), Some("secret".into()));
    }
}
