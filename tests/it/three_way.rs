//! Three sides (SPEC §3): each apply records the files it applied; plan,
//! apply and `POST /__admin/migrate` judge what the files last applied had
//! and the files now lack (R001, R002), and `prune` finishes a two-step removal.

use std::path::Path;

use crate::harness::{apply, plan_json, run, TestDb};
use crate::serve::{Server, TOKEN};

const V1: &str = r#"
[tables.leads]
columns.id = { type = "bigint", primary_key = true, identity = "always" }
columns.phone = { type = "text", not_null = true }
columns.notes = { type = "text" }
"#;

/// A schema directory holding `toml` as `leads.toml`, rewritten by `write`.
struct Files(tempfile::TempDir);

impl Files {
    fn new(toml: &str) -> Files {
        let f = Files(tempfile::tempdir().unwrap());
        f.write(toml);
        f
    }
    fn write(&self, toml: &str) {
        std::fs::write(self.0.path().join("leads.toml"), toml).unwrap();
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
}

/// `reconcile prune` of the files in `schema` against `db`, with extra arguments.
fn prune(schema: &str, db: &TestDb, extra: &[&str]) -> crate::harness::Run {
    let mut args = vec!["prune", "--schema", schema, "--database-url", &db.url];
    args.extend_from_slice(extra);
    run(&args)
}

fn rules(plan: &serde_json::Value) -> Vec<(String, String)> {
    plan["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["object"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pair(rule: &str, object: &str) -> (String, String) {
    (rule.to_string(), object.to_string())
}

/// Each rename, applied after V1: refused R002 by plan and apply (exit 3),
/// nothing applied, and no R006 beside it for the NOT NULL column.
#[test]
fn renames_are_refused_by_plan_and_apply() {
    let cases = [
        (
            "nullable column",
            V1.replace("columns.notes", "columns.caller_notes"),
            "column leads.notes",
        ),
        (
            "not null column",
            V1.replace("columns.phone", "columns.phone_number"),
            "column leads.phone",
        ),
        (
            "table",
            V1.replace("[tables.leads]", "[tables.contacts]"),
            "table leads",
        ),
    ];
    for (what, v2, object) in cases {
        let db = TestDb::new("three_way_rename");
        let files = Files::new(V1);
        assert_eq!(apply(files.path(), &db, &[]).code, 0);
        files.write(&v2);
        let before = db.schema_snapshot();
        let (code, plan) = plan_json(files.path(), &db);
        assert_eq!(code, 3, "{what}: {plan:#}");
        assert_eq!(rules(&plan), vec![pair("R002", object)], "{what}: {plan:#}");
        assert!(plan["appliedFiles"]["historyId"].is_number(), "{plan:#}");
        let r = apply(files.path(), &db, &[]);
        assert_eq!(r.code, 3, "{what}: {r}");
        assert!(r.stderr.contains("R002 rename"), "{r}");
        assert_eq!(
            db.schema_snapshot(),
            before,
            "{what}: something was applied"
        );
        assert_eq!(db.history_count(), 1, "{what}");
    }
}

/// Removing what the last apply had, unmarked, is R001; a database with no
/// recorded version (adopted, or applied by an older version) plans as
/// before: the column is unmanaged and kept.
#[test]
fn removal_without_a_mark_is_refused_only_with_a_recorded_version() {
    let db = TestDb::new("three_way_r001");
    let files = Files::new(V1);
    assert_eq!(apply(files.path(), &db, &[]).code, 0);
    files.write(&V1.replace("columns.notes = { type = \"text\" }\n", ""));
    let (code, plan) = plan_json(files.path(), &db);
    assert_eq!(code, 3, "{plan:#}");
    assert_eq!(rules(&plan), vec![pair("R001", "column leads.notes")]);
    let origin = plan["refused"][0]["origin"]["file"].as_str().unwrap();
    assert!(origin.starts_with("history #1: "), "{origin}");

    // The same database with the history table gone: as without a version.
    db.sql("DROP SCHEMA _reconcile CASCADE");
    let (code, plan) = plan_json(files.path(), &db);
    assert_eq!(code, 0, "{plan:#}");
    assert!(plan["appliedFiles"].is_null(), "{plan:#}");
    assert!(
        plan["unmanaged"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["name"] == "leads.notes"),
        "{plan:#}"
    );
}

/// A new `deprecated` mark runs no statement but is recorded once; the same
/// files again record nothing.
#[test]
fn a_mark_alone_is_recorded_once() {
    let db = TestDb::new("three_way_mark");
    let files = Files::new(V1);
    assert_eq!(apply(files.path(), &db, &[]).code, 0);
    files.write(&V1.replace(
        "{ type = \"text\" }",
        "{ type = \"text\", deprecated = \"moved to contacts\" }",
    ));
    let r = apply(files.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(db.history_count(), 2);
    assert_eq!(apply(files.path(), &db, &[]).code, 0);
    assert_eq!(db.history_count(), 2, "the same files were recorded twice");
    let hashes = db.query("SELECT files_hash FROM _reconcile.history ORDER BY id");
    assert_eq!(hashes.len(), 2);
    assert_ne!(hashes[0], hashes[1]);
    // The text is stored once per version, apart from the history rows.
    let stored =
        db.query("SELECT files_hash FROM _reconcile.files ORDER BY recorded_at, files_hash");
    assert_eq!(stored.len(), 2);
    assert!(stored.contains(&hashes[0]) && stored.contains(&hashes[1]));
    // Deleting old history rows loses no version: the next plan still compares.
    db.sql("DELETE FROM _reconcile.history WHERE id < (SELECT max(id) FROM _reconcile.history)");
    files.write(&V1.replace("columns.phone", "columns.phone_number"));
    let (code, plan) = plan_json(files.path(), &db);
    assert_eq!(code, 3, "{plan:#}");
    assert_eq!(rules(&plan), vec![pair("R002", "column leads.phone")]);
    let h = run(&["history", "--database-url", &db.url]);
    assert!(h.stdout.contains(&format!("files {}", hashes[1])), "{h}");
}

const V1_PRUNE: &str = r#"
[tables.leads]
columns.id = { type = "bigint", primary_key = true, identity = "always" }
columns.phone = { type = "text", not_null = true }
columns.fax = { type = "text" }
columns.pager = { type = "text" }
indexes.leads_pager = { columns = ["pager"] }
"#;

/// Deprecate, apply, remove from the files, apply (allowed; the objects
/// stay), then `prune`: refused without --yes off a terminal, then drops
/// exactly what was marked, and nothing the second time.
#[test]
fn deprecate_remove_then_prune_drops_exactly_what_was_marked() {
    let db = TestDb::new("three_way_prune");
    db.sql("CREATE TABLE by_hand (id integer)");
    let files = Files::new(V1_PRUNE);
    assert_eq!(apply(files.path(), &db, &[]).code, 0);
    db.sql("ALTER TABLE leads ADD COLUMN added_by_hand text; INSERT INTO leads (phone, fax) VALUES ('1', '2')");
    let marked = V1_PRUNE
        .replace(
            "columns.fax = { type = \"text\" }",
            "columns.fax = { type = \"text\", deprecated = \"nobody faxes\" }",
        )
        .replace(
            "{ columns = [\"pager\"] }",
            "{ columns = [\"pager\"], deprecated = \"unused\" }",
        );
    files.write(&marked);
    assert_eq!(apply(files.path(), &db, &[]).code, 0);
    let removed: String = marked
        .lines()
        .filter(|l| !l.contains("deprecated"))
        .map(|l| format!("{l}\n"))
        .collect();
    files.write(&removed);
    let r = apply(files.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    let columns = || {
        db.query("SELECT attname FROM pg_attribute WHERE attrelid = 'leads'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum")
    };
    assert!(
        columns().contains(&"fax".to_string()),
        "the column must stay until prune"
    );

    let schema = files.path().to_str().unwrap();
    let history = db.history_count();
    let no = prune(schema, &db, &[]);
    assert_eq!(no.code, 2, "{no}");
    assert!(no.stderr.contains("--yes"), "{no}");
    assert!(no.stdout.contains("DROP COLUMN fax"), "{no}");
    assert!(columns().contains(&"fax".to_string()));
    assert_eq!(db.history_count(), history);

    let yes = prune(schema, &db, &["--yes"]);
    assert_eq!(yes.code, 0, "{yes}");
    assert!(
        yes.stdout
            .contains("DROP INDEX CONCURRENTLY IF EXISTS public.leads_pager"),
        "{yes}"
    );
    assert_eq!(columns(), vec!["id", "phone", "pager", "added_by_hand"]);
    assert!(db
        .query("SELECT to_regclass('leads_pager')")
        .iter()
        .all(|v| v.is_empty()));
    assert_eq!(
        db.query("SELECT count(*) FROM by_hand"),
        vec!["0"],
        "by_hand must stay"
    );
    assert_eq!(
        db.history_count(),
        history + 2,
        "a row for the transaction, one for the index"
    );

    let again = prune(schema, &db, &["--yes"]);
    assert_eq!(again.code, 0, "{again}");
    assert!(again.stdout.contains("Nothing to prune"), "{again}");
    assert_eq!(db.history_count(), history + 2);
    let (code, plan) = plan_json(files.path(), &db);
    assert_eq!(code, 0, "{plan:#}");
    assert_eq!(plan["statements"].as_array().unwrap().len(), 0, "{plan:#}");
}

/// A mark taken back (the code uses the column again) keeps the column:
/// removed later without a new mark, plan refuses it (R001) and prune never
/// drops it, though an older applied version marked it.
#[test]
fn a_mark_taken_back_is_never_pruned() {
    let db = TestDb::new("three_way_unmarked");
    let files = Files::new(V1_PRUNE);
    assert_eq!(apply(files.path(), &db, &[]).code, 0);
    let marked = V1_PRUNE.replace(
        "columns.fax = { type = \"text\" }",
        "columns.fax = { type = \"text\", deprecated = \"nobody faxes\" }",
    );
    files.write(&marked);
    assert_eq!(apply(files.path(), &db, &[]).code, 0);
    files.write(V1_PRUNE);
    assert_eq!(apply(files.path(), &db, &[]).code, 0);
    db.sql("INSERT INTO leads (phone, fax) VALUES ('1', 'kept')");
    files.write(&V1_PRUNE.replace("columns.fax = { type = \"text\" }\n", ""));
    let (code, plan) = plan_json(files.path(), &db);
    assert_eq!(code, 3, "{plan:#}");
    assert_eq!(rules(&plan), vec![pair("R001", "column leads.fax")]);
    let schema = files.path().to_str().unwrap();
    let r = prune(schema, &db, &["--yes"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("Nothing to prune"), "{r}");
    assert_eq!(db.query("SELECT fax FROM leads"), vec!["kept"]);
}

/// Recording an apply never waits for a session that read the history (an
/// `ALTER TABLE` of the history table would, under ACCESS EXCLUSIVE).
#[test]
fn an_apply_does_not_wait_for_a_reader_of_the_history() {
    let db = TestDb::new("three_way_reader");
    let files = Files::new(V1);
    assert_eq!(apply(files.path(), &db, &[]).code, 0);
    let reader = crate::harness::Session::open(&db.url);
    reader.exec("BEGIN");
    assert_eq!(
        reader.value("SELECT count(*) FROM _reconcile.history"),
        Some("1".into())
    );
    files.write(&V1.replace(
        "columns.notes",
        "columns.memo = { type = \"text\" }\ncolumns.notes",
    ));
    let r = apply(files.path(), &db, &["--lock-timeout", "1s"]);
    assert_eq!(r.code, 0, "{r}");
    reader.exec("COMMIT");
    assert_eq!(db.history_count(), 2);
}

/// Over HTTP: a rename is a 409 with nothing applied; prune needs the hash
/// of its dry-run.
#[test]
fn over_http_renames_are_409_and_prune_needs_the_dry_run_hash() {
    let db = TestDb::new("three_way_http");
    let files = Files::new(&V1.replace(
        "{ type = \"text\" }",
        "{ type = \"text\", deprecated = \"unused\" }",
    ));
    assert_eq!(apply(files.path(), &db, &[]).code, 0);
    files.write(
        &V1.replace("columns.phone", "columns.phone_number")
            .replace("columns.notes = { type = \"text\" }\n", ""),
    );
    let before = db.schema_snapshot();
    let s = Server::start_in(&db, files.path(), &[("ADMIN_TOKEN", TOKEN)], None);
    let dry = s.with_token("GET", "/__admin/migrate/dry-run");
    assert_eq!(dry.body["success"], false, "{}", dry.body);
    assert_eq!(dry.body["blocked"], true, "{}", dry.body);
    let r = s.with_token("POST", "/__admin/migrate");
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["refused"][0]["rule"], "R002", "{}", r.body);
    assert_eq!(r.body["refused"].as_array().unwrap().len(), 1, "{}", r.body);
    assert_eq!(db.schema_snapshot(), before);
    s.stop();

    // Back to the phone column, without notes (marked): allowed, then pruned over HTTP.
    files.write(&V1.replace("columns.notes = { type = \"text\" }\n", ""));
    let s = Server::start_in(&db, files.path(), &[("ADMIN_TOKEN", TOKEN)], None);
    let r = s.with_token("POST", "/__admin/migrate");
    assert_eq!(r.status, 200, "{}", r.body);
    let dry = s.with_token("GET", "/__admin/prune/dry-run");
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert_eq!(
        dry.body["result"]["wouldExecute"],
        serde_json::json!(["drop-column:leads.notes"])
    );
    let hash = dry.body["result"]["planHash"].as_str().unwrap().to_string();
    let without = s.with_token("POST", "/__admin/prune");
    assert_eq!(without.status, 409, "{}", without.body);
    let wrong = s.with_token("POST", "/__admin/prune?expectPlan=0000000000000000");
    assert_eq!(wrong.status, 409, "{}", wrong.body);
    assert!(db
        .query("SELECT attname FROM pg_attribute WHERE attrelid = 'leads'::regclass")
        .contains(&"notes".to_string()));
    let ok = s.with_token("POST", &format!("/__admin/prune?expectPlan={hash}"));
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(
        ok.body["result"]["executed"],
        serde_json::json!(["drop-column:leads.notes"])
    );
    assert!(!db
        .query("SELECT attname FROM pg_attribute WHERE attrelid = 'leads'::regclass")
        .contains(&"notes".to_string()));
    s.stop();
}

/// Over HTTP, a nullable column and a table renamed: 409, nothing applied.
#[test]
fn over_http_nullable_column_and_table_renames_are_409() {
    let db = TestDb::new("three_way_http_renames");
    let files = Files::new(V1);
    assert_eq!(apply(files.path(), &db, &[]).code, 0);
    let before = db.schema_snapshot();
    for (v2, object) in [
        (
            V1.replace("columns.notes", "columns.caller_notes"),
            "column leads.notes",
        ),
        (
            V1.replace("[tables.leads]", "[tables.contacts]"),
            "table leads",
        ),
    ] {
        files.write(&v2);
        let s = Server::start_in(&db, files.path(), &[("ADMIN_TOKEN", TOKEN)], None);
        let r = s.with_token("POST", "/__admin/migrate");
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(r.body["refused"][0]["rule"], "R002", "{}", r.body);
        assert_eq!(r.body["refused"][0]["object"], object, "{}", r.body);
        assert_eq!(db.schema_snapshot(), before);
        s.stop();
    }
}

const V1_CODE: &str = r#"
[tables.leads]
columns.id = { type = "bigint", primary_key = true }
columns.phone = { type = "text", not_null = true, default = "normalize_phone('')" }
columns.updated_at = { type = "timestamptz" }

[tables.leads.triggers.leads_touch]
timing = "before"
events = ["update"]
for_each = "row"
function = "touch"

[functions.normalize_phone]
arguments = "p text"
returns = "text"
language = "sql"
volatility = "immutable"
body = "SELECT regexp_replace(p, '[^0-9+]', '', 'g')"

[functions.touch]
returns = "trigger"
language = "plpgsql"
body = '''
BEGIN NEW.updated_at = now(); RETURN NEW; END
'''

[views.lead_phones]
query = "SELECT id, phone FROM leads"

[views.lead_phone_count]
query = "SELECT count(*) AS n FROM lead_phones"
"#;

/// Functions, views and triggers follow the two-step removal too: removed
/// unmarked, R001 (a renamed function: R002); marked, applied, removed, then
/// `prune` drops exactly those, dependents first, and the plan is empty.
#[test]
fn code_objects_removed_unmarked_are_refused_and_marked_ones_are_pruned() {
    let db = TestDb::new("three_way_code");
    let files = Files::new(V1_CODE);
    let r = apply(files.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");

    // Removed without a mark: refused, nothing applied.
    let without_view = V1_CODE.replace(
        "[views.lead_phone_count]\nquery = \"SELECT count(*) AS n FROM lead_phones\"\n",
        "",
    );
    files.write(
        &without_view
            .replace("[functions.touch]", "[functions.touch_row]")
            .replace("function = \"touch\"", "function = \"touch_row\""),
    );
    let (code, plan) = plan_json(files.path(), &db);
    assert_eq!(code, 3, "{plan:#}");
    let found = rules(&plan);
    assert!(
        found.contains(&pair("R001", "view lead_phone_count")),
        "{found:?}"
    );
    assert!(
        found.contains(&pair("R002", "function touch()")),
        "{found:?}"
    );
    assert_eq!(apply(files.path(), &db, &[]).code, 3);

    // Marked, applied; then removed: kept until prune.
    let marked = V1_CODE
        .replace(
            "[views.lead_phones]\n",
            "[views.lead_phones]\ndeprecated = \"use leads\"\n",
        )
        .replace(
            "[views.lead_phone_count]\n",
            "[views.lead_phone_count]\ndeprecated = \"unused\"\n",
        )
        .replace(
            "[tables.leads.triggers.leads_touch]\n",
            "[tables.leads.triggers.leads_touch]\ndeprecated = \"app sets it\"\n",
        )
        .replace(
            "[functions.touch]\n",
            "[functions.touch]\ndeprecated = \"app sets it\"\n",
        );
    files.write(&marked);
    assert_eq!(apply(files.path(), &db, &[]).code, 0);
    let cut = |text: &str, from: &str, to: Option<&str>| -> String {
        let a = text.find(from).unwrap();
        let b = to.map_or(text.len(), |t| text.find(t).unwrap());
        format!("{}{}", &text[..a], &text[b..])
    };
    let removed = cut(
        &marked,
        "[tables.leads.triggers.leads_touch]",
        Some("[functions.normalize_phone]"),
    );
    let removed = cut(&removed, "[functions.touch]", Some("[views.lead_phones]"));
    let removed = cut(&removed, "[views.lead_phones]", None);
    files.write(&removed);
    let r = apply(files.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    let count = |sql: &str| db.query(sql)[0].clone();
    assert_eq!(
        count("SELECT count(*) FROM pg_views WHERE viewname LIKE 'lead_phone%'"),
        "2"
    );

    let yes = prune(files.path().to_str().unwrap(), &db, &["--yes"]);
    assert_eq!(yes.code, 0, "{yes}");
    let order: Vec<&str> = yes
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("ok "))
        .map(|l| l.split_whitespace().last().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "drop-trigger:leads.leads_touch",
            "drop-view:lead_phone_count",
            "drop-view:lead_phones",
            "drop-function:touch()"
        ],
        "{yes}"
    );
    assert_eq!(
        count("SELECT count(*) FROM pg_views WHERE viewname LIKE 'lead_phone%'"),
        "0"
    );
    assert_eq!(
        count("SELECT count(*) FROM pg_proc WHERE proname IN ('touch', 'normalize_phone')"),
        "1"
    );
    let (code, plan) = plan_json(files.path(), &db);
    assert_eq!(code, 0, "{plan:#}");
    assert_eq!(plan["statements"].as_array().unwrap().len(), 0, "{plan:#}");
}

const V1_POLICIES: &str = r#"
[tables.notes]
row_level_security = true
columns.id = { type = "bigint", primary_key = true }
columns.owner = { type = "text" }

[tables.notes.policies.own_notes]
using = "owner = current_user"

[tables.notes.policies.no_blank]
command = "insert"
with_check = "owner <> ''"
"#;

/// Policies follow the two-step removal: one removed unmarked is R001, one
/// renamed with the same definition R002; marked, applied and removed, it
/// stays until `prune` drops it, and the plan is empty after.
#[test]
fn policies_removed_unmarked_are_refused_and_marked_ones_are_pruned() {
    let db = TestDb::new("three_way_policies");
    let files = Files::new(V1_POLICIES);
    let r = apply(files.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    let policies = || {
        db.query("SELECT string_agg(policyname, ',' ORDER BY policyname) FROM pg_policies WHERE tablename = 'notes'")[0].clone()
    };
    assert_eq!(policies(), "no_blank,own_notes");

    let cut = V1_POLICIES
        .replace("[tables.notes.policies.no_blank]\ncommand = \"insert\"\nwith_check = \"owner <> ''\"\n", "")
        .replace("own_notes", "notes_of_owner");
    files.write(&cut);
    let (code, plan) = plan_json(files.path(), &db);
    assert_eq!(code, 3, "{plan:#}");
    let found = rules(&plan);
    assert!(
        found.contains(&pair("R001", "policy notes.no_blank")),
        "{found:?}"
    );
    assert!(
        found.contains(&pair("R002", "policy notes.own_notes")),
        "{found:?}"
    );
    assert_eq!(apply(files.path(), &db, &[]).code, 3);
    assert_eq!(policies(), "no_blank,own_notes");

    let marked = V1_POLICIES.replace(
        "[tables.notes.policies.no_blank]\n",
        "[tables.notes.policies.no_blank]\ndeprecated = \"checked by the app\"\n",
    );
    files.write(&marked);
    assert_eq!(apply(files.path(), &db, &[]).code, 0);
    let removed = &marked[..marked.find("[tables.notes.policies.no_blank]").unwrap()];
    files.write(removed);
    assert_eq!(apply(files.path(), &db, &[]).code, 0);
    assert_eq!(policies(), "no_blank,own_notes", "kept until prune");
    let yes = prune(files.path().to_str().unwrap(), &db, &["--yes"]);
    assert_eq!(yes.code, 0, "{yes}");
    assert!(yes.stdout.contains("drop-policy:notes.no_blank"), "{yes}");
    assert_eq!(policies(), "own_notes");
    let (code, plan) = plan_json(files.path(), &db);
    assert_eq!(code, 0, "{plan:#}");
    assert_eq!(plan["statements"].as_array().unwrap().len(), 0, "{plan:#}");
}
