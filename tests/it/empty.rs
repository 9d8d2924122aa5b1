//! Schemas with nothing in them: a directory without a schema file is an
//! input error, a file that declares nothing is a valid (empty) schema, `dump`
//! of a database with nothing to declare writes such a file, and a schema
//! that holds no managed object is declared (`schemas = [...]`) and created.
//! Also: an integer column made `serial` applies and numbers new rows past
//! the old ones.

use crate::harness::{apply, assert_replan_empty, dump_dir, plan_as, schema_of, TestDb};

#[test]
fn a_directory_without_a_schema_file_is_an_input_error() {
    let db = TestDb::new("empty_dir");
    let dir = tempfile::tempdir().unwrap();
    let r = plan_as(dir.path(), &db, "text");
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("no schema file (*.toml) here"), "{r}");
    // A file that declares nothing is a schema with nothing in it.
    std::fs::write(dir.path().join("schema.toml"), "# nothing yet\n").unwrap();
    let r = plan_as(dir.path(), &db, "text");
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("No changes"), "{r}");
}

#[test]
fn dump_of_a_database_with_nothing_to_declare_writes_a_file_that_says_so() {
    let db = TestDb::new("empty_dump");
    let (_out, dir) = dump_dir(&db);
    // (Not the hostile flavor's own schema `evil`: its functions are dumped.)
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name() != "evil" && e.file_name() != "reconcile.schema.json")
        })
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_replan_empty(&dir, &db);
}

#[test]
fn a_schema_without_managed_objects_is_declared_and_created() {
    let a = TestDb::new("bare_schema_a");
    a.sql("CREATE SCHEMA reporting; CREATE SCHEMA \"Audit Log\"; CREATE AGGREGATE reporting.total(int) (sfunc = int4pl, stype = int)");
    let (_out, dir) = dump_dir(&a);
    let text = std::fs::read_to_string(dir.join("_schema.toml")).unwrap();
    // (A hostile test session adds its own schema `evil`: not ours to name.)
    let line = text
        .lines()
        .find(|l| l.starts_with("schemas = ["))
        .unwrap_or_default();
    assert!(
        line.contains("\"Audit Log\"") && line.contains("\"reporting\""),
        "{text}"
    );
    assert_replan_empty(&dir, &a);
    let b = TestDb::new("bare_schema_b");
    let r = apply(&dir, &b, &[]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(
        b.query("SELECT nspname FROM pg_namespace WHERE nspname IN ('reporting', 'Audit Log') ORDER BY 1"),
        ["Audit Log", "reporting"]
    );
    assert_replan_empty(&dir, &b);
}

#[test]
fn an_integer_column_made_serial_numbers_new_rows_past_the_old() {
    let db = TestDb::new("make_serial");
    db.sql("CREATE TABLE ticket (id integer PRIMARY KEY, note text); INSERT INTO ticket VALUES (7, 'a'), (41, 'b')");
    let files = schema_of(
        "[tables.ticket.columns]\nid = { type = \"serial\", primary_key = true }\nnote = { type = \"text\" }\n",
    );
    let r = apply(files.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    assert_replan_empty(files.path(), &db);
    assert_eq!(
        db.query("INSERT INTO ticket (note) VALUES ('c') RETURNING id"),
        ["42"]
    );
}
