//! Connecting as libpq does, against real servers: a cluster that accepts only
//! TLS with scram-sha-256 passwords (its certificate signed by a throwaway CA
//! made here with openssl), and PgBouncer in transaction pooling mode in front
//! of the shared cluster.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::harness::{self, run, run_with_env, Run, TestDb};

/// The role the TLS cluster's tests log in as, and its password (with the
/// characters that must be escaped in a URL and in a password file).
const USER: &str = "app";
const PASSWORD: &str = "s3cret:p@ss";
const PASSWORD_URL: &str = "s3cret%3Ap%40ss";

struct Secure {
    server: harness::Server,
    /// ca.crt (signed the server's certificate), other-ca.crt (did not).
    certs: PathBuf,
}

static SECURE: OnceLock<Secure> = OnceLock::new();

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl (it is needed to make the test certificates)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate it signs for `localhost` and 127.0.0.1, and a second CA.
fn make_certificates(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    for (name, cn) in [("ca", "reconcile test CA"), ("other-ca", "another CA")] {
        let (key, crt, subj) = (
            format!("{name}.key"),
            format!("{name}.crt"),
            format!("/CN={cn}"),
        );
        let mut args = vec!["req", "-x509"];
        args.extend(ec);
        args.extend(["-keyout", &key, "-out", &crt, "-days", "2", "-subj", &subj]);
        args.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
        args.extend(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
        openssl(&args, dir);
    }
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    openssl(&args, dir);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
        dir,
    );
}

fn secure() -> &'static Secure {
    SECURE.get_or_init(|| {
        let certs = std::env::temp_dir().join(format!("reconcile-certs-{}", std::process::id()));
        make_certificates(&certs);
        let server = harness::start_server(
            "tls",
            &["--auth-local=trust", "--auth-host=scram-sha-256"],
            |data| {
                for f in ["server.crt", "server.key"] {
                    std::fs::copy(certs.join(f), data.join(f)).unwrap();
                }
                // TLS only, over TCP; the socket (trust) is for the tests' own setup.
                std::fs::write(
                    data.join("pg_hba.conf"),
                    "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\nhostssl all all ::1/128 scram-sha-256\n",
                )
                .unwrap();
                harness::chown_to_postgres(data);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(
                        data.join("server.key"),
                        std::fs::Permissions::from_mode(0o600),
                    )
                    .unwrap();
                }
            },
            "-c ssl=on -c password_encryption=scram-sha-256",
        );
        harness::on_exit("true", &certs);
        let s = Secure { server, certs };
        harness::psql_ok(
            &s.admin(),
            &format!("CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'"),
        );
        s
    })
}

impl Secure {
    /// psql over the Unix socket, as postgres (trust).
    fn admin(&self) -> String {
        format!(
            "host={} port={} user=postgres dbname=postgres",
            self.server.dir.display(),
            self.server.port
        )
    }

    /// A database of the test's own, owned by the role the tests log in as.
    fn database(&self, prefix: &str) -> String {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("tls_{prefix}_{}_{n}", std::process::id());
        harness::psql_ok(
            &self.admin(),
            &format!("CREATE DATABASE {name} OWNER {USER}"),
        );
        name
    }

    fn ca(&self) -> String {
        self.certs.join("ca.crt").display().to_string()
    }
}

fn example_schema() -> String {
    harness::repo().join("schema").display().to_string()
}

/// `plan` of the example schema with a connection string (or none), the
/// environment `vars` and a home of its own (nothing of this machine's).
fn plan_with(conninfo: Option<&str>, vars: &[(&str, &str)], home: &Path) -> Run {
    let schema = example_schema();
    let mut args = vec!["plan", "--schema", &schema, "--format", "json"];
    if let Some(c) = conninfo {
        args.extend(["--database-url", c]);
    }
    run_with_env(&args, vars, home)
}

fn assert_connected(r: &Run, what: &str) {
    assert_eq!(r.code, 0, "{what}: expected to connect\n{r}");
    let v: serde_json::Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{what}: plan JSON ({e})\n{r}"));
    assert!(v["statements"].is_array(), "{what}\n{r}");
}

/// The number of statements of a plan printed as JSON.
fn statements(r: &Run) -> usize {
    assert_connected(r, "plan");
    serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()["statements"]
        .as_array()
        .map_or(0, Vec::len)
}

fn assert_fails(r: &Run, what: &str, words: &[&str]) {
    assert_eq!(r.code, 1, "{what}: expected exit 1\n{r}");
    // On stderr, or under --format json the `error` of the JSON answer on stdout.
    let message = match serde_json::from_str::<serde_json::Value>(&r.stdout) {
        Ok(v) => v["error"].as_str().unwrap_or_default().to_string(),
        Err(_) => r.stderr.clone(),
    };
    for w in words {
        assert!(message.contains(w), "{what}: the message lacks `{w}`\n{r}");
    }
    for secret in [PASSWORD, PASSWORD_URL, "wrong-password"] {
        assert!(
            !r.stdout.contains(secret) && !r.stderr.contains(secret),
            "{what}: the password appears in the output\n{r}"
        );
    }
}

#[test]
fn tls_require_connects_and_applies_and_verify_full_checks_ca_and_host_name() {
    let s = secure();
    let db = s.database("verify");
    let home = tempfile::tempdir().unwrap();
    let port = s.server.port;
    let url = format!("postgresql://{USER}:{PASSWORD_URL}@127.0.0.1:{port}/{db}?sslmode=require");

    // require: encrypted, certificate unchecked (no root certificate given).
    let schema = example_schema();
    let r = run_with_env(
        &["apply", "--schema", &schema, "--database-url", &url],
        &[],
        home.path(),
    );
    assert_eq!(r.code, 0, "apply over sslmode=require\n{r}");
    let again = plan_with(Some(&url), &[], home.path());
    assert_connected(&again, "plan after apply");
    assert_eq!(statements(&again), 0, "{again}");

    // verify-full with the CA, to the name on the certificate.
    let full = format!(
        "host=localhost port={port} user={USER} password='{PASSWORD}' dbname={db} sslmode=verify-full sslrootcert={}",
        s.ca()
    );
    assert_connected(
        &plan_with(Some(&full), &[], home.path()),
        "verify-full with the CA",
    );

    // verify-full without a root certificate: nothing to check against.
    let no_ca =
        format!("postgresql://{USER}:{PASSWORD_URL}@localhost:{port}/{db}?sslmode=verify-full");
    assert_fails(
        &plan_with(Some(&no_ca), &[], home.path()),
        "verify-full without the CA",
        &[
            "root certificate file",
            "sslrootcert",
            "sslmode=verify-full",
        ],
    );

    // A certificate for another host name: refused by verify-full only.
    let other = |mode: &str, root: &str| {
        format!(
            "host=db.other.example hostaddr=127.0.0.1 port={port} user={USER} password='{PASSWORD}' dbname={db} sslmode={mode} {root}"
        )
    };
    let root = format!("sslrootcert={}", s.ca());
    assert_fails(
        &plan_with(Some(&other("verify-full", &root)), &[], home.path()),
        "verify-full, another host name",
        &[
            "not issued for the host name \"db.other.example\"",
            "verify-full",
        ],
    );
    assert_connected(
        &plan_with(Some(&other("verify-ca", &root)), &[], home.path()),
        "verify-ca checks the chain, not the name",
    );
    assert_connected(
        &plan_with(Some(&other("require", "")), &[], home.path()),
        "require checks nothing without a root certificate",
    );

    // A root certificate that did not sign the server's: not trusted, even by require.
    let wrong_ca = format!("sslrootcert={}", s.certs.join("other-ca.crt").display());
    for mode in ["verify-ca", "require"] {
        assert_fails(
            &plan_with(Some(&other(mode, &wrong_ca)), &[], home.path()),
            &format!("{mode} with a CA that did not sign the certificate"),
            &["not trusted"],
        );
    }
}

#[test]
fn sslmode_disable_against_a_server_that_demands_tls_fails_clearly() {
    let s = secure();
    let db = s.database("disable");
    let home = tempfile::tempdir().unwrap();
    let url = format!(
        "postgresql://{USER}:{PASSWORD_URL}@127.0.0.1:{}/{db}?sslmode=disable",
        s.server.port
    );
    assert_fails(
        &plan_with(Some(&url), &[], home.path()),
        "sslmode=disable",
        &["only over TLS", "sslmode=disable", "no encryption"],
    );
    // allow: plain first, then TLS when plain is refused.
    let allow = url.replace("sslmode=disable", "sslmode=allow");
    assert_connected(&plan_with(Some(&allow), &[], home.path()), "sslmode=allow");
}

#[test]
fn passwords_from_the_url_pgpassword_and_the_password_file() {
    let s = secure();
    let db = s.database("passwords");
    let home = tempfile::tempdir().unwrap();
    let port = s.server.port.to_string();
    let base = format!("postgresql://{USER}@127.0.0.1:{port}/{db}?sslmode=require");

    let from_url =
        format!("postgresql://{USER}:{PASSWORD_URL}@127.0.0.1:{port}/{db}?sslmode=require");
    assert_connected(
        &plan_with(Some(&from_url), &[], home.path()),
        "password in the URL",
    );
    assert_connected(
        &plan_with(Some(&base), &[("PGPASSWORD", PASSWORD)], home.path()),
        "PGPASSWORD",
    );

    // ~/.pgpass, with `:` escaped; then the same file through PGPASSFILE.
    let pgpass = home.path().join(".pgpass");
    std::fs::write(
        &pgpass,
        format!(
            "# host:port:database:user:password\n127.0.0.1:{port}:*:{USER}:{}\n",
            PASSWORD.replace(':', "\\:")
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    assert_connected(&plan_with(Some(&base), &[], home.path()), "~/.pgpass");
    let elsewhere = tempfile::tempdir().unwrap();
    let file = pgpass.display().to_string();
    assert_connected(
        &plan_with(Some(&base), &[("PGPASSFILE", &file)], elsewhere.path()),
        "PGPASSFILE",
    );

    // A wrong password: exit 1, says where the password came from, shows it nowhere.
    let wrong = format!("postgresql://{USER}:wrong-password@127.0.0.1:{port}/{db}?sslmode=require");
    assert_fails(
        &plan_with(Some(&wrong), &[], elsewhere.path()),
        "a wrong password in the URL",
        &["password authentication failed", "the connection string"],
    );
    assert_fails(
        &plan_with(
            Some(&base),
            &[("PGPASSWORD", "wrong-password")],
            elsewhere.path(),
        ),
        "a wrong PGPASSWORD",
        &["password authentication failed", "PGPASSWORD"],
    );
    assert_fails(
        &plan_with(Some(&base), &[], elsewhere.path()),
        "no password at all",
        &["none was given"],
    );
}

#[test]
fn keywords_and_pg_variables_reach_the_same_database_as_the_url() {
    let s = secure();
    let db = s.database("forms");
    let home = tempfile::tempdir().unwrap();
    let port = s.server.port.to_string();
    let url = format!("postgresql://{USER}:{PASSWORD_URL}@localhost:{port}/{db}?sslmode=verify-full&sslrootcert={}", s.ca());
    let schema = example_schema();
    let r = run_with_env(
        &["apply", "--schema", &schema, "--database-url", &url],
        &[],
        home.path(),
    );
    assert_eq!(r.code, 0, "apply by URL\n{r}");

    let keywords = format!(
        "host=localhost port={port} dbname={db} user={USER} password='{PASSWORD}' sslmode=verify-full sslrootcert={}",
        s.ca()
    );
    assert_eq!(statements(&plan_with(Some(&keywords), &[], home.path())), 0);
    // A Unix socket directory as host (no TLS there, as libpq).
    let socket = format!(
        "host={} port={port} dbname={db} user=postgres sslmode=require",
        s.server.dir.display()
    );
    assert_eq!(statements(&plan_with(Some(&socket), &[], home.path())), 0);
    let ca = s.ca();
    let vars = [
        ("PGHOST", "localhost"),
        ("PGPORT", port.as_str()),
        ("PGDATABASE", db.as_str()),
        ("PGUSER", USER),
        ("PGPASSWORD", PASSWORD),
        ("PGSSLMODE", "verify-full"),
        ("PGSSLROOTCERT", ca.as_str()),
        ("PGAPPNAME", "deploy-bot"),
    ];
    assert_eq!(statements(&plan_with(None, &vars, home.path())), 0);
    // The same variables with another database: the example schema is all missing there.
    let empty = s.database("forms_empty");
    let mut other = vars;
    other[2] = ("PGDATABASE", empty.as_str());
    assert!(statements(&plan_with(None, &other, home.path())) > 0);
}

// ---- PgBouncer in transaction pooling mode, in front of the shared cluster.

static BOUNCER: OnceLock<u16> = OnceLock::new();

/// The pgbouncer program; None (see `harness::missing`) when it is not installed.
fn pgbouncer_bin() -> Option<PathBuf> {
    let found = [
        "/usr/sbin/pgbouncer",
        "/usr/bin/pgbouncer",
        "/usr/local/bin/pgbouncer",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists());
    if found.is_none() {
        harness::missing(
            "pgbouncer not found: install it (Debian: apt-get install pgbouncer; .ci/run does)",
        );
    }
    found
}

/// The port of a PgBouncer (transaction pooling, 2 server connections per
/// database) in front of the shared cluster.
fn bouncer() -> u16 {
    *BOUNCER.get_or_init(|| {
        let target = reconcile::conninfo::resolve(
            Some(&harness::cluster().admin_url),
            &reconcile::conninfo::Environment::process(),
            &mut |_| {},
        )
        .expect("the cluster's URL");
        let e = &target.endpoints[0];
        let host = match &e.host {
            reconcile::conninfo::Host::Tcp(h) => h.clone(),
            reconcile::conninfo::Host::Unix(p) => p.display().to_string(),
        };
        let password = e
            .password
            .as_ref()
            .map(|p| format!(" password={p}"))
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!("reconcile-pgbouncer-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let port = harness::free_port();
        std::fs::write(
            dir.join("pgbouncer.ini"),
            format!(
                "[databases]\n* = host={host} port={} user={}{password}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\nauth_type = any\npool_mode = transaction\nmax_client_conn = 200\ndefault_pool_size = 2\nlogfile = {dir}/pgbouncer.log\npidfile = {dir}/pgbouncer.pid\n",
                e.port,
                target.user,
                dir = dir.display()
            ),
        )
        .unwrap();
        harness::chown_to_postgres(&dir);
        let out = harness::as_pg(&pgbouncer_bin().expect("checked by the test"))
            .arg("-d")
            .arg(dir.join("pgbouncer.ini"))
            .output()
            .expect("start pgbouncer");
        assert!(
            out.status.success(),
            "pgbouncer failed to start: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(dir.join("pgbouncer.log")).unwrap_or_default()
        );
        harness::on_exit(
            &format!("kill $(cat {}/pgbouncer.pid) 2>/dev/null", dir.display()),
            &dir,
        );
        assert!(
            harness::wait_for(10, || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()),
            "pgbouncer does not listen on {port}"
        );
        port
    })
}

/// The URL of a test database through the pooler.
fn pooled(db: &TestDb) -> String {
    format!(
        "postgresql://postgres@127.0.0.1:{}/{}?sslmode=disable",
        bouncer(),
        db.name
    )
}

#[test]
fn through_pgbouncer_in_transaction_mode_plan_and_apply_behave_as_directly() {
    if pgbouncer_bin().is_none() {
        return;
    }
    let db = TestDb::new("pooler");
    let schema = example_schema();
    let url = pooled(&db);
    let direct = run(&[
        "plan",
        "--schema",
        &schema,
        "--database-url",
        &db.url,
        "--format",
        "sql",
    ]);
    let through = run(&[
        "plan",
        "--schema",
        &schema,
        "--database-url",
        &url,
        "--format",
        "sql",
    ]);
    assert_eq!(direct.code, 0, "{direct}");
    assert_eq!(through.code, 0, "{through}");
    assert_eq!(
        direct.stdout, through.stdout,
        "the plan differs through the pooler"
    );

    let first = run(&["apply", "--schema", &schema, "--database-url", &url]);
    assert_eq!(first.code, 0, "apply through the pooler\n{first}");
    let second = run(&["apply", "--schema", &schema, "--database-url", &url]);
    assert_eq!(second.code, 0, "second apply through the pooler\n{second}");
    assert_eq!(db.history_count(), 1, "the second apply recorded a change");
    harness::assert_replan_empty(Path::new(&schema), &db);
}

#[test]
fn two_applies_at_once_through_pgbouncer_apply_once() {
    if pgbouncer_bin().is_none() {
        return;
    }
    let db = TestDb::new("pooler_concurrent");
    let schema = example_schema();
    let url = pooled(&db);
    let spawn = || {
        let (schema, url) = (schema.clone(), url.clone());
        std::thread::spawn(move || run(&["apply", "--schema", &schema, "--database-url", &url]))
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    assert_eq!(a.code, 0, "{a}");
    assert_eq!(b.code, 0, "{b}");
    assert_eq!(db.history_count(), 1, "both applied:\n{a}\n{b}");
    harness::assert_replan_empty(Path::new(&schema), &db);
}

#[test]
fn unreachable_servers_and_missing_databases_fail_with_exit_1() {
    let home = tempfile::tempdir().unwrap();
    let port = harness::free_port();
    let nobody = format!("postgresql://app:{PASSWORD_URL}@127.0.0.1:{port}/db?connect_timeout=3");
    assert_fails(
        &plan_with(Some(&nobody), &[], home.path()),
        "nothing listens",
        &[&format!("port={port}"), "refused"],
    );
    let db = TestDb::new("missing");
    let missing = db.url.replace(&db.name, "no_such_database");
    assert_fails(
        &plan_with(Some(&missing), &[], home.path()),
        "no such database",
        &["database \"no_such_database\" does not exist"],
    );
    // Bad settings are bad input (exit 2), named, without the password.
    let bad =
        format!("postgresql://app:{PASSWORD_URL}@127.0.0.1:{port}/db?sslmode=verify-everything");
    let r = plan_with(Some(&bad), &[], home.path());
    assert_eq!(r.code, 2, "{r}");
    // `plan_with` asks for JSON: the error is its answer on stdout.
    assert!(
        r.stdout.contains("sslmode")
            && !r.stdout.contains(PASSWORD_URL)
            && !r.stderr.contains(PASSWORD_URL),
        "{r}"
    );
}

#[test]
fn apply_online_through_pgbouncer_in_transaction_mode_is_refused_before_anything_runs() {
    if pgbouncer_bin().is_none() {
        return;
    }
    let db = TestDb::new("pooler_online");
    let schema = example_schema();
    // Tables to build on: the online part needs existing tables.
    let direct = run(&["apply", "--schema", &schema, "--database-url", &db.url]);
    assert_eq!(direct.code, 0, "{direct}");
    db.sql("DROP INDEX idx_appointments_phone");
    let r = run(&[
        "apply",
        "--online",
        "--schema",
        &schema,
        "--database-url",
        &pooled(&db),
    ]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("pooler in transaction mode"), "{r}");
    assert!(r.stderr.contains("Nothing was applied"), "{r}");
    assert_eq!(
        db.query("SELECT to_regclass('idx_appointments_phone') IS NULL"),
        ["t"],
        "the index was built through the pooler"
    );
    assert_eq!(db.history_count(), 1);
    // Directly, the same online apply goes through.
    let r = run(&[
        "apply",
        "--online",
        "--schema",
        &schema,
        "--database-url",
        &db.url,
    ]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(db.history_count(), 2);
}
