//! Read the live composite types, range types, collations and text search
//! configurations (`catalog::tsconfig`): one
//! statement, one JSON document (`{"composites": [...], "ranges": [...],
//! "collations": [...], "ts_configs": [...]}`), whatever their number.
//! Types that belong to an extension are the extension's business, and the
//! row types of tables and views are not composite types of their own.

use serde::Deserialize;

use crate::model::{Attribute, Catalog, Collation, CompositeType, ObjName, QualName, RangeType};

/// `[schema, name]` of a catalog object, or null.
type Pair = Option<(String, String)>;

/// Whether the type `t` belongs to an extension.
const EXTENSION_TYPE: &str =
    "EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass \
     AND d.objid = t.oid AND d.deptype = 'e')";

/// `[schema, name]` of the collation `oid` (an SQL expression).
fn collation_pair(oid: &str) -> String {
    format!(
        "(SELECT json_build_array(cn.nspname, co.collname) FROM pg_collation co \
         JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = {oid})"
    )
}

/// `[schema, name]` of the function `oid`, or null for none (0).
fn function_pair(oid: &str) -> String {
    format!(
        "(SELECT json_build_array(pn.nspname, p.proname) FROM pg_proc p \
         JOIN pg_namespace pn ON pn.oid = p.pronamespace WHERE p.oid = {oid})"
    )
}

/// The statement, for schemas that `schema_filter` keeps (over `n`); the
/// multirange's name is read from PostgreSQL 14 on (`pg14`).
pub fn q_user_types(schema_filter: &str, pg14: bool) -> String {
    let multirange = if pg14 {
        "(SELECT json_build_array(mn.nspname, mt.typname) FROM pg_type mt \
         JOIN pg_namespace mn ON mn.oid = mt.typnamespace WHERE mt.oid = r.rngmultitypid)"
    } else {
        "NULL::json"
    };
    format!(
        "SELECT json_build_object( \
         'composites', (SELECT coalesce(json_agg(x ORDER BY x.schema, x.name), '[]') FROM ( \
           SELECT n.nspname AS schema, t.typname AS name, obj_description(t.oid, 'pg_type') AS comment, \
                  coalesce((SELECT json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod), \
                              CASE WHEN a.attcollation <> at.typcollation THEN {attr_collation} END) ORDER BY a.attnum) \
                            FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid \
                            WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]') AS attributes \
           FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid JOIN pg_namespace n ON n.oid = t.typnamespace \
           WHERE t.typtype = 'c' AND c.relkind = 'c' AND {schema_filter} AND NOT {EXTENSION_TYPE}) x), \
         'ranges', (SELECT coalesce(json_agg(x ORDER BY x.schema, x.name), '[]') FROM ( \
           SELECT n.nspname AS schema, t.typname AS name, format_type(r.rngsubtype, NULL) AS subtype, \
                  CASE WHEN NOT opc.opcdefault THEN json_build_array(opn.nspname, opc.opcname) END AS opclass, \
                  CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation THEN {range_collation} END AS collation, \
                  CASE WHEN r.rngcanonical <> 0 THEN {canonical} END AS canonical, \
                  CASE WHEN r.rngsubdiff <> 0 THEN {subdiff} END AS subtype_diff, \
                  {multirange} AS multirange, obj_description(t.oid, 'pg_type') AS comment \
           FROM pg_range r JOIN pg_type t ON t.oid = r.rngtypid JOIN pg_namespace n ON n.oid = t.typnamespace \
           JOIN pg_type st ON st.oid = r.rngsubtype \
           JOIN pg_opclass opc ON opc.oid = r.rngsubopc JOIN pg_namespace opn ON opn.oid = opc.opcnamespace \
           WHERE {schema_filter} AND NOT {EXTENSION_TYPE}) x), \
         'collations', (SELECT coalesce(json_agg(x ORDER BY x.schema, x.name), '[]') FROM ( \
           SELECT n.nspname AS schema, co.collname AS name, co.collprovider AS provider, \
                  coalesce(to_jsonb(co) ->> 'colllocale', to_jsonb(co) ->> 'colliculocale') AS locale, \
                  co.collcollate AS lc_collate, co.collctype AS lc_ctype, \
                  co.collisdeterministic AS deterministic, obj_description(co.oid, 'pg_collation') AS comment \
           FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace \
           WHERE {schema_filter} AND NOT EXISTS (SELECT 1 FROM pg_depend d \
                 WHERE d.classid = 'pg_collation'::regclass AND d.objid = co.oid AND d.deptype = 'e')) x), \
         'ts_configs', {ts_configs})",
        attr_collation = collation_pair("a.attcollation"),
        range_collation = collation_pair("r.rngcollation"),
        canonical = function_pair("r.rngcanonical"),
        subdiff = function_pair("r.rngsubdiff"),
        ts_configs = crate::catalog::tsconfig::q_ts_configs(schema_filter),
    )
}

/// The statement's document.
#[derive(Deserialize)]
pub struct RawUserTypes {
    composites: Vec<RawComposite>,
    ranges: Vec<RawRange>,
    collations: Vec<RawCollation>,
    /// Text search configurations (`catalog::tsconfig`).
    ts_configs: Vec<crate::catalog::tsconfig::RawTsConfig>,
}

#[derive(Deserialize)]
struct RawCollation {
    schema: String,
    name: String,
    provider: String,
    locale: Option<String>,
    lc_collate: Option<String>,
    lc_ctype: Option<String>,
    deterministic: bool,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct RawComposite {
    schema: String,
    name: String,
    comment: Option<String>,
    attributes: Vec<(String, String, Pair)>,
}

#[derive(Deserialize)]
struct RawRange {
    schema: String,
    name: String,
    subtype: String,
    opclass: Pair,
    collation: Pair,
    canonical: Pair,
    subtype_diff: Pair,
    multirange: Pair,
    comment: Option<String>,
}

fn obj((schema, name): (String, String)) -> ObjName {
    ObjName::from_catalog(&schema, &name)
}

/// Put the types read into `cat`: each optional part of a range `None`
/// where it is PostgreSQL's default (see `RangeType`).
pub fn read_user_types(cat: &mut Catalog, raw: RawUserTypes) {
    crate::catalog::tsconfig::read_ts_configs(cat, raw.ts_configs);
    for c in raw.composites {
        let name = QualName::new(c.schema, c.name);
        let attributes = c
            .attributes
            .into_iter()
            .map(|(name, ty, collation)| Attribute {
                name,
                ty,
                collation: collation.map(obj),
            })
            .collect();
        cat.composite_types.insert(
            name.clone(),
            CompositeType {
                name,
                attributes,
                comment: c.comment,
                origin: None,
            },
        );
    }
    for c in raw.collations {
        let name = QualName::new(c.schema, c.name);
        let libc = c.provider == "c";
        let provider = match c.provider.as_str() {
            "c" => "libc",
            "i" => "icu",
            "b" => "builtin",
            _ => "default",
        };
        cat.collations.insert(
            name.clone(),
            Collation {
                name,
                provider: provider.into(),
                locale: c.locale.filter(|_| !libc),
                lc_collate: c.lc_collate.filter(|_| libc),
                lc_ctype: c.lc_ctype.filter(|_| libc),
                deterministic: c.deterministic,
                comment: c.comment,
                origin: None,
            },
        );
    }
    for r in raw.ranges {
        let name = QualName::new(r.schema, r.name);
        let multirange_type_name = r.multirange.and_then(|(schema, m)| {
            (schema != name.schema || m != RangeType::default_multirange_name(&name.name))
                .then_some(m)
        });
        cat.range_types.insert(
            name.clone(),
            RangeType {
                subtype: r.subtype,
                subtype_opclass: r.opclass.map(obj),
                collation: r.collation.map(obj),
                canonical: r.canonical.map(obj),
                subtype_diff: r.subtype_diff.map(obj),
                multirange_type_name,
                comment: r.comment,
                origin: None,
                name,
            },
        );
    }
}
