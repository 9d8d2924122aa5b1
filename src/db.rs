//! The connection: settings as libpq reads them, and a client that counts the
//! statements it sends. Everything goes through the simple query protocol (no
//! named prepared statements), so a pooler in transaction mode is no problem.

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio_postgres::{Client, Config, NoTls, SimpleQueryMessage};

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

/// Connection settings: `--database-url`, else `DATABASE_URL`, else the libpq variables.
pub fn config_from(url: Option<&str>) -> Result<Config, DbError> {
    let from_env = std::env::var("DATABASE_URL").ok().filter(|s| !s.is_empty());
    let mut config = match url.map(str::to_string).or(from_env) {
        Some(u) => Config::from_str(&u)
            .map_err(|e| DbError::Config(format!("invalid connection string: {e}")))?,
        None => Config::new(),
    };
    apply_env_defaults(&mut config);
    Ok(config)
}

/// Fill what the connection string left out from `PG*` variables, then libpq's defaults.
fn apply_env_defaults(config: &mut Config) {
    let env = |k: &str| std::env::var(k).ok().filter(|s| !s.is_empty());
    if config.get_hosts().is_empty() {
        match env("PGHOST") {
            Some(h) => {
                for host in h.split(',') {
                    config.host(host);
                }
            }
            None => {
                // libpq's default: the Unix socket directory, else localhost.
                if std::path::Path::new("/var/run/postgresql").exists() {
                    config.host_path("/var/run/postgresql");
                } else {
                    config.host("localhost");
                }
            }
        }
    }
    if config.get_ports().is_empty() {
        if let Some(p) = env("PGPORT").and_then(|p| p.parse().ok()) {
            config.port(p);
        }
    }
    if config.get_user().is_none() {
        let user = env("PGUSER")
            .or_else(|| env("USER"))
            .unwrap_or_else(|| "postgres".into());
        config.user(&user);
    }
    if config.get_password().is_none() {
        if let Some(p) = env("PGPASSWORD") {
            config.password(p);
        }
    }
    if config.get_dbname().is_none() {
        if let Some(d) = env("PGDATABASE") {
            config.dbname(&d);
        }
    }
    if config.get_application_name().is_none() {
        config.application_name(env("PGAPPNAME").unwrap_or_else(|| "reconcile".into()));
    }
    if config.get_connect_timeout().is_none() {
        let secs = env("PGCONNECT_TIMEOUT")
            .and_then(|s| s.parse().ok())
            .unwrap_or(30u64);
        config.connect_timeout(Duration::from_secs(secs.max(2)));
    }
}

/// Where a config points, for messages (never the password).
pub fn describe(config: &Config) -> String {
    use tokio_postgres::config::Host;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "host={host} port={port} user={} dbname={}",
        config.get_user().unwrap_or(""),
        config.get_dbname().or(config.get_user()).unwrap_or("")
    )
}

/// A connected client that counts the statements it sends.
pub struct Db {
    client: Client,
    statements: AtomicUsize,
    /// The backend's pid, to tell our own session from others.
    pub backend_pid: i32,
    /// `server_version_num`, e.g. 150004.
    pub server_version: i32,
}

impl Db {
    pub async fn connect(config: &Config) -> Result<Db, DbError> {
        let (client, connection) = config.connect(NoTls).await.map_err(|e| DbError::Connect {
            target: describe(config),
            message: connect_message(&e),
        })?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let mut db = Db {
            client,
            statements: AtomicUsize::new(0),
            backend_pid: 0,
            server_version: 0,
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
        self.count(statements.len());
        let sql = statements.join(";\n");
        let messages = self
            .client
            .simple_query(&sql)
            .await
            .map_err(|e| SqlError::from_pg(&e, None))?;
        let mut results = Vec::new();
        let mut current = Vec::new();
        for m in messages {
            match m {
                SimpleQueryMessage::Row(row) => current.push(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect(),
                ),
                SimpleQueryMessage::CommandComplete(_) => {
                    results.push(std::mem::take(&mut current))
                }
                _ => {}
            }
        }
        Ok(results)
    }
}

fn connect_message(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db.message().to_string();
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
    msg
}
