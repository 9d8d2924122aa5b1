//! Foreign keys to tables outside the files (SPEC §2: `references =
//! "auth.users(id)"`, Supabase's users table): kept when loading, checked
//! against the catalog by `plan` and `apply`, noted as not verifiable by
//! `check` without a database, and written back by `dump`.

use std::path::Path;

use crate::harness::{
    apply, assert_replan_empty, dump_dir_with, plan_json, run, schema_of, Run, TestDb,
};

const AUTH: &str = "CREATE SCHEMA auth; CREATE TABLE auth.users (id uuid PRIMARY KEY, email text);";

const PROFILES: &str = r#"
[tables.profiles.columns]
id      = { type = "uuid", primary_key = true, references = "auth.users(id)", on_delete = "cascade" }
user_id = { type = "uuid" }
"#;

#[test]
fn a_reference_to_a_table_of_the_database_plans_and_applies() {
    let db = TestDb::new("outside_apply");
    db.sql(AUTH);
    let schema = schema_of(PROFILES);
    let r = apply(schema.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("create-table:profiles"), "{r}");
    assert_eq!(
        db.query(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'profiles_id_fkey'"
        ),
        ["FOREIGN KEY (id) REFERENCES auth.users(id) ON DELETE CASCADE"]
    );
    assert_replan_empty(schema.path(), &db);
}

#[test]
fn a_reference_to_a_table_or_column_the_database_lacks_is_an_input_error_at_plan_and_apply() {
    let db = TestDb::new("outside_missing");
    // No table auth.users at all.
    let schema = schema_of(PROFILES);
    for cmd in ["plan", "apply"] {
        let r = run(&[
            cmd,
            "--schema",
            schema.path().to_str().unwrap(),
            "--database-url",
            &db.url,
        ]);
        assert_eq!(r.code, 2, "{cmd}: {r}");
        assert!(
            r.stderr.contains("schema.toml:3:61: foreign key `profiles_id_fkey`")
                && r.stderr.contains("table `auth.users` is neither defined in the schema files nor present in the database"),
            "{cmd}: {r}"
        );
        assert!(!r.stderr.contains("panicked"), "{r}");
    }
    // The table, without the column.
    db.sql("CREATE SCHEMA auth; CREATE TABLE auth.users (uid uuid PRIMARY KEY);");
    let r = run(&[
        "plan",
        "--schema",
        schema.path().to_str().unwrap(),
        "--database-url",
        &db.url,
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 2, "{r}");
    // Under --format json the error is the JSON answer on stdout.
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("a JSON error");
    assert!(
        v["error"].as_str().unwrap().contains("schema.toml:3:61:")
            && v["diagnostics"][0]["message"]
                .as_str()
                .unwrap()
                .contains("has no column `id` (it has: uid)"),
        "{r}"
    );
    assert!(!db
        .query("SELECT 1 FROM pg_tables WHERE tablename = 'profiles'")
        .contains(&"1".to_string()));
}

fn check_from(dir: &Path, format: &str) -> Run {
    let d = dir.to_str().unwrap();
    run(&["check", "--schema", d, "--from", d, "--format", format])
}

#[test]
fn check_without_a_database_passes_and_says_it_cannot_verify_the_reference() {
    let schema = schema_of(PROFILES);
    let r = check_from(schema.path(), "text");
    assert_eq!(r.code, 0, "{r}");
    assert!(
        r.stdout.contains("Notes (1):")
            && r.stdout.contains("schema.toml:3:61: foreign key `profiles_id_fkey` of table `profiles` references table `auth.users`, which is not in the files: the files alone cannot verify it"),
        "{r}"
    );
    let r = check_from(schema.path(), "json");
    assert_eq!(r.code, 0, "{r}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["ok"], true);
    let notes = v["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{v:#}");
    assert!(notes[0]["message"]
        .as_str()
        .unwrap()
        .contains("the files alone cannot verify it"));
    assert_eq!(notes[0]["origin"]["line"], 3);
    let r = check_from(schema.path(), "github");
    assert_eq!(r.code, 0, "{r}");
    assert!(
        r.stdout.contains("::notice file=")
            && r.stdout
                .contains("line=3,title=not verified::foreign key `profiles_id_fkey`"),
        "{r}"
    );
    // A reference to a table of the files is verified: no note.
    let own = schema_of(
        "[tables.a.columns]\nid = { type = \"int\", primary_key = true }\n\
         [tables.b.columns]\na_id = { type = \"int\", references = \"a(id)\" }\n",
    );
    let r = check_from(own.path(), "json");
    assert_eq!(r.code, 0, "{r}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["notes"].as_array().map(Vec::len), Some(0), "{v:#}");
}

#[test]
fn dump_of_one_schema_referencing_another_round_trips() {
    let db = TestDb::new("outside_dump");
    db.sql(AUTH);
    db.sql(
        "CREATE TABLE public.profiles (id uuid PRIMARY KEY REFERENCES auth.users(id) ON DELETE CASCADE, name text);",
    );
    let (_out, dir) = dump_dir_with(&db, &["--db-schema", "public"]);
    let text = std::fs::read_to_string(dir.join("profiles.toml")).unwrap();
    assert!(text.contains("references = \"auth.users(id)\""), "{text}");
    assert!(!dir.join("auth").exists(), "auth was dumped");
    assert_replan_empty(&dir, &db);
    let (_, plan) = plan_json(&dir, &db);
    assert!(plan["refused"].as_array().unwrap().is_empty(), "{plan:#}");
}
