//! Dump text search configurations as the files write them (README "Text
//! search configurations"): in `_schema.toml` with the collations, each
//! loads back as the same configuration.

use std::fmt::Write as _;

use super::{header, key, string};
use crate::model::{key_part, ObjName, TsConfig};

/// A name as the files write it: `name`, or `schema.name`, each part in
/// double quotes where it holds a dot or a quote.
fn obj(o: &ObjName) -> String {
    match &o.schema {
        Some(s) => format!("{}.{}", key_part(s), key_part(&o.name)),
        None => key_part(&o.name),
    }
}

pub(super) fn write_ts_config(out: &mut String, c: &TsConfig) {
    let _ = writeln!(
        out,
        "\n{}",
        header("text_search_configurations", &c.name, None)
    );
    let _ = writeln!(out, "parser = {}", string(&obj(&c.parser)));
    if let Some(cm) = &c.comment {
        let _ = writeln!(out, "comment = {}", string(cm));
    }
    if c.mappings.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}",
        header("text_search_configurations", &c.name, Some("mappings"))
    );
    for (token, dicts) in &c.mappings {
        let dicts: Vec<String> = dicts.iter().map(|d| string(&obj(d))).collect();
        let _ = writeln!(out, "{} = [{}]", key(token), dicts.join(", "));
    }
}
