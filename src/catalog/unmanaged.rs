//! Kinds of the catalog that the format does not manage, listed by name so
//! that `plan` and `dump` say what they leave alone (SPEC §2: "never lost
//! without a word"): event triggers, publications, subscriptions, statistics
//! objects, table inheritance, foreign-data wrappers, servers and user
//! mappings, casts, operators and their classes and families, conversions,
//! text search dictionaries, parsers and templates (configurations are
//! managed: `catalog::tsconfig`), procedural languages, access methods, transforms,
//! default privileges, security labels, and who owns what.
//!
//! One SQL fragment of `kind, name, belongs_to` rows, a branch per kind,
//! joined into the catalog's unmanaged statement (no statement of its own).
//! PostgreSQL's own objects (oid below 16384, FirstNormalObjectId) and members
//! of an extension are the server's and the extension's business, never listed.

/// `NOT EXISTS` a pg_depend row making `alias.oid` (of `catalog`) a member of
/// an extension, or a part of another object (a range type's cast to its
/// multirange): listed with what it belongs to, if at all.
fn not_member(catalog: &str, alias: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{catalog}'::regclass \
         AND d.objid = {alias}.oid AND d.deptype IN ('e', 'i'))"
    )
}

/// `schema.name` of a namespaced object (`name` alone in public).
fn qualified(name: &str) -> String {
    format!("CASE WHEN n.nspname = 'public' THEN {name} ELSE n.nspname || '.' || {name} END")
}

/// The branches (each `SELECT kind, name, belongs_to`), joined by UNION ALL,
/// starting with `UNION ALL`. `schema_filter` keeps the schemas read (over `n`).
pub(super) fn q_other_kinds(schema_filter: &str) -> String {
    let mut branches: Vec<String> = Vec::new();
    let user = |alias: &str| format!("{alias}.oid >= {}", super::FIRST_NORMAL_OBJECT_ID);
    // Objects of a schema: (kind, catalog, alias, name column, namespace column).
    for (kind, catalog, a, name, ns) in [
        (
            "operator class",
            "pg_opclass",
            "o",
            "o.opcname || ' using ' || (SELECT am.amname FROM pg_am am WHERE am.oid = o.opcmethod)",
            "o.opcnamespace",
        ),
        (
            "operator family",
            "pg_opfamily",
            "o",
            "o.opfname || ' using ' || (SELECT am.amname FROM pg_am am WHERE am.oid = o.opfmethod)",
            "o.opfnamespace",
        ),
        (
            "operator",
            "pg_operator",
            "o",
            "o.oprname || '(' || coalesce(format_type(nullif(o.oprleft, 0), NULL), 'NONE') || ', ' \
             || format_type(o.oprright, NULL) || ')'",
            "o.oprnamespace",
        ),
        (
            "conversion",
            "pg_conversion",
            "o",
            "o.conname",
            "o.connamespace",
        ),
        (
            "text search dictionary",
            "pg_ts_dict",
            "o",
            "o.dictname",
            "o.dictnamespace",
        ),
        (
            "text search parser",
            "pg_ts_parser",
            "o",
            "o.prsname",
            "o.prsnamespace",
        ),
        (
            "text search template",
            "pg_ts_template",
            "o",
            "o.tmplname",
            "o.tmplnamespace",
        ),
    ] {
        let shown = qualified(name);
        branches.push(format!(
            "SELECT '{kind}', {shown}, json_build_array(n.nspname, NULL::text) \
             FROM {catalog} {a} JOIN pg_namespace n ON n.oid = {ns} \
             WHERE {schema_filter} AND {} AND {}",
            user(a),
            not_member(catalog, a)
        ));
    }
    // Objects of the database as a whole.
    for (kind, catalog, a, name) in [
        ("event trigger", "pg_event_trigger", "o", "o.evtname || ' on ' || o.evtevent"),
        (
            "publication",
            "pg_publication",
            "o",
            "o.pubname || CASE WHEN o.puballtables THEN ' (all tables)' ELSE '' END",
        ),
        ("foreign-data wrapper", "pg_foreign_data_wrapper", "o", "o.fdwname"),
        ("foreign server", "pg_foreign_server", "o", "o.srvname"),
        (
            "cast",
            "pg_cast",
            "o",
            "format_type(o.castsource, NULL) || ' AS ' || format_type(o.casttarget, NULL)",
        ),
        ("procedural language", "pg_language", "o", "o.lanname"),
        ("access method", "pg_am", "o", "o.amname"),
        (
            "transform",
            "pg_transform",
            "o",
            "format_type(o.trftype, NULL) || ' for language ' || (SELECT l.lanname FROM pg_language l WHERE l.oid = o.trflang)",
        ),
    ] {
        branches.push(format!(
            "SELECT '{kind}', {name}, NULL::json FROM {catalog} {a} WHERE {} AND {}",
            user(a),
            not_member(catalog, a)
        ));
    }
    // Subscriptions of this database (these columns are readable by everyone).
    branches.push(format!(
        "SELECT 'subscription', s.subname::text, NULL::json FROM pg_subscription s \
         WHERE s.subdbid = {}",
        super::THIS_DATABASE
    ));
    branches.push(
        "SELECT 'user mapping', u.usename || ' for server ' || u.srvname, NULL::json FROM pg_user_mappings u"
            .into(),
    );
    // Extended statistics, with their table.
    branches.push(format!(
        "SELECT 'statistics object', {} || ' on ' || CASE WHEN tn.nspname = 'public' THEN c.relname \
                ELSE tn.nspname || '.' || c.relname END, json_build_array(tn.nspname, c.relname) \
         FROM pg_statistic_ext o JOIN pg_namespace n ON n.oid = o.stxnamespace \
         JOIN pg_class c ON c.oid = o.stxrelid JOIN pg_namespace tn ON tn.oid = c.relnamespace \
         WHERE {schema_filter} AND {}",
        qualified("o.stxname"),
        not_member("pg_statistic_ext", "o")
    ));
    // Table inheritance (INHERITS), not partitions: the child is read as a
    // table of its own, its parent's columns as its own.
    branches.push(format!(
        "SELECT 'inheritance', {} || ' inherits ' || CASE WHEN pn.nspname = 'public' THEN p.relname \
                ELSE pn.nspname || '.' || p.relname END, json_build_array(n.nspname, c.relname) \
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace \
         WHERE p.relkind IN ('r', 'f') AND {schema_filter}",
        qualified("c.relname")
    ));
    // Default privileges (ALTER DEFAULT PRIVILEGES).
    branches.push(
        "SELECT 'default privileges', pg_get_userbyid(a.defaclrole) || ' on ' || \
                CASE a.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions' \
                     WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' ELSE a.defaclobjtype::text END \
                || coalesce(' in schema ' || (SELECT ns.nspname FROM pg_namespace ns WHERE ns.oid = a.defaclnamespace), '') \
                || ': ' || array_to_string(a.defaclacl, ', '), NULL::json \
         FROM pg_default_acl a"
            .into(),
    );
    branches.push(
        "SELECT 'security label', pg_describe_object(l.classoid, l.objoid, l.objsubid) || ' (' || l.provider || ')', NULL::json \
         FROM pg_seclabel l"
            .into(),
    );
    // Owners other than the role that plans: a rebuilt database's objects
    // belong to the role that applied them.
    branches.push(format!(
        "SELECT 'owner', o.owner || ' owns ' || string_agg(o.what, ', ' ORDER BY o.what), NULL::json FROM ( \
           SELECT pg_get_userbyid(c.relowner) AS owner, count(*) || ' relation(s)' AS what \
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {schema_filter} AND c.relowner <> current_user::regrole \
             AND {} GROUP BY c.relowner \
           UNION ALL \
           SELECT pg_get_userbyid(p.proowner), count(*) || ' routine(s)' \
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
           WHERE {schema_filter} AND p.proowner <> current_user::regrole AND {} GROUP BY p.proowner \
           UNION ALL \
           SELECT pg_get_userbyid(n.nspowner), count(*) || ' schema(s)' FROM pg_namespace n \
           WHERE {schema_filter} AND n.nspname <> 'public' AND n.nspowner <> current_user::regrole GROUP BY n.nspowner \
         ) o GROUP BY o.owner",
        not_member("pg_class", "c"),
        not_member("pg_proc", "p"),
    ));
    branches.iter().map(|b| format!(" UNION ALL {b}")).collect()
}
