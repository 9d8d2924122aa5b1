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

/// `apply` names its target as `plan` does (the same first line, host and
/// database), on a terminal and off one; on a terminal `--yes` and
/// `--format json` apply without asking.
#[test]
fn apply_names_its_target_as_plan_does_and_yes_does_not_ask() {
    let db = TestDb::new("prompt_target");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("leads.toml"), FILES).unwrap();
    let schema = dir.path().to_str().unwrap();
    let conn = ["--schema", schema, "--database-url", &db.url];
    let plan = run(&[&["plan"][..], &conn].concat());
    assert_eq!(plan.code, 0, "{plan}");
    let head = plan.stdout.lines().next().unwrap().to_string();
    assert!(
        head.starts_with("Plan against host=") && head.contains(&format!("dbname={}", db.name)),
        "{plan}"
    );
    // The terminal echoes what is typed, and paints (bold headline).
    let says_head = |out: &str| plain(out).lines().any(|l| l.trim_end() == head);
    let asked = on_a_terminal(&[&["apply"][..], &conn].concat(), "n\n");
    assert!(says_head(&asked), "{asked}");
    let target = head.strip_prefix("Plan against ").unwrap();
    assert!(
        asked.contains(&format!("Apply 1 statement(s) to {target}? [y/N]")),
        "{asked}"
    );

    let yes = on_a_terminal(&[&["apply", "--yes"][..], &conn].concat(), "");
    assert!(says_head(&yes), "{yes}");
    assert!(!yes.contains("[y/N]"), "{yes}");
    assert!(yes.contains("Applied 1 statement(s)"), "{yes}");
    assert_eq!(db.history_count(), 1, "{yes}");

    // Without a terminal it does not ask either, and says the same first line.
    std::fs::write(
        dir.path().join("leads.toml"),
        format!("{FILES}columns.name = {{ type = \"text\" }}\n"),
    )
    .unwrap();
    let piped = run(&[&["apply"][..], &conn].concat());
    assert_eq!(piped.code, 0, "{piped}");
    assert!(piped.stdout.starts_with(&head), "{piped}");
    assert!(!piped.stdout.contains("[y/N]"), "{piped}");
    assert_eq!(db.history_count(), 2, "{piped}");

    std::fs::write(
        dir.path().join("leads.toml"),
        format!(
            "{FILES}columns.name = {{ type = \"text\" }}\ncolumns.note = {{ type = \"text\" }}\n"
        ),
    )
    .unwrap();
    let json = on_a_terminal(&[&["apply", "--format", "json"][..], &conn].concat(), "");
    assert!(!json.contains("[y/N]"), "{json}");
    let v: serde_json::Value = serde_json::from_str(json.trim()).expect(&json);
    assert_eq!(v["success"], true, "{json}");
    assert_eq!(db.history_count(), 3, "{json}");
}

/// `text` without its colour codes (`ESC [ ... m`).
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
