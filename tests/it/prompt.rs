//! On a terminal, `apply` and `prune` show what they would do and ask first;
//! a "no" changes nothing. The terminal is a pseudo-terminal made by
//! `script` (util-linux, which `.ci/run` installs when missing).

use std::io::Write;
use std::process::{Command, Stdio};

use crate::harness::{apply, run, TestDb};

/// One word for `sh -c`, whatever it holds.
fn shell_word(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `reconcile args...` on a pseudo-terminal, `answer` typed on it; its output.
fn on_a_terminal(args: &[&str], answer: &str) -> String {
    let line = std::iter::once(env!("CARGO_BIN_EXE_reconcile"))
        .chain(args.iter().copied())
        .map(shell_word)
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

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
