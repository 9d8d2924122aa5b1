//! The connection: settings as libpq reads them, and a client that counts the
//! statements it sends. Everything goes through the simple query protocol (no
//! named prepared statements), so a pooler in transaction mode is no problem.

use std::sync::atomic::{AtomicUsize, Ordering};

pub use tokio_postgres::SimpleQueryRow;
use tokio_postgres::{Client, Config, NoTls, SimpleQueryMessage};

pub use crate::conninfo::Settings;
use crate::conninfo::{self, Endpoint, Host, SslMode};

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

/// The first field of the first row, unless there is none or it is NULL.
pub fn first_value(rows: &[Vec<Option<String>>]) -> Option<&str> {
    rows.first()?.first()?.as_deref()
}

/// Connection settings: `--database-url`, else `DATABASE_URL`, else the libpq
/// variables alone; each read as libpq reads it (see `conninfo`).
pub fn config_from(url: Option<&str>) -> Result<Settings, DbError> {
    let from_env = std::env::var("DATABASE_URL").ok().filter(|s| !s.is_empty());
    let conninfo = url.map(str::to_string).or(from_env);
    conninfo::resolve(
        conninfo.as_deref(),
        &conninfo::Environment::process(),
        &mut |w| eprintln!("{w}"),
    )
    .map_err(|e| DbError::Config(format!("invalid connection settings: {e}")))
}

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
    /// The backend's pid, to tell our own session from others.
    pub backend_pid: i32,
    /// `server_version_num`, e.g. 150004.
    pub server_version: i32,
    /// What it connected with, to open another session to the same server.
    settings: Settings,
}

impl Db {
    /// Connect as libpq would: each server in turn, each with the attempts its
    /// `sslmode` makes; the error names the settings used and what failed.
    pub async fn connect(settings: &Settings) -> Result<Db, DbError> {
        let mut failures = Vec::new();
        for endpoint in &settings.endpoints {
            match connect_endpoint(settings, endpoint).await {
                Ok(client) => return Db::ready(client, settings.clone()).await,
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
        Err(DbError::Connect {
            target: settings.describe(),
            message,
        })
    }

    /// Another session with the same settings.
    pub async fn connect_again(&self) -> Result<Db, DbError> {
        Db::connect(&self.settings).await
    }

    async fn ready(client: Client, settings: Settings) -> Result<Db, DbError> {
        let mut db = Db {
            client,
            statements: AtomicUsize::new(0),
            backend_pid: 0,
            server_version: 0,
            settings,
        };
        let rows = db
            .simple("SELECT pg_backend_pid(), current_setting('server_version_num')")
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

    /// Statements sent so far (a batch of n statements counts n).
    pub fn statements_sent(&self) -> usize {
        self.statements.load(Ordering::Relaxed)
    }

    fn count(&self, statements: usize) {
        self.statements.fetch_add(statements, Ordering::Relaxed);
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
        let rows = self.simple("SELECT pg_backend_pid()").await?;
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

/// One server: the attempts of its `sslmode`, in order; the client, or why not.
async fn connect_endpoint(settings: &Settings, endpoint: &Endpoint) -> Result<Client, String> {
    let mut last = String::new();
    for attempt in attempts(settings, endpoint) {
        let config = tokio_config(settings, endpoint, *attempt);
        let connected = match attempt {
            Attempt::Plain => config.connect(NoTls).await.map(in_background),
            Attempt::TlsIfOffered | Attempt::Tls => config
                .connect(crate::tls::connector(settings)?)
                .await
                .map(in_background),
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

/// Drive the connection on its own task; the client is what callers use.
fn in_background<S, T>((client, connection): (Client, tokio_postgres::Connection<S, T>)) -> Client
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(connection);
    client
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
    if let Some(problem) = crate::tls::certificate_problem(e, host) {
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
