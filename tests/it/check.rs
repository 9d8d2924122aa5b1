//! `reconcile check`, the CI guard: a throwaway git repository, a schema
//! committed, changed, and checked against the base revision.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{run, Run, TestDb};

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let r = Repo {
            dir: tempfile::tempdir().unwrap(),
        };
        r.git(&["init", "-q", "-b", "main"]);
        r.git(&["config", "user.email", "ci@example.com"]);
        r.git(&["config", "user.name", "CI"]);
        r
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(self.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
    fn write(&self, file: &str, text: &str) {
        let p = self.path().join(file);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    fn remove(&self, file: &str) {
        std::fs::remove_file(self.path().join(file)).unwrap();
    }
    fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.git(&["rev-parse", "HEAD"])
    }
    fn schema(&self) -> PathBuf {
        self.path().join("schema")
    }
    /// `reconcile check --base REV`, run from the repository.
    fn check(&self, base: &str, extra: &[&str]) -> Run {
        let schema = self.schema();
        let mut args = vec!["--schema", schema.to_str().unwrap(), "--base", base];
        args.extend_from_slice(extra);
        check_in(self.path(), &args)
    }
}

const V1: &str = r#"[enums.mood]
values = ["happy", "sad"]

[tables.people]
primary_key = ["id"]

[tables.people.columns]
id = { type = "bigint" }
name = { type = "text", not_null = true }
nick = { type = "text", default = "''" }
age = { type = "integer", check = "age >= 0" }
mood = { type = "mood" }
old_field = { type = "text" }

[tables.people.indexes]
idx_people_name = { columns = ["name"] }
"#;

/// Commit V1, apply `edit` to it, and check against the V1 commit.
fn guard(edit: impl Fn(&str) -> String) -> Run {
    guard_with(edit, &[])
}

fn guard_with(edit: impl Fn(&str) -> String, extra: &[&str]) -> Run {
    let repo = Repo::new();
    repo.write("schema/people.toml", V1);
    let base = repo.commit("v1");
    repo.write("schema/people.toml", &edit(V1));
    repo.commit("v2");
    repo.check(&base, extra)
}

fn to_bigint(s: &str) -> String {
    s.replace("age = { type = \"integer\"", "age = { type = \"bigint\"")
}

fn assert_refused(r: &Run, rule: &str, at: &str) {
    assert_eq!(r.code, 3, "{r}");
    assert!(r.stdout.contains(rule), "{rule} missing:\n{r}");
    assert!(r.stdout.contains(at), "{at} missing:\n{r}");
    assert!(r.stdout.contains("safe path"), "{r}");
}

#[test]
fn r001_removed_column_is_refused() {
    let r = guard(|s| s.replace("old_field = { type = \"text\" }\n", ""));
    assert_refused(&r, "R001", "schema/people.toml:13:1");
    assert!(r.stdout.contains("people.old_field"), "{r}");
}

#[test]
fn r001_removed_table_index_constraint_and_enum_value() {
    let r = guard(|s| {
        s.replace(
            "[tables.people.indexes]\nidx_people_name = { columns = [\"name\"] }\n",
            "",
        )
        .replace(", check = \"age >= 0\"", "")
        .replace("values = [\"happy\", \"sad\"]", "values = [\"happy\"]")
    });
    assert_eq!(r.code, 3, "{r}");
    for s in [
        "index people.idx_people_name",
        "constraint people.people_age_check",
        "enum value mood.sad",
    ] {
        assert!(r.stdout.contains(s), "{s} missing:\n{r}");
    }
    let r = guard(|_| "[tables.other.columns]\nid = { type = \"uuid\" }\n".into());
    assert!(
        r.stdout.contains("R001") && r.stdout.contains("table people"),
        "{r}"
    );
}

#[test]
fn deprecated_then_removed_is_allowed() {
    let repo = Repo::new();
    repo.write("schema/people.toml", V1);
    repo.commit("v1");
    repo.write(
        "schema/people.toml",
        &V1.replace(
            "old_field = { type = \"text\" }",
            "old_field = { type = \"text\", deprecated = \"unused since v2\" }",
        ),
    );
    let v2 = repo.commit("deprecate");
    // Deprecating is itself allowed.
    repo.write(
        "schema/people.toml",
        &V1.replace("old_field = { type = \"text\" }\n", ""),
    );
    repo.commit("remove");
    let r = repo.check(&v2, &[]);
    assert_eq!(r.code, 0, "{r}");
    // Removing it without the deprecation step is not.
    let r = repo.check("HEAD~2", &[]);
    assert_eq!(r.code, 3, "{r}");
}

#[test]
fn r002_renamed_column_and_table() {
    let r = guard(|s| s.replace("nick = {", "nickname = {"));
    assert_refused(&r, "R002", "schema/people.toml:10:1");
    assert!(
        r.stdout.contains("people.nick") && r.stdout.contains("people.nickname"),
        "{r}"
    );
    let r = guard(|s| s.replace("tables.people", "tables.persons"));
    assert_eq!(r.code, 3, "{r}");
    assert!(
        r.stdout.contains("R002")
            && r.stdout.contains("table people")
            && r.stdout.contains("persons"),
        "{r}"
    );
}

/// A NOT NULL column renamed is a rename (R002), not a new NOT NULL column
/// without a default (R006) and a removal (R001).
#[test]
fn r002_renamed_not_null_column() {
    let r = guard(|s| {
        s.replace(
            "name = { type = \"text\", not_null",
            "full_name = { type = \"text\", not_null",
        )
        .replace("[\"name\"]", "[\"full_name\"]")
    });
    assert_refused(&r, "R002", "schema/people.toml:9:1");
    assert!(r.stdout.contains("people.full_name"), "{r}");
    assert!(
        !r.stdout.contains("R006") && !r.stdout.contains("R001"),
        "{r}"
    );
}

#[test]
fn r003_type_change() {
    let r = guard(to_bigint);
    assert_refused(&r, "R003", "schema/people.toml:11:1");
}

#[test]
fn r004_default_removed() {
    let r = guard(|s| {
        s.replace(
            "nick = { type = \"text\", default = \"''\" }",
            "nick = { type = \"text\" }",
        )
    });
    assert_refused(&r, "R004", "schema/people.toml:10:1");
}

#[test]
fn r005_not_null_added() {
    let r = guard(|s| {
        s.replace(
            "mood = { type = \"mood\" }",
            "mood = { type = \"mood\", not_null = true }",
        )
    });
    assert_refused(&r, "R005", "schema/people.toml:12:1");
}

#[test]
fn r006_not_null_without_default() {
    let r = guard(|s| {
        s.replace(
            "old_field = { type = \"text\" }",
            "old_field = { type = \"text\" }\nemail = { type = \"text\", not_null = true }",
        )
    });
    assert_refused(&r, "R006", "schema/people.toml:14:1");
}

#[test]
fn r007_definition_changed() {
    let r = guard(|s| s.replace("age >= 0", "age >= 18"));
    assert_refused(&r, "R007", "schema/people.toml:11:");
    assert!(
        r.stdout.contains("-CHECK (age >= 0)") && r.stdout.contains("+CHECK (age >= 18)"),
        "{r}"
    );
}

#[test]
fn r008_primary_key_changed() {
    let r = guard(|s| s.replace("primary_key = [\"id\"]", "primary_key = [\"id\", \"name\"]"));
    assert_refused(&r, "R008", "schema/people.toml:5:1");
}

#[test]
fn additive_changes_are_allowed_and_constraints_warned() {
    let r = guard(|s| {
        format!(
            "{}\n[tables.people.unique]\npeople_name_key = [\"name\"]\n\n[tables.pets.columns]\nid = {{ type = \"bigserial\", primary_key = true }}\nowner = {{ type = \"bigint\", references = \"people(id)\" }}\n",
            s.replace("values = [\"happy\", \"sad\"]", "values = [\"happy\", \"sad\", \"meh\"]")
                .replace("old_field = { type = \"text\" }", "old_field = { type = \"text\" }\nemail = { type = \"text\" }\nscore = { type = \"integer\", not_null = true, default = 0 }")
        )
    });
    assert_eq!(r.code, 0, "{r}");
    for id in [
        "add-enum-value:mood.meh",
        "add-column:people.email",
        "add-column:people.score",
        "create-table:pets",
        "add-constraint:people.people_name_key",
    ] {
        assert!(r.stdout.contains(id), "{id} missing:\n{r}");
    }
    assert!(
        r.stdout.contains("Warnings (1)") && r.stdout.contains("may fail on existing rows"),
        "{r}"
    );
}

#[test]
fn schema_directory_absent_at_base_means_everything_is_new() {
    let repo = Repo::new();
    repo.write("README", "x");
    let base = repo.commit("empty");
    repo.write("schema/people.toml", V1);
    repo.commit("v1");
    let r = repo.check(&base, &[]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("create-table:people"), "{r}");
}

#[test]
fn a_moved_schema_directory_is_read_where_it_was() {
    let repo = Repo::new();
    repo.write("db/schema/people.toml", V1);
    let base = repo.commit("v1");
    repo.remove("db/schema/people.toml");
    repo.write(
        "schema/people.toml",
        &V1.replace("old_field = { type = \"text\" }\n", ""),
    );
    repo.commit("moved");
    let r = repo.check(&base, &["--base-schema", "db/schema"]);
    assert_refused(&r, "R001", "db/schema/people.toml:13:1");
}

#[test]
fn a_missing_revision_is_an_operational_error() {
    let repo = Repo::new();
    repo.write("schema/people.toml", V1);
    repo.commit("v1");
    let r = repo.check("no-such-rev", &[]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("no-such-rev"), "{r}");
}

#[test]
fn invalid_files_exit_2() {
    let r = guard(|s| s.replace("type = \"bigint\"", "type = \"bigintt\""));
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("people.toml:8:"), "{r}");
}

#[test]
fn json_format_parses_with_stable_fields() {
    let r = guard_with(to_bigint, &["--format", "json"]);
    assert_eq!(r.code, 3, "{r}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["ok"], false);
    let f = &v["refused"][0];
    assert_eq!(f["rule"], "R003");
    assert_eq!(f["object"], "column people.age");
    assert_eq!(f["origin"]["file"], "schema/people.toml");
    assert_eq!(f["origin"]["line"], 11);
    assert_eq!(f["live"], "integer");
    assert_eq!(f["desired"], "bigint");
    assert!(f["safePath"].as_str().unwrap().contains("new column"));
}

#[test]
fn github_format_annotates_the_diff() {
    let r = guard_with(to_bigint, &["--format", "github"]);
    assert_eq!(r.code, 3, "{r}");
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("::error "))
        .expect("an ::error line");
    assert!(
        line.starts_with("::error file=schema/people.toml,line=11,col=1,title=R003 type change::"),
        "{line}"
    );
    assert!(line.contains("Safe path:"), "{line}");
}

#[test]
fn against_a_database_it_fails_as_plan_would() {
    let db = TestDb::new("check_db");
    db.sql("CREATE TABLE people (id bigint PRIMARY KEY, age integer, legacy text)");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.toml"), "[tables.people.columns]\nid = { type = \"bigint\", primary_key = true }\nage = { type = \"bigint\" }\n").unwrap();
    let r = run(&[
        "check",
        "--schema",
        dir.path().to_str().unwrap(),
        "--database-url",
        &db.url,
    ]);
    assert_eq!(r.code, 3, "{r}");
    assert!(
        r.stdout.contains("R003") && r.stdout.contains("column people.legacy"),
        "{r}"
    );
    assert!(
        !r.stdout.contains("R001"),
        "unmanaged objects are reported, not refused:\n{r}"
    );
    // Against a database, the words say so.
    assert!(
        r.stdout
            .contains("is `integer` in the database but `bigint` in the files")
            && r.stdout.contains("--- database\n"),
        "{r}"
    );
}

/// `reconcile check` run in `dir` (paths relative to it).
fn check_in(dir: &Path, args: &[&str]) -> Run {
    check_in_env(dir, args, &[])
}

/// `check_in` with `vars` set; `GITHUB_STEP_SUMMARY` only when among them.
fn check_in_env(dir: &Path, args: &[&str], vars: &[(&str, &Path)]) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_reconcile"));
    c.current_dir(dir)
        .arg("check")
        .args(args)
        .env_remove("GITHUB_STEP_SUMMARY");
    for (k, v) in vars {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Write `text` as `dir/side/file`, the directory made when missing.
fn write_side(dir: &Path, side: &str, file: &str, text: &str) {
    std::fs::create_dir_all(dir.join(side)).unwrap();
    std::fs::write(dir.join(side).join(file), text).unwrap();
}

/// `check --from a --schema b` and the other way round both find no change.
fn assert_no_change_either_way(dir: &Path, a: &str, b: &str) {
    for (from, to) in [(a, b), (b, a)] {
        let r = check_in(dir, &["--schema", to, "--from", from]);
        assert_eq!(r.code, 0, "{from} -> {to}: {r}");
    }
}

/// `check --from DIR`: the old side read from a directory (a checkout of the
/// base, a release's files), judged by the same rules as `--base`, with each
/// finding placed in the new files: a removed column at its table there (and
/// where the old files had it in the message), a change at its line.
#[test]
fn from_a_directory_judges_like_base() {
    let dir = tempfile::tempdir().unwrap();
    let write = |side: &str, text: &str| write_side(dir.path(), side, "people.toml", text);
    write("old", V1);
    write(
        "new",
        &to_bigint(V1).replace("old_field = { type = \"text\" }\n", ""),
    );
    let r = check_in(dir.path(), &["--schema", "new", "--from", "old"]);
    assert_eq!(r.code, 3, "{r}");
    assert!(
        r.stdout.starts_with("Schema check against dir old\n"),
        "{r}"
    );
    assert!(
        r.stdout
            .contains("R001 drop: column people.old_field (new/people.toml:4:9)"),
        "{r}"
    );
    assert!(r.stdout.contains("it was at old/people.toml:13:1"), "{r}");
    assert!(
        r.stdout
            .contains("R003 type change: column people.age (new/people.toml:11:1)"),
        "{r}"
    );
    assert!(r.stdout.contains("Summary: 2 refused"), "{r}");

    let r = check_in(
        dir.path(),
        &["--schema", "new", "--from", "old", "--format", "json"],
    );
    assert_eq!(r.code, 3, "{r}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["base"], "dir old");
    let rules: Vec<&str> = v["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["R001", "R003"], "{r}");

    // An additive change passes; the same files on both sides too.
    write(
        "new",
        &V1.replace(
            "old_field = { type = \"text\" }\n",
            "old_field = { type = \"text\" }\nemail = { type = \"text\" }\n",
        ),
    );
    let r = check_in(dir.path(), &["--schema", "new", "--from", "old"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("+ add-column:people.email"), "{r}");
    let r = check_in(dir.path(), &["--schema", "old", "--from", "old"]);
    assert_eq!(r.code, 0, "{r}");

    // A directory that is not there is an input error that names it.
    let r = check_in(dir.path(), &["--schema", "new", "--from", "nowhere"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("nowhere"), "{r}");
}

/// Without a database: a check and an index predicate as PostgreSQL prints
/// them after a restore (`status::text = ANY (ARRAY[...::text])` on a
/// varchar column) equal the `IN (...)` the files write; other values do not.
#[test]
fn equivalent_rewrites_are_no_change_without_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let write = |side: &str, check: &str, predicate: &str| {
        write_side(
            dir.path(),
            side,
            "job.toml",
            &format!(
                "[tables.job.columns]\nid = {{ type = \"bigint\", primary_key = true }}\n\
                 status = {{ type = \"varchar(20)\", not_null = true, check = \"{check}\" }}\n\
                 run_at = {{ type = \"timestamptz\" }}\n\n\
                 [tables.job.indexes]\njob_open_idx = {{ columns = [\"run_at\"], where = \"{predicate}\" }}\n"
            ),
        );
    };
    write(
        "restored",
        "status::text = ANY (ARRAY['pending'::character varying::text, 'done'::character varying::text])",
        "(status)::text = ANY ((ARRAY['pending'::character varying, 'new'::character varying])::text[])",
    );
    write(
        "natural",
        "status IN ('pending', 'done')",
        "status IN ('pending', 'new')",
    );
    write(
        "other",
        "status IN ('pending', 'gone')",
        "status IN ('done', 'new')",
    );
    assert_no_change_either_way(dir.path(), "restored", "natural");
    let r = check_in(dir.path(), &["--schema", "other", "--from", "restored"]);
    assert_eq!(r.code, 3, "{r}");
    assert!(r.stdout.contains("constraint job_status_check"), "{r}");
    assert!(r.stdout.contains("index job_open_idx"), "{r}");
}

/// Without a database: an index key's default operator class named or left
/// out, and a domain check with BETWEEN or as PostgreSQL prints it, are the
/// same; another operator class is not.
#[test]
fn default_operator_classes_and_between_are_no_change_without_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let write = |side: &str, opclass: &str, check: &str| {
        write_side(
            dir.path(),
            side,
            "doc.toml",
            &format!(
                "[domains.percent]\ntype = \"numeric(5,2)\"\ncheck = \"{check}\"\n\n\
                 [tables.doc.columns]\nid = {{ type = \"int\", primary_key = true }}\n\
                 name = {{ type = \"text\" }}\nshare = {{ type = \"percent\" }}\n\n\
                 [tables.doc.indexes]\ndoc_name_idx = {{ columns = [\"name{opclass}\"] }}\n"
            ),
        );
    };
    write("written", " text_ops", "VALUE BETWEEN 0 AND 100");
    write(
        "dumped",
        "",
        "VALUE >= 0::numeric AND VALUE <= 100::numeric",
    );
    write("other", " text_pattern_ops", "VALUE BETWEEN 0 AND 100");
    assert_no_change_either_way(dir.path(), "written", "dumped");
    let r = check_in(dir.path(), &["--schema", "other", "--from", "dumped"]);
    assert_eq!(r.code, 3, "{r}");
    assert!(r.stdout.contains("index doc_name_idx"), "{r}");
}

/// Against a git revision or a directory, every rule's words name the old
/// files, never a database: in the text (its `---` header too), the
/// annotations and the JSON.
#[test]
fn against_files_no_word_says_database() {
    let every_rule = |s: &str| {
        to_bigint(s)
            .replace("old_field = { type = \"text\" }\n", "")
            .replace(
                "nick = { type = \"text\", default = \"''\" }",
                "nick = { type = \"text\" }",
            )
            .replace(
                "mood = { type = \"mood\" }",
                "mood = { type = \"mood\", not_null = true }",
            )
            .replace("age >= 0", "age >= 18")
            .replace("primary_key = [\"id\"]", "primary_key = [\"id\", \"name\"]")
    };
    let repo = Repo::new();
    repo.write("schema/people.toml", V1);
    let base = repo.commit("v1");
    repo.write("schema/people.toml", &every_rule(V1));
    repo.commit("v2");
    for format in ["text", "github", "json"] {
        let r = repo.check(&base, &["--format", format]);
        assert_eq!(r.code, 3, "{r}");
        for rule in ["R001", "R003", "R004", "R005", "R007", "R008"] {
            assert!(r.stdout.contains(rule), "{rule} missing:\n{r}");
        }
        assert!(!r.stdout.to_lowercase().contains("database"), "{r}");
    }
    let r = repo.check(&base, &[]);
    assert!(r.stdout.contains(&format!("--- {base}\n")), "{r}");
    assert!(
        r.stdout.contains(&format!(
            "is `integer` in `{base}` but `bigint` in the files"
        )),
        "{r}"
    );

    let dir = tempfile::tempdir().unwrap();
    write_side(dir.path(), "old", "people.toml", V1);
    write_side(dir.path(), "new", "people.toml", &every_rule(V1));
    let r = check_in(dir.path(), &["--schema", "new", "--from", "old"]);
    assert_eq!(r.code, 3, "{r}");
    assert!(r.stdout.contains("--- old\n"), "{r}");
    assert!(!r.stdout.to_lowercase().contains("database"), "{r}");
}

/// The base with a table `extra` in people.toml and a file gone.toml; the
/// head with three lines more above `[tables.people]`, its column
/// `old_field`, table `extra` and file gone.toml removed.
fn moved_and_removed() -> (Repo, String) {
    let repo = Repo::new();
    repo.write(
        "schema/people.toml",
        &format!("{V1}\n[tables.extra.columns]\nid = {{ type = \"bigint\" }}\n"),
    );
    repo.write(
        "schema/gone.toml",
        "[tables.gone.columns]\nid = { type = \"bigint\" }\n",
    );
    let base = repo.commit("v1");
    repo.remove("schema/gone.toml");
    repo.write(
        "schema/people.toml",
        &format!(
            "[tables.pets.columns]\nid = {{ type = \"uuid\" }}\n\n{}",
            V1.replace("old_field = { type = \"text\" }\n", "")
        ),
    );
    repo.commit("v2");
    (repo, base)
}

/// `--format github`: a removal is annotated in the head's files, where the
/// pull request shows it: a removed column at its table's line there (line
/// 7, not the base's line 13), a table removed from a file that stays on
/// that file (no line), a table whose file the change deletes on no file.
#[test]
fn github_annotations_of_removals_point_into_the_head() {
    let (repo, base) = moved_and_removed();
    let r = repo.check(&base, &["--format", "github"]);
    assert_eq!(r.code, 3, "{r}");
    let error = |object: &str| {
        r.stdout
            .lines()
            .find(|l| l.starts_with("::error ") && l.contains(object))
            .unwrap_or_else(|| panic!("no annotation of {object}:\n{r}"))
            .to_string()
    };
    let column = error("column `people.old_field`");
    assert!(
        column.starts_with("::error file=schema/people.toml,line=7,col=9,title=R001 drop::"),
        "{column}"
    );
    assert!(
        column.contains(&format!("it was at {base}%3Aschema/people.toml:13:1"))
            || column.contains(&format!("it was at {base}:schema/people.toml:13:1")),
        "{column}"
    );
    assert!(
        error("table `extra`").starts_with("::error file=schema/people.toml,title=R001 drop::"),
        "{r}"
    );
    assert!(
        error("table `gone`").starts_with("::error title=R001 drop::"),
        "{r}"
    );
    assert!(!r.stdout.contains("line=13"), "{r}");
    // The text places them alike.
    let r = repo.check(&base, &[]);
    assert!(
        r.stdout
            .contains("R001 drop: column people.old_field (schema/people.toml:7:9)"),
        "{r}"
    );
    assert!(
        r.stdout
            .contains("R001 drop: table extra (schema/people.toml)\n"),
        "{r}"
    );
    assert!(r.stdout.contains("R001 drop: table gone\n"), "{r}");
}

/// `--format github`: every error is an annotation on stdout, the exit code
/// unchanged: a TOML syntax error of the head at its file and line (exit 2),
/// one of the base named `REV:path` (not a file of the pull request), a git
/// failure without a location (exit 1).
#[test]
fn github_errors_are_annotations() {
    let r = guard_with(
        |s| s.replace("[tables.people]", "[tables.people"),
        &["--format", "github"],
    );
    assert_eq!(r.code, 2, "{r}");
    assert!(
        r.stdout
            .starts_with("::error file=schema/people.toml,line=4,col=")
            && r.stdout.contains(",title=invalid schema file::"),
        "{r}"
    );

    let repo = Repo::new();
    repo.write("schema/people.toml", "[tables.people\n");
    let broken = repo.commit("broken");
    repo.write("schema/people.toml", V1);
    repo.commit("fixed");
    let r = repo.check(&broken, &["--format", "github"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(
        r.stdout.starts_with(&format!(
            "::error file={broken}%3Aschema/people.toml,line=1,"
        )),
        "{r}"
    );

    let r = repo.check("no-such-rev", &["--format", "github"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stdout
            .starts_with("::error title=reconcile check failed::git revision `no-such-rev`"),
        "{r}"
    );
}

/// With `GITHUB_STEP_SUMMARY` set, whatever the format, the result is
/// appended to that file in Markdown: a headline, a table of the refused
/// changes naming rule and head location, the compared sides; a second run
/// adds its own after the first.
#[test]
fn step_summary_is_appended_in_markdown() {
    let (repo, base) = moved_and_removed();
    let summary = repo.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let args = ["--schema", "schema", "--base", &base, "--format", "json"];
    let vars = [("GITHUB_STEP_SUMMARY", summary.as_path())];
    let r = check_in_env(repo.path(), &args, &vars);
    assert_eq!(r.code, 3, "{r}");
    serde_json::from_str::<serde_json::Value>(&r.stdout).expect("stdout is the JSON alone");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("earlier step\n### reconcile check: 3 refused\n"),
        "{md}"
    );
    assert!(
        md.contains(&format!("The files in `schema` against git {base}")),
        "{md}"
    );
    assert!(
        md.contains("| Rule | Object | Where | Reason | Safe path |\n|---|---|---|---|---|\n"),
        "{md}"
    );
    assert!(
        md.contains("| R001 drop | column people.old_field | schema/people.toml:7 | column `people.old_field` was removed"),
        "{md}"
    );

    let r = check_in_env(
        repo.path(),
        &["--schema", "schema", "--base", "HEAD"],
        &vars,
    );
    assert_eq!(r.code, 0, "{r}");
    let again = std::fs::read_to_string(&summary).unwrap();
    assert!(
        again.starts_with(&md),
        "the first summary was not kept:\n{again}"
    );
    assert!(
        again[md.len()..].starts_with("### reconcile check: passed\n"),
        "{again}"
    );
}
