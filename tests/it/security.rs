//! Hostile input and unlucky settings (issue 16): literals that mean the same
//! under every session setting, timeouts as PostgreSQL reads them, and waits
//! that end.

use crate::harness::{apply, plan_as, run, schema_of, Flavor, TestDb};

/// With `standard_conforming_strings = off` on the database, a backslash in
/// a comment of the files cannot end the literal: the comment is stored as
/// written, and the SQL after it never runs.
#[test]
fn a_comment_cannot_smuggle_sql_when_standard_conforming_strings_is_off() {
    let db = TestDb::with_flavor("scs_comment", Flavor::ScsOff);
    db.sql("CREATE TABLE canary (id int); INSERT INTO canary VALUES (1)");
    let comment = r"x\'; COMMIT; DROP TABLE canary; --";
    let files = schema_of(&format!(
        "[tables.h]\ncomment = {}\n[tables.h.columns]\nid = {{ type = \"int\", comment = 'a \\ b' }}\n",
        toml::Value::String(comment.into())
    ));
    let r = apply(files.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(db.query("SELECT count(*) FROM canary"), ["1"], "{r}");
    assert_eq!(db.query("SELECT obj_description('h'::regclass)"), [comment]);
    assert_eq!(
        db.query("SELECT col_description('h'::regclass, 1)"),
        [r"a \ b"]
    );
    let again = plan_as(files.path(), &db, "text");
    assert!(again.stdout.contains("No changes"), "{again}");
}

/// `plan` changes nothing, even when a default of the files is given to
/// PostgreSQL to print (the canonicalization probe) on a database where a
/// backslash escapes: the probe's SQL cannot run a command of the files.
#[test]
fn plan_runs_nothing_from_a_default_when_standard_conforming_strings_is_off() {
    let db = TestDb::with_flavor("scs_probe", Flavor::ScsOff);
    db.sql("CREATE TABLE h (id text DEFAULT 'a')");
    let mark = std::env::temp_dir().join(format!("reconcile_scs_mark_{}", std::process::id()));
    let _ = std::fs::remove_file(&mark);
    let default = format!(
        r"'\' || '; COPY (SELECT 1) TO PROGRAM $x$touch {}$x$; --'",
        mark.display()
    );
    let files = schema_of(&format!(
        "[tables.h.columns]\nid = {{ type = \"text\", default = {} }}\n",
        toml::Value::String(default)
    ));
    let r = plan_as(files.path(), &db, "text");
    assert!(
        !mark.exists(),
        "plan ran a shell command on the server: {r}"
    );
    assert_eq!(r.code, 0, "{r}");
    // A changed default: shown as a change, not run.
    assert!(r.stdout.contains("SET DEFAULT"), "{r}");
}

/// `--statement-timeout 0` is PostgreSQL's "no limit" (not 1 ms), and a value
/// PostgreSQL cannot take is an input error (exit 2), never a panic.
#[test]
fn timeouts_of_zero_mean_no_limit_and_out_of_range_ones_are_refused() {
    let db = TestDb::new("durations");
    db.sql("CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 100000)");
    let files = schema_of(
        "[tables.t.columns]\nid = { type = \"int\" }\n[tables.t.indexes]\nidx_t_id = { columns = [\"id\"] }\n",
    );
    for (flag, value) in [
        ("--lock-timeout", "999999999999999999999h"),
        ("--statement-timeout", "2147483648ms"),
        ("--statement-timeout", "-1s"),
    ] {
        let r = apply(files.path(), &db, &[flag, value]);
        assert_eq!(r.code, 2, "{flag} {value}: {r}");
        assert!(!r.stderr.contains("panicked"), "{r}");
    }
    let r = apply(
        files.path(),
        &db,
        &["--statement-timeout", "0", "--lock-timeout", "0"],
    );
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("lock_timeout none"), "{r}");
    assert_eq!(
        db.query("SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_t_id'"),
        ["1"]
    );
}

/// A server that accepts the connection and then says nothing cannot hold
/// us: the startup is bounded by connect_timeout too.
#[test]
fn a_server_that_never_answers_the_startup_is_given_up_on() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept and keep the connections open, answering nothing.
    let held = std::thread::spawn(move || {
        let mut conns = Vec::new();
        for c in listener.incoming().take(4) {
            conns.push(c);
        }
        std::thread::sleep(std::time::Duration::from_secs(20));
    });
    let files = schema_of("[tables.t.columns]\nid = { type = \"int\" }\n");
    let url = format!("postgres://u@127.0.0.1:{port}/d?connect_timeout=2&sslmode=disable");
    let started = std::time::Instant::now();
    let r = run(&[
        "plan",
        "--schema",
        files.path().to_str().unwrap(),
        "--database-url",
        &url,
    ]);
    let took = started.elapsed();
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("connect_timeout"), "{r}");
    assert!(
        took < std::time::Duration::from_secs(10),
        "took {took:?}: {r}"
    );
    drop(held);
}
