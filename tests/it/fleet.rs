//! Many databases at once (SPEC §4): `plan`, `apply` and `history` with
//! `--targets FILE` or `--targets-match PATTERN`, `--jobs N` at a time. One
//! database that is refused, unreachable or fails stops no other; nothing is
//! half-applied; the exit code is the worst result.

use std::path::Path;

use crate::harness::{cluster, free_port, run, schema_of, Run, TestDb};

/// Two tables; on a database that already has `calls` with duplicate `sid`s
/// the unique index fails after `notes` was created (a failure midway).
const FILES: &str = r#"
[tables.notes.columns]
id = { type = "bigserial", primary_key = true }

[tables.calls.columns]
id = { type = "bigint", primary_key = true }
sid = { type = "text" }
added = { type = "text" }

[tables.calls.indexes]
calls_sid_key = { columns = ["sid"], unique = true }
"#;

fn has_history_table(db: &TestDb) -> bool {
    db.query("SELECT to_regclass('_reconcile.history') IS NOT NULL") == ["t"]
}

/// A targets file holding `lines`, with a comment and a blank line.
fn targets_file(lines: &[String]) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    let mut text = String::from("# the fleet of this test\n\n");
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    std::fs::write(file.path(), text).unwrap();
    file
}

/// The output line of the database named `dbname` (`dbname=NAME ` in the target).
fn line_of<'a>(r: &'a Run, dbname: &str) -> &'a str {
    let key = format!("dbname={dbname} ");
    let found: Vec<&str> = r.stdout.lines().filter(|l| l.contains(&key)).collect();
    assert_eq!(found.len(), 1, "one line for {dbname}:\n{r}");
    found[0]
}

/// The lines of the databases, without their times, sorted.
fn results(r: &Run) -> Vec<String> {
    let mut out: Vec<String> = r
        .stdout
        .lines()
        .filter(|l| l.contains("dbname="))
        .map(|l| {
            let mut words: Vec<&str> = l.split_whitespace().collect();
            words.retain(|w| !w.ends_with("ms"));
            words.join(" ")
        })
        .collect();
    out.sort();
    out
}

/// The count of a summary row (`  applied   17`).
fn count(r: &Run, word: &str) -> usize {
    r.stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix(word))
        .filter_map(|rest| rest.trim().parse().ok())
        .next_back()
        .unwrap_or_else(|| panic!("no summary row {word:?}:\n{r}"))
}

fn apply_fleet(schema: &Path, targets: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "apply",
        "--schema",
        schema.to_str().unwrap(),
        "--targets",
        targets.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn a_fleet_of_twenty_applies_seventeen_and_reports_the_three_others() {
    let schema = schema_of(FILES);
    let dbs: Vec<TestDb> = (0..19).map(|_| TestDb::new("fleet20")).collect();
    // One refused: `sid` is an integer there, the files say text.
    let refused = &dbs[0];
    refused.sql("CREATE TABLE calls (id bigint PRIMARY KEY, sid integer)");
    // One that fails midway: duplicates under the unique index.
    let failing = &dbs[1];
    failing.sql(
        "CREATE TABLE calls (id bigint PRIMARY KEY, sid text); INSERT INTO calls VALUES (1, 'a'), (2, 'a')",
    );
    let refused_before = refused.schema_snapshot();
    let failing_before = failing.schema_snapshot();
    // One unreachable: a closed port (and a password, never shown).
    let port = free_port();
    let unreachable = format!("postgres://fleet:hunter2@127.0.0.1:{port}/gone");
    let mut lines: Vec<String> = dbs.iter().map(|d| d.url.clone()).collect();
    lines.insert(7, unreachable);
    let targets = targets_file(&lines);

    // No terminal: it applies without asking.
    let r = apply_fleet(schema.path(), targets.path(), &[]);
    assert_eq!(r.code, 1, "{r}");
    assert!(
        !r.stdout.contains("hunter2") && !r.stderr.contains("hunter2"),
        "{r}"
    );
    assert!(!r.stdout.contains("[y/N]"), "{r}");
    for d in &dbs[2..] {
        let l = line_of(&r, &d.name);
        assert!(l.starts_with("applied "), "{l}");
        assert!(l.contains(" 3 statement(s)"), "{l}");
        assert_eq!(d.history_count(), 1, "{}", d.name);
        assert_eq!(
            d.query("SELECT count(*) FROM pg_indexes WHERE indexname = 'calls_sid_key'"),
            ["1"]
        );
    }
    let l = line_of(&r, &refused.name);
    assert!(l.starts_with("refused "), "{l}");
    assert!(l.contains("refused by R0"), "the rule is not named: {l}");
    let l = line_of(&r, &failing.name);
    assert!(l.starts_with("failed "), "{l}");
    assert!(
        l.contains("calls_sid_key"),
        "the failing statement is not named: {l}"
    );
    assert!(l.contains("could not create unique index"), "{l}");
    let l = line_of(&r, "gone");
    assert!(l.starts_with("failed "), "{l}");
    assert!(
        l.contains(&format!("port={port}")) && l.contains("cannot connect"),
        "{l}"
    );
    assert_eq!(
        (
            count(&r, "applied"),
            count(&r, "up to date"),
            count(&r, "refused"),
            count(&r, "failed")
        ),
        (17, 0, 1, 2),
        "{r}"
    );
    assert!(r.stdout.contains("20 database(s)"), "{r}");
    // Nothing half-applied where it failed or was refused.
    assert_eq!(
        failing.schema_snapshot(),
        failing_before,
        "part of the plan remains"
    );
    assert!(!has_history_table(failing));
    assert_eq!(refused.schema_snapshot(), refused_before);

    // Again: nothing new, the same three reported.
    let again = apply_fleet(schema.path(), targets.path(), &["--yes"]);
    assert_eq!(again.code, 1, "{again}");
    assert_eq!(
        (
            count(&again, "applied"),
            count(&again, "up to date"),
            count(&again, "refused"),
            count(&again, "failed")
        ),
        (0, 17, 1, 2),
        "{again}"
    );
    for d in &dbs[2..] {
        assert!(line_of(&again, &d.name).starts_with("up to date "));
        assert_eq!(d.history_count(), 1, "a no-op apply recorded history");
    }
    assert!(line_of(&again, &refused.name).starts_with("refused "));
    assert!(line_of(&again, &failing.name).starts_with("failed "));
    assert!(line_of(&again, "gone").starts_with("failed "));
    assert_eq!(failing.schema_snapshot(), failing_before);
}

#[test]
fn targets_match_takes_the_databases_of_a_like_pattern_and_jobs_change_nothing() {
    let schema = schema_of(FILES);
    let dbs: Vec<TestDb> = (0..3).map(|_| TestDb::new("fleetmatch")).collect();
    let other = TestDb::new("fleetmatcx");
    let prefix = dbs[0].name.rsplit_once('_').unwrap().0.replace('_', "\\_");
    let pattern = format!("{prefix}\\_%");
    let plan = |extra: &[&str]| {
        let mut args = vec![
            "plan",
            "--schema",
            schema.path().to_str().unwrap(),
            "--targets-match",
            &pattern,
            "--database-url",
            &cluster().admin_url,
            "--detailed-exitcode",
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let serial = plan(&["--jobs", "1"]);
    assert_eq!(serial.code, 4, "{serial}");
    assert!(
        serial.stdout.contains("3 database(s), 1 at a time"),
        "{serial}"
    );
    let parallel = plan(&[]);
    assert_eq!(parallel.code, 4, "{parallel}");
    assert!(
        parallel.stdout.contains("3 database(s), 3 at a time"),
        "{parallel}"
    );
    assert_eq!(results(&serial), results(&parallel));
    for d in &dbs {
        assert!(
            line_of(&serial, &d.name).starts_with("pending "),
            "{serial}"
        );
    }
    assert!(!serial.stdout.contains(&other.name), "{serial}");

    // JSON: each database's result and its plan as `plan --format json` gives it.
    let json = plan(&["--format", "json"]);
    assert_eq!(json.code, 4, "{json}");
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect(&json.stdout);
    let targets = v["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), 3, "{v:#}");
    for t in targets {
        assert_eq!(t["result"], "pending", "{t:#}");
        assert_eq!(t["exitCode"], 4, "{t:#}");
        assert_eq!(t["statements"], 3, "{t:#}");
        assert!(t["durationMs"].is_u64(), "{t:#}");
        assert!(t["target"]
            .as_str()
            .unwrap()
            .contains("dbname=t_fleetmatch_"));
        assert_eq!(t["answer"]["summary"]["statements"], 3, "{t:#}");
        assert_eq!(t["answer"]["statements"].as_array().map(Vec::len), Some(3));
    }
    assert_eq!(v["summary"]["databases"], 3, "{v:#}");
    assert_eq!(v["summary"]["pending"], 3, "{v:#}");
    assert_eq!(v["summary"]["exitCode"], 4, "{v:#}");
    assert_eq!(v["exitCode"], 4, "{v:#}");
    assert_eq!(v["success"], false, "{v:#}");

    // Apply through the pattern, as JSON: `answer` is what `apply --format json` prints.
    let applied = run(&[
        "apply",
        "--schema",
        schema.path().to_str().unwrap(),
        "--targets-match",
        &pattern,
        "--database-url",
        &cluster().admin_url,
        "--format",
        "json",
        "--jobs",
        "2",
    ]);
    assert_eq!(applied.code, 0, "{applied}");
    let v: serde_json::Value = serde_json::from_str(&applied.stdout).expect(&applied.stdout);
    assert_eq!(v["summary"]["applied"], 3, "{v:#}");
    assert_eq!(v["success"], true, "{v:#}");
    for t in v["targets"].as_array().unwrap() {
        assert_eq!(t["result"], "applied", "{t:#}");
        assert_eq!(t["answer"]["success"], true, "{t:#}");
        assert_eq!(
            t["answer"]["result"]["executed"].as_array().map(Vec::len),
            Some(3)
        );
    }
    for d in &dbs {
        assert_eq!(d.history_count(), 1);
    }
    assert!(
        !has_history_table(&other),
        "a database outside the pattern was applied"
    );

    // Nothing matching: an input error.
    let none = run(&[
        "plan",
        "--schema",
        schema.path().to_str().unwrap(),
        "--targets-match",
        "no\\_such\\_database\\_%",
        "--database-url",
        &cluster().admin_url,
    ]);
    assert_eq!(none.code, 2, "{none}");
    assert!(none.stderr.contains("no database of host="), "{none}");
}

#[test]
fn a_bad_targets_file_is_an_input_error_naming_file_and_line() {
    let schema = schema_of(FILES);
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.txt");
    let r = apply_fleet(schema.path(), &missing, &["--yes"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("missing.txt: cannot read"), "{r}");

    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "# nothing yet\n\n").unwrap();
    let r = apply_fleet(schema.path(), &empty, &["--yes"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("empty.txt: no connection string"), "{r}");

    let db = TestDb::new("fleetbad");
    let bad = dir.path().join("bad.txt");
    std::fs::write(
        &bad,
        format!(
            "{}\n# next: a typo\nhost=h dbnme=x password=hunter2\n",
            db.url
        ),
    )
    .unwrap();
    let r = apply_fleet(schema.path(), &bad, &["--yes"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("bad.txt:3: "), "{r}");
    assert!(r.stderr.contains("dbnme"), "{r}");
    assert!(!r.stderr.contains("hunter2"), "{r}");
    // Nothing ran anywhere, not even on the good line.
    assert!(!has_history_table(&db), "{r}");
    // As JSON: the error object.
    let r = apply_fleet(schema.path(), &bad, &["--format", "json"]);
    assert_eq!(r.code, 2, "{r}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect(&r.stdout);
    assert_eq!(v["success"], false);
    assert_eq!(v["exitCode"], 2);
    assert!(
        v["error"].as_str().unwrap().contains("bad.txt:3: "),
        "{v:#}"
    );

    // --targets and --database-url together: an input error.
    let good = targets_file(std::slice::from_ref(&db.url));
    let r = apply_fleet(schema.path(), good.path(), &["--database-url", &db.url]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("--database-url"), "{r}");
    // --targets-match and --targets together: refused by the parser.
    let r = apply_fleet(schema.path(), good.path(), &["--targets-match", "x%"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(!has_history_table(&db));
}

#[test]
fn history_over_targets_reads_each_database() {
    let schema = schema_of(FILES);
    let applied = TestDb::new("fleethist");
    let untouched = TestDb::new("fleethist");
    let one = targets_file(std::slice::from_ref(&applied.url));
    let r = apply_fleet(schema.path(), one.path(), &["--yes"]);
    assert_eq!(r.code, 0, "{r}");
    let both = targets_file(&[applied.url.clone(), untouched.url.clone()]);
    let r = run(&["history", "--targets", both.path().to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r}");
    let l = line_of(&r, &applied.name);
    assert!(l.starts_with("read ") && l.contains("1 entry"), "{l}");
    assert!(l.contains("cli apply, 3 statement(s)"), "{l}");
    let l = line_of(&r, &untouched.name);
    assert!(
        l.contains("0 entries") && l.contains("no applied plan recorded"),
        "{l}"
    );
    let r = run(&[
        "history",
        "--targets",
        both.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{r}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect(&r.stdout);
    let targets = v["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    for t in targets {
        let entries = t["answer"].as_array().expect("entries");
        assert_eq!(t["entries"], entries.len(), "{t:#}");
        let target = t["target"].as_str().unwrap();
        let expected = if target.contains(&format!("dbname={} ", applied.name)) {
            1
        } else {
            0
        };
        assert_eq!(entries.len(), expected, "{t:#}");
    }
    assert_eq!(v["summary"]["read"], 2, "{v:#}");
}

#[test]
fn on_a_terminal_a_fleet_apply_asks_once_and_applies_only_what_was_shown() {
    use crate::harness::on_a_terminal;
    let schema = schema_of(FILES);
    let pending = TestDb::new("fleettty");
    let also = TestDb::new("fleettty");
    let port = free_port();
    let targets = targets_file(&[
        pending.url.clone(),
        also.url.clone(),
        format!("postgres://postgres@127.0.0.1:{port}/gone"),
    ]);
    let args = [
        "apply",
        "--schema",
        schema.path().to_str().unwrap(),
        "--targets",
        targets.path().to_str().unwrap(),
    ];
    let out = on_a_terminal(&args, "n\n");
    assert_eq!(
        out.matches("[y/N]").count(),
        1,
        "one question for the fleet:\n{out}"
    );
    assert!(
        out.contains("Apply the plans above to the 2 database(s) with changes? [y/N]"),
        "{out}"
    );
    assert!(out.contains("Nothing was applied."), "{out}");
    assert!(
        !has_history_table(&pending) && !has_history_table(&also),
        "{out}"
    );
    let out = on_a_terminal(&args, "y\n");
    assert_eq!(out.matches("[y/N]").count(), 1, "{out}");
    assert!(out.contains("Applying to 2 database(s)"), "{out}");
    assert_eq!(pending.history_count(), 1, "{out}");
    assert_eq!(also.history_count(), 1, "{out}");
    // Planned again: nothing left to apply, and no question.
    let out = on_a_terminal(&args, "");
    assert!(out.contains("Nothing to apply."), "{out}");
    assert!(!out.contains("[y/N]"), "{out}");
}

#[test]
fn apply_online_over_targets_builds_each_index_concurrently() {
    let schema = schema_of(FILES);
    let dbs: Vec<TestDb> = (0..2).map(|_| TestDb::new("fleetonline")).collect();
    for d in &dbs {
        d.sql("CREATE TABLE calls (id bigint PRIMARY KEY, sid text); INSERT INTO calls SELECT g, g::text FROM generate_series(1, 100) g");
    }
    let targets = targets_file(&dbs.iter().map(|d| d.url.clone()).collect::<Vec<_>>());
    let r = apply_fleet(
        schema.path(),
        targets.path(),
        &["--online", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{r}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect(&r.stdout);
    assert_eq!(v["summary"]["applied"], 2, "{v:#}");
    for t in v["targets"].as_array().unwrap() {
        // The online answer has its phases, as `apply --online --format json`.
        assert!(
            t["answer"]["result"]["phases"]
                .as_array()
                .is_some_and(|p| !p.is_empty()),
            "{t:#}"
        );
    }
    for d in &dbs {
        assert_eq!(
            d.query("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'calls_sid_key'"),
            ["t"]
        );
        assert_eq!(
            d.query("SELECT DISTINCT mode FROM _reconcile.history"),
            ["online"]
        );
    }
}

/// `check` over a fleet with `$GITHUB_STEP_SUMMARY` set: the binary as the
/// harness runs it, plus that variable.
fn check_fleet(args: &[&str], summary: &Path) -> Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_reconcile"))
        .current_dir(crate::harness::repo())
        .arg("check")
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("PGHOST")
        .env_remove("PGDATABASE")
        .env("GITHUB_STEP_SUMMARY", summary)
        .output()
        .expect("run reconcile");
    Run::from(out)
}

#[test]
fn check_over_targets_passes_pending_changes_and_fails_on_a_refused_or_unreachable_database() {
    let schema = schema_of(FILES);
    let s = schema.path().to_str().unwrap();
    let dbs: Vec<TestDb> = (0..3).map(|_| TestDb::new("fleetcheck")).collect();
    // dbs[0]: empty (changes to run, which pass); dbs[1]: up to date;
    // dbs[2]: `sid` an integer, the files say text (refused).
    let up = run(&["apply", "--schema", s, "--database-url", &dbs[1].url]);
    assert_eq!(up.code, 0, "{up}");
    dbs[2].sql("CREATE TABLE calls (id bigint PRIMARY KEY, sid integer)");
    let before: Vec<_> = dbs.iter().map(|d| d.schema_snapshot()).collect();
    let summary_dir = tempfile::tempdir().unwrap();
    let summary = summary_dir.path().join("summary.md");

    // Passing: the two databases without refusals (pending changes pass).
    let good = targets_file(&[dbs[0].url.clone(), dbs[1].url.clone()]);
    let r = check_fleet(
        &["--schema", s, "--targets", good.path().to_str().unwrap()],
        &summary,
    );
    assert_eq!(r.code, 0, "{r}");
    assert!(line_of(&r, &dbs[0].name).starts_with("pending "), "{r}");
    assert!(line_of(&r, &dbs[1].name).starts_with("up to date "), "{r}");
    let md = std::fs::read_to_string(&summary).expect("a step summary");
    assert!(md.contains("passed on 2 database(s)"), "{md}");

    // With the refused one: exit 3, an annotation naming it and its rule.
    let port = free_port();
    let unreachable = format!("postgres://fleet:hunter2@127.0.0.1:{port}/gone");
    let three = targets_file(&[dbs[0].url.clone(), dbs[1].url.clone(), dbs[2].url.clone()]);
    let r = check_fleet(
        &[
            "--schema",
            s,
            "--targets",
            three.path().to_str().unwrap(),
            "--format",
            "github",
        ],
        &summary,
    );
    assert_eq!(r.code, 3, "{r}");
    let annotations: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(annotations.len(), 1, "{r}");
    assert!(annotations[0].contains("refused by R003"), "{r}");
    assert!(
        annotations[0].contains(&format!("dbname={}", dbs[2].name)),
        "{r}"
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("1 of 3 database(s) did not pass"), "{md}");

    // An unreachable one is worse (1); JSON gives each database.
    let four = targets_file(&[
        dbs[0].url.clone(),
        unreachable,
        dbs[1].url.clone(),
        dbs[2].url.clone(),
    ]);
    let r = check_fleet(
        &[
            "--schema",
            s,
            "--targets",
            four.path().to_str().unwrap(),
            "--format",
            "json",
            "--jobs",
            "2",
        ],
        &summary,
    );
    assert_eq!(r.code, 1, "{r}");
    assert!(!r.stdout.contains("hunter2"), "{r}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect(&r.stdout);
    let mut results: Vec<String> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["result"].as_str().unwrap().to_string())
        .collect();
    results.sort();
    assert_eq!(
        results,
        ["failed", "pending", "refused", "upToDate"],
        "{v:#}"
    );
    assert_eq!(v["summary"]["refused"], 1, "{v:#}");
    assert_eq!(v["summary"]["failed"], 1, "{v:#}");
    assert_eq!(v["exitCode"], 1, "{v:#}");

    // A check changes nothing.
    for (d, b) in dbs.iter().zip(&before) {
        assert_eq!(&d.schema_snapshot(), b, "{}", d.name);
    }
    assert!(!has_history_table(&dbs[0]), "a check applied");

    // Through a pattern: --database-url names the server; without it, exit 2.
    let prefix = dbs[0].name.rsplit_once('_').unwrap().0.replace('_', "\\_");
    let pattern = format!("{prefix}\\_%");
    let r = check_fleet(
        &[
            "--schema",
            s,
            "--targets-match",
            &pattern,
            "--database-url",
            &cluster().admin_url,
        ],
        &summary,
    );
    assert_eq!(r.code, 3, "{r}");
    assert!(r.stdout.contains("3 database(s)"), "{r}");
    let r = check_fleet(&["--schema", s, "--targets-match", &pattern], &summary);
    assert_eq!(r.code, 2, "{r}");
    assert!(
        r.stderr.contains("--targets-match needs --database-url"),
        "{r}"
    );
    // Not with the files' other comparisons.
    let r = check_fleet(
        &[
            "--schema",
            s,
            "--targets",
            good.path().to_str().unwrap(),
            "--from",
            s,
        ],
        &summary,
    );
    assert_eq!(r.code, 2, "{r}");
}
