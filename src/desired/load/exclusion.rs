//! The files' exclusion constraints (`[tables.t.exclusions.name]`, README
//! "Exclusion constraints"). Each element is an index element (a column or
//! an expression in parentheses, with an operator class, ASC/DESC, NULLS
//! FIRST/LAST, read as an index's `columns` entry is) and `WITH` an
//! operator; the whole element is checked with sqlparser's tokenizer (no
//! `;`, parentheses balanced) before it is written into a statement. `where`
//! is an expression parsed like every other.

use serde::Deserialize;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};
use toml::Spanned;

use super::{parse_expr_at, Errors, Source};
use crate::model::exclusion::{with_position, Exclusion, ExclusionElement};
use crate::model::{IndexKeyPart, Origin, QualName};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExclusion {
    /// The index method; gist by default.
    using: Option<Spanned<String>>,
    elements: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(rename = "where")]
    predicate: Option<Spanned<String>>,
    #[serde(default)]
    deferrable: bool,
    #[serde(default)]
    initially_deferred: bool,
    comment: Option<String>,
    deprecated: Option<String>,
}

impl RawExclusion {
    /// Its `comment`, set on the constraint as `constraint_comments` would.
    pub(super) fn comment(&self) -> Option<&String> {
        self.comment.as_ref()
    }
    /// Its `include` columns, checked by the caller against the table.
    pub(super) fn include(&self) -> &[String] {
        &self.include
    }
}

/// An exclusion constraint of table `table`, or `None` with its errors
/// reported at their place: an unknown method, an element that is not
/// `element WITH operator`, an operator that is not one, a `where` that does
/// not parse. `column_known` says whether the table has a column.
pub(super) fn build_exclusion(
    src: &Source,
    table: &QualName,
    name: String,
    origin: Origin,
    raw: &RawExclusion,
    column_known: &dyn Fn(&str) -> bool,
    errors: &mut Errors,
) -> Option<Exclusion> {
    let before = errors.0.len();
    let method = match &raw.using {
        None => "gist".to_string(),
        Some(m) => {
            let word = m.get_ref().trim();
            let ok = !word.is_empty()
                && word.len() < 64
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && !word.starts_with(|c: char| c.is_ascii_digit());
            if !ok {
                errors.at(
                    &src.origin(m.span()),
                    format!(
                        "bad `using` `{}` of exclusion constraint `{name}` on `{table}`: expected an index method such as gist, btree, hash or spgist",
                        m.get_ref()
                    ),
                );
            }
            word.to_string()
        }
    };
    if raw.elements.get_ref().is_empty() {
        errors.at(
            &src.origin(raw.elements.span()),
            format!("exclusion constraint `{name}` on `{table}` needs at least one element (`\"column WITH operator\"`)"),
        );
    }
    let mut elements = Vec::new();
    for e in raw.elements.get_ref() {
        match element(e.get_ref()) {
            Ok(el) => {
                if let IndexKeyPart::Column(c) = &el.key.part {
                    if !column_known(c) {
                        errors.at(
                            &src.origin(e.span()),
                            format!("exclusion constraint `{name}` of table `{table}` names column `{c}`, which the table does not have"),
                        );
                    }
                }
                elements.push(el);
            }
            Err(msg) => errors.at(&src.origin(e.span()), msg),
        }
    }
    let predicate = raw.predicate.as_ref().and_then(|p| {
        parse_expr_at(
            errors,
            src,
            p,
            &format!("`where` of exclusion constraint `{name}`"),
        )
    });
    if errors.0.len() > before {
        return None;
    }
    let mut x = Exclusion {
        name,
        method,
        elements,
        include: raw.include.clone(),
        predicate,
        deferrable: raw.deferrable || raw.initially_deferred,
        initially_deferred: raw.initially_deferred,
        key: String::new(),
        deprecated: raw.deprecated.clone(),
        origin: Some(origin),
    };
    x.key = x.definition();
    Some(x)
}

/// `element WITH operator` of the files, checked: one element (no `;`,
/// parentheses balanced), an index element before the last `WITH` outside
/// parentheses, an operator after it.
pub(crate) fn element(text: &str) -> Result<ExclusionElement, String> {
    let expected = "expected `column|(expression) [opclass] [ASC|DESC] [NULLS FIRST|LAST] WITH operator`, e.g. `during WITH &&`";
    let bad = |why: &str| format!("bad exclusion element `{text}`: {why}; {expected}");
    let toks = Tokenizer::new(&PostgreSqlDialect {}, text)
        .tokenize()
        .map_err(|e| bad(&e.to_string()))?;
    crate::desired::expr::check_dollar_tokens(toks.iter()).map_err(|e| bad(&e))?;
    let mut depth = 0i32;
    for t in &toks {
        match t {
            Token::SemiColon => return Err(bad("`;` ends a statement")),
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket => {
                depth -= 1;
                if depth < 0 {
                    return Err(bad("a `)` or `]` closes nothing"));
                }
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(bad("a `(` or `[` is never closed"));
    }
    let at = with_position(text).ok_or_else(|| bad("no `WITH operator`"))?;
    let (left, op) = (text[..at].trim(), text[at + 4..].trim());
    if left.is_empty() {
        return Err(bad("no index element before `WITH`"));
    }
    let operator = operator(op).ok_or_else(|| bad(&format!("`{op}` is not an operator")))?;
    let key = super::parse_index_element(left).map_err(|m| bad(&m))?;
    Ok(ExclusionElement { key, operator })
}

/// An operator as PostgreSQL reads one: up to 63 of `+-*/<>=~!@#%^&|`?`
/// (`&&`, `=`, `-|-`), or `OPERATOR(schema.op)`; as it is written back.
fn operator(op: &str) -> Option<String> {
    const CHARS: &str = "+-*/<>=~!@#%^&|`?";
    let plain = |s: &str| !s.is_empty() && s.len() < 64 && s.chars().all(|c| CHARS.contains(c));
    if plain(op) {
        return Some(op.to_string());
    }
    let upper = op.to_ascii_uppercase();
    let inner = upper
        .strip_prefix("OPERATOR")
        .map(str::trim_start)
        .and_then(|s| s.strip_prefix('('))
        .and_then(|s| s.strip_suffix(')'))?;
    let inner = &op[op.len() - 1 - inner.len()..op.len() - 1];
    let (schema, name) = inner.trim().rsplit_once('.')?;
    let schema = schema.trim();
    let schema_ok = if let Some(q) = schema.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        !q.is_empty() && !q.replace("\"\"", "").contains('"')
    } else {
        !schema.is_empty()
            && schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !schema.starts_with(|c: char| c.is_ascii_digit())
    };
    (schema_ok && plain(name.trim())).then(|| format!("OPERATOR({schema}.{})", name.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_checked() {
        let e = element("during WITH &&").unwrap();
        assert_eq!(e.operator, "&&");
        let e = element("(room + 1) int4_ops with OPERATOR(pg_catalog.=)").unwrap();
        assert_eq!(e.operator, "OPERATOR(pg_catalog.=)");
        assert!(element("lower(name) WITH =").is_ok());
        for bad in [
            "room",
            "room WITH",
            "WITH =",
            "room WITH = ; DROP TABLE t",
            "(room WITH =",
            "room) WITH =",
            "room WITH equals",
            "room WITH OPERATOR(=)",
            "room WITH OPERATOR(a.b.=)",
            "room bogus words here WITH =",
        ] {
            assert!(element(bad).is_err(), "{bad}");
        }
    }
}
