//! On a terminal, `apply` and `prune` show what they would do and ask first;
//! a "no" changes nothing. The terminal is a pseudo-terminal made by
//! `script` (util-linux, which `.ci/run` installs when missing).

use crate::harness::{apply, on_a_terminal, run, TestDb};

const FILES: &str = r#"
[tables.leads]
columns.id = { type = "bigint", primary_key = true }
columns.fax = { type = "text", deprecated = "nobody faxes" }
"#;

#[test]
fn apply_asks_on_a_terminal_and_no_applies_nothing() {
    let db = TestDb::new("prompt_apply");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("leads.toml"), FILES).unwrap();
    let schema = dir.path().to_str().unwrap();
    let args = ["apply", "--schema", schema, "--database-url", &db.url];
    let out = on_a_terminal(&args, "n\n");
    assert!(out.contains("Apply 1 statement(s) to host="), "{out}");
    assert!(out.contains("Nothing was applied."), "{out}");
    let tables = db.query("SELECT count(*) FROM pg_class WHERE relname IN ('leads', 'history')");
    assert_eq!(tables, vec!["0"], "{out}");
    let out = on_a_terminal(&args, "y\n");
    assert!(out.contains("Applied 1 statement(s)"), "{out}");
    assert_eq!(db.history_count(), 1, "{out}");
}

#[test]
fn prune_asks_on_a_terminal_and_only_yes_drops() {
    let db = TestDb::new("prompt_prune");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("leads.toml"), FILES).unwrap();
    assert_eq!(apply(dir.path(), &db, &[]).code, 0);
    std::fs::write(
        dir.path().join("leads.toml"),
        FILES.replace(
            "columns.fax = { type = \"text\", deprecated = \"nobody faxes\" }\n",
            "",
        ),
    )
    .unwrap();
    assert_eq!(apply(dir.path(), &db, &[]).code, 0);
    let schema = dir.path().to_str().unwrap();
    let args = ["prune", "--schema", schema, "--database-url", &db.url];
    let fax = || {
        db.query("SELECT count(*) FROM pg_attribute WHERE attrelid = 'leads'::regclass AND attname = 'fax'")
    };
    let out = on_a_terminal(&args, "y\n");
    assert!(out.contains("Type `yes` to go on"), "{out}");
    assert!(out.contains("Nothing was dropped."), "{out}");
    assert_eq!(fax(), vec!["1"]);
    let out = on_a_terminal(&args, "yes\n");
    assert!(out.contains("Pruned 1 object(s)"), "{out}");
    assert_eq!(fax(), vec!["0"]);
    let r = run(&["history", "--database-url", &db.url]);
    assert!(r.stdout.contains("prune"), "{r}");
}
