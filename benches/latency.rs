//! Far databases: how many round trips `plan` and `apply` cost. Run it with
//!
//!     scripts/with-postgres.sh cargo bench --bench latency
//!
//! (`DATABASE_URL` set: that server; else a throwaway cluster). The bench
//! starts a TCP proxy of its own in front of the server that holds every
//! chunk of bytes `LATENCY_BENCH_DELAY_MS` (25) ms in each direction, so a
//! round trip costs 50 ms, and measures through it, in one run:
//!
//! - **connect**: a connection alone (TCP connect, startup, authentication;
//!   tokio-postgres, as reconcile connects), the median of 3;
//! - **reconcile apply** of the example schema (`schema/`) to an empty database;
//! - **no-op plan**: `reconcile plan` of the same files against that database;
//! - **no-op apply**: `reconcile apply` again;
//! - **psql -1 -f** of the same SQL (`reconcile plan --format sql`) into
//!   another empty database.
//!
//! Each prints its wall time and the round trips it took beyond connecting:
//! (wall time − connect) / (2 × delay), rounded, as issue 23 counts them (the
//! server's own work counts in); "latency only": the same run is also made
//! straight to the server, on a database of its own, and (far − near) / (2 ×
//! delay) − connect's round trips is what the distance alone cost; "turns":
//! the proxy counts the requests a client sent after an answer reached it (a
//! count of waits that no clock blurs). Connections use `sslmode=disable`.
//! Targets (issue 23): apply within 10 round trips of connect, a no-op plan
//! within 3.
//!
//! `RECONCILE_BIN` measures another build of reconcile (e.g. an older one)
//! instead of this one.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Turns seen by the proxy: bytes from a client after bytes from the server
/// on the same connection (a request that waited for an answer), plus the
/// first bytes of each connection.
static TURNS: AtomicUsize = AtomicUsize::new(0);

mod common;
use common::{psql, psql_value, with_database};

fn main() {
    let Ok(admin_url) = std::env::var("DATABASE_URL") else {
        eprintln!(
            "DATABASE_URL is not set: run `scripts/with-postgres.sh cargo bench --bench latency`"
        );
        std::process::exit(1);
    };
    let delay = Duration::from_millis(
        std::env::var("LATENCY_BENCH_DELAY_MS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(25),
    );
    let rt = delay * 2;
    let bin: PathBuf = std::env::var_os("RECONCILE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_reconcile")));
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
    let config: tokio_postgres::Config = admin_url.parse().expect("DATABASE_URL: a connection URL");
    let upstream = upstream_of(&config);
    let user = config.get_user().unwrap_or("postgres").to_string();
    let password = config
        .get_password()
        .map(|p| String::from_utf8_lossy(p).into_owned());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let listener = runtime
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("a port for the proxy");
    let proxy_port = listener.local_addr().expect("the proxy's port").port();
    runtime.spawn(proxy(listener, upstream.clone(), delay));

    let (up_host, up_port) = upstream.rsplit_once(':').expect("host:port");
    // As libpq's keywords (reconcile and psql both read them): through the
    // proxy (`far`), or straight to the server.
    let conninfo = |db: &str, far: bool| {
        let (host, port) = if far {
            ("127.0.0.1".to_string(), proxy_port.to_string())
        } else {
            (up_host.to_string(), up_port.to_string())
        };
        let mut s = format!("host={host} port={port} user={user} dbname={db} sslmode=disable");
        if let Some(p) = &password {
            s.push_str(&format!(
                " password='{}'",
                p.replace('\\', "\\\\").replace('\'', "\\'")
            ));
        }
        s
    };

    let pid = std::process::id();
    let dbs: Vec<String> = ["apply", "psql", "apply_near", "psql_near"]
        .iter()
        .map(|d| format!("latency_{d}_{pid}"))
        .collect();
    for db in &dbs {
        psql(&admin_url, &format!("DROP DATABASE IF EXISTS {db}"));
        psql(&admin_url, &format!("CREATE DATABASE {db}"));
    }
    let server = psql_value(&admin_url, "SELECT current_setting('server_version')");

    // The example schema's SQL, read directly (not through the proxy).
    let work = tempfile::tempdir().expect("a temporary directory");
    let sql_file = work.path().join("schema.sql");
    let out = Command::new(&bin)
        .args(["plan", "--format", "sql", "--schema"])
        .arg(&schema)
        .args(["--database-url", &with_database(&admin_url, &dbs[1])])
        .output()
        .expect("run reconcile plan");
    assert!(
        out.status.success(),
        "reconcile plan --format sql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&sql_file, &out.stdout).expect("write the SQL");
    let statements = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.trim_end().ends_with(';'))
        .count();

    let start = timed(|| {
        let ok = Command::new(&bin)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(ok, "reconcile --version failed");
    });
    let connect_median = |far: bool| {
        let mut times: Vec<Duration> = (0..3)
            .map(|_| {
                runtime.block_on(async {
                    let t = Instant::now();
                    let (client, connection) =
                        tokio_postgres::connect(&conninfo(&dbs[0], far), tokio_postgres::NoTls)
                            .await
                            .expect("connect");
                    let d = t.elapsed();
                    drop(client);
                    let _ = connection.await;
                    d
                })
            })
            .collect();
        times.sort();
        times[1]
    };
    TURNS.store(0, Ordering::SeqCst);
    let connect = connect_median(true);
    let connect_turns = TURNS.load(Ordering::SeqCst) / 3;
    let connect_near = connect_median(false);

    // One run: its wall time and the proxy's turns (none when not through it).
    let reconcile = |args: &[&str], db: &str, far: bool| {
        TURNS.store(0, Ordering::SeqCst);
        let t = Instant::now();
        let out = Command::new(&bin)
            .args(args)
            .arg("--schema")
            .arg(&schema)
            .args(["--database-url", &conninfo(db, far)])
            .stdin(Stdio::null())
            .output()
            .expect("run reconcile");
        let d = t.elapsed();
        assert!(
            out.status.success(),
            "reconcile {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (d, TURNS.load(Ordering::SeqCst))
    };
    let psql_file = |db: &str, far: bool| {
        TURNS.store(0, Ordering::SeqCst);
        let d = timed(|| {
            let ok = Command::new("psql")
                .args([
                    "-X",
                    "-q",
                    "-1",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-d",
                    &conninfo(db, far),
                    "-f",
                ])
                .arg(&sql_file)
                .stdout(Stdio::null())
                .status()
                .expect("run psql")
                .success();
            assert!(ok, "psql -1 -f failed");
        });
        (d, TURNS.load(Ordering::SeqCst))
    };
    // Each far, then the same near (the server's and the process's own time).
    let apply = reconcile(&["apply"], &dbs[0], true);
    let apply_near = reconcile(&["apply"], &dbs[2], false);
    let plan = reconcile(&["plan", "--format", "json"], &dbs[0], true);
    let plan_near = reconcile(&["plan", "--format", "json"], &dbs[2], false);
    let noop_apply = reconcile(&["apply"], &dbs[0], true);
    let noop_apply_near = reconcile(&["apply"], &dbs[2], false);
    let psql_run = psql_file(&dbs[1], true);
    let psql_near = psql_file(&dbs[3], false);

    for db in &dbs {
        psql(&admin_url, &format!("DROP DATABASE IF EXISTS {db}"));
    }

    let per = |d: Duration| d.as_secs_f64() / rt.as_secs_f64();
    println!(
        "Round trips through a proxy that holds each chunk {} ms each way ({} ms a round trip); PostgreSQL {server}; \
         the example schema's SQL: {statements} statement(s); reconcile: {}.",
        delay.as_millis(),
        rt.as_millis(),
        bin.display()
    );
    println!(
        "round trips = (wall time - connect) / {} ms, rounded (the server's own work and the process's counted in); \
         latency only = (wall time - the same run straight to the server) / {} ms - connect's round trips \
         ({:.1}: {} ms far, {} ms near); starting reconcile's process alone takes {} ms.",
        rt.as_millis(),
        rt.as_millis(),
        per(connect.saturating_sub(connect_near)),
        connect.as_millis(),
        connect_near.as_millis(),
        start.as_millis()
    );
    println!(
        "turns = requests the proxy saw sent after an answer arrived, connecting included \
         (a connection alone takes {connect_turns}): a count of waits, independent of the clock."
    );
    println!();
    println!("| run | wall far (ms) | wall near (ms) | round trips after connect | latency only | turns | target |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    println!(
        "| connect alone | {} | {} | (0) | | {connect_turns} | |",
        connect.as_millis(),
        connect_near.as_millis()
    );
    let connect_trips = per(connect.saturating_sub(connect_near));
    let row = |name: &str,
               (d, turns): (Duration, usize),
               (near, _): (Duration, usize),
               target: Option<u64>| {
        let t = per(d.saturating_sub(connect)).round() as u64;
        let latency = per(d.saturating_sub(near)) - connect_trips;
        let verdict = match target {
            Some(max) if t <= max => format!("<= {max}: met"),
            Some(max) => format!("<= {max}: NOT met"),
            None => String::new(),
        };
        println!(
            "| {name} | {} | {} | {t} | {latency:.1} | {turns} | {verdict} |",
            d.as_millis(),
            near.as_millis()
        );
    };
    row(
        "reconcile apply, empty database",
        apply,
        apply_near,
        Some(10),
    );
    row("reconcile plan, no-op", plan, plan_near, Some(3));
    row("reconcile apply, no-op", noop_apply, noop_apply_near, None);
    row("psql -1 -f, empty database", psql_run, psql_near, None);
}

fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

/// The server's `host:port` (the first TCP host of the URL; default localhost:5432).
fn upstream_of(config: &tokio_postgres::Config) -> String {
    let host = config
        .get_hosts()
        .iter()
        .find_map(|h| match h {
            tokio_postgres::config::Host::Tcp(h) => Some(h.clone()),
            #[allow(unreachable_patterns)]
            _ => None,
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

/// Accept connections and relay each to `upstream`, holding every chunk `delay`.
async fn proxy(listener: TcpListener, upstream: String, delay: Duration) {
    while let Ok((client, _)) = listener.accept().await {
        let upstream = upstream.clone();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(&upstream).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            // Whether the server spoke last (a client chunk after it is a turn).
            let server_spoke = Arc::new(AtomicBool::new(true));
            tokio::join!(
                relay(cr, sw, delay, server_spoke.clone(), true),
                relay(sr, cw, delay, server_spoke, false)
            );
        });
    }
}

/// One direction: what is read at t is written at t + delay, in order; the
/// reader never waits for the writer, so the delay is a latency, not a
/// limit on throughput.
async fn relay(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
    server_spoke: Arc<AtomicBool>,
    from_client: bool,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let server_spoke_w = server_spoke.clone();
    let reader = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if from_client && server_spoke.swap(false, Ordering::SeqCst) {
                        TURNS.fetch_add(1, Ordering::SeqCst);
                    }
                    if tx
                        .send((Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
        // Dropping `tx` ends the writer once everything is delivered.
    };
    let writer = async move {
        while let Some((at, bytes)) = rx.recv().await {
            tokio::time::sleep_until(at.into()).await;
            if to.write_all(&bytes).await.is_err() {
                break;
            }
            if !from_client {
                // The client has the server's answer now.
                server_spoke_w.store(true, Ordering::SeqCst);
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}
