//! SQL expressions from the files: parsed with sqlparser before anything else
//! sees them, printed back from the parsed tree, and normalized for comparison.

use std::ops::ControlFlow;

use sqlparser::ast::{self, Expr as Ast, UnaryOperator, Value};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use crate::model::Expr;

/// Parse one expression; the whole text must be that expression.
pub fn parse_one(sql: &str) -> Result<Ast, String> {
    let mut list = parse_list(sql)?;
    if list.len() != 1 {
        return Err(format!(
            "expected one SQL expression, found {} separated by commas",
            list.len()
        ));
    }
    Ok(list.remove(0))
}

/// Parse a comma-separated list of expressions (an index's `expression`).
pub fn parse_list(sql: &str) -> Result<Vec<Ast>, String> {
    let dialect = PostgreSqlDialect {};
    // Tokenized once, for the check and the parser (as `try_with_sql` does).
    let tokens = sqlparser::tokenizer::Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| clean_parser_error(&e.to_string()))?;
    // Only `$` starts what sqlparser reads differently from PostgreSQL.
    if sql.contains('$') {
        check_dollar_tokens(tokens.iter().map(|t| &t.token))?;
    }
    let mut parser = Parser::new(&dialect).with_tokens_with_locations(tokens);
    let list = parser
        .parse_comma_separated(Parser::parse_expr)
        .map_err(|e| clean_parser_error(&e.to_string()))?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err(format!(
            "unexpected `{}` after the expression; expected one SQL expression",
            next.token
        ));
    }
    Ok(list)
}

/// Refuse what sqlparser reads but PostgreSQL's lexer would not read the same
/// way: a dollar-quote tag that is not `$` + an identifier that does not start
/// with a digit + `$` (`$1$...$1$`), and parameters (`$1`), which no schema
/// expression can have.
pub(crate) fn check_dollar_tokens<'a>(
    tokens: impl Iterator<Item = &'a Token>,
) -> Result<(), String> {
    for t in tokens {
        match t {
            Token::DollarQuotedString(q) => {
                if let Some(tag) = q.tag.as_deref().filter(|t| !is_dollar_tag(t)) {
                    return Err(format!(
                        "bad dollar-quote tag `${tag}$`: expected `$$` or `$` + letters, digits and `_`, not starting with a digit, + `$`"
                    ));
                }
            }
            Token::Placeholder(p) if p.starts_with('$') => {
                return Err(format!(
                    "`{p}` is a parameter, which an expression of the files cannot have; for text write it in single quotes"
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// A tag PostgreSQL reads in `$tag$`: a letter, `_` or a non-ASCII
/// character, then also digits (its lexer's `dolq_start` and `dolq_cont`).
fn is_dollar_tag(tag: &str) -> bool {
    let ok = |c: char, first: bool| {
        c.is_ascii_alphabetic() || c == '_' || !c.is_ascii() || (!first && c.is_ascii_digit())
    };
    let mut chars = tag.chars();
    chars.next().is_some_and(|c| ok(c, true)) && chars.all(|c| ok(c, false))
}

fn clean_parser_error(e: &str) -> String {
    e.trim_start_matches("sql parser error: ").to_string()
}

/// An expression from the files: checked, printed from the parsed tree, normalized.
pub fn from_files(sql: &str) -> Result<Expr, String> {
    let ast = parse_one(sql)?;
    Ok(Expr {
        sql: ast.to_string(),
        key: normalize_ast(ast),
    })
}

/// An expression as the catalog prints it. It is trusted text from PostgreSQL;
/// its key is normalized the same way, or kept verbatim when sqlparser cannot read it.
pub fn from_catalog(sql: &str) -> Expr {
    if let Some(key) = nextval_key(sql) {
        return Expr {
            sql: sql.to_string(),
            key,
        };
    }
    parsed_from_catalog(sql)
}

fn parsed_from_catalog(sql: &str) -> Expr {
    let key = match parse_one(sql) {
        Ok(ast) => normalize_ast(ast),
        Err(_) => sql.to_string(),
    };
    Expr {
        sql: sql.to_string(),
        key,
    }
}

/// The key of `nextval('name'::regclass)` for a plain name (lower-case
/// letters, digits, `_` and `.`: every serial column's default), as
/// `normalize_ast` makes it, without a parse (one per serial column).
fn nextval_key(sql: &str) -> Option<String> {
    let name = sql
        .strip_prefix("nextval('")?
        .strip_suffix("'::regclass)")?;
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
    (plain && name.bytes().any(|b| b.is_ascii_lowercase()) && !looks_numeric(name))
        .then(|| format!("nextval('{name}')"))
}

/// A partition key, `RANGE (payment_date)`: the strategy, then a list of
/// columns or expressions in parentheses, each parsed.
pub fn parse_partition_key(sql: &str) -> Result<Expr, String> {
    parse_partition_key_with_columns(sql).map(|(key, _)| key)
}

/// As [`parse_partition_key`], with the columns the key names as whole
/// elements (`RANGE (a, (lower(b)))` gives `a`): unquoted names folded to
/// lower case, as PostgreSQL folds them; an expression element names none
/// here (PostgreSQL judges it).
pub fn parse_partition_key_with_columns(sql: &str) -> Result<(Expr, Vec<String>), String> {
    let t = sql.trim();
    let bad = || {
        format!("bad partition key `{t}`: expected `RANGE (column, ...)`, `LIST (column)` or `HASH (column, ...)`")
    };
    let open = t.find('(').ok_or_else(bad)?;
    let strategy = t[..open].trim().to_ascii_uppercase();
    if !matches!(strategy.as_str(), "RANGE" | "LIST" | "HASH") {
        return Err(bad());
    }
    let inner = t[open + 1..].strip_suffix(')').ok_or_else(bad)?;
    let list = parse_list(inner).map_err(|m| format!("{}: {m}", bad()))?;
    let columns = list
        .iter()
        .filter_map(|a| match a {
            Ast::Identifier(id) if id.quote_style.is_none() => Some(id.value.to_lowercase()),
            Ast::Identifier(id) => Some(id.value.clone()),
            _ => None,
        })
        .collect();
    let sql: Vec<String> = list.iter().map(|a| a.to_string()).collect();
    let key: Vec<String> = list.into_iter().map(normalize_ast).collect();
    Ok((
        Expr {
            sql: format!("{strategy} ({})", sql.join(", ")),
            key: format!("{strategy} ({})", key.join(", ")),
        },
        columns,
    ))
}

/// A partition key as `pg_get_partkeydef` prints it (kept verbatim when sqlparser cannot read it).
pub fn partition_key(sql: &str) -> Expr {
    parse_partition_key(sql).unwrap_or_else(|_| Expr {
        sql: sql.to_string(),
        key: sql.to_string(),
    })
}

/// Is this a bare word that the author probably meant as a string (`pending`)?
pub fn is_bare_word(ast: &Ast) -> bool {
    matches!(ast, Ast::Identifier(id) if id.quote_style.is_none())
}

/// The normalized key of a parsed expression: redundant parentheses dropped,
/// casts of literals dropped (PostgreSQL adds them: `'x'::text`), numbers in
/// quotes unquoted (`'-1'::integer`), unquoted names folded to lower case.
/// Two expressions with the same key mean the same thing; different keys may
/// still be equal, which PostgreSQL itself then decides (see `canon`).
pub fn normalize_ast(mut ast: Ast) -> String {
    let _ = ast::visit_expressions_mut(&mut ast, |e| {
        loop {
            let replacement = match e {
                Ast::Nested(inner) => Some((**inner).clone()),
                Ast::Cast { expr, .. } if is_literal(expr) => Some((**expr).clone()),
                // `x BETWEEN a AND b` is `x >= a AND x <= b`, and NOT BETWEEN
                // `x < a OR x > b`: PostgreSQL stores them so.
                Ast::Between {
                    expr,
                    negated,
                    low,
                    high,
                } => {
                    let sql = if *negated {
                        format!("({expr} < {low} OR {expr} > {high})")
                    } else {
                        format!("{expr} >= {low} AND {expr} <= {high}")
                    };
                    parse_one(&sql).ok()
                }
                // `x IN (a, b)` is `x = ANY (ARRAY[a, b])`, and `NOT IN` is
                // `<> ALL (...)`; with one item, `x = a` and `x <> a`:
                // PostgreSQL stores and prints them so.
                Ast::In {
                    expr,
                    target: ast::InTarget::List(list),
                    negated,
                    global: false,
                } => {
                    let sql = match list.as_slice() {
                        [one] => format!("{expr} {} {one}", if *negated { "<>" } else { "=" }),
                        _ => {
                            let items: Vec<String> = list.iter().map(|i| i.to_string()).collect();
                            let op = if *negated { "<> ALL" } else { "= ANY" };
                            format!("{expr} {op} (ARRAY[{}])", items.join(", "))
                        }
                    };
                    parse_one(&sql).ok()
                }
                Ast::UnaryOp {
                    op: UnaryOperator::Minus,
                    expr,
                } => match &**expr {
                    Ast::Value(v) => match &v.value {
                        Value::Number(n, l) => {
                            Some(Ast::Value(Value::Number(format!("-{n}"), *l).into()))
                        }
                        _ => None,
                    },
                    _ => None,
                },
                Ast::Value(v) => match &v.value {
                    Value::SingleQuotedString(s) if looks_numeric(s) => {
                        Some(Ast::Value(Value::Number(s.clone(), false).into()))
                    }
                    _ => None,
                },
                Ast::Identifier(id) if id.quote_style.is_none() => {
                    let lower = id.value.to_lowercase();
                    if lower != id.value {
                        id.value = lower;
                    }
                    None
                }
                Ast::CompoundIdentifier(ids) => {
                    for id in ids.iter_mut().filter(|i| i.quote_style.is_none()) {
                        id.value = id.value.to_lowercase();
                    }
                    None
                }
                // CURRENT_TIMESTAMP and transaction_timestamp() are now().
                Ast::Function(f)
                    if f.args == ast::FunctionArguments::None
                        && f.name.to_string().eq_ignore_ascii_case("current_timestamp") =>
                {
                    Some(parse_one("now()").expect("now() parses"))
                }
                Ast::Function(f)
                    if f.name
                        .to_string()
                        .eq_ignore_ascii_case("transaction_timestamp")
                        && matches!(&f.args, ast::FunctionArguments::List(l) if l.args.is_empty()) =>
                {
                    Some(parse_one("now()").expect("now() parses"))
                }
                Ast::Function(f) => {
                    for part in f.name.0.iter_mut() {
                        if let ast::ObjectNamePart::Identifier(id) = part {
                            if id.quote_style.is_none() {
                                id.value = id.value.to_lowercase();
                            }
                        }
                    }
                    None
                }
                _ => None,
            };
            match replacement {
                Some(r) => *e = r,
                None => break,
            }
        }
        ControlFlow::<()>::Continue(())
    });
    ast.to_string()
}

fn is_literal(e: &Ast) -> bool {
    match e {
        Ast::Value(_) => true,
        Ast::Nested(inner) => is_literal(inner),
        // An array of literals, whose casts PostgreSQL moves between the
        // array and its elements (`ARRAY['a'::varchar]::text[]` read back is
        // `ARRAY[('a'::varchar)::text]`).
        Ast::Array(a) => a.elem.iter().all(is_literal),
        Ast::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => matches!(**expr, Ast::Value(_)),
        _ => false,
    }
}

/// Whether two keys of one table's expressions are equal once casts to text
/// of the columns that `textual` says are `text` or `varchar` are dropped
/// (`(status)::text` on a varchar column: binary coercible, so a no-op that
/// PostgreSQL prints in some forms and not in others). For comparing files
/// with files, where no PostgreSQL prints both sides.
pub fn equivalent_keys(a: &str, b: &str, textual: &dyn Fn(&str) -> bool) -> bool {
    a == b || loose_key(a, textual) == loose_key(b, textual)
}

/// A key without the casts that `equivalent_keys` drops.
pub fn loose_key(key: &str, textual: &dyn Fn(&str) -> bool) -> String {
    let Ok(mut ast) = parse_one(key) else {
        return key.to_string();
    };
    let _ = ast::visit_expressions_mut(&mut ast, |e| {
        if let Ast::Cast {
            expr, data_type, ..
        } = e
        {
            let to_text = matches!(
                data_type,
                ast::DataType::Text
                    | ast::DataType::Varchar(_)
                    | ast::DataType::CharacterVarying(_)
            );
            if let Ast::Identifier(id) = &**expr {
                if to_text && textual(&id.value) {
                    *e = (**expr).clone();
                }
            }
        }
        ControlFlow::<()>::Continue(())
    });
    ast.to_string()
}

fn looks_numeric(s: &str) -> bool {
    let t = s.strip_prefix('-').unwrap_or(s);
    !t.is_empty()
        && t.chars().all(|c| c.is_ascii_digit() || c == '.')
        && t.chars().filter(|&c| c == '.').count() <= 1
        && t.chars().next().is_some_and(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> String {
        from_files(s).unwrap().key
    }

    #[test]
    fn partition_key_columns_are_its_bare_names() {
        let (_, columns) =
            parse_partition_key_with_columns("RANGE (Payment_Date, (lower(name)), \"Region\")")
                .unwrap();
        assert_eq!(columns, ["payment_date", "Region"]);
        assert!(parse_partition_key_with_columns("LIST (").is_err());
    }

    #[test]
    fn postgres_printed_forms_match_what_people_write() {
        assert_eq!(
            key("'scheduled'"),
            from_catalog("'scheduled'::appointment_status").key
        );
        assert_eq!(key("0"), from_catalog("0").key);
        assert_eq!(key("-1"), from_catalog("'-1'::integer").key);
        assert_eq!(key("NOW()"), from_catalog("now()").key);
        assert_eq!(key("attempts >= 0"), from_catalog("(attempts >= 0)").key);
        assert_eq!(
            key("a > 0 AND b > 0"),
            from_catalog("((a > 0) AND (b > 0))").key
        );
        assert_eq!(key("now()"), from_catalog("CURRENT_TIMESTAMP").key);
        assert_ne!(key("now()"), from_catalog("CURRENT_DATE").key);
        assert_ne!(key("1"), key("2"));
    }

    #[test]
    fn between_as_postgresql_stores_it() {
        assert_eq!(
            key("VALUE BETWEEN 0 AND 100"),
            from_catalog("((VALUE >= (0)::numeric) AND (VALUE <= (100)::numeric))").key
        );
        assert_eq!(
            key("n NOT BETWEEN 1 AND 2"),
            from_catalog("((n < 1) OR (n > 2))").key
        );
        assert_ne!(key("n BETWEEN 1 AND 2"), key("n BETWEEN 1 AND 3"));
    }

    #[test]
    fn in_lists_and_casts_of_arrays_as_postgresql_moves_them() {
        // On a text column; on a varchar one, and that read back once more.
        let written = key("status IN ('a', 'b')");
        let text = from_catalog("(status = ANY (ARRAY['a'::text, 'b'::text]))").key;
        let varchar =
            from_catalog("((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))").key;
        let reread =
            from_catalog("((status)::text = ANY (ARRAY[('a'::character varying)::text, ('b'::character varying)::text]))").key;
        assert_eq!(written, text);
        assert_eq!(varchar, reread);
        let textual = |c: &str| c == "status";
        assert!(equivalent_keys(&written, &varchar, &textual));
        assert!(!equivalent_keys(&written, &varchar, &|_| false));
        assert_eq!(
            key("s NOT IN ('a', 'b')"),
            from_catalog("(s <> ALL (ARRAY['a'::text, 'b'::text]))").key
        );
        assert_eq!(key("s NOT IN ('a')"), from_catalog("(s <> 'a'::text)").key);
        assert_eq!(key("s IN (1)"), key("s = 1"));
        assert_ne!(key("s IN ('a')"), key("s NOT IN ('a')"));
        assert_ne!(key("s IN ('a', 'b')"), key("s IN ('a', 'c')"));
        // A cast of a column is kept where the column is not text.
        assert!(!equivalent_keys(
            &key("n::text = '1'"),
            &key("n = 1"),
            &|c: &str| c == "s"
        ));
    }

    #[test]
    fn serial_defaults_keyed_as_parsed() {
        for name in [
            "t_id_seq",
            "s.t_id_seq",
            "t00001_id_seq",
            "a1.b_2",
            "x",
            "_x9",
        ] {
            let sql = format!("nextval('{name}'::regclass)");
            assert!(nextval_key(&sql).is_some(), "{sql}");
            assert_eq!(from_catalog(&sql), parsed_from_catalog(&sql), "{sql}");
        }
        for other in [
            "nextval('\"T\"'::regclass)",
            "nextval('a''b'::regclass)",
            "nextval('12'::regclass)",
            "nextval('1.2'::regclass)",
            "nextval('a b'::regclass)",
            "nextval(''::regclass)",
            "nextval('x'::regclass) + 1",
            "nextval('x')",
        ] {
            assert_eq!(nextval_key(other), None, "{other}");
        }
    }

    #[test]
    fn rejects_more_than_one_expression() {
        assert!(from_files("0; DROP TABLE x").is_err());
        assert!(from_files("1, 2").is_err());
        assert!(from_files("(").is_err());
        assert_eq!(parse_list("lower(a), b").unwrap().len(), 2);
    }

    #[test]
    fn bare_words_are_recognised() {
        assert!(is_bare_word(&parse_one("pending").unwrap()));
        assert!(!is_bare_word(&parse_one("'pending'").unwrap()));
        assert!(!is_bare_word(&parse_one("now()").unwrap()));
        assert!(!is_bare_word(&parse_one("true").unwrap()));
        assert!(!is_bare_word(&parse_one("CURRENT_TIMESTAMP").unwrap()));
    }
}
