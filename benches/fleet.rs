//! Many databases: `reconcile apply --targets` next to the floor of the same
//! work done blind. Run it with
//!
//!     scripts/with-postgres.sh cargo bench --bench fleet
//!
//! (`DATABASE_URL` set: that server; else a throwaway cluster). For each count
//! of `FLEET_BENCH_COUNTS` (default `100,1000`) it creates that many empty
//! databases twice over, four times with `FLEET_BENCH_BOUNDS` (the creation
//! is timed apart and counts in nothing else), then measures, side by side in
//! one run:
//!
//! - **floor**: `psql -X -q -1 -v ON_ERROR_STOP=1 -f` of the example schema's
//!   SQL (`reconcile plan --format sql` on an empty database) into each
//!   database of the first set, `FLEET_BENCH_JOBS` (4) at a time: the same
//!   statements in one transaction each, without reading any catalog;
//! - **apply**: `reconcile apply --targets FILE --jobs 4 --yes` over the
//!   second set (plan, lock, statements, verification, history, in each);
//! - **no-op**: the same command again over the same databases, now up to
//!   date (one plan each, nothing applied).
//!
//! With `FLEET_BENCH_BOUNDS=1`, two more sets of databases show where an
//! apply's time beyond the floor goes, with psql doing the same per database:
//!
//! - **floor + reads**: the floor's statements between two catalog reads of
//!   today's statements (`introspect::queries`), in one transaction: the plan
//!   read and the verification read that every apply makes;
//! - **floor + plain reads**: the same with `fixtures/bench/plain-catalog-read.sql`
//!   in place of each read: the rows the reader needs, one catalog a
//!   statement, no joins (an estimate of a reader that joins them itself).
//!
//! psql pays a round trip a statement where reconcile pipelines them, so
//! these are upper bounds of the reads' share.
//!
//! Each run's wall time, the ratio apply / floor, and the peak RSS of the
//! reconcile process (`wait4`) at each count, so that memory can be seen to
//! stay flat as the count grows. Targets (issue 23), at 1,000 databases: the
//! apply within 1.5× of the floor, the no-op pass under 10 s. Every database
//! is dropped at the end. `RECONCILE_BIN` measures another build.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod common;
use common::{measured, psql, psql_value, with_database};

/// One count's figures.
struct Row {
    count: usize,
    create: Duration,
    floor: Duration,
    apply: Duration,
    apply_rss: i64,
    noop: Duration,
    noop_rss: i64,
    /// With `FLEET_BENCH_BOUNDS`: floor + reads, floor + plain reads.
    bounds: Option<(Duration, Duration)>,
}

fn main() {
    let Ok(admin_url) = std::env::var("DATABASE_URL") else {
        eprintln!(
            "DATABASE_URL is not set: run `scripts/with-postgres.sh cargo bench --bench fleet`"
        );
        std::process::exit(1);
    };
    let counts: Vec<usize> = std::env::var("FLEET_BENCH_COUNTS")
        .unwrap_or_else(|_| "100,1000".into())
        .split(',')
        .map(|c| {
            c.trim()
                .parse()
                .expect("FLEET_BENCH_COUNTS: counts, comma-separated")
        })
        .collect();
    let jobs: usize = std::env::var("FLEET_BENCH_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or(4);
    let bounds = std::env::var_os("FLEET_BENCH_BOUNDS").is_some_and(|v| v != "0");
    let bin: PathBuf = std::env::var_os("RECONCILE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_reconcile")));
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
    let work = tempfile::tempdir().expect("a temporary directory");
    let prefix = format!("fleetbench_{}", std::process::id());

    // The example schema's SQL, as reconcile plans it for an empty database.
    let empty = format!("{prefix}_sql");
    psql(&admin_url, &format!("CREATE DATABASE {empty}"));
    let sql = Command::new(&bin)
        .args(["plan", "--format", "sql", "--schema"])
        .arg(&schema)
        .args(["--database-url", &with_database(&admin_url, &empty)])
        .output()
        .expect("run reconcile plan");
    psql(&admin_url, &format!("DROP DATABASE {empty}"));
    assert!(
        sql.status.success(),
        "reconcile plan --format sql: {}",
        String::from_utf8_lossy(&sql.stderr)
    );
    let sql_file = work.path().join("schema.sql");
    std::fs::write(&sql_file, &sql.stdout).unwrap();
    let statements = String::from_utf8_lossy(&sql.stdout)
        .lines()
        .filter(|l| l.trim_end().ends_with(';'))
        .count();

    // The floor's statements between two catalog reads (FLEET_BENCH_BOUNDS).
    let read_files = bounds.then(|| {
        let version: i32 = psql_value(&admin_url, "SHOW server_version_num")
            .parse()
            .expect("server_version_num");
        let today = reconcile::introspect::queries(version).join(";\n") + ";\n";
        let plain = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bench/plain-catalog-read.sql"),
        )
        .expect("fixtures/bench/plain-catalog-read.sql");
        let schema_sql = String::from_utf8_lossy(&sql.stdout);
        let write = |name: &str, read: &str| {
            let file = work.path().join(name);
            std::fs::write(&file, format!("{read}\n{schema_sql}\n{read}\n")).unwrap();
            file
        };
        (write("reads.sql", &today), write("plain.sql", &plain))
    });

    println!(
        "Fleet bench: the example schema ({statements} statements) into N empty databases, {jobs} at a time; reconcile {}",
        bin.display()
    );
    let mut rows = Vec::new();
    for &n in &counts {
        let floor_dbs: Vec<String> = (0..n).map(|i| format!("{prefix}_f{i}")).collect();
        let apply_dbs: Vec<String> = (0..n).map(|i| format!("{prefix}_a{i}")).collect();
        // With FLEET_BENCH_BOUNDS: floor + reads, floor + plain reads.
        let bound = |set: &str| -> Vec<String> {
            (0..n)
                .filter(|_| bounds)
                .map(|i| format!("{prefix}_{set}{i}"))
                .collect()
        };
        let (reads_dbs, plain_dbs) = (bound("r"), bound("p"));
        let all = || {
            floor_dbs
                .iter()
                .chain(&apply_dbs)
                .chain(&reads_dbs)
                .chain(&plain_dbs)
        };
        let t = Instant::now();
        create_all(&admin_url, all(), jobs);
        let create = t.elapsed();

        // `psql -1 -f file` into each of `dbs`, `jobs` at a time.
        let psql_into = |dbs: &[String], file: &Path, what: &str| {
            parallel(dbs, jobs, |db| {
                if let Err(e) = measured(
                    Command::new("psql")
                        .args(["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d"])
                        .arg(with_database(&admin_url, db))
                        .arg("-f")
                        .arg(file),
                ) {
                    panic!("{what} into {db}: {e}");
                }
            })
        };
        let floor = psql_into(&floor_dbs, &sql_file, "the floor");
        let bound_times = read_files.as_ref().map(|(reads, plain)| {
            (
                psql_into(&reads_dbs, reads, "floor + reads"),
                psql_into(&plain_dbs, plain, "floor + plain reads"),
            )
        });

        let targets = work.path().join(format!("targets-{n}.txt"));
        let lines: Vec<String> = apply_dbs
            .iter()
            .map(|db| with_database(&admin_url, db))
            .collect();
        std::fs::write(&targets, lines.join("\n") + "\n").unwrap();
        let fleet = |what: &str| {
            let (t, rss, out) = measured(
                Command::new(&bin)
                    .args(["apply", "--yes", "--format", "json", "--schema"])
                    .arg(&schema)
                    .arg("--targets")
                    .arg(&targets)
                    .args(["--jobs", &jobs.to_string()]),
            )
            .unwrap_or_else(|e| panic!("{what} over {n} databases: {e}"));
            let v: serde_json::Value = serde_json::from_str(&out).expect("apply's JSON");
            (t, rss, v)
        };
        let (apply, apply_rss, v) = fleet("apply");
        assert_eq!(v["summary"]["applied"], n, "apply: {}", v["summary"]);
        let (noop, noop_rss, v) = fleet("the no-op pass");
        assert_eq!(v["summary"]["upToDate"], n, "no-op: {}", v["summary"]);

        drop_all(&admin_url, all(), jobs);
        let row = Row {
            count: n,
            create,
            floor,
            apply,
            apply_rss,
            noop,
            noop_rss,
            bounds: bound_times,
        };
        println!(
            "  {n} databases: created ({} × {n}) in {:.1}s; floor {:.1}s, apply {:.1}s ({:.2}× floor), no-op {:.1}s",
            if row.bounds.is_some() { 4 } else { 2 },
            row.create.as_secs_f64(),
            row.floor.as_secs_f64(),
            row.apply.as_secs_f64(),
            row.apply.as_secs_f64() / row.floor.as_secs_f64(),
            row.noop.as_secs_f64()
        );
        if let Some((reads, plain)) = row.bounds {
            println!(
                "  {n} databases, psql: floor + reads {:.1}s ({:.2}× floor), floor + plain reads {:.1}s ({:.2}× floor)",
                reads.as_secs_f64(),
                reads.as_secs_f64() / row.floor.as_secs_f64(),
                plain.as_secs_f64(),
                plain.as_secs_f64() / row.floor.as_secs_f64()
            );
        }
        rows.push(row);
    }

    println!();
    println!("| databases | floor (psql -1 -f) | apply --targets | apply / floor | per database: floor / apply / no-op | no-op pass | peak RSS: apply / no-op |");
    println!("|---|---|---|---|---|---|---|");
    for r in &rows {
        let per = |d: Duration| d.as_secs_f64() * 1000.0 / r.count as f64;
        println!(
            "| {} | {:.2} s | {:.2} s | {:.2}× | {:.1} / {:.1} / {:.1} ms | {:.2} s | {:.1} / {:.1} MiB |",
            r.count,
            r.floor.as_secs_f64(),
            r.apply.as_secs_f64(),
            r.apply.as_secs_f64() / r.floor.as_secs_f64(),
            per(r.floor),
            per(r.apply),
            per(r.noop),
            r.noop.as_secs_f64(),
            r.apply_rss as f64 / 1024.0,
            r.noop_rss as f64 / 1024.0,
        );
    }
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        if rows.len() > 1 {
            println!(
                "\nMemory as the count grows ({} → {} databases): apply {:.2}×, no-op {:.2}× the peak RSS.",
                first.count,
                last.count,
                last.apply_rss as f64 / first.apply_rss as f64,
                last.noop_rss as f64 / first.noop_rss as f64
            );
        }
        if last.count >= 1000 {
            let ratio = last.apply.as_secs_f64() / last.floor.as_secs_f64();
            println!(
                "Targets at {} databases: apply within 1.5× of the floor: {} ({ratio:.2}×); no-op pass under 10 s: {} ({:.2} s).",
                last.count,
                if ratio <= 1.5 { "met" } else { "NOT met" },
                if last.noop < Duration::from_secs(10) { "met" } else { "NOT met" },
                last.noop.as_secs_f64()
            );
        } else {
            println!(
                "Targets are stated at 1,000 databases; the largest count here is {}.",
                last.count
            );
        }
    }
}

/// Run `each` on every database, `jobs` threads at a time; the wall time.
fn parallel(dbs: &[String], jobs: usize, each: impl Fn(&str) + Sync) -> Duration {
    let next = AtomicUsize::new(0);
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(db) = dbs.get(i) else { break };
                each(db);
            });
        }
    });
    t.elapsed()
}

/// `CREATE DATABASE` for each name, in `jobs` psql sessions at once.
fn create_all<'a>(admin: &str, names: impl Iterator<Item = &'a String>, jobs: usize) {
    in_sessions(admin, names, jobs, "CREATE DATABASE");
}

/// `DROP DATABASE` for each name, in `jobs` psql sessions at once.
fn drop_all<'a>(admin: &str, names: impl Iterator<Item = &'a String>, jobs: usize) {
    in_sessions(admin, names, jobs, "DROP DATABASE IF EXISTS");
}

/// `verb name;` for each name, the names shared among `jobs` psql sessions
/// (one script each: no process per database).
fn in_sessions<'a>(admin: &str, names: impl Iterator<Item = &'a String>, jobs: usize, verb: &str) {
    let mut scripts = vec![String::new(); jobs.max(1)];
    for (i, name) in names.enumerate() {
        let k = i % scripts.len();
        scripts[k].push_str(&format!("{verb} {name};\n"));
    }
    std::thread::scope(|s| {
        for script in &scripts {
            s.spawn(move || {
                let mut child = Command::new("psql")
                    .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", admin])
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .expect("run psql");
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(script.as_bytes())
                    .unwrap();
                assert!(child.wait().unwrap().success(), "psql: {verb} failed");
            });
        }
    });
}
