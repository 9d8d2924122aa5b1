//! `apply` sends the statements of its transaction pipelined (all at once,
//! their results taken as they arrive): a failure still names its statement
//! and where the files wrote it, and rolls everything back.

use crate::harness::{apply, plan_json, schema_of, TestDb};

/// 29 new tables, then (30th) a unique index over a column with duplicates,
/// then another index after it.
fn schema_with_30th_failing() -> (String, usize) {
    let mut toml = String::new();
    for i in 1..=29 {
        toml.push_str(&format!(
            "[tables.t{i:02}.columns]\nid = {{ type = \"bigint\", primary_key = true }}\n\n"
        ));
    }
    toml.push_str(
        "[tables.calls.columns]\nid = { type = \"bigint\", primary_key = true }\nsid = { type = \"text\" }\n\n\
         [tables.calls.indexes]\n",
    );
    let line = toml.lines().count() + 1;
    toml.push_str("calls_sid_key = { columns = [\"sid\"], unique = true }\n");
    // Statements after it, which must not run.
    toml.push_str("calls_z_idx = { columns = [\"sid\", \"id\"] }\n");
    (toml, line)
}

#[test]
fn a_pipelined_apply_whose_30th_statement_fails_leaves_nothing_behind() {
    let db = TestDb::new("pipelined_30th");
    db.sql("CREATE TABLE calls (id bigint PRIMARY KEY, sid text); INSERT INTO calls VALUES (1, 'a'), (2, 'a')");
    let before = db.schema_snapshot();
    let (toml, line) = schema_with_30th_failing();
    let schema = schema_of(&toml);

    // The plan: the index is the 30th statement, and more follow it.
    let (code, plan) = plan_json(schema.path(), &db);
    assert_eq!(code, 0, "{plan:#}");
    let statements = plan["statements"].as_array().expect("statements");
    assert!(statements.len() > 30, "{} statements", statements.len());
    let id = statements[29]["id"].as_str().expect("an id").to_string();
    assert!(id.contains("calls_sid_key"), "the 30th statement is {id}");

    let r = apply(schema.path(), &db, &[]);
    assert_eq!(r.code, 1, "{r}");
    // The first failure, not the statements the aborted transaction refused after it.
    assert!(
        r.stderr.contains(&format!("statement {id} (written at ")),
        "the failing statement is not named:\n{r}"
    );
    assert!(
        r.stderr.contains(&format!("schema.toml:{line}:")),
        "its file:line ({line}) is not named:\n{r}"
    );
    assert!(r.stderr.contains("could not create unique index"), "{r}");
    assert!(!r.stderr.contains("25P02"), "{r}");
    assert!(
        !r.stderr.contains("current transaction is aborted"),
        "a later statement's error is reported:\n{r}"
    );
    assert_eq!(db.schema_snapshot(), before, "part of the plan remains");
    let has_history = db.query("SELECT to_regclass('_reconcile.history') IS NOT NULL") == ["t"];
    assert!(
        !has_history || db.history_count() == 0,
        "a history row was written"
    );
    // The statements before it ran (as their timings would show), and were rolled back.
    assert!(db.query("SELECT to_regclass('public.t01') IS NULL") == ["t"]);
}
