//! Issue 18: a plan that exits 0 applies. PostgreSQL judges the files'
//! expressions while planning (src/validate.rs) without blocking the
//! application's writes; a statement that still fails at apply names where
//! the files wrote its object. (The rejected inputs themselves are case
//! folders: tests/cases/validate_*.)

use std::time::{Duration, Instant};

use crate::harness::{apply, run, schema_of, Session, TestDb};

const TABLE: &str = "CREATE TABLE t (id bigint PRIMARY KEY, abc integer, label text) \
                     WITH (autovacuum_enabled = false); INSERT INTO t VALUES (1, 1, 'x');";

/// The files of `t` with extra columns, a check and an index, all probed.
fn files(extra_column: &str) -> String {
    format!(
        "[tables.t.columns]\n\
         id    = {{ type = \"bigint\", primary_key = true }}\n\
         abc   = {{ type = \"integer\" }}\n\
         label = {{ type = \"text\" }}\n\
         {extra_column}\n\n\
         [tables.t.checks]\n\
         t_abc_check = \"abc >= 0\"\n\n\
         [tables.t.indexes]\n\
         t_label_lower = {{ expression = \"lower(label)\", where = \"abc > 0\" }}\n"
    )
}

/// The URL with `lock_timeout` set for every session it opens: a lock that
/// would wait fails instead.
fn with_lock_timeout(url: &str, timeout: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20lock_timeout%3D{timeout}")
}

fn plan(schema: &std::path::Path, url: &str) -> crate::harness::Run {
    run(&[
        "plan",
        "--schema",
        schema.to_str().unwrap(),
        "--database-url",
        url,
    ])
}

/// While another session writes to the existing table (an uncommitted
/// INSERT holds ROW EXCLUSIVE on it, as the application's writes do), `plan`
/// probes a new column's default, a new check and a new expression index of
/// that table and completes under a 300ms lock timeout: it took no lock that
/// conflicts with writes (SHARE or stronger, ACCESS EXCLUSIVE included, would
/// have timed out). First, the same plan against a session holding ACCESS
/// EXCLUSIVE on the table shows that the timeout reaches plan's session and
/// that a conflicting lock does make it fail, not hang.
#[test]
fn plan_takes_no_lock_that_blocks_writes_on_an_existing_table() {
    let db = TestDb::new("validate_locks");
    db.sql(TABLE);
    let url = with_lock_timeout(&db.url, "300ms");
    let good = schema_of(&files("added = { type = \"integer\", default = \"1\" }"));
    let bad = schema_of(&files(
        "added = { type = \"integer\", default = \"abc + 1\" }",
    ));
    let before = db.schema_snapshot();

    // The table was never analyzed: plan measures its size (ACCESS SHARE),
    // which waits behind ACCESS EXCLUSIVE, and gives up after the timeout.
    let holder = Session::open(&db.url);
    holder.exec("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
    let t = Instant::now();
    let r = plan(good.path(), &url);
    holder.exec("ROLLBACK");
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("lock timeout"), "{r}");
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());

    // Now a writer: plan must not wait for it.
    let writer = Session::open(&db.url);
    writer.exec("BEGIN; INSERT INTO t VALUES (2, 2, 'y')");
    assert_eq!(
        writer.value(&format!(
            "SELECT mode FROM pg_locks WHERE pid = {} AND relation = 't'::regclass",
            writer.pid
        )),
        Some("RowExclusiveLock".into())
    );
    let r = plan(bad.path(), &url);
    assert_eq!(r.code, 2, "{r}");
    assert!(
        r.stderr.contains(
            "schema.toml:5:1: the default of column t.added (`abc + 1`): PostgreSQL rejects it"
        ),
        "{r}"
    );
    let r = plan(good.path(), &url);
    assert_eq!(r.code, 0, "{r}");
    for s in [
        "ADD COLUMN added integer DEFAULT 1",
        "ADD CONSTRAINT t_abc_check CHECK (abc >= 0)",
        "CREATE INDEX t_label_lower ON public.t ((lower(label))) WHERE abc > 0",
    ] {
        assert!(r.stdout.contains(s), "{s}: {r}");
    }
    // The writer's row is intact.
    writer.exec("COMMIT");
    assert_eq!(db.query("SELECT count(*) FROM t"), ["2"]);
    assert_eq!(db.schema_snapshot(), before, "plan changed the schema");
}

/// Files PostgreSQL rejects are refused by `apply` before anything runs, as
/// invalid input (exit 2), at the file and line; nothing is applied.
#[test]
fn apply_refuses_rejected_defaults_before_running_anything() {
    let db = TestDb::new("validate_apply");
    db.sql(TABLE);
    let before = db.schema_snapshot();
    let bad = schema_of(&files(
        "added = { type = \"text\", default = \"\\\"pending\\\"\" }",
    ));
    let r = apply(bad.path(), &db, &[]);
    assert_eq!(r.code, 2, "{r}");
    assert!(
        r.stderr
            .contains("schema.toml:5:1: the default of column t.added"),
        "{r}"
    );
    assert!(r.stderr.contains("`'pending'`"), "{r}");
    assert_eq!(db.schema_snapshot(), before);
}

/// A statement that fails at apply for a reason planning cannot see (the
/// rows of the table violate a new unique constraint) names its step, and
/// the file, line and object it comes from.
#[test]
fn a_statement_failing_at_apply_names_its_file_and_line() {
    let db = TestDb::new("validate_step_origin");
    db.sql("CREATE TABLE t (id bigint PRIMARY KEY, email text); INSERT INTO t VALUES (1, 'a'), (2, 'a');");
    let schema = schema_of(
        "[tables.t.columns]\n\
         id    = { type = \"bigint\", primary_key = true }\n\
         email = { type = \"text\" }\n\n\
         [tables.t.unique]\n\
         t_email_key = [\"email\"]\n",
    );
    let r = apply(schema.path(), &db, &[]);
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stderr
            .contains("statement add-constraint:t.t_email_key (written at ")
            && r.stderr.contains("schema.toml:6:1) failed"),
        "{r}"
    );
    assert!(r.stderr.contains("written at: "), "{r}");
    // Online, the failing step is the concurrent index build: the same origin.
    let r = apply(schema.path(), &db, &["--online"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("schema.toml:6:1"), "{r}");
}
