//! Names that PostgreSQL folds or refuses unless quoted (mixed case, spaces,
//! reserved words) through every kind of statement the renderer writes, in
//! one transaction and online: each applies (an unquoted `"Group"` would be
//! `group`, an unquoted `"select"` a syntax error), the database then
//! matches the files, and each statement that ran parses with sqlparser's
//! PostgreSQL dialect. The kinds are read from `src/plan/render.rs`, so a kind
//! added there without a case here fails this test.

use std::collections::BTreeSet;

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::harness::{apply, assert_replan_empty, plan_json, repo, run, TestDb};

/// The step kinds (`create-table` of `create-table:people`) that
/// `src/plan/render.rs` and the files of `src/plan/render/` write: every
/// `format!("<kind>:` in them.
fn rendered_kinds() -> BTreeSet<String> {
    let mut files = vec![repo().join("src/plan/render.rs")];
    let mut more: Vec<_> = std::fs::read_dir(repo().join("src/plan/render"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    more.sort();
    files.extend(more);
    let source = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let kinds: BTreeSet<String> = source
        .split("format!(\"")
        .skip(1)
        .filter_map(|rest| {
            let kind = rest.split(':').next()?;
            (!kind.is_empty() && kind.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
                .then(|| kind.to_string())
        })
        .collect();
    assert!(kinds.len() >= 15, "too few kinds found: {kinds:?}");
    kinds
}

/// The step kinds that `apply` or `prune` ran, from their `ok <duration> <id>` lines.
fn kinds_run(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| {
            let id = line.trim().strip_prefix("ok ")?.split_whitespace().nth(1)?;
            Some(id.split(':').next()?.to_string())
        })
        .collect()
}

/// Every statement that apply ran in `db`, from `reconcile history --format json`.
fn statements_run(db: &TestDb) -> Vec<String> {
    let r = run(&["history", "--database-url", &db.url, "--format", "json"]);
    assert_eq!(r.code, 0, "{r}");
    let entries: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    entries
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["statements"].as_array().unwrap().clone())
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// Statements that sqlparser 0.64 cannot parse, though PostgreSQL can, as
/// templates: `{name}` is one name (a qualified name, each part quoted where
/// needed, which must parse as a whole), `{options}` sequence options
/// (keywords and numbers only), `{literal}` one string literal, `{literals}`
/// string literals separated by commas, `{arguments}` an argument list that
/// sqlparser reads in a CREATE FUNCTION, `{body}` a dollar-quoted string
/// whose tag it does not hold. Such a statement must still be refused by
/// sqlparser, so that this list shrinks when it learns them. The first
/// template that matches is used.
const SQLPARSER_GAPS: &[&str] = &[
    "ALTER SEQUENCE {name} INCREMENT BY {options} OWNED BY {name}",
    "ALTER SEQUENCE {name} INCREMENT BY {options}",
    "ALTER SEQUENCE {name} OWNED BY {name}",
    "DROP INDEX CONCURRENTLY IF EXISTS {name}",
    "ALTER TABLE {name} ALTER COLUMN {name} SET INCREMENT BY {options}",
    "COMMENT ON CONSTRAINT {name} ON {name} IS {literal}",
    "CREATE PROCEDURE {name}({arguments})\n LANGUAGE {name}\nAS {body}",
    "CREATE OR REPLACE PROCEDURE {name}({arguments})\n LANGUAGE {name}\nAS {body}",
    "COMMENT ON FUNCTION {name}({arguments}) IS {literal}",
    "COMMENT ON PROCEDURE {name}({arguments}) IS {literal}",
    "COMMENT ON TRIGGER {name} ON {name} IS {literal}",
    "COMMENT ON POLICY {name} ON {name} IS {literal}",
    "ALTER TYPE {name} ADD ATTRIBUTE {name} {name}",
    "ALTER INDEX {name} ATTACH PARTITION {name}",
    "CREATE INDEX {name} ON ONLY {name} ({name})",
    "CREATE TABLE {name} (LIKE {name} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED)",
    "CREATE TRIGGER {name} AFTER INSERT ON {name} FOR EACH STATEMENT EXECUTE FUNCTION {name}({literals})",
    "ALTER TEXT SEARCH CONFIGURATION {name} ADD MAPPING FOR {name} WITH {name}, {name}",
    "ALTER TEXT SEARCH CONFIGURATION {name} ADD MAPPING FOR {name} WITH {name}",
    "COMMENT ON TEXT SEARCH CONFIGURATION {name} IS {literal}",
];

/// The parts of `sql` that `template`'s placeholders stand for, with their
/// placeholder, if the literal text around them matches.
fn match_template<'a>(template: &'a str, sql: &'a str) -> Option<Vec<(&'a str, &'a str)>> {
    let mut pieces: Vec<&str> = Vec::new();
    let mut holes: Vec<&str> = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}')? + open;
        pieces.push(&rest[..open]);
        holes.push(&rest[open..=close]);
        rest = &rest[close + 1..];
    }
    pieces.push(rest);
    let mut at = sql.strip_prefix(pieces[0])?;
    let mut out = Vec::new();
    for (hole, next) in holes.iter().zip(&pieces[1..]) {
        let end = if next.is_empty() {
            at.len()
        } else {
            at.find(next)?
        };
        out.push((*hole, &at[..end]));
        at = &at[end + next.len()..];
    }
    at.is_empty().then_some(out)
}

/// One statement, parsed by sqlparser's PostgreSQL dialect (see `SQLPARSER_GAPS`).
fn parses(sql: &str) -> Result<(), String> {
    let dialect = PostgreSqlDialect {};
    let whole = Parser::parse_sql(&dialect, sql);
    let Some((template, parts)) = SQLPARSER_GAPS
        .iter()
        .find_map(|t| match_template(t, sql).map(|p| (t, p)))
        // (`{literals}` stands for one literal at least.)
        .filter(|(_, p)| {
            !p.iter()
                .any(|(h, part)| *h == "{literals}" && part.is_empty())
        })
    else {
        return match whole {
            Ok(parsed) if parsed.len() == 1 => Ok(()),
            Ok(parsed) => Err(format!("{} statements", parsed.len())),
            Err(e) => Err(e.to_string()),
        };
    };
    if whole.is_ok() {
        return Err(format!(
            "sqlparser parses `{template}` now: remove it from SQLPARSER_GAPS"
        ));
    }
    for (hole, part) in parts {
        if hole == "{literal}" {
            let inner = part
                .strip_prefix('\'')
                .and_then(|p| p.strip_suffix('\''))
                .ok_or_else(|| format!("`{part}` is not a string literal"))?;
            if inner.replace("''", "").contains('\'') {
                return Err(format!("`{part}` is not one string literal"));
            }
            continue;
        }
        if hole == "{literals}" {
            let tokens = sqlparser::tokenizer::Tokenizer::new(&dialect, part)
                .tokenize()
                .map_err(|e| e.to_string())?;
            let ok = tokens.iter().all(|t| {
                matches!(
                    t,
                    sqlparser::tokenizer::Token::SingleQuotedString(_)
                        | sqlparser::tokenizer::Token::Comma
                        | sqlparser::tokenizer::Token::Whitespace(_)
                )
            });
            if !ok {
                return Err(format!("`{part}` is not string literals"));
            }
            continue;
        }
        if hole == "{arguments}" {
            let probe = format!("CREATE FUNCTION f({part}) RETURNS integer LANGUAGE sql AS 'x'");
            match Parser::parse_sql(&dialect, &probe) {
                Ok(p) if p.len() == 1 => continue,
                _ => return Err(format!("`{part}` is not an argument list")),
            }
        }
        if hole == "{body}" {
            let tag_end = part[1..].find('$').map(|i| i + 2);
            let ok = part.starts_with('$')
                && tag_end.is_some_and(|e| {
                    let tag = &part[..e];
                    part.len() > 2 * e
                        && part.ends_with(tag)
                        && !part[e..part.len() - e].contains(tag)
                });
            if !ok {
                return Err(format!("`{part}` is not one dollar-quoted string"));
            }
            continue;
        }
        if hole == "{options}" {
            let plain = |w: &str| {
                w.chars().all(|c| c.is_ascii_uppercase())
                    || w.strip_prefix('-')
                        .unwrap_or(w)
                        .chars()
                        .all(|c| c.is_ascii_digit())
            };
            if !part.split_whitespace().all(plain) {
                return Err(format!("`{part}` is not sequence options"));
            }
            continue;
        }
        let mut parser = Parser::new(&dialect)
            .try_with_sql(part)
            .map_err(|e| e.to_string())?;
        parser.parse_object_name(false).map_err(|e| e.to_string())?;
        parser
            .expect_token(&sqlparser::tokenizer::Token::EOF)
            .map_err(|e| format!("`{part}` is not one name: {e}"))?;
    }
    Ok(())
}

#[test]
fn mixed_case_and_keyword_names_through_every_statement_kind() {
    let fixture = repo().join("fixtures/quoting");
    let mut kinds = BTreeSet::new();
    let mut unparsed = Vec::new();
    for online in [false, true] {
        let db = TestDb::new(if online { "quoting_online" } else { "quoting" });
        let r = apply(&fixture.join("v1"), &db, &[]);
        assert_eq!(r.code, 0, "{r}");
        db.load_file(&fixture.join("setup.sql"));
        let failed = db.try_load_file(&fixture.join("invalid_index.sql"));
        assert!(
            failed.is_err_and(|e| e.contains("could not create unique index")),
            "the invalid index was not made"
        );
        let v2 = fixture.join("v2");
        let (code, plan) = plan_json(&v2, &db);
        assert_eq!(code, 0, "{plan:#}");
        let extra: &[&str] = if online { &["--online"] } else { &[] };
        let r = apply(&v2, &db, extra);
        assert_eq!(r.code, 0, "online: {online}\n{r}");
        // The steps apply ran (online, the forms that only it runs), from
        // its `ok <duration> <id>` lines.
        kinds.extend(kinds_run(&r.stdout));
        assert_replan_empty(&v2, &db);
        for s in plan["statements"].as_array().unwrap() {
            let id = s["id"].as_str().unwrap();
            kinds.insert(id.split(':').next().unwrap().to_string());
        }
        // What v1 marked deprecated and v2 removed: prune's kinds, from its
        // `ok <duration> <id>` lines.
        let pruned = run(&[
            "prune",
            "--schema",
            v2.to_str().unwrap(),
            "--database-url",
            &db.url,
            "--yes",
        ]);
        assert_eq!(pruned.code, 0, "{pruned}");
        kinds.extend(kinds_run(&pruned.stdout));
        assert_replan_empty(&v2, &db);
        for sql in statements_run(&db) {
            if let Err(e) = parses(&sql) {
                unparsed.push(format!("{sql}\n  -> {e}"));
            }
        }
    }
    let missing: Vec<_> = rendered_kinds().difference(&kinds).cloned().collect();
    assert!(
        missing.is_empty(),
        "kinds the renderer writes that fixtures/quoting does not reach: {missing:?} (reached: {kinds:?})"
    );
    assert!(
        unparsed.is_empty(),
        "statements sqlparser cannot parse:\n{}",
        unparsed.join("\n")
    );
}
