//! Privileges as the catalog holds them, and the cluster's roles: one
//! statement, one JSON document, whatever the number of objects
//! (`aclexplode` over pg_class.relacl, pg_attribute.attacl, pg_proc.proacl,
//! pg_type.typacl and pg_namespace.nspacl).
//!
//! An object whose ACL is NULL has PostgreSQL's defaults (`acldefault`);
//! the owner's own privileges are never read. A privilege that the default
//! ACL gives (EXECUTE on a routine and USAGE on a type to PUBLIC; USAGE on
//! schema public to PUBLIC, as initdb leaves it) is marked `implicit`.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::model::grants::{Grant, Privilege, Target};
use crate::model::{BelongsTo, QualName, RoutineId, UnmanagedObject};

/// `grantee` of an `aclexplode` row `a`, PUBLIC for 0.
const GRANTEE: &str =
    "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END";

/// Whether row `a` is one that `acldefault(kind, owner)` gives (`kind`: an
/// SQL expression of type "char"), or `acl` is NULL.
fn implicit(acl: &str, kind: &str, owner: &str) -> String {
    format!(
        "({acl} IS NULL OR EXISTS (SELECT 1 FROM pg_catalog.aclexplode(pg_catalog.acldefault({kind}, {owner})) d \
           WHERE d.grantee = a.grantee AND d.privilege_type = a.privilege_type AND d.is_grantable = a.is_grantable))"
    )
}

/// The statement: `{"roles": [...], "grants": [...]}`. `schema_filter` is
/// over `n` (pg_namespace), `relation_filter` over `c` (pg_class: not an
/// extension's), `routine_filter` over `p` and `n`.
pub fn q_grants(schema_filter: &str, relation_filter: &str, routine_filter: &str) -> String {
    let rel_kind = "(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::\"char\"";
    let rel_implicit = implicit("c.relacl", rel_kind, "c.relowner");
    let proc_implicit = implicit("p.proacl", "'f'", "p.proowner");
    let type_implicit = implicit("t.typacl", "'T'", "t.typowner");
    let nsp_implicit = format!(
        "({} OR (n.nspname = 'public' AND a.grantee = 0 AND a.privilege_type = 'USAGE' AND NOT a.is_grantable))",
        implicit("n.nspacl", "'n'", "n.nspowner")
    );
    format!(
        "SELECT json_build_object( \
           'roles', (SELECT coalesce(json_agg(r.rolname ORDER BY r.rolname), '[]') FROM pg_catalog.pg_roles r), \
           'grants', (SELECT coalesce(json_agg(x ORDER BY x.kind, x.schema, x.name, x.sub, x.grantee, x.privilege), '[]') FROM ( \
             SELECT CASE c.relkind WHEN 'S' THEN 'sequence' ELSE 'relation' END AS kind, n.nspname AS schema, \
                    c.relname AS name, NULL::text AS sub, {GRANTEE} AS grantee, a.privilege_type AS privilege, \
                    a.is_grantable AS grantable, {rel_implicit} AS implicit \
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, \
                  pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault({rel_kind}, c.relowner))) a \
             WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S') \
               AND {schema_filter} AND {relation_filter} AND a.grantee <> c.relowner \
             UNION ALL \
             SELECT 'column', n.nspname, c.relname, at.attname, {GRANTEE}, a.privilege_type, a.is_grantable, false \
             FROM pg_catalog.pg_attribute at JOIN pg_catalog.pg_class c ON c.oid = at.attrelid \
                  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, pg_catalog.aclexplode(at.attacl) a \
             WHERE at.attacl IS NOT NULL AND at.attnum > 0 AND NOT at.attisdropped \
               AND c.relkind IN ('r', 'p', 'f', 'v', 'm') \
               AND {schema_filter} AND {relation_filter} AND a.grantee <> c.relowner \
             UNION ALL \
             SELECT 'routine', n.nspname, p.proname, pg_catalog.oidvectortypes(p.proargtypes), {GRANTEE}, \
                    a.privilege_type, a.is_grantable, {proc_implicit} \
             FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace, \
                  pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a \
             WHERE {routine_filter} AND a.grantee <> p.proowner \
             UNION ALL \
             SELECT 'type', n.nspname, t.typname, NULL, {GRANTEE}, a.privilege_type, a.is_grantable, {type_implicit} \
             FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace, \
                  pg_catalog.aclexplode(coalesce(t.typacl, pg_catalog.acldefault('T', t.typowner))) a \
             WHERE t.typtype IN ('e', 'd') AND {schema_filter} AND a.grantee <> t.typowner \
               AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE e.classid = 'pg_catalog.pg_type'::pg_catalog.regclass \
                               AND e.objid = t.oid AND e.deptype = 'e') \
             UNION ALL \
             SELECT 'schema', n.nspname, NULL, NULL, {GRANTEE}, a.privilege_type, a.is_grantable, {nsp_implicit} \
             FROM pg_catalog.pg_namespace n, \
                  pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) a \
             WHERE {schema_filter} AND a.grantee <> n.nspowner \
           ) x), \
           'revoked', (SELECT coalesce(json_agg(x ORDER BY x.kind, x.schema, x.name, x.sub), '[]') FROM ( \
             SELECT 'routine' AS kind, n.nspname AS schema, p.proname AS name, \
                    pg_catalog.oidvectortypes(p.proargtypes) AS sub, 'EXECUTE' AS privilege \
             FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace \
             WHERE {routine_filter} AND p.proacl IS NOT NULL \
               AND NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(p.proacl) a WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') \
             UNION ALL \
             SELECT 'type', n.nspname, t.typname, NULL, 'USAGE' \
             FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
             WHERE t.typtype IN ('e', 'd') AND {schema_filter} AND t.typacl IS NOT NULL \
               AND NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(t.typacl) a WHERE a.grantee = 0 AND a.privilege_type = 'USAGE') \
           ) x))"
    )
}

/// The document of [`q_grants`].
#[derive(Deserialize)]
pub struct RawGrants {
    roles: Vec<String>,
    grants: Vec<RawGrant>,
    /// Routines and types whose PUBLIC privilege (EXECUTE, USAGE), given by
    /// default, was revoked.
    revoked: Vec<RawRevoked>,
}

#[derive(Deserialize)]
struct RawRevoked {
    kind: String,
    schema: String,
    name: String,
    sub: Option<String>,
    privilege: String,
}

#[derive(Deserialize)]
struct RawGrant {
    kind: String,
    schema: String,
    name: Option<String>,
    sub: Option<String>,
    grantee: String,
    privilege: String,
    grantable: bool,
    implicit: bool,
}

impl RawGrants {
    /// The roles, the grants in the model, and what the files cannot say:
    /// a default privilege of PUBLIC revoked from a routine or a type (the
    /// format only grants, so files dumped from it would give it back),
    /// listed as unmanaged. A privilege this version does not know (a newer
    /// server's) is left out.
    pub fn into_model(self) -> (BTreeSet<String>, Vec<Grant>, Vec<UnmanagedObject>) {
        let revoked = self
            .revoked
            .into_iter()
            .map(|r| {
                let name = QualName::new(r.schema, r.name);
                let what = match &r.sub {
                    Some(args) => format!("routine {name}({args})"),
                    None => format!("{} {name}", r.kind),
                };
                UnmanagedObject {
                    kind: "revoked default privilege".into(),
                    name: format!("{} on {what} from PUBLIC", r.privilege),
                    belongs_to: Some(BelongsTo::Object(name)),
                }
            })
            .collect();
        let grants = self
            .grants
            .into_iter()
            .filter_map(|g| {
                let qual = || QualName::new(g.schema.clone(), g.name.clone().unwrap_or_default());
                let target = match g.kind.as_str() {
                    "relation" => Target::Relation(qual()),
                    "sequence" => Target::Sequence(qual()),
                    "column" => Target::Column(qual(), g.sub.clone()?),
                    "routine" => Target::Routine(RoutineId {
                        name: qual(),
                        args: g.sub.clone()?,
                    }),
                    "type" => Target::Type(qual()),
                    "schema" => Target::Schema(g.schema.clone()),
                    _ => return None,
                };
                Some(Grant {
                    target,
                    grantee: g.grantee,
                    privilege: Privilege::parse(&g.privilege)?,
                    grant_option: g.grantable,
                    implicit: g.implicit,
                    origin: None,
                })
            })
            .collect();
        (self.roles.into_iter().collect(), grants, revoked)
    }
}

/// The privileges that the format has no place for, as unmanaged objects
/// (`dump` would lose them otherwise without a word), taken out of
/// `cat.grants`: those on a `serial` column's or an identity column's
/// sequence (the files write the column), and those on a partition or its
/// columns (a partition takes no `grants` key). Call once `cat.sequences`
/// holds the sequences of their own and the partitions are under their tables.
pub fn take_unmanaged_grants(cat: &mut crate::model::Catalog) -> Vec<UnmanagedObject> {
    let partitions: std::collections::HashSet<QualName> = cat
        .tables
        .values()
        .flat_map(|t| {
            crate::model::partition::walk(&t.name, &t.partitions)
                .into_iter()
                .map(|(_, p)| p.name.clone())
        })
        .collect();
    // The object a privilege without a place belongs to.
    let no_place = |target: &Target| match target {
        Target::Sequence(n) if !cat.sequences.contains_key(n) => Some(n.clone()),
        Target::Relation(n) | Target::Column(n, _) if partitions.contains(n) => Some(n.clone()),
        _ => None,
    };
    let mut out = Vec::new();
    let mut kept = Vec::new();
    for g in std::mem::take(&mut cat.grants) {
        match no_place(&g.target) {
            Some(of) if !g.implicit => out.push(UnmanagedObject {
                kind: "privilege".into(),
                name: format!("{} on {} to {}", g.privilege.sql(), g.target, g.grantee),
                belongs_to: Some(BelongsTo::Object(of)),
            }),
            Some(_) => {}
            None => kept.push(g),
        }
    }
    cat.grants = kept;
    out
}
