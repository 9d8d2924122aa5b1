//! The test harness: one throwaway PostgreSQL cluster per test run (unless
//! DATABASE_URL points at a server), shared by every test; each test gets a
//! database of its own, so tests run in parallel.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

pub struct Cluster {
    /// URL of the maintenance database; test databases replace its path.
    pub admin_url: String,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Cluster { admin_url: url },
        _ => start_cluster(),
    })
}

pub fn pg_bin(name: &str) -> PathBuf {
    if let Ok(out) = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
    {
        let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !p.is_empty() {
            return PathBuf::from(p);
        }
    }
    for v in ["17", "16", "15", "14", "13"] {
        let p = PathBuf::from(format!("/usr/lib/postgresql/{v}/bin/{name}"));
        if p.exists() {
            return p;
        }
    }
    panic!("{name} not found: install PostgreSQL (Debian: apt-get install postgresql), or set DATABASE_URL");
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Run a PostgreSQL server program, as `postgres` when we are root (initdb refuses root).
pub fn as_pg(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .unwrap()
        .port()
}

fn start_cluster() -> Cluster {
    let server = start_server("test", &["--auth=trust"], |_| {}, "");
    Cluster {
        admin_url: format!("postgres://postgres@127.0.0.1:{}/postgres", server.port),
    }
}

/// A throwaway server: its directory (the socket is there too) and port.
pub struct Server {
    pub dir: PathBuf,
    pub port: u16,
}

/// initdb (with `initdb_auth`), `prepare` the data directory (certificates,
/// pg_hba.conf), start with `options`; stopped and removed when this test
/// process is gone.
pub fn start_server(
    name: &str,
    initdb_auth: &[&str],
    prepare: impl FnOnce(&Path),
    options: &str,
) -> Server {
    let dir = std::env::temp_dir().join(format!("reconcile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create cluster dir");
    chown_to_postgres(&dir);
    let data = dir.join("data");
    let out = as_pg(&pg_bin("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8"])
        .args(initdb_auth)
        .output()
        .expect("run initdb");
    assert!(
        out.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    prepare(&data);
    let port = free_port();
    let pg_ctl = pg_bin("pg_ctl");
    let out = as_pg(&pg_ctl)
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(dir.join("server.log"))
        .arg("-w")
        .arg("-o")
        .arg(format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 {options}",
            dir.display()
        ))
        .arg("start")
        .output()
        .expect("run pg_ctl");
    assert!(
        out.status.success(),
        "pg_ctl start failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
    );
    let stop = format!(
        "{prefix}{pg_ctl} -D {data} stop -m immediate >/dev/null 2>&1",
        prefix = if is_root() {
            "runuser -u postgres -- "
        } else {
            ""
        },
        pg_ctl = pg_ctl.display(),
        data = data.display(),
    );
    on_exit(&stop, &dir);
    Server { dir, port }
}

/// Run `stop` (a shell command) and remove `dir` once this test process is gone.
pub fn on_exit(stop: &str, dir: &Path) {
    let script = format!(
        "while [ -d /proc/{pid} ]; do sleep 0.5; done; {stop}; rm -rf {dir}",
        pid = std::process::id(),
        dir = dir.display(),
    );
    // The watcher outlives this process on purpose: it is what stops the server.
    #[allow(clippy::zombie_processes)]
    let _watcher = Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the server watcher");
}

/// Make `path` the `postgres` user's when we are root (servers run as that user).
pub fn chown_to_postgres(path: &Path) {
    if is_root() {
        let ok = Command::new("chown")
            .arg("-R")
            .arg("postgres")
            .arg(path)
            .status()
            .map(|s| s.success());
        assert_eq!(ok.ok(), Some(true), "chown postgres {}", path.display());
    }
}

/// A database of one test's own.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

/// The session settings a test database gives every connection that does not
/// set its own (`ALTER DATABASE ... SET`), as a user's database may. The
/// harness's own psql sessions always run with PostgreSQL's defaults
/// (`PGOPTIONS`); reconcile must give the same results under every flavor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// PostgreSQL's defaults.
    Plain,
    /// `standard_conforming_strings = off`: a backslash in a literal escapes.
    ScsOff,
    /// `search_path = evil, pg_catalog, public`, where `evil` holds functions
    /// and operators named like built-ins that raise an error when called.
    HostilePath,
}

impl Flavor {
    /// From `RECONCILE_TEST_SESSION` (`scs-off`, `hostile-search-path`), so a
    /// whole test run can be repeated under a flavor; `Plain` when unset.
    pub fn from_env() -> Flavor {
        match std::env::var("RECONCILE_TEST_SESSION").as_deref() {
            Ok("scs-off") => Flavor::ScsOff,
            Ok("hostile-search-path") => Flavor::HostilePath,
            Ok("") | Ok("plain") | Err(_) => Flavor::Plain,
            Ok(other) => panic!(
                "RECONCILE_TEST_SESSION={other}: expected plain, scs-off or hostile-search-path"
            ),
        }
    }
}

/// Functions and operators named like the built-ins our statements use, each
/// raising an error: with `evil` before `pg_catalog` in the search path, a
/// statement that does not pin its own path calls them.
const HOSTILE_SCHEMA: &str = r#"
CREATE SCHEMA evil;
CREATE FUNCTION evil.trap() RETURNS boolean LANGUAGE plpgsql AS $f$BEGIN RAISE EXCEPTION 'hostile object from search_path called'; END$f$;
DO $d$
DECLARE
  t text;
  f text;
BEGIN
  FOREACH t IN ARRAY ARRAY['integer', 'bigint', 'smallint', 'text', 'oid', 'name', '"char"', 'boolean', 'regclass'] LOOP
    EXECUTE format('CREATE FUNCTION evil.eq(%1$s, %1$s) RETURNS boolean LANGUAGE sql AS $q$SELECT evil.trap()$q$', t);
    EXECUTE format('CREATE OPERATOR evil.= (LEFTARG = %1$s, RIGHTARG = %1$s, FUNCTION = evil.eq)', t);
    EXECUTE format('CREATE OPERATOR evil.<> (LEFTARG = %1$s, RIGHTARG = %1$s, FUNCTION = evil.eq)', t);
  END LOOP;
  FOREACH f IN ARRAY ARRAY['lower(text)', 'upper(text)', 'now()', 'pg_backend_pid()', 'set_config(text, text, boolean)',
      'current_setting(text)', 'format_type(oid, integer)', 'pg_get_expr(pg_node_tree, oid)', 'to_regclass(text)',
      'pg_get_constraintdef(oid)', 'pg_get_indexdef(oid)', 'pg_try_advisory_xact_lock(bigint)',
      'pg_try_advisory_lock(bigint)', 'pg_advisory_xact_lock(bigint)', 'quote_ident(text)', 'format(text)',
      'gen_random_uuid()'] LOOP
    EXECUTE format('CREATE FUNCTION evil.%s RETURNS text LANGUAGE plpgsql AS $q$BEGIN RAISE EXCEPTION ''hostile %s called''; END$q$', f, f);
  END LOOP;
END
$d$;
"#;

impl TestDb {
    /// A database of its own, with the flavor of `RECONCILE_TEST_SESSION`.
    pub fn new(prefix: &str) -> TestDb {
        TestDb::with_flavor(prefix, Flavor::from_env())
    }

    /// A database of its own whose sessions get `flavor`'s settings.
    pub fn with_flavor(prefix: &str, flavor: Flavor) -> TestDb {
        let c = cluster();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!(
            "t_{}_{}_{n}",
            prefix
                .to_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            std::process::id()
        );
        psql_ok(&c.admin_url, &format!("CREATE DATABASE {name}"));
        let base = c
            .admin_url
            .rsplit_once('/')
            .map_or(c.admin_url.as_str(), |(b, _)| b);
        let (base, query) = match c.admin_url.split_once('?') {
            Some((u, q)) => (u.rsplit_once('/').map_or(u, |(b, _)| b), format!("?{q}")),
            None => (base, String::new()),
        };
        let db = TestDb {
            url: format!("{base}/{name}{query}"),
            name,
        };
        match flavor {
            Flavor::Plain => {}
            Flavor::ScsOff => db.sql(&format!(
                "ALTER DATABASE {} SET standard_conforming_strings = off",
                db.name
            )),
            Flavor::HostilePath => {
                db.sql(HOSTILE_SCHEMA);
                db.sql(&format!(
                    "ALTER DATABASE {} SET search_path = evil, pg_catalog, public",
                    db.name
                ));
            }
        }
        db
    }

    /// The number of entries in `_reconcile.history` (the table must exist).
    #[allow(dead_code)]
    pub fn history_count(&self) -> usize {
        self.query("SELECT count(*) FROM _reconcile.history")
            .first()
            .and_then(|r| r.parse().ok())
            .unwrap_or(0)
    }

    /// Run SQL; panic with psql's message when it fails.
    #[allow(dead_code)]
    pub fn sql(&self, sql: &str) {
        psql_ok(&self.url, sql);
    }

    /// Load a file with psql (as a user would).
    pub fn load_file(&self, path: &Path) {
        if let Err(e) = self.try_load_file(path) {
            panic!("{e}");
        }
    }

    pub fn try_load_file(&self, path: &Path) -> Result<(), String> {
        let out = psql_cmd(&self.url)
            .arg("-f")
            .arg(path)
            .output()
            .expect("run psql");
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "psql -f {} failed: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// The rows of a query, as text lines (`|`-separated columns).
    pub fn query(&self, sql: &str) -> Vec<String> {
        let out = psql_cmd(&self.url)
            .args(["-A", "-t", "-c", sql])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "query failed: {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// A fingerprint of the schema: every relation, column, constraint and index.
    pub fn schema_snapshot(&self) -> Vec<String> {
        self.query(
            "SELECT 'rel ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') \
             UNION ALL SELECT 'col ' || attrelid::regclass || '.' || attname || ' ' || format_type(atttypid, atttypmod) || ' ' || attnotnull::text \
               FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE attnum > 0 AND NOT attisdropped AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') \
             UNION ALL SELECT 'def ' || adrelid::regclass || ' ' || pg_get_expr(adbin, adrelid) FROM pg_attrdef \
             UNION ALL SELECT 'con ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid <> 0 \
             UNION ALL SELECT 'enum ' || enumtypid::regtype || ' ' || enumlabel FROM pg_enum \
             UNION ALL SELECT 'proc ' || p.oid::regprocedure || ' ' || CASE WHEN p.prokind = 'a' THEN '' ELSE pg_get_functiondef(p.oid) END \
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
               WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
             UNION ALL SELECT 'view ' || c.oid::regclass || ' ' || pg_get_viewdef(c.oid) FROM pg_class c \
               JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE c.relkind IN ('v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
             UNION ALL SELECT 'trigger ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal \
             ORDER BY 1",
        )
    }
}

/// Each test's database is dropped when it ends (kept when the test
/// panicked, to look at). On the throwaway cluster too: a run creates over a
/// thousand databases of about 7.5 MB each, and kept they filled the disk of
/// a small CI machine.
impl Drop for TestDb {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = psql_cmd(&cluster().admin_url)
                .arg("-c")
                .arg(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .output();
        }
    }
}

/// psql, with PostgreSQL's default settings whatever the database sets
/// (startup options win over `ALTER DATABASE ... SET`): the harness's setup
/// and checks mean the same under every `Flavor`.
fn psql_cmd(url: &str) -> Command {
    let mut c = Command::new("psql");
    c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url]);
    c.env(
        "PGOPTIONS",
        "-c standard_conforming_strings=on -c search_path=public",
    );
    c
}

pub fn psql_ok(url: &str, sql: &str) {
    let out = psql_cmd(url).arg("-c").arg(sql).output().expect("run psql");
    assert!(
        out.status.success(),
        "psql failed: {sql}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The built binary.
pub fn reconcile(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reconcile"))
        .current_dir(repo())
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("PGHOST")
        .env_remove("PGDATABASE")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("run reconcile")
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(args: &[&str]) -> Run {
    Run::from(reconcile(args))
}

/// The binary with only `vars` of the libpq variables set, and `HOME` at
/// `home` (so that no ~/.pgpass or ~/.postgresql of this machine is read).
pub fn run_with_env(args: &[&str], vars: &[(&str, &str)], home: &Path) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_reconcile"));
    c.current_dir(repo()).args(args).env("HOME", home);
    for (k, _) in std::env::vars() {
        if k.starts_with("PG") || k == "DATABASE_URL" {
            c.env_remove(k);
        }
    }
    for (k, v) in vars {
        c.env(k, v);
    }
    Run::from(c.output().expect("run reconcile"))
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        Run {
            code: out.status.code().unwrap_or(-1),
            // The hostile flavor's own schema is the harness's, not the test's.
            stdout: if Flavor::from_env() == Flavor::HostilePath
                && !stdout.trim_start().starts_with(['{', '['])
            {
                without_hostile_schema(&stdout)
            } else {
                stdout
            },
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A schema directory of one file.
pub fn schema_of(toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.toml"), toml).unwrap();
    dir
}

/// `reconcile dump` of a test database into a new directory `schema` of a
/// temporary one (kept alive by the first value); the dump must succeed.
pub fn dump_dir(db: &TestDb) -> (tempfile::TempDir, PathBuf) {
    dump_dir_with(db, &[])
}

/// `dump_dir` with extra arguments (`--db-schema public`, `--exclude ...`).
pub fn dump_dir_with(db: &TestDb, extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("schema");
    let mut args = vec![
        "dump",
        "--database-url",
        &db.url,
        "--out",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let r = run(&args);
    assert_eq!(r.code, 0, "{r}");
    (out, dir)
}

/// `reconcile apply` of a schema to a test database, with extra arguments.
pub fn apply(schema: &Path, db: &TestDb, extra: &[&str]) -> Run {
    let mut args = vec![
        "apply",
        "--schema",
        schema.to_str().unwrap(),
        "--database-url",
        &db.url,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// The plan of `schema` against `db` runs nothing.
pub fn assert_replan_empty(schema: &Path, db: &TestDb) -> serde_json::Value {
    let (code, plan) = plan_json(schema, db);
    assert_eq!(code, 0, "{plan:#}");
    assert_eq!(
        plan["statements"].as_array().map(Vec::len),
        Some(0),
        "the re-plan is not empty: {plan:#}"
    );
    assert_eq!(plan["refused"], serde_json::json!([]), "{plan:#}");
    plan
}

/// `reconcile` with these arguments, left running, its output piped.
pub fn spawn(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_reconcile"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Wait up to `secs` for `cond`; if it never holds, kill `child` and panic
/// with `what` and the child's output.
pub fn wait_or_kill(
    child: std::process::Child,
    secs: u64,
    cond: impl FnMut() -> bool,
    what: impl FnOnce() -> String,
) -> std::process::Child {
    if wait_for(secs, cond) {
        return child;
    }
    let mut child = child;
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    panic!(
        "{}: {}\n{}",
        what(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `reconcile plan` of a schema against a test database, in a format.
pub fn plan_as(schema: &Path, db: &TestDb, format: &str) -> Run {
    run(&[
        "plan",
        "--schema",
        schema.to_str().unwrap(),
        "--database-url",
        &db.url,
        "--format",
        format,
    ])
}

/// Plan as JSON, parsed.
pub fn plan_json(schema: &Path, db: &TestDb) -> (i32, serde_json::Value) {
    let r = plan_as(schema, db, "json");
    let mut v: serde_json::Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("plan JSON does not parse ({e}):\n{r}"));
    // The hostile flavor's own schema is the harness's, not the test's.
    if Flavor::from_env() == Flavor::HostilePath {
        if let Some(list) = v["unmanaged"].as_array_mut() {
            list.retain(|o| {
                let name = o["name"].as_str().unwrap_or("");
                name != "evil" && !name.starts_with("evil.")
            });
        }
    }
    (r.code, v)
}

/// The plan text without the hostile flavor's own schema `evil` and its
/// objects, which the plan lists as unmanaged, and with the counts of
/// unmanaged objects less them.
pub fn without_hostile_schema(text: &str) -> String {
    let hostile = text
        .lines()
        .filter(|l| l.starts_with("    ") && l.contains("evil"))
        .count();
    let recount = |word: &str, n: &str| match n.parse::<usize>() {
        Ok(n) => format!("{word}{}", n.saturating_sub(hostile)),
        Err(_) => format!("{word}{n}"),
    };
    let mut out = String::new();
    let mut drop_blank = false;
    for l in text.lines() {
        if l.starts_with("    ") && l.contains("evil") {
            continue;
        }
        if std::mem::take(&mut drop_blank) && l.is_empty() {
            continue;
        }
        // A section of hostile objects only: gone with them.
        let count = l
            .strip_prefix("Unmanaged (")
            .and_then(|r| r.split_once(')'))
            .and_then(|(n, _)| n.parse::<usize>().ok());
        if count == Some(hostile) {
            drop_blank = true;
            continue;
        }
        // The headline of a plan with nothing to run counts unmanaged objects too.
        const HEAD: &str = "  No changes to run: the database matches the files, and has ";
        if let Some((n, rest)) = l.strip_prefix(HEAD).and_then(|r| r.split_once(' ')) {
            let left = n.parse::<usize>().map_or(0, |n| n.saturating_sub(hostile));
            if left == 0 {
                out.push_str("  No changes: the database matches the files.\n");
            } else {
                out.push_str(&format!("{HEAD}{left} {rest}\n"));
            }
            continue;
        }
        let l = match l
            .strip_prefix("Unmanaged (")
            .and_then(|r| r.split_once(')'))
        {
            Some((n, rest)) => format!("{}){rest}", recount("Unmanaged (", n)),
            None => l
                .split(", ")
                .map(|p| match p.strip_suffix(" unmanaged") {
                    Some(n) => format!("{} unmanaged", recount("", n)),
                    None => p.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", "),
        };
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// The plan's statements, as SQL for psql.
pub fn plan_sql(schema: &Path, db: &TestDb) -> String {
    let r = plan_as(schema, db, "sql");
    assert_eq!(r.code, 0, "plan --format sql failed:\n{r}");
    r.stdout
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Something a test needs is absent (`what` says what, and where it was
/// looked for): with `CI` or `RECONCILE_REQUIRE_ALL` set the test fails here;
/// otherwise (a clone on a machine without it) it says so on stderr, and the
/// caller returns without testing anything else.
pub fn missing(what: &str) {
    let required = ["CI", "RECONCILE_REQUIRE_ALL"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|v| !v.is_empty() && v != "false" && v != "0"));
    assert!(!required, "{what}");
    // Past the test harness's capture of passing tests' output, so it shows.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {what}");
}

/// The corpus of real-world schemas: RECONCILE_CORPUS, else ../shared/corpus;
/// None (see `missing`) when it is absent.
pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var("RECONCILE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join("../shared/corpus"));
    if dir.join("SOURCES.md").exists() {
        return Some(dir);
    }
    missing(&format!(
        "the corpus of real-world schemas is absent: looked in {}; set RECONCILE_CORPUS to its directory",
        dir.display()
    ));
    None
}

/// A session of our own, kept open (to hold locks while the binary runs).
pub struct Session {
    rt: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
    pub pid: i32,
}

impl Session {
    pub fn open(url: &str) -> Session {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let client = rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .expect("connect");
            tokio::spawn(conn);
            // PostgreSQL's defaults, whatever the test database's flavor sets.
            client
                .batch_execute("SET search_path = public; SET standard_conforming_strings = on")
                .await
                .expect("set the session's defaults");
            client
        });
        let pid = rt
            .block_on(client.query_one("SELECT pg_backend_pid()", &[]))
            .unwrap()
            .get(0);
        Session { rt, client, pid }
    }

    pub fn exec(&self, sql: &str) {
        self.rt
            .block_on(self.client.batch_execute(sql))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// `exec`, its failure returned (the server's message) instead of a panic.
    #[allow(dead_code)]
    pub fn try_exec(&self, sql: &str) -> Result<(), String> {
        self.rt
            .block_on(self.client.batch_execute(sql))
            .map_err(|e| format!("{sql}: {e}"))
    }

    /// How many sessions of `reconcile` this database has (`and` narrows it).
    pub fn reconcile_sessions(&self, and: &str) -> usize {
        self.value(&format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'reconcile' \
             AND datname = current_database(){and}"
        ))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
    }

    /// Whether apply's advisory lock is free (taken and given back at once).
    pub fn apply_lock_is_free(&self) -> bool {
        self.value(&format!(
            "SELECT pg_try_advisory_xact_lock({})",
            reconcile::apply::LOCK_KEY
        ))
        .as_deref()
            == Some("t")
    }

    /// The first column of the first row, as text.
    pub fn value(&self, sql: &str) -> Option<String> {
        let msgs = self
            .rt
            .block_on(self.client.simple_query(sql))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        msgs.into_iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).map(str::to_string)),
            _ => None,
        })?
    }
}

/// Wait until `cond` holds, up to `secs`.
pub fn wait_for(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < until {
        if cond() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    cond()
}

/// One word for `sh -c`, whatever it holds.
fn shell_word(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `reconcile args...` on a pseudo-terminal made by `script` (util-linux,
/// which `.ci/run` installs when missing), `answer` typed on it; its output.
pub fn on_a_terminal(args: &[&str], answer: &str) -> String {
    on_a_terminal_with(args, answer, &[])
}

/// `on_a_terminal` with `vars` set in the environment (`NO_COLOR`, ...).
pub fn on_a_terminal_with(args: &[&str], answer: &str, vars: &[(&str, &str)]) -> String {
    use std::io::Write;
    let line = std::iter::once(env!("CARGO_BIN_EXE_reconcile"))
        .chain(args.iter().copied())
        .map(shell_word)
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_remove("NO_COLOR")
        .envs(vars.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The keys of `v`, at any depth and with their paths, that are not
/// camelCase (a `_` or a space in them); the keys of a `timings` object are
/// step ids, not names of ours.
pub fn not_camel_case(v: &serde_json::Value) -> Vec<String> {
    fn walk(v: &serde_json::Value, path: &str, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let at = format!("{path}.{k}");
                    if !path.ends_with(".timings") && (k.contains('_') || k.contains(' ')) {
                        out.push(at.clone());
                    }
                    walk(v, &at, out);
                }
            }
            serde_json::Value::Array(a) => {
                for v in a {
                    walk(v, &format!("{path}[]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, "", &mut out);
    out
}
