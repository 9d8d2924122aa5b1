//! `reconcile serve`: the real server on a free port against a real PostgreSQL,
//! spoken to over HTTP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::harness::{repo, wait_for, Session, TestDb};

pub(crate) const TOKEN: &str = "0123456789abcdef0123456789abcdef-secret";

pub(crate) struct Server {
    child: Child,
    port: u16,
    logs: Arc<Mutex<Vec<String>>>,
    /// The threads that read its stdout and stderr, which end at their end.
    readers: Vec<std::thread::JoinHandle<()>>,
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    headers: String,
    pub(crate) body: Value,
}

impl Server {
    fn start(db: &TestDb, env: &[(&str, &str)]) -> Server {
        Server::start_with(db, env, None)
    }

    /// As `start`, the server limited to `max_open_files` file descriptors when given.
    fn start_with(db: &TestDb, env: &[(&str, &str)], max_open_files: Option<u64>) -> Server {
        Server::start_in(db, &repo().join("schema"), env, max_open_files)
    }

    /// As `start_with`, serving the files of `schema`.
    pub(crate) fn start_in(
        db: &TestDb,
        schema: &std::path::Path,
        env: &[(&str, &str)],
        max_open_files: Option<u64>,
    ) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_reconcile"));
        cmd.args([
            "serve",
            "--schema",
            schema.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("DATABASE_URL", &db.url)
        .env_remove("ADMIN_TOKEN")
        .env_remove("RUN_MIGRATIONS_ON_BOOT")
        .env_remove("APP_ENV")
        .env_remove("NODE_ENV")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(n) = max_open_files {
            use std::os::unix::process::CommandExt;
            // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    let limit = libc::rlimit {
                        rlim_cur: n as libc::rlim_t,
                        rlim_max: n as libc::rlim_t,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let mut child = cmd.spawn().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        for stream in [
            Box::new(child.stderr.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stdout.take().unwrap()),
        ] {
            let logs = logs.clone();
            readers.push(std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    logs.lock().unwrap().push(line);
                }
            }));
        }
        let s = Server {
            child,
            port,
            logs,
            readers,
        };
        assert!(
            wait_for(30, || TcpStream::connect(("127.0.0.1", port)).is_ok()),
            "the server did not start: {:?}",
            s.logs()
        );
        s
    }

    fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        let (status, headers, body) = self.request_text(method, path, headers);
        let body: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{method} {path}: body is not JSON ({e}): {body}"));
        let bad = crate::harness::not_camel_case(&body);
        assert!(
            bad.is_empty(),
            "{method} {path}: keys not camelCase: {bad:?}\n{body}"
        );
        Reply {
            status,
            headers,
            body,
        }
    }

    /// One request: the status, the head (lower case) and the body as text.
    pub(crate) fn request_text(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, String, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 0\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        stream.write_all(req.as_bytes()).unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).unwrap();
        let (status, head, body) = split_answer(&raw);
        (status, head.to_lowercase(), body.to_string())
    }

    /// Send `bytes` as they are, and read until the server closes the
    /// connection or `wait` passes: what came back, and whether it closed.
    fn raw(&self, bytes: &[u8], wait: Duration) -> (Vec<u8>, bool) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.set_read_timeout(Some(wait)).unwrap();
        stream.write_all(bytes).unwrap();
        read_until_closed(&mut stream)
    }

    fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[])
    }

    pub(crate) fn with_token(&self, method: &str, path: &str) -> Reply {
        self.request(
            method,
            path,
            &[("Authorization", &format!("Bearer {TOKEN}"))],
        )
    }

    /// Send the server SIGTERM (without waiting for it to exit); the
    /// signal must be delivered (the server is still running).
    fn sigterm(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        // SAFETY: kill(2) with a pid of our own child and a valid signal.
        let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
        assert_eq!(
            sent,
            0,
            "SIGTERM not sent: {}",
            std::io::Error::last_os_error()
        );
    }

    /// The server's exit status, if it exits within `secs`.
    fn exit_within(&mut self, secs: u64) -> Option<std::process::ExitStatus> {
        let mut status = None;
        wait_for(secs, || {
            status = self.child.try_wait().ok().flatten();
            status.is_some()
        });
        status
    }

    /// Stop with SIGTERM and check that the token never reached a log line.
    pub(crate) fn stop(mut self) -> Vec<String> {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.sigterm();
        }
        let _ = self.child.wait();
        // Every line it wrote, however slowly the readers run.
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        let logs = self.logs();
        for l in &logs {
            assert!(
                !l.contains(TOKEN) && !l.contains("secret"),
                "the token is in the logs: {l}"
            );
        }
        json_lines(&logs);
        logs
    }
}

/// Every log line as JSON: each one object with a `ts`, a `level` of `info`,
/// `warn` or `error`, and a `msg`, its keys camelCase (panics naming the
/// line otherwise).
pub(crate) fn json_lines(logs: &[String]) -> Vec<Value> {
    logs.iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {l}"));
            assert!(
                v["ts"]
                    .as_str()
                    .is_some_and(|ts| humantime::parse_rfc3339(ts).is_ok())
                    && matches!(v["level"].as_str(), Some("info" | "warn" | "error"))
                    && v["msg"].is_string(),
                "a log line without ts, level or msg: {l}"
            );
            let bad = crate::harness::not_camel_case(&v);
            assert!(bad.is_empty(), "log keys not camelCase: {bad:?}\n{l}");
            v
        })
        .collect()
}

/// The log lines whose `msg` is `msg`.
fn lines_of(logs: &[String], msg: &str) -> Vec<Value> {
    json_lines(logs)
        .into_iter()
        .filter(|v| v["msg"] == msg)
        .collect()
}

/// The request lines of `path` with `status`.
fn request_lines(logs: &[String], path: &str, status: u16) -> Vec<Value> {
    lines_of(logs, "admin request")
        .into_iter()
        .filter(|v| v["path"] == path && v["status"] == status)
        .collect()
}

/// Read until the server closes the connection (or resets it) or the read
/// timeout passes: what came back, and whether it closed.
fn read_until_closed(stream: &mut TcpStream) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (got, true),
            Err(_) => return (got, false),
        }
    }
}

/// The status (0 when there is none), head and body of a raw HTTP/1.1 answer.
fn split_answer(raw: &str) -> (u16, &str, &str) {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head, body)
}

/// The status and JSON body (null when it is not JSON) of a raw HTTP/1.1 answer.
fn parse_answer(raw: &[u8]) -> (u16, Value) {
    let raw = String::from_utf8_lossy(raw);
    let (status, _, body) = split_answer(&raw);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[test]
fn health_answers_without_a_token() {
    let db = TestDb::new("serve_health");
    let s = Server::start(&db, &[("ADMIN_TOKEN", TOKEN), ("APP_ENV", "staging")]);
    let r = s.get("/__admin/health");
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "ok");
    assert_eq!(r.body["env"], "staging");
    assert_eq!(r.body["migrationsEnabled"], false);
    assert_eq!(r.body["database"], "ok");
    let ts = r.body["timestamp"].as_str().unwrap();
    assert!(humantime::parse_rfc3339(ts).is_ok(), "not RFC 3339: {ts}");
    let logs = s.stop();
    assert!(
        logs.iter()
            .any(|l| l.contains("\"path\":\"/__admin/health\"") && l.contains("\"status\":200")),
        "{logs:?}"
    );
}

#[test]
fn tokens_are_checked() {
    let db = TestDb::new("serve_tokens");
    let s = Server::start(&db, &[("ADMIN_TOKEN", TOKEN)]);
    let dry = "/__admin/migrate/dry-run";
    assert_eq!(s.with_token("GET", dry).status, 200);
    assert_eq!(s.get(&format!("{dry}?token={TOKEN}")).status, 200);
    for r in [
        s.get(dry),
        s.request(
            "GET",
            dry,
            &[(
                "Authorization",
                "Bearer wrong-token-wrong-token-wrong-token",
            )],
        ),
        s.get(&format!("{dry}?token=nope")),
        s.request("POST", "/__admin/migrate", &[]),
    ] {
        assert_eq!(r.status, 401);
        assert_eq!(
            r.body,
            serde_json::json!({"success": false, "error": "Invalid admin token"})
        );
    }
    let r = s.request(
        "GET",
        "/__admin/migrate",
        &[("Authorization", &format!("Bearer {TOKEN}"))],
    );
    assert_eq!(r.status, 405);
    assert!(r.headers.contains("allow: post"), "{}", r.headers);
    let logs = s.stop();
    assert!(
        logs.iter().any(|l| l.contains("\"status\":401")),
        "{logs:?}"
    );
    assert!(
        !logs.iter().any(|l| l.contains("?token")),
        "the query string reached the log: {logs:?}"
    );

    for (token, why) in [
        (None, "ADMIN_TOKEN is unset"),
        (
            Some("too-short"),
            "ADMIN_TOKEN is shorter than 32 characters",
        ),
    ] {
        let env: Vec<(&str, &str)> = token.map(|t| ("ADMIN_TOKEN", t)).into_iter().collect();
        let s = Server::start(&db, &env);
        let r = s.with_token("GET", dry);
        assert_eq!(r.status, 503);
        assert!(
            r.body["error"].as_str().unwrap().contains("ADMIN_TOKEN"),
            "{}",
            r.body
        );
        let logs = s.stop();
        let lines = request_lines(&logs, dry, 503);
        assert_eq!(lines.len(), 1, "{logs:?}");
        assert_eq!(lines[0]["level"], "error", "{logs:?}");
        assert!(
            lines[0]["error"].as_str().unwrap().contains(why),
            "{logs:?}"
        );
    }
}

#[test]
fn dry_run_then_migrate_then_dry_run_is_empty() {
    let db = TestDb::new("serve_migrate");
    let s = Server::start(&db, &[("ADMIN_TOKEN", TOKEN)]);
    let r = s.with_token("GET", "/__admin/migrate/dry-run");
    assert_eq!(r.status, 200);
    assert_eq!(r.body["success"], true);
    assert_eq!(r.body["dryRun"], true);
    let res = &r.body["result"];
    let would: Vec<&str> = res["wouldExecute"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        would.contains(&"create-table:appointments")
            && would.contains(&"create-index:idx_appointments_phone"),
        "{would:?}"
    );
    assert_eq!(res["totalSteps"].as_u64().unwrap() as usize, would.len());
    assert_eq!(res["sql"].as_array().unwrap().len(), would.len());
    assert_eq!(res["refused"].as_array().unwrap().len(), 0);
    let hash = res["planHash"].as_str().unwrap().to_string();

    let r = s.with_token("POST", "/__admin/migrate");
    assert_eq!(r.status, 200, "{}", r.body);
    let res = &r.body["result"];
    assert_eq!(res["executed"].as_array().unwrap().len(), would.len());
    assert_eq!(res["planHash"], hash.as_str());
    assert!(res["timings"]["create-table:appointments"]
        .as_str()
        .unwrap()
        .ends_with("ms"));
    assert!(res["totalTime"].as_str().unwrap().ends_with("ms"));
    assert_eq!(
        db.query("SELECT to_regclass('public.appointments') IS NOT NULL"),
        ["t"]
    );

    let r = s.with_token("GET", "/__admin/migrate/dry-run");
    assert_eq!(r.body["result"]["totalSteps"], 0);
    assert!(r.body["result"]["wouldSkip"]
        .as_array()
        .unwrap()
        .contains(&Value::from("table:appointments")));
    let r = s.with_token("POST", "/__admin/migrate");
    assert_eq!(r.body["result"]["executed"].as_array().unwrap().len(), 0);
    assert_eq!(db.history_count(), 1);
    s.stop();
}

#[test]
fn a_refused_plan_answers_409_and_applies_nothing() {
    let db = TestDb::new("serve_refused");
    db.sql("CREATE TABLE tenants (id integer PRIMARY KEY)");
    let before = db.schema_snapshot();
    let s = Server::start(&db, &[("ADMIN_TOKEN", TOKEN)]);
    let r = s.with_token("POST", "/__admin/migrate");
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["success"], false);
    assert_eq!(r.body["refused"][0]["rule"], "R003");
    assert_eq!(db.schema_snapshot(), before);
    let logs = s.stop();
    // The request's line says why, at warn: the refused rules and objects.
    let lines = request_lines(&logs, "/__admin/migrate", 409);
    assert_eq!(lines.len(), 1, "{logs:?}");
    let line = &lines[0];
    assert_eq!(line["level"], "warn", "{line}");
    assert_eq!(line["error"], r.body["error"], "{line}");
    let refused = line["refused"].as_array().unwrap();
    assert_eq!(refused.len(), r.body["refused"].as_array().unwrap().len());
    for (logged, answered) in refused.iter().zip(r.body["refused"].as_array().unwrap()) {
        assert_eq!(logged["rule"], answered["rule"], "{line}");
        assert_eq!(logged["object"], answered["object"], "{line}");
        assert!(logged["object"].as_str().is_some_and(|o| !o.is_empty()));
    }
    // So does the apply's own outcome line.
    let failed = lines_of(&logs, "migrate failed");
    assert_eq!(failed.len(), 1, "{logs:?}");
    assert_eq!(failed[0]["level"], "warn");
    assert_eq!(failed[0]["refused"], line["refused"]);
}

#[test]
fn two_migrate_requests_at_once_apply_once() {
    let db = TestDb::new("serve_concurrent");
    let s = Server::start(&db, &[("ADMIN_TOKEN", TOKEN)]);
    let replies: Vec<Reply> = std::thread::scope(|scope| {
        let a = scope.spawn(|| s.with_token("POST", "/__admin/migrate"));
        let b = scope.spawn(|| s.with_token("POST", "/__admin/migrate"));
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    let counts: Vec<usize> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, 200, "{}", r.body);
            r.body["result"]["executed"].as_array().unwrap().len()
        })
        .collect();
    assert!(
        counts.contains(&0) && counts.iter().any(|&n| n > 0),
        "{counts:?}"
    );
    assert_eq!(db.history_count(), 1);
    s.stop();
}

#[test]
fn boot_with_and_without_migrations() {
    let db = TestDb::new("serve_boot");
    let s = Server::start(&db, &[("ADMIN_TOKEN", TOKEN)]);
    let logs = s.stop();
    // SPEC §5's two lines, each the `msg` of a JSON line.
    for msg in [
        "[BOOT] Migrations skipped (RUN_MIGRATIONS_ON_BOOT=false)",
        "[BOOT] To run migrations, use: POST /__admin/migrate",
    ] {
        let lines = lines_of(&logs, msg);
        assert_eq!(lines.len(), 1, "{msg}: {logs:?}");
        assert_eq!(lines[0]["level"], "info", "{logs:?}");
    }
    assert_eq!(
        db.query("SELECT to_regclass('public.appointments') IS NULL"),
        ["t"]
    );

    let s = Server::start(
        &db,
        &[("ADMIN_TOKEN", TOKEN), ("RUN_MIGRATIONS_ON_BOOT", "true")],
    );
    assert!(
        wait_for(30, || db
            .query("SELECT to_regclass('public.appointments') IS NOT NULL")
            == ["t"]),
        "boot did not apply"
    );
    assert!(wait_for(10, || s.with_token("GET", "/__admin/health").body
        ["bootMigration"]["status"]
        == "applied"));
    let r = s.get("/__admin/health");
    assert_eq!(r.body["migrationsEnabled"], true);
    let logs = s.stop();
    assert!(
        json_lines(&logs).iter().any(|v| v["msg"]
            .as_str()
            .unwrap()
            .starts_with("[BOOT] Migrations applied:")
            && v["statements"].as_u64() > Some(0)),
        "{logs:?}"
    );
    // The history says the boot applied it.
    assert_eq!(
        db.query("SELECT DISTINCT via FROM _reconcile.history"),
        ["boot"]
    );
}

#[test]
fn a_failed_boot_migration_is_logged_and_the_server_still_starts() {
    let db = TestDb::new("serve_boot_fail");
    db.sql("CREATE TABLE tenants (id integer PRIMARY KEY)");
    let s = Server::start(
        &db,
        &[("ADMIN_TOKEN", TOKEN), ("RUN_MIGRATIONS_ON_BOOT", "true")],
    );
    assert!(wait_for(30, || s.with_token("GET", "/__admin/health").body
        ["bootMigration"]["status"]
        == "failed"));
    let r = s.with_token("GET", "/__admin/health");
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "degraded");
    assert!(
        r.body["bootMigration"]["error"]
            .as_str()
            .unwrap()
            .contains("refused"),
        "{}",
        r.body
    );
    let logs = s.stop();
    let failed: Vec<Value> = json_lines(&logs)
        .into_iter()
        .filter(|v| {
            v["msg"]
                .as_str()
                .unwrap()
                .starts_with("[BOOT] Migrations failed:")
        })
        .collect();
    assert_eq!(failed.len(), 1, "{logs:?}");
    assert_eq!(failed[0]["level"], "error", "{logs:?}");
    assert_eq!(failed[0]["refused"][0]["rule"], "R003", "{logs:?}");
}

#[test]
fn sigterm_lets_an_apply_in_progress_finish() {
    let db = TestDb::new("serve_sigterm");
    // tenants exists as the files want it; a writer holds it, so creating a
    // table with a foreign key to it waits.
    let part = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo().join("schema/tenants.toml"),
        part.path().join("tenants.toml"),
    )
    .unwrap();
    let r = crate::harness::run(&[
        "apply",
        "--schema",
        part.path().to_str().unwrap(),
        "--database-url",
        &db.url,
    ]);
    assert_eq!(r.code, 0, "{r}");
    let blocker = Session::open(&db.url);
    blocker.exec("BEGIN; LOCK TABLE tenants IN ROW EXCLUSIVE MODE");
    let s = Server::start(&db, &[("ADMIN_TOKEN", TOKEN)]);
    let reply = std::thread::scope(|scope| {
        let pending = scope.spawn(|| s.with_token("POST", "/__admin/migrate"));
        let observer = Session::open(&db.url);
        assert!(wait_for(20, || {
            observer
            .value("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'reconcile' AND datname = current_database() AND wait_event_type = 'Lock'")
            == Some("1".into())
        }));
        s.sigterm();
        std::thread::sleep(Duration::from_millis(300));
        blocker.exec("ROLLBACK");
        pending.join().unwrap()
    });
    // The apply was not cut: it ran to its end and answered.
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body["result"]["executed"].as_array().unwrap().len() > 1);
    assert_eq!(db.history_count(), 2);
    // The signal arrived: once the request has its answer, the server exits
    // by itself, cleanly.
    let mut s = s;
    let status = s
        .exit_within(10)
        .expect("the server still runs after SIGTERM and its last answer");
    assert!(status.success(), "{status:?}");
    s.stop();
}

#[test]
fn an_unreachable_database_is_a_json_error() {
    let db = TestDb::new("serve_down");
    let s = Server::start(
        &db,
        &[
            ("ADMIN_TOKEN", TOKEN),
            ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none"),
        ],
    );
    let r = s.with_token("GET", "/__admin/migrate/dry-run");
    assert_eq!(r.status, 503);
    assert_eq!(r.body["success"], false);
    assert!(
        r.body["error"]
            .as_str()
            .unwrap()
            .contains("Database unreachable"),
        "{}",
        r.body
    );
    assert_eq!(s.get("/__admin/health").body["database"], "error");
    s.stop();
}

/// The example schema applied, then an index and a foreign key taken away:
/// what an online migrate has left to do on existing tables.
fn example_missing_index_and_fk(prefix: &str) -> TestDb {
    let db = TestDb::new(prefix);
    let schema = repo().join("schema");
    let r = crate::harness::run(&[
        "apply",
        "--schema",
        schema.to_str().unwrap(),
        "--database-url",
        &db.url,
    ]);
    assert_eq!(r.code, 0, "{r}");
    db.sql(
        "DROP INDEX idx_appointments_phone; \
         ALTER TABLE appointments DROP CONSTRAINT appointments_tenant_id_fkey",
    );
    db
}

#[test]
fn migrate_online_answers_its_phases() {
    let phases_of = |r: &Reply| -> Vec<(u64, Vec<String>)> {
        r.body["result"]["phases"]
            .as_array()
            .unwrap_or_else(|| panic!("no phases: {}", r.body))
            .iter()
            .map(|p| {
                assert!(p["totalTime"].as_str().unwrap().ends_with("ms"), "{p}");
                (
                    p["phase"].as_u64().unwrap(),
                    p["executed"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap().to_string())
                        .collect(),
                )
            })
            .collect()
    };
    let expected = vec![
        (
            1,
            vec!["add-foreign-key:appointments.appointments_tenant_id_fkey".to_string()],
        ),
        (2, vec!["create-index:idx_appointments_phone".to_string()]),
        (
            3,
            vec!["validate-constraint:appointments.appointments_tenant_id_fkey".to_string()],
        ),
    ];

    // ?online=true
    let db = example_missing_index_and_fk("serve_online_query");
    let s = Server::start(&db, &[("ADMIN_TOKEN", TOKEN)]);
    let r = s.with_token("POST", "/__admin/migrate?online=true");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(phases_of(&r), expected, "{}", r.body);
    assert_eq!(
        db.query(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_appointments_phone'::regclass"
        ),
        ["t"]
    );
    // Without it, no phases: one transaction.
    let r = s.with_token("POST", "/__admin/migrate");
    assert!(r.body["result"].get("phases").is_none(), "{}", r.body);
    s.stop();

    // RECONCILE_ONLINE=true
    let db = example_missing_index_and_fk("serve_online_env");
    let s = Server::start(&db, &[("ADMIN_TOKEN", TOKEN), ("RECONCILE_ONLINE", "true")]);
    let r = s.with_token("POST", "/__admin/migrate");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(phases_of(&r), expected, "{}", r.body);
    assert_eq!(
        db.query(
            "SELECT mode || ':' || phase FROM _reconcile.history WHERE mode = 'online' ORDER BY id"
        ),
        ["online:1", "online:2", "online:3"]
    );
    s.stop();
}

#[test]
fn a_query_token_of_any_bytes_is_a_401_not_a_panic() {
    let db = TestDb::new("serve_token_bytes");
    let s = Server::start(&db, &[("ADMIN_TOKEN", TOKEN)]);
    // A `%` and a hex digit before a multi-byte character (security case 03),
    // lone and doubled `%`, bytes that are not UTF-8, in the token and elsewhere.
    for query in [
        &b"token=%a\xc3\xa9"[..],
        b"token=%",
        b"token=%%",
        b"token=%e9",
        b"token=%ff%fe%c3",
        b"token=\xc3\xa9%a",
        b"online=%a\xc3\xa9&token=%a\xc3\xa9",
    ] {
        for method in ["GET /__admin/migrate/dry-run?", "POST /__admin/migrate?"] {
            let mut req = method.as_bytes().to_vec();
            req.extend_from_slice(query);
            req.extend_from_slice(
                b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            );
            let (raw, closed) = s.raw(&req, Duration::from_secs(10));
            let shown = String::from_utf8_lossy(&req).into_owned();
            assert!(closed, "{shown}: no answer");
            let (status, body) = parse_answer(&raw);
            // A request line the HTTP parser refuses is a 400 before any handler runs.
            if status == 400 {
                continue;
            }
            assert_eq!(status, 401, "{shown}: {}", String::from_utf8_lossy(&raw));
            assert_eq!(
                body,
                serde_json::json!({"success": false, "error": "Invalid admin token"}),
                "{shown}"
            );
        }
    }
    // Health ignores a token it cannot read, and answers.
    let (raw, _) = s.raw(
        b"GET /__admin/health?token=%a\xc3\xa9 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    );
    assert_eq!(
        parse_answer(&raw).0,
        200,
        "{}",
        String::from_utf8_lossy(&raw)
    );
    let logs = s.stop();
    assert!(
        !logs.iter().any(|l| l.contains("panicked")),
        "a handler panicked: {logs:?}"
    );
}

#[test]
fn a_half_sent_request_is_closed_within_the_header_timeout() {
    let db = TestDb::new("serve_header_timeout");
    let s = Server::start(
        &db,
        &[
            ("ADMIN_TOKEN", TOKEN),
            ("RECONCILE_HEADER_READ_TIMEOUT", "1s"),
        ],
    );
    // Nothing sent, part of a request line, a header without its end.
    for sent in [
        &b""[..],
        b"GET /__admin/heal",
        b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n",
    ] {
        let started = std::time::Instant::now();
        let (_, closed) = s.raw(sent, Duration::from_secs(10));
        let took = started.elapsed();
        assert!(
            closed,
            "{:?}: still open after {took:?}",
            String::from_utf8_lossy(sent)
        );
        assert!(took < Duration::from_secs(5), "closed only after {took:?}");
    }
    // A header trickled a byte at a time: the timeout counts from the start,
    // not from the last byte.
    let mut stream = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let started = std::time::Instant::now();
    let mut closed = false;
    for b in b"GET /__admin/health HTTP/1.1\r\nHost: x\r\nX-Slow: abcdefghijklmnopqrstuvwxyz0123456789\r\n".iter().cycle() {
        if started.elapsed() > Duration::from_secs(10) {
            break;
        }
        if stream.write_all(&[*b]).is_err() {
            closed = true;
            break;
        }
        if read_until_closed(&mut stream).1 {
            closed = true;
            break;
        }
    }
    let took = started.elapsed();
    assert!(closed, "a trickled header was still open after {took:?}");
    assert!(took < Duration::from_secs(5), "closed only after {took:?}");
    // A whole request is still answered.
    assert_eq!(s.get("/__admin/health").status, 200);
    s.stop();
}

#[test]
fn held_half_open_connections_do_not_stop_health() {
    let db = TestDb::new("serve_held");
    // 128 file descriptors for the server, at most 32 of them connections;
    // the held connections would time out only after a minute.
    let s = Server::start_with(
        &db,
        &[
            ("ADMIN_TOKEN", TOKEN),
            ("RECONCILE_MAX_CONNECTIONS", "32"),
            ("RECONCILE_HEADER_READ_TIMEOUT", "60s"),
        ],
        Some(128),
    );
    let mut held = Vec::new();
    for _ in 0..300 {
        let Ok(mut c) = TcpStream::connect(("127.0.0.1", s.port)) else {
            break;
        };
        let _ = c.write_all(b"GET /");
        held.push(c);
    }
    assert_eq!(held.len(), 300, "the listener stopped taking connections");
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..3 {
        let (raw, closed) = s.raw(
            b"GET /__admin/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            Duration::from_secs(5),
        );
        assert!(closed, "health did not answer while connections are held");
        let (status, body) = parse_answer(&raw);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&raw));
        assert_eq!(body["database"], "ok", "{body}");
    }
    // The oldest held connections were closed to make room.
    let mut oldest = held.remove(0);
    oldest
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert!(
        read_until_closed(&mut oldest).1,
        "the oldest half-open connection is still open"
    );
    drop(held);
    s.stop();
}

#[test]
fn a_flood_of_health_calls_holds_at_most_one_database_connection() {
    let db = TestDb::new("serve_health_flood");
    let s = Server::start(&db, &[("ADMIN_TOKEN", TOKEN)]);
    let observer = Session::open(&db.url);
    let sessions = || -> u64 {
        observer
            .value("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    std::thread::sleep(Duration::from_millis(1500));
    let before = sessions();
    let done = std::sync::atomic::AtomicBool::new(false);
    let (most_at_once, answers) = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let mut most = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                most = most.max(observer.reconcile_sessions(""));
            }
            most
        });
        let callers: Vec<_> = (0..32)
            .map(|_| {
                scope.spawn(|| {
                    (0..10)
                        .map(|_| s.get("/__admin/health"))
                        .collect::<Vec<Reply>>()
                })
            })
            .collect();
        let answers: Vec<Reply> = callers
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        (watcher.join().unwrap(), answers)
    });
    assert_eq!(answers.len(), 320);
    for r in &answers {
        assert_eq!(r.status, 200);
        assert_eq!(r.body["database"], "ok", "{}", r.body);
    }
    assert!(
        most_at_once <= 1,
        "{most_at_once} health connections at once"
    );
    // Sessions are counted when their statistics reach the server (at the latest when they end).
    std::thread::sleep(Duration::from_millis(1500));
    let opened = sessions() - before;
    assert!(
        opened <= 3,
        "320 health calls opened {opened} database sessions"
    );
    s.stop();
}

#[test]
fn health_without_the_token_shows_no_connection_details() {
    let db = TestDb::new("serve_health_private");
    let s = Server::start(
        &db,
        &[
            ("ADMIN_TOKEN", TOKEN),
            ("RUN_MIGRATIONS_ON_BOOT", "true"),
            (
                "DATABASE_URL",
                "postgres://billing_admin:pw-hunter2@127.0.0.1:1/billing_prod",
            ),
        ],
    );
    for r in [
        s.get("/__admin/health"),
        s.request(
            "GET",
            "/__admin/health",
            &[(
                "Authorization",
                "Bearer wrong-token-wrong-token-wrong-token",
            )],
        ),
    ] {
        assert_eq!(r.status, 200);
        // SPEC §5's shape, nothing more.
        let mut keys: Vec<&str> = r
            .body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "database",
                "env",
                "migrationsEnabled",
                "status",
                "timestamp"
            ],
            "{}",
            r.body
        );
        assert_eq!(r.body["database"], "error");
        assert_eq!(r.body["status"], "degraded");
        let text = r.body.to_string();
        for secret in ["billing", "127.0.0.1", "port", "user", "hunter2", "refused"] {
            assert!(!text.contains(secret), "health shows {secret:?}: {text}");
        }
    }
    // The token holder sees why; the log has it too, never the password.
    let r = s.with_token("GET", "/__admin/health");
    assert!(
        r.body["databaseError"]
            .as_str()
            .is_some_and(|e| e.contains("billing_prod")),
        "{}",
        r.body
    );
    assert_eq!(r.body["bootMigration"]["status"], "failed", "{}", r.body);
    let logs = s.stop();
    assert!(
        logs.iter()
            .any(|l| l.contains("health: database unreachable") && l.contains("billing_prod")),
        "{logs:?}"
    );
    assert!(
        !logs.iter().any(|l| l.contains("hunter2")),
        "the password is in the logs: {logs:?}"
    );
}

#[test]
fn sigterm_does_not_wait_for_half_sent_requests() {
    let db = TestDb::new("serve_sigterm_idle");
    let mut s = Server::start(
        &db,
        &[
            ("ADMIN_TOKEN", TOKEN),
            ("RECONCILE_HEADER_READ_TIMEOUT", "60s"),
        ],
    );
    let _silent = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let mut half = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    half.write_all(b"GET /__admin/hea").unwrap();
    assert_eq!(s.get("/__admin/health").status, 200);
    let started = std::time::Instant::now();
    s.sigterm();
    let exited = s.exit_within(10);
    let took = started.elapsed();
    assert!(exited.is_some(), "still running {took:?} after SIGTERM");
    assert!(took < Duration::from_secs(5), "exited only after {took:?}");
    s.stop();
}

/// Issue 18: defaults PostgreSQL refuses are not a successful dry-run (that
/// migrate then answers 500 for): the dry-run and migrate answer the schema
/// files' diagnostics, at the file and line, and nothing is applied.
#[test]
fn dry_run_of_rejected_defaults_is_not_a_success() {
    let db = TestDb::new("serve_validate");
    db.sql(
        "CREATE TYPE status AS ENUM ('pending', 'done'); CREATE TABLE t (id bigint PRIMARY KEY)",
    );
    let before = db.schema_snapshot();
    let schema = crate::harness::schema_of(
        "[enums.status]\nvalues = [\"pending\", \"done\"]\n\n\
         [tables.t.columns]\n\
         id     = { type = \"bigint\", primary_key = true }\n\
         abc    = { type = \"integer\", default = \"abc + 1\" }\n\
         label  = { type = \"text\", default = \"\\\"pending\\\"\" }\n\
         status = { type = \"status\", default = \"'archived'\" }\n",
    );
    let s = Server::start_in(&db, schema.path(), &[("ADMIN_TOKEN", TOKEN)], None);
    for (method, path) in [
        ("GET", "/__admin/migrate/dry-run"),
        ("POST", "/__admin/migrate"),
    ] {
        let r = s.with_token(method, path);
        assert_ne!(r.status, 200, "{method} {path}: {}", r.body);
        assert_eq!(r.body["success"], false, "{}", r.body);
        let lines: Vec<u64> = r.body["diagnostics"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path}: no diagnostics: {}", r.body))
            .iter()
            .map(|d| d["line"].as_u64().unwrap())
            .collect();
        assert_eq!(lines, [6, 7, 8], "{}", r.body);
        let error = r.body["error"].as_str().unwrap();
        assert!(
            error.contains("schema.toml:8:1: the default of column t.status"),
            "{error}"
        );
    }
    assert_eq!(db.schema_snapshot(), before);
    s.stop();
}

/// A statement that fails at migrate (duplicate rows under a new unique
/// constraint) answers 500 with its step, and the file and line it comes from.
#[test]
fn a_failing_migrate_statement_names_its_file_and_line() {
    let db = TestDb::new("serve_step_origin");
    db.sql("CREATE TABLE t (id bigint PRIMARY KEY, email text); INSERT INTO t VALUES (1, 'a'), (2, 'a')");
    let schema = crate::harness::schema_of(
        "[tables.t.columns]\n\
         id    = { type = \"bigint\", primary_key = true }\n\
         email = { type = \"text\" }\n\n\
         [tables.t.unique]\n\
         t_email_key = [\"email\"]\n",
    );
    let s = Server::start_in(&db, schema.path(), &[("ADMIN_TOKEN", TOKEN)], None);
    let r = s.with_token("POST", "/__admin/migrate");
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.body["step"], "add-constraint:t.t_email_key", "{}", r.body);
    assert_eq!(r.body["origin"]["line"], 6, "{}", r.body);
    assert!(
        r.body["origin"]["file"]
            .as_str()
            .unwrap()
            .ends_with("schema.toml"),
        "{}",
        r.body
    );
    let error = r.body["error"].as_str().unwrap();
    assert!(
        error.starts_with("SQL error in add-constraint:t.t_email_key (written at ")
            && error.contains("schema.toml:6:1)"),
        "{error}"
    );
    let logs = s.stop();
    // The request's line carries the SQL error, at error.
    let lines = request_lines(&logs, "/__admin/migrate", 500);
    assert_eq!(lines.len(), 1, "{logs:?}");
    let line = &lines[0];
    assert_eq!(line["level"], "error", "{line}");
    assert_eq!(line["error"], error, "{line}");
    assert_eq!(line["step"], "add-constraint:t.t_email_key", "{line}");
    assert_eq!(line["sql"]["code"], "23505", "{line}");
    assert!(
        line["sql"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("could not create unique index")),
        "{line}"
    );
    assert_eq!(line["origin"]["line"], 6, "{line}");
}

/// The line at start names the listen address, the database (never its
/// password), the schema directory and its number of tables, and whether
/// the token is set and long enough.
#[test]
fn the_start_line_names_the_database_the_files_the_token_and_the_address() {
    let db = TestDb::new("serve_start_line");
    let schema = crate::harness::schema_of(
        "[tables.a.columns]\nid = { type = \"bigint\", primary_key = true }\n\n\
         [tables.b.columns]\nid = { type = \"bigint\", primary_key = true }\n",
    );
    // The same database, with a password in the URL (the server trusts us).
    let (scheme, rest) = db.url.split_once("://").unwrap();
    let (user, host) = rest.split_once('@').expect("a URL with a user");
    assert!(!user.contains(':'), "the test URL has a password already");
    let with_password = format!("{scheme}://{user}:pw-hunter2@{host}");
    for (token, status, level) in [
        (Some(TOKEN), "set", "info"),
        (Some("too-short"), "too short", "warn"),
        (None, "unset", "warn"),
    ] {
        let mut env = vec![("DATABASE_URL", with_password.as_str())];
        env.extend(token.map(|t| ("ADMIN_TOKEN", t)));
        let s = Server::start_in(&db, schema.path(), &env, None);
        let port = s.port;
        // The password works: the server answers with the database up.
        assert_eq!(s.get("/__admin/health").body["database"], "ok");
        let logs = s.stop();
        assert!(
            !logs.iter().any(|l| l.contains("hunter2")),
            "the password is in the logs: {logs:?}"
        );
        let starts = lines_of(&logs, "admin server listening");
        assert_eq!(starts.len(), 1, "{logs:?}");
        let line = &starts[0];
        assert_eq!(line["level"], level, "{line}");
        assert_eq!(line["token"], status, "{line}");
        assert_eq!(line["listen"], format!("127.0.0.1:{port}"), "{line}");
        assert_eq!(line["tables"], 2, "{line}");
        assert_eq!(
            line["schemaDir"],
            schema.path().display().to_string(),
            "{line}"
        );
        let database = line["database"].as_str().unwrap();
        assert!(
            database.contains(&format!("dbname={}", db.name)) && database.contains("user="),
            "{line}"
        );
        // It comes first, before the [BOOT] lines.
        assert_eq!(json_lines(&logs)[0]["msg"], "admin server listening");
    }
}

/// Unreadable files are said at start (their diagnostics), at warn, and the
/// server starts anyway.
#[test]
fn the_start_line_says_when_the_files_cannot_be_read() {
    let db = TestDb::new("serve_start_bad_files");
    let schema = crate::harness::schema_of("[tables.a.columns]\nid = { type = 5 }\n");
    let s = Server::start_in(&db, schema.path(), &[("ADMIN_TOKEN", TOKEN)], None);
    assert_eq!(s.get("/__admin/health").status, 200);
    let logs = s.stop();
    let starts = lines_of(&logs, "admin server listening");
    assert_eq!(starts.len(), 1, "{logs:?}");
    assert_eq!(starts[0]["level"], "warn", "{logs:?}");
    assert_eq!(starts[0]["tables"], Value::Null, "{logs:?}");
    assert!(
        starts[0]["schemaError"]
            .as_str()
            .is_some_and(|e| e.contains("schema.toml:2")),
        "{logs:?}"
    );
}

/// The files' `exclude` key and references to tables outside the files hold
/// for `serve` as for `plan`: a table both defined and excluded is an
/// invalid file (with its place), a reference to `auth.users` plans and
/// migrates.
#[test]
fn serve_reads_the_exclude_key_and_checks_references_outside_the_files() {
    let db = TestDb::new("serve_exclude");
    db.sql(
        "CREATE SCHEMA drizzle; CREATE TABLE drizzle.__drizzle_migrations (id serial PRIMARY KEY); \
         CREATE SCHEMA auth; CREATE TABLE auth.users (id uuid PRIMARY KEY);",
    );
    let conflict = tempfile::tempdir().unwrap();
    std::fs::write(
        conflict.path().join("s.toml"),
        "exclude = [\"drizzle.*\"]\n[tables.\"drizzle.__drizzle_migrations\".columns]\nid = { type = \"serial\", primary_key = true }\n",
    )
    .unwrap();
    let s = Server::start_in(&db, conflict.path(), &[("ADMIN_TOKEN", TOKEN)], None);
    let r = s.with_token("GET", "/__admin/migrate/dry-run");
    assert_eq!(r.status, 500, "{}", r.body);
    let d = &r.body["diagnostics"][0];
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(2), Some(9)),
        "{}",
        r.body
    );
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("excluded by `drizzle.*`"),
        "{}",
        r.body
    );
    s.stop();

    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("s.toml"),
        "exclude = [\"drizzle.*\"]\n[tables.profiles.columns]\nid = { type = \"uuid\", primary_key = true, references = \"auth.users(id)\" }\n",
    )
    .unwrap();
    let s = Server::start_in(&db, outside.path(), &[("ADMIN_TOKEN", TOKEN)], None);
    let r = s.with_token("GET", "/__admin/migrate/dry-run");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["result"]["wouldExecute"],
        serde_json::json!(["create-table:profiles"])
    );
    let r = s.with_token("POST", "/__admin/migrate");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        db.query("SELECT to_regclass('public.profiles') IS NOT NULL"),
        ["t"]
    );
    s.stop();
}
