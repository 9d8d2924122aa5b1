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

/// Each entry says which surface applied it (`via`): here `reconcile apply`
/// and `POST /__admin/migrate`; text and JSON say it, and `--verbose`
/// prints each statement whole where plain text shows its first line.
#[test]
fn history_shows_which_surface_applied_and_whole_statements_with_verbose() {
    use crate::serve::{Server, TOKEN};
    let db = TestDb::new("history_via");
    let v1 = schema_of(V1);
    let (_, plan1) = plan_json(v1.path(), &db);
    assert_eq!(apply(v1.path(), &db, &[]).code, 0);
    let v2 = schema_of(&format!("{V1}nick = {{ type = \"text\" }}\n"));
    let s = Server::start_in(&db, v2.path(), &[("ADMIN_TOKEN", TOKEN)], None);
    let r = s.with_token("POST", "/__admin/migrate");
    assert_eq!(r.status, 200, "{}", r.body);
    s.stop();

    let r = history(&db, &["--format", "json"]);
    assert_eq!(r.code, 0, "{r}");
    let vias = vias_of(&r.stdout);
    assert_eq!(vias, ["http migrate", "cli apply"], "{r}");

    let r = history(&db, &[]);
    assert_eq!(r.code, 0, "{r}");
    let heads: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(heads.len(), 2, "{r}");
    assert!(heads[0].contains(" · via http migrate"), "{r}");
    assert!(heads[1].contains(" · via cli apply"), "{r}");

    // CREATE TABLE spans lines: plain text shows its first, --verbose all of it.
    let create = plan1["statements"][0]["sql"].as_str().unwrap();
    assert!(create.starts_with("CREATE TABLE"), "{create}");
    let lines: Vec<&str> = create.trim_end().lines().collect();
    assert!(
        lines.len() > 2,
        "a one-line statement proves nothing: {create}"
    );
    let r_verbose = history(&db, &["--verbose"]);
    assert_eq!(r_verbose.code, 0, "{r_verbose}");
    let last = lines.len() - 1;
    for (i, line) in lines.iter().enumerate() {
        let shown = format!("    {line}{}\n", if i == last { ";" } else { "" });
        assert!(r_verbose.stdout.contains(&shown), "{shown:?}:\n{r_verbose}");
        if i > 0 && !line.trim().is_empty() {
            assert!(!r.stdout.contains(&shown), "{shown:?}:\n{r}");
        }
    }
    // The same header lines, with or without --verbose.
    let verbose_heads: Vec<&str> = r_verbose
        .stdout
        .lines()
        .filter(|l| l.starts_with('#'))
        .collect();
    assert_eq!(verbose_heads, heads);
}

/// A history table as the previous reconcile created it (without `via`)
/// still reads, its rows `via unknown`; the next apply adds the column and
/// records its own surface.
#[test]
fn an_old_history_table_still_reads_and_its_rows_show_unknown() {
    let db = TestDb::new("history_old_shape");
    db.sql(
        "CREATE SCHEMA _reconcile; \
         CREATE TABLE _reconcile.history ( \
           id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
           applied_at timestamptz NOT NULL DEFAULT now(), \
           applied_by text NOT NULL DEFAULT current_user, \
           client text, \
           plan_hash text NOT NULL, \
           mode text NOT NULL DEFAULT 'transaction', \
           phase integer, \
           statements jsonb NOT NULL, \
           duration_ms bigint NOT NULL, \
           tool_version text NOT NULL, \
           files_hash text, \
           deprecated jsonb); \
         CREATE TABLE _reconcile.files ( \
           files_hash text PRIMARY KEY, \
           recorded_at timestamptz NOT NULL DEFAULT now(), \
           files jsonb NOT NULL); \
         INSERT INTO _reconcile.history (client, plan_hash, statements, duration_ms, tool_version) \
           VALUES ('old-host', 'oldhash', '[\"CREATE TABLE public.old ()\"]', 3, '0.0.1')",
    );
    let r = history(&db, &["--format", "json"]);
    assert_eq!(r.code, 0, "{r}");
    let entries: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(entries.as_array().unwrap().len(), 1, "{r}");
    assert_eq!(entries[0]["via"], "unknown", "{r}");
    assert_eq!(entries[0]["client"], "old-host", "{r}");
    assert_eq!(entries[0]["planHash"], "oldhash", "{r}");
    let r = history(&db, &[]);
    assert_eq!(r.code, 0, "{r}");
    assert!(
        r.stdout.contains("plan oldhash · 1 statement(s) · 3ms · transaction · reconcile 0.0.1 · via unknown on old-host\n"),
        "{r}"
    );

    let v1 = schema_of(V1);
    let a = apply(v1.path(), &db, &[]);
    assert_eq!(a.code, 0, "{a}");
    let r = history(&db, &["--format", "json"]);
    assert_eq!(r.code, 0, "{r}");
    let vias = vias_of(&r.stdout);
    assert_eq!(vias, ["cli apply", "unknown"], "{r}");
}

/// The `via` of each entry of `history --format json`, newest first.
fn vias_of(json: &str) -> Vec<String> {
    let entries: serde_json::Value = serde_json::from_str(json).unwrap();
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["via"].as_str().unwrap().to_string())
        .collect()
}
