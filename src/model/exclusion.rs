//! Exclusion constraints (`[tables.t.exclusions.name]`, README "Exclusion
//! constraints"): `EXCLUDE USING gist (room WITH =, during WITH &&)`. No two
//! rows may have every element compare true with its operator. PostgreSQL
//! backs one with an index of the constraint's name (built under ACCESS
//! EXCLUSIVE when added to an existing table; it cannot be added `NOT VALID`).
//!
//! Compared by PostgreSQL's own printing: the database's side is
//! `pg_get_constraintdef(oid, true)`; the files' side is their definition as
//! written until `plan::canon::exclusion` replaces it by the printing of a
//! probe. Pure: no I/O.

use crate::model::names::quote_ident;
use crate::model::{include_sql, Expr, IndexKey, Origin};

/// One element: an index element and the operator its values are compared
/// with (`during WITH &&`).
#[derive(Clone, Debug, PartialEq)]
pub struct ExclusionElement {
    pub key: IndexKey,
    /// As PostgreSQL reads it: `&&`, `=`, or `OPERATOR(schema.op)`.
    pub operator: String,
}

/// An exclusion constraint of a table.
#[derive(Clone, Debug)]
pub struct Exclusion {
    pub name: String,
    /// The index method (`gist` by default, as PostgreSQL's `EXCLUDE (...)`
    /// would use btree: the files say `using` when they want another).
    pub method: String,
    pub elements: Vec<ExclusionElement>,
    /// `INCLUDE (...)` columns of its index.
    pub include: Vec<String>,
    /// `WHERE (predicate)`: a partial exclusion constraint.
    pub predicate: Option<Expr>,
    pub deferrable: bool,
    pub initially_deferred: bool,
    /// The definition as compared: the database's printing
    /// (`pg_get_constraintdef(oid, true)`), or the files' `definition()`
    /// until a probe prints it (`plan::canon::exclusion`).
    pub key: String,
    /// Why it is on its way out (a two-step removal); the files only.
    pub deprecated: Option<String>,
    pub origin: Option<Origin>,
}

impl Exclusion {
    /// `EXCLUDE USING m (e WITH op, ...)[ INCLUDE (...)][ WHERE (p)][ DEFERRABLE[ INITIALLY DEFERRED]]`,
    /// as ALTER TABLE ... ADD CONSTRAINT and CREATE TABLE accept it.
    pub fn definition(&self) -> String {
        let elements: Vec<String> = self
            .elements
            .iter()
            .map(|e| format!("{} WITH {}", e.key.sql(false), e.operator))
            .collect();
        let mut s = format!(
            "EXCLUDE USING {} ({})",
            quote_ident(&self.method),
            elements.join(", ")
        );
        s.push_str(&include_sql(&self.include));
        if let Some(p) = &self.predicate {
            s.push_str(&format!(" WHERE ({})", p.sql));
        }
        if self.deferrable {
            s.push_str(" DEFERRABLE");
            if self.initially_deferred {
                s.push_str(" INITIALLY DEFERRED");
            }
        }
        s
    }

    /// Read PostgreSQL's printing (`pg_get_constraintdef(oid, true)` of a
    /// constraint of contype `x`) back into its parts, for `dump`; `key` is
    /// the printing itself. `None` for a form this does not know (storage
    /// parameters of its index, `USING INDEX TABLESPACE`): such a constraint
    /// stays listed as unmanaged.
    pub fn from_catalog(name: &str, def: &str) -> Option<Exclusion> {
        let rest = def.strip_prefix("EXCLUDE USING ")?;
        let open = rest.find('(')?;
        let method = unquote(rest[..open].trim());
        let close = matching(rest, open)?;
        let elements = split_top(&rest[open + 1..close], ',')
            .iter()
            .map(|e| element_from_catalog(e.trim()))
            .collect::<Option<Vec<_>>>()?;
        let mut tail = rest[close + 1..].trim_start();
        let mut include = Vec::new();
        if let Some(t) = tail.strip_prefix("INCLUDE (") {
            let close = matching(tail, "INCLUDE ".len())?;
            include = split_top(&t[..close - "INCLUDE (".len()], ',')
                .iter()
                .map(|c| unquote(c.trim()))
                .collect();
            tail = tail[close + 1..].trim_start();
        }
        let mut predicate = None;
        if let Some(t) = tail.strip_prefix("WHERE (") {
            let close = matching(tail, "WHERE ".len())?;
            predicate = Some(crate::desired::expr::from_catalog(
                &t[..close - "WHERE (".len()],
            ));
            tail = tail[close + 1..].trim_start();
        }
        let (deferrable, initially_deferred) = match tail {
            "" => (false, false),
            "DEFERRABLE" => (true, false),
            "DEFERRABLE INITIALLY DEFERRED" => (true, true),
            _ => return None,
        };
        Some(Exclusion {
            name: name.to_string(),
            method,
            elements,
            include,
            predicate,
            deferrable,
            initially_deferred,
            key: def.to_string(),
            deprecated: None,
            origin: None,
        })
    }
}

/// `(room + 1) WITH =`, `room gist_int4_ops DESC WITH =`: the last
/// top-level `WITH` splits the element from its operator.
fn element_from_catalog(e: &str) -> Option<ExclusionElement> {
    let at = with_position(e)?;
    let (left, op) = (e[..at].trim(), e[at + 4..].trim());
    let key = crate::desired::load::parse_index_element(left).ok()?;
    Some(ExclusionElement {
        key,
        operator: op.to_string(),
    })
}

/// Where the last `WITH` (any case, a word of its own) outside quotes and
/// parentheses starts in `s`.
pub fn with_position(s: &str) -> Option<usize> {
    let mut found = None;
    scan(s, |i, depth| {
        if depth == 0
            && s[i..].len() >= 4
            && s[i..i + 4].eq_ignore_ascii_case("with")
            && (i == 0 || s[..i].ends_with(|c: char| c.is_whitespace() || c == ')'))
            && s[i + 4..].starts_with(|c: char| c.is_whitespace() || c == '(')
        {
            found = Some(i);
        }
    });
    found
}

/// Call `f(byte offset, depth)` at each character of `s` outside quotes
/// (`'...'` with `''`, `"..."` with `""`), with its parenthesis depth.
fn scan(s: &str, mut f: impl FnMut(usize, i32)) {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match quote {
            // A doubled quote leaves and re-enters at once.
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => f(i, depth),
            },
        }
    }
}

/// The `)` closing the `(` at byte `open` of `s`.
fn matching(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (i, c) in s[open..].char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(open + i);
                    }
                }
                _ => {}
            },
        }
    }
    None
}

/// `s` cut at each top-level `sep` (outside quotes and parentheses).
fn split_top(s: &str, sep: char) -> Vec<&str> {
    let mut cuts = Vec::new();
    scan(s, |i, depth| {
        if depth == 0 && s[i..].starts_with(sep) {
            cuts.push(i);
        }
    });
    let mut parts = Vec::new();
    let mut from = 0;
    for c in cuts {
        parts.push(&s[from..c]);
        from = c + sep.len_utf8();
    }
    parts.push(&s[from..]);
    parts
}

/// An identifier as PostgreSQL prints it, its quotes taken off.
fn unquote(s: &str) -> String {
    match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_postgres_printing_back() {
        let def = "EXCLUDE USING gist (room WITH =, during WITH &&) INCLUDE (a, \"B c\") WHERE (a > 0 AND n IS NOT NULL) DEFERRABLE INITIALLY DEFERRED";
        let e = Exclusion::from_catalog("x", def).unwrap();
        assert_eq!(e.method, "gist");
        assert_eq!(e.elements.len(), 2);
        assert_eq!(e.elements[1].operator, "&&");
        assert_eq!(e.include, vec!["a".to_string(), "B c".to_string()]);
        assert_eq!(e.predicate.as_ref().unwrap().sql, "a > 0 AND n IS NOT NULL");
        assert!(e.deferrable && e.initially_deferred);
        assert_eq!(e.definition(), def);
        let e = Exclusion::from_catalog(
            "y",
            "EXCLUDE USING gist ((room + 1) WITH =, lower(n) WITH OPERATOR(public.===), \"With\" WITH <>)",
        )
        .unwrap();
        assert_eq!(e.elements[1].operator, "OPERATOR(public.===)");
        assert_eq!(e.elements[2].operator, "<>");
        assert!(Exclusion::from_catalog(
            "z",
            "EXCLUDE USING gist (a WITH =) WITH (fillfactor='70')"
        )
        .is_none());
    }

    #[test]
    fn with_is_found_outside_quotes_and_parentheses() {
        assert_eq!(with_position("\"a with b\" WITH ="), Some(11));
        assert_eq!(with_position("(f(x) WITH y) WITH &&"), Some(14));
        assert_eq!(with_position("withdrawn"), None);
    }
}
