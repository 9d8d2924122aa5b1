//! `reconcile serve`: the real server on a free port against a real PostgreSQL,
//! spoken to over HTTP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::harness::{repo, wait_for, Session, TestDb};

const TOKEN: &str = "0123456789abcdef0123456789abcdef-secret";

struct Server {
    child: Child,
    port: u16,
    logs: Arc<Mutex<Vec<String>>>,
}

struct Reply {
    status: u16,
    headers: String,
    body: Value,
}

impl Server {
    fn start(db: &TestDb, env: &[(&str, &str)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_reconcile"));
        cmd.args([
            "serve",
            "--schema",
            repo().join("schema").to_str().unwrap(),
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
        let mut child = cmd.spawn().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stderr.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stdout.take().unwrap()),
        ] {
            let logs = logs.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    logs.lock().unwrap().push(line);
                }
            });
        }
        let s = Server { child, port, logs };
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
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = serde_json::from_str(body)
            .unwrap_or_else(|e| panic!("{method} {path}: body is not JSON ({e}): {raw}"));
        Reply {
            status,
            headers: head.to_lowercase(),
            body,
        }
    }

    fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[])
    }

    fn with_token(&self, method: &str, path: &str) -> Reply {
        self.request(
            method,
            path,
            &[("Authorization", &format!("Bearer {TOKEN}"))],
        )
    }

    /// Stop with SIGTERM and check that the token never reached a log line.
    fn stop(mut self) -> Vec<String> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100));
        let logs = self.logs();
        for l in &logs {
            assert!(
                !l.contains(TOKEN) && !l.contains("secret"),
                "the token is in the logs: {l}"
            );
        }
        logs
    }
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

    for token in [None, Some("too-short")] {
        let env: Vec<(&str, &str)> = token.map(|t| ("ADMIN_TOKEN", t)).into_iter().collect();
        let s = Server::start(&db, &env);
        let r = s.with_token("GET", dry);
        assert_eq!(r.status, 503);
        assert!(
            r.body["error"].as_str().unwrap().contains("ADMIN_TOKEN"),
            "{}",
            r.body
        );
        s.stop();
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
    s.stop();
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
    assert!(
        logs.contains(&"[BOOT] Migrations skipped (RUN_MIGRATIONS_ON_BOOT=false)".to_string()),
        "{logs:?}"
    );
    assert!(
        logs.contains(&"[BOOT] To run migrations, use: POST /__admin/migrate".to_string()),
        "{logs:?}"
    );
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
        logs.iter()
            .any(|l| l.starts_with("[BOOT] Migrations applied:")),
        "{logs:?}"
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
    assert!(
        logs.iter()
            .any(|l| l.starts_with("[BOOT] Migrations failed:")),
        "{logs:?}"
    );
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
    let pid = s.child.id().to_string();
    let reply = std::thread::scope(|scope| {
        let pending = scope.spawn(|| s.with_token("POST", "/__admin/migrate"));
        let observer = Session::open(&db.url);
        assert!(wait_for(20, || {
            observer
            .value("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'reconcile' AND datname = current_database() AND wait_event_type = 'Lock'")
            == Some("1".into())
        }));
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        std::thread::sleep(Duration::from_millis(300));
        blocker.exec("ROLLBACK");
        pending.join().unwrap()
    });
    // The apply was not cut: it ran to its end and answered.
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body["result"]["executed"].as_array().unwrap().len() > 1);
    assert_eq!(db.history_count(), 2);
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
