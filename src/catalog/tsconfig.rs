//! Read the live text search configurations: a part of the types statement
//! (`catalog::types`), so no statement of its own. Those of an extension are
//! the extension's business; those of `pg_catalog` are PostgreSQL's.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::{Catalog, ObjName, QualName, TsConfig};

/// The `ts_configs` member of the types document: for schemas that
/// `schema_filter` keeps (over `n`), each configuration with its parser
/// (`[schema, name]`) and its mappings, `[token type, [[schema, dictionary],
/// ...]]` with the token type named by `ts_token_type(parser)` and the
/// dictionaries in `mapseqno` order.
pub fn q_ts_configs(schema_filter: &str) -> String {
    format!(
        "(SELECT coalesce(json_agg(x ORDER BY x.schema, x.name), '[]') FROM ( \
           SELECT n.nspname AS schema, c.cfgname AS name, \
                  json_build_array(pn.nspname, p.prsname) AS parser, \
                  obj_description(c.oid, 'pg_ts_config') AS comment, \
                  coalesce((SELECT json_agg(json_build_array(tt.alias, m.dicts) ORDER BY tt.alias) \
                     FROM (SELECT mm.maptokentype AS tok, \
                                  json_agg(json_build_array(dn.nspname, d.dictname) ORDER BY mm.mapseqno) AS dicts \
                           FROM pg_ts_config_map mm JOIN pg_ts_dict d ON d.oid = mm.mapdict \
                           JOIN pg_namespace dn ON dn.oid = d.dictnamespace \
                           WHERE mm.mapcfg = c.oid GROUP BY mm.maptokentype) m \
                     JOIN ts_token_type(c.cfgparser) tt ON tt.tokid = m.tok), '[]') AS mappings \
           FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace \
           JOIN pg_ts_parser p ON p.oid = c.cfgparser JOIN pg_namespace pn ON pn.oid = p.prsnamespace \
           WHERE {schema_filter} AND NOT EXISTS (SELECT 1 FROM pg_depend dep \
                 WHERE dep.classid = 'pg_ts_config'::regclass AND dep.objid = c.oid AND dep.deptype = 'e')) x)"
    )
}

/// One configuration of the document.
#[derive(Deserialize)]
pub struct RawTsConfig {
    schema: String,
    name: String,
    parser: (String, String),
    comment: Option<String>,
    mappings: Vec<(String, Vec<(String, String)>)>,
}

/// Put the configurations read into `cat.ts_configs`, names as the files
/// write them (schema left out in `pg_catalog` and `public`).
pub fn read_ts_configs(cat: &mut Catalog, raw: Vec<RawTsConfig>) {
    for c in raw {
        let name = QualName::new(c.schema, c.name);
        let mappings: BTreeMap<String, Vec<ObjName>> = c
            .mappings
            .into_iter()
            .map(|(t, ds)| {
                let ds = ds
                    .iter()
                    .map(|(s, d)| ObjName::from_catalog(s, d))
                    .collect();
                (t, ds)
            })
            .collect();
        cat.ts_configs.insert(
            name.clone(),
            TsConfig {
                name,
                parser: ObjName::from_catalog(&c.parser.0, &c.parser.1),
                mappings,
                comment: c.comment,
                origin: None,
            },
        );
    }
}
