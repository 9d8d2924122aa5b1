//! The connection: settings as libpq reads them, and a client that counts the
//! statements it sends. Everything goes through the simple query protocol (no
//! named prepared statements), so a pooler in transaction mode is no problem.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use tokio_postgres::SimpleQueryRow;
use tokio_postgres::{Client, Config, NoTls, SimpleQueryMessage};

pub use crate::connect::conninfo::Settings;
use crate::connect::conninfo::{self, Endpoint, Host, SslMode};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Config(String),
    #[error("cannot connect to {target}: {message}")]
    Connect { target: String, message: String },
    #[error("{0}")]
    Sql(#[from] SqlError),
}

/// A PostgreSQL error with everything the server said.
#[derive(Debug, Clone, thiserror::Error, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[error("{message}")]
pub struct SqlError {
    pub message: String,
    pub code: Option<String>,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// The statement that failed, when known.
    pub statement: Option<String>,
}

impl SqlError {
    pub fn from_pg(e: &tokio_postgres::Error, statement: Option<&str>) -> Self {
        match e.as_db_error() {
            Some(db) => SqlError {
                message: format!("{}: {}", db.severity(), db.message()),
                code: Some(db.code().code().to_string()),
                detail: db.detail().map(str::to_string),
                hint: db.hint().map(str::to_string),
                statement: statement.map(str::to_string),
            },
            None => SqlError {
                message: e.to_string(),
                code: None,
                detail: None,
                hint: None,
                statement: statement.map(str::to_string),
            },
        }
    }

    pub fn is_lock_timeout(&self) -> bool {
        self.code.as_deref() == Some("55P03")
    }
}

/// The session settings that what we write and read relies on, with the
/// value each must have. They are set at the start of every transaction we
/// open (`Db::begin`), and for the whole session by `apply --online` (whose
/// concurrent builds run outside a transaction), then read back: a database or
/// role may set any of them (`ALTER DATABASE ... SET`), and then
///
/// - `standard_conforming_strings = off` makes a backslash in a string literal
///   an escape, so a literal of the files could end early and what follows
///   would run as SQL;
/// - a `search_path` naming a schema of functions and operators called like
///   built-ins (`lower`, `now`, `=`) would run those in our catalog queries and
///   in the files' expressions; with `public` alone, `pg_catalog` is searched
///   first, as PostgreSQL always does when the path does not name it;
/// - `quote_all_identifiers`, `IntervalStyle`, `DateStyle`'s output part,
///   `extra_float_digits` and `bytea_output` change how PostgreSQL prints types
///   and expressions, and so what the plan compares;
/// - `transform_null_equals` changes what `x = NULL` in a check means;
/// - `check_function_bodies = off`: a function's body is checked when it is
///   called, not when it is created, as pg_dump's restores do, so that a body
///   may name a table or a function that the same plan creates after it.
///
/// Each is set with `pg_catalog.set_config`, spelled with its schema, so a
/// hostile `search_path` cannot replace it before it takes effect.
pub const PINNED_SETTINGS: &[(&str, &str)] = &[
    ("standard_conforming_strings", "on"),
    ("search_path", "public"),
    ("quote_all_identifiers", "off"),
    ("intervalstyle", "postgres"),
    ("datestyle", "ISO"),
    ("extra_float_digits", "1"),
    ("bytea_output", "hex"),
    ("transform_null_equals", "off"),
    ("check_function_bodies", "off"),
];

/// The statement that sets `PINNED_SETTINGS` (for the transaction when
/// `local`, else for the session) and returns the values in force after it,
/// one column each, in the same order.
pub fn pin_settings_sql(local: bool) -> String {
    let calls: Vec<String> = PINNED_SETTINGS
        .iter()
        .map(|(name, value)| format!("pg_catalog.set_config('{name}', '{value}', {local})"))
        .collect();
    format!("SELECT {}", calls.join(", "))
}

/// Check the row `pin_settings_sql` returned: every setting has its value.
pub(crate) fn check_pinned(row: Option<&Vec<Option<String>>>) -> Result<(), SqlError> {
    let wrong: Vec<String> = PINNED_SETTINGS
        .iter()
        .enumerate()
        .filter_map(|(i, (name, value))| {
            let got = row.and_then(|r| r.get(i)).and_then(|v| v.as_deref());
            // DateStyle reads back with its input order (`ISO, MDY`).
            let ok = got.is_some_and(|g| {
                g.eq_ignore_ascii_case(value) || (*name == "datestyle" && g.starts_with("ISO,"))
            });
            (!ok).then(|| format!("{name} is {:?}, not {value:?}", got.unwrap_or("unknown")))
        })
        .collect();
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(SqlError {
            message: format!(
                "the session settings could not be pinned ({}); nothing was run",
                wrong.join(", ")
            ),
            code: None,
            detail: None,
            hint: Some(
                "check the server or pooler: reconcile sets these for each of its transactions"
                    .into(),
            ),
            statement: None,
        })
    }
}

/// Where a session stands (see `Db::transaction_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionState {
    /// In a transaction block that can still commit.
    Open,
    /// In a transaction block that an error ended: only ROLLBACK is accepted.
    Failed,
    /// In no transaction block.
    Idle,
    /// The server could not be asked (the connection is gone; the server
    /// rolls back an open transaction when its session ends).
    Unknown,
}

/// The first field of the first row, unless there is none or it is NULL.
pub fn first_value(rows: &[Vec<Option<String>>]) -> Option<&str> {
    rows.first()?.first()?.as_deref()
}

/// Connection settings: `--database-url`, else `DATABASE_URL`, else the libpq
/// variables alone; each read as libpq reads it (see `conninfo`).
pub fn config_from(url: Option<&str>) -> Result<Settings, DbError> {
    config_from_warning(url, &mut |w| eprintln!("{w}"))
}

/// As [`config_from`], handing what libpq would print as a warning (a
/// password file others can read) to `warn` instead of stderr.
pub fn config_from_warning(
    url: Option<&str>,
    warn: &mut dyn FnMut(String),
) -> Result<Settings, DbError> {
    let from_env = std::env::var("DATABASE_URL").ok().filter(|s| !s.is_empty());
    let conninfo = url.map(str::to_string).or(from_env);
    let mut settings =
        conninfo::resolve(conninfo.as_deref(), &conninfo::Environment::process(), warn)
            .map_err(|e| DbError::Config(format!("invalid connection settings: {e}")))?;
    settings.nothing_given = conninfo.is_none()
        && ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGSERVICE"]
            .iter()
            .all(|v| std::env::var_os(v).is_none_or(|v| v.is_empty()));
    Ok(settings)
}

/// What a failure to connect adds when nothing named a server.
const NOTHING_GIVEN_HINT: &str = "DATABASE_URL is not set (nor --database-url, nor PGHOST/PGPORT/PGDATABASE), \
so libpq's defaults were tried. Name the database with --database-url postgres://USER:PASSWORD@HOST:5432/DBNAME, \
or export DATABASE_URL=..., or put DATABASE_URL=... in a .env file in this directory";

/// How one attempt at a server negotiates TLS.
#[derive(Clone, Copy, PartialEq)]
enum Attempt {
    Plain,
    /// TLS if the server offers it, else plain (tokio-postgres's `Prefer`).
    TlsIfOffered,
    Tls,
}

/// The attempts libpq makes at one server for a `sslmode`, in order.
fn attempts(settings: &Settings, endpoint: &Endpoint) -> &'static [Attempt] {
    if matches!(endpoint.host, Host::Unix(_)) {
        // libpq never uses TLS over a Unix socket.
        return &[Attempt::Plain];
    }
    match settings.sslmode {
        SslMode::Disable => &[Attempt::Plain],
        // Plain first; TLS when the server refuses it.
        SslMode::Allow => &[Attempt::Plain, Attempt::Tls],
        // TLS first; plain when TLS fails.
        SslMode::Prefer => &[Attempt::TlsIfOffered, Attempt::Plain],
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => &[Attempt::Tls],
    }
}

fn tokio_config(settings: &Settings, endpoint: &Endpoint, attempt: Attempt) -> Config {
    use tokio_postgres::config::{SslMode as Mode, SslNegotiation};
    let mut c = Config::new();
    match &endpoint.host {
        Host::Tcp(h) => c.host(h),
        Host::Unix(p) => c.host_path(p),
    };
    if let Some(a) = endpoint.hostaddr {
        c.hostaddr(a);
    }
    c.port(endpoint.port)
        .user(&settings.user)
        .dbname(&settings.dbname)
        .application_name(&settings.application_name)
        .connect_timeout(settings.connect_timeout)
        .ssl_mode(match attempt {
            Attempt::Plain => Mode::Disable,
            Attempt::TlsIfOffered => Mode::Prefer,
            Attempt::Tls => Mode::Require,
        });
    if settings.ssl_direct && attempt == Attempt::Tls {
        c.ssl_negotiation(SslNegotiation::Direct);
    }
    if let Some(p) = &endpoint.password {
        c.password(p);
    }
    if let Some(o) = &settings.options {
        c.options(o);
    }
    if let Some(b) = settings.channel_binding {
        c.channel_binding(b);
    }
    if let Some(t) = settings.target_session_attrs {
        c.target_session_attrs(t);
    }
    c
}

/// A connected client that counts the statements it sends.
pub struct Db {
    client: Client,
    statements: AtomicUsize,
    /// The backend's pid, to tell our own session from others; 0 when the
    /// connection did not need to ask (see `Db::current_pid`).
    pub backend_pid: i32,
    /// `server_version_num`, e.g. 150004.
    pub server_version: i32,
    /// What it connected with, to open another session to the same server.
    settings: Settings,
    /// The task that drives the connection (see `Db::close`).
    connection: Option<tokio::task::JoinHandle<()>>,
}

impl Db {
    /// Connect as libpq would: each server in turn, each with the attempts its
    /// `sslmode` makes; the error names the settings used and what failed.
    pub async fn connect(settings: &Settings) -> Result<Db, DbError> {
        let mut failures = Vec::new();
        for endpoint in &settings.endpoints {
            match connect_endpoint(settings, endpoint).await {
                Ok((client, version, connection)) => {
                    let mut db = Db::ready(client, version, settings.clone()).await?;
                    db.connection = Some(connection);
                    return Ok(db);
                }
                Err(message) => failures.push((endpoint.describe(), message)),
            }
        }
        let message = match failures.as_slice() {
            [(_, only)] => only.clone(),
            _ => failures
                .iter()
                .map(|(at, m)| format!("{at}: {m}"))
                .collect::<Vec<_>>()
                .join("; "),
        };
        let message = if settings.nothing_given {
            format!("{message}\n  {NOTHING_GIVEN_HINT}")
        } else {
            message
        };
        Err(DbError::Connect {
            target: settings.describe(),
            message,
        })
    }

    /// Another session with the same settings.
    pub async fn connect_again(&self) -> Result<Db, DbError> {
        Db::connect(&self.settings).await
    }

    /// A connected client, and the server's version as its startup
    /// reported it (`server_version`); asked for (one round trip) only when
    /// it did not, as some poolers do not.
    async fn ready(
        client: Client,
        version: Option<i32>,
        settings: Settings,
    ) -> Result<Db, DbError> {
        let mut db = Db {
            client,
            statements: AtomicUsize::new(0),
            backend_pid: 0,
            server_version: 0,
            settings,
            connection: None,
        };
        if let Some(version) = version {
            db.server_version = version;
            return Ok(db);
        }
        let rows = db
            .simple("SELECT pg_catalog.pg_backend_pid(), pg_catalog.current_setting('server_version_num')")
            .await?;
        let field = |i: usize| -> i32 {
            rows.first()
                .and_then(|r| r.get(i))
                .and_then(|v| v.as_deref())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        db.backend_pid = field(0);
        db.server_version = field(1);
        Ok(db)
    }

    /// End the session without waiting for an answer: the client says
    /// goodbye (Terminate, which has no answer) and the server rolls back a
    /// transaction left open, as a `ROLLBACK` would, one round trip sooner.
    /// Waits (at most a second) until the goodbye is written.
    pub async fn close(self) {
        let Db {
            client, connection, ..
        } = self;
        drop(client);
        if let Some(task) = connection {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(1), task).await;
        }
    }

    /// Statements sent so far (a batch of n statements counts n).
    pub fn statements_sent(&self) -> usize {
        self.statements.load(Ordering::Relaxed)
    }

    fn count(&self, statements: usize) {
        self.statements.fetch_add(statements, Ordering::Relaxed);
    }

    /// Open a transaction (`how`: e.g. `ISOLATION LEVEL REPEATABLE READ`, or
    /// empty) and pin `PINNED_SETTINGS` for it, in one round trip; the
    /// settings are read back and an error is returned (the transaction
    /// rolled back) if any is not as pinned. Every transaction reconcile opens
    /// starts here, so behind a pooler in transaction mode, where each
    /// transaction may run on another server process, the settings still hold.
    pub async fn begin(&self, how: &str) -> Result<(), SqlError> {
        let begin = format!("BEGIN {how}");
        let pin = pin_settings_sql(true);
        let rows = self.simple_many(&[&begin, &pin]).await;
        let checked = rows.and_then(|r| check_pinned(r.get(1).and_then(|rows| rows.first())));
        if let Err(e) = checked {
            let _ = self.execute("ROLLBACK").await;
            return Err(e);
        }
        Ok(())
    }

    /// As [`Db::begin`], with `sql` (one statement) sent in the same round
    /// trip after the settings are pinned; its rows. Errors: as `begin`
    /// (the transaction rolled back), or `sql` failing (the transaction left
    /// open and failed, for the caller to roll back).
    pub async fn begin_and(
        &self,
        how: &str,
        sql: &str,
    ) -> Result<Vec<Vec<Option<String>>>, SqlError> {
        let begin = format!("BEGIN {how}");
        let pin = pin_settings_sql(true);
        let mut rows = self.simple_many(&[&begin, &pin, sql]).await?;
        if let Err(e) = check_pinned(rows.get(1).and_then(|rows| rows.first())) {
            let _ = self.execute("ROLLBACK").await;
            return Err(e);
        }
        Ok(if rows.len() > 2 {
            rows.swap_remove(2)
        } else {
            Vec::new()
        })
    }

    /// Pin `PINNED_SETTINGS` for the whole session (read back and checked);
    /// `RESET` each to undo. For work outside a transaction (`apply --online`).
    pub async fn pin_session(&self) -> Result<(), SqlError> {
        let rows = self.simple(&pin_settings_sql(false)).await?;
        check_pinned(rows.first())
    }

    /// `RESET` statements for every pinned setting, `; `-separated.
    pub fn reset_pinned_sql() -> String {
        PINNED_SETTINGS
            .iter()
            .map(|(name, _)| format!("RESET {name}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Where this session stands: in a transaction block (healthy, or failed
    /// by an error), or in none. Asked after an error, before saying "rolled
    /// back": a transaction block that ended before the error may have
    /// committed what ran in it. A `SAVEPOINT` tells the three apart (refused
    /// outside a block with 25P01, ignored in a failed one with 25P02); it is
    /// released at once.
    pub async fn transaction_state(&self) -> TransactionState {
        match self
            .client
            .simple_query("SAVEPOINT reconcile_state; RELEASE SAVEPOINT reconcile_state")
            .await
        {
            Ok(_) => TransactionState::Open,
            Err(e) => match e.as_db_error().map(|d| d.code().code()) {
                Some("25P02") => TransactionState::Failed,
                Some("25P01") => TransactionState::Idle,
                _ => TransactionState::Unknown,
            },
        }
    }

    /// One statement, sent with the extended query protocol (an unnamed
    /// statement, one round trip), which PostgreSQL refuses to run when the
    /// text holds more than one statement: however a statement came to be
    /// written, nothing after a `;` in it can run. Every planned step runs here.
    pub async fn execute_one(&self, sql: &str) -> Result<(), SqlError> {
        self.count(1);
        self.client
            .query_typed(sql, &[])
            .await
            .map(|_| ())
            .map_err(|e| SqlError::from_pg(&e, Some(sql)))
    }

    /// Run one or more statements that return nothing of interest.
    pub async fn execute(&self, sql: &str) -> Result<(), SqlError> {
        self.count(1);
        self.client
            .batch_execute(sql)
            .await
            .map_err(|e| SqlError::from_pg(&e, Some(sql)))
    }

    /// One statement with text parameters, sent with an unnamed statement in a
    /// single round trip (nothing prepared survives it, so poolers are fine).
    pub async fn execute_text_params(
        &self,
        sql: &str,
        params: &[Option<&str>],
    ) -> Result<(), SqlError> {
        self.count(1);
        let typed: Vec<(
            &(dyn tokio_postgres::types::ToSql + Sync),
            tokio_postgres::types::Type,
        )> = params
            .iter()
            .map(|p| {
                (
                    p as &(dyn tokio_postgres::types::ToSql + Sync),
                    tokio_postgres::types::Type::TEXT,
                )
            })
            .collect();
        self.client
            .query_typed(sql, &typed)
            .await
            .map(|_| ())
            .map_err(|e| SqlError::from_pg(&e, Some(sql)))
    }

    /// The pid of the server process that runs this statement (behind a
    /// pooler in transaction mode, it may change between transactions).
    pub async fn current_pid(&self) -> Result<i32, SqlError> {
        let rows = self.simple("SELECT pg_catalog.pg_backend_pid()").await?;
        Ok(first_value(&rows).and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// One statement's rows, as text.
    pub async fn simple(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, SqlError> {
        let mut out = self.simple_many(&[sql]).await?;
        Ok(out.pop().unwrap_or_default())
    }

    /// Several statements in one round trip; the rows of each, as text.
    pub async fn simple_many(
        &self,
        statements: &[&str],
    ) -> Result<Vec<Vec<Vec<Option<String>>>>, SqlError> {
        let mut results: Vec<Vec<Vec<Option<String>>>> = Vec::new();
        let completed = self
            .simple_each(statements, |i, row| {
                if results.len() <= i {
                    results.resize_with(i + 1, Vec::new);
                }
                results[i].push(
                    (0..row.len())
                        .map(|f| row.get(f).map(str::to_string))
                        .collect(),
                );
                Ok(())
            })
            .await?;
        results.resize_with(completed, Vec::new);
        Ok(results)
    }

    /// Several statements in one round trip; each row is handed to `on_row`
    /// with the index of its statement as it arrives, its fields borrowed from
    /// the message (nothing is collected, so reading overlaps the server's
    /// work). The number of statements completed. The first error of `on_row`
    /// is returned once the server is done (the rest of the rows are skipped).
    pub async fn simple_each(
        &self,
        statements: &[&str],
        mut on_row: impl FnMut(usize, &SimpleQueryRow) -> Result<(), String>,
    ) -> Result<usize, SqlError> {
        use futures_util::StreamExt;
        self.count(statements.len());
        let sql = statements.join(";\n");
        let stream = self
            .client
            .simple_query_raw(&sql)
            .await
            .map_err(|e| SqlError::from_pg(&e, None))?;
        let mut stream = std::pin::pin!(stream);
        let mut completed = 0;
        let mut failed: Option<String> = None;
        while let Some(m) = stream.next().await {
            match m.map_err(|e| SqlError::from_pg(&e, None))? {
                SimpleQueryMessage::Row(row) if failed.is_none() => {
                    if let Err(e) = on_row(completed, &row) {
                        failed = Some(e);
                    }
                }
                SimpleQueryMessage::CommandComplete(_) => completed += 1,
                _ => {}
            }
        }
        match failed {
            Some(message) => Err(SqlError {
                message,
                code: None,
                detail: None,
                hint: None,
                statement: None,
            }),
            None => Ok(completed),
        }
    }
}

/// `server_version_num` from `server_version` as the server reports it at
/// startup (`15.18 (Debian 15.18-0+deb12u1)`, `16beta1`, `9.6.24`).
fn version_num(version: &str) -> Option<i32> {
    let number: String = version
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let parts: Vec<i32> = number
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<Vec<i32>>>()?;
    match parts.as_slice() {
        [major, ..] if *major >= 10 => Some(major * 10000 + parts.get(1).copied().unwrap_or(0)),
        [major, minor, rest @ ..] => {
            Some(major * 10000 + minor * 100 + rest.first().copied().unwrap_or(0))
        }
        _ => None,
    }
}

/// One server: the attempts of its `sslmode`, in order; the client, the
/// server version its startup reported and the connection's task, or why not.
async fn connect_endpoint(settings: &Settings, endpoint: &Endpoint) -> Result<Connected, String> {
    let mut last = String::new();
    for attempt in attempts(settings, endpoint) {
        let config = tokio_config(settings, endpoint, *attempt);
        // tokio-postgres bounds the socket's connection by `connect_timeout`;
        // the TLS handshake, the startup and the authentication are bounded
        // here by the same time, so a server that accepts and then says
        // nothing cannot hold us.
        let tls = match attempt {
            Attempt::Plain => None,
            Attempt::TlsIfOffered | Attempt::Tls => Some(crate::connect::tls::connector(settings)?),
        };
        let connecting = async {
            match tls {
                None => config.connect(NoTls).await.map(in_background),
                Some(tls) => config.connect(tls).await.map(in_background),
            }
        };
        let connected = match tokio::time::timeout(settings.connect_timeout, connecting).await {
            Ok(r) => r,
            Err(_) => {
                last = format!(
                    "{}: no answer within connect_timeout ({} s) while connecting, starting up and authenticating",
                    endpoint.describe(),
                    settings.connect_timeout.as_secs()
                );
                continue;
            }
        };
        match connected {
            Ok(client) => return Ok(client),
            Err(e) => {
                last = connect_message(&e, settings, endpoint, *attempt);
                // `prefer` retries plain only when TLS itself failed; `allow`
                // retries with TLS whatever refused the plain connection.
                if settings.sslmode == SslMode::Prefer && !e.to_string().contains("TLS") {
                    break;
                }
            }
        }
    }
    Err(last)
}

/// A client, the server's version from the startup, the connection's task.
type Connected = (Client, Option<i32>, tokio::task::JoinHandle<()>);

/// Drive the connection on its own task; the client is what callers use,
/// with the server's version from the startup (`server_version`).
fn in_background<S, T>(
    (client, connection): (Client, tokio_postgres::Connection<S, T>),
) -> Connected
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let version = connection.parameter("server_version").and_then(version_num);
    let task = tokio::spawn(async move {
        let _ = connection.await;
    });
    (client, version, task)
}

/// What failed, in words that name the setting involved (never the password).
fn connect_message(
    e: &tokio_postgres::Error,
    settings: &Settings,
    endpoint: &Endpoint,
    attempt: Attempt,
) -> String {
    let host = match &endpoint.host {
        Host::Tcp(h) => h.as_str(),
        Host::Unix(_) => "localhost",
    };
    if let Some(problem) = crate::connect::tls::certificate_problem(e, host) {
        return problem;
    }
    if let Some(db) = e.as_db_error() {
        let mut m = db.message().to_string();
        match db.code().code() {
            // invalid_password, invalid_authorization_specification
            "28P01" | "28000" if m.contains("no encryption") => m.push_str(&format!(
                " (the server accepts this connection only over TLS; sslmode={} {})",
                settings.sslmode.as_str(),
                if settings.sslmode == SslMode::Disable {
                    "turns TLS off"
                } else {
                    "did not use it"
                }
            )),
            "28P01" => m.push_str(&match &endpoint.password_from {
                Some(from) => format!(" (the password came from {from})"),
                None => " (no password was given: put it in the URL, PGPASSWORD or the password file ~/.pgpass)".to_string(),
            }),
            _ => {}
        }
        return m;
    }
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    if msg.contains("password missing") {
        msg = "the server asks for a password and none was given: put it in the URL, PGPASSWORD or the password file ~/.pgpass".into();
    } else if msg.contains("server does not support TLS") && attempt == Attempt::Tls {
        msg = format!(
            "the server does not support TLS, and sslmode={} requires it",
            settings.sslmode.as_str()
        );
    }
    msg
}

/// One request of a [`Pipeline`]: sent on its first poll, its result when it arrives.
type Request<'a> = std::pin::Pin<Box<dyn Future<Output = Result<(), SqlError>> + Send + 'a>>;

/// Requests sent together on one session, their results taken in order:
/// tokio-postgres queues a request on the first poll of its future, so once
/// [`Pipeline::send`] has polled each future once, in order, every request is
/// on its way and the whole pipeline costs one round trip, plus the server's
/// work. In a transaction, after a failed statement the server runs nothing
/// more: each later request fails with 25P02 (`in_failed_sql_transaction`).
pub struct Pipeline<'a> {
    requests: std::collections::VecDeque<Slot<'a>>,
}

enum Slot<'a> {
    Waiting(Request<'a>),
    /// Finished during `send` (a request that could not be sent fails at once).
    Done(Result<(), SqlError>),
}

impl<'a> Pipeline<'a> {
    /// An empty pipeline; add requests with `push`, then `send`.
    pub fn new() -> Pipeline<'a> {
        Pipeline {
            requests: std::collections::VecDeque::new(),
        }
    }

    /// Add a request (a future of `Db`'s, e.g. `db.execute_one(sql)`); nothing
    /// is sent until `send`.
    pub fn push(&mut self, request: impl Future<Output = Result<(), SqlError>> + Send + 'a) {
        self.requests.push_back(Slot::Waiting(Box::pin(request)));
    }

    /// Send every request not yet sent, in the order pushed, without waiting
    /// for any result.
    pub async fn send(&mut self) {
        std::future::poll_fn(|cx| {
            for slot in self.requests.iter_mut() {
                if let Slot::Waiting(request) = slot {
                    if let std::task::Poll::Ready(r) = request.as_mut().poll(cx) {
                        *slot = Slot::Done(r);
                    }
                }
            }
            std::task::Poll::Ready(())
        })
        .await;
    }

    /// The result of the oldest request left (sent first if it was not);
    /// `None` when none is left.
    pub async fn next(&mut self) -> Option<Result<(), SqlError>> {
        match self.take() {
            Some(request) => Some(request.await),
            None => None,
        }
    }

    /// The oldest request left, out of the pipeline: a future of its result
    /// (one that `send` already sent is not sent again); `None` when none is left.
    pub fn take(&mut self) -> Option<impl Future<Output = Result<(), SqlError>> + Send + 'a> {
        let request: Request<'a> = match self.requests.pop_front()? {
            Slot::Done(r) => Box::pin(std::future::ready(r)),
            Slot::Waiting(request) => request,
        };
        Some(request)
    }

    /// How many requests are left.
    pub fn len(&self) -> usize {
        self.requests.len()
    }

    /// Whether no request is left.
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// Wait for every result left, in order; the first error, if any.
    pub async fn finish(&mut self) -> Result<(), SqlError> {
        self.send().await;
        let mut first = Ok(());
        while let Some(r) = self.next().await {
            if first.is_ok() {
                first = r;
            }
        }
        first
    }
}

impl Default for Pipeline<'_> {
    fn default() -> Self {
        Pipeline::new()
    }
}

#[cfg(test)]
mod version_tests {
    use super::version_num;

    #[test]
    fn the_startup_version_reads_as_server_version_num() {
        assert_eq!(version_num("15.18 (Debian 15.18-0+deb12u1)"), Some(150018));
        assert_eq!(version_num("16beta1"), Some(160000));
        assert_eq!(version_num("17.0"), Some(170000));
        assert_eq!(version_num("9.6.24"), Some(90624));
        assert_eq!(version_num("unknown"), None);
    }
}
