//! Connection settings as libpq reads them: a URL (`postgres://`,
//! `postgresql://`) or a keyword string (`host=… dbname=…`), then the `PG*`
//! variables for what it leaves out, then the password file, then libpq's
//! defaults. Pure: the environment and the file system come in as arguments,
//! so that every rule is unit-tested.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// libpq's `sslmode`, with libpq's meaning for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    /// Plain only.
    Disable,
    /// Plain first; TLS if the server refuses plain.
    Allow,
    /// TLS first; plain if the server has no TLS (libpq's default).
    Prefer,
    /// TLS only; the certificate is checked only when a root certificate is given.
    Require,
    /// TLS, certificate signed by the root certificate.
    VerifyCa,
    /// TLS, certificate signed by the root certificate and issued for the host name.
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str) -> Option<SslMode> {
        Some(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// Whether the server's certificate must chain to a root certificate.
    pub fn verifies(self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyFull)
    }
}

/// Where a server is reached: a TCP host name or a Unix socket directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    Tcp(String),
    Unix(PathBuf),
}

/// One server to try, in order (libpq's comma-separated `host`, `hostaddr`, `port`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub host: Host,
    /// Connect to this address; `host` stays the name the certificate is checked against.
    pub hostaddr: Option<IpAddr>,
    pub port: u16,
    /// The password for this server (given, or found in the password file).
    pub password: Option<String>,
    /// Where the password came from, for messages: `the connection string`,
    /// `PGPASSWORD`, or the password file's path.
    pub password_from: Option<String>,
}

impl Endpoint {
    /// `host=… port=…` as a message shows it.
    pub fn describe(&self) -> String {
        let host = match &self.host {
            Host::Tcp(h) => h.clone(),
            Host::Unix(p) => p.display().to_string(),
        };
        match self.hostaddr {
            Some(a) => format!("host={host} hostaddr={a} port={}", self.port),
            None => format!("host={host} port={}", self.port),
        }
    }
}

/// Everything needed to connect, resolved. Never printed with its password.
#[derive(Clone, Debug)]
pub struct Settings {
    pub endpoints: Vec<Endpoint>,
    pub user: String,
    pub dbname: String,
    pub sslmode: SslMode,
    /// A file of root certificates, or `system` for the system's trusted roots.
    pub sslrootcert: Option<String>,
    /// Whether `sslrootcert` was given (not libpq's default `~/.postgresql/root.crt`).
    pub sslrootcert_given: bool,
    pub sslcert: Option<PathBuf>,
    pub sslkey: Option<PathBuf>,
    /// `TLSv1.3` restricts TLS to 1.3 (`ssl_min_protocol_version`).
    pub tls13_only: bool,
    pub application_name: String,
    pub connect_timeout: Duration,
    pub options: Option<String>,
    /// `direct` negotiation (PostgreSQL 17): TLS without asking first.
    pub ssl_direct: bool,
    pub channel_binding: Option<tokio_postgres::config::ChannelBinding>,
    pub target_session_attrs: Option<tokio_postgres::config::TargetSessionAttrs>,
    /// Nothing named a server: no connection string, no `DATABASE_URL`, and
    /// none of `PGHOST`, `PGHOSTADDR`, `PGPORT`, `PGDATABASE`, `PGSERVICE`;
    /// the settings are libpq's defaults (set by `db::config_from`). A failure
    /// to connect then says how to name a database.
    pub nothing_given: bool,
}

impl Settings {
    /// `host=… port=… user=… dbname=… sslmode=…` (never the password).
    pub fn describe(&self) -> String {
        let mut s = match self.endpoints.first() {
            Some(e) if self.endpoints.len() == 1 => e.describe(),
            _ => self
                .endpoints
                .iter()
                .map(Endpoint::describe)
                .collect::<Vec<_>>()
                .join(" | "),
        };
        s.push_str(&format!(" user={} dbname={}", self.user, self.dbname));
        let all_sockets = self
            .endpoints
            .iter()
            .all(|e| matches!(e.host, Host::Unix(_)));
        if !all_sockets {
            s.push_str(&format!(" sslmode={}", self.sslmode.as_str()));
            // libpq's default root certificate is named only when it is there.
            if let Some(root) = self
                .sslrootcert
                .as_ref()
                .filter(|r| self.sslrootcert_given || Path::new(r).exists())
            {
                s.push_str(&format!(" sslrootcert={root}"));
            }
        }
        s
    }
}

/// What the process can see: environment variables and the home directory.
pub struct Environment<'a> {
    pub var: &'a dyn Fn(&str) -> Option<String>,
    pub home: Option<PathBuf>,
    /// The operating-system user name (libpq's default user).
    pub os_user: Option<String>,
    /// libpq's default socket directory, when it exists on this machine.
    pub default_socket_dir: Option<PathBuf>,
}

impl Environment<'static> {
    /// The real process environment.
    pub fn process() -> Environment<'static> {
        fn var(k: &str) -> Option<String> {
            std::env::var(k).ok().filter(|s| !s.is_empty())
        }
        Environment {
            var: &var,
            home: var("HOME").map(PathBuf::from),
            os_user: var("USER").or_else(|| var("LOGNAME")),
            default_socket_dir: ["/var/run/postgresql", "/tmp"]
                .iter()
                .map(PathBuf::from)
                .find(|d| d.join(".s.PGSQL.5432").exists())
                .or_else(|| Some(PathBuf::from("/var/run/postgresql")).filter(|d| d.is_dir())),
        }
    }
}

/// A setting that cannot be used: the message names it, never a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConnInfoError(pub String);

/// Keywords libpq knows. Those that change what is connected to or how it is
/// secured and that we cannot honour are refused rather than ignored.
const SUPPORTED: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "connect_timeout",
    "options",
    "application_name",
    "fallback_application_name",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslnegotiation",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "channel_binding",
    "target_session_attrs",
];
/// Keywords libpq knows that only tune the connection: accepted and ignored.
const IGNORED: &[&str] = &[
    "client_encoding",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "sslcompression",
    "sslsni",
    "krbsrvname",
    "gsslib",
    "gssdelegation",
    "load_balance_hosts",
];
/// Keywords libpq knows that we cannot honour.
const UNSUPPORTED: &[&str] = &[
    "service",
    "replication",
    "gssencmode",
    "sslpassword",
    "sslcertmode",
    "sslcrl",
    "sslcrldir",
    "requirepeer",
    "require_auth",
];

/// The `PG*` variable for each keyword, as libpq reads them.
const ENV: &[(&str, &str)] = &[
    ("host", "PGHOST"),
    ("hostaddr", "PGHOSTADDR"),
    ("port", "PGPORT"),
    ("dbname", "PGDATABASE"),
    ("user", "PGUSER"),
    ("password", "PGPASSWORD"),
    ("passfile", "PGPASSFILE"),
    ("connect_timeout", "PGCONNECT_TIMEOUT"),
    ("options", "PGOPTIONS"),
    ("application_name", "PGAPPNAME"),
    ("sslmode", "PGSSLMODE"),
    ("sslrootcert", "PGSSLROOTCERT"),
    ("sslcert", "PGSSLCERT"),
    ("sslkey", "PGSSLKEY"),
    ("sslnegotiation", "PGSSLNEGOTIATION"),
    ("ssl_min_protocol_version", "PGSSLMINPROTOCOLVERSION"),
    ("ssl_max_protocol_version", "PGSSLMAXPROTOCOLVERSION"),
    ("channel_binding", "PGCHANNELBINDING"),
    ("target_session_attrs", "PGTARGETSESSIONATTRS"),
];

/// Resolve the settings from a connection string (URL or keywords; `None`:
/// the environment alone), the environment, and the password file.
/// `warn` receives what libpq would print as a warning.
pub fn resolve(
    conninfo: Option<&str>,
    env: &Environment<'_>,
    warn: &mut dyn FnMut(String),
) -> Result<Settings, ConnInfoError> {
    let given = match conninfo {
        Some(s) => parse(s)?,
        None => Vec::new(),
    };
    let mut params: BTreeMap<&'static str, String> = BTreeMap::new();
    let mut password_from = None;
    for (k, v) in given {
        let key = known(&k)?;
        if key == "password" {
            password_from = Some("the connection string".to_string());
        }
        params.insert(key, v);
    }
    for (key, var) in ENV {
        if !params.contains_key(key) {
            if let Some(v) = (env.var)(var) {
                if *key == "password" {
                    password_from = Some("PGPASSWORD".to_string());
                }
                params.insert(key, v);
            }
        }
    }
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());

    let user = get("user")
        .map(str::to_string)
        .or_else(|| env.os_user.clone())
        .unwrap_or_else(|| "postgres".into());
    let dbname = get("dbname").unwrap_or(&user).to_string();
    let sslmode = match get("sslmode") {
        Some(m) => SslMode::parse(m).ok_or_else(|| {
            ConnInfoError(format!(
                "invalid sslmode value: \"{m}\" (expected disable, allow, prefer, require, verify-ca or verify-full)"
            ))
        })?,
        None => SslMode::Prefer,
    };
    let endpoints = endpoints(&params, env)?;
    let connect_timeout = match get("connect_timeout") {
        // libpq: 0 or nothing waits forever; we cap the wait, and, as libpq,
        // never wait less than 2 seconds.
        Some(t) => match t.trim().parse::<i64>() {
            Ok(secs) if secs > 0 => Duration::from_secs(secs.max(2) as u64),
            Ok(_) => Duration::from_secs(3600),
            Err(_) => {
                return Err(ConnInfoError(format!(
                    "invalid connect_timeout value: \"{t}\" (expected a number of seconds)"
                )))
            }
        },
        None => Duration::from_secs(30),
    };
    let (sslrootcert, sslrootcert_given) = match get("sslrootcert") {
        Some(r) => (Some(r.to_string()), true),
        None => (
            env.home
                .as_ref()
                .map(|h| h.join(".postgresql/root.crt").display().to_string()),
            false,
        ),
    };
    let default_file = |key: &str, name: &str| {
        get(key).map(PathBuf::from).or_else(|| {
            env.home
                .as_ref()
                .map(|h| h.join(".postgresql").join(name))
                .filter(|p| p.exists())
        })
    };
    let tls13_only = match get("ssl_min_protocol_version") {
        None | Some("TLSv1" | "TLSv1.1" | "TLSv1.2") => false,
        Some("TLSv1.3") => true,
        Some(v) => {
            return Err(ConnInfoError(format!(
                "invalid ssl_min_protocol_version value: \"{v}\" (expected TLSv1.2 or TLSv1.3)"
            )))
        }
    };
    if let Some(v) = get("ssl_max_protocol_version") {
        if !matches!(v, "TLSv1.2" | "TLSv1.3") {
            return Err(ConnInfoError(format!(
                "invalid ssl_max_protocol_version value: \"{v}\" (TLS 1.2 and 1.3 are supported)"
            )));
        }
    }
    let ssl_direct = match get("sslnegotiation") {
        None | Some("postgres") => false,
        Some("direct") => true,
        Some(v) => {
            return Err(ConnInfoError(format!(
                "invalid sslnegotiation value: \"{v}\" (expected postgres or direct)"
            )))
        }
    };
    let channel_binding = match get("channel_binding") {
        None => None,
        Some(v) => {
            use tokio_postgres::config::ChannelBinding;
            Some(match v {
                "disable" => ChannelBinding::Disable,
                "prefer" => ChannelBinding::Prefer,
                "require" => ChannelBinding::Require,
                _ => {
                    return Err(ConnInfoError(format!(
                    "invalid channel_binding value: \"{v}\" (expected disable, prefer or require)"
                )))
                }
            })
        }
    };
    let target_session_attrs = match get("target_session_attrs") {
        None => None,
        Some(v) => {
            use tokio_postgres::config::TargetSessionAttrs;
            Some(match v {
                "any" => TargetSessionAttrs::Any,
                "read-write" => TargetSessionAttrs::ReadWrite,
                "read-only" => TargetSessionAttrs::ReadOnly,
                _ => {
                    return Err(ConnInfoError(format!(
                        "target_session_attrs \"{v}\" is not supported (use any, read-write or read-only)"
                    )))
                }
            })
        }
    };
    let mut settings = Settings {
        nothing_given: false,
        endpoints,
        user,
        dbname,
        sslmode,
        sslrootcert,
        sslrootcert_given,
        sslcert: default_file("sslcert", "postgresql.crt"),
        sslkey: default_file("sslkey", "postgresql.key"),
        tls13_only,
        application_name: get("application_name")
            .or(get("fallback_application_name"))
            .unwrap_or("reconcile")
            .to_string(),
        connect_timeout,
        options: get("options").map(str::to_string),
        ssl_direct,
        channel_binding,
        target_session_attrs,
    };
    match get("password") {
        Some(p) => {
            for e in &mut settings.endpoints {
                e.password = Some(p.to_string());
                e.password_from = password_from.clone();
            }
        }
        None => {
            let passfile = get("passfile")
                .map(PathBuf::from)
                .or_else(|| env.home.as_ref().map(|h| h.join(".pgpass")));
            if let Some(file) = passfile {
                from_password_file(&mut settings, &file, warn);
            }
        }
    }
    Ok(settings)
}

fn known(k: &str) -> Result<&'static str, ConnInfoError> {
    if let Some(k) = SUPPORTED.iter().chain(IGNORED).find(|s| **s == k) {
        return Ok(k);
    }
    if UNSUPPORTED.contains(&k) {
        return Err(ConnInfoError(format!(
            "connection option \"{k}\" is not supported by reconcile"
        )));
    }
    Err(ConnInfoError(format!("invalid connection option \"{k}\"")))
}

/// The servers to try: `host`, `hostaddr` and `port` are comma-separated
/// lists of the same length (a single port applies to every host).
fn endpoints(
    params: &BTreeMap<&'static str, String>,
    env: &Environment<'_>,
) -> Result<Vec<Endpoint>, ConnInfoError> {
    let list = |k: &str| -> Vec<String> {
        params
            .get(k)
            .filter(|v| !v.is_empty())
            .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default()
    };
    let hosts = list("host");
    let addrs = list("hostaddr");
    let ports = list("port");
    let n = hosts.len().max(addrs.len()).max(1);
    if (!hosts.is_empty() && hosts.len() != n) || (!addrs.is_empty() && addrs.len() != n) {
        return Err(ConnInfoError(format!(
            "could not match {} host names to {} hostaddr values",
            hosts.len(),
            addrs.len()
        )));
    }
    if ports.len() > 1 && ports.len() != n {
        return Err(ConnInfoError(format!(
            "could not match {} port numbers to {n} hosts",
            ports.len()
        )));
    }
    let mut out = Vec::new();
    for i in 0..n {
        let addr = match addrs.get(i).filter(|a| !a.is_empty()) {
            Some(a) => Some(a.parse::<IpAddr>().map_err(|_| {
                ConnInfoError(format!(
                    "invalid hostaddr value: \"{a}\" (expected an IP address)"
                ))
            })?),
            None => None,
        };
        let host = match hosts.get(i).filter(|h| !h.is_empty()) {
            Some(h) if h.starts_with('/') || h.starts_with('@') => Host::Unix(PathBuf::from(h)),
            Some(h) => Host::Tcp(h.clone()),
            None => match addr {
                Some(a) => Host::Tcp(a.to_string()),
                None => match &env.default_socket_dir {
                    Some(dir) => Host::Unix(dir.clone()),
                    None => Host::Tcp("localhost".into()),
                },
            },
        };
        let port = match ports.get(i).or(ports.first()).filter(|p| !p.is_empty()) {
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| ConnInfoError(format!("invalid port number: \"{p}\"")))?,
            None => 5432,
        };
        out.push(Endpoint {
            host,
            hostaddr: addr,
            port,
            password: None,
            password_from: None,
        });
    }
    Ok(out)
}

/// libpq's password file: `host:port:database:user:password` lines, `*`
/// matching anything, `\` escaping `:` and `\`. A socket connection matches
/// `localhost`. A file that others can read is ignored, with libpq's warning.
fn from_password_file(settings: &mut Settings, file: &Path, warn: &mut dyn FnMut(String)) {
    let Ok(meta) = std::fs::metadata(file) else {
        return;
    };
    if !meta.is_file() {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            warn(format!(
                "WARNING: password file \"{}\" has group or world access; permissions should be u=rw (0600) or less",
                file.display()
            ));
            return;
        }
    }
    let Ok(text) = std::fs::read_to_string(file) else {
        return;
    };
    for e in &mut settings.endpoints {
        let host = match &e.host {
            Host::Tcp(h) => h.as_str(),
            Host::Unix(_) => "localhost",
        };
        let port = e.port.to_string();
        let wanted = [host, port.as_str(), &settings.dbname, &settings.user];
        let found = text.lines().find_map(|line| {
            if line.starts_with('#') {
                return None;
            }
            let fields = password_fields(line)?;
            let matches = fields[..4]
                .iter()
                .zip(wanted)
                .all(|(f, w)| f == "*" || f == w);
            matches.then(|| fields[4].clone())
        });
        if let Some(p) = found {
            e.password = Some(p);
            e.password_from = Some(format!("password file {}", file.display()));
        }
    }
}

/// The five fields of a password-file line (the last takes the rest), unescaped.
fn password_fields(line: &str) -> Option<[String; 5]> {
    let mut fields: Vec<String> = vec![String::new()];
    let mut chars = line.trim_end_matches('\r').chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    fields.last_mut()?.push(n);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut()?.push(c),
        }
    }
    fields.try_into().ok()
}

/// Split a connection string into `(keyword, value)` pairs: a URL or keywords.
pub fn parse(s: &str) -> Result<Vec<(String, String)>, ConnInfoError> {
    let t = s.trim();
    if t.starts_with("postgresql://") || t.starts_with("postgres://") {
        parse_url(t)
    } else if t.contains("://") {
        Err(ConnInfoError(
            "invalid connection string: the URL scheme must be postgresql:// or postgres://".into(),
        ))
    } else {
        parse_keywords(t)
    }
}

/// `key=value key='quoted value'` (libpq's keyword/value form).
fn parse_keywords(s: &str) -> Result<Vec<(String, String)>, ConnInfoError> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(ConnInfoError(format!(
                "missing \"=\" after \"{key}\" in connection info string"
            )));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => {
                        return Err(ConnInfoError(format!(
                            "unterminated quoted string in connection info string (the value of \"{key}\")"
                        )))
                    }
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        out.push((key, value));
    }
}

/// `postgresql://[user[:password]@][host[:port][,...]][/dbname][?key=value&...]`.
fn parse_url(s: &str) -> Result<Vec<(String, String)>, ConnInfoError> {
    let rest = s.split_once("://").map_or(s, |(_, r)| r);
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (authority, dbname) = match rest.split_once('/') {
        Some((a, d)) => (a, Some(d)),
        None => (rest, None),
    };
    let mut out = Vec::new();
    let (userinfo, hostlist) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if let Some(u) = userinfo {
        let (user, password) = match u.split_once(':') {
            Some((user, p)) => (user, Some(p)),
            None => (u, None),
        };
        if !user.is_empty() {
            out.push(("user".into(), decode(user, "user name")?));
        }
        if let Some(p) = password {
            // Never quote a password in an error: say only where it is.
            let p = decode(p, "password").map_err(|_| {
                ConnInfoError("invalid percent-encoding in the URL's password".into())
            })?;
            out.push(("password".into(), p));
        }
    }
    if !hostlist.is_empty() {
        let mut hosts = Vec::new();
        let mut ports = Vec::new();
        for spec in hostlist.split(',') {
            let (host, port) = if let Some(v6) = spec.strip_prefix('[') {
                let (h, after) = v6.split_once(']').ok_or_else(|| {
                    ConnInfoError(format!(
                        "missing \"]\" in IPv6 host address in URL: \"{spec}\""
                    ))
                })?;
                (h.to_string(), after.strip_prefix(':').unwrap_or(""))
            } else {
                match spec.rsplit_once(':') {
                    Some((h, p)) => (decode(h, "host")?, p),
                    None => (decode(spec, "host")?, ""),
                }
            };
            hosts.push(host);
            ports.push(port.to_string());
        }
        if hosts.iter().any(|h| !h.is_empty()) {
            out.push(("host".into(), hosts.join(",")));
        }
        if ports.iter().any(|p| !p.is_empty()) {
            out.push(("port".into(), ports.join(",")));
        }
    }
    if let Some(d) = dbname.filter(|d| !d.is_empty()) {
        out.push(("dbname".into(), decode(d, "database name")?));
    }
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').ok_or_else(|| {
            ConnInfoError(format!(
                "missing key/value separator \"=\" in URI query parameter: \"{pair}\""
            ))
        })?;
        let k = decode(k, "query parameter")?;
        let v = if k == "password" {
            decode(v, "password").map_err(|_| {
                ConnInfoError("invalid percent-encoding in the URL's password".into())
            })?
        } else {
            decode(v, "query parameter")?
        };
        // The JDBC spelling `ssl=true`, as libpq accepts it.
        if k == "ssl" {
            if v == "true" {
                out.push(("sslmode".into(), "require".into()));
                continue;
            }
            return Err(ConnInfoError(format!(
                "invalid URI query parameter: \"ssl={v}\""
            )));
        }
        out.push((k, v));
    }
    Ok(out)
}

fn decode(s: &str, what: &str) -> Result<String, ConnInfoError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(b) => out.push(b),
                None => {
                    return Err(ConnInfoError(format!(
                        "invalid percent-encoded token in the URL's {what}: \"{s}\""
                    )))
                }
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| ConnInfoError(format!("the URL's {what} is not UTF-8 once decoded")))
}

/// A connection string with its password replaced by `****`, for any message
/// that must show the string itself.
pub fn redact(s: &str) -> String {
    let t = s.trim();
    if t.starts_with("postgresql://") || t.starts_with("postgres://") {
        let (scheme, rest) = t.split_once("://").unwrap_or(("", t));
        let (main, query) = match rest.split_once('?') {
            Some((m, q)) => (m, Some(q)),
            None => (rest, None),
        };
        let main = match main.split_once('/') {
            Some((auth, db)) => format!("{}/{db}", redact_userinfo(auth)),
            None => redact_userinfo(main),
        };
        let query = query.map(|q| {
            q.split('&')
                .map(|p| match p.split_once('=') {
                    Some(("password", _)) => "password=****".to_string(),
                    _ => p.to_string(),
                })
                .collect::<Vec<_>>()
                .join("&")
        });
        match query {
            Some(q) => format!("{scheme}://{main}?{q}"),
            None => format!("{scheme}://{main}"),
        }
    } else {
        match parse_keywords(t) {
            Ok(pairs) => pairs
                .iter()
                .map(|(k, v)| {
                    if k == "password" {
                        format!("{k}=****")
                    } else {
                        format!("{k}={v}")
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
            Err(_) => "(a connection string that could not be parsed)".into(),
        }
    }
}

fn redact_userinfo(authority: &str) -> String {
    match authority.rsplit_once('@') {
        Some((user, hosts)) => match user.split_once(':') {
            Some((u, _)) => format!("{u}:****@{hosts}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of<'a>(vars: &'a [(&'a str, &'a str)], home: Option<&Path>) -> Environment<'a> {
        let lookup = move |k: &str| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        };
        Environment {
            var: Box::leak(Box::new(lookup)),
            home: home.map(Path::to_path_buf),
            os_user: Some("osuser".into()),
            default_socket_dir: Some(PathBuf::from("/var/run/postgresql")),
        }
    }

    fn settings(s: Option<&str>, vars: &[(&str, &str)]) -> Settings {
        resolve(s, &env_of(vars, None), &mut |_| {}).expect("resolves")
    }

    #[test]
    fn url_and_keywords_give_the_same_settings() {
        let a = settings(
            Some("postgresql://alice:s%40cret@db.example.com:6543/app?sslmode=verify-full&sslrootcert=/ca.pem&application_name=deploy"),
            &[],
        );
        let b = settings(
            Some("host=db.example.com port=6543 user=alice password='s@cret' dbname=app sslmode=verify-full sslrootcert=/ca.pem application_name=deploy"),
            &[],
        );
        for s in [&a, &b] {
            assert_eq!(s.endpoints.len(), 1);
            assert_eq!(s.endpoints[0].host, Host::Tcp("db.example.com".into()));
            assert_eq!(s.endpoints[0].port, 6543);
            assert_eq!(s.endpoints[0].password.as_deref(), Some("s@cret"));
            assert_eq!(s.user, "alice");
            assert_eq!(s.dbname, "app");
            assert_eq!(s.sslmode, SslMode::VerifyFull);
            assert_eq!(s.sslrootcert.as_deref(), Some("/ca.pem"));
            assert_eq!(s.application_name, "deploy");
        }
        assert_eq!(a.describe(), b.describe());
        assert!(!a.describe().contains("s@cret"));
    }

    #[test]
    fn the_string_wins_over_the_environment_which_wins_over_defaults() {
        let vars = [
            ("PGHOST", "envhost"),
            ("PGPORT", "7000"),
            ("PGUSER", "envuser"),
            ("PGDATABASE", "envdb"),
            ("PGSSLMODE", "require"),
            ("PGAPPNAME", "envapp"),
            ("PGPASSWORD", "envpw"),
        ];
        let s = settings(Some("postgres://urluser@urlhost/urldb"), &vars);
        assert_eq!(s.endpoints[0].host, Host::Tcp("urlhost".into()));
        assert_eq!(s.endpoints[0].port, 7000);
        assert_eq!(s.user, "urluser");
        assert_eq!(s.dbname, "urldb");
        assert_eq!(s.sslmode, SslMode::Require);
        assert_eq!(s.application_name, "envapp");
        assert_eq!(s.endpoints[0].password.as_deref(), Some("envpw"));
        assert_eq!(s.endpoints[0].password_from.as_deref(), Some("PGPASSWORD"));
        let d = settings(None, &[]);
        assert_eq!(
            d.endpoints[0].host,
            Host::Unix(PathBuf::from("/var/run/postgresql"))
        );
        assert_eq!(d.endpoints[0].port, 5432);
        assert_eq!(d.user, "osuser");
        assert_eq!(d.dbname, "osuser");
        assert_eq!(d.sslmode, SslMode::Prefer);
        assert_eq!(d.application_name, "reconcile");
    }

    #[test]
    fn several_hosts_ipv6_sockets_and_hostaddr() {
        let s = settings(Some("postgresql://h1:5433,[::1]:5434,h3/db"), &[]);
        let got: Vec<(Host, u16)> = s
            .endpoints
            .iter()
            .map(|e| (e.host.clone(), e.port))
            .collect();
        assert_eq!(
            got,
            vec![
                (Host::Tcp("h1".into()), 5433),
                (Host::Tcp("::1".into()), 5434),
                (Host::Tcp("h3".into()), 5432)
            ]
        );
        let s = settings(Some("postgresql://%2Ftmp%2Fpg:5499/db"), &[]);
        assert_eq!(s.endpoints[0].host, Host::Unix(PathBuf::from("/tmp/pg")));
        let s = settings(Some("host=db.example.com hostaddr=127.0.0.1 port=5"), &[]);
        assert_eq!(s.endpoints[0].hostaddr, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(s.endpoints[0].host, Host::Tcp("db.example.com".into()));
    }

    #[test]
    fn bad_settings_are_named_and_never_show_the_password() {
        let bad = [
            ("postgresql://u:pw@h/db?sslmode=sometimes", "sslmode"),
            ("postgresql://u:pw@h:notaport/db", "port"),
            ("host=h sslcrl=/x", "sslcrl"),
            ("host=h colour=blue", "colour"),
            ("host=h password='unterminated", "unterminated"),
            ("mysql://u:pw@h/db", "scheme"),
            ("postgresql://u:p%zzw@h/db", "password"),
            ("host=h hostaddr=not-an-ip", "hostaddr"),
        ];
        for (s, word) in bad {
            let e = resolve(Some(s), &env_of(&[], None), &mut |_| {}).unwrap_err();
            assert!(e.0.contains(word), "{s}: {e}");
            assert!(!e.0.contains("pw") && !e.0.contains("p%zzw"), "{s}: {e}");
        }
    }

    #[test]
    fn redaction_hides_every_password() {
        assert_eq!(
            redact("postgresql://u:hunter2@h:5/db?sslmode=require&password=x"),
            "postgresql://u:****@h:5/db?sslmode=require&password=****"
        );
        assert_eq!(
            redact("host=h password='hunter 2' user=u"),
            "host=h password=**** user=u"
        );
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
    }

    #[test]
    fn the_password_file_matches_host_port_database_user_with_wildcards() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(
            &file,
            "# comment\nother:5432:*:*:no\ndb.example.com:6543:app:alice:first\n*:*:*:alice:wild\\:card\\\\\n",
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let pf = file.display().to_string();
        let vars = [("PGPASSFILE", pf.as_str())];
        let s = settings(Some("postgresql://alice@db.example.com:6543/app"), &vars);
        assert_eq!(s.endpoints[0].password.as_deref(), Some("first"));
        assert!(s.endpoints[0]
            .password_from
            .as_deref()
            .is_some_and(|f| f.contains("pgpass")));
        let s = settings(Some("postgresql://alice@elsewhere/x"), &vars);
        assert_eq!(s.endpoints[0].password.as_deref(), Some("wild:card\\"));
        let s = settings(Some("postgresql://bob@elsewhere/x"), &vars);
        assert_eq!(s.endpoints[0].password, None);
        // A socket connection matches `localhost`.
        std::fs::write(&file, "localhost:5432:*:carol:sock\n").unwrap();
        let s = settings(Some("host=/var/run/postgresql user=carol"), &vars);
        assert_eq!(s.endpoints[0].password.as_deref(), Some("sock"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            let mut warnings = Vec::new();
            let s = resolve(
                Some("host=/var/run/postgresql user=carol"),
                &env_of(&vars, None),
                &mut |w| warnings.push(w),
            )
            .unwrap();
            assert_eq!(s.endpoints[0].password, None);
            assert!(
                warnings[0].contains("group or world access"),
                "{warnings:?}"
            );
        }
    }
}
