//! The command line as people and scripts meet it (issue 21): colour on a
//! terminal and never with `NO_COLOR`, shell completions, `--version` with
//! the commit, `.env`, the words when nothing names a database or the schema
//! directory is missing, and `--format json` everywhere with camelCase keys
//! (an error under it a JSON object on stdout, the exit code unchanged).

use std::path::Path;
use std::process::Command;

use crate::harness::{not_camel_case, on_a_terminal_with, repo, run, schema_of, Run, TestDb};

const ESC: char = '\u{1b}';

/// A schema whose plan against a table with a row has a statement to run,
/// a hazard and a refusal (R003).
const FILES: &str = r#"
[tables.visits]
columns.id = { type = "bigint" }
columns.note = { type = "text" }
indexes.visits_note_idx = { columns = ["note"] }
"#;

fn db_with_a_refusal(name: &str) -> TestDb {
    let db = TestDb::new(name);
    db.sql("CREATE TABLE visits (id integer); INSERT INTO visits VALUES (1)");
    db
}

/// The binary in `dir`, with only `vars` of DATABASE_URL, the libpq
/// variables, NO_COLOR and HOME set.
fn run_in(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_reconcile"));
    c.current_dir(dir).args(args).env("HOME", dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("PG") || k == "DATABASE_URL" || k == "NO_COLOR" {
            c.env_remove(k);
        }
    }
    c.envs(vars.iter().copied());
    Run::from(c.output().expect("run reconcile"))
}

#[test]
fn colour_on_a_terminal_never_with_no_color_or_a_pipe() {
    let db = db_with_a_refusal("cli_colour");
    let dir = schema_of(FILES);
    let schema = dir.path().to_str().unwrap();
    let args = ["plan", "--schema", schema, "--database-url", &db.url];
    let coloured = on_a_terminal_with(&args, "", &[]);
    assert!(coloured.contains("R003"), "{coloured}");
    // Refusal red, statement green, hazard yellow.
    assert!(
        coloured.contains("\u{1b}[1m\u{1b}[31m  R003"),
        "{coloured:?}"
    );
    assert!(
        coloured.contains("\u{1b}[32m    + CREATE INDEX"),
        "{coloured:?}"
    );
    assert!(coloured.contains("\u{1b}[33m      [lock"), "{coloured:?}");
    let no_color = on_a_terminal_with(&args, "", &[("NO_COLOR", "1")]);
    assert!(
        no_color.contains("R003") && !no_color.contains(ESC),
        "{no_color:?}"
    );
    let never: Vec<&str> = args.iter().copied().chain(["--color", "never"]).collect();
    let plain = on_a_terminal_with(&never, "", &[]);
    assert!(plain.contains("R003") && !plain.contains(ESC), "{plain:?}");
    // NO_COLOR wins over --color always.
    let always: Vec<&str> = args.iter().copied().chain(["--color", "always"]).collect();
    let plain = on_a_terminal_with(&always, "", &[("NO_COLOR", "1")]);
    assert!(!plain.contains(ESC), "{plain:?}");
    // A pipe gets no colour, unless asked.
    let piped = run(&args);
    assert_eq!(piped.code, 3, "{piped}");
    assert!(!piped.stdout.contains(ESC), "{piped}");
    let asked = run(&always);
    assert!(asked.stdout.contains(ESC), "{asked}");
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell]);
        assert_eq!(out.code, 0, "{shell}: {out}");
        for word in ["reconcile", "prune", "database-url", "expect-plan"] {
            assert!(out.stdout.contains(word), "{shell} lacks {word}: {out}");
        }
    }
    assert_eq!(run(&["completions", "tcsh"]).code, 2);
}

#[test]
fn version_names_the_commit() {
    let out = run(&["--version"]);
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout
            .starts_with(&format!("reconcile {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
    let head = Command::new("git")
        .current_dir(repo())
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        Some(head) => assert!(out.stdout.contains(&head), "not {head}: {out}"),
        None => assert!(out.stdout.contains("(commit unknown)"), "{out}"),
    }
}

#[test]
fn dotenv_gives_database_url_and_says_so() {
    let db = TestDb::new("cli_dotenv");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("schema")).unwrap();
    std::fs::write(dir.path().join("schema/visits.toml"), FILES).unwrap();
    std::fs::write(
        dir.path().join(".env"),
        format!("# the app's settings\nPORT=3000\nDATABASE_URL={}\n", db.url),
    )
    .unwrap();
    let out = run_in(dir.path(), &["plan"], &[]);
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.contains("(DATABASE_URL from ./.env)"), "{out}");
    assert!(out.stdout.contains("CREATE TABLE public.visits"), "{out}");
    // The environment wins over the file.
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=postgres://nobody@127.0.0.1:1/none\n",
    )
    .unwrap();
    let out = run_in(dir.path(), &["plan"], &[("DATABASE_URL", &db.url)]);
    assert_eq!(out.code, 0, "{out}");
    assert!(!out.stdout.contains(".env"), "{out}");
    // A line that is not NAME=value: exit 2, naming the file and the line,
    // never a value (the rest of a .env holds secrets).
    std::fs::write(
        dir.path().join(".env"),
        "PORT=3000\nDATABASE_URL='unclosed\nADMIN_TOKEN=hunter2hunter2\n",
    )
    .unwrap();
    let out = run_in(dir.path(), &["plan"], &[]);
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains(".env:2:"), "{out}");
    assert!(out.stderr.contains("DATABASE_URL"), "{out}");
    assert!(
        !out.stderr.contains("hunter2") && !out.stderr.contains("unclosed"),
        "{out}"
    );
    let out = run_in(dir.path(), &["plan", "--format", "json"], &[]);
    assert_eq!(out.code, 2, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("a JSON error");
    assert!(v["error"].as_str().unwrap().contains(".env:2:"), "{out}");
    // Help, the version and completions do not need it.
    assert_eq!(run_in(dir.path(), &["--version"], &[]).code, 0);
    assert_eq!(run_in(dir.path(), &["completions", "fish"], &[]).code, 0);
}

#[test]
fn nothing_to_connect_to_says_database_url_is_unset() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("schema")).unwrap();
    std::fs::write(dir.path().join("schema/visits.toml"), FILES).unwrap();
    // A socket directory where no server listens.
    let out = run_in(
        dir.path(),
        &["plan"],
        &[("PGHOST", dir.path().to_str().unwrap())],
    );
    assert_eq!(out.code, 1, "{out}");
    assert!(!out.stderr.contains("DATABASE_URL is not set"), "{out}");
    let out = run_in(dir.path(), &["plan"], &[]);
    assert_eq!(out.code, 1, "{out}");
    assert!(out.stderr.contains("DATABASE_URL is not set"), "{out}");
    assert!(out.stderr.contains("--database-url postgres://"), "{out}");
}

#[test]
fn a_missing_schema_directory_says_what_is_expected() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["plan"], &[]);
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("no such schema directory"), "{out}");
    assert!(out.stderr.contains("default: ./schema"), "{out}");
    assert!(!out.stderr.contains(":0:0"), "{out}");
    std::fs::create_dir(dir.path().join("schema")).unwrap();
    let out = run_in(dir.path(), &["plan"], &[]);
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("no schema file (*.toml)"), "{out}");
}

/// `stdout` parsed as JSON, every key camelCase (no `_`, no space); keys of
/// `timings` are step ids, not names of ours.
fn camel_json(what: &str, run: &Run) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {run}"));
    let bad = not_camel_case(&v);
    assert!(bad.is_empty(), "{what}: keys not camelCase: {bad:?}\n{run}");
    v
}

#[test]
fn json_everywhere_camel_case_and_errors_as_json() {
    let db = db_with_a_refusal("cli_json");
    let dir = schema_of(FILES);
    let schema = dir.path().to_str().unwrap();
    let url = db.url.as_str();
    let conn = ["--schema", schema, "--database-url", url];
    let with = |head: &[&str], tail: &[&str]| -> Vec<String> {
        head.iter()
            .chain(conn.iter())
            .chain(tail.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let go = |args: Vec<String>| run(&args.iter().map(String::as_str).collect::<Vec<_>>());

    let plan = go(with(&["plan"], &["--format", "json"]));
    assert_eq!(plan.code, 3, "{plan}");
    let v = camel_json("plan", &plan);
    assert!(v["refused"][0]["safePath"].is_string(), "{plan}");

    let refused = go(with(&["apply"], &["--format", "json"]));
    assert_eq!(refused.code, 3, "{refused}");
    let v = camel_json("apply refused", &refused);
    assert_eq!(v["success"], false, "{refused}");
    assert_eq!(v["blocked"], true, "{refused}");
    assert_eq!(v["exitCode"], 3, "{refused}");
    let nothing_recorded = db.query("SELECT to_regclass('_reconcile.history') IS NULL");
    assert_eq!(nothing_recorded, ["t"], "{refused}");

    db.sql("DROP TABLE visits");
    let applied = go(with(&["apply"], &["--format", "json"]));
    assert_eq!(applied.code, 0, "{applied}");
    let v = camel_json("apply", &applied);
    assert_eq!(v["success"], true, "{applied}");
    assert!(
        v["result"]["executed"]
            .as_array()
            .is_some_and(|e| e.iter().any(|id| id.as_str().unwrap().contains("visits"))),
        "{applied}"
    );
    assert_eq!(db.history_count(), 1);

    let history = run(&["history", "--format", "json", "--database-url", url]);
    assert_eq!(history.code, 0, "{history}");
    camel_json("history", &history);

    let check = run(&[
        "check",
        "--schema",
        schema,
        "--database-url",
        url,
        "--format",
        "json",
    ]);
    assert_eq!(check.code, 0, "{check}");
    camel_json("check", &check);

    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().join("dumped");
    let dump = run(&[
        "dump",
        "--database-url",
        url,
        "--out",
        out_dir.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(dump.code, 0, "{dump}");
    let v = camel_json("dump", &dump);
    assert_eq!(v["result"]["files"][0], "visits.toml", "{dump}");
    assert!(out_dir.join("visits.toml").is_file());

    // Errors under --format json: an object on stdout, the exit code kept.
    let bad = run(&[
        "plan",
        "--format",
        "json",
        "--schema",
        "/no/such/dir",
        "--database-url",
        url,
    ]);
    assert_eq!(bad.code, 2, "{bad}");
    let v = camel_json("plan error", &bad);
    assert_eq!(
        (v["success"].clone(), v["exitCode"].clone()),
        (false.into(), 2.into())
    );
    assert!(v["diagnostics"][0]["message"].is_string(), "{bad}");
    // A bad argument too.
    let bad = run(&["plan", "--format", "json", "--lock-timeout", "5s"]);
    assert_eq!(bad.code, 2, "{bad}");
    let v = camel_json("usage error", &bad);
    assert!(
        v["error"].as_str().unwrap().contains("--lock-timeout"),
        "{bad}"
    );
    let unreachable = "postgres://nobody@127.0.0.1:1/none?connect_timeout=2";
    for (what, head) in [
        ("history", vec!["history"]),
        ("apply", vec!["apply", "--schema", schema]),
        ("dump", vec!["dump", "--out", "x"]),
        ("check", vec!["check", "--schema", schema]),
    ] {
        let args: Vec<&str> = head
            .into_iter()
            .chain(["--format", "json", "--database-url", unreachable])
            .collect();
        let out = run(&args);
        assert_eq!(out.code, 1, "{what}: {out}");
        let v = camel_json(what, &out);
        assert_eq!(v["success"], false, "{what}: {out}");
        assert!(
            v["error"].as_str().unwrap().contains("unreachable"),
            "{what}: {out}"
        );
    }
}

/// A column marked `deprecated`, applied, then gone from the files: what
/// `prune` drops.
const LEADS: &str = r#"
[tables.leads]
columns.id = { type = "bigint", primary_key = true }
columns.fax = { type = "text", deprecated = "nobody faxes" }
"#;

/// `prune --format json` never asks: without --yes it drops nothing (exit 2,
/// the ids and the hash it would drop in the answer); with --yes it prints
/// what `POST /__admin/prune` answers; an error is a JSON object on stdout
/// with the exit code unchanged. Every key camelCase.
#[test]
fn prune_answers_json_and_never_asks() {
    let db = TestDb::new("cli_prune_json");
    let dir = schema_of(LEADS);
    assert_eq!(crate::harness::apply(dir.path(), &db, &[]).code, 0);
    std::fs::write(
        dir.path().join("schema.toml"),
        LEADS.replace(
            "columns.fax = { type = \"text\", deprecated = \"nobody faxes\" }\n",
            "",
        ),
    )
    .unwrap();
    assert_eq!(crate::harness::apply(dir.path(), &db, &[]).code, 0);
    let schema = dir.path().to_str().unwrap();
    let fax = || {
        db.query("SELECT count(*) FROM pg_attribute WHERE attrelid = 'leads'::regclass AND attname = 'fax'")
    };
    let args = ["prune", "--schema", schema, "--database-url", &db.url];
    let json: Vec<&str> = args.iter().copied().chain(["--format", "json"]).collect();

    let asked = run(&json);
    assert_eq!(asked.code, 2, "{asked}");
    let v = camel_json("prune without --yes", &asked);
    assert_eq!(v["success"], false, "{asked}");
    assert_eq!(v["exitCode"], 2, "{asked}");
    assert!(v["error"].as_str().unwrap().contains("--yes"), "{asked}");
    assert_eq!(v["wouldExecute"][0], "drop-column:leads.fax", "{asked}");
    let hash = v["planHash"].as_str().unwrap().to_string();
    assert_eq!(fax(), ["1"], "{asked}");

    let stale: Vec<&str> = json
        .iter()
        .copied()
        .chain(["--yes", "--expect-plan", "0000000000000000"])
        .collect();
    let stale = run(&stale);
    assert_eq!(stale.code, 3, "{stale}");
    let v = camel_json("prune with a stale hash", &stale);
    assert_eq!(
        (v["success"].clone(), v["exitCode"].clone()),
        (false.into(), 3.into()),
        "{stale}"
    );
    assert_eq!(v["planHash"], hash.as_str(), "{stale}");
    assert_eq!(fax(), ["1"], "{stale}");

    let yes: Vec<&str> = json.iter().copied().chain(["--yes"]).collect();
    let pruned = run(&yes);
    assert_eq!(pruned.code, 0, "{pruned}");
    let v = camel_json("prune", &pruned);
    assert_eq!(v["success"], true, "{pruned}");
    assert_eq!(
        v["result"]["executed"][0], "drop-column:leads.fax",
        "{pruned}"
    );
    assert_eq!(v["result"]["planHash"], hash.as_str(), "{pruned}");
    assert!(v["result"]["totalTime"].is_string(), "{pruned}");
    assert_eq!(fax(), ["0"], "{pruned}");
    let history = run(&["history", "--format", "json", "--database-url", &db.url]);
    assert_eq!(history.code, 0, "{history}");
    let v = camel_json("history", &history);
    assert_eq!(v[0]["via"], "cli prune", "{history}");

    // Nothing left to drop: a success without --yes, nothing executed.
    let again = run(&json);
    assert_eq!(again.code, 0, "{again}");
    let v = camel_json("prune of nothing", &again);
    assert_eq!(v["result"]["executed"], serde_json::json!([]), "{again}");

    let unreachable = "postgres://nobody@127.0.0.1:1/none?connect_timeout=2";
    let out = run(&[
        "prune",
        "--schema",
        schema,
        "--yes",
        "--format",
        "json",
        "--database-url",
        unreachable,
    ]);
    assert_eq!(out.code, 1, "{out}");
    let v = camel_json("prune unreachable", &out);
    assert!(
        v["error"].as_str().unwrap().contains("unreachable"),
        "{out}"
    );
    assert!(out.stderr.is_empty(), "{out}");
}

/// The JSON answers `json_everywhere_camel_case_and_errors_as_json` does not
/// reach, each walked for a key that is not camelCase: a plan with unmanaged
/// objects of many kinds, `check` with refusals (against a directory and a
/// database), `apply --online`, `history --verbose`, the fleet's plan, apply
/// and history, and `plan`'s own errors (files, connection).
#[test]
fn every_other_json_answer_is_camel_case() {
    let db = db_with_a_refusal("cli_json_more");
    db.sql(
        "CREATE TYPE stray_range AS RANGE (subtype = float8, subtype_diff = float8mi); \
         CREATE TYPE stray_pair AS (a int, b text); \
         CREATE TYPE stray_mood AS ENUM ('ok'); \
         CREATE SEQUENCE stray_seq; \
         CREATE VIEW stray_view AS SELECT 1 AS one; \
         CREATE FUNCTION stray_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'; \
         CREATE TABLE stray_table (id int PRIMARY KEY, note text CHECK (note <> ''))",
    );
    let dir = schema_of(FILES);
    let schema = dir.path().to_str().unwrap();
    let url = db.url.as_str();

    let plan = run(&[
        "plan",
        "--schema",
        schema,
        "--database-url",
        url,
        "--format",
        "json",
    ]);
    assert_eq!(plan.code, 3, "{plan}");
    let v = camel_json("plan with unmanaged objects", &plan);
    assert!(
        v["unmanaged"].as_array().is_some_and(|u| u.len() >= 7),
        "{plan}"
    );

    let check = run(&[
        "check",
        "--schema",
        schema,
        "--database-url",
        url,
        "--format",
        "json",
    ]);
    assert_eq!(check.code, 3, "{check}");
    camel_json("check against a database, refused", &check);
    let old = schema_of(&FILES.replace("\"text\"", "\"integer\""));
    let check = run(&[
        "check",
        "--schema",
        schema,
        "--from",
        old.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(check.code, 3, "{check}");
    camel_json("check against a directory, refused", &check);

    db.sql("DROP TABLE visits");
    let online = run(&[
        "apply",
        "--schema",
        schema,
        "--database-url",
        url,
        "--online",
        "--format",
        "json",
    ]);
    assert_eq!(online.code, 0, "{online}");
    let v = camel_json("apply --online", &online);
    assert!(v["result"]["phases"].is_array(), "{online}");
    let history = run(&[
        "history",
        "--database-url",
        url,
        "--format",
        "json",
        "--verbose",
    ]);
    assert_eq!(history.code, 0, "{history}");
    camel_json("history --verbose", &history);

    let targets = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(targets.path(), format!("{url}\n")).unwrap();
    let t = targets.path().to_str().unwrap();
    for (what, args) in [
        ("fleet plan", vec!["plan", "--schema", schema]),
        ("fleet apply", vec!["apply", "--schema", schema, "--yes"]),
        ("fleet history", vec!["history"]),
    ] {
        let args: Vec<&str> = args
            .into_iter()
            .chain(["--targets", t, "--format", "json"])
            .collect();
        let out = run(&args);
        assert_eq!(out.code, 0, "{what}: {out}");
        let v = camel_json(what, &out);
        assert!(v["targets"].is_array(), "{what}: {out}");
    }

    let bad = schema_of("[tables.t]\ncolumns.id = { type = 5 }\n");
    let out = run(&[
        "plan",
        "--schema",
        bad.path().to_str().unwrap(),
        "--database-url",
        url,
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 2, "{out}");
    let v = camel_json("plan of a bad file", &out);
    assert!(v["diagnostics"][0]["line"].is_u64(), "{out}");
    let unreachable = "postgres://nobody@127.0.0.1:1/none?connect_timeout=2";
    let out = run(&[
        "plan",
        "--schema",
        schema,
        "--database-url",
        unreachable,
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 1, "{out}");
    let v = camel_json("plan unreachable", &out);
    assert_eq!(v["exitCode"], 1, "{out}");
    assert!(out.stderr.is_empty(), "{out}");
}

/// Every command that reads the files, given `--schema` of a directory that
/// is missing or holds no `*.toml`: exit 2 with the words (no `:0:0`, the
/// default named), never "No changes" nor a success; the same under
/// `--format json` as a JSON object.
#[test]
fn a_missing_or_empty_schema_directory_is_exit_2_for_every_command() {
    let db = TestDb::new("cli_no_files");
    let url = db.url.as_str();
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("README.md"), "not a schema file\n").unwrap();
    let missing = tmp.path().join("nonexistent");
    let out_ts = tmp.path().join("schema.ts");
    let out_ts = out_ts.to_str().unwrap();
    for (dir, words) in [
        (
            missing.to_str().unwrap(),
            "no such schema directory: the desired schema is the *.toml files of a directory (on the command line `--schema DIR`, default: ./schema",
        ),
        (empty.to_str().unwrap(), "no schema file (*.toml) here"),
    ] {
        let commands: [(&str, Vec<&str>); 6] = [
            ("plan", vec!["plan", "--database-url", url]),
            ("apply", vec!["apply", "--database-url", url, "--yes"]),
            ("prune", vec!["prune", "--database-url", url, "--yes"]),
            ("check", vec!["check", "--database-url", url]),
            ("check --from", vec!["check", "--from", "."]),
            ("codegen", vec!["codegen", "drizzle", "--out", out_ts]),
        ];
        for (what, args) in commands {
            let args: Vec<&str> = args.into_iter().chain(["--schema", dir]).collect();
            let out = run(&args);
            assert_eq!(out.code, 2, "{what} {dir}: {out}");
            assert!(out.stderr.contains(words), "{what} {dir}: {out}");
            assert!(!out.stderr.contains(":0:0"), "{what} {dir}: {out}");
            assert!(!out.stdout.contains("No changes"), "{what} {dir}: {out}");
            if what == "codegen" {
                continue;
            }
            let json: Vec<&str> = args.iter().copied().chain(["--format", "json"]).collect();
            let out = run(&json);
            assert_eq!(out.code, 2, "{what} --format json {dir}: {out}");
            let v = camel_json(what, &out);
            assert_eq!(v["exitCode"], 2, "{what} {dir}: {out}");
            let message = v["diagnostics"][0]["message"].as_str().unwrap_or_default();
            assert!(message.contains(words), "{what} {dir}: {out}");
            assert!(!v["error"].as_str().unwrap().contains(":0:0"), "{out}");
        }
    }
    assert_eq!(
        db.query("SELECT to_regclass('_reconcile.history') IS NULL"),
        ["t"]
    );
    assert!(!std::path::Path::new(out_ts).exists());
}
