//! Text search configurations (`CREATE TEXT SEARCH CONFIGURATION`): a
//! parser and, for each of its token types, the dictionaries consulted in
//! order (`pg_ts_config_map`). Filled from the files and from pg_catalog,
//! both with names as `ObjName` (schema left out in `pg_catalog` and
//! `public`), so that they compare as text.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::names::quote_ident;
use crate::model::{ObjName, Origin, QualName};

/// A text search configuration: `parser` and `mappings`, token type (as the
/// parser's `ts_token_type` names it) to dictionaries in order. A token type
/// left out is not indexed, as PostgreSQL does for an unmapped one.
#[derive(Clone, Debug, Serialize)]
pub struct TsConfig {
    pub name: QualName,
    pub parser: ObjName,
    pub mappings: BTreeMap<String, Vec<ObjName>>,
    pub comment: Option<String>,
    pub origin: Option<Origin>,
}

impl TsConfig {
    /// What is compared, and shown on both sides of a refused change:
    /// `(PARSER = default) asciiword: english_stem; word: english_stem`.
    pub fn definition(&self) -> String {
        let maps: Vec<String> = self
            .mappings
            .iter()
            .map(|(t, ds)| {
                let ds: Vec<String> = ds.iter().map(ObjName::sql).collect();
                format!("{}: {}", quote_ident(t), ds.join(", "))
            })
            .collect();
        if maps.is_empty() {
            format!("(PARSER = {}) no mappings", self.parser.sql())
        } else {
            format!("(PARSER = {}) {}", self.parser.sql(), maps.join("; "))
        }
    }

    /// `CREATE TEXT SEARCH CONFIGURATION name (PARSER = p)`: made so, it has
    /// no mappings (PostgreSQL copies them only with COPY).
    pub fn create_sql(&self) -> String {
        format!(
            "CREATE TEXT SEARCH CONFIGURATION {} (PARSER = {})",
            self.name.sql(),
            self.parser.sql()
        )
    }

    /// The mappings as groups of token types that share their dictionaries
    /// (in the order of the first token type of each group), each group one
    /// `ALTER TEXT SEARCH CONFIGURATION name ADD MAPPING FOR t1, t2 WITH d1, d2`.
    pub fn mapping_groups(&self) -> Vec<(Vec<&str>, String)> {
        let mut groups: Vec<(Vec<&str>, &Vec<ObjName>)> = Vec::new();
        for (t, ds) in &self.mappings {
            match groups.iter_mut().find(|(_, g)| *g == ds) {
                Some((ts, _)) => ts.push(t),
                None => groups.push((vec![t], ds)),
            }
        }
        groups
            .into_iter()
            .map(|(ts, ds)| {
                let toks: Vec<String> = ts.iter().map(|t| quote_ident(t)).collect();
                let dicts: Vec<String> = ds.iter().map(ObjName::sql).collect();
                let sql = format!(
                    "ALTER TEXT SEARCH CONFIGURATION {} ADD MAPPING FOR {} WITH {}",
                    self.name.sql(),
                    toks.join(", "),
                    dicts.join(", ")
                );
                (ts, sql)
            })
            .collect()
    }

    /// The statements that make it: CREATE, then one ADD MAPPING per group.
    pub fn create_statements(&self) -> Vec<String> {
        std::iter::once(self.create_sql())
            .chain(self.mapping_groups().into_iter().map(|(_, s)| s))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_group_by_dictionaries_and_quote() {
        let mut mappings = BTreeMap::new();
        mappings.insert(
            "asciiword".to_string(),
            vec![ObjName::parse("english_stem")],
        );
        mappings.insert("word".to_string(), vec![ObjName::parse("english_stem")]);
        mappings.insert(
            "int".to_string(),
            vec![ObjName::parse("My Dict"), ObjName::parse("simple")],
        );
        let c = TsConfig {
            name: QualName::new("public", "Eng"),
            parser: ObjName::parse("default"),
            mappings,
            comment: None,
            origin: None,
        };
        assert_eq!(
            c.create_statements(),
            vec![
                "CREATE TEXT SEARCH CONFIGURATION public.\"Eng\" (PARSER = \"default\")",
                "ALTER TEXT SEARCH CONFIGURATION public.\"Eng\" ADD MAPPING FOR asciiword, word WITH english_stem",
                "ALTER TEXT SEARCH CONFIGURATION public.\"Eng\" ADD MAPPING FOR \"int\" WITH \"My Dict\", simple",
            ]
        );
        assert_eq!(
            c.definition(),
            "(PARSER = \"default\") asciiword: english_stem; \"int\": \"My Dict\", simple; word: english_stem"
        );
    }
}
