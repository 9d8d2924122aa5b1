//! Planning against real databases: convergence, no false differences on
//! real-world schemas, and a catalog read whose cost does not grow with the schema.

use std::collections::BTreeSet;
use std::path::Path;

use crate::harness::{corpus, plan_json, plan_sql, repo, TestDb};

/// Every object the files define, as the step ids a plan on an empty database must list.
fn expected_ids(schema: &Path) -> BTreeSet<String> {
    let cat = reconcile::load::load_dir(schema).expect("fixture loads");
    let mut ids = BTreeSet::new();
    for name in cat.enums.keys() {
        ids.insert(format!("create-enum:{name}"));
    }
    for e in cat.extensions.keys() {
        ids.insert(format!("create-extension:{e}"));
    }
    for (name, t) in &cat.tables {
        ids.insert(format!("create-table:{name}"));
        for i in &t.indexes {
            let q = reconcile::model::QualName::new(name.schema.clone(), i.name.clone());
            ids.insert(format!("create-index:{q}"));
        }
    }
    ids
}

/// Plan on an empty database lists every object; after running that SQL with
/// psql, planning again yields no statements and no refusals.
fn converges(schema_dir: &str) {
    let schema = repo().join(schema_dir);
    let db = TestDb::new("converge");
    let (code, plan) = plan_json(&schema, &db);
    assert_eq!(code, 0, "plan on an empty database: {plan:#}");
    let ids: BTreeSet<String> = plan["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let missing: Vec<_> = expected_ids(&schema).difference(&ids).cloned().collect();
    assert!(
        missing.is_empty(),
        "{schema_dir}: the plan misses {missing:?}"
    );

    let sql = plan_sql(&schema, &db);
    let file = std::env::temp_dir().join(format!("{}.sql", db.name));
    std::fs::write(&file, &sql).unwrap();
    db.load_file(&file);
    let _ = std::fs::remove_file(&file);

    let (code, again) = plan_json(&schema, &db);
    assert_eq!(code, 0, "{again:#}");
    assert_eq!(
        again["statements"].as_array().unwrap().len(),
        0,
        "{schema_dir} does not converge: {again:#}"
    );
    assert_eq!(
        again["refused"].as_array().unwrap().len(),
        0,
        "{schema_dir}: {again:#}"
    );
    assert_eq!(
        again["unmanaged"].as_array().unwrap().len(),
        0,
        "{schema_dir}: {again:#}"
    );
}

#[test]
fn example_schema_converges() {
    converges("schema");
}

#[test]
fn every_key_fixture_converges() {
    converges("fixtures/all_keys");
}

#[test]
fn chinook_twin_converges() {
    converges("fixtures/chinook");
}

#[test]
fn northwind_twin_converges() {
    converges("fixtures/northwind");
}

/// Planned against a database loaded from the corpus's own schema.sql with
/// psql, the hand-written twin shows no difference.
fn no_false_difference(name: &str) {
    let Some(corpus) = corpus() else {
        return;
    };
    let db = TestDb::new(name);
    db.load_file(&corpus.join(name).join("schema.sql"));
    let (code, plan) = plan_json(&repo().join("fixtures").join(name), &db);
    assert_eq!(code, 0, "{plan:#}");
    assert_eq!(
        plan["statements"].as_array().unwrap().len(),
        0,
        "{name}: false differences: {plan:#}"
    );
    assert_eq!(
        plan["refused"].as_array().unwrap().len(),
        0,
        "{name}: {plan:#}"
    );
}

#[test]
fn chinook_corpus_shows_no_false_difference() {
    no_false_difference("chinook");
}

#[test]
fn northwind_corpus_shows_no_false_difference() {
    no_false_difference("northwind");
}

/// A schema of `n` tables, in TOML and in SQL.
fn synthetic(n: usize) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut sql = String::new();
    for i in 0..n {
        let mut toml = format!(
            "[tables.t{i}.columns]\nid = {{ type = \"bigserial\", primary_key = true }}\nname = {{ type = \"text\", not_null = true, default = \"''\" }}\nqty = {{ type = \"integer\", check = \"qty >= 0\" }}\n"
        );
        sql.push_str(&format!(
            "CREATE TABLE t{i} (id bigserial PRIMARY KEY, name text NOT NULL DEFAULT '', qty integer CHECK (qty >= 0)"
        ));
        if i > 0 {
            toml.push_str(&format!(
                "parent_id = {{ type = \"bigint\", references = \"t{}(id)\" }}\n",
                i - 1
            ));
            sql.push_str(&format!(", parent_id bigint REFERENCES t{}(id)", i - 1));
        }
        toml.push_str(&format!("[tables.t{i}.indexes]\nt{i}_name_idx = {{ columns = [\"name\"], where = \"qty > 0\" }}\n"));
        sql.push_str(&format!(
            ");\nCREATE INDEX t{i}_name_idx ON t{i} (name) WHERE qty > 0;\n"
        ));
        std::fs::write(dir.path().join(format!("t{i}.toml")), toml).unwrap();
    }
    (dir, sql)
}

fn statements_for_noop_plan(n: usize) -> usize {
    let (dir, sql) = synthetic(n);
    let db = TestDb::new(&format!("count{n}"));
    let file = dir.path().join("schema.sql");
    std::fs::write(&file, sql).unwrap();
    db.load_file(&file);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = rt
        .block_on(reconcile::plan(&reconcile::Target {
            schema_dir: dir.path().to_path_buf(),
            database_url: Some(db.url.clone()),
            exclude: Vec::new(),
        }))
        .expect("plan");
    assert!(
        outcome.plan.statements.is_empty(),
        "{} tables: not a no-op: {:?}",
        n,
        outcome.plan.statements.first()
    );
    assert!(outcome.plan.refused.is_empty());
    outcome.statements_sent
}

#[test]
fn catalog_queries_do_not_grow_with_the_schema() {
    let small = statements_for_noop_plan(10);
    let large = statements_for_noop_plan(300);
    assert_eq!(
        small, large,
        "statements sent for 10 tables: {small}, for 300: {large}"
    );
    // The catalog statements, BEGIN and the pinned settings (`Db::begin`),
    // the last apply's record in a savepoint (`against::settled_record`: a
    // database never applied has none, and its catalog is read), whether the
    // history records the files last applied, and their read in a savepoint
    // (sent with the rest, so read whether or not there is a history;
    // `history::last_applied_pipelined`); the catalog itself stays small.
    let catalog = reconcile::introspect::STATEMENTS;
    assert!(catalog <= 24, "the catalog is read in {catalog} statements");
    assert!(
        small <= catalog + 9,
        "a no-op plan sent {small} statements ({catalog} of the catalog)"
    );
}

/// The plan text of the example schema on an empty database, compared with a
/// golden file (`UPDATE_GOLDEN=1 cargo test` rewrites it after a deliberate change).
#[test]
fn example_plan_text_matches_the_golden_file() {
    let db = TestDb::new("golden");
    let r = crate::harness::run(&["plan", "--schema", "schema", "--database-url", &db.url]);
    assert_eq!(r.code, 0, "{r}");
    // The first line names the server, which changes from run to run.
    let text: String = r.stdout.lines().skip(1).map(|l| format!("{l}\n")).collect();
    let golden = repo().join("tests/golden/example_plan.txt");
    if std::env::var("UPDATE_GOLDEN").as_deref() == Ok("1") {
        std::fs::write(&golden, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    if expected != text {
        let diff = similar::TextDiff::from_lines(&expected, &text);
        panic!(
            "the plan text differs from {}:\n{}",
            golden.display(),
            diff.unified_diff().header("golden", "actual")
        );
    }
}

#[test]
fn detailed_exitcode_says_whether_changes_are_pending() {
    let db = TestDb::new("detailed");
    let schema = repo().join("schema");
    let s = schema.to_str().unwrap();
    let r = crate::harness::run(&[
        "plan",
        "--schema",
        s,
        "--database-url",
        &db.url,
        "--detailed-exitcode",
    ]);
    assert_eq!(r.code, 4, "{r}");
    let r = crate::harness::run(&["--apply", "--schema", s, "--database-url", &db.url]);
    assert_eq!(r.code, 0, "{r}");
    let r = crate::harness::run(&[
        "--plan",
        "--schema",
        s,
        "--database-url",
        &db.url,
        "--detailed-exitcode",
    ]);
    assert_eq!(r.code, 0, "{r}");
}

/// `reconcile plan | head -c 1`: a reader that goes away ends the output
/// quietly, and the exit code stays the plan's (4: changes pending), with a
/// plan larger than a pipe's buffer, so every run writes into a closed pipe;
/// in each format.
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::io::Read;
    let (dir, _) = synthetic(300);
    let db = TestDb::new("closed_pipe");
    for format in ["text", "sql", "json"] {
        let mut child = crate::harness::spawn(&[
            "plan",
            "--schema",
            dir.path().to_str().unwrap(),
            "--database-url",
            &db.url,
            "--detailed-exitcode",
            "--format",
            format,
        ]);
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 1];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{format}: {stderr}");
        assert_eq!(out.status.code(), Some(4), "{format}: {stderr}");
    }
}
