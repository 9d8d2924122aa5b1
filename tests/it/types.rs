//! Every built-in type that a column can have (read from `pg_type`), bare,
//! with typical modifiers and as an array: a table of them applies to an
//! empty database, re-plans empty, dumps, and the dump re-plans empty against
//! its source and applies to another empty database, which re-plans empty.

use crate::harness::{apply, assert_replan_empty, dump_dir, schema_of, TestDb};

/// Modifiers and interval fields that `format_type` prints: each is a type
/// of its own to the files.
const WITH_MODIFIERS: &[&str] = &[
    "character varying(10)",
    "character(3)",
    "bit(4)",
    "bit varying(8)",
    "numeric(10,2)",
    "numeric(5,0)",
    "numeric(3,-1)",
    "time(3) without time zone",
    "time(0) with time zone",
    "timestamp(3) without time zone",
    "timestamp(6) with time zone",
    "interval(3)",
    "interval year",
    "interval month",
    "interval day",
    "interval hour",
    "interval minute",
    "interval second",
    "interval second(1)",
    "interval year to month",
    "interval day to hour",
    "interval day to minute",
    "interval day to second",
    "interval day to second(2)",
    "interval hour to minute",
    "interval hour to second(0)",
    "interval minute to second(6)",
];

/// `format_type` of every built-in base, range and multirange type (not the
/// array types, which come from `[]`), and whether it has an array type.
fn builtin_types(db: &TestDb) -> Vec<(String, bool)> {
    db.query(
        "SELECT format_type(oid, NULL) || '|' || (typarray <> 0) FROM pg_type \
         WHERE typnamespace = 'pg_catalog'::regnamespace AND typtype IN ('b', 'r', 'm') \
           AND typisdefined AND (typelem = 0 OR typcategory <> 'A') ORDER BY 1",
    )
    .into_iter()
    .map(|line| {
        let (ty, array) = line.rsplit_once('|').unwrap();
        (ty.to_string(), array == "t")
    })
    .collect()
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

#[test]
fn every_builtin_type_round_trips() {
    let a = TestDb::new("types_a");
    let builtin = builtin_types(&a);
    assert!(builtin.len() > 70, "pg_type lists {} types", builtin.len());
    let mut types: Vec<String> = Vec::new();
    for (ty, has_array) in &builtin {
        types.push(ty.clone());
        if *has_array {
            types.push(format!("{ty}[]"));
        }
    }
    for ty in WITH_MODIFIERS {
        types.push(ty.to_string());
        types.push(format!("{ty}[]"));
    }
    let mut toml = String::from(
        "[tables.every_type.columns]\nid = { type = \"integer\", primary_key = true }\n",
    );
    for (i, ty) in types.iter().enumerate() {
        toml.push_str(&format!(
            "c{i} = {{ type = {} }}  # {ty}\n",
            toml_string(ty)
        ));
    }
    let files = schema_of(&toml);

    let r = apply(files.path(), &a, &[]);
    assert_eq!(r.code, 0, "{r}");
    assert_replan_empty(files.path(), &a);
    // The database has each type as the files say.
    let got = a.query(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
         WHERE attrelid = 'every_type'::regclass AND attnum > 1 ORDER BY attnum",
    );
    let want: Vec<String> = types
        .iter()
        .map(|t| match t.as_str() {
            // format_type without a modifier prints `character`, which is char(1).
            "character" => "character(1)".to_string(),
            "character[]" => "character(1)[]".to_string(),
            "bit" => "bit(1)".to_string(),
            "bit[]" => "bit(1)[]".to_string(),
            t => t.to_string(),
        })
        .collect();
    assert_eq!(got, want);

    let (_dumped, out) = dump_dir(&a);
    assert_replan_empty(&out, &a);
    let b = TestDb::new("types_b");
    let r = apply(&out, &b, &[]);
    assert_eq!(r.code, 0, "{r}");
    assert_replan_empty(&out, &b);
    assert_eq!(
        b.query(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = 'every_type'::regclass AND attnum > 1 ORDER BY attnum"
        ),
        got
    );
}

/// `types::default_opclass`, which compares index keys where no database can
/// say (`check --from`), names only operator classes that PostgreSQL itself
/// treats as the type's default: an index built with it names none.
#[test]
fn the_default_operator_classes_we_know_are_postgresql_defaults() {
    let db = TestDb::new("default_opclass");
    let mut checked = 0;
    for (ty, _) in builtin_types(&db) {
        // Arrays of element types that have ordering operators (PostgreSQL
        // refuses an array index over the others, whatever the class).
        let mut of = vec![ty.clone()];
        if let Ok(p) = reconcile::types::parse_type(&ty) {
            if reconcile::types::default_opclass("btree", &p.canonical).is_some() {
                of.push(format!("{ty}[]"));
            }
        }
        for ty in of {
            let canonical = match reconcile::types::parse_type(&ty) {
                Ok(p) => p.canonical,
                Err(_) => continue,
            };
            for method in ["btree", "hash", "gin"] {
                let Some(opclass) = reconcile::types::default_opclass(method, &canonical) else {
                    continue;
                };
                let def = db.query(&format!(
                    "CREATE TEMP TABLE probe (c {canonical}); \
                     CREATE INDEX probe_idx ON probe USING {method} (c {opclass}); \
                     SELECT pg_get_indexdef('probe_idx'::regclass); DROP TABLE probe"
                ));
                assert!(
                    def.iter()
                        .any(|d| d.ends_with(&format!("USING {method} (c)"))),
                    "{opclass} is not the default {method} operator class of {canonical}: {def:?}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 30, "only {checked} operator classes checked");
}
