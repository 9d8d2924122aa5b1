//! Nothing is lost without a word (SPEC §2): every kind of object that the
//! catalog of a database holds is managed by the format, and comes back when
//! the dump of a database is applied to an empty one, or is listed as not
//! managed by both `plan` and `dump`.
//!
//! The kinds are read from the server, not from a list of ours: every catalog
//! of `pg_catalog` with an `oid` column (and `pg_inherits`, `pg_description`),
//! split by its own kind column (`relkind`, `prokind`, `typtype`, ...). An
//! object that is part of another (an internal dependency: a table's row
//! type, an array type, a key's index) counts as that other. A kind found in a
//! database that [`KINDS`] does not name fails the test, so a new kind of a
//! new PostgreSQL, or a new object in the fixture, must be placed.

use std::collections::BTreeMap;

use crate::harness::{apply, assert_replan_empty, plan_json, repo, run, TestDb};

/// How the format covers a kind.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Coverage {
    /// Managed: a database rebuilt from the dump has as many.
    Managed,
    /// Not managed: `plan` and `dump` list each under this kind.
    Reported(&'static str),
    /// Part of a kind above (a default, a view's rewrite rule, an
    /// operator class's members, a publication's tables).
    Part,
    /// Not schema but data, or a kind the fixture cannot make without a
    /// C library (a base type, a transform): placed, not tested here.
    Elsewhere,
}

use Coverage::{Elsewhere, Managed, Part, Reported};

/// Every (catalog, kind) pair: how the format covers it.
const KINDS: &[(&str, &str, Coverage)] = &[
    ("pg_namespace", "", Managed),
    ("pg_extension", "", Managed),
    ("pg_class", "r", Managed),
    ("pg_class", "r unlogged", Managed),
    ("pg_class", "r partition", Managed),
    ("pg_class", "p", Managed),
    ("pg_class", "p partition", Managed),
    ("pg_class", "i", Managed),
    ("pg_class", "I", Managed),
    ("pg_class", "i partition", Part),
    ("pg_class", "I partition", Part),
    ("pg_class", "S", Managed),
    ("pg_class", "v", Managed),
    ("pg_class", "m", Managed),
    ("pg_class", "f", Reported("foreign table")),
    ("pg_type", "e", Managed),
    ("pg_type", "d", Managed),
    ("pg_type", "r", Managed),
    ("pg_type", "c", Managed),
    ("pg_type", "b", Elsewhere),
    ("pg_type", "p", Elsewhere),
    ("pg_proc", "f", Managed),
    ("pg_proc", "p", Managed),
    ("pg_proc", "w", Elsewhere),
    ("pg_proc", "a", Reported("aggregate")),
    ("pg_constraint", "p", Managed),
    ("pg_constraint", "u", Managed),
    ("pg_constraint", "c", Managed),
    ("pg_constraint", "f", Managed),
    ("pg_constraint", "c domain", Managed),
    ("pg_constraint", "x", Managed),
    ("pg_trigger", "r", Managed),
    ("pg_trigger", "p", Managed),
    ("pg_trigger", "constraint trigger", Reported("trigger")),
    ("pg_trigger", "v", Reported("trigger")),
    ("pg_trigger", "clone", Part),
    ("pg_rewrite", "rule", Reported("rule")),
    ("pg_policy", "", Managed),
    ("pg_attrdef", "", Part),
    ("pg_enum", "", Part),
    ("pg_collation", "", Managed),
    ("pg_cast", "", Reported("cast")),
    ("pg_operator", "", Reported("operator")),
    ("pg_opclass", "", Reported("operator class")),
    ("pg_opfamily", "", Reported("operator family")),
    ("pg_conversion", "", Reported("conversion")),
    ("pg_ts_config", "", Managed),
    ("pg_ts_dict", "", Reported("text search dictionary")),
    ("pg_ts_parser", "", Reported("text search parser")),
    ("pg_ts_template", "", Reported("text search template")),
    ("pg_language", "", Reported("procedural language")),
    ("pg_am", "", Reported("access method")),
    ("pg_transform", "", Elsewhere),
    ("pg_event_trigger", "", Reported("event trigger")),
    ("pg_publication", "", Reported("publication")),
    ("pg_publication_rel", "", Part),
    ("pg_publication_namespace", "", Part),
    ("pg_subscription", "", Reported("subscription")),
    (
        "pg_foreign_data_wrapper",
        "",
        Reported("foreign-data wrapper"),
    ),
    ("pg_foreign_server", "", Reported("foreign server")),
    ("pg_user_mapping", "", Reported("user mapping")),
    ("pg_statistic_ext", "", Reported("statistics object")),
    ("pg_default_acl", "", Reported("default privileges")),
    ("pg_largeobject_metadata", "", Elsewhere),
    ("pg_inherits", "r", Reported("inheritance")),
    ("pg_inherits", "p", Managed),
    ("pg_inherits", "I", Part),
    (
        "pg_description",
        "pg_namespace",
        Reported("comment on schema"),
    ),
    ("pg_description", "pg_extension", Part),
    ("pg_description", "pg_class", Managed),
    ("pg_description", "pg_constraint", Managed),
    ("pg_description", "pg_type", Managed),
    ("pg_description", "pg_proc", Managed),
    ("pg_description", "pg_trigger", Managed),
    ("pg_description", "pg_policy", Managed),
    ("acl", "relation", Managed),
    ("acl", "relation partition", Reported("privilege")),
    ("acl", "column partition", Reported("privilege")),
    ("acl", "column", Managed),
    ("acl", "routine", Managed),
    ("acl", "type", Managed),
    ("acl", "schema", Managed),
];

/// The catalogs whose objects live in a schema (or in a table of one).
const IN_A_SCHEMA: &str = "'pg_class'::regclass, 'pg_type'::regclass, 'pg_proc'::regclass, \
    'pg_constraint'::regclass, 'pg_collation'::regclass, 'pg_conversion'::regclass, \
    'pg_operator'::regclass, 'pg_opclass'::regclass, 'pg_opfamily'::regclass, \
    'pg_ts_config'::regclass, 'pg_ts_dict'::regclass, 'pg_ts_parser'::regclass, \
    'pg_ts_template'::regclass, 'pg_statistic_ext'::regclass, 'pg_trigger'::regclass, \
    'pg_policy'::regclass, 'pg_rewrite'::regclass, 'pg_attrdef'::regclass";

/// The kind column of a catalog, as text (`x` is a row of it).
fn kind_of(catalog: &str) -> &'static str {
    match catalog {
        "pg_class" => {
            "x.relkind::text || CASE WHEN x.relispartition THEN ' partition' \
             WHEN x.relpersistence = 'u' THEN ' unlogged' ELSE '' END"
        }
        "pg_type" => "x.typtype::text",
        "pg_proc" => "x.prokind::text",
        "pg_constraint" => "x.contype::text || CASE WHEN x.contypid <> 0 THEN ' domain' ELSE '' END",
        "pg_trigger" => {
            "CASE WHEN x.tgconstraint <> 0 THEN 'constraint trigger' WHEN x.tgparentid <> 0 THEN 'clone' \
             ELSE (SELECT c.relkind::text FROM pg_class c WHERE c.oid = x.tgrelid) END"
        }
        "pg_rewrite" => "CASE WHEN x.rulename = '_RETURN' THEN 'view' ELSE 'rule' END",
        _ => "''",
    }
}

/// (catalog, kind) → how many objects the database `db` holds that are its
/// user's: not PostgreSQL's own (oid 16384 on), not an extension's, not in
/// reconcile's own schema or a temporary one; one that is part of another
/// object (an internal dependency) is counted under `<kind> part`.
fn census(db: &TestDb) -> BTreeMap<(String, String), usize> {
    let catalogs = db.query(
        "SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'oid' \
         WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind = 'r' \
           AND (NOT c.relisshared OR c.relname = 'pg_subscription') ORDER BY 1",
    );
    assert!(catalogs.len() > 30, "too few catalogs: {catalogs:?}");
    // The schema of an object of a catalog whose objects live in one
    // (pg_identify_object knows no other catalog's objects, pg_enum's say).
    let ours = |class: &str, oid: &str| {
        let schema = format!(
            "CASE WHEN {class} IN ({IN_A_SCHEMA}) THEN (pg_identify_object({class}, {oid}, 0)).schema END"
        );
        format!(
            "coalesce({schema}, '') NOT IN ('_reconcile', 'pg_toast') \
             AND coalesce({schema}, '') NOT LIKE 'pg\\_temp\\_%' \
             AND coalesce({schema}, '') NOT LIKE 'pg\\_toast\\_temp\\_%' \
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = {class} AND d.objid = {oid} AND d.deptype = 'e')"
        )
    };
    let mut parts: Vec<String> = catalogs
        .iter()
        .map(|cat| {
            let class = format!("'{cat}'::regclass");
            let mut filter = ours(&class, "x.oid");
            if cat == "pg_subscription" {
                filter.push_str(
                    " AND x.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
                );
            }
            if cat == "pg_namespace" {
                filter.push_str(" AND x.nspname NOT IN ('_reconcile', 'pg_toast') AND x.nspname NOT LIKE 'pg\\_%'");
            }
            format!(
                "SELECT '{cat}' AS catalog, {} || CASE WHEN EXISTS (SELECT 1 FROM pg_depend d \
                   WHERE d.classid = {class} AND d.objid = x.oid AND d.deptype = 'i' \
                   AND NOT (d.refclassid = {class} AND d.refobjid = x.oid)) THEN ' part' ELSE '' END AS kind, \
                   count(*) AS n FROM pg_catalog.{cat} x WHERE x.oid >= 16384 AND {filter} GROUP BY 2",
                kind_of(cat)
            )
        })
        .collect();
    parts.push(format!(
        "SELECT 'pg_inherits', (SELECT p.relkind::text FROM pg_class p WHERE p.oid = x.inhparent), count(*) \
         FROM pg_inherits x WHERE x.inhrelid >= 16384 AND {} GROUP BY 2",
        ours("'pg_class'::regclass", "x.inhrelid")
    ));
    parts.push(format!(
        "SELECT 'pg_description', x.classoid::regclass::text, count(*) FROM pg_description x \
         WHERE x.objoid >= 16384 AND {} GROUP BY 2",
        ours("x.classoid", "x.objoid")
    ));
    // Privileges (ACL entries of a grantee other than the owner), by the
    // kind of object they are on.
    for (kind, from, acl, owner, class, oid) in [
        (
            "relation",
            "pg_class x",
            "x.relacl",
            "x.relowner",
            "'pg_class'::regclass",
            "x.oid",
        ),
        (
            "column",
            "pg_attribute y JOIN pg_class x ON x.oid = y.attrelid",
            "y.attacl",
            "x.relowner",
            "'pg_class'::regclass",
            "x.oid",
        ),
        (
            "routine",
            "pg_proc x",
            "x.proacl",
            "x.proowner",
            "'pg_proc'::regclass",
            "x.oid",
        ),
        (
            "type",
            "pg_type x",
            "x.typacl",
            "x.typowner",
            "'pg_type'::regclass",
            "x.oid",
        ),
    ] {
        // (A partition's, and its columns', apart: `kind partition`.)
        let of_partition = if class.starts_with("'pg_class'") {
            "CASE WHEN x.relispartition THEN ' partition' ELSE '' END"
        } else {
            "''"
        };
        parts.push(format!(
            "SELECT 'acl', '{kind}' || {of_partition}, count(*) FROM {from}, aclexplode({acl}) a \
             WHERE {oid} >= 16384 AND a.grantee <> {owner} AND {} GROUP BY 2",
            ours(class, oid)
        ));
    }
    parts.push(
        "SELECT 'acl', 'schema', count(*) FROM pg_namespace x, aclexplode(x.nspacl) a \
         WHERE x.oid >= 16384 AND a.grantee <> x.nspowner AND x.nspname <> '_reconcile' \
           AND x.nspname NOT LIKE 'pg\\_%' HAVING count(*) > 0"
            .into(),
    );
    let mut out = BTreeMap::new();
    for line in db.query(&parts.join(" UNION ALL ")) {
        let mut f = line.split('|');
        let (Some(cat), Some(kind), Some(n)) = (f.next(), f.next(), f.next()) else {
            panic!("census row `{line}`");
        };
        out.insert((cat.to_string(), kind.to_string()), n.parse().unwrap());
    }
    out
}

fn coverage(cat: &str, kind: &str) -> Option<Coverage> {
    if kind.ends_with(" part") {
        return Some(Part);
    }
    KINDS
        .iter()
        .find(|(c, k, _)| *c == cat && *k == kind)
        .map(|(.., how)| *how)
}

fn make_roles(db: &TestDb) {
    for role in ["reconcile_kind_owner", "reconcile_kind_reader"] {
        db.sql(&format!(
            "DO $$BEGIN CREATE ROLE {role}; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END$$"
        ));
    }
}

#[test]
fn every_kind_of_the_catalog_is_managed_or_listed() {
    let a = TestDb::new("every_kind_a");
    make_roles(&a);
    let _unsubscribe = Unsubscribe(&a);
    a.load_file(&repo().join("fixtures/every_kind/schema.sql"));
    let found = census(&a);

    // Every kind the database holds is placed.
    let unplaced: Vec<String> = found
        .keys()
        .filter(|(c, k)| coverage(c, k).is_none())
        .map(|(c, k)| format!("{c} `{k}`"))
        .collect();
    assert!(
        unplaced.is_empty(),
        "kinds of the catalog that are neither managed nor listed (place them in KINDS): {unplaced:?}"
    );
    // The fixture makes every kind it can, so that none passes unseen.
    let absent: Vec<String> = KINDS
        .iter()
        .filter(|(c, k, how)| {
            ![Elsewhere, Part].contains(how) && !found.contains_key(&(c.to_string(), k.to_string()))
        })
        .map(|(c, k, _)| format!("{c} `{k}`"))
        .collect();
    assert!(
        absent.is_empty(),
        "KINDS names kinds that fixtures/every_kind/schema.sql does not make: {absent:?}\nfound: {found:?}"
    );

    // What is not managed is listed, by plan and by dump.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("schema");
    let dumped = run(&[
        "dump",
        "--database-url",
        &a.url,
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(dumped.code, 0, "{dumped}");
    let (code, plan) = plan_json(&dir, &a);
    assert_eq!(code, 0, "{plan:#}");
    let listed: Vec<String> = plan["unmanaged"]
        .as_array()
        .expect("unmanaged")
        .iter()
        .map(|o| o["kind"].as_str().unwrap_or_default().to_string())
        .collect();
    let mut unlisted = Vec::new();
    for (c, k) in found.keys() {
        if let Some(Reported(kind)) = coverage(c, k) {
            if !listed.iter().any(|l| l == kind) {
                unlisted.push(format!("{c} `{k}`: plan lists no {kind:?}"));
            }
            if !dumped.stderr.contains(kind) {
                unlisted.push(format!("{c} `{k}`: dump lists no {kind:?}"));
            }
        }
    }
    for special in ["owner", "inheritance"] {
        if !listed.iter().any(|l| l == special) {
            unlisted.push(format!("plan lists no {special:?}"));
        }
    }
    assert!(
        unlisted.is_empty(),
        "not managed and not listed: {unlisted:?}\nplan lists: {listed:?}\ndump says:\n{}",
        dumped.stderr
    );

    // What is managed comes back: the dump applied to an empty database has
    // as many of each managed kind, and plans empty.
    let b = TestDb::new("every_kind_b");
    make_roles(&b);
    let r = apply(&dir, &b, &[]);
    assert_eq!(r.code, 0, "{r}");
    assert_replan_empty(&dir, &b);
    let rebuilt = census(&b);
    let lost: Vec<String> = found
        .iter()
        .filter(|((c, k), _)| coverage(c, k) == Some(Managed))
        .filter_map(|((c, k), n)| {
            let m = rebuilt.get(&(c.clone(), k.clone())).copied().unwrap_or(0);
            (m != *n).then(|| format!("{c} `{k}`: {n} in the source, {m} rebuilt"))
        })
        .collect();
    assert!(
        lost.is_empty(),
        "managed kinds that do not come back: {lost:?}"
    );
}

/// A subscription keeps its database from being dropped: it goes first,
/// whatever the test's outcome (errors ignored: there may be none).
struct Unsubscribe<'a>(&'a TestDb);

impl Drop for Unsubscribe<'_> {
    fn drop(&mut self) {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), "DROP SUBSCRIPTION IF EXISTS kinds_sub;").unwrap();
        let _ = self.0.try_load_file(f.path());
    }
}
