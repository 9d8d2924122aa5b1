//! Privileges: granted when the files list them and the database lacks
//! them (plain and online), reported and kept when only the database has
//! them (never revoked, also once the files that listed them are gone), and
//! reproduced by `dump` on a corpus schema (source and rebuilt database
//! compared with `aclexplode`).
//!
//! Roles are cluster-wide: each test makes its own, named after its test
//! database, and drops them at the end (`Roles`).

use std::path::Path;

use crate::harness::{apply, cluster, corpus, plan_json, psql_ok, run, schema_of, TestDb};

/// Roles made for one test, dropped when it ends: first what they hold in
/// each database given (`DROP OWNED`), then the roles.
struct Roles {
    names: Vec<String>,
    dbs: Vec<String>,
}

impl Roles {
    /// `CREATE ROLE <base>_<suffix>` for each base.
    fn new(suffix: &str, bases: &[&str]) -> Roles {
        let names: Vec<String> = bases.iter().map(|b| format!("{b}_{suffix}")).collect();
        for n in &names {
            psql_ok(&cluster().admin_url, &format!("CREATE ROLE {n}"));
        }
        Roles {
            names,
            dbs: Vec::new(),
        }
    }
    fn used_in(&mut self, db: &TestDb) {
        self.dbs.push(db.url.clone());
    }
}

impl Drop for Roles {
    fn drop(&mut self) {
        let list = self.names.join(", ");
        let psql = |url: &str, sql: &str| {
            let _ = std::process::Command::new("psql")
                .args(["-X", "-q", "-d", url, "-c", sql])
                .output();
        };
        for url in &self.dbs {
            psql(url, &format!("DROP OWNED BY {list}"));
        }
        psql(&cluster().admin_url, &format!("DROP ROLE IF EXISTS {list}"));
    }
}

/// The explicit privileges of a database, owner's aside, one line each
/// (`kind object grantee privilege grantable`), sorted.
fn acl(db: &TestDb) -> Vec<String> {
    let mut rows = db.query(
        "WITH o(kind, name, acl, owner) AS ( \
           SELECT 'rel', c.oid::regclass::text, c.relacl, c.relowner FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', '_reconcile') \
               AND n.nspname NOT LIKE 'pg\\_%' \
           UNION ALL SELECT 'col', a.attrelid::regclass::text || '.' || a.attname, a.attacl, c.relowner \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', '_reconcile') AND n.nspname NOT LIKE 'pg\\_%' \
           UNION ALL SELECT 'fn', p.oid::regprocedure::text, p.proacl, p.proowner FROM pg_proc p \
             JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', '_reconcile') \
           UNION ALL SELECT 'type', t.oid::regtype::text, t.typacl, t.typowner FROM pg_type t \
             JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', '_reconcile') \
           UNION ALL SELECT 'schema', n.nspname, n.nspacl, n.nspowner FROM pg_namespace n \
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', '_reconcile') AND n.nspname NOT LIKE 'pg\\_%') \
         SELECT o.kind || ' ' || o.name || ' ' || CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END \
                || ' ' || a.privilege_type || ' ' || a.is_grantable \
         FROM o, aclexplode(o.acl) a WHERE o.acl IS NOT NULL AND a.grantee <> o.owner",
    );
    rows.sort();
    rows
}

/// The step ids of a JSON plan.
fn ids(plan: &serde_json::Value) -> Vec<String> {
    plan["statements"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| s["id"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The unmanaged objects of a JSON plan, as `kind name`.
fn unmanaged(plan: &serde_json::Value) -> Vec<String> {
    plan["unmanaged"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|u| {
                    format!(
                        "{} {}",
                        u["kind"].as_str().unwrap_or(""),
                        u["name"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

const SETUP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric); \
     CREATE FUNCTION add1(a integer) RETURNS integer LANGUAGE sql AS 'select a + 1';";

fn files(reader: &str, writer: &str) -> String {
    format!(
        r#"
schemas = ["reporting"]

[schema_grants.reporting]
{reader} = ["usage"]

[enums.mood]
values = ["ok", "sad"]
grants = {{ {reader} = ["usage"] }}

[sequences.counter]
grants = {{ {reader} = ["select", "usage"] }}

[tables.orders]
grants = {{ {reader} = ["select"], {writer} = {{ privileges = ["insert", "update"], with_grant_option = true }} }}

[tables.orders.columns]
id = {{ type = "bigint", primary_key = true }}
total = {{ type = "numeric", grants = {{ {reader} = ["update"] }} }}

[functions.add1]
arguments = "a int"
returns = "int"
language = "sql"
body = "select a + 1"
grants = {{ {reader} = ["execute"], public = ["execute"] }}

[views.totals]
query = "select sum(total) as total from orders"
grants = {{ public = ["select"] }}
"#
    )
}

/// Every kind's grant is planned after its object, applied plainly and
/// online, and the database then has exactly those privileges: planning
/// again runs nothing.
#[test]
fn grants_the_files_list_are_applied_plain_and_online_and_converge() {
    let probe = TestDb::new("grants_added");
    let suffix = probe.name.clone();
    let mut roles = Roles::new(&suffix, &["reader", "writer"]);
    let (reader, writer) = (roles.names[0].clone(), roles.names[1].clone());
    let schema = schema_of(&files(&reader, &writer));
    for online in [false, true] {
        let db = TestDb::new(if online {
            "grants_added_online"
        } else {
            "grants_added_plain"
        });
        roles.used_in(&db);
        db.sql(SETUP);
        let (code, plan) = plan_json(schema.path(), &db);
        assert_eq!(code, 0, "{plan:#}");
        let steps = ids(&plan);
        let grants: Vec<&str> = steps
            .iter()
            .map(String::as_str)
            .filter(|i| i.starts_with("grant"))
            .collect();
        assert_eq!(
            grants,
            [
                format!("grant-schema:reporting:{reader}"),
                format!("grant-type:mood:{reader}"),
                format!("grant-sequence:counter:{reader}"),
                format!("grant-routine:add1(integer):{reader}"),
                // Not `grant-routine:add1(integer):public`: PostgreSQL gives
                // EXECUTE to PUBLIC already.
                "grant:totals:public".to_string(),
                format!("grant:orders:{reader}"),
                format!("grant:orders:{writer}:with-grant-option"),
                format!("grant-column:orders.total:{reader}"),
            ]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
            "{plan:#}"
        );
        // The grants come after the objects they are on.
        let pos = |id: &str| steps.iter().position(|i| i == id).unwrap();
        assert!(
            pos("create-view:totals") < pos("grant:totals:public"),
            "{steps:?}"
        );
        for s in plan["statements"].as_array().unwrap() {
            if s["id"].as_str().unwrap().starts_with("grant") {
                assert_eq!(s["lock"], "none", "{s:#}");
                assert!(!s["sql"].as_str().unwrap().contains("REVOKE"));
            }
        }
        let extra: &[&str] = if online { &["--online"] } else { &[] };
        let r = apply(schema.path(), &db, extra);
        assert_eq!(r.code, 0, "{r}");
        let (code, again) = plan_json(schema.path(), &db);
        assert_eq!(code, 0, "{again:#}");
        assert_eq!(ids(&again), Vec::<String>::new(), "{again:#}");
        assert_eq!(unmanaged(&again), Vec::<String>::new(), "{again:#}");
        let acl = acl(&db);
        for want in [
            format!("rel orders {writer} INSERT true"),
            format!("rel orders {writer} UPDATE true"),
            format!("rel orders {reader} SELECT false"),
            format!("col orders.total {reader} UPDATE false"),
            format!("rel counter {reader} USAGE false"),
            format!("fn add1(integer) {reader} EXECUTE false"),
            format!("type mood {reader} USAGE false"),
            format!("schema reporting {reader} USAGE false"),
            "rel totals PUBLIC SELECT false".to_string(),
        ] {
            assert!(acl.contains(&want), "{want} missing from {acl:#?}");
        }
        assert!(
            !acl.iter().any(|a| a.contains(&format!("{reader} INSERT"))),
            "{acl:#?}"
        );
    }
}

/// A privilege only the database has (another role's, another privilege of
/// a role the files name, a grant option) is reported as unmanaged and kept:
/// nothing runs, a second plan says the same, and after the files that
/// granted it drop the grant (three sides), it is still reported, not revoked.
#[test]
fn privileges_only_the_database_has_are_reported_and_never_revoked() {
    let db = TestDb::new("grants_extra");
    let mut roles = Roles::new(&db.name, &["reader", "auditor"]);
    roles.used_in(&db);
    let (reader, auditor) = (roles.names[0].clone(), roles.names[1].clone());
    db.sql(SETUP);
    let with_grant = schema_of(&format!(
        r#"
[tables.orders]
grants = {{ {reader} = ["select", "insert"] }}
[tables.orders.columns]
id = {{ type = "bigint", primary_key = true }}
total = {{ type = "numeric" }}
"#
    ));
    let r = apply(with_grant.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    db.sql(&format!(
        "GRANT DELETE ON orders TO {reader}; GRANT SELECT ON orders TO {auditor} WITH GRANT OPTION; \
         GRANT UPDATE (total) ON orders TO {auditor}"
    ));
    let before = acl(&db);
    let want = |files: &Path, expected: &[String]| {
        for _ in 0..2 {
            let (code, plan) = plan_json(files, &db);
            assert_eq!(code, 0, "{plan:#}");
            assert_eq!(ids(&plan), Vec::<String>::new(), "{plan:#}");
            assert!(
                plan["refused"].as_array().is_none_or(Vec::is_empty),
                "{plan:#}"
            );
            let mut got: Vec<String> = unmanaged(&plan)
                .into_iter()
                .filter(|u| u.starts_with("privilege"))
                .collect();
            got.sort();
            let mut expected = expected.to_vec();
            expected.sort();
            assert_eq!(got, expected, "{plan:#}");
            let r = apply(files, &db, &[]);
            assert_eq!(r.code, 0, "{r}");
            assert_eq!(acl(&db), before, "a privilege was revoked");
        }
    };
    want(
        with_grant.path(),
        &[
            format!("privilege DELETE on orders to {reader}"),
            format!("privilege SELECT on orders to {auditor}"),
            format!("privilege UPDATE on column orders.total to {auditor}"),
        ],
    );
    // The files drop the reader's grants: reported, not revoked (no R001).
    let without = schema_of(
        r#"
[tables.orders]
[tables.orders.columns]
id = { type = "bigint", primary_key = true }
total = { type = "numeric" }
"#,
    );
    want(
        without.path(),
        &[
            format!("privilege DELETE on orders to {reader}"),
            format!("privilege INSERT on orders to {reader}"),
            format!("privilege SELECT on orders to {reader}"),
            format!("privilege SELECT on orders to {auditor}"),
            format!("privilege UPDATE on column orders.total to {auditor}"),
        ],
    );
    // The files name the auditor's SELECT without its grant option: the
    // option alone is reported.
    let without_option = schema_of(&format!(
        r#"
[tables.orders]
grants = {{ {auditor} = ["select"] }}
[tables.orders.columns]
id = {{ type = "bigint", primary_key = true }}
total = {{ type = "numeric", grants = {{ {auditor} = ["update"] }} }}
"#
    ));
    want(
        without_option.path(),
        &[
            format!("privilege DELETE on orders to {reader}"),
            format!("privilege INSERT on orders to {reader}"),
            format!("privilege SELECT on orders to {reader}"),
            format!("privilege grant option of SELECT on orders to {auditor}"),
        ],
    );
    // A default privilege revoked (EXECUTE of PUBLIC on a function) cannot
    // be said by the files, which only grant: plan and dump list it.
    db.sql("REVOKE EXECUTE ON FUNCTION add1(integer) FROM PUBLIC");
    // Nor has it a place for a serial column's sequence's privileges.
    db.sql(&format!(
        "CREATE TABLE tickets (id serial PRIMARY KEY); GRANT USAGE ON SEQUENCE tickets_id_seq TO {reader}"
    ));
    let revoked = "revoked default privilege EXECUTE on routine add1(integer) from PUBLIC";
    let (_, plan) = plan_json(without_option.path(), &db);
    assert!(unmanaged(&plan).iter().any(|u| u == revoked), "{plan:#}");
    let out = tempfile::tempdir().expect("a temporary directory");
    let r = run(&[
        "dump",
        "--database-url",
        &db.url,
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{r}");
    assert!(
        r.stderr
            .contains("EXECUTE on routine add1(integer) from PUBLIC"),
        "{r}"
    );
    assert!(
        r.stderr
            .contains(&format!("USAGE on sequence tickets_id_seq to {reader}")),
        "{r}"
    );
}

/// Grants of every kind on a corpus schema: dumped, applied to an empty
/// database (the same roles exist, being cluster-wide), and the two
/// databases' ACLs agree; the dump plans empty against its source.
fn round_trip(name: &str) {
    let Some(corpus) = corpus() else {
        return;
    };
    let a = TestDb::new(&format!("grants_a_{name}"));
    let mut roles = Roles::new(&a.name, &["reader", "writer"]);
    roles.used_in(&a);
    let (reader, writer) = (roles.names[0].clone(), roles.names[1].clone());
    a.load_file(&corpus.join(name).join("schema.sql"));
    let user_schema =
        "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'";
    let not_ext =
        "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = x.oid AND d.deptype = 'e')";
    a.sql(&format!(
        "DO $$ DECLARE r record; BEGIN \
           FOR r IN SELECT x.oid::regclass AS t FROM pg_class x JOIN pg_namespace n ON n.oid = x.relnamespace \
             WHERE x.relkind = 'r' AND NOT x.relispartition AND {user_schema} AND {not_ext} ORDER BY 1 LIMIT 3 LOOP \
             EXECUTE format('GRANT SELECT ON %s TO {reader}', r.t); \
             EXECUTE format('GRANT INSERT, UPDATE ON %s TO {writer} WITH GRANT OPTION', r.t); \
           END LOOP; \
           FOR r IN SELECT x.attrelid::regclass AS t, x.attname FROM pg_attribute x JOIN pg_class c ON c.oid = x.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'r' AND NOT c.relispartition AND x.attnum > 0 AND NOT x.attisdropped AND {user_schema} \
             ORDER BY c.relname DESC, x.attnum LIMIT 1 LOOP \
             EXECUTE format('GRANT UPDATE (%I), REFERENCES (%I) ON %s TO {writer}', r.attname, r.attname, r.t); \
           END LOOP; \
           FOR r IN SELECT x.oid::regprocedure AS f FROM pg_proc x JOIN pg_namespace n ON n.oid = x.pronamespace \
             WHERE x.prokind = 'f' AND {user_schema} AND {not_ext} ORDER BY 1 LIMIT 2 LOOP \
             EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO {reader}', r.f); \
           END LOOP; \
           FOR r IN SELECT x.oid::regtype AS t FROM pg_type x JOIN pg_namespace n ON n.oid = x.typnamespace \
             WHERE x.typtype IN ('e', 'd') AND {user_schema} AND {not_ext} ORDER BY 1 LIMIT 2 LOOP \
             EXECUTE format('GRANT USAGE ON TYPE %s TO {reader}', r.t); \
           END LOOP; \
           FOR r IN SELECT x.oid::regclass AS v FROM pg_class x JOIN pg_namespace n ON n.oid = x.relnamespace \
             WHERE x.relkind = 'v' AND {user_schema} AND {not_ext} ORDER BY 1 LIMIT 1 LOOP \
             EXECUTE format('GRANT SELECT ON %s TO PUBLIC', r.v); \
           END LOOP; \
         END $$; \
         CREATE SEQUENCE grants_counter; GRANT USAGE, SELECT ON SEQUENCE grants_counter TO {reader}; \
         CREATE SCHEMA grants_reporting; GRANT USAGE, CREATE ON SCHEMA grants_reporting TO {reader};"
    ));
    let source = acl(&a);
    for kind in ["rel ", "col ", "fn ", "schema grants_reporting"] {
        assert!(
            source.iter().any(|l| l.starts_with(kind)),
            "{name}: no {kind} grant in {source:#?}"
        );
    }
    let out = tempfile::tempdir().expect("a temporary directory");
    let r = run(&[
        "dump",
        "--database-url",
        &a.url,
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{r}");
    let (code, plan) = plan_json(out.path(), &a);
    assert_eq!(code, 0, "{plan:#}");
    assert_eq!(
        ids(&plan),
        Vec::<String>::new(),
        "{name}: the dump plans against its source: {plan:#}"
    );
    assert!(
        !unmanaged(&plan).iter().any(|u| u.starts_with("privilege")),
        "{plan:#}"
    );

    let b = TestDb::new(&format!("grants_b_{name}"));
    roles.used_in(&b);
    // What the format does not manage (pagila's aggregate), as the dump
    // round trip gives it.
    crate::dump::load_prelude(name, &a, &b);
    let r = apply(out.path(), &b, &[]);
    assert_eq!(r.code, 0, "{name}: apply of the dump:\n{r}");
    assert_eq!(
        acl(&b),
        source,
        "{name}: the rebuilt database's privileges differ"
    );
}

#[test]
fn grants_round_trip_through_dump_pagila() {
    round_trip("pagila");
}

#[test]
fn grants_round_trip_through_dump_supabase_auth() {
    round_trip("supabase_auth");
}

/// Supabase's way: `ALTER DEFAULT PRIVILEGES` gives a role every privilege
/// on each new table. A table the plan creates gets them from PostgreSQL:
/// with the files listing them, the next plan is empty; without, it runs
/// nothing and reports them (no churn, no REVOKE).
#[test]
fn default_privileges_on_a_new_table_neither_churn_nor_are_revoked() {
    let probe = TestDb::new("grants_defaults");
    let mut roles = Roles::new(&probe.name, &["anon"]);
    let anon = roles.names[0].clone();
    for listed in [true, false] {
        let db = TestDb::new("grants_defaults_db");
        roles.used_in(&db);
        db.sql(&format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO {anon}"
        ));
        let grants = if listed {
            format!("grants = {{ {anon} = \"all\" }}")
        } else {
            String::new()
        };
        let schema = schema_of(&format!(
            "[tables.notes]\n{grants}\n[tables.notes.columns]\nid = {{ type = \"bigint\", primary_key = true }}\n"
        ));
        let r = apply(schema.path(), &db, &[]);
        assert_eq!(r.code, 0, "{r}");
        let (code, again) = plan_json(schema.path(), &db);
        assert_eq!(code, 0, "{again:#}");
        assert_eq!(ids(&again), Vec::<String>::new(), "{again:#}");
        let reported = unmanaged(&again)
            .iter()
            .filter(|u| u.starts_with("privilege"))
            .count();
        assert_eq!(reported, if listed { 0 } else { 7 }, "{again:#}");
        let held = acl(&db)
            .iter()
            .filter(|a| a.starts_with(&format!("rel notes {anon} ")))
            .count();
        assert_eq!(held, 7, "listed: {listed}");
        db.sql(&format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {anon}"
        ));
    }
}

/// GRANT takes no lock on the table (the plan says `none`): it runs while
/// a writer holds the table in an open transaction, plain and online,
/// under a lock timeout that a statement waiting for the writer would hit.
#[test]
fn a_grant_does_not_wait_for_a_writer_of_a_busy_table() {
    let db = TestDb::new("grants_busy");
    let mut roles = Roles::new(&db.name, &["reader"]);
    roles.used_in(&db);
    let reader = roles.names[0].clone();
    db.sql(SETUP);
    let writer = crate::harness::Session::open(&db.url);
    writer.exec("BEGIN; INSERT INTO orders VALUES (1, 1)");
    for (i, extra) in [&["--lock-timeout", "1s"][..], &["--online"][..]]
        .into_iter()
        .enumerate()
    {
        let privilege = ["select", "update"][i];
        let schema = schema_of(&format!(
            "[tables.orders]\ngrants = {{ {reader} = [\"{privilege}\"] }}\n\
             [tables.orders.columns]\nid = {{ type = \"bigint\", primary_key = true }}\ntotal = {{ type = \"numeric\" }}\n"
        ));
        let (_, plan) = plan_json(schema.path(), &db);
        assert_eq!(ids(&plan), [format!("grant:orders:{reader}")], "{plan:#}");
        assert_eq!(plan["statements"][0]["lock"], "none", "{plan:#}");
        let r = apply(schema.path(), &db, extra);
        assert_eq!(r.code, 0, "{extra:?}: {r}");
        let held = acl(&db);
        let want = format!("rel orders {reader} {}", privilege.to_uppercase());
        assert!(held.iter().any(|a| a.starts_with(&want)), "{held:#?}");
    }
    writer.exec("ROLLBACK");
}
