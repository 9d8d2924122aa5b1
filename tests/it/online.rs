//! `apply --online` (SPEC §4) against a real PostgreSQL: the three phases
//! converge, a failed concurrent build and a killed apply are finished by the
//! next apply, a held lock is retried then named, enum values used in the same
//! plan apply in both modes, the hazards of a plan in text and JSON, and an
//! error outside any step names what stays committed.

use std::path::Path;

use crate::harness::{
    apply, assert_replan_empty, plan_as, plan_json, schema_of, spawn, wait_for, wait_or_kill,
    Session, TestDb,
};

const BASE: &str = r#"
[enums.status]
values = ["new", "open"]

[tables.owners.columns]
id = { type = "bigint", primary_key = true }

[tables.leads.columns]
id = { type = "bigint", primary_key = true }
owner_id = { type = "bigint" }
phone = { type = "text" }
status = { type = "status", default = "'new'" }
"#;

/// The base, plus what a deploy adds to the busy `leads`: a column, a foreign
/// key, a check, a unique constraint and an index.
fn grown() -> String {
    format!(
        r#"{BASE}note = {{ type = "text" }}

[tables.leads.foreign_keys]
leads_owner_fk = {{ columns = ["owner_id"], references = "owners(id)" }}

[tables.leads.checks]
leads_phone_len = "length(phone) < 40"

[tables.leads.unique]
leads_phone_owner_key = ["phone", "owner_id"]

[tables.leads.indexes]
idx_leads_phone = {{ columns = ["phone"] }}
"#
    )
}

/// A database with the base schema and `rows` leads spread over 10 owners.
fn busy_db(prefix: &str, rows: usize) -> TestDb {
    let db = TestDb::new(prefix);
    let base = schema_of(BASE);
    let r = apply(base.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    db.sql(&format!(
        "INSERT INTO owners SELECT g FROM generate_series(1, 10) g; \
         INSERT INTO leads (id, owner_id, phone) SELECT g, g % 10 + 1, 'p' || g FROM generate_series(1, {rows}) g; \
         ANALYZE"
    ));
    db
}

fn assert_converged(schema: &Path, db: &TestDb) {
    assert_replan_empty(schema, db);
    assert_eq!(
        db.query("SELECT bool_and(indisvalid) FROM pg_index WHERE indrelid = 'leads'::regclass"),
        ["t"],
        "an index of leads is invalid"
    );
    assert_eq!(
        db.query(
            "SELECT bool_and(convalidated) FROM pg_constraint WHERE conrelid = 'leads'::regclass"
        ),
        ["t"],
        "a constraint of leads is not validated"
    );
}

/// `mode:phase` of each history row, oldest first.
fn history(db: &TestDb) -> Vec<String> {
    db.query("SELECT mode || ':' || coalesce(phase::text, '-') FROM _reconcile.history ORDER BY id")
}

/// `apply --online` of `schema` (with `extra` arguments), returned once its
/// concurrent build waits in phase 2 (for an old snapshot held elsewhere).
fn spawn_online_until_phase_2(
    db: &TestDb,
    schema: &Path,
    observer: &Session,
    extra: &[&str],
) -> std::process::Child {
    let mut args = vec![
        "apply",
        "--online",
        "--schema",
        schema.to_str().unwrap(),
        "--database-url",
        &db.url,
    ];
    args.extend_from_slice(extra);
    wait_or_kill(
        spawn(&args),
        30,
        || {
            observer.reconcile_sessions(
                " AND query LIKE 'CREATE %INDEX CONCURRENTLY%' AND wait_event_type = 'Lock'",
            ) == 1
        },
        || "the online apply never waited in phase 2".to_string(),
    )
}

#[test]
fn online_apply_runs_three_phases_and_converges() {
    let db = busy_db("online_converges", 2000);
    let v2 = schema_of(&grown());
    let r = apply(v2.path(), &db, &["--online"]);
    assert_eq!(r.code, 0, "{r}");
    for phase in ["phase 1:", "phase 2:", "phase 3:"] {
        assert!(r.stdout.contains(phase), "no {phase}\n{r}");
    }
    assert_converged(v2.path(), &db);
    // A row per transaction (or per step outside one), as each commits.
    assert_eq!(
        history(&db),
        [
            "transaction:-",
            "online:1",
            "online:2",
            "online:2",
            "online:3",
            "online:3",
            "online:3"
        ]
    );
    // What each phase ran: NOT VALID first, CONCURRENTLY outside, VALIDATE last.
    let phase_sql = |p: i32| {
        db.query(&format!(
            "SELECT statements::text FROM _reconcile.history WHERE phase = {p}"
        ))
        .join("")
    };
    assert!(phase_sql(1).contains("NOT VALID"), "{}", phase_sql(1));
    assert!(!phase_sql(1).contains("CREATE INDEX"), "{}", phase_sql(1));
    assert!(
        phase_sql(2).contains("CREATE INDEX CONCURRENTLY idx_leads_phone")
            && phase_sql(2).contains("CREATE UNIQUE INDEX CONCURRENTLY leads_phone_owner_key"),
        "{}",
        phase_sql(2)
    );
    assert!(
        phase_sql(3).contains("VALIDATE CONSTRAINT leads_owner_fk")
            && phase_sql(3).contains("UNIQUE USING INDEX leads_phone_owner_key"),
        "{}",
        phase_sql(3)
    );
    // The session-level advisory lock is released.
    assert_eq!(
        db.query(&format!(
            "SELECT pg_try_advisory_xact_lock({})",
            reconcile::apply::LOCK_KEY
        )),
        ["t"]
    );
    // A second online apply changes nothing.
    let again = apply(v2.path(), &db, &["--online"]);
    assert_eq!(again.code, 0, "{again}");
    assert!(again.stdout.contains("Nothing to apply"), "{again}");
    assert_eq!(history(&db).len(), 7);
}

#[test]
fn a_failed_concurrent_unique_build_is_repaired_by_the_next_online_apply() {
    let db = busy_db("online_invalid_index", 500);
    db.sql("UPDATE leads SET phone = 'same' WHERE id IN (1, 2)");
    let v2 = schema_of(&format!(
        "{BASE}\n[tables.leads.indexes]\nidx_leads_phone_unique = {{ columns = [\"phone\"], unique = true }}\n"
    ));
    let r = apply(v2.path(), &db, &["--online"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("could not create unique index"), "{r}");
    assert!(
        r.stderr.contains("invalid"),
        "the note on the invalid index is missing\n{r}"
    );
    assert_eq!(
        db.query(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_leads_phone_unique'::regclass"
        ),
        ["f"],
        "PostgreSQL left no invalid index"
    );
    // The plan sees it and says how it repairs it.
    let (_, plan) = plan_json(v2.path(), &db);
    let ids: Vec<&str> = plan["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "drop-invalid-index:idx_leads_phone_unique",
            "create-index:idx_leads_phone_unique"
        ],
        "{plan:#}"
    );

    db.sql("DELETE FROM leads WHERE id = 2");
    let r = apply(v2.path(), &db, &["--online"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(
        r.stdout
            .contains("drop-invalid-index:idx_leads_phone_unique"),
        "{r}"
    );
    assert_converged(v2.path(), &db);
}

#[test]
fn an_online_apply_killed_between_phases_is_finished_by_the_next() {
    let db = busy_db("online_sigkill", 1000);
    // A transaction holding an old snapshot (and no lock on leads): a
    // concurrent build waits for it before it marks the index valid.
    let blocker = Session::open(&db.url);
    blocker.exec("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM pg_class");
    let observer = Session::open(&db.url);
    let v2 = schema_of(&grown());
    let mut child =
        spawn_online_until_phase_2(&db, v2.path(), &observer, &["--lock-timeout", "60s"]);
    // Phase 1 is committed: the column is there, the foreign key not yet validated.
    assert_eq!(
        observer.value("SELECT count(*) FROM pg_attribute WHERE attrelid = 'leads'::regclass AND attname = 'note'"),
        Some("1".into())
    );
    assert_eq!(
        observer.value("SELECT convalidated FROM pg_constraint WHERE conname = 'leads_owner_fk'"),
        Some("f".into())
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // The server notices the client is gone and cancels the build (then the
    // blocker ends): PostgreSQL leaves the index invalid.
    let gone = wait_for(15, || observer.reconcile_sessions("") == 0);
    let left = observer.value(
        "SELECT string_agg(pid || ' ' || coalesce(wait_event_type, '-') || '/' || coalesce(wait_event, '-') || ' ' || state || ': ' || query, ' | ') \
         FROM pg_stat_activity WHERE application_name = 'reconcile' AND datname = current_database()",
    );
    blocker.exec("ROLLBACK");
    assert!(gone, "the killed apply's session is still there: {left:?}");
    assert_eq!(
        observer.value(
            "SELECT count(*) FROM pg_index WHERE indrelid = 'leads'::regclass AND NOT indisvalid"
        ),
        Some("1".into()),
        "the killed build left no invalid index"
    );
    assert!(
        observer.apply_lock_is_free(),
        "the advisory lock outlived the killed session"
    );
    assert_eq!(history(&db), ["transaction:-", "online:1"]);

    let r = apply(v2.path(), &db, &["--online"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(
        r.stdout
            .contains("validate-constraint:leads.leads_owner_fk"),
        "{r}"
    );
    assert!(r.stdout.contains("drop-invalid-index:"), "{r}");
    assert_converged(v2.path(), &db);
}

#[test]
fn a_held_lock_is_retried_with_backoff_then_the_blocker_is_named() {
    let db = busy_db("online_lock", 100);
    let blocker = Session::open(&db.url);
    blocker.exec("BEGIN; LOCK TABLE leads IN ACCESS SHARE MODE");
    let v2 = schema_of(&grown());
    let started = std::time::Instant::now();
    let r = apply(
        v2.path(),
        &db,
        &[
            "--online",
            "--lock-timeout",
            "1500ms",
            "--lock-attempts",
            "2",
        ],
    );
    let took = started.elapsed();
    blocker.exec("ROLLBACK");
    assert_eq!(r.code, 1, "{r}");
    // Each attempt waits the value given: two waits of 1.5 s and a pause of
    // at most 0.5 s. With the online default of 1 s, waits and pause would
    // take 2.5 s at most; with the plain default of 5 s, 10 s at least. (The
    // upper bound leaves a slow machine 5 s to start and plan.)
    assert!(
        took >= std::time::Duration::from_secs(3) && took < std::time::Duration::from_secs(9),
        "took {took:?}\n{r}"
    );
    assert!(r.stdout.contains("(attempt 1 of 2)"), "no retry shown\n{r}");
    assert!(
        r.stdout
            .contains(&format!("blocked by pid {}", blocker.pid)),
        "{r}"
    );
    assert!(r.stderr.contains("(2 attempts)"), "{r}");
    assert!(r.stderr.contains("waited longer than 1.5s"), "{r}");
    assert!(
        r.stderr
            .contains(&format!("blocked by pid {}", blocker.pid)),
        "the blocker is not named\n{r}"
    );
    assert!(r.stderr.contains("nothing was applied"), "{r}");
    assert_eq!(
        db.query("SELECT count(*) FROM pg_attribute WHERE attrelid = 'leads'::regclass AND attname = 'note'"),
        ["0"],
        "phase 1 was not rolled back"
    );
    assert_eq!(history(&db), ["transaction:-"]);
}

#[test]
fn an_enum_value_used_as_a_default_in_the_same_plan_applies_in_both_modes() {
    let v2 = format!(
        "{}outcome = {{ type = \"status\", default = \"'won'\" }}\n",
        BASE.replace(r#"["new", "open"]"#, r#"["new", "open", "won"]"#)
    );
    let v2 = schema_of(&v2);
    for (mode, extra) in [("transaction", &[][..]), ("online", &["--online"][..])] {
        let db = busy_db(&format!("online_enum_{mode}"), 10);
        let (_, plan) = plan_json(v2.path(), &db);
        let value = &plan["statements"][0];
        assert_eq!(value["id"], "add-enum-value:status.won", "{plan:#}");
        assert_eq!(value["commitFirst"], true, "{plan:#}");
        let r = apply(v2.path(), &db, extra);
        assert_eq!(r.code, 0, "{mode}: {r}");
        assert_eq!(
            db.query("SELECT count(*) FROM leads WHERE outcome = 'won'"),
            ["10"],
            "{mode}"
        );
        assert_converged(v2.path(), &db);
        let h = history(&db);
        assert_eq!(h[1], format!("{mode}:0"), "{mode}: {h:?}");
    }
}

#[test]
fn a_plan_names_the_lock_and_hazard_of_each_statement_and_suggests_online() {
    let db = busy_db("online_hazards", 120_000);
    // A volatile default rewrites the table: --online cannot avoid that.
    let v2 = schema_of(&grown().replace(
        "note = { type = \"text\" }",
        "note = { type = \"text\" }\ntoken = { type = \"uuid\", default = \"gen_random_uuid()\" }",
    ));
    let (code, plan) = plan_json(v2.path(), &db);
    assert_eq!(code, 0, "{plan:#}");
    let stmt = |id: &str| {
        plan["statements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {plan:#}"))
            .clone()
    };
    let index = stmt("create-index:idx_leads_phone");
    assert_eq!(index["lock"], "SHARE");
    assert_eq!(index["hazard"], "blocks writes while it builds");
    assert!(index["tableRows"].as_i64().unwrap() >= 100_000, "{index:#}");
    assert!(index["tableBytes"].as_i64().unwrap() > 0, "{index:#}");
    assert_eq!(index["online"][0]["phase"], 2);
    assert!(index["online"][0]["sql"]
        .as_str()
        .unwrap()
        .starts_with("CREATE INDEX CONCURRENTLY idx_leads_phone"));
    let fk = stmt("add-foreign-key:leads.leads_owner_fk");
    assert_eq!(fk["lock"], "SHARE ROW EXCLUSIVE");
    assert_eq!(fk["hazard"], "scans the table to validate");
    let phases: Vec<i64> = fk["online"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["phase"].as_i64().unwrap())
        .collect();
    assert_eq!(phases, [1, 3], "{fk:#}");
    assert!(fk["online"][0]["sql"]
        .as_str()
        .unwrap()
        .ends_with("NOT VALID"));
    let check = stmt("add-constraint:leads.leads_phone_len");
    assert_eq!(check["lock"], "ACCESS EXCLUSIVE");
    assert_eq!(check["hazard"], "scans the table to validate");
    let note = stmt("add-column:leads.note");
    assert_eq!(note["lock"], "ACCESS EXCLUSIVE");
    assert!(note.get("hazard").is_none(), "{note:#}");
    let token = stmt("add-column:leads.token");
    assert_eq!(token["hazard"], "rewrites the table");

    let busy = plan["busyTables"].as_array().unwrap();
    assert_eq!(busy.len(), 1, "{plan:#}");
    assert_eq!(busy[0]["table"], "leads");
    assert!(busy[0]["rows"].as_i64().unwrap() >= 100_000);
    assert_eq!(
        busy[0]["onlineAvoids"], false,
        "a rewrite is not avoided online"
    );
    assert!(busy[0]["steps"]
        .as_array()
        .unwrap()
        .contains(&"create-index:idx_leads_phone".into()));

    let text = plan_as(v2.path(), &db, "text");
    assert_eq!(text.code, 0, "{text}");
    for words in [
        "[lock SHARE; blocks writes while it builds; ~",
        "[lock SHARE ROW EXCLUSIVE; scans the table to validate; ~",
        "with --online: index built CONCURRENTLY in phase 2",
        "with --online: added NOT VALID in phase 1, then validated in phase 3",
        "rewrites the table",
        "Busy tables:",
        "apply with --online",
    ] {
        assert!(text.stdout.contains(words), "no {words:?} in\n{text}");
    }

    // A small table: hazards still shown, no advice.
    let small = busy_db("online_hazards_small", 100);
    let (_, plan) = plan_json(v2.path(), &small);
    assert_eq!(
        plan["busyTables"].as_array().map(Vec::len),
        Some(0),
        "{plan:#}"
    );
    assert_eq!(
        plan["statements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "create-index:idx_leads_phone")
            .unwrap()["hazard"],
        "blocks writes while it builds"
    );
}

#[test]
fn a_unique_index_built_before_an_interruption_is_attached_not_built_again() {
    // As an online apply leaves it when stopped between phases 2 and 3.
    let v2 = schema_of(&grown());
    for (mode, extra) in [("online", &["--online"][..]), ("transaction", &[][..])] {
        let db = busy_db(&format!("online_attach_{mode}"), 100);
        db.sql("CREATE UNIQUE INDEX leads_phone_owner_key ON leads (phone, owner_id)");
        let (_, plan) = plan_json(v2.path(), &db);
        let sql: Vec<&str> = plan["statements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["sql"].as_str().unwrap())
            .collect();
        assert!(
            sql.contains(&"ALTER TABLE public.leads ADD CONSTRAINT leads_phone_owner_key UNIQUE USING INDEX leads_phone_owner_key"),
            "{plan:#}"
        );
        assert!(plan["unmanaged"].as_array().unwrap().is_empty(), "{plan:#}");
        let r = apply(v2.path(), &db, extra);
        assert_eq!(r.code, 0, "{mode}: {r}");
        assert_converged(v2.path(), &db);
    }
}

#[test]
fn online_forms_only_where_postgresql_allows_them() {
    // A partitioned table takes no index CONCURRENTLY (nor a NOT VALID foreign
    // key): its foreign key runs in phase 1 as it is; its index is built
    // partition by partition (`partition.rs`). An index's comment waits for
    // the index, built in phase 2.
    let events = "\n[tables.events]\npartition_by = \"RANGE (id)\"\n[tables.events.columns]\nid = { type = \"bigint\" }\nowner_id = { type = \"bigint\" }\n";
    let db = busy_db("online_partitioned", 100);
    let v1 = schema_of(&format!("{BASE}{events}"));
    let r = apply(v1.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    db.sql(
        "CREATE TABLE events_0 PARTITION OF events FOR VALUES FROM (0) TO (1000); \
            INSERT INTO events SELECT g, g % 10 + 1 FROM generate_series(1, 999) g",
    );
    let v2 = schema_of(&format!(
        "{BASE}{events}\n[tables.events.indexes]\nidx_events_owner = {{ columns = [\"owner_id\"] }}\n\
         \n[tables.events.foreign_keys]\nevents_owner_fk = {{ columns = [\"owner_id\"], references = \"owners(id)\" }}\n\
         \n[tables.leads.indexes]\nidx_leads_phone = {{ columns = [\"phone\"], comment = \"lookups by caller\" }}\n"
    ));
    let (_, plan) = plan_json(v2.path(), &db);
    let on_events: Vec<&serde_json::Value> = plan["statements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["table"] == "events")
        .collect();
    assert_eq!(on_events.len(), 2, "{plan:#}");
    let online = |id: &str| {
        on_events
            .iter()
            .find(|s| s["id"] == id)
            .and_then(|s| s.get("online"))
            .and_then(|o| o.as_array())
            .map(|o| {
                o.iter()
                    .map(|s| s["sql"].as_str().unwrap().to_string())
                    .collect::<Vec<_>>()
            })
    };
    assert_eq!(
        online("add-foreign-key:events.events_owner_fk"),
        None,
        "{plan:#}"
    );
    assert_eq!(
        online("create-index:idx_events_owner").unwrap_or_default(),
        [
            "CREATE INDEX idx_events_owner ON ONLY public.events (owner_id)",
            "CREATE INDEX CONCURRENTLY events_0_idx_events_owner ON public.events_0 (owner_id)",
            "ALTER INDEX public.idx_events_owner ATTACH PARTITION public.events_0_idx_events_owner",
        ],
        "{plan:#}"
    );
    let r = apply(v2.path(), &db, &["--online"]);
    assert_eq!(r.code, 0, "{r}");
    assert_converged(v2.path(), &db);
    assert_eq!(
        db.query("SELECT obj_description('idx_leads_phone'::regclass, 'pg_class')"),
        ["lookups by caller"]
    );
}

/// An online apply waiting in phase 2 for an old snapshot (the blocker), and
/// a plain apply of the same files started meanwhile: the plain one.
fn online_apply_in_phase_2_and_a_plain_apply_waiting(
    prefix: &str,
) -> (
    TestDb,
    tempfile::TempDir,
    Session,
    Session,
    std::process::Child,
    std::process::Child,
) {
    let db = busy_db(prefix, 1000);
    let blocker = Session::open(&db.url);
    blocker.exec("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM pg_class");
    let observer = Session::open(&db.url);
    let v2 = schema_of(&grown());
    let online = spawn_online_until_phase_2(&db, v2.path(), &observer, &[]);
    let plain = spawn(&[
        "apply",
        "--schema",
        v2.path().to_str().unwrap(),
        "--database-url",
        &db.url,
    ]);
    // Past PostgreSQL's deadlock_timeout (1 s), with the plain apply waiting
    // for the apply lock all along.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    (db, v2, blocker, observer, online, plain)
}

/// A plain apply that waits for the apply lock while an online apply builds
/// an index concurrently holds no snapshot that the build would wait for: no
/// deadlock (40P01); once the online apply is done, it finds nothing to do.
#[test]
fn a_plain_apply_waits_for_an_online_apply_without_deadlock() {
    let (db, v2, blocker, _observer, online, plain) =
        online_apply_in_phase_2_and_a_plain_apply_waiting("online_wait");
    blocker.exec("ROLLBACK");
    let online = crate::harness::Run::from(online.wait_with_output().unwrap());
    let plain = crate::harness::Run::from(plain.wait_with_output().unwrap());
    assert_eq!(online.code, 0, "the online apply: {online}");
    assert_eq!(plain.code, 0, "the plain apply: {plain}");
    assert!(
        !format!("{online}{plain}").contains("deadlock"),
        "{online}\n{plain}"
    );
    assert!(
        plain.stdout.contains("Nothing to apply"),
        "the plain apply ran something: {plain}"
    );
    assert_converged(v2.path(), &db);
}

/// An online apply that stops (here: killed) while a plain apply waits: the
/// plain apply does not build the rest in one transaction (indexes without
/// CONCURRENTLY); it says to finish with --online, and runs nothing.
#[test]
fn a_plain_apply_leaves_an_unfinished_online_apply_to_apply_online() {
    let (db, v2, blocker, observer, mut online, plain) =
        online_apply_in_phase_2_and_a_plain_apply_waiting("online_unfinished");
    online.kill().unwrap(); // SIGKILL
    online.wait().unwrap();
    let plain = crate::harness::Run::from(plain.wait_with_output().unwrap());
    blocker.exec("ROLLBACK");
    assert_eq!(plain.code, 1, "{plain}");
    assert!(plain.stderr.contains("reconcile apply --online"), "{plain}");
    assert_eq!(
        observer.value(
            "SELECT count(*) FROM pg_index WHERE indrelid = 'leads'::regclass AND indisvalid \
             AND indexrelid::regclass::text IN ('idx_leads_phone', 'leads_phone_owner_key')"
        ),
        Some("0".into()),
        "the plain apply built the online apply's indexes"
    );
    let r = apply(v2.path(), &db, &["--online"]);
    assert_eq!(r.code, 0, "{r}");
    assert_converged(v2.path(), &db);
}

/// The session holding `key` (as `pg_locks` shows a bigint advisory key: its
/// high half in `classid`, its low half in `objid`), in `mode`, and what it runs.
fn advisory_holders(observer: &Session, key: i64, mode: &str) -> Vec<String> {
    let k = key as u64;
    observer
        .value(&format!(
            "SELECT coalesce(string_agg(a.query, ' | '), '') FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {} AND l.objid = {} AND l.objsubid = 1 \
             AND l.mode = '{mode}' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            k >> 32,
            k & 0xffff_ffff
        ))
        .unwrap_or_default()
        .split(" | ")
        .filter(|q| !q.is_empty())
        .map(str::to_string)
        .collect()
}

/// SPEC: every phase of an online apply runs under the advisory lock, held
/// for the whole apply. While phase 2 waits (its concurrent build waits for
/// an old snapshot), the session that builds holds the apply lock, nobody
/// else can take it, and it is given back at the end.
#[test]
fn the_apply_lock_is_held_by_the_online_apply_while_phase_2_waits() {
    let db = busy_db("online_lock_held", 1000);
    let blocker = Session::open(&db.url);
    blocker.exec("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM pg_class");
    let observer = Session::open(&db.url);
    let v2 = schema_of(&grown());
    let online = spawn_online_until_phase_2(&db, v2.path(), &observer, &[]);
    let exclusive = advisory_holders(&observer, reconcile::apply::LOCK_KEY, "ExclusiveLock");
    let shared = advisory_holders(&observer, reconcile::apply::ONLINE_KEY, "ShareLock");
    let free = observer.apply_lock_is_free();
    blocker.exec("ROLLBACK");
    let online = crate::harness::Run::from(online.wait_with_output().unwrap());
    assert_eq!(online.code, 0, "{online}");
    assert_eq!(exclusive.len(), 1, "apply lock holders: {exclusive:?}");
    assert!(
        exclusive[0].starts_with("CREATE INDEX CONCURRENTLY")
            || exclusive[0].starts_with("CREATE UNIQUE INDEX CONCURRENTLY"),
        "the apply lock is not held by the session that builds: {exclusive:?}"
    );
    assert_eq!(shared, exclusive, "the online key's holders");
    assert!(!free, "another session took the apply lock during phase 2");
    assert!(observer.apply_lock_is_free(), "the lock outlived the apply");
    assert_converged(v2.path(), &db);
}

/// An online apply of `grown()` through the library whose history rows are
/// refused by a trigger once their statements match `pattern`: the error
/// comes from outside any step (the history row), after or before a commit.
fn online_apply_with_history_refused(prefix: &str, pattern: &str) -> reconcile::apply::ApplyError {
    let db = busy_db(prefix, 100);
    db.sql(&format!(
        "CREATE FUNCTION refuse_history() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.statements::text LIKE '{pattern}' THEN RAISE EXCEPTION 'history refused'; END IF; \
         RETURN NEW; END $$; \
         CREATE TRIGGER refuse_history BEFORE INSERT ON _reconcile.history \
         FOR EACH ROW EXECUTE FUNCTION refuse_history()"
    ));
    let v2 = schema_of(&grown());
    let target = reconcile::Target {
        schema_dir: v2.path().to_path_buf(),
        database_url: Some(db.url.clone()),
        exclude: Vec::new(),
    };
    let opts = reconcile::apply::ApplyOptions {
        online: true,
        ..Default::default()
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let result = rt.block_on(reconcile::apply_target(&target, &opts, &mut |_| {}));
    let e = result.expect_err("the history trigger let the apply through");
    assert_eq!(e.exit_code(), 1, "{e}");
    assert!(e.to_string().contains("history refused"), "{e}");
    e
}

#[test]
fn an_online_apply_stopped_outside_a_step_names_what_stays_committed() {
    use reconcile::apply::ApplyError;
    // After phase 1 committed and the first concurrent build ran: both stay,
    // and the error says so.
    match online_apply_with_history_refused("online_stopped_after", "%CONCURRENTLY%") {
        ApplyError::Stopped { committed, .. } => {
            assert!(
                committed.contains(&"add-column:leads.note".to_string())
                    && committed.iter().any(|id| id.starts_with("create-index:")),
                "{committed:?}"
            );
        }
        other => panic!("expected Stopped naming the committed steps, got {other:?}"),
    }
    // In phase 1's transaction, before anything committed: the SQL error
    // itself, with its SQLSTATE for the caller (the admin endpoint answers it).
    match online_apply_with_history_refused("online_stopped_before", "%NOT VALID%") {
        ApplyError::Other(reconcile::Error::Sql(sql)) => {
            assert_eq!(sql.code.as_deref(), Some("P0001"), "{sql:?}")
        }
        other => panic!("expected the SQL error as it is, got {other:?}"),
    }
}

/// A trigger on a busy table takes SHARE ROW EXCLUSIVE: the plan says so;
/// online, phase 1 waits for a writer under the lock timeout, is retried,
/// and applies once the writer commits; the next plan is empty.
#[test]
fn a_trigger_on_a_busy_table_waits_for_writers_and_is_retried() {
    let db = busy_db("online_trigger", 100);
    let with_trigger = format!(
        r#"{BASE}
[tables.leads.triggers.leads_touch]
timing = "before"
events = ["update"]
for_each = "row"
function = "touch"

[functions.touch]
returns = "trigger"
language = "plpgsql"
body = "BEGIN NEW.phone = lower(NEW.phone); RETURN NEW; END"
"#
    );
    let v2 = schema_of(&with_trigger);
    let (_, plan) = plan_json(v2.path(), &db);
    let trigger = plan["statements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "create-trigger:leads.leads_touch")
        .unwrap_or_else(|| panic!("no trigger statement: {plan:#}"));
    assert_eq!(trigger["lock"], "SHARE ROW EXCLUSIVE", "{trigger:#}");
    assert!(
        trigger["hazard"]
            .as_str()
            .unwrap()
            .contains("blocks writes"),
        "{trigger:#}"
    );

    let writer = Session::open(&db.url);
    writer.exec("BEGIN; UPDATE leads SET phone = phone WHERE id = 1");
    let args = [
        "apply",
        "--online",
        "--yes",
        "--schema",
        v2.path().to_str().unwrap(),
        "--database-url",
        &db.url,
        "--lock-timeout",
        "300ms",
        "--lock-attempts",
        "20",
    ];
    let observer = Session::open(&db.url);
    let child = wait_or_kill(
        spawn(&args),
        30,
        || {
            observer
                .reconcile_sessions(" AND query NOT LIKE '%advisory%' AND wait_event_type = 'Lock'")
                == 1
        },
        || "the online apply never waited for the writer".to_string(),
    );
    // Seen waiting: its first attempt times out (300ms) before the writer goes.
    std::thread::sleep(std::time::Duration::from_millis(700));
    writer.exec("COMMIT");
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("(attempt 1 of 20)"),
        "no retry shown\n{stdout}"
    );
    assert_replan_empty(v2.path(), &db);
    db.sql("UPDATE leads SET phone = 'ABC' WHERE id = 2");
    assert_eq!(db.query("SELECT phone FROM leads WHERE id = 2"), ["abc"]);
}
