//! `reconcile apply` against a real PostgreSQL: idempotence, data kept, lock
//! timeout, concurrent applies, failure mid-plan, SIGKILL, stale plan hash.

use std::time::{Duration, Instant};

use crate::harness::{
    apply, plan_json, repo, schema_of, spawn, wait_for, wait_or_kill, Session, TestDb,
};

fn has_history_table(db: &TestDb) -> bool {
    db.query("SELECT to_regclass('_reconcile.history') IS NOT NULL") == ["t"]
}

#[test]
fn apply_twice_changes_nothing_the_second_time() {
    let db = TestDb::new("apply_twice");
    let schema = repo().join("schema");
    let first = apply(&schema, &db, &[]);
    assert_eq!(first.code, 0, "{first}");
    assert!(first.stdout.contains("Applied "), "{first}");
    assert_eq!(db.history_count(), 1);
    let snapshot = db.schema_snapshot();

    let second = apply(&schema, &db, &[]);
    assert_eq!(second.code, 0, "{second}");
    assert!(second.stdout.contains("Nothing to apply"), "{second}");
    assert_eq!(db.history_count(), 1, "a no-op apply recorded history");
    assert_eq!(db.schema_snapshot(), snapshot);

    let (code, plan) = plan_json(&schema, &db);
    assert_eq!(code, 0);
    assert_eq!(plan["statements"].as_array().unwrap().len(), 0, "{plan:#}");
    // The history table is ours: never unmanaged, never in a diff.
    let unmanaged = plan["unmanaged"].to_string();
    assert!(
        !unmanaged.contains("_reconcile") && !unmanaged.contains("history"),
        "{unmanaged}"
    );
    assert_eq!(plan["unmanaged"].as_array().unwrap().len(), 0, "{plan:#}");
}

const BASE: &str = r#"
[enums.mood]
values = ["happy", "sad"]

[tables.people.columns]
id = { type = "bigserial", primary_key = true }
name = { type = "text", not_null = true }
mood = { type = "mood" }
"#;

#[test]
fn additive_changes_keep_the_data() {
    let db = TestDb::new("additive");
    let v1 = schema_of(BASE);
    assert_eq!(apply(v1.path(), &db, &[]).code, 0);
    db.sql("INSERT INTO people (name, mood) SELECT 'p' || g, CASE WHEN g % 2 = 0 THEN 'happy'::mood ELSE 'sad'::mood END FROM generate_series(1, 500) g");
    let before = db.query("SELECT id, name, mood FROM people ORDER BY id");

    let v2 = schema_of(&format!(
        r#"{}
nickname = {{ type = "text" }}
score = {{ type = "integer", not_null = true, default = 10 }}

[tables.people.indexes]
idx_people_name = {{ columns = ["name"] }}

[tables.pets.columns]
id = {{ type = "bigserial", primary_key = true }}
owner_id = {{ type = "bigint", not_null = true, references = "people(id)", on_delete = "cascade" }}
"#,
        BASE.replace(
            r#"values = ["happy", "sad"]"#,
            r#"values = ["happy", "meh", "sad"]"#
        )
    ));
    let r = apply(v2.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    for id in [
        "add-enum-value:mood.meh",
        "add-column:people.nickname",
        "add-column:people.score",
        "create-index:idx_people_name",
        "create-table:pets",
    ] {
        assert!(r.stdout.contains(id), "{id} not applied:\n{r}");
    }
    assert_eq!(
        db.query("SELECT id, name, mood FROM people ORDER BY id"),
        before,
        "data changed"
    );
    assert_eq!(
        db.query("SELECT count(*), count(nickname), min(score), max(score) FROM people"),
        ["500|0|10|10"]
    );
    assert_eq!(
        db.query("SELECT enum_range(NULL::mood)::text"),
        ["{happy,meh,sad}"]
    );
    let (_, plan) = plan_json(v2.path(), &db);
    assert_eq!(plan["statements"].as_array().unwrap().len(), 0, "{plan:#}");
    assert_eq!(db.history_count(), 2);
}

#[test]
fn a_held_lock_makes_apply_give_up_within_the_lock_timeout() {
    let db = TestDb::new("lock_timeout");
    let v1 = schema_of(BASE);
    assert_eq!(apply(v1.path(), &db, &[]).code, 0);
    let before = db.schema_snapshot();
    let blocker = Session::open(&db.url);
    blocker.exec("BEGIN; LOCK TABLE people IN ACCESS SHARE MODE");

    let v2 = schema_of(&format!("{BASE}nickname = {{ type = \"text\" }}\n"));
    let t = Instant::now();
    let r = apply(v2.path(), &db, &["--lock-timeout", "300ms"]);
    let elapsed = t.elapsed();
    blocker.exec("ROLLBACK");

    assert_eq!(r.code, 1, "{r}");
    assert!(
        elapsed >= Duration::from_millis(300),
        "gave up before the lock timeout: {elapsed:?}"
    );
    // Under the default (5 s), with 4 s left for a slow machine to start
    // and plan: the value given is the one used.
    assert!(
        elapsed < Duration::from_millis(4500),
        "took {elapsed:?} with a 300ms lock timeout"
    );
    assert!(
        r.stderr.contains("lock timeout: `ALTER TABLE public.people ADD COLUMN nickname text` waited longer than 300ms"),
        "{r}"
    );
    assert!(
        r.stderr
            .contains(&format!("blocked by pid {}", blocker.pid)),
        "the blocker is not named:\n{r}"
    );
    assert!(r.stderr.contains("our session: pid"), "{r}");
    assert_eq!(db.schema_snapshot(), before, "the schema changed");
    assert_eq!(db.history_count(), 1);
}

/// `--statement-timeout` is the one the statements run under: with no lock
/// timeout, a statement waiting for a lock is cancelled by it, and nothing of
/// the plan stays. (Without it the statement would wait for the blocker, which
/// lets go after 10 s, and then succeed.)
#[test]
fn a_statement_past_the_statement_timeout_is_cancelled_and_nothing_stays() {
    let db = TestDb::new("statement_timeout");
    let v1 = schema_of(BASE);
    assert_eq!(apply(v1.path(), &db, &[]).code, 0);
    let before = db.schema_snapshot();
    let blocker = Session::open(&db.url);
    blocker.exec("BEGIN; LOCK TABLE people IN ACCESS SHARE MODE");
    let v2 = schema_of(&format!(
        "{BASE}nickname = {{ type = \"text\" }}\n\n[tables.pets.columns]\nid = {{ type = \"bigint\" }}\n"
    ));
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let (r, elapsed) = std::thread::scope(|s| {
        let blocker = &blocker;
        s.spawn(move || {
            let _ = finished.recv_timeout(Duration::from_secs(10));
            blocker.exec("ROLLBACK");
        });
        let t = Instant::now();
        let r = apply(
            v2.path(),
            &db,
            &["--lock-timeout", "0", "--statement-timeout", "400ms"],
        );
        let _ = done.send(());
        (r, t.elapsed())
    });
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stderr
            .contains("canceling statement due to statement timeout"),
        "{r}"
    );
    assert!(
        elapsed < Duration::from_secs(10),
        "ran until the blocker let go: {elapsed:?}\n{r}"
    );
    assert_eq!(db.schema_snapshot(), before, "part of the plan stays");
    assert_eq!(db.history_count(), 1);
}

/// An event trigger that drops every index as it is created: the plan runs
/// without an error, but the result is not what the files say.
const UNDO_EVERY_INDEX: &str = r#"
CREATE FUNCTION public.undo_index() RETURNS event_trigger LANGUAGE plpgsql AS $f$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM pg_catalog.pg_event_trigger_ddl_commands()
           WHERE command_tag OPERATOR(pg_catalog.=) 'CREATE INDEX' LOOP
    EXECUTE pg_catalog.format('DROP INDEX %s', r.object_identity);
  END LOOP;
END
$f$;
CREATE EVENT TRIGGER undo_index ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
  EXECUTE FUNCTION public.undo_index();
"#;

/// Verification before COMMIT: once the statements ran, the catalog is read
/// again and compared with the files; a difference rolls everything back
/// (the column added with the index too) and records no history.
#[test]
fn a_result_that_differs_from_the_files_is_rolled_back_before_commit() {
    let db = TestDb::new("verify");
    let v1 = schema_of(BASE);
    assert_eq!(apply(v1.path(), &db, &[]).code, 0);
    db.sql(UNDO_EVERY_INDEX);
    let before = db.schema_snapshot();
    let v2 = schema_of(&format!(
        "{BASE}nickname = {{ type = \"text\" }}\n\n[tables.people.indexes]\nidx_people_name = {{ columns = [\"name\"] }}\n"
    ));
    let r = apply(v2.path(), &db, &[]);
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stderr
            .contains("after applying, the database still differs from the files (1 statement(s), 0 refusal(s))"),
        "{r}"
    );
    assert!(r.stderr.contains("rolled back"), "{r}");
    assert_eq!(db.schema_snapshot(), before, "the unverified plan stayed");
    assert_eq!(db.history_count(), 1, "the unverified plan was recorded");

    // Online, each phase commits as it goes: the same check runs at the end
    // and says what stayed.
    let r = apply(v2.path(), &db, &["--online"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stderr
            .contains("after applying, the database still differs from the files (1 statement(s), 0 refusal(s))"),
        "{r}"
    );
}

#[test]
fn two_applies_at_once_apply_once() {
    let db = TestDb::new("concurrent");
    let schema = repo().join("schema");
    let args = [
        "apply",
        "--schema",
        schema.to_str().unwrap(),
        "--database-url",
        &db.url,
    ];
    let (a, b) = (spawn(&args), spawn(&args));
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    for o in &outs {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let texts: Vec<String> = outs
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .collect();
    let applied = texts.iter().filter(|t| t.contains("Applied ")).count();
    let nothing = texts
        .iter()
        .filter(|t| t.contains("Nothing to apply"))
        .count();
    assert_eq!((applied, nothing), (1, 1), "{texts:#?}");
    assert_eq!(db.history_count(), 1);
}

#[test]
fn a_failing_statement_leaves_nothing_behind() {
    let db = TestDb::new("failing");
    db.sql("CREATE TABLE calls (id bigint PRIMARY KEY, sid text); INSERT INTO calls VALUES (1, 'a'), (2, 'a')");
    let before = db.schema_snapshot();
    let schema = schema_of(
        r#"
[tables.notes.columns]
id = { type = "bigserial", primary_key = true }

[tables.calls.columns]
id = { type = "bigint", primary_key = true }
sid = { type = "text" }
added = { type = "text" }

[tables.calls.indexes]
calls_sid_key = { columns = ["sid"], unique = true }
"#,
    );
    let r = apply(schema.path(), &db, &[]);
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stderr.contains("could not create unique index"),
        "PostgreSQL's message is missing:\n{r}"
    );
    assert!(
        r.stderr.contains("CREATE UNIQUE INDEX calls_sid_key"),
        "the statement is not shown:\n{r}"
    );
    assert!(
        r.stderr.contains("detail: Key (sid)=(a) is duplicated"),
        "{r}"
    );
    assert_eq!(db.schema_snapshot(), before, "part of the plan remains");
    assert!(!has_history_table(&db) || db.history_count() == 0);
}

#[test]
fn sigkill_during_apply_leaves_the_schema_as_before() {
    let db = TestDb::new("sigkill");
    let v1 = schema_of(BASE);
    assert_eq!(apply(v1.path(), &db, &[]).code, 0);
    let before = db.schema_snapshot();
    let blocker = Session::open(&db.url);
    blocker.exec("BEGIN; LOCK TABLE people IN ACCESS SHARE MODE");
    // Another session watches: pg_stat_activity is a snapshot within a transaction.
    let observer = Session::open(&db.url);

    // A new table (runs first), then a column on the locked table (waits).
    let v2 = schema_of(&format!("{BASE}nickname = {{ type = \"text\" }}\n[tables.later.columns]\nid = {{ type = \"integer\" }}\n"));
    let child = spawn(&[
        "apply",
        "--schema",
        v2.path().to_str().unwrap(),
        "--database-url",
        &db.url,
        "--lock-timeout",
        "60s",
    ]);
    let mut child = wait_or_kill(
        child,
        20,
        || observer.reconcile_sessions(" AND wait_event_type = 'Lock'") == 1,
        || {
            format!(
                "apply never waited on the lock (activity: {:?})",
                observer.value("SELECT string_agg(application_name || ':' || coalesce(wait_event_type, '-') || ':' || state || ':' || query, ' | ') FROM pg_stat_activity WHERE datname = current_database()")
            )
        },
    );
    assert!(
        observer.value("SELECT count(*) FROM pg_class WHERE relname = 'later'") == Some("0".into()),
        "the new table is visible before COMMIT"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    blocker.exec("ROLLBACK");
    let gone = wait_for(15, || observer.reconcile_sessions("") == 0);
    assert!(gone, "the killed apply's session is still there");
    assert_eq!(
        db.schema_snapshot(),
        before,
        "the killed apply left changes behind"
    );
    assert!(
        observer.apply_lock_is_free(),
        "the advisory lock is still held"
    );
    assert_eq!(db.history_count(), 1);
}

#[test]
fn a_stale_expected_plan_runs_nothing() {
    let db = TestDb::new("stale");
    let schema = repo().join("schema");
    let (_, plan) = plan_json(&schema, &db);
    let hash = plan["planHash"].as_str().unwrap().to_string();
    // The database changes between plan and apply.
    db.sql("CREATE TYPE alert_severity AS ENUM ('info', 'warning', 'critical')");
    let before = db.schema_snapshot();
    let r = apply(&schema, &db, &["--expect-plan", &hash]);
    assert_eq!(r.code, 3, "{r}");
    assert!(r.stderr.contains("the plan changed"), "{r}");
    assert_eq!(db.schema_snapshot(), before);
    assert!(!has_history_table(&db));

    // With the current hash it applies.
    let (_, plan) = plan_json(&schema, &db);
    let r = apply(
        &schema,
        &db,
        &["--expect-plan", plan["planHash"].as_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{r}");
}

#[test]
fn a_refused_change_runs_nothing_not_even_the_allowed_part() {
    let db = TestDb::new("refused_apply");
    db.sql("CREATE TABLE t (id bigint PRIMARY KEY, n integer)");
    let before = db.schema_snapshot();
    let schema = schema_of(
        "[tables.t.columns]\nid = { type = \"bigint\", primary_key = true }\nn = { type = \"bigint\" }\nextra = { type = \"text\" }\n[tables.u.columns]\nid = { type = \"integer\" }\n",
    );
    let r = apply(schema.path(), &db, &[]);
    assert_eq!(r.code, 3, "{r}");
    assert!(r.stderr.contains("R003"), "{r}");
    assert_eq!(db.schema_snapshot(), before);
    assert!(!has_history_table(&db));
}

/// The enum values a plan uses are committed first, then the lock is taken
/// again for the rest; if the database changed in between (here: an event
/// trigger that creates a table when the enum is altered), the rest is not
/// what was checked, and nothing more runs.
#[test]
fn a_database_changed_after_the_enum_values_stops_the_rest() {
    let db = TestDb::new("enum_then_changed");
    let v1 = schema_of(BASE);
    assert_eq!(apply(v1.path(), &db, &[]).code, 0);
    db.sql(
        "CREATE FUNCTION public.meddle() RETURNS event_trigger LANGUAGE plpgsql AS \
         $f$BEGIN CREATE TABLE IF NOT EXISTS public.surprise (id bigint); END$f$; \
         CREATE EVENT TRIGGER meddle ON ddl_command_end WHEN TAG IN ('ALTER TYPE') \
         EXECUTE FUNCTION public.meddle()",
    );
    let v2 = schema_of(&format!(
        "{}\nlabel = {{ type = \"mood\", default = \"'meh'\" }}\n\n[tables.surprise.columns]\nid = {{ type = \"bigint\" }}\n",
        BASE.replace(
            r#"values = ["happy", "sad"]"#,
            r#"values = ["happy", "meh", "sad"]"#
        )
    ));
    let r = apply(v2.path(), &db, &[]);
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stderr
            .contains("the database changed while the lock was released after the enum values"),
        "{r}"
    );
    assert!(r.stderr.contains("add-enum-value:mood.meh"), "{r}");
    assert_eq!(
        db.query("SELECT count(*) FROM pg_attribute WHERE attrelid = 'people'::regclass AND attname = 'label'"),
        ["0"],
        "the rest ran"
    );
}

/// Another apply holds the apply lock longer than this one waits
/// (`wait_for_other_apply`, here 1 s through the library): it gives up
/// with `Busy`, naming the holder, and runs nothing.
#[test]
fn an_apply_that_waits_too_long_for_the_lock_gives_up_naming_the_holder() {
    let db = TestDb::new("busy");
    let v1 = schema_of(BASE);
    assert_eq!(apply(v1.path(), &db, &[]).code, 0);
    let before = db.schema_snapshot();
    let holder = Session::open(&db.url);
    holder.exec(&format!(
        "BEGIN; SELECT pg_advisory_xact_lock({})",
        reconcile::apply::LOCK_KEY
    ));
    // The same key held in another database is another lock: not named.
    let other = TestDb::new("busy_other");
    let elsewhere = Session::open(&other.url);
    elsewhere.exec(&format!(
        "BEGIN; SELECT pg_advisory_xact_lock({})",
        reconcile::apply::LOCK_KEY
    ));
    let v2 = schema_of(&format!("{BASE}nickname = {{ type = \"text\" }}\n"));
    let target = reconcile::Target {
        schema_dir: v2.path().to_path_buf(),
        database_url: Some(db.url.clone()),
        exclude: Vec::new(),
    };
    let opts = reconcile::apply::ApplyOptions {
        wait_for_other_apply: Duration::from_secs(1),
        ..Default::default()
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    // An apply that never gives up gets the lock after 15 s, and applies.
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let (result, waited) = std::thread::scope(|s| {
        let holder = &holder;
        s.spawn(move || {
            let _ = finished.recv_timeout(Duration::from_secs(15));
            holder.exec("ROLLBACK");
        });
        let t = Instant::now();
        let result = rt.block_on(reconcile::apply_target(&target, &opts, &mut |_| {}));
        let _ = done.send(());
        (result, t.elapsed())
    });
    match result {
        Err(e @ reconcile::apply::ApplyError::Busy { .. }) => {
            assert_eq!(e.exit_code(), 1);
            assert!(
                e.to_string()
                    .contains(&format!("held by server process {} ", holder.pid)),
                "the holder is not named: {e}"
            );
            assert!(
                !e.to_string()
                    .contains(&format!("server process {} ", elsewhere.pid)),
                "a holder in another database is named: {e}"
            );
        }
        other => panic!("expected Busy, got {other:?}"),
    }
    assert!(waited >= Duration::from_secs(1), "gave up after {waited:?}");
    assert_eq!(db.schema_snapshot(), before);
}

/// The events of an apply through the library, as words: `planned HASH`,
/// `locked HASH`, `executed ID`, each with the time it came.
fn events_of(
    target: &reconcile::Target,
    opts: &reconcile::apply::ApplyOptions,
) -> (
    Result<reconcile::apply::Applied, reconcile::apply::ApplyError>,
    Vec<(String, Instant)>,
) {
    use reconcile::apply::Event;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut seen = Vec::new();
    let result = rt.block_on(reconcile::apply_target(target, opts, &mut |e| {
        let word = match e {
            Event::Planned(p) => format!("planned {}", p.plan_hash),
            Event::Locked(p) => format!("locked {}", p.plan_hash),
            Event::Executed { id, .. } => format!("executed {id}"),
            _ => return,
        };
        seen.push((word, Instant::now()));
    }));
    (result, seen)
}

/// Without --online, the plan shown first is the plan under the lock when
/// the lock is free (one plan, not two); when another apply holds it, the
/// plan is shown before waiting, and a refused one ends the apply at once,
/// without waiting.
#[test]
fn the_plan_is_shown_once_when_the_lock_is_free_and_before_waiting_when_it_is_not() {
    let db = TestDb::new("shown");
    let v1 = schema_of(BASE);
    assert_eq!(apply(v1.path(), &db, &[]).code, 0);
    let target_of = |dir: &std::path::Path| reconcile::Target {
        schema_dir: dir.to_path_buf(),
        database_url: Some(db.url.clone()),
        exclude: Vec::new(),
    };
    let opts = reconcile::apply::ApplyOptions {
        wait_for_other_apply: Duration::from_secs(60),
        ..Default::default()
    };

    // The lock is free: planned and locked with the same plan, then the statement.
    let v2 = schema_of(&format!("{BASE}nickname = {{ type = \"text\" }}\n"));
    let (result, seen) = events_of(&target_of(v2.path()), &opts);
    let applied = result.expect("applied");
    let words: Vec<&str> = seen.iter().map(|(w, _)| w.as_str()).collect();
    let hash = &applied.plan.plan_hash;
    assert_eq!(
        words,
        [
            format!("planned {hash}").as_str(),
            &format!("locked {hash}"),
            "executed add-column:people.nickname"
        ],
        "{seen:?}"
    );

    // Another apply holds the lock: a refused plan (a column's type
    // changed) is shown and ends the apply without waiting.
    let holder = Session::open(&db.url);
    holder.exec(&format!(
        "BEGIN; SELECT pg_advisory_xact_lock({})",
        reconcile::apply::LOCK_KEY
    ));
    let before = db.schema_snapshot();
    let refused = schema_of(
        &format!("{BASE}nickname = {{ type = \"text\" }}\n").replace(
            "name = { type = \"text\", not_null = true }",
            "name = { type = \"integer\", not_null = true }",
        ),
    );
    let t = Instant::now();
    let (result, seen) = events_of(&target_of(refused.path()), &opts);
    assert!(
        matches!(result, Err(reconcile::apply::ApplyError::Refused { .. })),
        "expected Refused, got {result:?}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "waited {:?} for a lock a refused plan does not need",
        t.elapsed()
    );
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].0.starts_with("planned "), "{seen:?}");
    assert_eq!(db.schema_snapshot(), before);

    // An allowed plan is shown before the wait, and applied once the lock is free.
    let v3 = schema_of(&format!(
        "{BASE}nickname = {{ type = \"text\" }}\nnote = {{ type = \"text\" }}\n"
    ));
    let (released_at, (result, seen)) = std::thread::scope(|s| {
        let holder = &holder;
        let release = s.spawn(move || {
            std::thread::sleep(Duration::from_secs(2));
            holder.exec("ROLLBACK");
            Instant::now()
        });
        let events = events_of(&target_of(v3.path()), &opts);
        (release.join().unwrap(), events)
    });
    let applied = result.expect("applied after the wait");
    let words: Vec<&str> = seen.iter().map(|(w, _)| w.as_str()).collect();
    let hash = &applied.plan.plan_hash;
    assert_eq!(
        words,
        [
            format!("planned {hash}").as_str(),
            &format!("locked {hash}"),
            "executed add-column:people.note"
        ],
        "{seen:?}"
    );
    assert!(
        seen[0].1 < released_at && seen[1].1 > released_at,
        "planned before the lock was released, locked after it: {seen:?}"
    );
}

/// The history row goes with the COMMIT in one round trip: when the row is
/// refused (here by a trigger), that COMMIT rolls everything back; the
/// error is the insert's, and it says nothing may have been committed.
#[test]
fn a_refused_history_row_rolls_the_apply_back_with_its_own_error() {
    let db = TestDb::new("history_refused");
    let v1 = schema_of(BASE);
    assert_eq!(apply(v1.path(), &db, &[]).code, 0);
    db.sql(
        "CREATE FUNCTION refuse_history() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN RAISE EXCEPTION 'history refused here'; END $$; \
         CREATE TRIGGER refuse_history BEFORE INSERT ON _reconcile.history \
         FOR EACH ROW EXECUTE FUNCTION refuse_history()",
    );
    let before = db.schema_snapshot();
    let v2 = schema_of(&format!("{BASE}nickname = {{ type = \"text\" }}\n"));
    let r = apply(v2.path(), &db, &[]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("history refused here"), "{r}");
    assert!(
        !r.stderr.contains("may have been committed"),
        "the COMMIT rolled back, and the error says otherwise: {r}"
    );
    assert_eq!(db.schema_snapshot(), before, "the column was committed");
    assert_eq!(db.history_count(), 1);
}
