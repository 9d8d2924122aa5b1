//! The JSON Schema of the file format (`schema/reconcile.schema.json`, README
//! "Editors") says what the loader says: every file the loader takes passes
//! it, each table of the format has exactly the loader's keys, and what the
//! loader refuses for a key or a word it refuses too. No database needed.
//! `dump.rs` validates every file it dumps with [`assert_valid_tree`].

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::repo;
use reconcile::load::{load_dir, load_sources};

/// The schema as the repository has it.
fn schema() -> Value {
    let path = repo().join("schema/reconcile.schema.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn validator() -> jsonschema::Validator {
    let s = schema();
    jsonschema::draft4::meta::validate(&s).expect("the schema is a draft-04 schema");
    jsonschema::draft4::new(&s).expect("the schema compiles")
}

/// The schema's complaints about one TOML text (empty: valid); `None` when
/// the text is not TOML at all.
fn problems(v: &jsonschema::Validator, toml_text: &str) -> Option<Vec<String>> {
    let value: Value = toml::from_str(toml_text).ok()?;
    Some(
        v.iter_errors(&value)
            .map(|e| format!("at {}: {e}", e.instance_path()))
            .collect(),
    )
}

/// Every `*.toml` under `dir`, recursively, sorted.
fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.expect("a directory entry").path();
            if p.is_dir() {
                pending.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every TOML file under `dir` (a dump) passes the JSON Schema, starts with
/// the `#:schema` line, and the schema file it points to is there, the same as
/// the repository's.
pub fn assert_valid_tree(name: &str, dir: &Path) {
    let v = validator();
    let files = toml_files(dir);
    assert!(
        !files.is_empty(),
        "{name}: no TOML file in {}",
        dir.display()
    );
    let mut bad = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let first = text.lines().next().unwrap_or_default();
        let target = first
            .strip_prefix("#:schema ")
            .map(|p| f.parent().unwrap().join(p));
        match target {
            Some(t) if t.is_file() => {}
            _ => bad.push(format!(
                "{}: first line `{first}` is not a `#:schema` line to an existing file",
                f.display()
            )),
        }
        match problems(&v, &text) {
            Some(p) if p.is_empty() => {}
            Some(p) => bad.push(format!("{}:\n  {}", f.display(), p.join("\n  "))),
            None => bad.push(format!("{}: not TOML", f.display())),
        }
    }
    assert!(
        bad.is_empty(),
        "{name}: dumped files the JSON Schema refuses:\n{}",
        bad.join("\n")
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("reconcile.schema.json")).ok(),
        std::fs::read_to_string(repo().join("schema/reconcile.schema.json")).ok(),
        "{name}: the dump's reconcile.schema.json is not the repository's"
    );
}

/// Not narrower than the loader: every schema file of the repository (the
/// example, the fixtures, the cases) passes, unless the loader refuses its
/// directory too.
#[test]
fn every_file_the_loader_takes_passes_the_schema() {
    let v = validator();
    let mut dirs: Vec<PathBuf> = vec![repo().join("schema"), repo().join("fixtures")];
    for e in std::fs::read_dir(repo().join("tests/cases")).unwrap() {
        dirs.push(e.unwrap().path().join("schema"));
    }
    let mut checked = 0;
    let mut refused_by_both = Vec::new();
    let mut wrong = Vec::new();
    for dir in dirs {
        for f in toml_files(&dir) {
            checked += 1;
            let text = std::fs::read_to_string(&f).unwrap();
            let Some(p) = problems(&v, &text) else {
                continue; // not TOML: the loader's to refuse
            };
            if p.is_empty() {
                continue;
            }
            if load_dir(f.parent().unwrap()).is_err() {
                refused_by_both.push(format!("{}: {}", f.display(), p[0]));
            } else {
                wrong.push(format!("{}:\n  {}", f.display(), p.join("\n  ")));
            }
        }
    }
    assert!(checked > 200, "only {checked} files found");
    assert!(
        wrong.is_empty(),
        "files the loader takes and the JSON Schema refuses:\n{}",
        wrong.join("\n")
    );
    eprintln!(
        "{checked} files checked; refused by the loader and the schema:\n{}",
        refused_by_both.join("\n")
    );
}

/// Each table of the format, with an unknown key `zzz_unknown` (a minimal
/// file the loader reads up to it), and where its keys are in the schema.
const TABLES: &[(&str, &str)] = &[
    ("", "zzz_unknown = 1"),
    ("/definitions/table", "[tables.t]\nzzz_unknown = 1"),
    (
        "/definitions/column",
        "[tables.t.columns]\nc = { type = \"int\", zzz_unknown = 1 }",
    ),
    (
        "/definitions/index",
        "[tables.t.indexes]\ni = { columns = [\"c\"], zzz_unknown = 1 }",
    ),
    (
        "/definitions/identity_full",
        "[tables.t.columns]\nc = { type = \"int\", identity = { generated = \"always\", zzz_unknown = 1 } }",
    ),
    (
        "/definitions/primary_key_full",
        "[tables.t]\nprimary_key = { columns = [\"c\"], zzz_unknown = 1 }",
    ),
    (
        "/definitions/unique_full",
        "[tables.t.unique]\nu = { columns = [\"c\"], zzz_unknown = 1 }",
    ),
    (
        "/definitions/check_full",
        "[tables.t.checks]\nk = { expr = \"true\", zzz_unknown = 1 }",
    ),
    (
        "/definitions/foreign_key",
        "[tables.t.foreign_keys]\nf = { columns = [\"c\"], references = \"u(id)\", zzz_unknown = 1 }",
    ),
    (
        "/definitions/exclusion",
        "[tables.t.exclusions.x]\nelements = [\"c WITH =\"]\nzzz_unknown = 1",
    ),
    (
        "/definitions/trigger",
        "[tables.t.triggers.tr]\ntiming = \"before\"\nevents = [\"insert\"]\nfunction = \"f\"\nzzz_unknown = 1",
    ),
    ("/definitions/policy", "[tables.t.policies.p]\nzzz_unknown = 1"),
    ("/definitions/partition", "[tables.t.partitions.p]\nzzz_unknown = 1"),
    (
        "/definitions/table/properties/grants/additionalProperties/anyOf/2",
        "[tables.t.grants]\nr = { privileges = [\"select\"], zzz_unknown = 1 }",
    ),
    (
        "/definitions/routine",
        "[functions.f]\nlanguage = \"sql\"\nzzz_unknown = 1",
    ),
    (
        "/definitions/view",
        "[views.v]\nquery = \"SELECT 1\"\nzzz_unknown = 1",
    ),
    (
        "/definitions/enum",
        "[enums.e]\nvalues = [\"a\"]\nzzz_unknown = 1",
    ),
    (
        "/definitions/domain",
        "[domains.d]\ntype = \"int\"\nzzz_unknown = 1",
    ),
    ("/definitions/sequence", "[sequences.s]\nzzz_unknown = 1"),
    ("/definitions/composite_type", "[composite_types.c]\nzzz_unknown = 1"),
    (
        "/definitions/attribute_full",
        "[composite_types.c.attributes]\na = { type = \"int\", zzz_unknown = 1 }",
    ),
    (
        "/definitions/range_type",
        "[range_types.r]\nsubtype = \"int\"\nzzz_unknown = 1",
    ),
    ("/definitions/collation", "[collations.c]\nzzz_unknown = 1"),
    (
        "/definitions/text_search_configuration",
        "[text_search_configurations.c]\nparser = \"default\"\nzzz_unknown = 1",
    ),
    (
        "/definitions/extension_full",
        "extensions = [{ name = \"x\", zzz_unknown = 1 }]",
    ),
];

/// The keys an error of serde's `deny_unknown_fields` lists after "expected".
fn expected_keys(message: &str) -> Vec<String> {
    let after = message
        .split_once("zzz_unknown`, expected")
        .unwrap_or_else(|| panic!("not an unknown-key error: {message}"))
        .1;
    let after = after.lines().next().unwrap_or_default();
    let mut keys: Vec<String> = after
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    keys.sort();
    keys
}

/// Neither narrower nor wider, key by key: for each table of the format, the
/// keys of its schema are exactly those the loader lists when it refuses an
/// unknown key, and the schema refuses the unknown key too.
#[test]
fn each_table_has_exactly_the_loaders_keys() {
    let s = schema();
    let v = validator();
    for (pointer, text) in TABLES {
        let err = match load_sources(vec![("t.toml".into(), (*text).into())]) {
            Ok(_) => panic!("the loader takes an unknown key:\n{text}"),
            Err(e) => e.to_string(),
        };
        let loader = expected_keys(&err);
        let props = s
            .pointer(&format!("{pointer}/properties"))
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("no properties at `{pointer}` in the schema"));
        let mut in_schema: Vec<String> = props.keys().cloned().collect();
        in_schema.sort();
        assert_eq!(
            in_schema, loader,
            "`{pointer}`: the schema's keys (left) are not the loader's (right)"
        );
        assert_eq!(
            s.pointer(&format!("{pointer}/additionalProperties")),
            Some(&Value::Bool(false)),
            "`{pointer}` must refuse other keys"
        );
        let p = problems(&v, text).expect("TOML");
        assert!(
            p.iter().any(|m| m.contains("zzz_unknown")),
            "the schema takes an unknown key:\n{text}\n{p:?}"
        );
    }
}

/// `TABLES` names every table of the format: as many as the loader has
/// structs that refuse unknown keys, and every table of the schema's
/// `definitions`. A table added to the loader fails here until the schema
/// (and `TABLES`) have it.
#[test]
fn every_table_of_the_loader_is_checked() {
    let structs: usize = rust_sources(&repo().join("src/desired"))
        .iter()
        .map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .matches("#[serde(deny_unknown_fields)]")
                .count()
        })
        .sum();
    assert_eq!(
        structs,
        TABLES.len(),
        "the loader has {structs} tables that refuse unknown keys; TABLES checks {}",
        TABLES.len()
    );
    let s = schema();
    for name in s["definitions"].as_object().unwrap().keys() {
        assert!(
            TABLES
                .iter()
                .any(|(p, _)| p.starts_with(&format!("/definitions/{name}"))),
            "definition `{name}` is not in TABLES"
        );
    }
}

/// Every `*.rs` under `dir`, recursively.
fn rust_sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(rust_sources(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// Every key of every table in the schema says what it is, in one line.
#[test]
fn every_key_has_a_one_line_description() {
    fn walk(v: &Value, at: &str, missing: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::Object(props)) = m.get("properties") {
                    for (k, p) in props {
                        let d = p.get("description").and_then(Value::as_str);
                        if d.is_none_or(|d| d.trim().is_empty() || d.contains('\n')) {
                            missing.push(format!("{at}/properties/{k}"));
                        }
                    }
                }
                for (k, x) in m {
                    walk(x, &format!("{at}/{k}"), missing);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(x, &format!("{at}/{i}"), missing);
                }
            }
            _ => {}
        }
    }
    let mut missing = Vec::new();
    walk(&schema(), "", &mut missing);
    assert!(
        missing.is_empty(),
        "keys without a description: {missing:?}"
    );
}

/// Not wider where the loader refuses a value: an unknown key (inline or
/// not), a value of the wrong kind, a word the loader does not know. Each
/// file is refused by both.
#[test]
fn what_the_loader_refuses_the_schema_refuses() {
    let v = validator();
    let cases = [
        "[tables.t.columns]\nid = { type = \"int\", nullabel = true }",
        "[tables.t.indexes]\ni = { columns = [\"c\"], nulls_not_distinc = true }",
        "[tables.t.columns]\nc = { type = \"int\", not_null = \"yes\" }",
        "[tables.t.columns]\nc = { type = \"int\" }\n[tables.t.indexes]\ni = { columns = [\"c\"], using = \"btreee\" }",
        "[tables.t.columns]\nc = { type = \"int\", references = \"u(id)\", on_delete = \"explode\" }\n[tables.u.columns]\nid = { type = \"int\", primary_key = true }",
        "[functions.f]\nlanguage = \"sql\"\nreturns = \"int\"\nbody = \"SELECT 1\"\nvolatility = \"sometimes\"",
        "[tables.t]\npartition_by = \"LIST (c)\"\nother_partitions = \"Ignore\"\n[tables.t.columns]\nc = { type = \"int\" }",
        "[tables.t.columns]\nc = { type = \"int\" }\n[tables.t.grants]\nr = [\"execute\"]",
        "[tables.t.columns]\nc = { type = \"int\" }\n[tables.t.triggers.tr]\ntiming = \"during\"\nevents = [\"insert\"]\nfunction = \"f\"",
        "[collations.c]\nprovider = \"ICU\"\nlocale = \"de\"",
        "[sequences.s]\nstart = \"one\"",
        "[enums.e]\nvalues = []",
        "[tables.t.columns]\nc = { type = \"int\" }\n[tables.t.grants]\nr = []",
        "[tables.t.columns]\nc = { type = \"int\" }\n[tables.t.unique]\nu = []",
        "tables = 1",
    ];
    for text in cases {
        assert!(
            load_sources(vec![("t.toml".into(), text.into())]).is_err(),
            "the loader takes:\n{text}"
        );
        let p = problems(&v, text).expect("TOML");
        assert!(
            !p.is_empty(),
            "the schema takes what the loader refuses:\n{text}"
        );
    }
}

/// A word in another case or spacing, which the loader takes, the schema
/// takes too; and a `#:schema` line at the top is a comment to the loader.
#[test]
fn words_in_any_case_pass_both() {
    let text = r#"#:schema ./reconcile.schema.json
[tables.u.columns]
id = { type = "int", primary_key = true }

[tables.t.columns]
c = { type = "int", references = "u(id)", on_delete = "SET  NULL", identity = "By Default" }

[tables.t.foreign_keys]
t_c_fk = { columns = ["c"], references = "u(id)", on_delete = "Set Null (c)", match = " FULL " }

[tables.t.grants]
r = ["SELECT", " insert "]
public = "ALL"

[tables.t.triggers.tr]
timing = "Instead  Of"
events = [" UPDATE "]
for_each = "ROW"
function = "f"

[tables.t.policies.p]
command = " Select "
using = "true"

[functions.f]
language = "plpgsql"
returns = "trigger"
body = "BEGIN RETURN NEW; END"
volatility = "STABLE"
security = "Definer"
parallel = "SAFE"
"#;
    load_sources(vec![("t.toml".into(), text.into())])
        .unwrap_or_else(|e| panic!("the loader refuses:\n{e}"));
    let p = problems(&validator(), text).expect("TOML");
    assert!(
        p.is_empty(),
        "the schema refuses what the loader takes: {p:?}"
    );
}

/// The example schema says where its JSON Schema is, as a dump does.
#[test]
fn the_example_schema_points_to_its_json_schema() {
    let dir = repo().join("schema");
    for f in toml_files(&dir) {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(
            text.starts_with("#:schema ./reconcile.schema.json\n"),
            "{}: no `#:schema` line first",
            f.display()
        );
    }
    assert!(dir.join("reconcile.schema.json").is_file());
}
