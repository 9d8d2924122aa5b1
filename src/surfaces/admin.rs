//! Admin HTTP endpoints (SPEC §5): health, dry-run and migrate, behind a token,
//! for platforms where a deploy cannot run a command. A router that an axum or
//! hyper application can mount; `reconcile serve` is the thin binary around it.
//! Plan and apply are the library's own: no second implementation.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::apply::{ApplyError, ApplyOptions};
use crate::catalog::history::via;
use crate::pipeline::Target;
use crate::surfaces::answer;
use crate::Error;

mod listen;
mod log;
mod page;
pub use listen::{Listener, Stream};
pub use log::log_line;
use log::{now_rfc3339, Reason};

/// The shortest accepted ADMIN_TOKEN.
pub const MIN_TOKEN_LEN: usize = 32;

/// Where log lines go (stderr by default); never given the token.
pub type LogSink = Arc<dyn Fn(&str) + Send + Sync>;

/// How long a client has to send a request's line and headers, counted from the
/// moment the server waits for them (a new connection, or the next request on
/// a kept-alive one); then the connection is closed (slowloris).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a kept-alive connection may sit with no request in progress after
/// its last answer before the server closes it.
pub const KEEP_ALIVE_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a request other than a migrate may take, from its headers to
/// its answer; then it is answered 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest `POST /__admin/migrate` waits for its apply before answering
/// 503; the apply itself goes on to its end and its outcome is logged.
pub const MIGRATE_REQUEST_TIMEOUT: Duration = Duration::from_secs(600);
/// The most connections served at once. When full, the oldest connection with
/// no request in progress is closed to make room; when every one has a request
/// in progress, the new connection is closed at once.
pub const MAX_CONNECTIONS: usize = 512;
/// The largest request body accepted (the endpoints read none): larger is 413.
pub const MAX_REQUEST_BODY: usize = 16 * 1024;
/// The most bytes of request line and headers (hyper's read buffer; 8 KiB at least).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The most header fields in a request.
pub const MAX_HEADERS: usize = 64;
/// How long health reuses its last database probe.
pub const HEALTH_CACHE_TTL: Duration = Duration::from_secs(5);
/// The longest a health probe (connect and `SELECT 1`) may take; then the database is `error`.
pub const HEALTH_PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// The most dry-run and migrate calls that work on the database at once;
/// more wait their turn (within their request timeout).
pub const MAX_CONCURRENT_DB_REQUESTS: usize = 4;

/// The server's timeouts and limits; `Default` is the constants above.
#[derive(Clone, Debug)]
pub struct Limits {
    /// [`HEADER_READ_TIMEOUT`]; `RECONCILE_HEADER_READ_TIMEOUT` (e.g. `2s`) overrides it.
    pub header_read_timeout: Duration,
    /// [`KEEP_ALIVE_IDLE_TIMEOUT`]
    pub keep_alive_idle_timeout: Duration,
    /// [`REQUEST_TIMEOUT`]
    pub request_timeout: Duration,
    /// [`MIGRATE_REQUEST_TIMEOUT`]
    pub migrate_request_timeout: Duration,
    /// [`MAX_CONNECTIONS`]; `RECONCILE_MAX_CONNECTIONS` overrides it.
    pub max_connections: usize,
    /// [`MAX_REQUEST_BODY`]
    pub max_request_body: usize,
    /// [`HEALTH_CACHE_TTL`]
    pub health_cache_ttl: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read_timeout: HEADER_READ_TIMEOUT,
            keep_alive_idle_timeout: KEEP_ALIVE_IDLE_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            migrate_request_timeout: MIGRATE_REQUEST_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            max_request_body: MAX_REQUEST_BODY,
            health_cache_ttl: HEALTH_CACHE_TTL,
        }
    }
}

/// An environment variable's value, unless it is unset or empty.
fn env_var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

impl Limits {
    /// The defaults, with `RECONCILE_HEADER_READ_TIMEOUT` (a duration such as
    /// `500ms` or `30s`) and `RECONCILE_MAX_CONNECTIONS` (a positive number) in
    /// place of theirs when set; an unreadable value is reported on stderr (a
    /// `warn` log line) and ignored.
    pub fn from_env() -> Limits {
        let mut limits = Limits::default();
        if let Some(v) = env_var("RECONCILE_HEADER_READ_TIMEOUT") {
            match humantime::parse_duration(&v) {
                Ok(d) if !d.is_zero() => limits.header_read_timeout = d,
                _ => eprintln!(
                    "{}",
                    log_line(
                        "warn",
                        "ignoring RECONCILE_HEADER_READ_TIMEOUT: not a duration such as 10s",
                        json!({ "value": v })
                    )
                ),
            }
        }
        if let Some(v) = env_var("RECONCILE_MAX_CONNECTIONS") {
            match v.parse::<usize>() {
                Ok(n) if n > 0 => limits.max_connections = n,
                _ => eprintln!(
                    "{}",
                    log_line(
                        "warn",
                        "ignoring RECONCILE_MAX_CONNECTIONS: not a positive number",
                        json!({ "value": v })
                    )
                ),
            }
        }
        limits
    }
}

/// What the admin endpoints serve and how (SPEC §5).
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
    /// The server's timeouts and limits.
    pub limits: Limits,
}

impl AdminConfig {
    /// Read the configuration from the environment (SPEC §5), with `schema_dir`
    /// and `database_url` (None: `DATABASE_URL`, then the libpq variables) as given.
    pub fn from_env(schema_dir: PathBuf, database_url: Option<String>) -> AdminConfig {
        AdminConfig {
            schema_dir,
            database_url,
            token: env_var("ADMIN_TOKEN"),
            env_name: env_var("APP_ENV")
                .or_else(|| env_var("NODE_ENV"))
                .unwrap_or_else(|| "development".into()),
            migrations_on_boot: env_var("RUN_MIGRATIONS_ON_BOOT").is_some_and(|v| is_true(&v)),
            apply: online_options(
                ApplyOptions::default(),
                env_var("RECONCILE_ONLINE").is_some_and(|v| is_true(&v)),
            ),
            limits: Limits::from_env(),
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
        query_values(q, "online")
            .iter()
            .any(|v| std::str::from_utf8(v).is_ok_and(is_true))
    })
}

/// `?expectPlan=HASH`: the last value given, when it is text.
fn expected_plan(query: Option<&str>) -> Option<String> {
    let values = query_values(query?, "expectPlan");
    let last = values.last()?;
    std::str::from_utf8(last)
        .ok()
        .map(str::to_string)
        .filter(|v| !v.is_empty())
}

/// Every value of `name` in a query string, decoded as a form is (`+` is a
/// space, `%XX` a byte) into bytes: any input is read, none is sliced.
fn query_values(query: &str, name: &str) -> Vec<Vec<u8>> {
    query
        .as_bytes()
        .split(|&b| b == b'&')
        .filter_map(|pair| {
            let (k, v) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            (form_decode(k) == name.as_bytes()).then(|| form_decode(v))
        })
        .collect()
}

/// `application/x-www-form-urlencoded` decoding of one key or value, to bytes.
fn form_decode(s: &[u8]) -> Vec<u8> {
    let spaced: Vec<u8> = s
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_encoding::percent_decode(&spaced).collect()
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
    /// The last health probe: when, and how it went. Held while a probe runs,
    /// so that there is one at a time and the callers waiting get its answer.
    probe: tokio::sync::Mutex<Option<(Instant, Result<(), String>)>>,
    /// A permit per dry-run or migrate working on the database.
    db_requests: Arc<tokio::sync::Semaphore>,
}

/// The admin endpoints' shared state: the configuration, the boot status, the
/// health cache and the apply lock. Cheap to clone.
#[derive(Clone)]
pub struct AdminState(Arc<Inner>);

impl AdminState {
    /// The state for `config`, logging to `log`.
    pub fn new(config: AdminConfig, log: LogSink) -> AdminState {
        AdminState(Arc::new(Inner {
            config,
            boot: Mutex::new(BootStatus::Skipped),
            log,
            applying: tokio::sync::RwLock::new(()),
            probe: tokio::sync::Mutex::new(None),
            db_requests: Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_DB_REQUESTS)),
        }))
    }

    fn target(&self) -> Target {
        Target {
            schema_dir: self.0.config.schema_dir.clone(),
            database_url: self.0.config.database_url.clone(),
            // The files' `exclude` key covers `serve`.
            exclude: Vec::new(),
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

/// The admin routes for `state`, with request logging, the request timeouts
/// and the body limit of its [`Limits`]; mountable in an axum application.
pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/__admin/health", get(health).fallback(only_get))
        .route("/__admin/migrate/dry-run", get(dry_run).fallback(only_get))
        .route(
            "/__admin/migrate",
            axum::routing::post(migrate).fallback(only_post),
        )
        .route(
            "/__admin/prune/dry-run",
            get(prune_dry_run).fallback(only_get),
        )
        .route(
            "/__admin/prune",
            axum::routing::post(prune).fallback(only_post),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limit_requests,
        ))
        // Pages for a browser; inside the log layer, which logs their status.
        .layer(middleware::from_fn(page::html_answers))
        .layer(middleware::from_fn_with_state(state.clone(), log_requests))
        .with_state(state)
}

/// One structured line per admin call: method, path (never the query string),
/// status, duration; a failed call's line is `warn` or `error` and carries
/// its reason (`error`, and the refusals, the SQL error, ... of [`Reason`]).
async fn log_requests(State(state): State<AdminState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status();
    let reason = response.extensions().get::<Reason>();
    let mut fields = json!({
        "method": method.as_str(),
        "path": path,
        "status": status.as_u16(),
        "durationMs": started.elapsed().as_millis() as u64,
    });
    if let (Some(obj), Some(Value::Object(why))) =
        (fields.as_object_mut(), reason.map(|r| &r.fields))
    {
        for (k, v) in why {
            obj.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let level = reason.map_or(log::level_of(status), |r| r.level);
    state.log(&log_line(level, "admin request", fields));
    response
}

/// A body declared larger than [`Limits::max_request_body`] is refused (413;
/// the endpoints read no body); a request that takes longer than its timeout is
/// answered 503.
async fn limit_requests(State(state): State<AdminState>, req: Request, next: Next) -> Response {
    let limits = &state.0.config.limits;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_request_body as u64) {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Request body too large: the admin endpoints take at most {} bytes",
                limits.max_request_body
            ),
            json!({}),
        );
    }
    let migrate = matches!(req.uri().path(), "/__admin/migrate" | "/__admin/prune");
    let timeout = if migrate {
        limits.migrate_request_timeout
    } else {
        limits.request_timeout
    };
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) if migrate => error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "No answer within {}: an apply that started goes on to its end and its outcome is logged; \
                 GET /__admin/migrate/dry-run shows what is left to do",
                humantime::format_duration(timeout)
            ),
            json!({}),
        ),
        Err(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("No answer within {}", humantime::format_duration(timeout)),
            json!({}),
        ),
    }
}

/// A failure's answer: `{"success": false, "error": message, ...extra}`,
/// carrying the message to the request's log line.
fn error(status: StatusCode, message: impl Into<String>, extra: Value) -> Response {
    failed(status, answer::failure(message, extra))
}

/// A failure's response: `body` (an `answer`), and for its log line the
/// level of `status` and the body's `error`.
fn failed(status: StatusCode, body: Value) -> Response {
    let reason = Reason {
        level: log::level_of(status),
        fields: json!({ "error": body["error"] }),
    };
    let mut r = (status, Json(body)).into_response();
    r.extensions_mut().insert(reason);
    r
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

/// The token from `Authorization: Bearer <token>` or `?token=<token>` (percent-decoded), as bytes.
fn presented_token(headers: &HeaderMap, query: Option<&str>) -> Option<Vec<u8>> {
    if let Some(v) = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes()) {
        if let Some(t) = v
            .get(..7)
            .filter(|scheme| scheme.eq_ignore_ascii_case(b"Bearer "))
            .and_then(|_| v.get(7..))
        {
            return Some(t.trim_ascii().to_vec());
        }
    }
    query_values(query?, "token").into_iter().next()
}

/// `None` when the request carries the right token; else the response to send.
fn refuse_unauthorized(
    state: &AdminState,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Option<Response> {
    if configured_token(state).is_none() {
        let mut r = error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "Admin endpoints are disabled: ADMIN_TOKEN is unset or shorter than {MIN_TOKEN_LEN} characters. \
                 Set ADMIN_TOKEN to a random secret of at least {MIN_TOKEN_LEN} characters (for example: openssl rand -hex 32) and restart."
            ),
            json!({}),
        );
        // The log says what is wrong; how to make a token is for the caller.
        let why = format!(
            "Admin endpoints are disabled: ADMIN_TOKEN is {}",
            match log::token_status(state.0.config.token.as_deref()) {
                "unset" => "unset".to_string(),
                _ => format!("shorter than {MIN_TOKEN_LEN} characters"),
            }
        );
        log::add_reason(&mut r, "error", json!({ "error": why }));
        return Some(r);
    }
    if token_accepted(state, headers, query) {
        None
    } else {
        Some(error(
            StatusCode::UNAUTHORIZED,
            "Invalid admin token",
            json!({}),
        ))
    }
}

/// ADMIN_TOKEN, when it is long enough to be used.
fn configured_token(state: &AdminState) -> Option<&str> {
    state
        .0
        .config
        .token
        .as_deref()
        .filter(|t| t.len() >= MIN_TOKEN_LEN)
}

/// Whether the request presents the configured token (compared in constant
/// time), or a browser's cookie that stands for it (`page::cookie_accepted`).
fn token_accepted(state: &AdminState, headers: &HeaderMap, query: Option<&str>) -> bool {
    configured_token(state).is_some_and(|expected| {
        presented_token(headers, query).is_some_and(|t| constant_time_eq(&t, expected.as_bytes()))
            || page::cookie_accepted(headers, expected)
    })
}

/// SPEC §5's health: `status`, `timestamp`, `env`, `migrationsEnabled` and
/// `database` ("ok" or "error"), nothing more. Why the database is in error and
/// how the boot migration went go to the log, and are added (`databaseError`,
/// `bootMigration`) only for a caller presenting the token.
async fn health(
    State(state): State<AdminState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let database = database_status(&state).await;
    let boot = lock(&state.0.boot).clone();
    let mut body = json!({
        "status": if database.is_ok() && !matches!(boot, BootStatus::Failed(_)) { "ok" } else { "degraded" },
        "timestamp": now_rfc3339(),
        "env": state.0.config.env_name,
        "migrationsEnabled": state.0.config.migrations_on_boot,
        "database": if database.is_ok() { "ok" } else { "error" },
    });
    if !token_accepted(&state, &headers, uri.query()) {
        return (StatusCode::OK, Json(body)).into_response();
    }
    if let Err(e) = database {
        body["databaseError"] = json!(e);
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

/// The mutex's value, also after a panic elsewhere poisoned it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether the database answers, as last probed: the probe is reused for
/// [`Limits::health_cache_ttl`], and one runs at a time (callers arriving
/// meanwhile wait for it and take its answer), so a flood of health calls
/// holds at most one database connection. A failure is logged (the settings
/// described, never the password) and its text returned.
async fn database_status(state: &AdminState) -> Result<(), String> {
    let mut last = state.0.probe.lock().await;
    if let Some((at, outcome)) = last.as_ref() {
        if at.elapsed() < state.0.config.limits.health_cache_ttl {
            return outcome.clone();
        }
    }
    let outcome = match tokio::time::timeout(HEALTH_PROBE_TIMEOUT, database_ok(state)).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "no answer within {}",
            humantime::format_duration(HEALTH_PROBE_TIMEOUT)
        )),
    };
    if let Err(e) = &outcome {
        state.log(&log_line(
            "warn",
            "health: database unreachable",
            json!({ "error": e }),
        ));
    }
    *last = Some((Instant::now(), outcome.clone()));
    outcome
}

async fn database_ok(state: &AdminState) -> Result<(), Error> {
    let config = crate::connect::db::config_from_warning(
        state.0.config.database_url.as_deref(),
        &mut |w| {
            state.log(&log_line(
                "warn",
                "connection settings",
                json!({ "warning": w }),
            ))
        },
    )?;
    let db = crate::connect::db::Db::connect(&config).await?;
    db.simple("SELECT 1").await?;
    Ok(())
}

/// The status and body of a library error (the body: `answer::error`); its
/// log line carries the SQL error or the files' diagnostics.
fn error_response(e: &Error) -> Response {
    let status = match e {
        Error::Db(crate::connect::db::DbError::Connect { .. }) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut r = failed(status, answer::error(e));
    let (level, fields) = log::error_failure(e);
    log::add_reason(&mut r, level, fields);
    r
}

/// A token endpoint's admission: the token checked, then a database permit.
async fn admitted<'a>(
    state: &'a AdminState,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
) -> Result<tokio::sync::SemaphorePermit<'a>, Response> {
    if let Some(r) = refuse_unauthorized(state, headers, uri.query()) {
        return Err(r);
    }
    state
        .0
        .db_requests
        .acquire()
        .await
        .map_err(|_| shutting_down())
}

async fn dry_run(
    State(state): State<AdminState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let _permit = match admitted(&state, &headers, &uri).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let html = page::prefers_html(&headers);
    if let Some(r) = configured_token(&state)
        .filter(|_| html)
        .and_then(|t| page::leave_token_url(&headers, &uri, t))
    {
        return r;
    }
    match crate::pipeline::plan(&state.target()).await {
        Err(e) => error_response(&e),
        Ok(outcome) if html => {
            // The last apply, when the history can be read (else not shown).
            let url = state.0.config.database_url.as_deref();
            let last = crate::pipeline::history_target(url, 1).await.ok();
            page::dry_run(&outcome, last.as_ref().and_then(|h| h.first()))
        }
        Ok(outcome) => {
            let p = outcome.plan;
            // A refused change blocks the migrate: the dry-run says so.
            let mut body = json!({ "success": p.refused.is_empty(), "dryRun": true });
            if !p.refused.is_empty() {
                body["blocked"] = json!(true);
            }
            body["result"] = json!({
                        "wouldExecute": p.statements.iter().map(|s| &s.id).collect::<Vec<_>>(),
                        "wouldSkip": p.in_sync.iter().map(|t| format!("table:{t}")).collect::<Vec<_>>(),
                        "totalSteps": p.statements.len(),
                        "sql": p.statements.iter().map(|s| &s.sql).collect::<Vec<_>>(),
                        "refused": p.refused,
                        "planHash": p.plan_hash,
                        // The third side, and why it could not be compared, if it could not.
                        "appliedFiles": p.applied_files,
            });
            (StatusCode::OK, Json(body)).into_response()
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
    let mut opts = online_options(state.0.config.apply.clone(), online_requested(uri.query()));
    opts.via = via::HTTP_MIGRATE.into();
    if let Some(hash) = expected_plan(uri.query()) {
        opts.expect_plan = Some(hash);
    }
    in_own_task(&state, "apply", move |state| async move {
        run_apply(&state, &opts).await
    })
    .await
}

/// Run `work` in a task of its own, holding a database permit: a client
/// that goes away, or a request timeout, does not cut an apply or a prune in half.
async fn in_own_task<F, W>(state: &AdminState, what: &str, work: W) -> Response
where
    W: FnOnce(AdminState) -> F + Send + 'static,
    F: std::future::Future<Output = Response> + Send + 'static,
{
    let Ok(permit) = state.0.db_requests.clone().acquire_owned().await else {
        return shutting_down();
    };
    let task_state = state.clone();
    let task = tokio::spawn(async move {
        let response = work(task_state).await;
        drop(permit);
        response
    });
    match task.await {
        Ok(r) => r,
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the {what} task failed: {e}"),
            json!({}),
        ),
    }
}

/// `GET /__admin/prune/dry-run`: what `POST /__admin/prune` would drop, and its hash.
async fn prune_dry_run(
    State(state): State<AdminState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let _permit = match admitted(&state, &headers, &uri).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    match crate::pipeline::prune_plan_target(&state.target()).await {
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
                        "totalSteps": p.statements.len(),
                        "sql": p.statements.iter().map(|s| &s.sql).collect::<Vec<_>>(),
                        "locks": p.statements.iter().map(|s| json!({ "id": s.id, "lock": s.lock })).collect::<Vec<_>>(),
                        "planHash": p.plan_hash,
                    }
                })),
            )
                .into_response()
        }
    }
}

/// `POST /__admin/prune?expectPlan=HASH`: prune, only when the prune plan
/// is still the one a dry-run showed (409 without the hash or on another plan).
async fn prune(
    State(state): State<AdminState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    if let Some(r) = refuse_unauthorized(&state, &headers, uri.query()) {
        return r;
    }
    let Some(expected) = expected_plan(uri.query()) else {
        return error(
            StatusCode::CONFLICT,
            "Prune drops data: it needs ?expectPlan=<planHash> from GET /__admin/prune/dry-run; nothing was dropped",
            json!({}),
        );
    };
    let opts = ApplyOptions {
        expect_plan: Some(expected),
        via: via::HTTP_PRUNE.into(),
        ..state.0.config.apply.clone()
    };
    in_own_task(&state, "prune", move |state| async move {
        run_prune(&state, &opts).await
    })
    .await
}

async fn run_prune(state: &AdminState, opts: &ApplyOptions) -> Response {
    let Ok(_guard) = state.0.applying.try_read() else {
        return shutting_down();
    };
    let started = Instant::now();
    match crate::pipeline::prune_target(&state.target(), opts, &mut |_| {}).await {
        Ok(pruned) => {
            state.log(&log_line(
                "info",
                "prune applied",
                json!({ "statements": pruned.timings.len(), "planHash": pruned.plan.plan_hash }),
            ));
            let body = answer::pruned(&pruned, started.elapsed());
            (StatusCode::OK, Json(body)).into_response()
        }
        Err(e) => {
            log_failure(state, "prune failed", &e);
            apply_error_response(&e)
        }
    }
}

/// The outcome line of a failed apply or prune (also when its request timed
/// out): `error` the failure, and its reason's fields, at its level.
fn log_failure(state: &AdminState, msg: &str, e: &ApplyError) {
    let (level, mut fields) = log::apply_failure(e);
    fields["error"] = json!(e.to_string());
    state.log(&log_line(level, msg, fields));
}

fn shutting_down() -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "Shutting down: no new apply is started",
        json!({}),
    )
}

async fn run_apply(state: &AdminState, opts: &ApplyOptions) -> Response {
    let Ok(_guard) = state.0.applying.try_read() else {
        return shutting_down();
    };
    let started = Instant::now();
    let result = crate::pipeline::apply_target(&state.target(), opts, &mut |_| {}).await;
    match result {
        Ok(applied) => {
            state.log(&log_line(
                "info",
                "migrate applied",
                json!({ "statements": applied.timings.len(), "planHash": applied.plan.plan_hash, "mode": applied.mode }),
            ));
            let body = answer::applied(&applied, started.elapsed(), opts.online);
            (StatusCode::OK, Json(body)).into_response()
        }
        Err(e) => {
            log_failure(state, "migrate failed", &e);
            apply_error_response(&e)
        }
    }
}

/// The status and body of a failed apply or prune; its log line carries the
/// refused rules and objects, or the step and its SQL error, ...
fn apply_error_response(e: &ApplyError) -> Response {
    let mut r = apply_error_body(e);
    let (level, fields) = log::apply_failure(e);
    log::add_reason(&mut r, level, fields);
    r
}

/// The status of a failed apply or prune, and its body (`answer::apply_error`).
fn apply_error_body(e: &ApplyError) -> Response {
    let status = match e {
        ApplyError::Refused { .. }
        | ApplyError::PlanChanged { .. }
        | ApplyError::OnlineUnfinished { .. } => StatusCode::CONFLICT,
        ApplyError::LockTimeout { .. } | ApplyError::Pooled { .. } | ApplyError::Busy { .. } => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ApplyError::Other(inner) => return error_response(inner),
        ApplyError::Statement { .. }
        | ApplyError::Verification { .. }
        | ApplyError::Stopped { .. }
        | ApplyError::TransactionEnded { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    };
    failed(status, answer::apply_error(e))
}

/// What happens at start: the two `[BOOT]` lines, or an apply whose outcome is logged.
/// A failure is logged and kept for health; the server starts anyway.
pub async fn boot(state: &AdminState) {
    let info = |msg: &str| state.log(&log_line("info", msg, json!({})));
    if !state.0.config.migrations_on_boot {
        info("[BOOT] Migrations skipped (RUN_MIGRATIONS_ON_BOOT=false)");
        info("[BOOT] To run migrations, use: POST /__admin/migrate");
        return;
    }
    info("[BOOT] Running migrations (RUN_MIGRATIONS_ON_BOOT=true)");
    *lock(&state.0.boot) = BootStatus::Running;
    let _guard = state.0.applying.read().await;
    let opts = ApplyOptions {
        via: via::BOOT.into(),
        ..state.0.config.apply.clone()
    };
    let status = match crate::pipeline::apply_target(&state.target(), &opts, &mut |_| {}).await {
        Ok(applied) => {
            state.log(&log_line(
                "info",
                &format!(
                    "[BOOT] Migrations applied: {} statement(s), plan hash {}",
                    applied.timings.len(),
                    applied.plan.plan_hash
                ),
                json!({ "statements": applied.timings.len(), "planHash": applied.plan.plan_hash }),
            ));
            BootStatus::Applied {
                statements: applied.timings.len(),
                plan_hash: applied.plan.plan_hash,
            }
        }
        Err(e) => {
            let reason = e.to_string();
            let (_, mut fields) = log::apply_failure(&e);
            fields["error"] = json!(reason);
            // The server starts anyway, degraded: an error whatever the cause.
            state.log(&log_line(
                "error",
                &format!("[BOOT] Migrations failed: {reason}"),
                fields,
            ));
            BootStatus::Failed(reason)
        }
    };
    *lock(&state.0.boot) = status;
}

/// Serve the admin routes on `listener` until `shutdown` resolves: log the
/// start line (listen address, database, schema directory and its tables,
/// whether the token is usable), run the boot migration, then accept connections under `state`'s [`Limits`] (header
/// read timeout, keep-alive idle timeout, connection cap); at `shutdown`, stop
/// accepting, let the requests in progress answer, and let an apply in
/// progress commit or roll back. Errors: the listener's address cannot be read.
pub async fn serve(
    listener: Listener,
    state: AdminState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.describe()?;
    state.log(&log::start_line(&state.0.config, &addr).await);
    boot(&state).await;
    let limits = state.0.config.limits.clone();
    let service = hyper_util::service::TowerToHyperService::new(router(state.clone()));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true)
        .max_buf_size(MAX_HEADER_BYTES.max(8192))
        .max_headers(MAX_HEADERS);
    let connections = Arc::new(Connections::default());
    // Every connection task holds a receiver: `closed()` is when all have ended.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(stream) => stream,
                Err(e) => {
                    // Out of file descriptors, or a connection gone before it was
                    // taken: pause briefly rather than spin, and go on.
                    if !matches!(e.kind(), std::io::ErrorKind::ConnectionAborted | std::io::ErrorKind::ConnectionReset) {
                        connections.warn(&state, "accept failed", &e.to_string());
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    }
                    continue;
                }
            },
        };
        let Some((id, activity, evicted)) = connections.admit(limits.max_connections) else {
            connections.warn(
                &state,
                "connection limit reached and every connection has a request in progress; new connection closed",
                &format!("{} connections", limits.max_connections),
            );
            drop(stream);
            continue;
        };
        let connections = connections.clone();
        let service = service.clone();
        let http = http.clone();
        let idle_timeout = limits.keep_alive_idle_timeout;
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let _registered = Registered(connections, id);
            let counted = {
                let activity = activity.clone();
                hyper::service::service_fn(move |req| {
                    let busy = Busy::begin(activity.clone());
                    let answer = hyper::service::Service::call(&service, req);
                    async move {
                        let response = answer.await;
                        drop(busy);
                        response
                    }
                })
            };
            let conn = http.serve_connection(hyper_util::rt::TokioIo::new(stream), counted);
            let mut conn = std::pin::pin!(conn);
            let mut evicted = std::pin::pin!(evicted);
            let mut closing = false;
            loop {
                let idle_check = activity.idle_deadline(idle_timeout);
                tokio::select! {
                    // Done, or failed (a header timeout, a malformed request, the client gone).
                    _ = conn.as_mut() => break,
                    // Closed to make room: no request was in progress.
                    _ = evicted.as_mut(), if !closing => break,
                    // Shutting down: a request in progress gets its answer; a
                    // connection waiting for one (or for the rest of one) is closed now.
                    _ = stopped.changed(), if !closing => {
                        if activity.in_flight() == 0 {
                            break;
                        }
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                    _ = tokio::time::sleep_until(idle_check), if !closing => {
                        if activity.idle_for().is_some_and(|d| d >= idle_timeout) {
                            conn.as_mut().graceful_shutdown();
                            closing = true;
                        }
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(stopped);
    stop.closed().await;
    state.drain().await;
    Ok(())
}

/// How long the accept loop pauses after an error such as running out of file descriptors.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);
/// The least time between two log lines about refused or failed connections.
const CONNECTION_WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// An open connection's activity, and the sender that closes it.
type OpenConnection = (Arc<Activity>, tokio::sync::oneshot::Sender<()>);

/// The open connections, oldest first, each with its activity and the sender
/// that closes it.
#[derive(Default)]
struct Connections {
    open: Mutex<BTreeMap<u64, OpenConnection>>,
    next_id: std::sync::atomic::AtomicU64,
    last_warning: Mutex<Option<Instant>>,
}

impl Connections {
    /// Register a new connection: its id, activity and the receiver that
    /// closes it. At `max` open, the oldest with no request in progress is
    /// closed to make room; None when every one has a request in progress.
    fn admit(
        &self,
        max: usize,
    ) -> Option<(u64, Arc<Activity>, tokio::sync::oneshot::Receiver<()>)> {
        let mut open = lock(&self.open);
        while open.len() >= max {
            let oldest_idle = open
                .iter()
                .find(|(_, (activity, _))| activity.in_flight() == 0)
                .map(|(id, _)| *id)?;
            if let Some((_, close)) = open.remove(&oldest_idle) {
                let _ = close.send(());
            }
        }
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let activity = Arc::new(Activity::new());
        let (close, closed) = tokio::sync::oneshot::channel();
        open.insert(id, (activity.clone(), close));
        Some((id, activity, closed))
    }

    /// A warning about connections, at most once per [`CONNECTION_WARNING_INTERVAL`].
    fn warn(&self, state: &AdminState, msg: &str, detail: &str) {
        let mut last = lock(&self.last_warning);
        if last.is_some_and(|at| at.elapsed() < CONNECTION_WARNING_INTERVAL) {
            return;
        }
        *last = Some(Instant::now());
        state.log(&log_line("warn", msg, json!({ "detail": detail })));
    }
}

/// Takes a connection out of [`Connections`] when its task ends.
struct Registered(Arc<Connections>, u64);

impl Drop for Registered {
    fn drop(&mut self) {
        lock(&self.0.open).remove(&self.1);
    }
}

/// A connection's requests in progress, and when the last one began or ended.
struct Activity {
    in_flight: std::sync::atomic::AtomicUsize,
    /// None until a request has been answered.
    last_answered: Mutex<Option<Instant>>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            in_flight: std::sync::atomic::AtomicUsize::new(0),
            last_answered: Mutex::new(None),
        }
    }

    fn in_flight(&self) -> usize {
        self.in_flight.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How long the connection has been idle since its last answer: None while
    /// a request is in progress or before the first (the header read timeout
    /// covers that wait).
    fn idle_for(&self) -> Option<Duration> {
        if self.in_flight() > 0 {
            return None;
        }
        lock(&self.last_answered).map(|at| at.elapsed())
    }

    /// When to look again whether the connection has been idle for `timeout`.
    fn idle_deadline(&self, timeout: Duration) -> tokio::time::Instant {
        let now = tokio::time::Instant::now();
        match self.idle_for() {
            Some(idle) => now + timeout.saturating_sub(idle),
            None => now + timeout,
        }
    }
}

/// A request in progress on a connection, from its headers to its answer.
struct Busy(Arc<Activity>);

impl Busy {
    fn begin(activity: Arc<Activity>) -> Busy {
        activity
            .in_flight
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Busy(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        *lock(&self.0.last_answered) = Some(Instant::now());
        self.0
            .in_flight
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `?online=true` (or RECONCILE_ONLINE) gives apply --online's options,
    /// its shorter lock timeout included, as the command line does.
    #[test]
    fn online_options_take_the_online_lock_timeout() {
        let online = online_options(ApplyOptions::default(), true);
        assert!(online.online);
        assert_eq!(online.lock_timeout, crate::apply::ONLINE_LOCK_TIMEOUT);
        assert_ne!(
            ApplyOptions::default().lock_timeout,
            crate::apply::ONLINE_LOCK_TIMEOUT
        );
        let plain = online_options(ApplyOptions::default(), false);
        assert!(!plain.online);
        assert_eq!(plain.lock_timeout, ApplyOptions::default().lock_timeout);
    }

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
            Some(b"x+y".to_vec())
        );
        // Any bytes: a `%` before a multi-byte character, a lone `%`, invalid UTF-8.
        assert_eq!(
            presented_token(&h, Some("token=%a\u{e9}")),
            Some("%a\u{e9}".as_bytes().to_vec())
        );
        assert_eq!(presented_token(&h, Some("token=%")), Some(b"%".to_vec()));
        assert_eq!(
            presented_token(&h, Some("token=%ff%c3")),
            Some(vec![0xff, 0xc3])
        );
        assert_eq!(presented_token(&h, Some("online=1")), None);
        h.insert(header::AUTHORIZATION, "Bearer secret".parse().unwrap());
        assert_eq!(presented_token(&h, None), Some(b"secret".to_vec()));
        h.insert(header::AUTHORIZATION, "bearer  secret ".parse().unwrap());
        assert_eq!(presented_token(&h, None), Some(b"secret".to_vec()));
    }

    #[test]
    fn online_from_the_query() {
        assert!(online_requested(Some("online=true")));
        assert!(online_requested(Some("token=x&online=%31")));
        assert!(!online_requested(Some("online=%")));
        assert!(!online_requested(None));
    }
}
