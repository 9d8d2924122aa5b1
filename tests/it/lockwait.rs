//! While apply or prune waits for a lock it says who holds it, and a lock
//! timeout's advice names the real pid (issue 21).

use std::time::Duration;

use crate::harness::{apply, run, schema_of, Run, Session, TestDb};

const V1: &str = r#"
[tables.people.columns]
id = { type = "bigint", primary_key = true }
name = { type = "text" }
fax = { type = "text" }
"#;

/// V1 with one more column: an `ALTER TABLE people` that waits for the lock.
fn v2() -> String {
    format!("{V1}nickname = {{ type = \"text\" }}\n")
}

/// A session of application `web` that locks `people` (ACCESS SHARE: every
/// ALTER TABLE waits for it) and lets go after `hold`, while `f` runs.
fn while_web_holds_people<T>(db: &TestDb, hold: Duration, f: impl FnOnce(i32) -> T) -> T {
    let web = Session::open(&db.url);
    web.exec("SET application_name = 'web'; BEGIN; LOCK TABLE people IN ACCESS SHARE MODE");
    let (done, finished) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|s| {
        let web = &web;
        s.spawn(move || {
            let _ = finished.recv_timeout(hold);
            web.exec("ROLLBACK");
        });
        let out = f(web.pid);
        let _ = done.send(());
        out
    })
}

fn assert_waiting_named(r: &Run, pid: i32) {
    assert!(
        r.stdout.contains(&format!(
            "waiting for a lock on people held by pid {pid} (app: web, idle in transaction, "
        )),
        "no waiting line naming pid {pid} and app web:\n{r}"
    );
}

#[test]
fn apply_says_who_holds_the_lock_it_waits_for_then_succeeds() {
    let db = TestDb::new("lockwait_plain");
    let v1 = schema_of(V1);
    assert_eq!(apply(v1.path(), &db, &[]).code, 0);
    let v2 = schema_of(&v2());
    let (r, pid) = while_web_holds_people(&db, Duration::from_secs(3), |pid| {
        (apply(v2.path(), &db, &["--lock-timeout", "20s"]), pid)
    });
    assert_eq!(r.code, 0, "{r}");
    assert_waiting_named(&r, pid);
    assert!(r.stdout.contains("add-column:people.nickname"), "{r}");
}

#[test]
fn apply_online_says_who_holds_the_lock_it_waits_for_then_succeeds() {
    let db = TestDb::new("lockwait_online");
    let v1 = schema_of(V1);
    assert_eq!(apply(v1.path(), &db, &[]).code, 0);
    let v2 = schema_of(&v2());
    let (r, pid) = while_web_holds_people(&db, Duration::from_secs(3), |pid| {
        (
            apply(v2.path(), &db, &["--online", "--lock-timeout", "20s"]),
            pid,
        )
    });
    assert_eq!(r.code, 0, "{r}");
    assert_waiting_named(&r, pid);
}

/// A lock held past the lock timeout: the wait is shown, and the error and
/// its advice name the holder's pid (not a template).
#[test]
fn a_lock_timeout_names_the_real_pid_that_held_the_lock() {
    let db = TestDb::new("lockwait_timeout");
    let v1 = schema_of(V1);
    assert_eq!(apply(v1.path(), &db, &[]).code, 0);
    let v2 = schema_of(&v2());
    let (r, pid) = while_web_holds_people(&db, Duration::from_secs(20), |pid| {
        (apply(v2.path(), &db, &["--lock-timeout", "1500ms"]), pid)
    });
    assert_eq!(r.code, 1, "{r}");
    assert_waiting_named(&r, pid);
    assert!(
        r.stderr.contains(&format!(
            "for a lock on people, held by pid {pid} (app: web); rolled back"
        )),
        "{r}"
    );
    assert!(
        r.stderr.contains(&format!(
            "advice: pid {pid} (app: web, idle in transaction, "
        )) && r.stderr.contains(&format!(
            "end it with SELECT pg_terminate_backend({pid}) or retry when it ends"
        )),
        "the advice does not name pid {pid}:\n{r}"
    );
    assert!(!r.stderr.contains("pg_terminate_backend(pid)"), "{r}");

    // Under --format json: the error object on stdout, its blockers named,
    // the exit code the same.
    let (r, pid) = while_web_holds_people(&db, Duration::from_secs(20), |pid| {
        (
            apply(
                v2.path(),
                &db,
                &["--lock-timeout", "1500ms", "--format", "json"],
            ),
            pid,
        )
    });
    assert_eq!(r.code, 1, "{r}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("a JSON error");
    assert!(crate::harness::not_camel_case(&v).is_empty(), "{r}");
    assert_eq!(v["exitCode"], 1, "{r}");
    assert_eq!(v["blockers"][0]["pid"], pid, "{r}");
    assert_eq!(v["blockers"][0]["applicationName"], "web", "{r}");
}

/// Prune waits and times out as apply does: a column marked, then gone
/// from the files, dropped while `web` holds the table.
#[test]
fn prune_says_who_holds_the_lock_and_names_it_on_a_timeout() {
    let db = TestDb::new("lockwait_prune");
    let marked = V1.replace(
        "fax = { type = \"text\" }",
        "fax = { type = \"text\", deprecated = \"nobody faxes\" }",
    );
    let v1 = schema_of(&marked);
    assert_eq!(apply(v1.path(), &db, &[]).code, 0);
    let gone = schema_of(&V1.replace("fax = { type = \"text\" }\n", ""));
    let schema = gone.path().to_str().unwrap();
    let prune = |extra: &[&str]| {
        let mut args = vec![
            "prune",
            "--yes",
            "--schema",
            schema,
            "--database-url",
            &db.url,
        ];
        args.extend_from_slice(extra);
        run(&args)
    };

    let (r, pid) = while_web_holds_people(&db, Duration::from_secs(20), |pid| {
        (prune(&["--lock-timeout", "1500ms"]), pid)
    });
    assert_eq!(r.code, 1, "{r}");
    assert_waiting_named(&r, pid);
    assert!(
        r.stderr.contains(&format!("held by pid {pid} (app: web)"))
            && r.stderr
                .contains(&format!("SELECT pg_terminate_backend({pid})")),
        "{r}"
    );
    assert_eq!(
        db.query("SELECT count(*) FROM pg_attribute WHERE attrelid = 'people'::regclass AND attname = 'fax' AND NOT attisdropped"),
        ["1"]
    );

    let (r, pid) = while_web_holds_people(&db, Duration::from_secs(3), |pid| {
        (prune(&["--lock-timeout", "20s"]), pid)
    });
    assert_eq!(r.code, 0, "{r}");
    assert_waiting_named(&r, pid);
    assert_eq!(
        db.query("SELECT count(*) FROM pg_attribute WHERE attrelid = 'people'::regclass AND attname = 'fax' AND NOT attisdropped"),
        ["0"]
    );
}
