//! The files' partitions (README "Partitions"): `[tables.t.partitions.p]`
//! with `bound` (or `default = true`), maybe `partition_by` and partitions of
//! its own, `comment`, `deprecated`; and the table's `other_partitions`.
//!
//! A bound is SQL written into a statement: each value list is parsed by
//! sqlparser (`expr::parse_list`) and printed from its tree, so nothing but
//! a list of expressions reaches the database; `MODULUS` and `REMAINDER` are
//! whole numbers.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use super::{closing_paren, name_parts, Errors, Source};
use crate::desired::expr;
use crate::model::{Expr, OtherPartitions, Partition, QualName};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPartition {
    bound: Option<Spanned<String>>,
    default: Option<Spanned<bool>>,
    partition_by: Option<Spanned<String>>,
    #[serde(default)]
    partitions: IndexMap<Spanned<String>, Spanned<RawPartition>>,
    comment: Option<String>,
    deprecated: Option<String>,
}

const EXPECTED: &str = "expected `FROM (value, ...) TO (value, ...)`, `IN (value, ...)`, \
     `WITH (MODULUS m, REMAINDER r)` or `DEFAULT`";

/// A partition bound as the files write it, `FOR VALUES` left out or not:
/// the bound without `FOR VALUES`, printed from sqlparser's trees (`sql`) and
/// normalized (`key`: literal casts dropped, words upper case). `DEFAULT` is
/// the default partition. Errors: what was expected.
pub fn parse_bound(text: &str) -> Result<Expr, String> {
    let t = text.trim();
    let t = strip_word(t, "FOR")
        .and_then(|r| strip_word(r, "VALUES"))
        .unwrap_or(t);
    let bad = |why: &str| format!("bad partition bound `{text}`: {why}{EXPECTED}");
    if t.eq_ignore_ascii_case("DEFAULT") {
        return Ok(Expr {
            sql: "DEFAULT".into(),
            key: "DEFAULT".into(),
        });
    }
    if let Some(rest) = strip_word(t, "FROM") {
        let (from, rest) = paren_list(rest).map_err(|m| bad(&m))?;
        let rest = strip_word(rest, "TO").ok_or_else(|| bad("no `TO (...)`; "))?;
        let (to, rest) = paren_list(rest).map_err(|m| bad(&m))?;
        if !rest.trim().is_empty() {
            return Err(bad(&format!("`{}` after the bound; ", rest.trim())));
        }
        return Ok(Expr {
            sql: format!("FROM ({}) TO ({})", from.0, to.0),
            key: format!("FROM ({}) TO ({})", from.1, to.1),
        });
    }
    if let Some(rest) = strip_word(t, "IN") {
        let (values, rest) = paren_list(rest).map_err(|m| bad(&m))?;
        if !rest.trim().is_empty() {
            return Err(bad(&format!("`{}` after the bound; ", rest.trim())));
        }
        return Ok(Expr {
            sql: format!("IN ({})", values.0),
            key: format!("IN ({})", values.1),
        });
    }
    if let Some(rest) = strip_word(t, "WITH") {
        let rest = rest.trim_start();
        let close = rest
            .starts_with('(')
            .then(|| closing_paren(rest))
            .flatten()
            .ok_or_else(|| bad("unbalanced parentheses; "))?;
        if !rest[close + 1..].trim().is_empty() {
            return Err(bad(&format!(
                "`{}` after the bound; ",
                rest[close + 1..].trim()
            )));
        }
        let mut modulus = None;
        let mut remainder = None;
        for part in rest[1..close].split(',') {
            let mut words = part.split_whitespace();
            let (Some(word), Some(n), None) = (words.next(), words.next(), words.next()) else {
                return Err(bad("expected `MODULUS m, REMAINDER r`; "));
            };
            let n: u32 = n
                .parse()
                .map_err(|_| bad(&format!("`{n}` is not a whole number; ")))?;
            match word.to_ascii_uppercase().as_str() {
                "MODULUS" if modulus.is_none() => modulus = Some(n),
                "REMAINDER" if remainder.is_none() => remainder = Some(n),
                _ => return Err(bad(&format!("unexpected `{word}`; "))),
            }
        }
        let (Some(m), Some(r)) = (modulus, remainder) else {
            return Err(bad("expected both MODULUS and REMAINDER; "));
        };
        let s = format!("WITH (MODULUS {m}, REMAINDER {r})");
        return Ok(Expr {
            sql: s.clone(),
            key: s,
        });
    }
    Err(bad(""))
}

/// A bound as `pg_get_expr(relpartbound, oid)` prints it (`FOR VALUES ...`,
/// `DEFAULT`); kept verbatim when it cannot be read.
pub fn bound_from_catalog(printed: &str) -> Expr {
    parse_bound(printed).unwrap_or_else(|_| {
        let t = printed.trim();
        let t = t.strip_prefix("FOR VALUES ").unwrap_or(t);
        Expr {
            sql: t.to_string(),
            key: t.to_string(),
        }
    })
}

/// `s` without a leading keyword `word` (any case) and the white space after it.
fn strip_word<'a>(s: &'a str, word: &str) -> Option<&'a str> {
    let s = s.trim_start();
    let head = s.get(..word.len())?;
    let rest = &s[word.len()..];
    (head.eq_ignore_ascii_case(word) && rest.starts_with([' ', '\t', '\n', '\r', '(']))
        .then_some(rest)
}

/// `(a, b) rest` -> ((printed list, normalized list), rest): the list parsed by sqlparser.
fn paren_list(s: &str) -> Result<((String, String), &str), String> {
    let s = s.trim_start();
    let close = s
        .starts_with('(')
        .then(|| closing_paren(s))
        .flatten()
        .ok_or_else(|| "expected a list in parentheses; ".to_string())?;
    let list = expr::parse_list(&s[1..close]).map_err(|m| format!("{m}; "))?;
    if list.is_empty() {
        return Err("an empty list; ".into());
    }
    let sql: Vec<String> = list.iter().map(|a| bound_value(&a.to_string())).collect();
    let key: Vec<String> = list
        .into_iter()
        .map(|a| bound_value(&expr::normalize_ast(a)))
        .collect();
    Ok(((sql.join(", "), key.join(", ")), &s[close + 1..]))
}

/// `MINVALUE` and `MAXVALUE` in upper case, as PostgreSQL prints them (they
/// are keywords of the bound, which sqlparser reads as names).
fn bound_value(v: &str) -> String {
    if v.eq_ignore_ascii_case("MINVALUE") || v.eq_ignore_ascii_case("MAXVALUE") {
        v.to_ascii_uppercase()
    } else {
        v.to_string()
    }
}

/// `other_partitions = "report"` (the default) or `"ignore"`.
pub(super) fn other_partitions(
    src: &Source,
    v: &Option<Spanned<String>>,
    partitioned: bool,
    errors: &mut Errors,
) -> OtherPartitions {
    let Some(v) = v else {
        return OtherPartitions::Report;
    };
    let o = src.origin(v.span());
    if !partitioned {
        errors.at(
            &o,
            "`other_partitions` is for a partitioned table: expected `partition_by` beside it",
        );
    }
    match v.get_ref().as_str() {
        "report" => OtherPartitions::Report,
        "ignore" => OtherPartitions::Ignore,
        other => {
            errors.at(
                &o,
                format!(
                    "unknown value `{other}` for `other_partitions`: expected report or ignore"
                ),
            );
            OtherPartitions::Report
        }
    }
}

/// The partitions under `parent` (partitioned by `key`, when it is): each
/// key names a partition (`p`, in the parent's schema; `schema.p` in another),
/// its bound checked against the parent's strategy.
pub(super) fn build_partitions(
    src: &Source,
    parent: &QualName,
    key: Option<&Expr>,
    raw: &IndexMap<Spanned<String>, Spanned<RawPartition>>,
    errors: &mut Errors,
) -> Vec<Partition> {
    let mut out = Vec::with_capacity(raw.len());
    for (pkey, p) in raw {
        let o = src.origin(pkey.span());
        let Some(key) = key else {
            errors.at(
                &o,
                format!("`{parent}` has partitions but no `partition_by`: expected `partition_by = \"RANGE (column)\"` (or LIST, HASH) on it"),
            );
            continue;
        };
        let name = match name_parts(pkey.get_ref()).as_deref() {
            Ok([n]) if !n.is_empty() => QualName::new(parent.schema.clone(), n.clone()),
            Ok([s, n]) if !s.is_empty() && !n.is_empty() => QualName::new(s.clone(), n.clone()),
            _ => {
                errors.at(
                    &o,
                    format!("bad partition name `{}`: expected `name` (in the schema of its table) or `schema.name`", pkey.get_ref()),
                );
                continue;
            }
        };
        let raw = p.get_ref();
        let bound = match (&raw.bound, &raw.default) {
            (Some(b), None) => match parse_bound(b.get_ref()) {
                Ok(e) => e,
                Err(m) => {
                    errors.at(&src.origin(b.span()), m);
                    continue;
                }
            },
            (None, Some(d)) if *d.get_ref() => Expr {
                sql: "DEFAULT".into(),
                key: "DEFAULT".into(),
            },
            (Some(_), Some(d)) => {
                errors.at(
                    &src.origin(d.span()),
                    "a partition has `bound` or `default = true`, not both",
                );
                continue;
            }
            _ => {
                errors.at(
                    &o,
                    format!("partition `{name}` has no bound: expected `bound = \"FROM (...) TO (...)\"` (or `IN (...)`, `WITH (MODULUS m, REMAINDER r)`) or `default = true`"),
                );
                continue;
            }
        };
        let strategy = key.key.split(' ').next().unwrap_or("");
        let form = bound.key.split([' ', '(']).next().unwrap_or("");
        let fits = matches!(
            (strategy, form),
            (_, "DEFAULT") | ("RANGE", "FROM") | ("LIST", "IN") | ("HASH", "WITH")
        ) && !(strategy == "HASH" && form == "DEFAULT");
        if !fits {
            let want = match strategy {
                "RANGE" => "`FROM (...) TO (...)` or `DEFAULT`",
                "LIST" => "`IN (...)` or `DEFAULT`",
                _ => "`WITH (MODULUS m, REMAINDER r)`",
            };
            let at = raw
                .bound
                .as_ref()
                .map_or(o.clone(), |b| src.origin(b.span()));
            errors.at(
                &at,
                format!("partition `{name}` of `{parent}` (partitioned by {}) has bound `{}`: expected {want}", key.sql, bound.sql),
            );
            continue;
        }
        let mut partition_by = None;
        if let Some(pb) = &raw.partition_by {
            match expr::parse_partition_key(pb.get_ref()) {
                Ok(e) => partition_by = Some(e),
                Err(m) => errors.at(&src.origin(pb.span()), m),
            }
        }
        let partitions =
            build_partitions(src, &name, partition_by.as_ref(), &raw.partitions, errors);
        out.push(Partition {
            name,
            bound,
            partition_by,
            partitions,
            comment: raw.comment.clone(),
            deprecated: raw.deprecated.clone(),
            origin: Some(o),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_parsed_printed_and_normalized() {
        let b = parse_bound("from ('2022-01-01') to ('2022-02-01'::date)").unwrap();
        assert_eq!(b.sql, "FROM ('2022-01-01') TO ('2022-02-01'::DATE)");
        assert_eq!(b.key, "FROM ('2022-01-01') TO ('2022-02-01')");
        let c = bound_from_catalog("FOR VALUES FROM ('2022-01-01') TO ('2022-02-01')");
        assert_eq!(b.key, c.key);
        assert_eq!(
            parse_bound("FOR VALUES FROM (MINVALUE) TO (maxvalue)")
                .unwrap()
                .sql,
            "FROM (MINVALUE) TO (MAXVALUE)"
        );
        assert_eq!(parse_bound("IN ('a', 'b')").unwrap().key, "IN ('a', 'b')");
        assert_eq!(
            parse_bound("with (modulus 4, remainder 1)").unwrap().sql,
            "WITH (MODULUS 4, REMAINDER 1)"
        );
        assert_eq!(parse_bound(" default ").unwrap().key, "DEFAULT");
    }

    #[test]
    fn bad_bounds_say_what_was_expected() {
        for bad in [
            "FROM ('a')",
            "FROM ('a') TO ('b'); DROP TABLE x",
            "IN ('a')) OR (1=1",
            "IN ()",
            "WITH (MODULUS 4)",
            "WITH (MODULUS x, REMAINDER 1)",
            "VALUES LESS THAN (5)",
            "FROM ('a') TO ('b') PARTITION BY RANGE (x)",
        ] {
            let e = parse_bound(bad).unwrap_err();
            assert!(
                e.contains("bad partition bound") && e.contains("expected"),
                "{bad}: {e}"
            );
        }
    }
}
