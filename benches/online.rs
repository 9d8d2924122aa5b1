//! Writes during a schema change: the same additive change (a new column, a
//! new index on an existing column, a new foreign key to a small table) applied
//! to a 1,000,000-row table by `reconcile apply` (one transaction) and by
//! `reconcile apply --online` (phases), while pgbench updates that table at a
//! fixed rate. Run it with
//!
//!     scripts/with-postgres.sh cargo bench --bench online
//!
//! (`DATABASE_URL` set: that server; else a throwaway cluster, which
//! `scripts/with-postgres.sh` starts with `fsync=off`; the header prints the
//! server's `fsync` and `synchronous_commit` as it reports them).
//!
//! For each mode, on a fresh copy of the same loaded database: pgbench starts
//! (`-R` fixed rate, per-transaction log), runs a warm-up second and the
//! "before" window, then the change runs (its wall time is the change's
//! window), and pgbench goes on until its end. From pgbench's log: the latency
//! of every write (from its scheduled start, so a write queued behind a lock
//! counts the wait), the writes completed during the change, and the longest
//! stretch with no completed write. A write's latency belongs to the change's
//! window when the write was scheduled before the change ended and completed
//! after it started. The online change is also cut into its phases (from
//! `reconcile apply --online`'s output, as it prints them; by hand, one psql
//! run each), with the writes completed and in flight during each. Failed
//! writes: those pgbench logs as failed plus clients it aborted (an error
//! other than a serialization or deadlock failure).
//!
//! The target's verdict says "met" only when the data shows it: writes
//! completed before the change, at least one write completed during each
//! phase, no failed write, and the max latency during the change within 2x the
//! max before it; it prints the counts it rests on. Without a write in some
//! phase it says "not shown".
//!
//! Knobs: `ONLINE_BENCH_ROWS` (1000000), `ONLINE_BENCH_RATE` (writes/s, 1000),
//! `ONLINE_BENCH_CLIENTS` (4), `ONLINE_BENCH_BEFORE` (seconds of the "before"
//! window, 5), `ONLINE_BENCH_BUDGET` (seconds pgbench goes on after the change
//! starts, 15). `ONLINE_BENCH_MANUAL=1` runs the online phases by hand through
//! psql instead of `reconcile apply --online` (to check the measurement itself).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod common;
use common::{psql, psql_file, psql_value, statements_in, with_database};

const BIG: &str = "bench_events";
const SMALL: &str = "bench_accounts";
const ACCOUNTS: usize = 100;
const NEW_COLUMN: &str = "note";
const NEW_INDEX: &str = "bench_events_account_id_idx";
const NEW_FK: &str = "bench_events_account_fk";
const WARMUP: Duration = Duration::from_secs(1);

struct Config {
    rows: usize,
    rate: usize,
    clients: usize,
    before: Duration,
    budget: Duration,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Transaction,
    Online,
    OnlineManual,
}

impl Mode {
    fn label(self) -> &'static str {
        match self {
            Mode::Transaction => "apply (one transaction)",
            Mode::Online => "apply --online",
            Mode::OnlineManual => "online by hand (psql)",
        }
    }
}

/// One pgbench transaction from its log: completion time and latency, in µs.
#[derive(Clone, Copy)]
struct Write {
    end_us: i64,
    /// None: pgbench logged it as failed.
    latency_us: Option<i64>,
}

struct Measured {
    mode: Mode,
    change: Duration,
    /// Writes completed between the change's start and its end.
    completed: usize,
    window: Latency,
    /// The online phases, each with its own window (none for one transaction).
    phases: Vec<PhaseStat>,
    before: Latency,
    failed: usize,
    aborted_clients: usize,
    first_error: Option<String>,
    warning: Option<String>,
}

/// One phase of an online change: its window and the writes in it.
struct PhaseStat {
    label: String,
    duration: Duration,
    /// Writes completed within the phase's window.
    completed: usize,
    /// Writes in flight during it (scheduled before its end, completed after its start).
    in_flight: Latency,
}

/// A phase's window as the bench saw it, before the writes are counted.
struct PhaseWindow {
    label: String,
    start: SystemTime,
    end: SystemTime,
}

#[derive(Default)]
struct Latency {
    n: usize,
    p99_us: i64,
    max_us: i64,
    longest_gap_us: i64,
}

fn main() {
    let Ok(admin_url) = std::env::var("DATABASE_URL") else {
        eprintln!(
            "DATABASE_URL is not set: run `scripts/with-postgres.sh cargo bench --bench online`"
        );
        std::process::exit(1);
    };
    let cfg = Config {
        rows: env_num("ONLINE_BENCH_ROWS", 1_000_000),
        rate: env_num("ONLINE_BENCH_RATE", 1000),
        clients: env_num("ONLINE_BENCH_CLIENTS", 4).max(1),
        before: Duration::from_secs(env_num("ONLINE_BENCH_BEFORE", 5) as u64),
        budget: Duration::from_secs(env_num("ONLINE_BENCH_BUDGET", 15) as u64),
    };
    let bin = env!("CARGO_BIN_EXE_reconcile");
    let pgbench = find_bin("pgbench");
    let work = tempfile::tempdir().expect("a temporary directory");
    let dir = work.path();

    let manual = std::env::var("ONLINE_BENCH_MANUAL").is_ok_and(|v| v == "1");
    let has_online = Command::new(bin)
        .args(["apply", "--help"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("--online"))
        .unwrap_or(false);
    let online = if manual {
        Mode::OnlineManual
    } else {
        Mode::Online
    };

    let (before, after) = write_schemas(dir);
    let script = dir.join("write.sql");
    std::fs::write(
        &script,
        format!(
            "\\set id random(1, :rows)\n\\set account random(1, :accounts)\n\
             UPDATE {BIG} SET account_id = :account, writes = writes + 1, touched_at = now() WHERE id = :id;\n"
        ),
    )
    .unwrap();

    let facts = psql_value(
        &admin_url,
        "SELECT current_setting('server_version') || ', fsync=' || current_setting('fsync') \
         || ', synchronous_commit=' || current_setting('synchronous_commit') \
         || ', shared_buffers=' || current_setting('shared_buffers')",
    );
    let version_num: i32 = psql_value(&admin_url, "SHOW server_version_num")
        .parse()
        .expect("server_version_num");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("Writes during an additive change: reconcile apply vs reconcile apply --online.");
    println!("PostgreSQL {facts}; {cores} cores on this machine (shared: expect noise).");
    println!(
        "Table {BIG}: {} rows; pgbench: {} clients, {} writes/s fixed rate (-R), each an UPDATE \
         of one random row (its account_id, the column the change indexes and references).",
        cfg.rows, cfg.clients, cfg.rate
    );

    // The loaded database, copied once per mode.
    let pid = std::process::id();
    let base_db = format!("online_base_{pid}");
    psql(&admin_url, &format!("CREATE DATABASE {base_db}"));
    let base_url = with_database(&admin_url, &base_db);
    run_ok(bin, &["apply"], &before, &base_url);
    eprintln!("[bench] loading {} rows", cfg.rows);
    psql(
        &base_url,
        &format!(
            "INSERT INTO {SMALL} (id, name) SELECT i, 'account ' || i FROM generate_series(1, {ACCOUNTS}) i"
        ),
    );
    psql(
        &base_url,
        &format!(
            "INSERT INTO {BIG} (id, account_id, payload) \
             SELECT i, 1 + i % {ACCOUNTS}, md5(i::text) FROM generate_series(1, {}) i",
            cfg.rows
        ),
    );
    psql(&base_url, "VACUUM ANALYZE");
    let size = psql_value(
        &base_url,
        &format!("SELECT pg_size_pretty(pg_total_relation_size('{BIG}'))"),
    );
    println!("Table size before the change: {size}. The change, as `reconcile plan` prints it:");
    let plan = run_ok(bin, &["plan", "--format", "sql"], &after, &base_url);
    for line in plan.lines().filter(|l| !l.trim().is_empty()) {
        println!("    {line}");
    }
    println!();

    let mut results = Vec::new();
    for mode in [Mode::Transaction, online] {
        if mode == Mode::Online && !has_online {
            eprintln!(
                "[bench] this reconcile has no `apply --online` yet: the online row is missing \
                 (ONLINE_BENCH_MANUAL=1 runs the online phases by hand through psql)"
            );
            continue;
        }
        let db = format!(
            "online_{}_{pid}",
            if mode == Mode::Transaction {
                "tx"
            } else {
                "online"
            }
        );
        // FILE_COPY (PostgreSQL 15+): copies the files after a checkpoint instead
        // of writing the whole table to the WAL while the next run measures.
        let strategy = if version_num >= 150_000 {
            " STRATEGY = FILE_COPY"
        } else {
            ""
        };
        psql(
            &admin_url,
            &format!("CREATE DATABASE {db} TEMPLATE {base_db}{strategy}"),
        );
        let url = with_database(&admin_url, &db);
        psql(&url, "CHECKPOINT");
        eprintln!("[bench] {}", mode.label());
        let m = measure(&cfg, mode, bin, &pgbench, &script, &after, &url, dir);
        // The change is complete: planning the files again finds nothing to do.
        let left = run_ok(bin, &["plan", "--format", "json"], &after, &url);
        let pending = statements_in(&left);
        assert_eq!(
            pending,
            0,
            "{}: {pending} statement(s) still pending after the change",
            mode.label()
        );
        psql(&admin_url, &format!("DROP DATABASE {db} WITH (FORCE)"));
        results.push(m);
    }
    psql(&admin_url, &format!("DROP DATABASE {base_db} WITH (FORCE)"));

    print_table(&results);
    match results.iter().find(|m| m.mode != Mode::Transaction) {
        Some(m) => println!("{}", verdict(m)),
        None => {
            println!("Target: not measured: this reconcile has no `apply --online`.");
            std::process::exit(1);
        }
    }
}

/// The target's verdict for the online row, with the counts it rests on. "met"
/// only when the data shows it: writes before the change to compare with, at
/// least one write completed within each phase's window (the whole change's,
/// when there are no phases), no failed write, and the max latency of the
/// writes in flight during the change within 2x the max before it.
fn verdict(m: &Measured) -> String {
    let limit = 2 * m.before.max_us;
    let per_phase: Vec<String> = m
        .phases
        .iter()
        .map(|p| format!("{}: {}", p.label, p.completed))
        .collect();
    let mut empty: Vec<String> = m
        .phases
        .iter()
        .filter(|p| p.completed == 0)
        .map(|p| format!("{} ({} ms)", p.label, ms(p.duration.as_micros() as i64)))
        .collect();
    if m.phases.is_empty() && m.completed == 0 {
        empty.push("the change".into());
    }
    let result = if m.failed > 0 {
        "NOT met".to_string()
    } else if m.before.n == 0 {
        "not shown (no write completed before the change to compare with)".to_string()
    } else if m.window.max_us > limit {
        "NOT met".to_string()
    } else if !empty.is_empty() {
        format!(
            "not shown (no write completed during {}: a higher ONLINE_BENCH_RATE puts more writes in a short phase)",
            empty.join(", ")
        )
    } else {
        "met".to_string()
    };
    let overlap = if m.phases.is_empty() {
        "the change"
    } else {
        "each phase"
    };
    format!(
        "Target ({}: max write latency during the change within 2x the max before it, no failed write, \
         at least one write completed during {overlap}): {result} \
         (max {} ms over {} write(s) in flight during the change vs 2 x {} ms = {} ms over {} write(s) before it; \
         writes completed during the change: {}{}; {} failed write(s))",
        m.mode.label(),
        ms(m.window.max_us),
        m.window.n,
        ms(m.before.max_us),
        ms(limit),
        m.before.n,
        m.completed,
        if per_phase.is_empty() {
            String::new()
        } else {
            format!(" ({})", per_phase.join(", "))
        },
        m.failed
    )
}

/// One mode: pgbench at a fixed rate, the change in the middle, the log read back.
#[allow(clippy::too_many_arguments)]
fn measure(
    cfg: &Config,
    mode: Mode,
    bin: &str,
    pgbench: &Path,
    script: &Path,
    after: &Path,
    url: &str,
    dir: &Path,
) -> Measured {
    let tag = match mode {
        Mode::Transaction => "tx",
        Mode::Online => "online",
        Mode::OnlineManual => "manual",
    };
    let prefix = dir.join(format!("{tag}_log"));
    let out = dir.join(format!("{tag}_pgbench.out"));
    let err = dir.join(format!("{tag}_pgbench.err"));
    let seconds = (WARMUP + cfg.before + cfg.budget).as_secs();
    let threads = cfg.clients.min(2);
    let started = SystemTime::now();
    let mut child = Command::new(pgbench)
        .args(["-n", "--failures-detailed", "-l"])
        .arg(format!("-c{}", cfg.clients))
        .arg(format!("-j{threads}"))
        .arg(format!("-R{}", cfg.rate))
        .arg(format!("-T{seconds}"))
        .arg("-f")
        .arg(script)
        .arg(format!("--log-prefix={}", prefix.display()))
        .arg(format!("-Drows={}", cfg.rows))
        .arg(format!("-Daccounts={ACCOUNTS}"))
        .arg(url)
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("run pgbench");
    std::thread::sleep(WARMUP + cfg.before);

    let change_start = SystemTime::now();
    let t = Instant::now();
    let windows = match mode {
        Mode::Transaction => {
            run_ok(bin, &["apply"], after, url);
            Vec::new()
        }
        Mode::Online => {
            let lines = run_lines(bin, &["apply", "--online"], after, url, dir);
            phase_windows(&lines)
        }
        Mode::OnlineManual => online_by_hand(url, dir),
    };
    let change = t.elapsed();
    let change_end = change_start + change;
    let status = child.wait().expect("wait for pgbench");
    let pgbench_end = SystemTime::now();

    let mut warning = None;
    let planned_end = started + Duration::from_secs(seconds);
    if planned_end.duration_since(change_end).unwrap_or_default() < Duration::from_secs(2) {
        warning = Some(format!(
            "the change ended less than 2 s before pgbench did: raise ONLINE_BENCH_BUDGET (now {} s)",
            cfg.budget.as_secs()
        ));
    }
    let summary = std::fs::read_to_string(&out).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    // "pgbench: error: client 1 script 0 aborted in command 2 query 0: ERROR: ..."
    let aborted: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("client ") && l.contains(" aborted in command"))
        .collect();
    if !status.success() && aborted.is_empty() {
        panic!("pgbench failed ({status}):\n{stderr}");
    }
    let summary_failed: usize = summary
        .lines()
        .find_map(|l| l.strip_prefix("number of failed transactions: "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);

    let writes = read_logs(&prefix);
    assert!(!writes.is_empty(), "pgbench logged no write");
    let log_failed = writes.iter().filter(|w| w.latency_us.is_none()).count();
    let us = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_micros() as i64;
    let (run_start, start, end) = (us(started + WARMUP), us(change_start), us(change_end));
    // pgbench's end closes the last stretch (all clients aborted: no write after).
    let stop = us(pgbench_end);

    let completed_in = |from: i64, to: i64| {
        writes
            .iter()
            .filter(|w| w.latency_us.is_some() && (from..=to).contains(&w.end_us))
            .count()
    };
    // Writes scheduled before `to` and completed after `from`.
    let in_flight = |from: i64, to: i64| {
        latency(&writes, from, to, stop, |w, lat| {
            w.end_us - lat <= to && w.end_us >= from
        })
    };
    let phases = windows
        .into_iter()
        .map(|p| {
            let (from, to) = (us(p.start), us(p.end));
            PhaseStat {
                label: p.label,
                duration: p.end.duration_since(p.start).unwrap_or_default(),
                completed: completed_in(from, to),
                in_flight: in_flight(from, to),
            }
        })
        .collect();
    Measured {
        mode,
        change,
        completed: completed_in(start, end),
        window: in_flight(start, end),
        phases,
        // Writes completed between the warm-up and the change.
        before: latency(&writes, run_start, start, stop, |w, _| {
            w.end_us >= run_start && w.end_us < start
        }),
        failed: log_failed.max(summary_failed) + aborted.len(),
        aborted_clients: aborted.len(),
        first_error: aborted.first().map(|l| l.to_string()),
        warning,
    }
}

/// The online phases by hand, as SPEC §4 describes them: phase 1 one quick
/// transaction (the column, the foreign key NOT VALID), phase 2 the index
/// CONCURRENTLY, phase 3 VALIDATE in its own transaction; a short lock timeout.
/// Each phase is one psql run; its window is that run, start to exit.
fn online_by_hand(url: &str, dir: &Path) -> Vec<PhaseWindow> {
    let phases = [
        (
            "phase 1",
            format!(
                "BEGIN;\n\
                 ALTER TABLE {BIG} ADD COLUMN {NEW_COLUMN} text;\n\
                 ALTER TABLE {BIG} ADD CONSTRAINT {NEW_FK} FOREIGN KEY (account_id) REFERENCES {SMALL}(id) NOT VALID;\n\
                 COMMIT;\n"
            ),
        ),
        (
            "phase 2",
            format!("CREATE INDEX CONCURRENTLY {NEW_INDEX} ON {BIG} (account_id);\n"),
        ),
        (
            "phase 3",
            format!("ALTER TABLE {BIG} VALIDATE CONSTRAINT {NEW_FK};\n"),
        ),
    ];
    phases
        .into_iter()
        .enumerate()
        .map(|(i, (label, sql))| {
            let file = dir.join(format!("online_by_hand_{i}.sql"));
            std::fs::write(&file, format!("SET lock_timeout = '2s';\n{sql}")).unwrap();
            let start = SystemTime::now();
            psql_file(url, &file);
            PhaseWindow {
                label: label.to_string(),
                start,
                end: SystemTime::now(),
            }
        })
        .collect()
}

/// The phases of `reconcile apply --online` from its output, as it prints
/// them: a phase's window runs from the time its `  phase N: ...` line was read
/// to the time its last `  ok ...` line was read (printed once the step has
/// committed), so the time between phases belongs to none.
fn phase_windows(lines: &[(SystemTime, String)]) -> Vec<PhaseWindow> {
    let mut phases: Vec<PhaseWindow> = Vec::new();
    for (t, line) in lines {
        if let Some(rest) = line.strip_prefix("  phase ") {
            let number = rest.split(':').next().unwrap_or(rest);
            phases.push(PhaseWindow {
                label: format!("phase {number}"),
                start: *t,
                end: *t,
            });
        } else if line.starts_with("  ok ") {
            if let Some(p) = phases.last_mut() {
                p.end = *t;
            }
        }
    }
    phases
}

/// p99, max and the longest stretch with no completed write among the writes
/// `keep` selects (given the write and its latency); the stretch counts the
/// gaps between consecutive completions (and `stop`, pgbench's end) that
/// overlap `from..=to`.
fn latency(
    writes: &[Write],
    from: i64,
    to: i64,
    stop: i64,
    keep: impl Fn(&Write, i64) -> bool,
) -> Latency {
    let mut lat: Vec<i64> = writes
        .iter()
        .filter_map(|w| w.latency_us.filter(|&l| keep(w, l)))
        .collect();
    lat.sort_unstable();
    let mut ends: Vec<i64> = writes
        .iter()
        .filter(|w| w.latency_us.is_some())
        .map(|w| w.end_us)
        .collect();
    ends.push(stop);
    ends.sort_unstable();
    let longest_gap_us = ends
        .windows(2)
        .filter(|p| p[1] >= from && p[0] <= to)
        .map(|p| p[1] - p[0])
        .max()
        .unwrap_or(0);
    if lat.is_empty() {
        return Latency {
            longest_gap_us,
            ..Latency::default()
        };
    }
    let p99 = lat[(lat.len() * 99).div_ceil(100) - 1];
    Latency {
        n: lat.len(),
        p99_us: p99,
        max_us: *lat.last().unwrap(),
        longest_gap_us,
    }
}

/// pgbench's per-transaction logs (one file per thread):
/// `client_id transaction_no time script_no time_epoch time_us [schedule_lag] [retries]`,
/// where `time` is the latency in µs (from the scheduled start under `-R`), or
/// `failed` / `serialization` / `deadlock` for a failed transaction.
fn read_logs(prefix: &Path) -> Vec<Write> {
    let dir = prefix.parent().unwrap();
    let stem = format!("{}.", prefix.file_name().unwrap().to_string_lossy());
    let mut writes = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&stem))
        })
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in text.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 6 {
                continue;
            }
            let (Ok(sec), Ok(usec)) = (f[4].parse::<i64>(), f[5].parse::<i64>()) else {
                panic!("{}: unexpected line {line:?}", file.display());
            };
            writes.push(Write {
                end_us: sec * 1_000_000 + usec,
                latency_us: f[2].parse().ok(),
            });
        }
    }
    writes
}

fn print_table(results: &[Measured]) {
    println!("| mode | change | writes completed during it | writes/s during it | writes in flight during it | p99 latency | max latency | longest stretch, no write completed | failed writes | before the change: writes / p99 / max / longest stretch |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for m in results {
        println!(
            "| {} | {} ms | {} | {:.0} | {} | {} ms | {} ms | {} ms | {} | {} / {} / {} / {} ms |",
            m.mode.label(),
            ms(m.change.as_micros() as i64),
            m.completed,
            m.completed as f64 / m.change.as_secs_f64(),
            m.window.n,
            ms(m.window.p99_us),
            ms(m.window.max_us),
            ms(m.window.longest_gap_us),
            m.failed,
            m.before.n,
            ms(m.before.p99_us),
            ms(m.before.max_us),
            ms(m.before.longest_gap_us),
        );
    }
    println!();
    for m in results.iter().filter(|m| !m.phases.is_empty()) {
        println!("{}, by phase:", m.mode.label());
        println!("| phase | duration | writes completed during it | writes in flight during it | p99 latency | max latency | longest stretch, no write completed |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        for p in &m.phases {
            println!(
                "| {} | {} ms | {} | {} | {} ms | {} ms | {} ms |",
                p.label,
                ms(p.duration.as_micros() as i64),
                p.completed,
                p.in_flight.n,
                ms(p.in_flight.p99_us),
                ms(p.in_flight.max_us),
                ms(p.in_flight.longest_gap_us),
            );
        }
        println!();
    }
    println!(
        "Latency: from a write's scheduled start to its completion (pgbench -R), over the writes \
         in flight during the change or phase (scheduled before its end, completed after its start); \
         before: the writes completed between the warm-up second and the change. A phase's window: \
         with --online, from reconcile printing `phase N` to printing the `ok` of its last step \
         (after that step committed); by hand, the phase's psql run."
    );
    for m in results {
        if m.aborted_clients > 0 {
            println!(
                "{}: pgbench aborted {} client(s): {}",
                m.mode.label(),
                m.aborted_clients,
                m.first_error.as_deref().unwrap_or("(no message)")
            );
        }
        if let Some(w) = &m.warning {
            println!("{}: warning: {w}", m.mode.label());
        }
    }
}

/// The schema before (two tables) and after (one more column, index and
/// foreign key on the big one), as two schema directories.
fn write_schemas(dir: &Path) -> (PathBuf, PathBuf) {
    let before = dir.join("before");
    let after = dir.join("after");
    std::fs::create_dir_all(&before).unwrap();
    std::fs::create_dir_all(&after).unwrap();
    let small = format!(
        "[tables.{SMALL}.columns]\n\
         id   = {{ type = \"bigint\", primary_key = true }}\n\
         name = {{ type = \"text\", not_null = true }}\n"
    );
    let big_columns = format!(
        "[tables.{BIG}.columns]\n\
         id         = {{ type = \"bigint\", primary_key = true }}\n\
         account_id = {{ type = \"bigint\", not_null = true }}\n\
         payload    = {{ type = \"text\", not_null = true }}\n\
         writes     = {{ type = \"integer\", not_null = true, default = 0 }}\n\
         touched_at = {{ type = \"timestamptz\" }}\n"
    );
    for d in [&before, &after] {
        std::fs::write(d.join(format!("{SMALL}.toml")), &small).unwrap();
    }
    std::fs::write(before.join(format!("{BIG}.toml")), &big_columns).unwrap();
    std::fs::write(
        after.join(format!("{BIG}.toml")),
        format!(
            "{big_columns}\
             {NEW_COLUMN}       = {{ type = \"text\" }}\n\n\
             [tables.{BIG}.indexes]\n\
             {NEW_INDEX} = {{ columns = [\"account_id\"] }}\n\n\
             [tables.{BIG}.foreign_keys]\n\
             {NEW_FK} = {{ columns = [\"account_id\"], references = \"{SMALL}(id)\" }}\n"
        ),
    )
    .unwrap();
    (before, after)
}

fn ms(us: i64) -> String {
    format!("{:.1}", us as f64 / 1000.0)
}

fn env_num(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

/// A PostgreSQL program: on PATH, else the newest under /usr/lib/postgresql.
fn find_bin(name: &str) -> PathBuf {
    if let Ok(path) = std::env::var("PATH") {
        for d in std::env::split_paths(&path) {
            let p = d.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(name)))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found
        .pop()
        .unwrap_or_else(|| panic!("{name} not found: install PostgreSQL (Debian: postgresql)"))
}

/// Run the binary with `--schema` and `--database-url`; each line of its
/// stdout (line-buffered) with the time it was read, or a panic with its stderr.
fn run_lines(
    bin: &str,
    args: &[&str],
    schema: &Path,
    url: &str,
    dir: &Path,
) -> Vec<(SystemTime, String)> {
    let err_path = dir.join("reconcile.err");
    let mut child = Command::new(bin)
        .args(args)
        .arg("--schema")
        .arg(schema)
        .arg("--database-url")
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("run reconcile");
    let stdout = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
    let lines: Vec<(SystemTime, String)> = stdout
        .lines()
        .map(|l| (SystemTime::now(), l.expect("reconcile's output")))
        .collect();
    let status = child.wait().expect("wait for reconcile");
    assert!(
        status.success(),
        "reconcile {args:?} failed ({status}):\n{}",
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
    lines
}

/// Run the binary with `--schema` and `--database-url`; its stdout, or a panic
/// with its stderr.
fn run_ok(bin: &str, args: &[&str], schema: &Path, url: &str) -> String {
    let out = Command::new(bin)
        .args(args)
        .arg("--schema")
        .arg(schema)
        .arg("--database-url")
        .arg(url)
        .output()
        .expect("run reconcile");
    assert!(
        out.status.success(),
        "reconcile {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
