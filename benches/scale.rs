//! Speed at scale: plan and apply from 10 to 5,000 tables, against a real
//! PostgreSQL, next to the floor: the same work without reconcile's extras.
//! Run it with
//!
//!     scripts/with-postgres.sh cargo bench --bench scale
//!
//! (`DATABASE_URL` set: that server; else a throwaway cluster). `BENCH_SIZES`
//! (`10,100,1000,5000` by default) and `BENCH_RUNS` (5) change what it measures.
//!
//! The floor of a plan, measured in this process: the schema files read and
//! parsed (TOML only) on another thread while one connection is opened and
//! reconcile's catalog statements (`reconcile::introspect::queries`) are sent in
//! one round trip, in a REPEATABLE READ transaction, as `plan` sends them; every
//! row is received and dropped (nothing decoded, nothing printed). The floor of
//! an apply to an empty database: the same, then the plan's statements and
//! COMMIT on that connection. Both sides count one connection (TCP connect,
//! startup, authentication); reconcile's figures also count starting its
//! process, which the floor does not (the header prints what that costs).
//!
//! Beside the tables, each size is also planned with code objects: the same
//! tables, each with a trigger function, a trigger and a view (1,000 of each
//! at 1,000 tables), against a second database, no-op plans only; a second
//! table prints them next to the tables-only figures of the same runs.
//!
//! Each run measures every figure once, one after the other, so a ratio is
//! taken within a run; the table prints the median of the runs (of the ratios
//! too), and memory as the peak RSS over the runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_postgres::{NoTls, SimpleQueryMessage};

mod common;
use common::{psql, psql_file, psql_value, statements_in, with_database};

fn main() {
    let Ok(admin_url) = std::env::var("DATABASE_URL") else {
        eprintln!(
            "DATABASE_URL is not set: run `scripts/with-postgres.sh cargo bench --bench scale`"
        );
        std::process::exit(1);
    };
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "10,100,1000,5000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
        .max(1);
    let work = tempfile::tempdir().expect("a temporary directory");
    let bin = env!("CARGO_BIN_EXE_reconcile");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");

    let server = psql_value(
        &admin_url,
        "SELECT current_setting('server_version') || ', ssl=' || current_setting('ssl') \
         || ', fsync=' || current_setting('fsync')",
    );
    let start = median(
        &(0..runs)
            .map(|_| {
                timed(|| {
                    let ok = Command::new(bin)
                        .arg("--version")
                        .output()
                        .is_ok_and(|o| o.status.success());
                    assert!(ok, "reconcile --version failed");
                })
            })
            .collect::<Vec<_>>(),
    );
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("reconcile plan and apply at scale, next to the floor: the same work without reconcile's extras.");
    println!(
        "PostgreSQL {server}; {cores} cores on this machine. Every time is the median of {runs} run(s), in ms; \
         a ratio is the median of the runs' ratios (each run's reconcile time over the same run's floor); \
         RSS is the peak over the runs, in MiB."
    );
    println!(
        "Floor (in this process, one connection: TCP connect + startup + authentication, counted as in reconcile's times): \
         catalog = reconcile's catalog statements sent in one round trip in a REPEATABLE READ transaction, \
         every row received and dropped; TOML = the files read and parsed, nothing more; \
         floor = both at once (TOML on another thread), as `plan` overlaps them; \
         apply floor = that on an empty database (`apply` reads the files first, then connects), \
         then the plan's statements and COMMIT on the same connection."
    );
    println!(
        "reconcile's times are the wall time of its process, start to exit; starting it alone \
         (`reconcile --version`) takes {} ms, which no floor counts.",
        ms(start)
    );
    println!();
    println!("| tables | no-op plan | floor | plan / floor | floor: catalog | floor: TOML | catalog rows | load (ours) | statements sent | plan RSS | plan, 1 missing column | apply, empty db | apply floor | apply / floor | apply RSS |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    // The second table's rows (code objects), printed after the first table.
    let mut code_rows = Vec::new();
    let mut first_sent: Option<(usize, usize)> = None;
    for &n in &sizes {
        eprintln!("[bench] {n} tables: generating and loading");
        let dir = work.path().join(n.to_string());
        let Generated {
            schema,
            schema_plus,
            schema_code,
            sql,
            code_sql,
        } = generate(&dir, n);
        let pid = std::process::id();
        let db_a = format!("bench_{n}_a_{pid}");
        psql(&admin_url, &format!("CREATE DATABASE {db_a}"));
        let url_a = with_database(&admin_url, &db_a);
        psql_file(&url_a, &sql);
        // A database in steady state: its tables and the catalog analyzed, as
        // autovacuum leaves them (a freshly loaded catalog gets poor plans).
        psql(&url_a, "VACUUM ANALYZE");
        // The same tables with their functions, triggers and views.
        let db_c = format!("bench_{n}_c_{pid}");
        psql(&admin_url, &format!("CREATE DATABASE {db_c}"));
        let url_c = with_database(&admin_url, &db_c);
        psql_file(&url_c, &sql);
        psql_file(&url_c, &code_sql);
        psql(&url_c, "VACUUM ANALYZE");

        let version = runtime.block_on(server_version(&url_a));
        let statements = reconcile::introspect::queries(version);
        let catalog = format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ;\n{};\nROLLBACK",
            statements.join(";\n")
        );
        let statements_sent = |schema: &Path, url: &str| {
            runtime
                .block_on(reconcile::plan(&reconcile::Target {
                    schema_dir: schema.to_path_buf(),
                    database_url: Some(url.to_string()),
                    exclude: Vec::new(),
                }))
                .expect("plan in-process")
                .statements_sent
        };
        let sent = statements_sent(&schema, &url_a);
        let sent_code = statements_sent(&schema_code, &url_c);
        // Fixed: the same count at every size, for each kind of schema. (With
        // code objects written otherwise than PostgreSQL prints them, as here,
        // three more: the probes that let PostgreSQL print the files' side.)
        match first_sent {
            None => first_sent = Some((sent, sent_code)),
            Some((s0, c0)) if (s0, c0) != (sent, sent_code) => eprintln!(
                "[bench] {n} tables: the no-op plan sent {sent} statements ({sent_code} with code \
                 objects), {s0} ({c0}) at the first size: not a fixed number"
            ),
            Some(_) => {}
        }

        eprintln!("[bench] {n} tables: plan, {runs} run(s)");
        let mut plan = Runs::default();
        let mut code = CodeRuns::default();
        let mut rows = 0;
        let mut rows_code = 0;
        for _ in 0..runs {
            let (t, fetched) = runtime
                .block_on(floor(&url_a, None, &catalog, None))
                .expect("the catalog statements run");
            plan.floor_catalog.push(t);
            rows = fetched;
            plan.floor_toml.push(timed(|| parse_toml_only(&schema)));
            let (floor_t, _) = runtime
                .block_on(floor(&url_a, Some(&schema), &catalog, None))
                .expect("the catalog statements run");
            plan.floor.push(floor_t);
            plan.load.push(timed(|| {
                reconcile::load::load_dir(&schema).expect("the generated files load");
            }));
            let (t, kb, out) = run(bin, &["plan", "--format", "json"], &schema, &url_a);
            assert_eq!(
                statements_in(&out),
                0,
                "{n} tables: the no-op plan is not empty"
            );
            plan.rss = plan.rss.max(kb);
            plan.ratio.push(t.as_secs_f64() / floor_t.as_secs_f64());
            plan.noop.push(t);
            // The same with code objects, right after, in the same run.
            let (code_floor, fetched) = runtime
                .block_on(floor(&url_c, Some(&schema_code), &catalog, None))
                .expect("the catalog statements run");
            rows_code = fetched;
            code.floor.push(code_floor);
            code.load.push(timed(|| {
                reconcile::load::load_dir(&schema_code).expect("the generated files load");
            }));
            let (tc, kb, out) = run(bin, &["plan", "--format", "json"], &schema_code, &url_c);
            assert_eq!(
                statements_in(&out),
                0,
                "{n} tables with code objects: the no-op plan is not empty"
            );
            code.rss = code.rss.max(kb);
            code.ratio_floor
                .push(tc.as_secs_f64() / code_floor.as_secs_f64());
            code.ratio_tables.push(tc.as_secs_f64() / t.as_secs_f64());
            code.noop.push(tc);
            let (t, _, out) = run(bin, &["plan", "--format", "json"], &schema_plus, &url_a);
            assert_eq!(statements_in(&out), 1, "{n} tables: one missing column");
            plan.one_column.push(t);
        }
        psql(&admin_url, &format!("DROP DATABASE {db_a} WITH (FORCE)"));
        psql(&admin_url, &format!("DROP DATABASE {db_c} WITH (FORCE)"));

        eprintln!("[bench] {n} tables: apply to an empty database, {runs} run(s)");
        let apply = apply_runs(&runtime, &admin_url, bin, &schema, &catalog, n, runs);

        println!(
            "| {n:>5} | {:>8} | {:>8} | {:>5.2}x | {:>8} | {:>8} | {rows:>7} | {:>8} | {sent:>5} | {:>6.1} | {:>8} | {} |",
            ms(median(&plan.noop)),
            ms(median(&plan.floor)),
            median_f64(&plan.ratio),
            ms(median(&plan.floor_catalog)),
            ms(median(&plan.floor_toml)),
            ms(median(&plan.load)),
            plan.rss as f64 / 1024.0,
            ms(median(&plan.one_column)),
            apply,
        );
        code_rows.push(format!(
            "| {n:>5} | {n:>5} / {n:>5} / {n:>5} | {:>8} | {:>8} | {:>5.2}x | {:>5.2}x | {:>5.2}x | {sent:>3} | {sent_code:>3} | {:>6.1} | {:>6.1} | {:>5.2}x | {rows:>7} | {rows_code:>7} | {:>8} | {:>8} |",
            ms(median(&plan.noop)),
            ms(median(&code.noop)),
            median_f64(&code.ratio_tables),
            median_f64(&plan.ratio),
            median_f64(&code.ratio_floor),
            plan.rss as f64 / 1024.0,
            code.rss as f64 / 1024.0,
            code.rss as f64 / plan.rss as f64,
            ms(median(&plan.load)),
            ms(median(&code.load)),
        ));
    }

    println!();
    println!(
        "No-op plans with code objects: the same tables, each with a trigger function (PL/pgSQL), \
         a BEFORE UPDATE row trigger calling it and a view joining it to the table before it, \
         against a database built from SQL as the tables-only one is; measured in the same runs, \
         right after the tables-only plan. with / tables = the median of the runs' ratios; \
         plan / floor as above (the floor reads the same catalog statements from that database)."
    );
    println!();
    println!("| tables | functions / views / triggers | no-op plan, tables only | no-op plan, with code | with / tables | plan / floor, tables only | plan / floor, with code | statements sent, tables only | statements sent, with code | plan RSS, tables only | plan RSS, with code | RSS with / tables | catalog rows, tables only | catalog rows, with code | load (ours), tables only | load (ours), with code |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in &code_rows {
        println!("{row}");
    }
}

/// One size's plan figures, one entry per run.
#[derive(Default)]
struct Runs {
    floor_catalog: Vec<Duration>,
    floor_toml: Vec<Duration>,
    floor: Vec<Duration>,
    load: Vec<Duration>,
    noop: Vec<Duration>,
    ratio: Vec<f64>,
    one_column: Vec<Duration>,
    /// Peak over the runs, KiB.
    rss: i64,
}

/// One size's figures with code objects, one entry per run.
#[derive(Default)]
struct CodeRuns {
    floor: Vec<Duration>,
    load: Vec<Duration>,
    noop: Vec<Duration>,
    /// Each run's no-op plan over that run's floor.
    ratio_floor: Vec<f64>,
    /// Each run's no-op plan over that run's tables-only no-op plan.
    ratio_tables: Vec<f64>,
    /// Peak over the runs, KiB.
    rss: i64,
}

/// `runs` times: `reconcile apply` to a fresh empty database, then the floor
/// (the catalog statements and the plan's statements over one connection) to
/// another. The table's last four cells: apply, its floor, their ratio, RSS;
/// "failed" when a run failed (e.g. past the server's lock table, at thousands
/// of tables in one transaction).
fn apply_runs(
    runtime: &tokio::runtime::Runtime,
    admin_url: &str,
    bin: &str,
    schema: &Path,
    catalog: &str,
    n: usize,
    runs: usize,
) -> String {
    let pid = std::process::id();
    let fresh = |what: &str, run: usize| {
        let db = format!("bench_{n}_{what}{run}_{pid}");
        psql(admin_url, &format!("CREATE DATABASE {db}"));
        (with_database(admin_url, &db), db)
    };
    let drop_db = |db: &str| psql(admin_url, &format!("DROP DATABASE {db} WITH (FORCE)"));

    // The statements an apply to an empty database runs, as its plan lists them.
    let (url, db) = fresh("e", 0);
    let (_, _, out) = run(bin, &["plan", "--format", "json"], schema, &url);
    drop_db(&db);
    let plan: serde_json::Value = serde_json::from_str(&out).expect("plan JSON");
    let ddl: Vec<&str> = plan["statements"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|s| s["sql"].as_str().expect("a statement's sql"))
        .collect();
    let ddl = format!("{};\nCOMMIT", ddl.join(";\n"));
    // The catalog statements in the same transaction, committed after the plan's.
    let catalog = catalog
        .strip_suffix("ROLLBACK")
        .expect("the catalog batch ends with ROLLBACK");

    let (mut apply, mut floor_t, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    let mut rss = 0;
    for r in 0..runs {
        let (url, db) = fresh("b", r);
        let applied = try_run(bin, &["apply"], schema, &url);
        drop_db(&db);
        let (t, kb) = match applied {
            Ok((t, kb, _)) => (t, kb),
            Err(e) => {
                eprintln!("[bench] {n} tables: {e}");
                return "failed | - | - | -".into();
            }
        };
        let (url, db) = fresh("f", r);
        let floored = runtime.block_on(floor(&url, Some(schema), catalog, Some(&ddl)));
        // The floor did the work: the database now matches the files (checked once).
        if r == 0 && floored.is_ok() {
            let (_, _, out) = run(bin, &["plan", "--format", "json"], schema, &url);
            assert_eq!(
                statements_in(&out),
                0,
                "{n} tables: the apply floor left work"
            );
        }
        drop_db(&db);
        let f = match floored {
            Ok((f, _)) => f,
            Err(e) => {
                eprintln!("[bench] {n} tables: the apply floor failed: {e}");
                return format!("{} | failed | - | -", ms(t));
            }
        };
        rss = rss.max(kb);
        ratio.push(t.as_secs_f64() / f.as_secs_f64());
        apply.push(t);
        floor_t.push(f);
    }
    format!(
        "{:>8} | {:>8} | {:>5.2}x | {:>6.1}",
        ms(median(&apply)),
        ms(median(&floor_t)),
        median_f64(&ratio),
        rss as f64 / 1024.0
    )
}

/// The floor, timed from before connecting to after the connection closed:
/// `toml` (when given) read and parsed on another thread while one connection
/// is opened and `catalog` is sent in one round trip, each row received and
/// dropped; then, once both are done, `then` (when given) on that connection.
/// Its time and the rows received, or the server's error.
async fn floor(
    url: &str,
    toml: Option<&Path>,
    catalog: &str,
    then: Option<&str>,
) -> Result<(Duration, usize), String> {
    let t = Instant::now();
    let parsing = toml.map(|dir| {
        let dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || parse_toml_only(&dir))
    });
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| e.to_string())?;
    let connection = tokio::spawn(connection);
    let mut rows = fetch_and_drop(&client, catalog).await?;
    if let Some(parsing) = parsing {
        parsing.await.expect("the TOML parses");
    }
    if let Some(sql) = then {
        rows += fetch_and_drop(&client, sql).await?;
    }
    drop(client);
    let _ = connection.await;
    Ok((t.elapsed(), rows))
}

/// Send `sql` (statements separated by `;`) in one round trip; each row is
/// received and dropped. How many rows came back.
async fn fetch_and_drop(client: &tokio_postgres::Client, sql: &str) -> Result<usize, String> {
    let stream = client
        .simple_query_raw(sql)
        .await
        .map_err(|e| e.to_string())?;
    let mut stream = std::pin::pin!(stream);
    let mut rows = 0;
    while let Some(message) = stream.next().await {
        if let SimpleQueryMessage::Row(_) = message.map_err(|e| e.to_string())? {
            rows += 1;
        }
    }
    Ok(rows)
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

/// The median (of an even count, the mean of the two middle values).
fn median(v: &[Duration]) -> Duration {
    Duration::from_secs_f64(median_f64(
        &v.iter().map(Duration::as_secs_f64).collect::<Vec<_>>(),
    ))
}

fn median_f64(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    }
}

/// Run the binary; its wall time, peak RSS in KiB (from wait4), and stdout.
fn run(bin: &str, args: &[&str], schema: &Path, url: &str) -> (Duration, i64, String) {
    match try_run(bin, args, schema, url) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

/// As `run`; a failure gives the first error line of stderr.
fn try_run(
    bin: &str,
    args: &[&str],
    schema: &Path,
    url: &str,
) -> Result<(Duration, i64, String), String> {
    common::measured(
        Command::new(bin)
            .args(args)
            .arg("--schema")
            .arg(schema)
            .arg("--database-url")
            .arg(url),
    )
}

fn parse_toml_only(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let _: toml::Table = toml::from_str(&text).expect("TOML parses");
    }
}

async fn server_version(url: &str) -> i32 {
    let config = reconcile::db::config_from(Some(url)).unwrap();
    reconcile::db::Db::connect(&config)
        .await
        .expect("connect")
        .server_version
}

/// The generated schemas of one size: TOML directories and SQL files.
struct Generated {
    /// `n` tables, one file each.
    schema: PathBuf,
    /// The same, with one more column in the first table.
    schema_plus: PathBuf,
    /// The same tables, each file also holding the table's trigger, its
    /// trigger function and a view over it (`n` of each).
    schema_code: PathBuf,
    /// `schema` as SQL.
    sql: PathBuf,
    /// The code objects of `schema_code` as SQL, run after `sql`.
    code_sql: PathBuf,
}

/// `n` tables as TOML files (one per table), the same with one more column in
/// the first table, the same with code objects, and the schema as SQL. Each
/// table: 13 columns of mixed types, a primary key, a unique, a check, a
/// foreign key to the table before it, a two-column index and a partial
/// index. Code objects, per table: a PL/pgSQL trigger function, a BEFORE
/// UPDATE row trigger calling it, and a view joining the table to the one
/// before it, written as one writes it (not as PostgreSQL prints it).
fn generate(dir: &Path, n: usize) -> Generated {
    let schema = dir.join("schema");
    let plus = dir.join("schema_plus");
    let with_code = dir.join("schema_code");
    for d in [&schema, &plus, &with_code] {
        std::fs::create_dir_all(d).unwrap();
    }
    let mut sql = String::new();
    let mut code_sql = String::new();
    for i in 0..n {
        let t = format!("t{i:05}");
        let prev = (i > 0).then(|| format!("t{:05}", i - 1));
        let reference = prev
            .as_ref()
            .map(|p| format!(", references = \"{p}(id)\", on_delete = \"set null\""))
            .unwrap_or_default();
        let toml = |extra: &str| {
            format!(
                r#"[tables.{t}]
comment = "table {i}"

[tables.{t}.columns]
id          = {{ type = "bigserial", primary_key = true }}
tenant_id   = {{ type = "bigint", not_null = true }}
name        = {{ type = "varchar(120)", not_null = true }}
email       = {{ type = "text" }}
status      = {{ type = "text", not_null = true, default = "'new'" }}
amount      = {{ type = "numeric(12,2)", not_null = true, default = 0 }}
score       = {{ type = "integer", check = "score >= 0" }}
active      = {{ type = "boolean", not_null = true, default = true }}
created_at  = {{ type = "timestamptz", not_null = true, default = "now()" }}
updated_at  = {{ type = "timestamptz" }}
payload     = {{ type = "jsonb" }}
ref_id      = {{ type = "bigint"{reference} }}
external_id = {{ type = "uuid", unique = true }}
{extra}
[tables.{t}.indexes]
idx_{t}_tenant_created = {{ columns = ["tenant_id", "created_at DESC"] }}
idx_{t}_active_name    = {{ columns = ["name"], where = "active" }}
"#
            )
        };
        std::fs::write(schema.join(format!("{t}.toml")), toml("")).unwrap();
        let extra = if i == 0 {
            "note        = { type = \"text\" }\n"
        } else {
            ""
        };
        std::fs::write(plus.join(format!("{t}.toml")), toml(extra)).unwrap();
        // The view: the table and, but for the first, the one it references.
        let (from, view_sql) = match &prev {
            Some(p) => (
                format!("{t} a LEFT JOIN {p} b ON b.id = a.ref_id"),
                "a.id, a.tenant_id, a.name, a.amount, b.name AS ref_name",
            ),
            None => (format!("{t} a"), "a.id, a.tenant_id, a.name, a.amount"),
        };
        let query = format!("SELECT {view_sql} FROM {from} WHERE a.active");
        let body = "BEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND\n";
        let code = format!(
            r#"
[tables.{t}.triggers.{t}_touch]
timing   = "before"
events   = ["update"]
for_each = "row"
function = "touch_{t}"

[functions.touch_{t}]
returns  = "trigger"
language = "plpgsql"
body = """
{body}"""

[views.v_{t}]
query = "{query}"
"#
        );
        std::fs::write(
            with_code.join(format!("{t}.toml")),
            toml("") + code.as_str(),
        )
        .unwrap();
        code_sql.push_str(&format!(
            "CREATE FUNCTION touch_{t}() RETURNS trigger LANGUAGE plpgsql AS $$\
             {body}$$;\nCREATE TRIGGER {t}_touch BEFORE UPDATE ON {t} FOR EACH ROW \
             EXECUTE FUNCTION touch_{t}();\nCREATE VIEW v_{t} AS {query};\n"
        ));
        let fk = prev
            .as_ref()
            .map(|p| format!(" REFERENCES {p}(id) ON DELETE SET NULL"))
            .unwrap_or_default();
        sql.push_str(&format!(
            "CREATE TABLE {t} (\n  id bigserial PRIMARY KEY,\n  tenant_id bigint NOT NULL,\n  name varchar(120) NOT NULL,\n  email text,\n  status text NOT NULL DEFAULT 'new',\n  amount numeric(12,2) NOT NULL DEFAULT 0,\n  score integer CHECK (score >= 0),\n  active boolean NOT NULL DEFAULT true,\n  created_at timestamptz NOT NULL DEFAULT now(),\n  updated_at timestamptz,\n  payload jsonb,\n  ref_id bigint{fk},\n  external_id uuid UNIQUE\n);\nCREATE INDEX idx_{t}_tenant_created ON {t} (tenant_id, created_at DESC);\nCREATE INDEX idx_{t}_active_name ON {t} (name) WHERE active;\nCOMMENT ON TABLE {t} IS 'table {i}';\n"
        ));
    }
    let file = dir.join("schema.sql");
    std::fs::write(&file, sql).unwrap();
    let code_file = dir.join("code.sql");
    std::fs::write(&code_file, code_sql).unwrap();
    Generated {
        schema,
        schema_plus: plus,
        schema_code: with_code,
        sql: file,
        code_sql: code_file,
    }
}
