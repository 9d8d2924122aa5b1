//! Fuzz tests, run by plain `cargo test` in bounded time (a fixed number of
//! cases each, no database): the schema loader and the connection-string
//! parser, on random input and on random near-valid input, must never panic
//! and must always finish.

use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use reconcile::conninfo;
use reconcile::load;

/// Cases per property: a few seconds each in a debug build. `FUZZ_CASES=N`
/// runs N instead, for a longer search by hand.
const CASES: u32 = 256;

fn runner() -> TestRunner {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(CASES);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// `f(input)` on a thread of its own: a panic is reported with the input, and
/// so is a run that does not finish in 20 seconds.
fn finishes<T: Send + std::fmt::Debug + Clone + 'static>(input: T, f: fn(T)) {
    let (tx, rx) = mpsc::channel();
    let shown = input.clone();
    std::thread::spawn(move || {
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(input)));
        let _ = tx.send(done.is_ok());
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(true) => {}
        Ok(false) => panic!("panicked on {shown:?}"),
        Err(_) => panic!("did not finish in 20 s on {shown:?}"),
    }
}

/// Every value `s` generates, through `f` under `finishes`.
fn never_panics<S>(s: S, f: fn(S::Value))
where
    S: Strategy,
    S::Value: Send + Clone + 'static,
{
    runner()
        .run(&s, |v| {
            finishes(v, f);
            Ok(())
        })
        .unwrap();
}

/// Files named `f0.toml`, `f1.toml`, … in order.
fn named(v: Vec<String>) -> Vec<(String, String)> {
    v.into_iter()
        .enumerate()
        .map(|(i, t)| (format!("f{i}.toml"), t))
        .collect()
}

fn load_files(files: Vec<(String, String)>) {
    match load::load_sources(files) {
        Ok(_) => {}
        // Every diagnostic names a file.
        Err(e) => assert!(e.0.iter().all(|d| !d.file.is_empty()), "{e}"),
    }
}

// ---- schema files ----

/// Names: plain, quoted-worthy, long, with a dot, empty, odd characters.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9_]{0,8}",
        Just("t".to_string()),
        Just("id".to_string()),
        Just("s.t".to_string()),
        Just("x".repeat(64)),
        Just(String::new()),
        "[ -~]{0,12}",
        "\\PC{0,6}",
    ]
}

/// A TOML string literal (basic, with escapes) of `s`.
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// SQL-ish text: expressions, types, references, actions, and junk.
fn sqlish() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("now()".to_string()),
        Just("'x'".to_string()),
        Just("0".to_string()),
        Just("id > 0".to_string()),
        Just("lower(name)".to_string()),
        Just("$$a$$".to_string()),
        Just("$1$a$1$".to_string()),
        Just("$1".to_string()),
        Just("$a$".to_string()),
        Just("(".to_string()),
        Just("((((((((((((((((((((((((x))))))))))))))))))))))))".to_string()),
        Just("int".to_string()),
        Just("text[]".to_string()),
        Just("varchar(20)".to_string()),
        Just("numeric(12,2)".to_string()),
        Just("bigserial".to_string()),
        Just("t(id)".to_string()),
        Just("s.t(id, x)".to_string()),
        Just("t(".to_string()),
        Just("cascade".to_string()),
        Just("set null".to_string()),
        Just("by default".to_string()),
        Just("always".to_string()),
        Just("btree".to_string()),
        Just("RANGE (id)".to_string()),
        Just("id DESC NULLS FIRST".to_string()),
        Just("(lower(x)) COLLATE \"C\" text_pattern_ops".to_string()),
        Just("\"Q\"\"x\" DESC".to_string()),
        Just("a\u{0}b".to_string()),
        Just("é".repeat(40)),
        "[ -~]{0,20}",
        "\\PC{0,10}",
    ]
}

/// A TOML value of any shape the format uses, nested a little.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        sqlish().prop_map(|s| quoted(&s)),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<f64>().prop_map(|f| {
            if f.is_nan() {
                "nan".to_string()
            } else if f.is_infinite() {
                "inf".to_string()
            } else {
                format!("{f:?}")
            }
        }),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("1979-05-27T07:32:00Z".to_string()),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec((key(), inner), 0..5).prop_map(|kv| {
                let body: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!("{{ {} }}", body.join(", "))
            }),
        ]
    })
}

/// A key of the format (most of the time) or a random name.
fn key() -> impl Strategy<Value = String> {
    let known = prop::sample::select(
        COLUMN_KEYS
            .iter()
            .chain(INDEX_KEYS.iter().filter(|k| **k != "unique"))
            .chain(OTHER_KEYS)
            .copied()
            .collect::<Vec<_>>(),
    )
    .prop_map(str::to_string);
    prop_oneof![4 => known, 1 => name().prop_map(|n| quoted(&n))]
}

/// A section header of the format.
fn header() -> impl Strategy<Value = String> {
    let sub = prop::sample::select(vec![
        "",
        ".columns",
        ".indexes",
        ".unique",
        ".checks",
        ".foreign_keys",
    ]);
    prop_oneof![
        (name(), sub).prop_map(|(n, s)| format!("[tables.{}{s}]", quoted(&n))),
        name().prop_map(|n| format!("[enums.{}]", quoted(&n))),
        name().prop_map(|n| format!("[domains.{}]", quoted(&n))),
        name().prop_map(|n| format!("[sequences.{}]", quoted(&n))),
        Just(String::new()),
    ]
}

/// Keys of the format that are neither a column's nor an index's.
const OTHER_KEYS: &[&str] = &[
    "values",
    "name",
    "expr",
    "not_valid",
    "deferrable",
    "initially_deferred",
    "partition_by",
    "start",
    "increment",
    "min_value",
    "max_value",
    "cache",
    "cycle",
    "owned_by",
    "checks",
    "extensions",
];

/// A near-valid schema file: sections of the format with keys and values of it.
fn schema_file() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        3 => (key(), value()).prop_map(|(k, v)| format!("{k} = {v}")),
        1 => (name(), value()).prop_map(|(k, v)| format!("{} = {v}", quoted(&k))),
    ];
    let section = (header(), prop::collection::vec(line, 0..6))
        .prop_map(|(h, lines)| format!("{h}\n{}\n", lines.join("\n")));
    prop::collection::vec(section, 0..6).prop_map(|s| s.concat())
}

/// Column names drawn from a small set, so that keys, indexes and references
/// often name columns that exist.
fn col() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(vec!["id", "a", "b", "n", "s", "Mixed Case"]).prop_map(str::to_string),
        1 => name(),
    ]
}

fn cols() -> impl Strategy<Value = String> {
    prop::collection::vec(col(), 0..4).prop_map(|c| {
        let q: Vec<String> = c.iter().map(|c| quoted(c)).collect();
        format!("[{}]", q.join(", "))
    })
}

/// A value of the right kind for `key` most of the time.
fn value_for(key: &'static str) -> BoxedStrategy<String> {
    let text = || sqlish().prop_map(|s| quoted(&s));
    let right: BoxedStrategy<String> = match key {
        "not_null" | "primary_key" | "unique" | "deferrable" | "initially_deferred"
        | "not_valid" | "nulls_not_distinct" | "cycle" => {
            any::<bool>().prop_map(|b| b.to_string()).boxed()
        }
        "default" => prop_oneof![
            text(),
            any::<i64>().prop_map(|i| i.to_string()),
            Just("1.5".to_string()),
            Just("true".into())
        ]
        .boxed(),
        "columns" | "include" | "values" => cols().boxed(),
        "start" | "increment" | "min_value" | "max_value" | "cache" => {
            any::<i64>().prop_map(|i| i.to_string()).boxed()
        }
        _ => text().boxed(),
    };
    prop_oneof![9 => right, 1 => value()].boxed()
}

/// `key = value` lines for some of `keys`, each with a value for it.
fn fields(keys: Vec<&'static str>) -> impl Strategy<Value = Vec<String>> {
    prop::sample::subsequence(keys.clone(), 0..keys.len().min(6))
        .prop_flat_map(|ks| {
            let vals: Vec<BoxedStrategy<String>> = ks.iter().map(|k| value_for(k)).collect();
            (Just(ks), vals)
        })
        .prop_map(|(ks, vs)| {
            ks.iter()
                .zip(vs)
                .map(|(k, v)| format!("{k} = {v}"))
                .collect()
        })
}

/// An inline table of some of `keys`, each with a value for it.
fn inline(keys: Vec<&'static str>) -> impl Strategy<Value = String> {
    fields(keys).prop_map(|lines| format!("{{ {} }}", lines.join(", ")))
}

/// A `[kind.name]` section of some of `keys`, each with a value for it.
fn section(kind: &'static str, keys: Vec<&'static str>) -> impl Strategy<Value = String> {
    (name(), fields(keys))
        .prop_map(move |(n, lines)| format!("[{kind}.{}]\n{}\n", quoted(&n), lines.join("\n")))
}

const COLUMN_KEYS: &[&str] = &[
    "type",
    "not_null",
    "default",
    "primary_key",
    "unique",
    "references",
    "on_delete",
    "on_update",
    "check",
    "identity",
    "generated",
    "comment",
    "deprecated",
    "collation",
];
const INDEX_KEYS: &[&str] = &[
    "columns",
    "expression",
    "unique",
    "where",
    "using",
    "include",
    "nulls_not_distinct",
];

/// A schema file in the shape of the format: tables with columns, keys,
/// indexes, constraints; enums; domains; sequences; values mostly of the
/// right kind.
fn structured_file() -> impl Strategy<Value = String> {
    let column = (
        col(),
        inline(COLUMN_KEYS.to_vec()).prop_map(|t| {
            // Most columns have a type.
            if t.contains("type =") {
                t
            } else {
                t.replacen("{ ", "{ type = \"int\", ", 1)
            }
        }),
    )
        .prop_map(|(c, t)| format!("{} = {t}", quoted(&c)));
    let index =
        (name(), inline(INDEX_KEYS.to_vec())).prop_map(|(n, t)| format!("{} = {t}", quoted(&n)));
    let unique = (name(), cols()).prop_map(|(n, c)| format!("{} = {c}", quoted(&n)));
    let check = (name(), sqlish()).prop_map(|(n, e)| format!("{} = {}", quoted(&n), quoted(&e)));
    let fk = (
        name(),
        inline(vec![
            "columns",
            "references",
            "on_delete",
            "on_update",
            "deferrable",
            "not_valid",
        ]),
    )
        .prop_map(|(n, t)| format!("{} = {t}", quoted(&n)));
    let table = (
        prop::sample::select(vec!["t", "u", "s.t", "Odd Name"]).prop_map(str::to_string),
        prop::option::of(cols()),
        prop::collection::vec(column, 0..6).prop_map(distinct),
        prop::collection::vec(index, 0..3).prop_map(distinct),
        prop::collection::vec(unique, 0..3).prop_map(distinct),
        prop::collection::vec(check, 0..2).prop_map(distinct),
        prop::collection::vec(fk, 0..2).prop_map(distinct),
    )
        .prop_map(|(t, pk, columns, indexes, uniques, checks, fks)| {
            let t = quoted(&t);
            let mut out = format!("[tables.{t}]\n");
            if let Some(pk) = pk {
                out.push_str(&format!("primary_key = {pk}\n"));
            }
            for (section, lines) in [
                ("columns", columns),
                ("indexes", indexes),
                ("unique", uniques),
                ("checks", checks),
                ("foreign_keys", fks),
            ] {
                if !lines.is_empty() {
                    out.push_str(&format!("[tables.{t}.{section}]\n{}\n", lines.join("\n")));
                }
            }
            (t, out)
        });
    let other = prop_oneof![
        (name(), cols()).prop_map(|(n, v)| format!("[enums.{}]\nvalues = {v}\n", quoted(&n))),
        section(
            "domains",
            vec!["type", "not_null", "default", "check", "comment"]
        ),
        section(
            "sequences",
            vec![
                "type",
                "start",
                "increment",
                "min_value",
                "max_value",
                "cache",
                "cycle",
                "owned_by"
            ]
        ),
        prop::collection::vec(sqlish(), 0..3).prop_map(|e| format!(
            "extensions = [{}]\n",
            e.iter().map(|e| quoted(e)).collect::<Vec<_>>().join(", ")
        )),
    ];
    (prop::option::of(other), prop::collection::vec(table, 0..3)).prop_map(|(o, t)| {
        // Top-level keys must come before the first table.
        let mut out = o.unwrap_or_default();
        let mut seen = std::collections::HashSet::new();
        for (name, text) in t {
            if seen.insert(name) {
                out.push_str(&text);
            }
        }
        out
    })
}

/// `key = value` lines with the first of each key only (TOML refuses the others).
fn distinct(lines: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    lines
        .into_iter()
        .filter(|l| seen.insert(l.split(" = ").next().unwrap_or("").to_string()))
        .collect()
}

const VALID: &str = r#"extensions = ["pgcrypto"]
[enums.status]
values = ["a", "b"]
[domains.pos]
type = "int"
check = "VALUE > 0"
[sequences.seq]
owned_by = "t.id"
[tables.t]
comment = "c"
[tables.t.columns]
id = { type = "bigserial", primary_key = true }
s = { type = "status", not_null = true, default = "'a'" }
n = { type = "pos", default = 1, check = "n < 10" }
u = { type = "int", references = "u(id)", on_delete = "cascade" }
g = { type = "int", generated = "n * 2" }
[tables.t.indexes]
t_s = { columns = ["s DESC"], where = "n > 0" }
t_e = { expression = "lower(s::text)", unique = true }
[tables.t.unique]
t_sn = ["s", "n"]
[tables.t.checks]
t_ok = "n <> 5"
[tables.u.columns]
id = { type = "int", primary_key = true }
"#;

/// `VALID` with a few random edits: bytes replaced, inserted, removed.
fn mutated() -> impl Strategy<Value = String> {
    let edit = (any::<prop::sample::Index>(), 0u8..3, "\\PC{0,3}");
    prop::collection::vec(edit, 1..6).prop_map(|edits| {
        let mut s: Vec<char> = VALID.chars().collect();
        for (at, op, text) in edits {
            let i = at.index(s.len() + 1);
            match op {
                0 if i < s.len() => {
                    s.remove(i);
                }
                1 if i < s.len() => s[i] = text.chars().next().unwrap_or('"'),
                _ => {
                    for (k, c) in text.chars().enumerate() {
                        s.insert(i + k, c);
                    }
                }
            }
        }
        s.into_iter().collect()
    })
}

#[test]
fn the_valid_example_loads() {
    load::load_sources(vec![("t.toml".into(), VALID.into())]).unwrap();
}

#[test]
fn the_loader_never_panics_on_random_text() {
    never_panics(
        "\\PC{0,200}|[\\[\\]{}=\",.a-z0-9 \n\\\\$'()]{0,200}"
            .prop_map(|text| vec![("f.toml".to_string(), text)]),
        load_files,
    );
}

#[test]
fn the_loader_never_panics_on_near_valid_files() {
    never_panics(
        prop::collection::vec(schema_file(), 1..4).prop_map(named),
        load_files,
    );
}

#[test]
fn the_loader_never_panics_on_files_in_the_shape_of_the_format() {
    never_panics(
        prop::collection::vec(structured_file(), 1..3).prop_map(named),
        load_files,
    );
}

#[test]
fn the_loader_never_panics_on_edited_valid_files() {
    never_panics(
        mutated().prop_map(|text| vec![("t.toml".to_string(), text)]),
        load_files,
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for n in [100, 10_000, 100_000] {
        let arrays = format!("a = {}{}", "[".repeat(n), "]".repeat(n));
        let tables = format!("a = {}{}", "{ b = ".repeat(n), "}".repeat(n));
        let parens = format!(
            "[tables.t.columns]\nid = {{ type = \"int\", default = \"{}1{}\" }}\n",
            "(".repeat(n),
            ")".repeat(n)
        );
        for text in [arrays, tables, parens] {
            finishes(vec![("t.toml".to_string(), text)], load_files);
        }
    }
}

/// What the loader hands each string of the files to, called directly.
fn use_text(s: String) {
    use reconcile::{expr, names, types};
    let _ = types::parse_type(&s);
    let _ = types::split_qualified(&s);
    let _ = types::split_ident_path(&s);
    let _ = expr::parse_list(&s);
    let _ = expr::parse_partition_key(&s);
    let _ = expr::from_catalog(&s);
    let _ = names::make_object_name(&s, Some(&s), Some("key"));
    let _ = names::unique_name(&s, &[s.clone(), s.clone()]);
}

#[test]
fn types_expressions_and_names_never_panic() {
    never_panics("\\PC{0,40}|[a-z0-9_ ()\\[\\],.'\"$:-]{0,40}", use_text);
    never_panics(
        (sqlish(), sqlish(), sqlish()).prop_map(|(a, b, c)| format!("{a} {b}{c}")),
        use_text,
    );
}

// ---- connection strings ----

fn use_conninfo(s: String) {
    let _ = conninfo::parse(&s);
    let _ = conninfo::redact(&s);
    let env = conninfo::Environment {
        var: &|_| None,
        home: None,
        os_user: Some("fuzz".into()),
        default_socket_dir: None,
    };
    let _ = conninfo::resolve(Some(&s), &env, &mut |_| {});
}

/// A piece of a URL: plain, percent-escapes (valid or not), brackets, separators.
fn url_part() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9._-]{0,8}",
        "(%[0-9a-fA-F]{2}){0,3}",
        Just("%".to_string()),
        Just("%g1".to_string()),
        Just("%ff%fe".to_string()),
        Just("%00".to_string()),
        Just("[::1]".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("@".to_string()),
        Just(":".to_string()),
        Just(",".to_string()),
        Just("/".to_string()),
        Just("?".to_string()),
        Just("&".to_string()),
        Just("=".to_string()),
        "\\PC{0,4}",
    ]
}

fn url() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "postgres://",
            "postgresql://",
            "postgres:",
            "POSTGRES://",
            "",
        ]),
        prop::collection::vec(url_part(), 0..12),
    )
        .prop_map(|(scheme, parts)| format!("{scheme}{}", parts.concat()))
}

fn keywords() -> impl Strategy<Value = String> {
    let k = prop_oneof![
        prop::sample::select(vec![
            "host",
            "hostaddr",
            "port",
            "dbname",
            "user",
            "password",
            "sslmode",
            "options",
            "connect_timeout",
            "target_session_attrs",
            "passfile",
            "bogus",
        ])
        .prop_map(str::to_string),
        "\\PC{0,4}",
    ];
    let v = prop_oneof![
        "[a-z0-9,:/.]{0,8}",
        Just("'a b'".to_string()),
        Just("'it\\'s'".to_string()),
        Just("'unterminated".to_string()),
        Just("\\".to_string()),
        Just("'".to_string()),
        Just("-1".to_string()),
        Just("99999999999999999999".to_string()),
        Just("1,2,,".to_string()),
        Just("verify-full".to_string()),
        "\\PC{0,4}",
    ];
    let sep = prop::sample::select(vec!["=", " = ", "==", " ", ""]);
    prop::collection::vec((k, sep, v), 0..6).prop_map(|kv| {
        kv.into_iter()
            .map(|(k, s, v)| format!("{k}{s}{v}"))
            .collect::<Vec<_>>()
            .join(" ")
    })
}

#[test]
fn the_connection_string_parser_never_panics() {
    never_panics("\\PC{0,80}", use_conninfo);
    never_panics(url(), use_conninfo);
    never_panics(keywords(), use_conninfo);
}
