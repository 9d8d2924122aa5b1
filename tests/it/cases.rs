//! Case folders, run by one loop: `tests/cases/<name>/` holds `setup.sql`
//! (optional, run with psql), `schema/` (the files) and `case.toml`:
//!
//! ```toml
//! exit = 3                       # expected exit code of `reconcile plan`
//! stdout_contains = ["R003"]     # each must appear in the text output
//! stderr_contains = []           # each must appear on stderr
//! stdout_lacks = ["No changes"]  # none may appear in the text output
//! statements = ["add-column:t.x"]  # optional: exactly these step ids, in order
//! apply = true                   # optional: also `reconcile apply`, plain and --online
//! ```
//!
//! Every case also checks that plan changed nothing in the database, and a case
//! that exits 0 must converge: its SQL applied with psql, planning again is empty.
//! With `apply = true`, the case is also applied by `reconcile apply` and by
//! `reconcile apply --online`, each on a database of its own (setup.sql
//! loaded): each exits as `plan` did; at exit 0 planning again is empty, and
//! otherwise the database is left as it was.
//! A new bug becomes a new folder, not a new test function.

use std::path::Path;

use serde::Deserialize;

use crate::harness::{
    apply, plan_as, plan_json, plan_sql, repo, without_hostile_schema, Flavor, TestDb,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    exit: i32,
    #[serde(default)]
    stdout_contains: Vec<String>,
    #[serde(default)]
    stderr_contains: Vec<String>,
    /// Text that standard output must not hold.
    #[serde(default)]
    stdout_lacks: Vec<String>,
    statements: Option<Vec<String>>,
    /// Also apply with `reconcile apply`, plain and `--online`.
    #[serde(default)]
    apply: bool,
}

/// `reconcile apply` (with `extra`) of a case on a database of its own: it
/// exits `exit`; at 0 planning again is empty, otherwise nothing changed.
fn apply_case(dir: &Path, name: &str, flavor: Flavor, exit: i32, extra: &[&str]) -> Vec<String> {
    let db = TestDb::with_flavor(&format!("{name}_apply"), flavor);
    if dir.join("setup.sql").exists() {
        if let Err(e) = db.try_load_file(&dir.join("setup.sql")) {
            return vec![format!("apply {extra:?}: setup: {e}")];
        }
    }
    let before = db.schema_snapshot();
    let schema = dir.join("schema");
    let r = apply(&schema, &db, extra);
    let mut problems = Vec::new();
    if r.code != exit {
        problems.push(format!(
            "apply {extra:?} exit {} instead of {exit}:\n{r}",
            r.code
        ));
    }
    if exit == 0 {
        let (code, again) = plan_json(&schema, &db);
        let n = again["statements"].as_array().map_or(usize::MAX, Vec::len);
        if code != 0 || n != 0 {
            problems.push(format!("apply {extra:?} does not converge: {again:#}"));
        }
    } else if db.schema_snapshot() != before {
        problems.push(format!("apply {extra:?} changed the database"));
    }
    problems
}

/// [`run_case`], with a panic inside it (a database that cannot be created,
/// output that does not parse) turned into that case's failure, so the
/// report names the case and the other cases still run.
fn run_case(dir: &Path, flavor: Flavor) -> Result<String, String> {
    std::panic::catch_unwind(|| run_case_inner(dir, flavor)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(format!(
            "case {} ({flavor:?}) panicked: {message}",
            dir.file_name().unwrap_or_default().to_string_lossy()
        ))
    })
}

/// Run one case; what `reconcile plan` printed (exit code, text without its
/// first line, which names the server, and stderr), to compare across flavors.
fn run_case_inner(dir: &Path, flavor: Flavor) -> Result<String, String> {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let case: Case =
        toml::from_str(&std::fs::read_to_string(dir.join("case.toml")).map_err(|e| e.to_string())?)
            .map_err(|e| format!("case.toml: {e}"))?;
    let db = TestDb::with_flavor(&name, flavor);
    if dir.join("setup.sql").exists() {
        db.try_load_file(&dir.join("setup.sql"))
            .map_err(|e| format!("case {name}: setup: {e}"))?;
    }
    let before = db.schema_snapshot();
    let schema = dir.join("schema");
    let mut r = plan_as(&schema, &db, "text");
    if flavor == Flavor::HostilePath {
        r.stdout = without_hostile_schema(&r.stdout);
    }
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
    for s in &case.stdout_lacks {
        if r.stdout.contains(s.as_str()) {
            problems.push(format!("stdout holds {s:?}"));
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
    if case.apply && problems.is_empty() {
        for extra in [&[][..], &["--online"][..]] {
            problems.extend(apply_case(dir, &name, flavor, case.exit, extra));
        }
    }
    if problems.is_empty() {
        // The table's size estimate depends on when autovacuum last analyzed
        // it: not compared.
        let text: Vec<String> = r
            .stdout
            .lines()
            .skip(1)
            .map(|l| match l.trim_start().strip_prefix("[lock ") {
                Some(rest) => {
                    let parts: Vec<&str> = rest
                        .trim_end_matches(']')
                        .split("; ")
                        .filter(|p| {
                            !["rows", "bytes", " kB", " MB", " GB"]
                                .iter()
                                .any(|w| p.contains(w))
                        })
                        .collect();
                    format!("[lock {}]", parts.join("; "))
                }
                None => l.to_string(),
            })
            .collect();
        Ok(format!(
            "exit {}\n{}\n--- stderr\n{}",
            r.code,
            text.join("\n"),
            r.stderr.replace(&db.name, "<db>")
        ))
    } else {
        Err(format!("case {name}: {}\n{r}", problems.join("; ")))
    }
}

fn case_dirs() -> Vec<std::path::PathBuf> {
    let dirs = dirs_under("tests/cases");
    assert!(!dirs.is_empty(), "no case folders under tests/cases");
    dirs
}

/// The case folders under `folder`, sorted; none when it is absent (git
/// keeps no empty folder, so `tests/cases_pending/` goes with its last case).
fn dirs_under(folder: &str) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(repo().join(folder)) else {
        return Vec::new();
    };
    let mut dirs: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.toml").exists())
        .collect();
    dirs.sort();
    dirs
}

/// Every case folder, on databases that set `standard_conforming_strings =
/// off`, and a `search_path` whose first schema holds functions and
/// operators named like built-ins: each case passes, and `plan` prints
/// exactly what it prints on a database with PostgreSQL's defaults.
#[test]
fn case_folders_give_identical_results_under_hostile_session_settings() {
    let dirs = case_dirs();
    let outputs: Vec<Vec<Result<String, String>>> = std::thread::scope(|s| {
        let runs: Vec<_> = [Flavor::Plain, Flavor::ScsOff, Flavor::HostilePath]
            .into_iter()
            .map(|flavor| {
                let dirs = &dirs;
                s.spawn(move || dirs.iter().map(|d| run_case(d, flavor)).collect())
            })
            .collect();
        runs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut problems = Vec::new();
    for (flavor, results) in ["scs-off", "hostile-search-path"].iter().zip(&outputs[1..]) {
        for ((dir, plain), other) in dirs.iter().zip(&outputs[0]).zip(results) {
            let name = dir.file_name().unwrap().to_string_lossy();
            match (plain, other) {
                (Ok(a), Ok(b)) if a == b => {}
                (Ok(a), Ok(b)) => problems.push(format!(
                    "{name} under {flavor}: plan printed\n{b}\ninstead of\n{a}"
                )),
                (_, Err(e)) => problems.push(format!("{name} under {flavor}: {e}")),
                (Err(_), Ok(_)) => {} // reported by case_folders
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn case_folders() {
    let dirs = case_dirs();
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|d| run_case(d, Flavor::from_env()).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n\n")
    );
}

/// `tests/cases_pending/`: cases of faults not fixed yet (each folder's
/// `case.toml` says what the right result is). Each must still fail; one that
/// passes is fixed, and belongs in `tests/cases/`.
#[test]
fn pending_cases_still_fail() {
    let dirs = dirs_under("tests/cases_pending");
    let fixed: Vec<String> = dirs
        .iter()
        .filter(|d| run_case(d, Flavor::from_env()).is_ok())
        .map(|d| d.display().to_string())
        .collect();
    assert!(
        fixed.is_empty(),
        "these pending cases pass now: move them to tests/cases/\n{}",
        fixed.join("\n")
    );
}
