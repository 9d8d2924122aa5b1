//! Speed at scale: plan and apply from 10 to 5,000 tables, against a real
//! PostgreSQL, next to the floor (the same catalog statements sent by psql
//! alone, and reading + parsing the TOML alone). Run it with
//!
//!     scripts/with-postgres.sh cargo bench --bench scale
//!
//! (`DATABASE_URL` set: that server; else a throwaway cluster). `BENCH_SIZES`
//! (`10,100,1000,5000` by default) and `BENCH_RUNS` (5) change what it measures.
//! Times are the median of the runs; memory is the plan process's peak RSS.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{psql, psql_file, statements_in, with_database};

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

    println!("No-op plan against a database that matches; floor = catalog statements via psql + TOML read and parse.");
    println!("Times in ms (median of {runs} runs), memory in MiB (peak RSS of the process).");
    println!();
    println!("| tables | no-op plan | RSS | queries | floor: catalog (psql) | floor: TOML | load (ours) | plan / floor | plan, 1 missing column | apply, empty db | floor | apply RSS |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut rows = Vec::new();
    for &n in &sizes {
        eprintln!("[bench] {n} tables: generating and loading");
        let dir = work.path().join(n.to_string());
        let (schema, schema_plus, sql) = generate(&dir, n);
        let db_a = format!("bench_{n}_a_{}", std::process::id());
        let db_b = format!("bench_{n}_b_{}", std::process::id());
        psql(&admin_url, &format!("CREATE DATABASE {db_a}"));
        psql(&admin_url, &format!("CREATE DATABASE {db_b}"));
        let url_a = with_database(&admin_url, &db_a);
        let url_b = with_database(&admin_url, &db_b);
        psql_file(&url_a, &sql);
        // A database in steady state: its tables and the catalog analyzed, as
        // autovacuum leaves them (a freshly loaded catalog gets poor plans).
        psql(&url_a, "VACUUM ANALYZE");

        // The floor: the catalog statements alone, through psql.
        let version = runtime.block_on(server_version(&url_a));
        let catalog_sql = dir.join("catalog.sql");
        let statements = reconcile::introspect::queries(version);
        std::fs::write(
            &catalog_sql,
            format!("BEGIN;\n{};\nROLLBACK;\n", statements.join(";\n")),
        )
        .unwrap();
        let floor_catalog = median(runs, || timed(|| psql_file(&url_a, &catalog_sql)));
        // ... and reading and parsing the TOML alone.
        let floor_toml = median(runs, || timed(|| parse_toml_only(&schema)));
        let load = median(runs, || {
            timed(|| {
                reconcile::load::load_dir(&schema).expect("the generated files load");
            })
        });

        // No-op plan: wall time and peak memory of the binary; statements sent, in-process.
        let mut rss = 0;
        let noop = median(runs, || {
            let (t, kb, out) = run(bin, &["plan", "--format", "json"], &schema, &url_a);
            assert_eq!(
                statements_in(&out),
                0,
                "{n} tables: the no-op plan is not empty"
            );
            rss = rss.max(kb);
            t
        });
        let sent = runtime
            .block_on(reconcile::plan(&reconcile::Target {
                schema_dir: schema.clone(),
                database_url: Some(url_a.clone()),
            }))
            .expect("plan in-process")
            .statements_sent;
        let one_column = median(runs, || {
            let (t, _, out) = run(bin, &["plan", "--format", "json"], &schema_plus, &url_a);
            assert_eq!(statements_in(&out), 1, "{n} tables: one missing column");
            t
        });
        // One transaction: at thousands of tables it can exceed the server's lock
        // table (max_locks_per_transaction); then the figure says so.
        let (apply, apply_rss) = match try_run(bin, &["apply"], &schema, &url_b) {
            Ok((t, kb, _)) => (ms(t), format!("{:.1}", kb as f64 / 1024.0)),
            Err(e) => {
                eprintln!("[bench] {n} tables: {e}");
                ("failed".to_string(), "-".to_string())
            }
        };

        psql(&admin_url, &format!("DROP DATABASE {db_a} WITH (FORCE)"));
        psql(&admin_url, &format!("DROP DATABASE {db_b} WITH (FORCE)"));
        let floor = floor_catalog + floor_toml;
        rows.push(format!(
            "| {n:>5} | {:>8} | {:>6.1} | {sent:>7} | {:>8} | {:>8} | {:>8} | {:>5.2}x | {:>8} | {:>8} | {:>8} | {:>6} |",
            ms(noop),
            rss as f64 / 1024.0,
            ms(floor_catalog),
            ms(floor_toml),
            ms(load),
            noop.as_secs_f64() / floor.as_secs_f64(),
            ms(one_column),
            apply,
            ms(floor),
            apply_rss,
        ));
        println!("{}", rows.last().unwrap());
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn median(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    let mut v: Vec<Duration> = (0..runs).map(|_| f()).collect();
    v.sort();
    v[v.len() / 2]
}

/// Run the binary; its wall time, peak RSS in KiB (from wait4), and stdout.
fn run(bin: &str, args: &[&str], schema: &Path, url: &str) -> (Duration, i64, String) {
    match try_run(bin, args, schema, url) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

/// As `run`; a failure gives the last lines of stderr.
fn try_run(
    bin: &str,
    args: &[&str],
    schema: &Path,
    url: &str,
) -> Result<(Duration, i64, String), String> {
    let out_file = tempfile::NamedTempFile::new().unwrap();
    let err_file = tempfile::NamedTempFile::new().unwrap();
    let t = Instant::now();
    // Reaped by wait4 below, which also gives its peak memory.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(bin)
        .args(args)
        .arg("--schema")
        .arg(schema)
        .arg("--database-url")
        .arg(url)
        .stdout(out_file.reopen().unwrap())
        .stderr(err_file.reopen().unwrap())
        .spawn()
        .expect("run reconcile");
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own child, not waited for elsewhere.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let elapsed = t.elapsed();
    assert!(pid > 0, "wait4 failed");
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let err = std::fs::read_to_string(err_file.path()).unwrap_or_default();
        let first = err
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or("(no message)");
        return Err(format!("reconcile {args:?} failed: {first}"));
    }
    let out = std::fs::read_to_string(out_file.path()).unwrap_or_default();
    Ok((elapsed, usage.ru_maxrss, out))
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

/// `n` tables as TOML files (one per table), the same with one more column in
/// the first table, and the same schema as SQL. Each table: 13 columns of
/// mixed types, a primary key, a unique, a check, a foreign key to the table
/// before it, a two-column index and a partial index.
fn generate(dir: &Path, n: usize) -> (PathBuf, PathBuf, PathBuf) {
    let schema = dir.join("schema");
    let plus = dir.join("schema_plus");
    std::fs::create_dir_all(&schema).unwrap();
    std::fs::create_dir_all(&plus).unwrap();
    let mut sql = String::new();
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
    (schema, plus, file)
}
