//! `reconcile history`: what was applied, newest first, in text and JSON,
//! read from the history table that apply writes in the same transaction.

use crate::harness::{apply, plan_json, run, schema_of, TestDb};

const V1: &str = r#"
[tables.people.columns]
id = { type = "bigint", primary_key = true }
name = { type = "text" }
"#;

fn history(db: &TestDb, extra: &[&str]) -> crate::harness::Run {
    let mut args = vec!["history", "--database-url", &db.url];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn history_lists_each_applied_plan_newest_first_in_text_and_json() {
    let db = TestDb::new("history");
    // Nothing applied yet (no history table): an empty history, not an error.
    let r = history(&db, &[]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(r.stdout, "No applied plans recorded yet.\n", "{r}");
    let r = history(&db, &["--format", "json"]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(r.stdout.trim(), "[]", "{r}");

    let v1 = schema_of(V1);
    let (_, plan1) = plan_json(v1.path(), &db);
    assert_eq!(apply(v1.path(), &db, &[]).code, 0);
    let v2 = schema_of(&format!(
        "{V1}nick = {{ type = \"text\" }}\n\n[tables.people.indexes]\nidx_people_name = {{ columns = [\"name\"] }}\n"
    ));
    let (_, plan2) = plan_json(v2.path(), &db);
    assert_eq!(apply(v2.path(), &db, &[]).code, 0);
    // A no-op apply records nothing.
    assert_eq!(apply(v2.path(), &db, &[]).code, 0);

    let sql = |plan: &serde_json::Value| -> Vec<serde_json::Value> {
        plan["statements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["sql"].clone())
            .collect()
    };
    let r = history(&db, &["--format", "json"]);
    assert_eq!(r.code, 0, "{r}");
    let entries: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 2, "{r}");
    for (e, plan) in entries.iter().zip([&plan2, &plan1]) {
        assert_eq!(e["planHash"], plan["planHash"], "{e:#}");
        assert_eq!(e["statements"].as_array().unwrap(), &sql(plan), "{e:#}");
        assert_eq!(e["mode"], "transaction");
        assert_eq!(e["phase"], serde_json::Value::Null);
        assert_eq!(e["appliedBy"], "postgres");
        assert_eq!(e["toolVersion"], env!("CARGO_PKG_VERSION"));
        assert!(e["durationMs"].as_i64().unwrap() >= 0, "{e:#}");
        let at = e["appliedAt"].as_str().unwrap();
        assert!(
            at.len() == 24 && at.ends_with('Z') && at.contains('T'),
            "{at}"
        );
    }
    assert!(
        entries[0]["id"].as_i64() > entries[1]["id"].as_i64(),
        "not newest first"
    );

    let r = history(&db, &[]);
    assert_eq!(r.code, 0, "{r}");
    let heads: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(heads.len(), 2, "{r}");
    for (head, plan) in heads.iter().zip([&plan2, &plan1]) {
        let hash = plan["planHash"].as_str().unwrap();
        let n = plan["statements"].as_array().unwrap().len();
        assert!(
            head.contains(&format!("by postgres · plan {hash} · {n} statement(s) · "))
                && head.contains(&format!(
                    "transaction · reconcile {}",
                    env!("CARGO_PKG_VERSION")
                )),
            "{head}"
        );
    }
    for s in sql(&plan2).iter().chain(&sql(&plan1)) {
        let first = s.as_str().unwrap().lines().next().unwrap();
        assert!(
            r.stdout.contains(&format!("    {first}\n")),
            "{first}:\n{r}"
        );
    }
    // Newest first: the second plan's statements come before the first's.
    let at = |needle: &str| r.stdout.find(needle).unwrap();
    assert!(
        at("ADD COLUMN nick") < at("CREATE TABLE public.people"),
        "{r}"
    );

    let r = history(&db, &["--limit", "1", "--format", "json"]);
    assert_eq!(r.code, 0, "{r}");
    let entries: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(entries.as_array().unwrap().len(), 1, "{r}");
    assert_eq!(entries[0]["planHash"], plan2["planHash"]);
}

/// A limit PostgreSQL cannot use is an input error (exit 2), not a failed query.
#[test]
fn history_with_a_negative_limit_is_an_input_error() {
    let db = TestDb::new("history_limit");
    let r = history(&db, &["--limit=-1"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("--limit"), "{r}");
}

/// A history table that cannot be read (here: one of another shape under our
/// name) is an error that says why, never "nothing applied".
#[test]
fn an_unreadable_history_is_an_error_not_an_empty_history() {
    let db = TestDb::new("history_unreadable");
    db.sql("CREATE SCHEMA _reconcile; CREATE TABLE _reconcile.history (id bigint)");
    let r = history(&db, &[]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("applied_at"), "{r}");
    assert!(!r.stdout.contains("No applied plans"), "{r}");
}
