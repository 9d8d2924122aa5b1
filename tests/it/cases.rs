//! Case folders, run by one loop: `tests/cases/<name>/` holds `setup.sql`
//! (optional, run with psql), `schema/` (the files) and `case.toml`:
//!
//! ```toml
//! exit = 3                       # expected exit code of `reconcile plan`
//! stdout_contains = ["R003"]     # each must appear in the text output
//! stderr_contains = []           # each must appear on stderr
//! statements = ["add-column:t.x"]  # optional: exactly these step ids, in order
//! ```
//!
//! Every case also checks that plan changed nothing in the database, and a case
//! that exits 0 must converge: its SQL applied with psql, planning again is empty.
//! A new bug becomes a new folder, not a new test function.

use std::path::Path;

use serde::Deserialize;

use crate::harness::{plan_as, plan_json, plan_sql, repo, TestDb};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    exit: i32,
    #[serde(default)]
    stdout_contains: Vec<String>,
    #[serde(default)]
    stderr_contains: Vec<String>,
    statements: Option<Vec<String>>,
}

fn run_case(dir: &Path) -> Result<(), String> {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let case: Case =
        toml::from_str(&std::fs::read_to_string(dir.join("case.toml")).map_err(|e| e.to_string())?)
            .map_err(|e| format!("case.toml: {e}"))?;
    let db = TestDb::new(&name);
    if dir.join("setup.sql").exists() {
        db.try_load_file(&dir.join("setup.sql"))
            .map_err(|e| format!("case {name}: setup: {e}"))?;
    }
    let before = db.schema_snapshot();
    let schema = dir.join("schema");
    let r = plan_as(&schema, &db, "text");
    let mut problems = Vec::new();
    if r.code != case.exit {
        problems.push(format!("exit {} instead of {}", r.code, case.exit));
    }
    for s in &case.stdout_contains {
        if !r.stdout.contains(s.as_str()) {
            problems.push(format!("stdout lacks {s:?}"));
        }
    }
    for s in &case.stderr_contains {
        if !r.stderr.contains(s.as_str()) {
            problems.push(format!("stderr lacks {s:?}"));
        }
    }
    if r.stderr.contains("panicked") {
        problems.push("it panicked".into());
    }
    if case.exit == 0 || case.exit == 3 {
        let (_, plan) = plan_json(&schema, &db);
        if let Some(expected) = &case.statements {
            let ids: Vec<String> = plan["statements"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_string())
                .collect();
            if &ids != expected {
                problems.push(format!("statements {ids:?} instead of {expected:?}"));
            }
        }
    }
    if db.schema_snapshot() != before {
        problems.push("plan changed the database".into());
    }
    if problems.is_empty() && case.exit == 0 {
        let sql = plan_sql(&schema, &db);
        let file = std::env::temp_dir().join(format!("{}.sql", db.name));
        std::fs::write(&file, &sql).unwrap();
        let loaded = db.try_load_file(&file);
        let _ = std::fs::remove_file(&file);
        loaded.map_err(|e| format!("case {name}: the plan's SQL fails: {e}\n{sql}"))?;
        let (code, again) = plan_json(&schema, &db);
        let n = again["statements"].as_array().map_or(usize::MAX, Vec::len);
        if code != 0 || n != 0 {
            problems.push(format!("does not converge: {again:#}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("case {name}: {}\n{r}", problems.join("; ")))
    }
}

#[test]
fn case_folders() {
    let root = repo().join("tests/cases");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.toml").exists())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no case folders under {}", root.display());
    let failures: Vec<String> = dirs.iter().filter_map(|d| run_case(d).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n\n")
    );
}
