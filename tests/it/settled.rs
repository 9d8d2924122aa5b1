//! A settled database (`catalog::settled`): an apply records the state it
//! verified with a fingerprint of the catalog, and a later plan of the same
//! files that finds the same fingerprint answers without reading the catalog.
//! What these tests hold it to: the answer is the plan a full read gives,
//! byte for byte; any change made outside reconcile since (a column, a
//! default, a comment, an enum value, an index, a constraint, a policy, a
//! setting, an unmanaged table), other files, other `--exclude` patterns
//! each send the plan back to the catalog.

use std::path::Path;
use std::process::Command;

use crate::harness::{apply, repo, schema_of, TestDb};

/// `reconcile plan --format json` with `RECONCILE_TRACE` set: the plan, and
/// whether the catalog was read (its trace line).
fn plan_traced(schema: &Path, db: &TestDb, extra: &[&str]) -> (serde_json::Value, bool) {
    let out = Command::new(env!("CARGO_BIN_EXE_reconcile"))
        .args(["plan", "--format", "json", "--schema"])
        .arg(schema)
        .args(["--database-url", &db.url])
        .args(extra)
        .env("RECONCILE_TRACE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 3,
        "plan failed ({code}):\n{stdout}\n{stderr}"
    );
    let plan = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("plan JSON does not parse ({e}):\n{stdout}\n{stderr}"));
    (plan, stderr.contains("[trace] introspect"))
}

/// The plan as a full read of the catalog gives it: the history's records
/// are set aside for the read, then put back (rows of the history are data,
/// not catalog: the fingerprint does not change).
fn full_plan(schema: &Path, db: &TestDb, extra: &[&str]) -> serde_json::Value {
    let kept = db.query(
        "SELECT id || ' ' || settled::text FROM _reconcile.history WHERE settled IS NOT NULL",
    );
    db.sql("UPDATE _reconcile.history SET settled = NULL");
    let (plan, read) = plan_traced(schema, db, extra);
    for row in &kept {
        let (id, json) = row.split_once(' ').unwrap();
        db.sql(&format!(
            "UPDATE _reconcile.history SET settled = '{}'::jsonb WHERE id = {id}",
            json.replace('\'', "''")
        ));
    }
    assert!(read, "without a record, the catalog is read");
    plan
}

fn example() -> std::path::PathBuf {
    repo().join("schema")
}

/// Files of one table, `people (id bigint primary key)`.
fn one_table() -> tempfile::TempDir {
    schema_of(
        r#"
[tables.people.columns]
id = { type = "bigint", primary_key = true }
"#,
    )
}

fn settled_rows(db: &TestDb) -> usize {
    db.query("SELECT count(*) FROM _reconcile.history WHERE settled IS NOT NULL")[0]
        .parse()
        .unwrap()
}

#[test]
fn after_an_apply_a_plan_of_the_same_files_is_the_full_plan_without_reading_the_catalog() {
    let db = TestDb::new("settled_same");
    // Unmanaged objects before the apply: they are listed by the settled plan too.
    db.sql(
        "CREATE TABLE stray (x int); CREATE SEQUENCE stray_seq; \
         CREATE FUNCTION stray_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    );
    let schema = example();
    assert_eq!(apply(&schema, &db, &["--yes"]).code, 0);
    assert_eq!(
        settled_rows(&db),
        1,
        "the apply recorded the state it verified"
    );

    let (fast, read) = plan_traced(&schema, &db, &[]);
    assert!(!read, "a settled database is not read again: {fast:#}");
    assert_eq!(fast["statements"], serde_json::json!([]), "{fast:#}");
    assert!(
        fast["unmanaged"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["name"] == "stray"),
        "{fast:#}"
    );
    assert_eq!(fast, full_plan(&schema, &db, &[]));

    // A no-op apply takes the same path: nothing to apply, nothing recorded.
    let before = db.history_count();
    let r = apply(&schema, &db, &["--yes"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("Nothing to apply"), "{r}");
    assert_eq!(db.history_count(), before);

    // Other files, or other patterns: the catalog is read again.
    let other = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(&schema).unwrap() {
        let f = f.unwrap().path();
        let mut text = std::fs::read_to_string(&f).unwrap();
        if f.file_name().unwrap() == "leads.toml" {
            text.push_str("\n# a comment changes the files, not the plan\n");
        }
        std::fs::write(other.path().join(f.file_name().unwrap()), text).unwrap();
    }
    let (changed, read) = plan_traced(other.path(), &db, &[]);
    assert!(read, "other files are planned from the catalog");
    assert_eq!(changed["statements"], serde_json::json!([]), "{changed:#}");
    assert_ne!(changed["filesHash"], fast["filesHash"]);
    let (excluded, read) = plan_traced(&schema, &db, &["--exclude", "stray*"]);
    assert!(
        read,
        "other --exclude patterns are planned from the catalog"
    );
    assert!(
        !excluded["unmanaged"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["name"].as_str().unwrap().starts_with("stray")),
        "{excluded:#}"
    );
}

#[test]
fn any_change_made_outside_reconcile_sends_the_plan_back_to_the_catalog() {
    let schema = example();
    let changes = [
        "ALTER TABLE leads DROP COLUMN source",
        "COMMENT ON COLUMN leads.source IS 'changed by hand'",
        "COMMENT ON TABLE leads IS NULL",
        "ALTER TABLE tenants ALTER COLUMN timezone SET DEFAULT 'Europe/Paris'",
        "ALTER TABLE leads ALTER COLUMN name SET NOT NULL",
        "ALTER TYPE lead_status ADD VALUE 'dormant'",
        "DROP INDEX idx_phone_map_tenant",
        "CREATE INDEX stray_idx ON leads (email)",
        "ALTER TABLE phone_map DROP CONSTRAINT phone_map_twilio_number_check",
        "ALTER POLICY appointments_tenant_isolation ON appointments RENAME TO renamed_by_hand",
        "ALTER TABLE leads SET (fillfactor = 50)",
        "ALTER TABLE tenants RENAME COLUMN slug TO handle",
        "CREATE TABLE stray (x int)",
        "CREATE SCHEMA stray",
    ];
    for (i, change) in changes.iter().enumerate() {
        let db = TestDb::new(&format!("settled_change_{i}"));
        let r = apply(&schema, &db, &["--yes"]);
        assert_eq!(r.code, 0, "{r}");
        let (settled, read) = plan_traced(&schema, &db, &[]);
        assert!(!read, "settled after the apply");
        db.sql(change);
        let (now, read) = plan_traced(&schema, &db, &[]);
        assert!(read, "{change}: the catalog must be read again");
        assert_ne!(now, settled, "{change}: the plan must see it");
        assert_eq!(now, full_plan(&schema, &db, &[]), "{change}");
    }
}

#[test]
fn an_apply_that_runs_nothing_records_the_state_it_read_under_the_lock() {
    let db = TestDb::new("settled_nothing");
    let v1 = schema_of(
        r#"
[tables.people.columns]
id = { type = "bigint", primary_key = true }
nick = { type = "text" }
"#,
    );
    assert_eq!(apply(v1.path(), &db, &["--yes"]).code, 0);
    let (_, read) = plan_traced(v1.path(), &db, &[]);
    assert!(!read);
    // The column is marked deprecated: the files change, nothing runs, and
    // the apply's row records the state it read (its fingerprint was read
    // before the catalog, under the lock).
    let v2 = schema_of(
        r#"
[tables.people.columns]
id = { type = "bigint", primary_key = true }
nick = { type = "text", deprecated = "no longer shown" }
"#,
    );
    let rows = db.history_count();
    let r = apply(v2.path(), &db, &["--yes"]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(db.history_count(), rows + 1, "the new files are recorded");
    let (planned, read) = plan_traced(v2.path(), &db, &[]);
    assert!(!read, "the row of the files records the state: {planned:#}");
    assert_eq!(planned, full_plan(v2.path(), &db, &[]));
    let (old_files, read) = plan_traced(v1.path(), &db, &[]);
    assert!(read, "the first files are not the last ones applied");
    assert_eq!(old_files, full_plan(v1.path(), &db, &[]));
    // The record is lost (as after a new build of reconcile, whose records
    // do not match): plans read the catalog, until an apply, which finds
    // nothing to run and writes no row, records the state on the last row.
    db.sql("UPDATE _reconcile.history SET settled = NULL");
    let (_, read) = plan_traced(v2.path(), &db, &[]);
    assert!(read);
    let r = apply(v2.path(), &db, &["--yes"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("Nothing to apply"), "{r}");
    assert_eq!(
        db.history_count(),
        rows + 1,
        "no row for an apply that ran nothing"
    );
    assert_eq!(settled_rows(&db), 1, "the last row records it");
    let (fast, read) = plan_traced(v2.path(), &db, &[]);
    assert!(!read, "settled again: {fast:#}");
    assert_eq!(fast, full_plan(v2.path(), &db, &[]));
    // A change by hand after it: the record no longer matches, and the
    // plan shows the change.
    db.sql("ALTER TABLE people ADD COLUMN note text");
    let (changed, read) = plan_traced(v2.path(), &db, &[]);
    assert!(read);
    assert_ne!(changed, fast);
    assert_eq!(changed, full_plan(v2.path(), &db, &[]));
}

#[test]
fn a_role_that_may_not_update_the_history_still_applies_nothing_without_an_error() {
    let db = TestDb::new("settled_role");
    let schema = one_table();
    assert_eq!(apply(schema.path(), &db, &["--yes"]).code, 0);
    // A role that reads and inserts history rows but may not update them.
    let role = format!("{}_inserter", db.name);
    db.sql(&format!(
        "CREATE ROLE {role}; GRANT USAGE ON SCHEMA _reconcile TO {role}; \
         GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA _reconcile TO {role}; \
         GRANT ALL ON TABLE people TO {role}; \
         UPDATE _reconcile.history SET settled = NULL"
    ));
    let sep = if db.url.contains('?') { '&' } else { '?' };
    let as_role = TestDb {
        name: db.name.clone(),
        url: format!("{}{sep}options=-c%20role%3D{role}", db.url),
    };
    let r = apply(schema.path(), &as_role, &["--yes"]);
    db.sql(&format!("DROP OWNED BY {role}; DROP ROLE {role}"));
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("Nothing to apply"), "{r}");
    assert_eq!(settled_rows(&db), 0, "the UPDATE was refused: no record");
    // The owner's apply records it.
    assert_eq!(apply(schema.path(), &db, &["--yes"]).code, 0);
    assert_eq!(settled_rows(&db), 1);
}

#[test]
fn a_role_counts_when_this_database_names_it_and_not_otherwise() {
    let db = TestDb::new("settled_roles");
    let owner = format!("{}_owner", db.name);
    let renamed = format!("{}_renamed", db.name);
    let elsewhere = format!("{}_elsewhere", db.name);
    // An unmanaged table owned by another role: the plan names that role
    // ("owner": `<role> owns 1 relation(s)`).
    db.sql(&format!(
        "CREATE ROLE {owner}; CREATE TABLE extra (id int); ALTER TABLE extra OWNER TO {owner}"
    ));
    let schema = one_table();
    assert_eq!(apply(schema.path(), &db, &["--yes"]).code, 0);
    let (settled, read) = plan_traced(schema.path(), &db, &[]);
    assert!(!read);
    assert!(settled.to_string().contains(&owner), "{settled:#}");
    // A role made and dropped elsewhere in the cluster (a new tenant's):
    // nothing of this database names it, and the record still holds.
    db.sql(&format!("CREATE ROLE {elsewhere}; DROP ROLE {elsewhere}"));
    let (same, read) = plan_traced(schema.path(), &db, &[]);
    assert!(!read, "a role this database does not name: {same:#}");
    assert_eq!(same, full_plan(schema.path(), &db, &[]));
    // The owner renamed: no row of this database changes, and the plan
    // must name the new role.
    db.sql(&format!("ALTER ROLE {owner} RENAME TO {renamed}"));
    let (now, read) = plan_traced(schema.path(), &db, &[]);
    let full = full_plan(schema.path(), &db, &[]);
    db.sql(&format!("DROP TABLE extra; DROP ROLE {renamed}"));
    assert!(read, "a role this database names was renamed");
    assert!(now.to_string().contains(&renamed), "{now:#}");
    assert_eq!(now, full);
}
