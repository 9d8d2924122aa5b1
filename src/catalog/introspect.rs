//! Read the live schema from pg_catalog into the catalog model, in a fixed
//! number of statements whatever the size of the schema (all sent in one
//! round trip). The big statements (tables, columns, constraints, indexes,
//! sequences) return plain rows, decoded from text by position as they
//! arrive, straight into the model; the small ones return one JSON document
//! each.

use std::borrow::Cow;
use std::collections::HashMap;
use std::str::FromStr;

use serde::Deserialize;

use crate::catalog::code;
use crate::connect::db::{Db, SqlError};
use crate::desired::expr;
use crate::model::{
    BelongsTo, Catalog, Check, Column, Domain, EnumType, Expr, Extension, FkAction, ForeignKey,
    Identity, Index, IndexKey, IndexKeyPart, Key, ObjName, QualName, SeqOptions, Sequence, Serial,
    Table, TableStats, UnmanagedObject,
};

/// Our own schema (the history table); never part of a diff.
pub const OWN_SCHEMA: &str = "_reconcile";

/// Schemas that are never read: the system's and our own.
const SCHEMA_FILTER: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema', '_reconcile') \
     AND n.nspname NOT LIKE 'pg\\_%'";

/// Relations that belong to an extension are the extension's business.
/// (A hashed subplan, computed once per statement, not a lookup per row.)
const NOT_EXTENSION_MEMBER: &str = "c.oid NOT IN (SELECT dep.objid FROM pg_extension e \
     JOIN pg_depend dep ON dep.refclassid = 'pg_extension'::regclass AND dep.refobjid = e.oid \
     WHERE dep.classid = 'pg_class'::regclass AND dep.deptype = 'e')";

fn q_schemas() -> String {
    format!("SELECT coalesce(json_agg(n.nspname ORDER BY n.nspname), '[]') FROM pg_namespace n WHERE {SCHEMA_FILTER}")
}

const Q_EXTENSIONS: &str = "SELECT coalesce(json_agg(json_build_object('name', e.extname, 'schema', n.nspname) ORDER BY e.extname), '[]') \
     FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace";

fn q_enums() -> String {
    format!(
        "SELECT coalesce(json_agg(x ORDER BY x.schema, x.name), '[]') FROM ( \
           SELECT n.nspname AS schema, t.typname AS name, \
                  (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) AS values, \
                  obj_description(t.oid, 'pg_type') AS comment \
           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
           WHERE t.typtype = 'e' AND {SCHEMA_FILTER} \
             AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = 'pg_type'::regclass AND dep.objid = t.oid AND dep.deptype = 'e') \
         ) x"
    )
}

/// The tables read: ordinary and partitioned, not partitions, not extension members.
fn table_filter() -> String {
    format!("c.relkind IN ('r', 'p') AND {SCHEMA_FILTER} AND {NOT_EXTENSION_MEMBER}")
}

/// One row per table (`RawTable::from_row`).
fn q_tables() -> String {
    format!(
        "SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, \
                  c.relispartition AS partition, ds.description AS comment, \
                  c.relrowsecurity AS rls, c.relforcerowsecurity AS rls_forced, \
                  CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_by, \
                  c.reltuples::float8 AS rows, \
                  CASE WHEN c.reltuples >= 0 THEN c.relpages::int8 * current_setting('block_size')::int8 \
                       ELSE -1 END AS bytes, c.relnatts AS natts, c.relpersistence = 'u' AS unlogged, \
                  CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS bound, \
                  CASE WHEN c.relispartition THEN (SELECT h.inhparent::int8 FROM pg_inherits h WHERE h.inhrelid = c.oid) END AS parent \
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
           LEFT JOIN pg_description ds ON ds.objoid = c.oid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0 \
           WHERE {}",
        table_filter()
    )
}

/// One row per column (`RawColumn::from_row`).
fn q_columns() -> String {
    // A default cannot refer to a column, so it is printed without its table
    // (relid 0): printing with the table opens the relation, which costs a
    // relcache build per table in a fresh backend. Generated columns need it.
    // The sequence a column owns (serial) comes from q_sequences.
    format!(
        "SELECT a.attrelid::int8 AS rel, a.attnum AS num, a.attname AS name, \
                  format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null, \
                  pg_get_expr(d.adbin, CASE WHEN a.attgenerated = '' THEN 0 ELSE d.adrelid END) AS default, \
                  a.attidentity::text AS identity, \
                  a.attgenerated::text AS generated, ds.description AS comment, \
                  a.attcollation::int8 AS collation, t.typcollation::int8 AS type_collation \
           FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
           JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
           LEFT JOIN pg_description ds ON ds.objoid = a.attrelid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = a.attnum \
           WHERE a.attnum > 0 AND NOT a.attisdropped AND {}",
        table_filter()
    )
}

/// One row per constraint (`RawConstraint::from_row`).
fn q_constraints(pg15: bool) -> String {
    let (nulls_not_distinct, del_set_cols) = if pg15 {
        (
            "coalesce((SELECT ix.indnullsnotdistinct FROM pg_index ix WHERE ix.indexrelid = co.conindid AND co.contype = 'u'), false)",
            "co.confdelsetcols",
        )
    } else {
        ("false", "NULL::int2[]")
    };
    format!(
        "SELECT co.conrelid::int8 AS rel, co.conname AS name, co.contype::text AS kind, \
                  co.conkey AS keys, \
                  rn.nspname AS ref_schema, rc.relname AS ref_table, \
                  co.confrelid::int8 AS ref_rel, co.confkey AS ref_keys, \
                  CASE WHEN co.contype = 'f' AND NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                        WHERE c.oid = co.confrelid AND {filter}) \
                    THEN ARRAY(SELECT a.attname FROM unnest(co.confkey) WITH ORDINALITY k(num, ord) \
                        JOIN pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.num ORDER BY k.ord) END AS ref_columns, \
                  co.confdeltype::text AS on_delete, co.confupdtype::text AS on_update, \
                  co.condeferrable AS deferrable, co.condeferred AS deferred, co.convalidated AS validated, \
                  co.conislocal AS local, {nulls_not_distinct} AS nulls_not_distinct, co.connoinherit AS no_inherit, \
                  obj_description(co.oid, 'pg_constraint') AS comment, \
                  CASE WHEN co.contype IN ('p', 'u') THEN ARRAY(SELECT k.num FROM pg_index ix, \
                        unnest(ix.indkey::int2[]) WITH ORDINALITY k(num, ord) \
                        WHERE ix.indexrelid = co.conindid AND k.ord > ix.indnkeyatts ORDER BY k.ord) END AS included, \
                  co.confmatchtype::text AS match_type, {del_set_cols} AS del_set_cols, \
                  CASE WHEN co.contype = 'c' THEN pg_get_expr(co.conbin, co.conrelid, true) END AS expr, \
                  CASE WHEN co.contype = 'x' THEN pg_get_constraintdef(co.oid, true) END AS definition \
           FROM pg_constraint co \
           JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
           LEFT JOIN pg_class rc ON rc.oid = co.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
           WHERE co.contype IN ('p', 'u', 'f', 'c', 'x') AND co.conparentid = 0 AND {filter}",
        filter = table_filter()
    )
}

/// The indexes of materialized views (with their key columns' names) and
/// the collations of those views' columns, as one JSON document.
fn q_matview_indexes(pg15: bool) -> String {
    let filter = format!("c.relkind = 'm' AND {SCHEMA_FILTER} AND {NOT_EXTENSION_MEMBER}");
    format!(
        "SELECT json_build_object('indexes', ({}), 'collations', \
           (SELECT coalesce(json_agg(json_build_array(a.attrelid::int8, a.attnum, a.attcollation::int8)), '[]') \
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
            WHERE a.attnum > 0 AND a.attcollation <> 0 AND {filter}))",
        index_json_query(&filter, true, pg15)
    )
}

#[derive(Deserialize)]
struct RawMatviewIndexes {
    indexes: Vec<RawIndex>,
    collations: Vec<(i64, i16, i64)>,
}

fn q_indexes(pg15: bool) -> String {
    index_query(&table_filter(), false, pg15)
}

/// Indexes of the tables that `filter` selects (on `c`, `n`), one row each
/// (`RawIndex::from_row`; the column names are `RawIndex`'s fields, for `index_json_query`).
/// Key columns come as attribute numbers; with `names`, their names too (for
/// tables whose columns were not read, such as canon's temporary copies).
/// `pg15`: the server has `NULLS NOT DISTINCT`.
pub(crate) fn index_query(filter: &str, names: bool, pg15: bool) -> String {
    let names = if names {
        "ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord) \
           LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num ORDER BY k.ord)"
    } else {
        "NULL"
    };
    let nulls_not_distinct = if pg15 {
        "i.indnullsnotdistinct"
    } else {
        "false"
    };
    format!(
        "SELECT i.indrelid::int8 AS rel, ic.relname AS name, am.amname AS method, i.indisunique AS unique, \
                  i.indnkeyatts AS key_count, i.indisvalid AS valid, {nulls_not_distinct} AS nulls_not_distinct, \
                  i.indkey::int2[] AS keys, {names} AS columns, \
                  CASE WHEN i.indexprs IS NOT NULL THEN \
                    ARRAY(SELECT CASE WHEN i.indkey[k - 1] = 0 THEN pg_get_indexdef(i.indexrelid, k, true) ELSE '' END \
                          FROM generate_series(1, i.indnatts) k ORDER BY k) END AS defs, \
                  i.indoption::int2[] AS options, i.indclass::oid[]::int8[] AS opclasses, i.indcollation::oid[]::int8[] AS collations, \
                  pg_get_expr(i.indpred, i.indrelid, true) AS predicate, \
                  ds.description AS comment, \
                  i.indexrelid IN (SELECT co.conindid FROM pg_constraint co WHERE co.contype IN ('p', 'u', 'x')) AS backs_constraint \
           FROM pg_index i \
           JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam \
           JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
           LEFT JOIN pg_description ds ON ds.objoid = i.indexrelid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0 \
           WHERE {filter}"
    )
}

/// `index_query` as one JSON array of `RawIndex` (for a statement that reads other things too).
pub(crate) fn index_json_query(filter: &str, names: bool, pg15: bool) -> String {
    format!(
        "SELECT coalesce(json_agg(x), '[]') FROM ({}) x",
        index_query(filter, names, pg15)
    )
}

fn q_domains() -> String {
    format!(
        "SELECT coalesce(json_agg(x ORDER BY x.schema, x.name), '[]') FROM ( \
           SELECT n.nspname AS schema, t.typname AS name, format_type(t.typbasetype, t.typtypmod) AS type, \
                  t.typnotnull AS not_null, t.typdefault AS default, obj_description(t.oid, 'pg_type') AS comment, \
                  (SELECT json_build_array(cn.nspname, co.collname) FROM pg_collation co \
                     JOIN pg_namespace cn ON cn.oid = co.collnamespace JOIN pg_type bt ON bt.oid = t.typbasetype \
                     WHERE co.oid = t.typcollation AND t.typcollation <> bt.typcollation) AS collation, \
                  coalesce((SELECT json_agg(json_build_array(co.conname, pg_get_expr(co.conbin, 0, true)) ORDER BY co.conname) \
                            FROM pg_constraint co WHERE co.contypid = t.oid AND co.contype = 'c'), '[]') AS checks \
           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
           WHERE t.typtype = 'd' AND {SCHEMA_FILTER} \
             AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = 'pg_type'::regclass AND dep.objid = t.oid AND dep.deptype = 'e') \
         ) x"
    )
}

/// Sequences, with the column that owns them (by OWNED BY, or as its
/// identity sequence); one row each (`RawSequence::from_row`).
fn q_sequences() -> String {
    format!(
        "SELECT n.nspname AS schema, c.relname AS name, format_type(s.seqtypid, NULL) AS type, \
                  s.seqstart AS start, s.seqincrement AS increment, s.seqmin AS min_value, s.seqmax AS max_value, \
                  s.seqcache AS cache, s.seqcycle AS cycle, ds.description AS comment, \
                  o.rel AS owner_rel, o.num AS owner_num, o.col AS owner_column, coalesce(o.identity, false) AS identity \
           FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
           LEFT JOIN pg_description ds ON ds.objoid = c.oid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0 \
           LEFT JOIN LATERAL (SELECT d.refobjid::int8 AS rel, a.attnum AS num, a.attname AS col, d.deptype = 'i' AS identity \
                  FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass \
                    AND d.deptype IN ('a', 'i') LIMIT 1) o ON true \
           WHERE {SCHEMA_FILTER} AND {NOT_EXTENSION_MEMBER}"
    )
}

/// Names of the operator classes that are not a type's default, and of the
/// collations, by oid: index keys and columns refer to them by oid.
const Q_NAMES: &str = "SELECT json_build_object( \
     'opclasses', (SELECT coalesce(json_object_agg(opc.oid, json_build_array(n.nspname, opc.opcname)), '{}') \
                   FROM pg_opclass opc JOIN pg_namespace n ON n.oid = opc.opcnamespace WHERE NOT opc.opcdefault), \
     'collations', (SELECT coalesce(json_object_agg(co.oid, json_build_array(n.nspname, co.collname)), '{}') \
                    FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace))";

/// A relation `c` of schema `n` as plans name it: `t`, or `schema.t` outside public.
const REL_NAME: &str =
    "CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END";

/// What a relation `c` belongs to, for `exclude`, as `[schema, name]`: an
/// index's table, a partition's root table, else `c` itself.
const REL_BELONGS_TO: &str = "(SELECT json_build_array(bn.nspname, bc.relname) \
     FROM pg_class bc JOIN pg_namespace bn ON bn.oid = bc.relnamespace \
     WHERE bc.oid = (SELECT coalesce(pg_partition_root(r.oid), r.oid) FROM (SELECT coalesce( \
         (SELECT x.indrelid FROM pg_index x WHERE x.indexrelid = c.oid), c.oid) AS oid) r))";

/// Objects the format does not manage, listed so a person sees them; each
/// with what it belongs to (`belongs_to`: `[schema, name]`, `[schema, null]`
/// for a schema as a whole, or null), so that `exclude` takes it out.
fn q_unmanaged(pg14: bool) -> String {
    format!(
        "SELECT coalesce(json_agg(x ORDER BY x.kind, x.name), '[]') FROM ( \
           SELECT 'foreign table' AS kind, \
                  {REL_NAME} AS name, {REL_BELONGS_TO} AS belongs_to \
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE {SCHEMA_FILTER} AND {NOT_EXTENSION_MEMBER} \
             AND c.relkind = 'f' \
           UNION ALL \
           SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END, \
                  CASE WHEN n.nspname = 'public' THEN p.proname ELSE n.nspname || '.' || p.proname END \
                  || '(' || pg_get_function_identity_arguments(p.oid) || ')', json_build_array(n.nspname, p.proname) \
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
           WHERE {SCHEMA_FILTER} AND p.prokind = 'a' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass \
                  AND d.objid = p.oid AND d.deptype = 'e') \
           UNION ALL \
           SELECT 'trigger', t.tgname || ' on ' || {REL_NAME}, {REL_BELONGS_TO} \
           FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE NOT t.tgisinternal AND NOT ({managed_trigger}) AND {SCHEMA_FILTER} \
             AND NOT {clone_trigger} \
           UNION ALL \
           SELECT 'rule', r.rulename || ' on ' || {REL_NAME}, {REL_BELONGS_TO} \
           FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE r.rulename <> '_RETURN' AND {SCHEMA_FILTER} \
           UNION ALL \
           {on_partitions} \
           UNION ALL \
           {settings} {others} \
         ) x",
        on_partitions = crate::catalog::partition::q_unmanaged_on_partitions(REL_NAME, REL_BELONGS_TO, SCHEMA_FILTER),
        settings = q_unmanaged_settings(pg14),
        others = super::unmanaged::q_other_kinds(SCHEMA_FILTER),
        managed_trigger = crate::catalog::code::MANAGED_TRIGGER,
        clone_trigger = crate::catalog::partition::CLONE_TRIGGER,
    )
}

/// Settings of managed tables, columns, indexes and constraints that the
/// format does not carry, one row each (kind, `<object>: <setting>`), so
/// that `plan` and `dump` show them instead of losing them without a word:
/// storage parameters, tablespaces, REPLICA IDENTITY, column
/// storage, compression and statistics targets. (Row level security and
/// comments on constraints are the diff's: the files may say them.)
fn q_unmanaged_settings(pg14: bool) -> String {
    let rel = REL_NAME;
    let of = REL_BELONGS_TO;
    // attcompression is new in PostgreSQL 14.
    let compression = if pg14 {
        "a.attcompression"
    } else {
        "''::\"char\""
    };
    format!(
        "SELECT 'storage parameters', {rel} || ': ' || array_to_string(c.reloptions, ', '), {of} \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.reloptions IS NOT NULL AND c.relkind IN ('r', 'p', 'i', 'I') AND NOT c.relispartition \
           AND {SCHEMA_FILTER} AND {NOT_EXTENSION_MEMBER} \
         UNION ALL \
         SELECT 'tablespace', {rel} || ': ' || t.spcname, {of} \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_tablespace t ON t.oid = c.reltablespace \
         WHERE c.relkind IN ('r', 'p', 'i', 'I') AND NOT c.relispartition AND {SCHEMA_FILTER} AND {NOT_EXTENSION_MEMBER} \
         UNION ALL \
         SELECT 'replica identity', {rel} || ': ' || CASE c.relreplident WHEN 'f' THEN 'full' WHEN 'n' THEN 'nothing' \
                ELSE 'using index ' || coalesce((SELECT i.indexrelid::regclass::text FROM pg_index i \
                     WHERE i.indrelid = c.oid AND i.indisreplident), '?') END, {of} \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relreplident <> 'd' AND {table} \
         UNION ALL \
         SELECT 'column setting', {rel} || '.' || a.attname || ': ' || concat_ws(', ', \
                CASE WHEN a.attstorage <> ty.typstorage THEN 'storage ' || CASE a.attstorage WHEN 'p' THEN 'plain' \
                     WHEN 'e' THEN 'external' WHEN 'm' THEN 'main' ELSE 'extended' END END, \
                CASE WHEN {compression} <> '' THEN 'compression ' || CASE {compression} WHEN 'p' THEN 'pglz' ELSE 'lz4' END END, \
                CASE WHEN a.attstattarget >= 0 THEN 'statistics ' || a.attstattarget END), {of} \
         FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid \
         JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE a.attnum > 0 AND NOT a.attisdropped AND {table} \
           AND (a.attstorage <> ty.typstorage OR {compression} <> '' OR a.attstattarget >= 0) \
         UNION ALL \
         SELECT 'table access method', {rel} || ': ' || am.amname, {of} \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am am ON am.oid = c.relam \
         WHERE am.amname <> 'heap' AND c.relkind = 'r' AND {table} \
         UNION ALL \
         SELECT 'column options', {rel} || '.' || a.attname || ': ' || array_to_string(a.attoptions, ', '), {of} \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attoptions IS NOT NULL AND {table} \
         UNION ALL \
         SELECT 'clustered on index', {rel} || ': ' || ic.relname, {of} \
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE i.indisclustered AND {table} \
         UNION ALL \
         SELECT 'extension version', e.extname || ': ' || e.extversion || ' (the default is ' || a.default_version || ')', NULL::json \
         FROM pg_extension e JOIN pg_available_extensions a ON a.name = e.extname \
         WHERE e.extversion IS DISTINCT FROM a.default_version AND e.extname <> 'plpgsql' \
         UNION ALL \
         SELECT 'comment on schema', n.nspname, json_build_array(n.nspname, NULL::text) FROM pg_namespace n \
         JOIN pg_description ds ON ds.objoid = n.oid AND ds.classoid = 'pg_namespace'::regclass \
         WHERE {SCHEMA_FILTER} AND n.nspname <> 'public' \
         UNION ALL \
         SELECT 'domain constraint not valid', co.conname || ' on ' || CASE WHEN n.nspname = 'public' THEN t.typname ELSE n.nspname || '.' || t.typname END, \
                json_build_array(n.nspname, t.typname) \
         FROM pg_constraint co JOIN pg_type t ON t.oid = co.contypid JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE NOT co.convalidated AND {SCHEMA_FILTER}",
        table = table_filter()
    )
}

#[derive(Deserialize)]
struct RawExtension {
    name: String,
    schema: String,
}

#[derive(Deserialize)]
struct RawEnum {
    schema: String,
    name: String,
    values: Option<Vec<String>>,
    comment: Option<String>,
}

struct RawTable {
    oid: i64,
    schema: String,
    name: String,
    partition: bool,
    partition_by: Option<String>,
    comment: Option<String>,
    rls: bool,
    rls_forced: bool,
    rows: f64,
    bytes: i64,
    /// Columns, dropped ones too: room for the columns read.
    natts: i16,
    /// relpersistence `u`.
    unlogged: bool,
    /// A partition's bound (`pg_get_expr(relpartbound, oid)`) and parent's oid.
    bound: Option<String>,
    parent: Option<i64>,
}

struct RawColumn {
    rel: i64,
    num: i16,
    name: String,
    ty: String,
    not_null: bool,
    default: Option<String>,
    /// attidentity: `a`, `d` or none (`\0`).
    identity: char,
    /// attgenerated: `s` or none (`\0`).
    generated: char,
    comment: Option<String>,
    collation: i64,
    type_collation: i64,
}

#[derive(Deserialize)]
struct RawDomain {
    schema: String,
    name: String,
    #[serde(rename = "type")]
    ty: String,
    not_null: bool,
    default: Option<String>,
    comment: Option<String>,
    /// (schema, name) of a collation other than the base type's.
    collation: Option<(String, String)>,
    checks: Vec<(String, String)>,
}

struct RawSequence {
    schema: String,
    name: String,
    ty: String,
    start: i64,
    increment: i64,
    min_value: i64,
    max_value: i64,
    cache: i64,
    cycle: bool,
    comment: Option<String>,
    owner_rel: Option<i64>,
    /// The sequence of an identity column (the owner).
    identity: bool,
    owner_num: Option<i16>,
    owner_column: Option<String>,
}

struct RawConstraint {
    rel: i64,
    name: String,
    kind: char,
    keys: Option<Vec<i16>>,
    ref_schema: Option<String>,
    ref_table: Option<String>,
    ref_rel: i64,
    ref_keys: Option<Vec<i16>>,
    /// Only when the referenced table is not read (its columns are not known).
    ref_columns: Option<Vec<String>>,
    on_delete: char,
    on_update: char,
    deferrable: bool,
    deferred: bool,
    validated: bool,
    local: bool,
    nulls_not_distinct: bool,
    /// A check's NO INHERIT.
    no_inherit: bool,
    comment: Option<String>,
    /// A key's INCLUDE columns (attribute numbers).
    included: Option<Vec<i16>>,
    /// pg_constraint.confmatchtype: `f` full, `s` simple.
    match_type: char,
    /// pg_constraint.confdelsetcols (PostgreSQL 15).
    del_set_cols: Option<Vec<i16>>,
    expr: Option<String>,
    definition: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct RawIndex {
    rel: i64,
    name: String,
    method: String,
    unique: bool,
    key_count: i32,
    valid: bool,
    nulls_not_distinct: bool,
    keys: Vec<i16>,
    columns: Option<Vec<Option<String>>>,
    defs: Option<Vec<String>>,
    options: Vec<i16>,
    opclasses: Vec<i64>,
    collations: Vec<i64>,
    predicate: Option<String>,
    comment: Option<String>,
    backs_constraint: bool,
}

/// `[schema, name]` as the catalog queries return it.
type SchemaName = (String, String);

#[derive(Deserialize)]
struct RawUnmanaged {
    kind: String,
    name: String,
    /// `[schema, name]`, `[schema, null]` (a schema), or null.
    belongs_to: Option<(String, Option<String>)>,
}

/// A row's fields by position, as text (NULL as `None`): a row as it
/// arrives (borrowed from the message), or one held as strings.
pub(crate) trait Fields {
    fn width(&self) -> usize;
    fn field(&self, i: usize) -> Option<&str>;
}

impl Fields for crate::connect::db::SimpleQueryRow {
    fn width(&self) -> usize {
        self.len()
    }
    fn field(&self, i: usize) -> Option<&str> {
        self.get(i)
    }
}

impl Fields for Vec<Option<String>> {
    fn width(&self) -> usize {
        self.len()
    }
    fn field(&self, i: usize) -> Option<&str> {
        self.get(i).and_then(|v| v.as_deref())
    }
}

impl<T: Fields + ?Sized> Fields for &T {
    fn width(&self) -> usize {
        (**self).width()
    }
    fn field(&self, i: usize) -> Option<&str> {
        (**self).field(i)
    }
}

/// A row's values by position, for destructuring in the order of the SELECT
/// list; a row of another width (a query edited without its reader) is an
/// error, not a panic.
fn fields<const N: usize>(row: &impl Fields) -> Result<[Option<&str>; N], String> {
    let len = row.width();
    if len != N {
        return Err(format!("{len} columns where {N} were expected"));
    }
    Ok(std::array::from_fn(|i| row.field(i)))
}

fn text(v: Option<&str>) -> Result<String, String> {
    v.map(str::to_string)
        .ok_or_else(|| "NULL where a value was expected".to_string())
}

/// A `"char"` value: its one character, `\0` for none (printed empty).
fn code(v: Option<&str>) -> Result<char, String> {
    let s = v.ok_or_else(|| "NULL where a value was expected".to_string())?;
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Ok('\0'),
        (Some(c), None) => Ok(c),
        _ => Err(format!("not a \"char\": {s:?}")),
    }
}

fn optional(v: Option<&str>) -> Option<String> {
    v.map(str::to_string)
}

fn boolean(v: Option<&str>) -> Result<bool, String> {
    match v {
        Some("t") => Ok(true),
        Some("f") => Ok(false),
        other => Err(format!("not a boolean: {other:?}")),
    }
}

fn number<T: FromStr>(v: Option<&str>) -> Result<T, String> {
    let s = v.ok_or_else(|| "NULL where a value was expected".to_string())?;
    s.parse().map_err(|_| format!("not a number: {s:?}"))
}

/// An array of numbers (`{1,2}`); NULL elements are an error.
fn numbers<T: FromStr>(v: Option<&str>) -> Result<Option<Vec<T>>, String> {
    v.map(|s| {
        array_elements(s)?
            .into_iter()
            .map(|e| number(e.as_deref()))
            .collect()
    })
    .transpose()
}

/// An array of strings, NULL elements kept.
fn strings(v: Option<&str>) -> Result<Option<Vec<Option<String>>>, String> {
    v.map(|s| {
        Ok(array_elements(s)?
            .into_iter()
            .map(|e| e.map(Cow::into_owned))
            .collect())
    })
    .transpose()
}

/// An array of strings without NULL elements.
fn non_null_strings(v: Option<&str>) -> Result<Option<Vec<String>>, String> {
    v.map(|s| {
        array_elements(s)?
            .into_iter()
            .map(|e| {
                e.map(Cow::into_owned)
                    .ok_or_else(|| "NULL where a value was expected".to_string())
            })
            .collect()
    })
    .transpose()
}

/// The elements of a one-dimensional array in PostgreSQL's text output
/// (`array_out`): `{a,"b c",NULL,"x\"y"}`, maybe after bounds (`[0:1]={1,2}`,
/// as int2vector and oidvector cast to arrays print). An element is quoted
/// when it is empty, is `NULL` in any case, or holds a quote, backslash,
/// comma, brace or white space; inside quotes, `\` escapes the next character.
pub fn array_elements(s: &str) -> Result<Vec<Option<Cow<'_, str>>>, String> {
    let bad = |why: &str| format!("not an array ({why}): {s:?}");
    let body = match s.strip_prefix('[') {
        Some(rest) => rest.split_once("]=").ok_or_else(|| bad("bounds"))?.1,
        None => s,
    };
    let body = body
        .strip_prefix('{')
        .and_then(|b| b.strip_suffix('}'))
        .ok_or_else(|| bad("braces"))?;
    let mut out = Vec::new();
    if body.is_empty() {
        return Ok(out);
    }
    let bytes = body.as_bytes();
    let mut i = 0;
    loop {
        if bytes.get(i) == Some(&b'"') {
            // Quoted: up to the next unescaped quote; borrowed unless escaped.
            let start = i + 1;
            let mut owned: Option<String> = None;
            let mut from = start;
            i = start;
            loop {
                match bytes.get(i) {
                    None => return Err(bad("unterminated quote")),
                    Some(b'"') => break,
                    Some(b'\\') => {
                        let o = owned.get_or_insert_with(String::new);
                        o.push_str(&body[from..i]);
                        // The escaped character, whole (it may be multi-byte).
                        let c = body[i + 1..]
                            .chars()
                            .next()
                            .ok_or_else(|| bad("trailing backslash"))?;
                        o.push(c);
                        i += 1 + c.len_utf8();
                        from = i;
                    }
                    Some(_) => i += 1,
                }
            }
            out.push(Some(match owned {
                Some(mut o) => {
                    o.push_str(&body[from..i]);
                    Cow::Owned(o)
                }
                None => Cow::Borrowed(&body[start..i]),
            }));
            i += 1;
        } else {
            // Unquoted: up to the next comma; NULL is the null element.
            let end = body[i..].find(',').map_or(body.len(), |n| i + n);
            let element = &body[i..end];
            if element.is_empty() || element.contains(['"', '\\', '{', '}']) {
                return Err(bad("element"));
            }
            out.push((!element.eq_ignore_ascii_case("NULL")).then_some(Cow::Borrowed(element)));
            i = end;
        }
        match bytes.get(i) {
            None => return Ok(out),
            Some(b',') => i += 1,
            Some(_) => return Err(bad("after an element")),
        }
    }
}

impl RawTable {
    fn from_row(row: impl Fields) -> Result<Self, String> {
        let [oid, schema, name, partition, comment, rls, rls_forced, partition_by, rows, bytes, natts, unlogged, bound, parent] =
            fields(&row)?;
        Ok(RawTable {
            oid: number(oid)?,
            schema: text(schema)?,
            name: text(name)?,
            partition: boolean(partition)?,
            comment: optional(comment),
            rls: boolean(rls)?,
            rls_forced: boolean(rls_forced)?,
            partition_by: optional(partition_by),
            rows: number(rows)?,
            bytes: number(bytes)?,
            natts: number(natts)?,
            unlogged: boolean(unlogged)?,
            bound: optional(bound),
            parent: parent.map(|v| number(Some(v))).transpose()?,
        })
    }
}

impl RawSequence {
    /// The options as read (normalize them for the type).
    fn options(&self) -> SeqOptions {
        SeqOptions {
            start: Some(self.start),
            increment: Some(self.increment),
            min_value: Some(self.min_value),
            max_value: Some(self.max_value),
            cache: Some(self.cache),
            cycle: self.cycle,
        }
    }

    fn from_row(row: impl Fields) -> Result<Self, String> {
        let [schema, name, ty, start, increment, min_value, max_value, cache, cycle, comment, owner_rel, owner_num, owner_column, identity] =
            fields(&row)?;
        Ok(RawSequence {
            schema: text(schema)?,
            name: text(name)?,
            ty: text(ty)?,
            start: number(start)?,
            increment: number(increment)?,
            min_value: number(min_value)?,
            max_value: number(max_value)?,
            cache: number(cache)?,
            cycle: boolean(cycle)?,
            comment: optional(comment),
            owner_rel: owner_rel.map(|v| number(Some(v))).transpose()?,
            owner_num: owner_num.map(|v| number(Some(v))).transpose()?,
            owner_column: optional(owner_column),
            identity: boolean(identity)?,
        })
    }
}

impl RawColumn {
    fn from_row(row: impl Fields) -> Result<Self, String> {
        let [rel, num, name, ty, not_null, default, identity, generated, comment, collation, type_collation] =
            fields(&row)?;
        Ok(RawColumn {
            rel: number(rel)?,
            num: number(num)?,
            name: text(name)?,
            ty: text(ty)?,
            not_null: boolean(not_null)?,
            default: optional(default),
            identity: code(identity)?,
            generated: code(generated)?,
            comment: optional(comment),
            collation: number(collation)?,
            type_collation: number(type_collation)?,
        })
    }
}

impl RawConstraint {
    fn from_row(row: impl Fields) -> Result<Self, String> {
        let [rel, name, kind, keys, ref_schema, ref_table, ref_rel, ref_keys, ref_columns, on_delete, on_update, deferrable, deferred, validated, local, nulls_not_distinct, no_inherit, comment, included, match_type, del_set_cols, expr, definition] =
            fields(&row)?;
        Ok(RawConstraint {
            rel: number(rel)?,
            name: text(name)?,
            kind: code(kind)?,
            keys: numbers(keys)?,
            ref_schema: optional(ref_schema),
            ref_table: optional(ref_table),
            ref_rel: number(ref_rel)?,
            ref_keys: numbers(ref_keys)?,
            ref_columns: non_null_strings(ref_columns)?,
            on_delete: code(on_delete)?,
            on_update: code(on_update)?,
            deferrable: boolean(deferrable)?,
            deferred: boolean(deferred)?,
            validated: boolean(validated)?,
            local: boolean(local)?,
            nulls_not_distinct: boolean(nulls_not_distinct)?,
            no_inherit: boolean(no_inherit)?,
            comment: optional(comment),
            included: numbers(included)?,
            match_type: code(match_type)?,
            del_set_cols: numbers(del_set_cols)?,
            expr: optional(expr),
            definition: optional(definition),
        })
    }
}

impl RawIndex {
    fn from_row(row: impl Fields) -> Result<Self, String> {
        let [rel, name, method, unique, key_count, valid, nulls_not_distinct, keys, columns, defs, options, opclasses, collations, predicate, comment, backs_constraint] =
            fields(&row)?;
        Ok(RawIndex {
            rel: number(rel)?,
            name: text(name)?,
            method: text(method)?,
            unique: boolean(unique)?,
            key_count: number(key_count)?,
            valid: boolean(valid)?,
            nulls_not_distinct: boolean(nulls_not_distinct)?,
            keys: numbers(keys)?.unwrap_or_default(),
            columns: strings(columns)?,
            defs: non_null_strings(defs)?,
            options: numbers(options)?.unwrap_or_default(),
            opclasses: numbers(opclasses)?.unwrap_or_default(),
            collations: numbers(collations)?.unwrap_or_default(),
            predicate: optional(predicate),
            comment: optional(comment),
            backs_constraint: boolean(backs_constraint)?,
        })
    }
}

/// Statements sent by `introspect` (they go in one round trip).
pub const STATEMENTS: usize = 19;

/// The place of the unmanaged objects' statement among them.
const UNMANAGED_STATEMENT: usize = 9;

/// The catalog statements, in the order `introspect` sends them (for a server
/// of `server_version_num`). Public so that a benchmark can send them alone.
pub fn queries(server_version: i32) -> Vec<String> {
    let pg15 = server_version >= 150000;
    vec![
        // The pinned settings (`db::PINNED_SETTINGS`): types and expressions
        // print the same way every time, whatever the database sets; jit:
        // compiling these catalog queries costs more than running them.
        format!(
            "{}, pg_catalog.set_config('jit', 'off', true)",
            crate::connect::db::pin_settings_sql(true)
        ),
        // First: columns and indexes name their collations and operator classes as they arrive.
        Q_NAMES.to_string(),
        q_schemas(),
        Q_EXTENSIONS.to_string(),
        q_enums(),
        q_tables(),
        q_columns(),
        q_constraints(pg15),
        q_indexes(pg15),
        q_unmanaged(server_version >= 140000),
        q_domains(),
        q_sequences(),
        code::q_routines(
            &code::live_routines_filter(SCHEMA_FILTER),
            server_version >= 140000,
        ),
        code::q_views(&format!("{SCHEMA_FILTER} AND {NOT_EXTENSION_MEMBER}")),
        code::q_triggers(SCHEMA_FILTER),
        q_matview_indexes(pg15),
        super::policy::q_policies(SCHEMA_FILTER),
        crate::catalog::grants::q_grants(
            SCHEMA_FILTER,
            NOT_EXTENSION_MEMBER,
            &code::live_routines_filter(SCHEMA_FILTER),
        ),
        crate::catalog::types::q_user_types(SCHEMA_FILTER, server_version >= 140000),
    ]
}

/// Read the live schema. The caller owns the transaction; this sets
/// `search_path` locally so types and expressions print the same way every time.
pub async fn introspect(db: &Db) -> Result<Catalog, SqlError> {
    introspect_with(db, true).await
}

/// As [`introspect`]; without `unmanaged`, the objects the format does not
/// manage are not listed (`Catalog::unmanaged` holds only what the other
/// statements find), which saves the costliest statement where only the
/// statements and refusals of a plan matter (apply's verification). The
/// same number of statements is sent either way.
pub async fn introspect_with(db: &Db, unmanaged: bool) -> Result<Catalog, SqlError> {
    let mut queries = queries(db.server_version);
    if !unmanaged {
        queries[UNMANAGED_STATEMENT] = "SELECT '[]'::pg_catalog.json".into();
    }
    debug_assert_eq!(queries.len(), STATEMENTS);
    let refs: Vec<&str> = queries.iter().map(String::as_str).collect();
    // Each row is decoded as it arrives, while the server works on the next.
    let mut reader = Reader::default();
    let completed = if std::env::var_os("RECONCILE_TRACE").is_some() {
        // One statement at a time, timed (slower: one round trip each).
        let mut completed = 0;
        for (i, q) in refs.iter().enumerate() {
            let t = std::time::Instant::now();
            completed += db.simple_each(&[q], |_, row| reader.row(i, row)).await?;
            crate::trace::trace(&format!("catalog statement {i}"), t);
        }
        completed
    } else {
        db.simple_each(&refs, |i, row| reader.row(i, row)).await?
    };
    if completed < STATEMENTS {
        return Err(internal(format!(
            "catalog query {completed} returned nothing"
        )));
    }
    reader.finish()
}

/// The catalog, built as the rows of its statements arrive: tables, columns
/// and constraints go straight into the model (nothing is kept row by row but
/// the indexes, which need the names read last).
#[derive(Default)]
struct Reader {
    schemas: Option<Vec<String>>,
    extensions: Option<Vec<RawExtension>>,
    enums: Option<Vec<RawEnum>>,
    unmanaged: Option<Vec<RawUnmanaged>>,
    domains: Option<Vec<RawDomain>>,
    sequences: Vec<RawSequence>,
    routines: Option<Vec<code::RawRoutine>>,
    views: Option<Vec<code::RawView>>,
    triggers: Option<Vec<code::RawTrigger>>,
    /// The indexes of materialized views, by the view's oid.
    matview_indexes: Option<Vec<(i64, Index)>>,
    policies: Option<Vec<super::policy::RawPolicy>>,
    grants: Option<crate::catalog::grants::RawGrants>,
    /// Composite and range types.
    user_types: Option<crate::catalog::types::RawUserTypes>,
    /// Read first (whether it was: `names_read`).
    names: Names,
    names_read: bool,
    /// Every table read, partitions too (a foreign key may refer to one).
    rels: Vec<Rel>,
    /// Index in `rels` by table oid.
    by_oid: HashMap<i64, usize>,
    /// The collation of each collatable column, by (table oid, attnum).
    column_collations: HashMap<(i64, i16), i64>,
    /// Inherited and exclusion constraints (table oid, name, what is listed).
    odd_constraints: Vec<(i64, String, UnmanagedObject)>,
    exprs: ExprCache,
}

/// A table being read.
struct Rel {
    oid: i64,
    partition: bool,
    /// A partition's parent and bound (`RawTable`).
    parent: Option<(i64, String)>,
    table: Table,
    /// The attnum of each of `table.columns`.
    attnums: Vec<i16>,
}

impl Reader {
    /// One row of statement `i` (in the order of `queries`).
    fn row(&mut self, i: usize, row: &crate::connect::db::SimpleQueryRow) -> Result<(), String> {
        let decoded = match i {
            // The pinned settings, read back (the last column is jit).
            0 => {
                let values: Vec<Option<String>> = (0..row.len())
                    .map(|f| row.get(f).map(str::to_string))
                    .collect();
                crate::connect::db::check_pinned(Some(&values)).map_err(|e| e.message)
            }
            1 => json(row).map(|v: RawNames| {
                self.names = Names::from(v);
                self.names_read = true;
            }),
            2 => json(row).map(|v| self.schemas = Some(v)),
            3 => json(row).map(|v| self.extensions = Some(v)),
            4 => json(row).map(|v| self.enums = Some(v)),
            5 => RawTable::from_row(row).map(|t| self.table(t)),
            6 => RawColumn::from_row(row).map(|c| self.column(c)),
            7 => RawConstraint::from_row(row).map(|c| self.constraint(c)),
            8 => RawIndex::from_row(row).map(|i| self.index(i)),
            UNMANAGED_STATEMENT => json(row).map(|v| self.unmanaged = Some(v)),
            10 => json(row).map(|v| self.domains = Some(v)),
            11 => RawSequence::from_row(row).map(|s| self.sequences.push(s)),
            12 => json(row).map(|v| self.routines = Some(v)),
            13 => json(row).map(|v| self.views = Some(v)),
            14 => json(row).map(|v| self.triggers = Some(v)),
            15 => json(row).map(|v: RawMatviewIndexes| {
                let collations: HashMap<(i64, i16), i64> = v
                    .collations
                    .into_iter()
                    .map(|(rel, num, c)| ((rel, num), c))
                    .collect();
                let ctx = KeyContext {
                    names: &self.names,
                    column_collations: &collations,
                    exprs: &self.exprs,
                };
                self.matview_indexes = Some(
                    v.indexes
                        .into_iter()
                        .map(|i| (i.rel, index_from_raw(i, &ctx)))
                        .collect(),
                );
            }),
            16 => json(row).map(|v| self.policies = Some(v)),
            17 => json(row).map(|v| self.grants = Some(v)),
            18 => json(row).map(|v| self.user_types = Some(v)),
            _ => Ok(()),
        };
        decoded.map_err(|e| format!("cannot read the catalog (query {i}): {e}"))
    }

    fn table(&mut self, t: RawTable) {
        let mut table = Table::new(QualName::new(t.schema, t.name));
        let natts = usize::try_from(t.natts).unwrap_or(0);
        table.columns.reserve_exact(natts);
        table.comment = t.comment;
        table.row_level_security = Some(t.rls);
        table.force_row_level_security = Some(t.rls_forced);
        table.unlogged = Some(t.unlogged);
        table.partition_by = t.partition_by.as_deref().map(expr::partition_key);
        table.stats = Some(TableStats {
            rows: t.rows,
            bytes: t.bytes,
            partitioned: table.partition_by.is_some(),
            partitions: Vec::new(),
        });
        self.by_oid.insert(t.oid, self.rels.len());
        self.rels.push(Rel {
            oid: t.oid,
            partition: t.partition,
            parent: t.parent.zip(t.bound),
            table,
            attnums: Vec::with_capacity(natts),
        });
    }

    /// A table that is managed (not a partition): listed as unmanaged by q_unmanaged.
    fn managed(&self, oid: i64) -> Option<usize> {
        self.by_oid
            .get(&oid)
            .copied()
            .filter(|&r| !self.rels[r].partition)
    }

    /// The name of column `attnum` of table `oid`, when it was read.
    fn column_name(&self, oid: i64, attnum: i16) -> Option<String> {
        let rel = &self.rels[*self.by_oid.get(&oid)?];
        let at = rel.attnums.iter().position(|&n| n == attnum)?;
        Some(rel.table.columns[at].name.clone())
    }

    fn column(&mut self, c: RawColumn) {
        let Some(&r) = self.by_oid.get(&c.rel) else {
            return;
        };
        if c.collation != 0 {
            self.column_collations.insert((c.rel, c.num), c.collation);
        }
        let rel = &mut self.rels[r];
        let mut col = Column::new(c.name, c.ty);
        if c.collation != 0 && c.collation != c.type_collation {
            col.collation = self
                .names
                .collations
                .get(&c.collation)
                .cloned()
                .map(Box::new);
        }
        col.not_null = c.not_null;
        col.comment = c.comment;
        col.identity = match c.identity {
            'a' => Some(Identity::Always),
            'd' => Some(Identity::ByDefault),
            _ => None,
        };
        if c.generated == 's' {
            col.generated = c.default.as_deref().map(|e| Box::new(self.exprs.get(e)));
        } else {
            col.default = c.default.as_deref().map(|e| self.exprs.get(e));
        }
        rel.table.columns.push(col);
        rel.attnums.push(c.num);
    }

    fn constraint(&mut self, c: RawConstraint) {
        let Some(r) = self.managed(c.rel) else {
            return;
        };
        if !c.local {
            let name = format!("{} on {}", c.name, self.rels[r].table.name);
            self.odd_constraints.push((
                c.rel,
                c.name,
                UnmanagedObject {
                    kind: "inherited constraint".into(),
                    name,
                    belongs_to: Some(BelongsTo::Object(self.rels[r].table.name.clone())),
                },
            ));
            return;
        }
        let columns: Vec<String> = c
            .keys
            .iter()
            .flatten()
            .filter_map(|k| self.column_name(c.rel, *k))
            .collect();
        let ref_columns = match (c.kind, c.ref_columns) {
            ('f', None) => c
                .ref_keys
                .iter()
                .flatten()
                .filter_map(|k| self.column_name(c.ref_rel, *k))
                .collect(),
            (_, ref_columns) => ref_columns.unwrap_or_default(),
        };
        let names = |nums: &Option<Vec<i16>>| -> Vec<String> {
            nums.iter()
                .flatten()
                .filter_map(|k| self.column_name(c.rel, *k))
                .collect()
        };
        let include = names(&c.included);
        let on_delete_columns = names(&c.del_set_cols);
        let table = &mut self.rels[r].table;
        // An exclusion constraint PostgreSQL prints in a form `model::exclusion`
        // does not read stays listed (below), its comment with it.
        let exclusion = match (c.kind, &c.definition) {
            ('x', Some(def)) => crate::model::exclusion::Exclusion::from_catalog(&c.name, def),
            _ => None,
        };
        if let (Some(cm), 'p' | 'u' | 'c' | 'f' | 'x') = (&c.comment, c.kind) {
            if c.kind != 'x' || exclusion.is_some() {
                table.constraint_comments.insert(c.name.clone(), cm.clone());
            }
        }
        if let Some(x) = exclusion {
            push(&mut table.exclusions, x);
            return;
        }
        match c.kind {
            'p' => {
                table.primary_key = Some(Key {
                    name: c.name,
                    columns,
                    deferrable: c.deferrable,
                    initially_deferred: c.deferred,
                    nulls_not_distinct: false,
                    include,
                    origin: None,
                })
            }
            'u' => push(
                &mut table.uniques,
                Key {
                    name: c.name,
                    columns,
                    deferrable: c.deferrable,
                    initially_deferred: c.deferred,
                    nulls_not_distinct: c.nulls_not_distinct,
                    include,
                    origin: None,
                },
            ),
            'c' => push(
                &mut table.checks,
                Check {
                    name: c.name,
                    expr: self.exprs.get(c.expr.as_deref().unwrap_or("")),
                    validated: c.validated,
                    no_inherit: c.no_inherit,
                    origin: None,
                },
            ),
            'f' => push(
                &mut table.foreign_keys,
                ForeignKey {
                    name: c.name,
                    columns,
                    ref_table: QualName::new(
                        c.ref_schema.unwrap_or_default(),
                        c.ref_table.unwrap_or_default(),
                    ),
                    ref_columns,
                    on_delete: FkAction::from_catalog(c.on_delete.encode_utf8(&mut [0; 4])),
                    on_delete_columns,
                    on_update: FkAction::from_catalog(c.on_update.encode_utf8(&mut [0; 4])),
                    match_full: c.match_type == 'f',
                    deferrable: c.deferrable,
                    initially_deferred: c.deferred,
                    validated: c.validated,
                    origin: None,
                },
            ),
            _ => {
                let name = format!(
                    "{} on {}: {}",
                    c.name,
                    table.name,
                    c.definition.unwrap_or_default()
                );
                self.odd_constraints.push((
                    c.rel,
                    c.name,
                    UnmanagedObject {
                        kind: "exclusion constraint".into(),
                        name,
                        belongs_to: Some(BelongsTo::Object(table.name.clone())),
                    },
                ));
            }
        }
    }

    fn index(&mut self, mut i: RawIndex) {
        let Some(r) = self.managed(i.rel).filter(|_| !i.backs_constraint) else {
            return;
        };
        if i.columns.is_none() {
            i.columns = Some(
                i.keys
                    .iter()
                    .map(|k| (*k != 0).then(|| self.column_name(i.rel, *k)).flatten())
                    .collect(),
            );
        }
        let ctx = KeyContext {
            names: &self.names,
            column_collations: &self.column_collations,
            exprs: &self.exprs,
        };
        push(&mut self.rels[r].table.indexes, index_from_raw(i, &ctx));
    }

    /// The catalog, once every statement has been read.
    fn finish(self) -> Result<Catalog, SqlError> {
        fn got<T>(v: Option<T>, i: usize) -> Result<T, SqlError> {
            v.ok_or_else(|| internal(format!("catalog query {i} returned no row")))
        }
        let Reader {
            schemas,
            extensions,
            enums,
            unmanaged,
            domains,
            mut sequences,
            names_read,
            mut rels,
            by_oid,
            mut odd_constraints,
            exprs,
            routines,
            views,
            triggers,
            matview_indexes,
            policies,
            grants,
            user_types,
            ..
        } = self;
        got(names_read.then_some(()), 1)?;
        let schemas = got(schemas, 2)?;
        let extensions = got(extensions, 3)?;
        let enums = got(enums, 4)?;
        let unmanaged = got(unmanaged, UNMANAGED_STATEMENT)?;
        let domains = got(domains, 10)?;
        let routines = got(routines, 12)?;
        let views = got(views, 13)?;
        let triggers = got(triggers, 14)?;
        let matview_indexes = got(matview_indexes, 15)?;
        let policies = got(policies, 16)?;
        let (roles, grants, revoked) = got(grants, 17)?.into_model();
        let user_types = got(user_types, 18)?;
        // In order of name, as the statement does not sort them.
        sequences.sort_unstable_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));

        let mut cat = Catalog {
            schemas: schemas.into_iter().collect(),
            roles,
            grants,
            ..Catalog::default()
        };
        for e in extensions {
            if e.name == "plpgsql" {
                continue;
            }
            cat.extensions.insert(
                e.name.clone(),
                Extension {
                    name: e.name,
                    schema: Some(e.schema),
                    origin: None,
                },
            );
        }
        for e in enums {
            let name = QualName::new(e.schema, e.name);
            cat.enums.insert(
                name.clone(),
                EnumType {
                    name,
                    values: e.values.unwrap_or_default(),
                    comment: e.comment,
                    origin: None,
                },
            );
        }
        // The sequence each column owns (what `serial` makes, or OWNED BY),
        // or its identity sequence, whose options go with the column.
        let owned_sequences: HashMap<(i64, i16), &RawSequence> = sequences
            .iter()
            .filter_map(|s| Some(((s.owner_rel?, s.owner_num?), s)))
            .collect();
        for (&(oid, attnum), &s) in &owned_sequences {
            let (seq_schema, seq) = (s.schema.as_str(), s.name.as_str());
            let Some(rel) = by_oid.get(&oid).map(|&r| &mut rels[r]) else {
                continue;
            };
            let Some(at) = rel.attnums.iter().position(|&n| n == attnum) else {
                continue;
            };
            if rel.partition {
                continue;
            }
            let table_name = &rel.table.name;
            let col = &mut rel.table.columns[at];
            let options = s.options().normalized(&s.ty);
            if s.identity {
                col.identity_options =
                    (options != SeqOptions::default()).then(|| Box::new(options));
                continue;
            }
            let Some(default) = &col.default else {
                continue;
            };
            let keyword = match col.ty.as_str() {
                "integer" => Some("serial"),
                "bigint" => Some("bigserial"),
                "smallint" => Some("smallserial"),
                _ => None,
            };
            let sequence = QualName::new(seq_schema, seq);
            // Exactly what `serial` makes: the implicit sequence name, NOT
            // NULL, the default options (others keep it a sequence of its own).
            let implicit = sequence.schema == table_name.schema
                && sequence.name == crate::model::names::sequence_name(&table_name.name, &col.name)
                && options == SeqOptions::default()
                && s.ty == col.ty;
            if let (Some(keyword), true) = (
                keyword,
                implicit && col.not_null && default.sql == Serial::default_sql(&sequence),
            ) {
                col.serial = Some(Box::new(Serial { keyword, sequence }));
            }
        }
        // The big queries come unordered (ordering costs the server more): the
        // constraints listed by table and name; each table's constraints and
        // indexes by name, the tables by name (below).
        odd_constraints.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        cat.unmanaged
            .extend(odd_constraints.into_iter().map(|(.., u)| u));
        let table_names: HashMap<i64, QualName> = rels
            .iter()
            .filter(|r| !r.partition)
            .map(|r| (r.oid, r.table.name.clone()))
            .collect();
        let mut parts = Vec::new();
        rels.retain_mut(|r| {
            if let (true, Some((parent, bound))) = (r.partition, r.parent.take()) {
                let t = &mut r.table;
                parts.push(crate::catalog::partition::RawPart {
                    oid: r.oid,
                    parent,
                    partition: crate::model::Partition {
                        name: t.name.clone(),
                        bound: crate::desired::load::partition::bound_from_catalog(&bound),
                        partition_by: t.partition_by.take(),
                        partitions: Vec::new(),
                        comment: t.comment.take(),
                        deprecated: None,
                        origin: None,
                    },
                });
            }
            !r.partition
        });
        rels.sort_unstable_by(|a, b| a.table.name.cmp(&b.table.name));
        cat.tables.reserve_exact(rels.len());
        for rel in rels {
            let mut table = rel.table;
            if !rel.attnums.is_sorted() {
                let mut numbered: Vec<(i16, Column)> =
                    rel.attnums.into_iter().zip(table.columns).collect();
                numbered.sort_unstable_by_key(|(n, _)| *n);
                table.columns = numbered.into_iter().map(|(_, c)| c).collect();
            }
            table.uniques.sort_unstable_by(|a, b| a.name.cmp(&b.name));
            table.checks.sort_unstable_by(|a, b| a.name.cmp(&b.name));
            table
                .foreign_keys
                .sort_unstable_by(|a, b| a.name.cmp(&b.name));
            table.indexes.sort_unstable_by(|a, b| a.name.cmp(&b.name));
            // Grown by doubling as the rows came: the slack goes (columns
            // have their room, unless some were dropped).
            table.columns.shrink_to_fit();
            table.uniques.shrink_to_fit();
            table.checks.shrink_to_fit();
            table.foreign_keys.shrink_to_fit();
            table.indexes.shrink_to_fit();
            cat.tables.insert(table.name.clone(), table);
        }
        crate::catalog::partition::nest(parts, &mut cat.tables, &table_names);
        read_code(&mut cat, routines, views, triggers, matview_indexes);
        read_policies(&mut cat, policies);
        cat.unmanaged.extend(revoked);
        crate::catalog::types::read_user_types(&mut cat, user_types);
        for u in unmanaged {
            cat.unmanaged.push(UnmanagedObject {
                kind: u.kind,
                name: u.name,
                belongs_to: u.belongs_to.map(|(schema, name)| match name {
                    Some(name) => BelongsTo::Object(QualName::new(schema, name)),
                    None => BelongsTo::Schema(schema),
                }),
            });
        }
        for d in domains {
            let name = QualName::new(d.schema, d.name);
            let domain = Domain {
                name: name.clone(),
                ty: d.ty,
                collation: d
                    .collation
                    .map(|(schema, name)| ObjName::from_catalog(&schema, &name)),
                not_null: d.not_null,
                default: d.default.as_deref().map(|e| exprs.get(e)),
                checks: d
                    .checks
                    .into_iter()
                    .map(|(name, e)| Check {
                        name,
                        expr: exprs.get(&e),
                        validated: true,
                        no_inherit: false,
                        origin: None,
                    })
                    .collect(),
                comment: d.comment,
                origin: None,
            };
            cat.domains.insert(name, domain);
        }
        drop(owned_sequences);
        standalone_sequences(&mut cat, sequences, &table_names);
        let no_place = crate::catalog::grants::take_unmanaged_grants(&mut cat);
        cat.unmanaged.extend(no_place);
        Ok(cat)
    }
}

/// `v.push(x)`, with room for one only at first: most tables have one or two
/// constraints or indexes of a kind, where a vector's first growth makes four.
fn push<T>(v: &mut Vec<T>, x: T) {
    if v.capacity() == 0 {
        v.reserve_exact(1);
    }
    v.push(x);
}

/// The one JSON document of a statement's one row.
fn json<T: serde::de::DeserializeOwned>(row: &impl Fields) -> Result<T, String> {
    let [doc] = fields(row)?;
    serde_json::from_str(doc.ok_or("NULL where a document was expected")?)
        .map_err(|e| e.to_string())
}

fn internal(message: String) -> SqlError {
    SqlError {
        message,
        code: None,
        detail: None,
        hint: None,
        statement: None,
    }
}

#[derive(Deserialize)]
struct RawNames {
    opclasses: HashMap<String, SchemaName>,
    collations: HashMap<String, SchemaName>,
}

/// Operator classes (not the default ones) and collations, by oid.
#[derive(Default)]
pub(crate) struct Names {
    opclasses: HashMap<i64, ObjName>,
    collations: HashMap<i64, ObjName>,
}

impl From<RawNames> for Names {
    fn from(r: RawNames) -> Self {
        let by_oid = |m: HashMap<String, SchemaName>| {
            m.into_iter()
                .filter_map(|(k, (schema, name))| {
                    Some((k.parse().ok()?, ObjName::from_catalog(&schema, &name)))
                })
                .collect()
        };
        Names {
            opclasses: by_oid(r.opclasses),
            collations: by_oid(r.collations),
        }
    }
}

/// What an index key needs to know beyond its own row.
pub(crate) struct KeyContext<'a> {
    pub names: &'a Names,
    /// The collation of each column, by (table oid, attnum).
    pub column_collations: &'a HashMap<(i64, i16), i64>,
    pub exprs: &'a ExprCache,
}

/// Expressions as the catalog prints them, each distinct text parsed once:
/// thousands of columns share `0`, `now()` or `'new'::text`.
#[derive(Default)]
pub(crate) struct ExprCache(std::cell::RefCell<HashMap<String, Expr>>);

impl ExprCache {
    /// `expr::from_catalog(sql)`.
    pub fn get(&self, sql: &str) -> Expr {
        // A sequence's default is its own: not worth keeping.
        if sql.starts_with("nextval(") {
            return expr::from_catalog(sql);
        }
        if let Some(e) = self.0.borrow().get(sql) {
            return e.clone();
        }
        let e = expr::from_catalog(sql);
        self.0.borrow_mut().insert(sql.to_string(), e.clone());
        e
    }
}

/// The sequences that no serial column stands for, into `cat` (its tables
/// built); `by_oid` names the tables that own some.
fn standalone_sequences(
    cat: &mut Catalog,
    sequences: Vec<RawSequence>,
    by_oid: &HashMap<i64, QualName>,
) {
    // A sequence that a serial column stands for is that column's business.
    let serials: std::collections::HashSet<&QualName> = cat
        .tables
        .values()
        .flat_map(|t| t.columns.iter())
        .filter_map(|c| c.serial.as_ref().map(|s| &s.sequence))
        .collect();
    let mut standalone = Vec::new();
    for s in sequences {
        let name = QualName::new(s.schema.clone(), s.name.clone());
        if serials.contains(&name) || s.identity {
            continue;
        }
        let options = s.options().normalized(&s.ty);
        let owned_by = match (s.owner_rel, s.owner_column) {
            (Some(rel), Some(col)) => by_oid.get(&rel).map(|t| (t.clone(), col)),
            _ => None,
        };
        standalone.push(Sequence {
            ty: (s.ty != "bigint").then_some(s.ty),
            options,
            owned_by,
            comment: s.comment,
            origin: None,
            name,
        });
    }
    for s in standalone {
        cat.sequences.insert(s.name.clone(), s);
    }
}

impl RawIndex {
    /// The index's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }
    /// The operator class of each key column (pg_index.indclass).
    pub(crate) fn opclass_oids(&self) -> &[i64] {
        &self.opclasses
    }
}

/// The model of an index row of `index_query`.
pub(crate) fn index_from_raw(i: RawIndex, ctx: &KeyContext) -> Index {
    let key_count = i.key_count.max(0) as usize;
    let columns = i.columns.unwrap_or_default();
    let mut keys = Vec::with_capacity(key_count);
    for k in 0..key_count {
        let opt = i.options.get(k).copied().unwrap_or(0);
        let part = match columns.get(k).cloned().flatten() {
            Some(col) => IndexKeyPart::Column(col),
            None => IndexKeyPart::Expression(
                ctx.exprs.get(
                    i.defs
                        .as_ref()
                        .and_then(|d| d.get(k))
                        .map(String::as_str)
                        .unwrap_or(""),
                ),
            ),
        };
        let opclass = i
            .opclasses
            .get(k)
            .and_then(|o| ctx.names.opclasses.get(o))
            .cloned();
        // A collation other than the key column's own (expression keys: not read).
        let attnum = i.keys.get(k).copied().unwrap_or(0);
        let collation = i
            .collations
            .get(k)
            .filter(|&&c| {
                c != 0 && attnum != 0 && ctx.column_collations.get(&(i.rel, attnum)) != Some(&c)
            })
            .and_then(|c| ctx.names.collations.get(c))
            .cloned();
        keys.push(IndexKey {
            part,
            collation: collation.map(Box::new),
            opclass: opclass.map(Box::new),
            desc: opt & 1 != 0,
            nulls_first: opt & 2 != 0,
        });
    }
    let include = columns[key_count.min(columns.len())..]
        .iter()
        .flatten()
        .cloned()
        .collect();
    Index {
        name: i.name,
        unique: i.unique,
        method: i.method,
        keys,
        include,
        predicate: i.predicate.as_deref().map(|e| ctx.exprs.get(e)),
        nulls_not_distinct: i.nulls_not_distinct,
        comment: i.comment,
        deprecated: None,
        valid: i.valid,
        origin: None,
    }
}

/// Routines, views and triggers into the catalog; what they hold that the
/// format does not carry (a disabled trigger, a view's other options) is
/// listed as unmanaged.
fn read_code(
    cat: &mut Catalog,
    routines: Vec<code::RawRoutine>,
    views: Vec<code::RawView>,
    triggers: Vec<code::RawTrigger>,
    matview_indexes: Vec<(i64, Index)>,
) {
    let mut indexes: HashMap<i64, Vec<Index>> = HashMap::new();
    for (oid, i) in matview_indexes {
        indexes.entry(oid).or_default().push(i);
    }
    for r in routines {
        let r = r.into_model();
        cat.routines.insert(r.id.clone(), r);
    }
    for v in views {
        let oid = v.oid;
        let (mut v, other) = v.into_model();
        if let Some(mut list) = indexes.remove(&oid) {
            list.sort_by(|a, b| a.name.cmp(&b.name));
            v.indexes = list;
        }
        if !other.is_empty() {
            cat.unmanaged.push(UnmanagedObject {
                kind: "storage parameters".into(),
                name: format!("{}: {}", v.name, other.join(", ")),
                belongs_to: Some(BelongsTo::Object(v.name.clone())),
            });
        }
        cat.views.insert(v.name.clone(), v);
    }
    for t in triggers {
        let table = t.table();
        let Some(owner) = cat.tables.get_mut(&table) else {
            continue;
        };
        if t.enabled != "O" {
            let how = match t.enabled.as_str() {
                "D" => "disabled",
                "R" => "enabled for replica only",
                _ => "enabled always",
            };
            cat.unmanaged.push(UnmanagedObject {
                kind: "trigger setting".into(),
                name: format!("{} on {table}: {how}", t.name),
                belongs_to: Some(BelongsTo::Object(table.clone())),
            });
        }
        owner.triggers.push(t.into_model());
    }
}

/// Policies into their tables; one on a table the catalog does not hold as
/// such (a partition) is listed as unmanaged.
fn read_policies(cat: &mut Catalog, policies: Vec<super::policy::RawPolicy>) {
    for p in policies {
        let table = p.table();
        match cat.tables.get_mut(&table) {
            Some(owner) => owner.policies.push(p.into_model()),
            None => cat.unmanaged.push(UnmanagedObject {
                kind: "policy".into(),
                name: format!("{} on {table}", p.name),
                belongs_to: Some(BelongsTo::Object(table)),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Row = Vec<Option<String>>;

    fn parse(s: &str) -> Vec<Option<String>> {
        array_elements(s)
            .unwrap()
            .into_iter()
            .map(|e| e.map(Cow::into_owned))
            .collect()
    }

    fn some(v: &[&str]) -> Vec<Option<String>> {
        v.iter().map(|s| Some(s.to_string())).collect()
    }

    #[test]
    fn arrays_as_array_out_prints_them() {
        assert_eq!(parse("{}"), some(&[]));
        assert_eq!(parse("{1,2,-3}"), some(&["1", "2", "-3"]));
        assert_eq!(parse("[0:1]={1,2}"), some(&["1", "2"]));
        assert_eq!(parse("[0:0]={7}"), some(&["7"]));
        assert_eq!(parse(r#"{"",""}"#), some(&["", ""]));
        assert_eq!(
            parse(r#"{a,NULL,null,"NULL","null",NuLl}"#),
            vec![
                Some("a".into()),
                None,
                None,
                Some("NULL".into()),
                Some("null".into()),
                None
            ]
        );
        assert_eq!(
            parse(r#"{"a b","x\"y","b\\c","{}",",","\\","\"","a,b}{\"c\\"}"#),
            some(&["a b", "x\"y", r"b\c", "{}", ",", r"\", "\"", r#"a,b}{"c\"#])
        );
        // Unquoted elements are taken as they are, multi-byte ones too.
        assert_eq!(parse("{é,∅x,lower(a)}"), some(&["é", "∅x", "lower(a)"]));
        // Escaped multi-byte characters, white space and new lines in quotes.
        assert_eq!(
            parse("{\"\\é\\∅\",\" lead\",\"tab\there\",\"two\nlines\"}"),
            some(&["é∅", " lead", "tab\there", "two\nlines"])
        );
        // Quoted elements without escapes are borrowed, not copied.
        assert!(matches!(
            array_elements(r#"{"a b"}"#).unwrap()[0],
            Some(Cow::Borrowed("a b"))
        ));
    }

    #[test]
    fn malformed_arrays_are_errors() {
        for bad in [
            "",
            "{",
            "}",
            "1,2",
            "{1,2",
            "{1,2}x",
            "[0:1]{1,2}",
            "[0:1={1,2}",
            r#"{"a}"#,
            r#"{"a\"}"#,
            r#"{"a"b}"#,
            r#"{"a""b"}"#,
            "{a,}",
            "{,a}",
            "{a,,b}",
            r"{a\b}",
            "{{1,2},{3,4}}",
            r#"{"a\"#,
        ] {
            assert!(array_elements(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn values_decode_or_say_why() {
        assert_eq!(boolean(Some("t")), Ok(true));
        assert_eq!(boolean(Some("f")), Ok(false));
        assert!(boolean(Some("true")).is_err());
        assert!(boolean(None).is_err());
        assert_eq!(number::<i16>(Some("-32768")), Ok(i16::MIN));
        assert!(number::<i16>(Some("32768")).is_err());
        assert!(number::<i64>(None).is_err());
        assert_eq!(number::<f64>(Some("1.5e+06")), Ok(1.5e6));
        assert_eq!(number::<f64>(Some("-1")), Ok(-1.0));
        assert_eq!(numbers::<i16>(None), Ok(None));
        assert_eq!(numbers::<i16>(Some("{1,2}")), Ok(Some(vec![1, 2])));
        assert!(numbers::<i16>(Some("{1,NULL}")).is_err());
        assert_eq!(
            non_null_strings(Some(r#"{a,""}"#)),
            Ok(Some(vec!["a".into(), String::new()]))
        );
        assert!(non_null_strings(Some("{a,NULL}")).is_err());
    }

    #[test]
    fn a_row_of_another_width_is_an_error() {
        let row = |n: usize| -> Row { vec![Some("1".into()); n] };
        assert!(fields::<3>(&row(3)).is_ok());
        let e = fields::<3>(&row(4)).unwrap_err();
        assert!(e.contains("4 columns where 3"), "{e}");
        assert!(RawTable::from_row(row(2)).is_err());
        assert!(RawTable::from_row(row(9)).is_err());
        assert!(RawColumn::from_row(Row::new()).is_err());
        assert!(RawConstraint::from_row(row(19)).is_err());
        assert!(RawConstraint::from_row(row(22)).is_err());
        assert!(RawIndex::from_row(row(15)).is_err());
        assert!(RawSequence::from_row(row(13)).is_err());
    }

    #[test]
    fn an_index_row_decodes() {
        let v = |s: &str| Some(s.to_string());
        let row: Row = vec![
            v("16385"),
            v("t_expr_idx"),
            v("btree"),
            v("f"),
            v("2"),
            v("t"),
            v("f"),
            v("[0:2]={0,3,4}"),
            None,
            v(r#"{"lower((a || ',{}'::text))","",""}"#),
            v("[0:2]={1,0,0}"),
            v("[0:2]={3126,3126,1978}"),
            v("[0:2]={100,0,0}"),
            v("(b > 0)"),
            None,
            v("f"),
        ];
        let i = RawIndex::from_row(row).unwrap();
        assert_eq!(i.keys, vec![0, 3, 4]);
        assert_eq!(i.columns, None);
        assert_eq!(
            i.defs,
            Some(vec![
                "lower((a || ',{}'::text))".into(),
                String::new(),
                String::new()
            ])
        );
        assert_eq!(i.options, vec![1, 0, 0]);
        assert_eq!(i.collations, vec![100, 0, 0]);
        assert_eq!(i.key_count, 2);
        assert!(!i.backs_constraint && i.valid && !i.unique);
    }
}
