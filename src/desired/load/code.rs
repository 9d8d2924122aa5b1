//! The files' functions, procedures, views, materialized views and triggers
//! (README "Functions and procedures", "Views", "Triggers").
//!
//! A body is a string that PostgreSQL receives as a string (dollar-quoted
//! with a tag the body does not hold); never SQL spliced into SQL. An argument
//! list, a return type and a view's query are SQL written into a statement:
//! each is checked with sqlparser's tokenizer to stay within its place (no
//! `;`, parentheses balanced, no clause of the statement around it), and a
//! view's query must be one query.

use std::fmt;

use serde::Deserialize;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, Tokenizer, Word};
use toml::Spanned;

use super::{parse_expr_at, Errors, Source};
use crate::desired::types;
use crate::model::{CheckOption, Origin, QualName, Routine, RoutineId, Timing, Trigger, View};

/// One table (`[functions.f]`) or several (`[[functions.f]]`: overloads of
/// one name), each of those with its place in the file.
pub(super) enum OneOrMany<T> {
    One(T),
    Many(Vec<Spanned<T>>),
}

impl<T> OneOrMany<T> {
    /// Each table, with its place when it has one of its own.
    pub(super) fn iter(&self) -> Vec<(Option<std::ops::Range<usize>>, &T)> {
        match self {
            OneOrMany::One(t) => vec![(None, t)],
            OneOrMany::Many(v) => v.iter().map(|t| (Some(t.span()), t.get_ref())).collect(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
        struct Visitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table, or an array of tables (`[[functions.name]]`) for overloads")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                a: A,
            ) -> Result<Self::Value, A::Error> {
                Vec::<Spanned<T>>::deserialize(SeqAccessDeserializer::new(a)).map(OneOrMany::Many)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                a: A,
            ) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(a)).map(OneOrMany::One)
            }
        }
        d.deserialize_any(Visitor(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoutine {
    arguments: Option<Spanned<String>>,
    returns: Option<Spanned<String>>,
    language: Spanned<String>,
    body: Option<Spanned<String>>,
    /// A SQL-standard body (`RETURN expr`, `BEGIN ATOMIC ... END`), instead of `body`.
    sql_body: Option<Spanned<String>>,
    /// `LANGUAGE c`: the library file; `body` is then the link symbol.
    library: Option<Spanned<String>>,
    volatility: Option<Spanned<String>>,
    #[serde(default)]
    strict: bool,
    security: Option<Spanned<String>>,
    #[serde(default)]
    leakproof: bool,
    parallel: Option<Spanned<String>>,
    cost: Option<Spanned<f64>>,
    rows: Option<Spanned<f64>>,
    #[serde(default)]
    window: bool,
    #[serde(default)]
    set: indexmap::IndexMap<Spanned<String>, Spanned<String>>,
    comment: Option<String>,
    deprecated: Option<String>,
    #[serde(default)]
    pub(super) grants: super::grants::RawGrants,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawView {
    query: Spanned<String>,
    #[serde(default)]
    security_barrier: bool,
    #[serde(default)]
    security_invoker: bool,
    check_option: Option<Spanned<String>>,
    /// A materialized view's indexes.
    #[serde(default)]
    indexes: indexmap::IndexMap<Spanned<String>, Spanned<super::RawIndex>>,
    comment: Option<String>,
    deprecated: Option<String>,
    #[serde(default)]
    pub(super) grants: super::grants::RawGrants,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTrigger {
    timing: Spanned<String>,
    events: Spanned<Vec<String>>,
    #[serde(default)]
    columns: Vec<String>,
    for_each: Option<Spanned<String>>,
    when: Option<Spanned<String>>,
    function: Spanned<String>,
    #[serde(default)]
    arguments: Vec<String>,
    old_table: Option<String>,
    new_table: Option<String>,
    comment: Option<String>,
    deprecated: Option<String>,
}

/// The tokens of `sql` (PostgreSQL's dialect), white space and comments left
/// out; refused where sqlparser's tokens would not be PostgreSQL's (a `$` that
/// PostgreSQL reads otherwise: `expr::check_dollar_tokens`), so that what is
/// checked here is what the server reads.
fn tokens(sql: &str) -> Result<Vec<Token>, String> {
    let dialect = PostgreSqlDialect {};
    let all = Tokenizer::new(&dialect, sql)
        .tokenize()
        .map_err(|e| e.to_string())?;
    crate::desired::expr::check_dollar_tokens(all.iter())?;
    Ok(all
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect())
}

/// Check that `sql` stays inside its place in a statement: no `;` and
/// parentheses and brackets balanced (never closing what it did not open);
/// `stop` words are refused outside parentheses (the clauses that could
/// follow it in the statement). The tokens outside parentheses are returned.
fn contained(sql: &str, what: &str, stop: &[&str]) -> Result<Vec<Token>, String> {
    let toks = tokens(sql).map_err(|e| format!("bad {what} `{sql}`: {e}"))?;
    let mut depth = 0i32;
    let mut top = Vec::new();
    for t in toks {
        match &t {
            Token::SemiColon => {
                return Err(format!(
                    "bad {what} `{sql}`: `;` ends a statement; expected one {what}"
                ))
            }
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!("bad {what} `{sql}`: a `)` or `]` closes nothing"));
                }
            }
            Token::Word(w)
                if depth == 0
                    && w.quote_style.is_none()
                    && stop.contains(&w.value.to_ascii_lowercase().as_str()) =>
            {
                return Err(format!(
                    "bad {what} `{sql}`: `{}` does not belong in it (write it as its own key)",
                    w.value
                ))
            }
            _ => {}
        }
        if depth == 0 {
            top.push(t);
        }
    }
    if depth != 0 {
        return Err(format!("bad {what} `{sql}`: a `(` or `[` is never closed"));
    }
    Ok(top)
}

/// The clauses of CREATE FUNCTION that a return type must not write.
const ROUTINE_CLAUSES: &[&str] = &[
    "language",
    "as",
    "set",
    "cost",
    "rows",
    "support",
    "window",
    "immutable",
    "stable",
    "volatile",
    "strict",
    "called",
    "returns",
    "return",
    "security",
    "parallel",
    "leakproof",
    "external",
    "transform",
    "begin",
    "transform",
];

/// The input argument types of an argument list (`a integer, OUT b text,
/// c text DEFAULT 'x'` → `integer, text`), canonical where `types` knows the
/// type: the routine's identity. PostgreSQL's own reading replaces it when
/// the database has a routine of that name (`plan::canon`).
pub(crate) fn identity_args(arguments: &str) -> Result<String, String> {
    let toks = tokens(arguments)?;
    let mut args: Vec<Vec<Token>> = vec![Vec::new()];
    let mut depth = 0;
    for t in toks {
        match t {
            Token::Comma if depth == 0 => args.push(Vec::new()),
            t => {
                match t {
                    Token::LParen | Token::LBracket => depth += 1,
                    Token::RParen | Token::RBracket => depth -= 1,
                    _ => {}
                }
                args.last_mut().expect("one list").push(t);
            }
        }
    }
    let mut types_out = Vec::new();
    for mut arg in args {
        if arg.is_empty() {
            continue;
        }
        // The default: from DEFAULT or `=` on.
        if let Some(at) = arg.iter().position(|t| {
            matches!(t, Token::Eq) || matches!(t, Token::Word(w) if w.keyword == Keyword::DEFAULT && w.quote_style.is_none())
        }) {
            arg.truncate(at);
        }
        let mut out = false;
        let is_mode = |t: &Token| match t {
            Token::Word(w) if w.quote_style.is_none() => {
                matches!(
                    w.value.to_ascii_lowercase().as_str(),
                    "in" | "out" | "inout" | "variadic"
                )
            }
            _ => false,
        };
        // The mode may come first, or after the name.
        for pos in [0, 1] {
            if arg.len() > pos + 1 && is_mode(&arg[pos]) {
                if let Token::Word(w) = &arg[pos] {
                    out = w.value.eq_ignore_ascii_case("out");
                }
                arg.remove(pos);
                break;
            }
        }
        if out {
            continue;
        }
        let text = |ts: &[Token]| -> String {
            let mut s = String::new();
            for t in ts {
                let piece = t.to_string();
                let glue = matches!(
                    t,
                    Token::LParen
                        | Token::RParen
                        | Token::LBracket
                        | Token::RBracket
                        | Token::Period
                        | Token::Comma
                ) || s.ends_with(['(', '[', '.']);
                if !s.is_empty() && !glue {
                    s.push(' ');
                }
                s.push_str(&piece);
            }
            s
        };
        let whole = text(&arg);
        let ty = match types::parse_type(&whole) {
            Ok(p) if !(arg.len() > 1 && p.user_type.is_some()) => p.canonical,
            _ if arg.len() > 1 => {
                let rest = text(&arg[1..]);
                types::parse_type(&rest).map_or(rest, |p| p.canonical)
            }
            _ => whole,
        };
        // PostgreSQL keeps no modifier in a routine's argument types
        // (`oidvectortypes`: `character varying`, `numeric`).
        types_out.push(without_modifiers(&ty));
    }
    Ok(types_out.join(", "))
}

/// A SQL-standard body, checked to be one: `RETURN` and one expression, or
/// `BEGIN ATOMIC`, statements, and the `END` that closes it as its last word
/// (BEGIN and CASE open what END closes), with no `;` outside it. What
/// follows could otherwise be read as another statement, or as more clauses.
pub(crate) fn standard_body(sql: &str) -> Result<String, String> {
    let text = sql.trim().trim_end_matches(';').trim_end();
    let expected = || {
        format!(
            "bad sql_body `{text}`: expected `RETURN expression` or `BEGIN ATOMIC statements; END`"
        )
    };
    let toks = tokens(text).map_err(|e| format!("bad sql_body `{text}`: {e}"))?;
    let word = |t: &Token| match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    };
    match toks.first().and_then(word).as_deref() {
        Some("RETURN") => {
            let rest = text[text.find(char::is_whitespace).unwrap_or(text.len())..].trim();
            crate::desired::expr::parse_one(rest).map_err(|m| format!("{}: {m}", expected()))?;
            Ok(text.to_string())
        }
        Some("BEGIN") if toks.get(1).and_then(word).as_deref() == Some("ATOMIC") => {
            let (mut depth, mut parens) = (0i32, 0i32);
            for (i, t) in toks.iter().enumerate() {
                match (word(t).as_deref(), t) {
                    (Some("BEGIN" | "CASE"), _) => depth += 1,
                    (Some("END"), _) => {
                        depth -= 1;
                        if depth == 0 && i != toks.len() - 1 {
                            return Err(format!("{}: text after its END", expected()));
                        }
                    }
                    (_, Token::LParen) => parens += 1,
                    (_, Token::RParen) => parens -= 1,
                    (_, Token::SemiColon) if depth <= 0 || parens != 0 => return Err(expected()),
                    _ => {}
                }
                if parens < 0 || depth < 0 {
                    return Err(expected());
                }
            }
            if depth != 0 || parens != 0 {
                return Err(format!("{}: it is never closed", expected()));
            }
            Ok(text.to_string())
        }
        _ => Err(expected()),
    }
}

/// A type without its modifiers: `numeric(10,2)` → `numeric`,
/// `timestamp(3) with time zone[]` → `timestamp with time zone[]`.
fn without_modifiers(ty: &str) -> String {
    let mut out = String::with_capacity(ty.len());
    let mut depth = 0;
    for c in ty.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" [", "[")
}

fn word_of<'a>(
    errors: &mut Errors,
    src: &Source,
    v: &'a Option<Spanned<String>>,
    what: &str,
    allowed: &[&'a str],
    default: &'a str,
) -> String {
    match v {
        None => default.to_string(),
        Some(s) => {
            let norm = s
                .get_ref()
                .split_whitespace()
                .map(str::to_ascii_lowercase)
                .collect::<Vec<_>>()
                .join(" ");
            if allowed.contains(&norm.as_str()) {
                norm
            } else {
                errors.at(
                    &src.origin(s.span()),
                    format!(
                        "bad {what} `{}`: expected one of {}",
                        s.get_ref(),
                        allowed.join(", ")
                    ),
                );
                default.to_string()
            }
        }
    }
}

pub(super) fn build_routine(
    src: &Source,
    name: QualName,
    origin: Origin,
    raw: &RawRoutine,
    procedure: bool,
    errors: &mut Errors,
) -> Option<Routine> {
    let what = if procedure { "procedure" } else { "function" };
    let before = errors.0.len();
    let arguments = raw
        .arguments
        .as_ref()
        .map(|a| {
            contained(a.get_ref(), "argument list", &[])
                .map_err(|m| errors.at(&src.origin(a.span()), m))
                .ok();
            a.get_ref().trim().to_string()
        })
        .unwrap_or_default();
    let args = identity_args(&arguments)
        .map_err(|m| errors.at(&origin, format!("{what} `{name}`: bad arguments: {m}")))
        .unwrap_or_default();
    let returns = match (&raw.returns, procedure) {
        (Some(r), true) => {
            errors.at(
                &src.origin(r.span()),
                "a procedure returns nothing: expected no `returns` (use OUT or INOUT arguments)",
            );
            None
        }
        (Some(r), false) => {
            if let Err(m) = contained(r.get_ref(), "return type", ROUTINE_CLAUSES) {
                errors.at(&src.origin(r.span()), m);
            }
            Some(r.get_ref().split_whitespace().collect::<Vec<_>>().join(" "))
        }
        (None, true) => None,
        (None, false) => {
            errors.at(&origin, format!("function `{name}`: missing key `returns` (a type, `SETOF type`, `TABLE(...)`, `trigger` or `void`)"));
            None
        }
    };
    let language = raw.language.get_ref().to_ascii_lowercase();
    if language.is_empty()
        || !language
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        errors.at(
            &src.origin(raw.language.span()),
            format!(
                "bad language `{}`: expected a name such as sql, plpgsql or c",
                raw.language.get_ref()
            ),
        );
    }
    let (body, sql_body) = match (&raw.body, &raw.sql_body) {
        (Some(b), None) => (b.get_ref().clone(), false),
        (None, Some(b)) => match standard_body(b.get_ref()) {
            Ok(text) => (text, true),
            Err(m) => {
                errors.at(&src.origin(b.span()), m);
                (String::new(), true)
            }
        },
        (Some(_), Some(b)) => {
            errors.at(
                &src.origin(b.span()),
                format!("{what} `{name}`: `body` or `sql_body`, not both"),
            );
            (String::new(), false)
        }
        (None, None) => {
            errors.at(
                &origin,
                format!("{what} `{name}`: missing key `body` (or `sql_body` for `RETURN ...` / `BEGIN ATOMIC ... END`)"),
            );
            (String::new(), false)
        }
    };
    if sql_body && language != "sql" {
        errors.at(
            &origin,
            format!("{what} `{name}`: `sql_body` is for LANGUAGE sql"),
        );
    }
    if raw.library.is_some() && language != "c" {
        errors.at(
            &origin,
            format!("{what} `{name}`: `library` is for LANGUAGE c only"),
        );
    }
    let volatility = word_of(
        errors,
        src,
        &raw.volatility,
        "volatility",
        &["volatile", "stable", "immutable"],
        "volatile",
    );
    let security = word_of(
        errors,
        src,
        &raw.security,
        "security",
        &["invoker", "definer"],
        "invoker",
    );
    let parallel = word_of(
        errors,
        src,
        &raw.parallel,
        "parallel",
        &["unsafe", "restricted", "safe"],
        "unsafe",
    );
    let number = |errors: &mut Errors, v: &Option<Spanned<f64>>, what: &str| {
        v.as_ref().and_then(|n| {
            let x = *n.get_ref();
            if x.is_finite() && x > 0.0 {
                Some(if x.fract() == 0.0 {
                    format!("{x:.0}")
                } else {
                    format!("{x}")
                })
            } else {
                errors.at(
                    &src.origin(n.span()),
                    format!("bad {what}: expected a positive number"),
                );
                None
            }
        })
    };
    let default_cost = if matches!(language.as_str(), "c" | "internal") {
        "1"
    } else {
        "100"
    };
    let cost = number(errors, &raw.cost, "cost").filter(|c| c != default_cost);
    let rows = number(errors, &raw.rows, "rows").filter(|r| r != "1000");
    let mut settings = Vec::new();
    for (k, v) in &raw.set {
        let key = k.get_ref().to_ascii_lowercase();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            errors.at(
                &src.origin(k.span()),
                format!("bad setting name `{}`", k.get_ref()),
            );
            continue;
        }
        settings.push((key, v.get_ref().clone()));
    }
    if errors.0.len() > before {
        return None;
    }
    Some(Routine {
        id: RoutineId { name, args },
        procedure,
        arguments,
        returns,
        language,
        body,
        sql_body,
        library: raw.library.as_ref().map(|l| l.get_ref().clone()),
        volatility,
        strict: raw.strict,
        security_definer: security == "definer",
        leakproof: raw.leakproof,
        parallel,
        cost,
        rows,
        window: raw.window,
        settings,
        comment: raw.comment.clone(),
        deprecated: raw.deprecated.clone(),
        origin: Some(origin),
    })
}

/// A view's query: one query (SELECT, VALUES, WITH ..., TABLE), checked by
/// sqlparser where it can read it and by its tokens where it cannot (no
/// `;` but a last one, which is dropped).
pub(crate) fn view_query(sql: &str) -> Result<String, String> {
    let q = sql.trim().trim_end_matches(';').trim_end();
    if q.is_empty() {
        return Err("empty query".into());
    }
    let top = contained(q, "query", &[])?;
    let first = top.first().cloned();
    let starts_a_query = match &first {
        Some(Token::LParen) => true,
        Some(Token::Word(Word {
            keyword,
            quote_style: None,
            ..
        })) => matches!(
            keyword,
            Keyword::SELECT | Keyword::WITH | Keyword::VALUES | Keyword::TABLE
        ),
        _ => false,
    };
    if !starts_a_query {
        return Err(format!(
            "bad query `{q}`: expected a SELECT, VALUES, WITH or TABLE query"
        ));
    }
    Ok(q.to_string())
}

pub(super) fn build_view(
    src: &Source,
    name: QualName,
    origin: Origin,
    raw: &RawView,
    materialized: bool,
    errors: &mut Errors,
) -> Option<View> {
    let query = match view_query(raw.query.get_ref()) {
        Ok(q) => q,
        Err(m) => {
            errors.at(&src.origin(raw.query.span()), m);
            return None;
        }
    };
    let check_option = match &raw.check_option {
        None => None,
        Some(c) => match c.get_ref().to_ascii_lowercase().as_str() {
            "local" => Some(CheckOption::Local),
            "cascaded" => Some(CheckOption::Cascaded),
            _ => {
                errors.at(
                    &src.origin(c.span()),
                    format!(
                        "bad check_option `{}`: expected local or cascaded",
                        c.get_ref()
                    ),
                );
                None
            }
        },
    };
    if !materialized && !raw.indexes.is_empty() {
        errors.at(
            &origin,
            format!("view `{name}`: only a materialized view has indexes"),
        );
    }
    let indexes = raw
        .indexes
        .iter()
        .map(|(k, i)| super::build_index(src, k, i, None, errors))
        .collect();
    if materialized && (raw.security_barrier || raw.security_invoker || check_option.is_some()) {
        errors.at(&origin, format!("materialized view `{name}`: security_barrier, security_invoker and check_option are for views"));
    }
    Some(View {
        name,
        materialized,
        query,
        columns: Vec::new(),
        security_barrier: raw.security_barrier,
        security_invoker: raw.security_invoker,
        check_option,
        indexes,
        uses: Vec::new(),
        comment: raw.comment.clone(),
        deprecated: raw.deprecated.clone(),
        origin: Some(origin),
    })
}

pub(super) fn build_trigger(
    src: &Source,
    table: &QualName,
    name: String,
    origin: Origin,
    raw: &RawTrigger,
    errors: &mut Errors,
) -> Option<Trigger> {
    let before = errors.0.len();
    let timing = Timing::parse(raw.timing.get_ref()).unwrap_or_else(|| {
        errors.at(
            &src.origin(raw.timing.span()),
            format!(
                "bad timing `{}`: expected before, after or instead of",
                raw.timing.get_ref()
            ),
        );
        Timing::After
    });
    let mut events = Vec::new();
    for e in raw.events.get_ref() {
        let e = e.trim().to_ascii_lowercase();
        if !crate::model::code::TRIGGER_EVENTS.contains(&e.as_str()) {
            errors.at(
                &src.origin(raw.events.span()),
                format!("bad event `{e}`: expected insert, update, delete or truncate"),
            );
        } else if !events.contains(&e) {
            events.push(e);
        }
    }
    if events.is_empty() {
        errors.at(
            &src.origin(raw.events.span()),
            format!("trigger `{name}` on `{table}`: expected at least one event"),
        );
    }
    events.sort_by_key(|e| {
        crate::model::code::TRIGGER_EVENTS
            .iter()
            .position(|x| x == e)
    });
    if !raw.columns.is_empty() && !events.iter().any(|e| e == "update") {
        errors.at(
            &origin,
            format!("trigger `{name}`: `columns` needs the update event (UPDATE OF columns)"),
        );
    }
    let for_each_row = match &raw.for_each {
        None => false,
        Some(f) => match f.get_ref().to_ascii_lowercase().as_str() {
            "row" => true,
            "statement" => false,
            _ => {
                errors.at(
                    &src.origin(f.span()),
                    format!("bad for_each `{}`: expected row or statement", f.get_ref()),
                );
                false
            }
        },
    };
    let when = raw
        .when
        .as_ref()
        .and_then(|w| parse_expr_at(errors, src, w, "WHEN condition"));
    let function = super::qualified(raw.function.get_ref().trim_end_matches("()"))
        .map_err(|m| errors.at(&src.origin(raw.function.span()), m))
        .ok();
    if errors.0.len() > before {
        return None;
    }
    Some(Trigger {
        name,
        timing,
        events,
        columns: raw.columns.clone(),
        for_each_row,
        when,
        function: function?,
        arguments: raw.arguments.clone(),
        old_table: raw.old_table.clone(),
        new_table: raw.new_table.clone(),
        comment: raw.comment.clone(),
        deprecated: raw.deprecated.clone(),
        origin: Some(origin),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_args_keep_input_types_only() {
        assert_eq!(identity_args("").unwrap(), "");
        assert_eq!(identity_args("a int, b text").unwrap(), "integer, text");
        assert_eq!(
            identity_args("a integer, OUT b text, c varchar(3) DEFAULT 'x'").unwrap(),
            "integer, character varying"
        );
        assert_eq!(
            identity_args("double precision, text[]").unwrap(),
            "double precision, text[]"
        );
        assert_eq!(identity_args("VARIADIC xs int[]").unwrap(), "integer[]");
        assert_eq!(
            identity_args("a numeric(10,2), b timestamp(3) with time zone[]").unwrap(),
            "numeric, timestamp with time zone[]"
        );
        assert_eq!(identity_args("x INOUT int4").unwrap(), "integer");
        assert_eq!(
            identity_args("t timestamp with time zone = now()").unwrap(),
            "timestamp with time zone"
        );
    }

    #[test]
    fn sql_that_would_leave_its_place_is_refused() {
        assert!(contained(
            "a int) RETURNS int AS 'x'; DROP TABLE t; --",
            "argument list",
            &[]
        )
        .is_err());
        assert!(contained(
            "integer LANGUAGE c AS '/tmp/x.so'",
            "return type",
            ROUTINE_CLAUSES
        )
        .is_err());
        assert!(contained("TABLE(a integer, b text)", "return type", ROUTINE_CLAUSES).is_ok());
        assert!(contained("SETOF \"language\"", "return type", ROUTINE_CLAUSES).is_ok());
        assert!(view_query("SELECT 1; DROP TABLE t").is_err());
        assert!(view_query("DELETE FROM t").is_err());
        assert!(view_query("SELECT a FROM t WHERE b = ';';").is_ok());
        assert_eq!(view_query(" SELECT 1;\n").unwrap(), "SELECT 1");
        assert!(view_query("SELECT (1").is_err());
        assert!(standard_body("RETURN a + b").is_ok());
        assert!(
            standard_body("BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END").is_ok()
        );
        assert!(standard_body("BEGIN ATOMIC SELECT 1; END; DROP TABLE t").is_err());
        assert!(standard_body("RETURN 1; DROP TABLE t").is_err());
        assert!(standard_body("SELECT 1").is_err());
        assert!(standard_body("BEGIN ATOMIC SELECT 1;").is_err());
        // `$€$` is a dollar quote to PostgreSQL, not to sqlparser: refused.
        assert!(view_query("SELECT $€$'$€$; DROP TABLE users; --'").is_err());
        assert!(contained("x text DEFAULT $1$a$1$", "argument list", &[]).is_err());
    }
}
