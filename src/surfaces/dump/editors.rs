//! What editors read beside the dumped files: the JSON Schema of the file
//! format (`schema/reconcile.schema.json`, README "Editors"), written into the
//! output directory, and a `#:schema` line at the top of each TOML file that
//! points to it, so that taplo and the Even Better TOML extension complete
//! and check the keys without a checkout of this repository.

use std::path::{Component, Path, PathBuf};

use super::File;

/// The JSON Schema of the schema-file format (draft-04, which taplo supports).
pub const JSON_SCHEMA: &str = include_str!("../../../schema/reconcile.schema.json");

/// Its file name in a dump's output directory (the loader reads `*.toml` only).
pub const SCHEMA_FILE: &str = "reconcile.schema.json";

/// The `#:schema` line for a file at `path` (relative to the output
/// directory): the schema file's path relative to that file's directory, as
/// taplo resolves it (`./reconcile.schema.json`, `../reconcile.schema.json`).
pub fn schema_line(path: &Path) -> String {
    let depth = path.parent().map_or(0, |p| {
        p.components()
            .filter(|c| matches!(c, Component::Normal(_)))
            .count()
    });
    let up = if depth == 0 {
        "./".to_string()
    } else {
        "../".repeat(depth)
    };
    format!("#:schema {up}{SCHEMA_FILE}\n")
}

/// `files` with the `#:schema` line at the top of each, and the schema file
/// itself after them.
pub fn with_schema(files: Vec<File>) -> Vec<File> {
    let mut out: Vec<File> = files
        .into_iter()
        .map(|f| File {
            text: format!("{}{}", schema_line(&f.path), f.text),
            path: f.path,
        })
        .collect();
    out.push(File {
        path: PathBuf::from(SCHEMA_FILE),
        text: JSON_SCHEMA.to_string(),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_line_points_up_to_the_output_directory() {
        assert_eq!(
            schema_line(Path::new("t.toml")),
            "#:schema ./reconcile.schema.json\n"
        );
        assert_eq!(
            schema_line(Path::new("billing/t.toml")),
            "#:schema ../reconcile.schema.json\n"
        );
    }

    #[test]
    fn the_schema_is_json_with_a_top_level_table_of_keys() {
        let v: serde_json::Value = serde_json::from_str(JSON_SCHEMA).expect("valid JSON");
        assert!(v["properties"]["tables"].is_object(), "{v}");
        assert_eq!(v["additionalProperties"], false);
    }

    #[test]
    fn every_toml_file_gets_the_line_and_the_schema_is_added() {
        let files = with_schema(vec![File {
            path: PathBuf::from("s/t.toml"),
            text: "[tables.\"s.t\"]\n".into(),
        }]);
        assert_eq!(files.len(), 2);
        assert!(files[0]
            .text
            .starts_with("#:schema ../reconcile.schema.json\n[tables."));
        assert_eq!(files[1].path, PathBuf::from(SCHEMA_FILE));
        assert_eq!(files[1].text, JSON_SCHEMA);
    }
}
