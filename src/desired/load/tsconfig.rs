//! The files' text search configurations (README "Text search
//! configurations"): `[text_search_configurations."public.english_nostop"]`
//! with a `parser` and `mappings`, token type to dictionaries in order.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use super::user_types::obj_name;
use super::{Errors, Source};
use crate::model::names;
use crate::model::{Origin, QualName, TsConfig};

/// `[text_search_configurations.name]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTsConfig {
    parser: Spanned<String>,
    #[serde(default)]
    mappings: IndexMap<Spanned<String>, Spanned<Vec<Spanned<String>>>>,
    comment: Option<String>,
}

/// A text search configuration of the files, as the catalog holds it: a
/// parser name, and each token type (1 to 63 bytes) mapped to at least one
/// dictionary name (`name` or `schema.name`). Whether the parser has that
/// token type and the dictionaries exist is PostgreSQL's to say: the plan's
/// validation runs the statements and reports a failure here.
pub(super) fn build_ts_config(
    src: &Source,
    name: QualName,
    origin: Origin,
    raw: &RawTsConfig,
    errors: &mut Errors,
) -> Option<TsConfig> {
    let mut ok = true;
    let parser = match obj_name(raw.parser.get_ref(), "parser") {
        Ok(p) => Some(p),
        Err(m) => {
            errors.at(
                &src.origin(raw.parser.span()),
                format!("text search configuration `{name}`: {m}"),
            );
            None
        }
    };
    let mut mappings = BTreeMap::new();
    for (token, dicts) in &raw.mappings {
        let t = token.get_ref();
        if t.is_empty() || t.len() > names::MAX_IDENT_BYTES {
            errors.at(
                &src.origin(token.span()),
                format!(
                    "text search configuration `{name}`: bad token type `{t}`: expected 1 to {} bytes",
                    names::MAX_IDENT_BYTES
                ),
            );
            ok = false;
            continue;
        }
        if dicts.get_ref().is_empty() {
            errors.at(
                &src.origin(dicts.span()),
                format!(
                    "text search configuration `{name}`, token type `{t}`: expected at least one dictionary (leave the token type out to not index it)"
                ),
            );
            ok = false;
            continue;
        }
        let mut list = Vec::with_capacity(dicts.get_ref().len());
        for d in dicts.get_ref() {
            match obj_name(d.get_ref(), "dictionary") {
                Ok(n) => list.push(n),
                Err(m) => {
                    errors.at(
                        &src.origin(d.span()),
                        format!("text search configuration `{name}`, token type `{t}`: {m}"),
                    );
                    ok = false;
                }
            }
        }
        mappings.insert(t.clone(), list);
    }
    Some(TsConfig {
        name,
        parser: parser?,
        mappings,
        comment: raw.comment.clone(),
        origin: Some(origin),
    })
    .filter(|_| ok)
}
