//! Identifier quoting and PostgreSQL's rules for implicit names.

/// PostgreSQL's NAMEDATALEN - 1: the longest identifier, in bytes.
pub const MAX_IDENT_BYTES: usize = 63;

/// Keywords that `quote_ident` quotes (every category but "unreserved").
const KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// Quote an identifier the way PostgreSQL's `quote_ident` does: bare when it is
/// lower case, starts with a letter or underscore and is no keyword.
pub fn quote_ident(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
        && !KEYWORDS.contains(&name);
    if bare {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

pub fn quote_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| quote_ident(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A SQL string literal for a statement we send, meaning the same under
/// every session setting: with a backslash in it, an escape string
/// (`E'a\\b'`, backslashes doubled), which `standard_conforming_strings`
/// does not change; otherwise a plain one (`'it''s'`), which means the same
/// whether that setting is on or off. PostgreSQL: "String Constants with
/// C-Style Escapes" (§4.1.2.2).
pub fn quote_literal(s: &str) -> String {
    if s.contains('\\') {
        format!("E'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
    } else {
        printed_literal(s)
    }
}

/// `text` dollar-quoted (`$base$text$base$`), the tag lengthened with `_`
/// until the text neither holds it nor ends with the start of it (`...$base`
/// would close the string early). PostgreSQL: "Dollar-Quoted String
/// Constants" (§4.1.2.4). `base` is letters, digits and `_`.
pub fn dollar_quote(text: &str, base: &str) -> String {
    let mut tag = format!("${base}$");
    while format!("{text}{tag}").find(&tag) != Some(text.len()) {
        tag.insert(tag.len() - 1, '_');
    }
    format!("{tag}{text}{tag}")
}

/// A string literal as PostgreSQL prints one (`pg_get_expr`, `quote_literal`
/// with `standard_conforming_strings = on`): quotes doubled, backslashes
/// as they are. For comparison keys and messages, not for SQL we send.
pub fn printed_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Clip a string to at most `max` bytes on a character boundary (pg_mbcliplen).
fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// PostgreSQL's `makeObjectName(name1, name2, label)`: joins the parts with `_`,
/// shortening the longer of name1/name2 until the result fits in 63 bytes.
pub fn make_object_name(name1: &str, name2: Option<&str>, label: Option<&str>) -> String {
    let mut overhead = 0;
    if let Some(l) = label {
        overhead += l.len() + 1;
    }
    if name2.is_some() {
        overhead += 1;
    }
    let avail = MAX_IDENT_BYTES - overhead;
    let mut n1 = name1.len();
    let mut n2 = name2.map_or(0, str::len);
    while n1 + n2 > avail {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let mut out = clip(name1, n1).to_string();
    if let Some(n) = name2 {
        out.push('_');
        out.push_str(clip(n, n2));
    }
    if let Some(l) = label {
        out.push('_');
        out.push_str(l);
    }
    out
}

/// The "name2" that PostgreSQL derives from a list of columns
/// (ChooseForeignKeyConstraintNameAddition / ChooseIndexNameAddition): the names
/// joined by `_`, cut at NAMEDATALEN.
pub fn column_addition(columns: &[String]) -> String {
    let mut buf = String::new();
    for c in columns {
        if !buf.is_empty() {
            buf.push('_');
        }
        buf.push_str(c);
        if buf.len() >= MAX_IDENT_BYTES {
            break;
        }
    }
    clip(&buf, MAX_IDENT_BYTES).to_string()
}

pub fn pkey_name(table: &str) -> String {
    make_object_name(table, None, Some("pkey"))
}

pub fn unique_name(table: &str, columns: &[String]) -> String {
    make_object_name(table, Some(&column_addition(columns)), Some("key"))
}

pub fn fkey_name(table: &str, columns: &[String]) -> String {
    make_object_name(table, Some(&column_addition(columns)), Some("fkey"))
}

pub fn check_name(table: &str, column: Option<&str>) -> String {
    make_object_name(table, column, Some("check"))
}

/// An implicit name as PostgreSQL chooses it (ChooseConstraintName,
/// ChooseRelationName): `make_object_name`, and while that name is taken
/// (in `used`), the label numbered: `t_a_check`, then `t_a_check1`,
/// `t_a_check2`... The name chosen is added to `used`.
pub fn choose(
    name1: &str,
    name2: Option<&str>,
    label: &str,
    used: &mut std::collections::HashSet<String>,
) -> String {
    let mut name = make_object_name(name1, name2, Some(label));
    let mut pass = 0;
    while used.contains(&name) {
        pass += 1;
        name = make_object_name(name1, name2, Some(&format!("{label}{pass}")));
    }
    used.insert(name.clone());
    name
}

pub fn sequence_name(table: &str, column: &str) -> String {
    make_object_name(table, Some(column), Some("seq"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_implicit_name_gets_its_label_numbered() {
        let mut used = std::collections::HashSet::new();
        assert_eq!(choose("t", Some("a"), "check", &mut used), "t_a_check");
        assert_eq!(choose("t", Some("a"), "check", &mut used), "t_a_check1");
        assert_eq!(choose("t", Some("a"), "check", &mut used), "t_a_check2");
        // Cut to 63 bytes with the numbered label, as PostgreSQL does.
        let long = "c".repeat(70);
        let first = choose("t", Some(&long), "key", &mut used);
        let second = choose("t", Some(&long), "key", &mut used);
        assert_eq!(first.len(), 63);
        assert_eq!(second.len(), 63);
        assert!(second.ends_with("c_key1"), "{second}");
    }

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote_ident("appointments"), "appointments");
        assert_eq!(quote_ident("AuditEvents"), "\"AuditEvents\"");
        assert_eq!(quote_ident("order"), "\"order\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident("1abc"), "\"1abc\"");
        assert_eq!(quote_ident("name"), "name");
    }

    #[test]
    fn implicit_names_follow_postgres() {
        assert_eq!(pkey_name("appointments"), "appointments_pkey");
        assert_eq!(unique_name("t", &["a".into(), "b".into()]), "t_a_b_key");
        assert_eq!(
            fkey_name("leads", &["tenant_id".into()]),
            "leads_tenant_id_fkey"
        );
        assert_eq!(
            check_name("calls", Some("duration")),
            "calls_duration_check"
        );
        assert_eq!(check_name("calls", None), "calls_check");
        // Both names longer than fits: the longer one is shortened first.
        let long_table = "t".repeat(40);
        let long_col = "c".repeat(40);
        let n = fkey_name(&long_table, std::slice::from_ref(&long_col));
        assert_eq!(n.len(), 63);
        assert_eq!(n, format!("{}_{}_fkey", "t".repeat(29), "c".repeat(28)));
    }
}
