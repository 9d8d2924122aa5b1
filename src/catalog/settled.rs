//! A settled database: the state that an apply verified, recorded with a
//! fingerprint of the catalog, so that a later plan of the same files can
//! know in one cheap statement that nothing changed since, instead of reading
//! the whole catalog again (a fleet's no-op pass, a far database's no-op plan).
//!
//! **The fingerprint** ([`fingerprint_sql`]) is the count of the row versions
//! visible in the catalogs that the catalog read consults, and the sum of a
//! 64-bit hash of each one's `(ctid, xmin)` with its catalog's place in the
//! list; with the names of the roles that this database's objects name
//! (their owners, grantees and grantors, policies' roles, user mappings: the
//! roles of its `pg_shdepend` rows, and the bootstrap superuser, who has
//! none), the subscriptions of this database, the default versions of the
//! installed extensions, `current_user` and the server's version. A role
//! made or dropped elsewhere in the cluster (a new tenant's role) leaves the
//! fingerprint of every other database as it was. PostgreSQL changes a
//! catalog row by writing a new version of it, with the changing
//! transaction's id as `xmin`, at a new `ctid`, and a
//! `(ctid, xmin)` pair names one row version for good (a frozen row keeps its
//! raw `xmin`, PostgreSQL 9.4 and later). Any DDL, GRANT, COMMENT or ALTER
//! that commits therefore adds a pair or removes one, and the fingerprint
//! changes, whoever ran it. What it does not see: the statistics that VACUUM
//! and ANALYZE write in place (`relpages`, `reltuples`), which a plan with
//! nothing to run never shows; a superuser's change to one of PostgreSQL's
//! built-in functions, types or operators (only the rows of objects made
//! after initdb are read in the catalogs that hold thousands of those, see
//! [`fingerprint_sql`]); and an exact undo by another session, while an
//! apply verifies, of what that session did after the apply's fingerprint
//! (see `apply`). Catalogs that nothing in the catalog read looks at (planner
//! statistics, large objects, subscription states) are left out, so their
//! churn costs no full read.
//!
//! **The record** ([`Settled`]) goes on the apply's history row (`settled`):
//! the fingerprint read just before the verification, a key of what else a
//! plan depends on ([`inputs_key`]: the files, the `--exclude` patterns, this
//! build), and the unmanaged objects the verified plan listed. An apply that
//! finds nothing to run records the fingerprint read before its catalog read
//! under the lock, on its own row or, when it writes none, on the last one
//! (`history::settle_then_commit`). A plan whose fingerprint and key match
//! the last history row's record is that verified plan: nothing to run,
//! nothing refused (see `plan::against::settled_plan`).
//! A prune, an online apply or any later row without a record ends the fast
//! path until the next apply records again. PostgreSQL 14 and later
//! (`hashtidextended`); older servers are always read in full.

use serde::{Deserialize, Serialize};

use super::{FIRST_NORMAL_OBJECT_ID, THIS_DATABASE};
use crate::model::{Catalog, UnmanagedObject};

/// What an apply records when its verification found nothing left to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settled {
    /// The catalog's fingerprint ([`fingerprint_sql`]), read just before the verification.
    pub fingerprint: String,
    /// [`inputs_key`] of the files applied.
    pub inputs: String,
    /// The unmanaged objects of the verified plan, as it listed them.
    pub unmanaged: Vec<UnmanagedObject>,
}

/// The catalogs of the database that the catalog read (`introspect`) and the
/// functions it calls (`pg_get_expr`, `pg_get_viewdef`, `format_type`,
/// `pg_describe_object`...) look at, each with the column that names a row's
/// object when only the rows of objects made after initdb count (see
/// [`fingerprint_sql`]). Their place in this list seeds each row's hash:
/// append, never reorder (a reordered list only costs one full read per
/// database, as its records no longer match).
const CATALOGS: &[(&str, Option<&str>)] = &[
    ("pg_namespace", None),
    ("pg_class", Some("oid")),
    ("pg_attribute", Some("attrelid")),
    ("pg_attrdef", Some("oid")),
    ("pg_type", Some("oid")),
    ("pg_proc", Some("oid")),
    ("pg_aggregate", Some("aggfnoid")),
    ("pg_depend", Some("objid")),
    ("pg_constraint", Some("oid")),
    ("pg_index", Some("indexrelid")),
    ("pg_inherits", None),
    ("pg_partitioned_table", None),
    ("pg_collation", Some("oid")),
    ("pg_trigger", Some("oid")),
    ("pg_rewrite", Some("oid")),
    // Comments: PostgreSQL's own schemas' too (below).
    ("pg_description", Some("objoid")),
    ("pg_seclabel", None),
    ("pg_am", Some("oid")),
    ("pg_opclass", Some("oid")),
    ("pg_opfamily", Some("oid")),
    ("pg_operator", Some("oid")),
    ("pg_policy", None),
    ("pg_extension", None),
    ("pg_language", None),
    ("pg_transform", None),
    ("pg_cast", Some("oid")),
    ("pg_conversion", Some("oid")),
    ("pg_enum", None),
    ("pg_range", Some("rngtypid")),
    ("pg_sequence", None),
    ("pg_statistic_ext", None),
    ("pg_ts_config", Some("oid")),
    ("pg_ts_config_map", Some("mapcfg")),
    ("pg_ts_dict", Some("oid")),
    ("pg_ts_parser", Some("oid")),
    ("pg_ts_template", Some("oid")),
    ("pg_publication", None),
    ("pg_foreign_data_wrapper", None),
    ("pg_foreign_server", None),
    ("pg_event_trigger", None),
    ("pg_default_acl", None),
    // Shared catalogs: the tablespaces, and this database's own row.
    ("pg_tablespace", None),
    ("pg_database", None),
];

/// The statement that reads the fingerprint (one row, one text value) on a
/// server of `server_version` (`server_version_num`); `None` before
/// PostgreSQL 14, which lacks `hashtidextended`. Read-only; every catalog it
/// reads is readable by any role.
///
/// In the catalogs that hold PostgreSQL's own objects by the thousand
/// (functions, types, operators, collations, columns of the system catalogs,
/// their comments and dependencies), only the rows of objects made after
/// initdb count (oid from 16384, `FirstNormalObjectId`), read through the
/// catalog's index where it has one: thirty times fewer rows, and about a
/// third of the statement's time. PostgreSQL's own rows there change only
/// when a superuser renames, re-owns or comments one of its built-in
/// objects, which the fingerprint does not see. Schemas (`public` is one of
/// PostgreSQL's own), languages, extensions, tablespaces and the comments
/// on schemas are read whole.
pub fn fingerprint_sql(server_version: i32) -> Option<String> {
    if server_version < 140000 {
        return None;
    }
    let seed = |k: usize| (k as i64) << 32;
    let hash = |k: usize| {
        format!(
            "SELECT pg_catalog.hashtidextended(ctid, xmin::text::int8 + {})",
            seed(k)
        )
    };
    let mut branches: Vec<String> = Vec::new();
    for (k, (catalog, object)) in CATALOGS.iter().enumerate() {
        let only = match (*catalog, object) {
            ("pg_database", _) => " WHERE datname = pg_catalog.current_database()".to_string(),
            (_, Some(column)) => format!(" WHERE {column} >= {FIRST_NORMAL_OBJECT_ID}"),
            (_, None) => String::new(),
        };
        branches.push(format!("{} FROM pg_catalog.{catalog}{only}", hash(k)));
        if *catalog == "pg_description" {
            // `COMMENT ON SCHEMA public` is a plan's business.
            branches.push(format!(
                "{} FROM pg_catalog.pg_description WHERE objoid < {FIRST_NORMAL_OBJECT_ID} \
                 AND classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass",
                hash(k)
            ));
        }
    }
    let k = CATALOGS.len();
    // pg_authid and pg_subscription are not readable as a whole: their
    // names, which the catalog read prints, are. The roles are those that
    // objects of this database depend on (PostgreSQL records owners, every
    // role of an ACL, policies' roles and user mappings in pg_shdepend; the
    // bootstrap superuser, oid 10, is pinned and never recorded there).
    branches.push(format!(
        "SELECT pg_catalog.hashtextextended(rolname::text, oid::int8 + {}) FROM pg_catalog.pg_roles \
         WHERE oid = '10'::pg_catalog.oid OR oid IN (SELECT refobjid FROM pg_catalog.pg_shdepend \
           WHERE dbid = {THIS_DATABASE} AND refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass)",
        seed(k)
    ));
    branches.push(format!(
        "SELECT pg_catalog.hashtextextended(subname::text, oid::int8 + {}) FROM pg_catalog.pg_subscription \
         WHERE subdbid = {THIS_DATABASE}",
        seed(k + 1)
    ));
    Some(format!(
        "SELECT count(*) || ':' || coalesce(sum(h), 0) || ':' || current_user || ':' \
           || pg_catalog.current_setting('server_version') || ':' \
           || (SELECT coalesce(pg_catalog.string_agg(a.name || '=' || coalesce(a.default_version, ''), ',' ORDER BY a.name), '') \
               FROM pg_catalog.pg_available_extensions a JOIN pg_catalog.pg_extension e ON e.extname = a.name) \
         FROM ({}) f(h)",
        branches.join(" UNION ALL ")
    ))
}

/// What a plan depends on besides the catalog: the files (`Sources::hash`),
/// the `--exclude` patterns added to them, and this build of reconcile (its
/// version and commit). `None` when the files' text is unknown.
pub fn inputs_key(desired: &Catalog) -> Option<String> {
    let sources = desired.sources.as_ref()?;
    Some(key_of(&sources.hash(), &desired.exclude))
}

/// [`inputs_key`] from the files' hash (`Sources::hash`) and the patterns,
/// for a caller that has the hash already.
pub fn key_of(files_hash: &str, exclude: &[crate::model::exclude::Pattern]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let mut part = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    part(env!("CARGO_PKG_VERSION").as_bytes());
    part(env!("RECONCILE_COMMIT").as_bytes());
    part(files_hash.as_bytes());
    for pattern in exclude {
        part(pattern.text.as_bytes());
        part(if pattern.origin.is_some() { b"f" } else { b"c" });
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The last history row's record and, when it has one (or with `always`,
/// when the history has a row at all), the fingerprint now; with the last
/// row that recorded files (their id and hash: the files a plan compares
/// with). Sent inside a savepoint by the caller: it fails where the history
/// or its `settled` column does not exist.
pub fn last_row_sql(fingerprint: &str, always: bool) -> String {
    let when = if always {
        "true"
    } else {
        "h.settled IS NOT NULL"
    };
    format!(
        "SELECT f.id, f.files_hash, h.settled::text, \
           CASE WHEN {when} THEN ({fingerprint}) END \
         FROM (SELECT settled FROM _reconcile.history ORDER BY id DESC LIMIT 1) h \
         LEFT JOIN LATERAL (SELECT id, files_hash FROM _reconcile.history \
                            WHERE files_hash IS NOT NULL ORDER BY id DESC LIMIT 1) f ON true"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_fingerprint_before_postgresql_14() {
        assert!(fingerprint_sql(130010).is_none());
        let sql = fingerprint_sql(150004).expect("15 has one");
        for (catalog, _) in CATALOGS {
            assert!(sql.contains(&format!("pg_catalog.{catalog}")), "{catalog}");
        }
        assert!(sql.contains("pg_roles") && sql.contains("pg_subscription"));
    }
}
