//! The catalog as plain rows: PostgreSQL's text arrays read back exactly.

use std::borrow::Cow;

use reconcile::db::{config_from, Db};
use reconcile::introspect::array_elements;
use reconcile::model::IndexKeyPart;

use crate::harness::TestDb;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A string literal with standard_conforming_strings (backslashes as they are).
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Arrays of awkward strings (quotes, backslashes, commas, braces, white
/// space, `NULL` spelled out, empty, multi-byte) and NULL elements, printed by
/// the server and parsed back.
#[test]
fn text_arrays_round_trip_through_the_server() {
    let db = TestDb::new("arrays");
    let alphabet: Vec<char> = "\"\\,{}[]:= \t\nNULnul'aé∅😀()".chars().collect();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut arrays: Vec<Vec<Option<String>>> = vec![
        vec![],
        vec![None],
        vec![Some(String::new())],
        [
            "NULL",
            "null",
            "NuLl",
            " NULL",
            "\\",
            "\"",
            "{}",
            "[0:1]={1}",
        ]
        .iter()
        .map(|s| Some(s.to_string()))
        .collect(),
    ];
    for _ in 0..400 {
        let len = next(7);
        arrays.push(
            (0..len)
                .map(|_| match next(12) {
                    0 => None,
                    1 => Some(["NULL", "null", ""][next(3)].to_string()),
                    _ => Some(
                        (0..next(10))
                            .map(|_| alphabet[next(alphabet.len())])
                            .collect(),
                    ),
                })
                .collect(),
        );
    }
    let values: Vec<String> = arrays
        .iter()
        .enumerate()
        .map(|(k, a)| {
            let elements: Vec<String> = a
                .iter()
                .map(|e| e.as_deref().map_or("NULL".to_string(), literal))
                .collect();
            format!("({k}, ARRAY[{}]::text[])", elements.join(", "))
        })
        .collect();
    let sql = format!(
        "SELECT a FROM (VALUES {}) v(k, a) ORDER BY k",
        values.join(", ")
    );
    let rows = runtime().block_on(async {
        let db = Db::connect(&config_from(Some(&db.url)).unwrap())
            .await
            .unwrap();
        // The literals above are written for standard_conforming_strings = on.
        db.begin("").await.unwrap();
        db.simple(&sql).await.unwrap()
    });
    assert_eq!(rows.len(), arrays.len());
    for (row, expected) in rows.iter().zip(&arrays) {
        let printed = row[0].as_deref().unwrap();
        let parsed: Vec<Option<String>> = array_elements(printed)
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .map(|e| e.map(Cow::into_owned))
            .collect();
        assert_eq!(&parsed, expected, "printed as {printed:?}");
    }
}

/// Expression keys whose text holds what the array syntax uses come back as written.
#[test]
fn awkward_index_expressions_are_read_whole() {
    let db = TestDb::new("awkward_defs");
    db.sql(
        r#"CREATE TABLE t (a text, b int);
           CREATE INDEX t_awkward ON t (b, (a || '",{}\ NULL'), lower(a), (a || E'\n'));"#,
    );
    let cat = runtime().block_on(async {
        let db = Db::connect(&config_from(Some(&db.url)).unwrap())
            .await
            .unwrap();
        db.begin("").await.unwrap();
        reconcile::introspect::introspect(&db).await.unwrap()
    });
    let table = cat.tables.values().next().expect("table t");
    let index = &table.indexes[0];
    let keys: Vec<String> = index
        .keys
        .iter()
        .map(|k| match &k.part {
            IndexKeyPart::Column(c) => format!("column {c}"),
            IndexKeyPart::Expression(e) => e.sql.clone(),
        })
        .collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert_eq!(keys[0], "column b");
    assert!(keys[1].contains(r#"'",{}\ NULL'"#), "{keys:?}");
    assert!(keys[2].contains("lower(a)"), "{keys:?}");
    assert!(keys[3].contains("'\n'"), "{keys:?}");
}
