//! `exclude`: schemas and tables that plan, apply, dump and check never
//! consider, from `--exclude PATTERN` and from the files' `exclude` key.

use std::path::Path;

use crate::harness::{apply, assert_replan_empty, dump_dir, run, Run, TestDb};

/// Drizzle's migrations table in schema `drizzle` (with a trigger, a
/// function, a comment on the schema) and another tool's
/// `public.schema_migrations` (with an index, a storage parameter, a trigger).
const OTHER_TOOLS: &str = r#"
CREATE SCHEMA drizzle;
COMMENT ON SCHEMA drizzle IS 'drizzle-kit';
CREATE TABLE drizzle.__drizzle_migrations (id serial PRIMARY KEY, hash text NOT NULL, created_at bigint);
CREATE FUNCTION drizzle.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER touch BEFORE INSERT ON drizzle.__drizzle_migrations FOR EACH ROW EXECUTE FUNCTION drizzle.touch();
CREATE TABLE public.schema_migrations (version text PRIMARY KEY) WITH (fillfactor = 70);
CREATE INDEX schema_migrations_lower ON public.schema_migrations (lower(version));
CREATE TRIGGER touch BEFORE INSERT ON public.schema_migrations FOR EACH ROW EXECUTE FUNCTION drizzle.touch();
"#;

const USERS: &str = "[tables.users.columns]\nid = { type = \"bigint\", primary_key = true }\n";

const PATTERNS: [&str; 2] = ["drizzle.*", "public.schema_migrations"];

fn schema_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// `reconcile <cmd> --schema DIR --database-url URL <extra>`.
fn with_db(cmd: &str, schema: &Path, db: &TestDb, extra: &[&str]) -> Run {
    let mut args = vec![
        cmd,
        "--schema",
        schema.to_str().unwrap(),
        "--database-url",
        &db.url,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn exclude_flags() -> Vec<&'static str> {
    PATTERNS.iter().flat_map(|p| ["--exclude", *p]).collect()
}

/// Every name the JSON plan shows: statement ids and SQL, unmanaged objects.
fn names_in_plan(r: &Run) -> String {
    assert_eq!(r.code, 0, "{r}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let mut all = String::new();
    for s in v["statements"].as_array().unwrap() {
        all.push_str(&format!("{} {}\n", s["id"], s["sql"]));
    }
    for u in v["unmanaged"].as_array().unwrap() {
        all.push_str(&format!("{} {}\n", u["kind"], u["name"]));
    }
    all
}

fn mentions_other_tools(s: &str) -> bool {
    s.contains("drizzle") || s.contains("schema_migrations")
}

#[test]
fn excluded_schemas_and_tables_never_appear_in_plan_apply_check_or_dump() {
    let db = TestDb::new("exclude");
    db.sql(OTHER_TOOLS);
    let plain = schema_dir(&[("users.toml", USERS)]);
    let keyed = schema_dir(&[
        (
            "_schema.toml",
            "exclude = [\"drizzle.*\", \"public.schema_migrations\"]\n",
        ),
        ("users.toml", USERS),
    ]);

    // Without a pattern, the other tools' objects are listed as unmanaged:
    // the test below can fail.
    let all = names_in_plan(&with_db("plan", plain.path(), &db, &["--format", "json"]));
    for expected in [
        "\"schema\" \"drizzle\"",
        "\"table\" \"drizzle.__drizzle_migrations\"",
        "\"table\" \"schema_migrations\"",
        "\"function\" \"drizzle.touch()\"",
        "\"trigger\" \"touch on schema_migrations\"",
        "\"trigger\" \"touch on drizzle.__drizzle_migrations\"",
        "\"comment on schema\" \"drizzle\"",
        "\"storage parameters\" \"schema_migrations: fillfactor=70\"",
    ] {
        assert!(all.contains(expected), "{expected} not in\n{all}");
    }

    let flags = exclude_flags();
    let mut json = flags.clone();
    json.extend(["--format", "json"]);
    for (how, dir, extra) in [
        ("--exclude", plain.path(), json.clone()),
        ("the exclude key", keyed.path(), vec!["--format", "json"]),
    ] {
        let shown = names_in_plan(&with_db("plan", dir, &db, &extra));
        assert!(shown.contains("create-table:users"), "{how}: {shown}");
        assert!(!mentions_other_tools(&shown), "{how}: {shown}");
        let mut text_args = extra.clone();
        text_args.truncate(text_args.len() - 2);
        let r = with_db("plan", dir, &db, &text_args);
        assert_eq!(r.code, 0, "{how}: {r}");
        assert!(!mentions_other_tools(&r.stdout), "{how}: {r}");
        assert!(r.stdout.contains("0 unmanaged"), "{how}: {r}");
        let r = run(&[
            "check",
            "--schema",
            dir.to_str().unwrap(),
            "--database-url",
            &db.url,
            "--format",
            "json",
        ]
        .into_iter()
        .chain(if how == "--exclude" {
            flags.clone()
        } else {
            vec![]
        })
        .collect::<Vec<_>>());
        assert_eq!(r.code, 0, "{how}: {r}");
        assert!(!mentions_other_tools(&r.stdout), "{how}: {r}");
    }

    // Apply with the key: the tables are left alone, the re-plan is empty.
    let r = apply(keyed.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    assert!(!mentions_other_tools(&r.stdout), "{r}");
    assert_replan_empty(keyed.path(), &db);
    assert_eq!(
        db.query("SELECT count(*) FROM drizzle.__drizzle_migrations"),
        ["0"]
    );

    // Dump: neither written nor listed as not managed.
    let out = tempfile::tempdir().unwrap();
    let dumped = out.path().join("schema");
    let mut args = vec![
        "dump",
        "--database-url",
        &db.url,
        "--out",
        dumped.to_str().unwrap(),
    ];
    args.extend(flags.iter().copied());
    let r = run(&args);
    assert_eq!(r.code, 0, "{r}");
    assert!(!mentions_other_tools(&r.stderr), "{r}");
    // (Not the hostile flavor's own schema `evil`: its functions are dumped.)
    let mut files: Vec<String> = walk(&dumped)
        .into_iter()
        .filter(|f| !f.starts_with("evil/"))
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["_schema.toml", "reconcile.schema.json", "users.toml"],
        "{r}"
    );
    // The patterns are written, so that the dumped files keep leaving them out.
    let head = std::fs::read_to_string(dumped.join("_schema.toml")).unwrap();
    // (The hostile flavor's own schema `evil` is dumped as an empty schema.)
    let head: String = head
        .lines()
        .filter(|l| *l != "schemas = [\"evil\"]")
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        head,
        "#:schema ./reconcile.schema.json\nexclude = [\"drizzle.*\", \"public.schema_migrations\"]\n"
    );
    let shown = names_in_plan(&with_db("plan", &dumped, &db, &["--format", "json"]));
    assert!(!mentions_other_tools(&shown), "{shown}");
    assert_replan_empty(&dumped, &db);
    // Without the patterns, the same dump writes them.
    let (_out2, dumped2) = dump_dir(&db);
    assert!(walk(&dumped2)
        .iter()
        .any(|f| f.contains("schema_migrations")));
}

/// The files under `dir`, relative to it.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            let sub = p.file_name().unwrap().to_string_lossy().to_string();
            out.extend(walk(&p).into_iter().map(|f| format!("{sub}/{f}")));
        } else {
            out.push(p.file_name().unwrap().to_string_lossy().to_string());
        }
    }
    out
}

#[test]
fn a_table_of_the_files_that_a_pattern_excludes_is_an_input_error() {
    let db = TestDb::new("exclude_conflict");
    let plain = schema_dir(&[("users.toml", USERS)]);
    for cmd in ["plan", "apply"] {
        let r = with_db(cmd, plain.path(), &db, &["--exclude", "public.u*"]);
        assert_eq!(r.code, 2, "{cmd}: {r}");
        assert!(
            r.stderr.contains("users.toml:1:9: table `users` is defined in the schema files but excluded by `public.u*` (--exclude)"),
            "{cmd}: {r}"
        );
    }
    let keyed = schema_dir(&[
        ("_schema.toml", "exclude = [\"users\"]\n"),
        ("users.toml", USERS),
    ]);
    let r = with_db("plan", keyed.path(), &db, &[]);
    assert_eq!(r.code, 2, "{r}");
    assert!(
        r.stderr.contains("users.toml:1:9: table `users` is defined in the schema files but excluded by `users` (at ")
            && r.stderr.contains("_schema.toml:1:12)"),
        "{r}"
    );
    let d = keyed.path().to_str().unwrap();
    let r = run(&["check", "--schema", d, "--from", d]);
    assert_eq!(r.code, 2, "{r}");
    let r = with_db("plan", plain.path(), &db, &["--exclude", "a.b.c"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(
        r.stderr.contains("more than one dot outside double quotes"),
        "{r}"
    );
    assert!(!r.stderr.contains("panicked"), "{r}");
    // Nothing was created.
    assert_eq!(
        db.query("SELECT count(*) FROM pg_tables WHERE tablename = 'users'"),
        ["0"]
    );
}

/// `check --from`: a table that the old files had and the new ones
/// exclude is not considered (no R001); without the pattern it is a removal.
#[test]
fn check_between_files_does_not_consider_what_is_excluded() {
    let old = schema_dir(&[(
        "t.toml",
        "[tables.users.columns]\nid = { type = \"bigint\", primary_key = true }\n\
         [tables.schema_migrations.columns]\nversion = { type = \"text\", primary_key = true }\n",
    )]);
    let new = schema_dir(&[("users.toml", USERS)]);
    let (o, n) = (old.path().to_str().unwrap(), new.path().to_str().unwrap());
    let r = run(&["check", "--schema", n, "--from", o]);
    assert_eq!(r.code, 3, "{r}");
    assert!(r.stdout.contains("R001"), "{r}");
    let r = run(&[
        "check",
        "--schema",
        n,
        "--from",
        o,
        "--exclude",
        "schema_migrations",
    ]);
    assert_eq!(r.code, 0, "{r}");
    let keyed = schema_dir(&[
        ("users.toml", USERS),
        ("_schema.toml", "exclude = [\"schema_migrations\"]\n"),
    ]);
    let r = run(&[
        "check",
        "--schema",
        keyed.path().to_str().unwrap(),
        "--from",
        o,
    ]);
    assert_eq!(r.code, 0, "{r}");
}

/// Three sides: a table that the files last applied had, and the files now
/// exclude instead, is not a removal (R001); left out without a pattern, it is.
#[test]
fn a_table_moved_from_the_files_to_exclude_is_no_removal_of_the_files_last_applied() {
    let db = TestDb::new("exclude_three_sides");
    let v1 = schema_dir(&[(
        "t.toml",
        "[tables.users.columns]\nid = { type = \"bigint\", primary_key = true }\n\
         [tables.schema_migrations.columns]\nversion = { type = \"text\", primary_key = true }\n",
    )]);
    let r = apply(v1.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    let dropped = schema_dir(&[("users.toml", USERS)]);
    let r = with_db("plan", dropped.path(), &db, &[]);
    assert_eq!(r.code, 3, "{r}");
    assert!(r.stdout.contains("R001"), "{r}");
    let r = with_db(
        "plan",
        dropped.path(),
        &db,
        &["--exclude", "schema_migrations"],
    );
    assert_eq!(r.code, 0, "{r}");
    assert!(!mentions_other_tools(&r.stdout), "{r}");
    let keyed = schema_dir(&[
        ("users.toml", USERS),
        ("_schema.toml", "exclude = [\"schema_migrations\"]\n"),
    ]);
    let r = with_db("plan", keyed.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    assert!(!mentions_other_tools(&r.stdout), "{r}");
}

/// `prune` never drops what the files' `exclude` key matches, even a table
/// an applied version of the files marked `deprecated` (handed to another tool).
#[test]
fn prune_never_drops_what_the_files_exclude() {
    let db = TestDb::new("exclude_prune");
    let marked = schema_dir(&[(
        "t.toml",
        "[tables.users.columns]\nid = { type = \"bigint\", primary_key = true }\n\
         [tables.legacy]\ndeprecated = \"another tool owns it now\"\n\
         [tables.legacy.columns]\nid = { type = \"integer\" }\n",
    )]);
    let r = apply(marked.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    // Without the key, prune would drop it.
    let removed = schema_dir(&[("users.toml", USERS)]);
    let r = with_db("prune", removed.path(), &db, &[]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stdout.contains("DROP TABLE public.legacy"), "{r}");
    let keyed = schema_dir(&[
        ("users.toml", USERS),
        ("_schema.toml", "exclude = [\"legacy\"]\n"),
    ]);
    let r = with_db("prune", keyed.path(), &db, &["--yes"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("Nothing to prune"), "{r}");
    assert_eq!(db.query("SELECT count(*) FROM legacy"), ["0"]);
}
