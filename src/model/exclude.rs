//! `exclude`: schemas and tables that `plan`, `apply`, `dump`, `check` and
//! the admin endpoints never consider: neither planned, nor listed as
//! unmanaged, nor dumped (Drizzle's `drizzle.*`, a `public.schema_migrations`
//! of another tool). Patterns come from the files' top-level `exclude = [...]`
//! and from `--exclude PATTERN`.
//!
//! A pattern is `schema.table` or `table` (in `public`, as in the files).
//! In each part, `*` stands for any characters, none included; every other
//! character stands for itself, case included. A part in double quotes is
//! taken as written, dots and `*` included (`""` for a quote), as the files
//! quote a name that holds a dot: `public."v1.*"` is the one table `v1.*`,
//! `"my.schema".*` every table of schema `my.schema`.
//!
//! A pattern matches every named object of the catalog whose schema and name
//! it matches (tables, and the views, sequences, types and functions that
//! the catalog lists); what belongs to a matched table (columns, indexes,
//! constraints, triggers, policies, rules, settings, partitions, the sequences
//! it owns) goes with it. A pattern whose table part is `*` alone also
//! covers the schema itself and what belongs to it (its comment). Pure: no I/O.

use std::fmt;

use crate::model::Diagnostic;
use crate::model::{BelongsTo, Catalog, Origin, QualName};

/// One part of a pattern: each element a character, or `None` for `*`.
type Glob = Vec<Option<char>>;

/// An exclude pattern, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    /// As written.
    pub text: String,
    schema: Glob,
    name: Glob,
    /// Where the files write it; `None` for `--exclude`.
    pub origin: Option<Origin>,
}

impl Pattern {
    /// Parse `schema.table`, `table` (schema `public`), with `*` in either
    /// part and parts in double quotes taken as written. Errors (a sentence
    /// saying what was expected): an empty pattern or part, more than one dot
    /// outside quotes, an unterminated quote.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let expected = "expected `schema.table`, `table` (in public) or `schema.*`, \
                        with `*` for any characters and a name that holds a dot in double quotes \
                        (`public.\"v1.events\"`)";
        let mut parts: Vec<Glob> = vec![Vec::new()];
        let mut chars = text.chars().peekable();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            let part = parts.last_mut().expect("one part at least");
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    part.push(Some('"'));
                }
                (_, '"') => quoted = !quoted,
                (true, c) => part.push(Some(c)),
                (false, '.') => parts.push(Vec::new()),
                (false, '*') => part.push(None),
                (false, c) => part.push(Some(c)),
            }
        }
        if quoted {
            return Err(format!(
                "bad exclude pattern `{text}`: a double quote is not closed; {expected}"
            ));
        }
        if parts.iter().any(Vec::is_empty) {
            return Err(format!(
                "bad exclude pattern `{text}`: an empty name; {expected}"
            ));
        }
        let (schema, name) = match <[Glob; 1]>::try_from(parts) {
            Ok([name]) => ("public".chars().map(Some).collect(), name),
            Err(parts) => match <[Glob; 2]>::try_from(parts) {
                Ok([schema, name]) => (schema, name),
                Err(_) => {
                    return Err(format!(
                        "bad exclude pattern `{text}`: more than one dot outside double quotes; {expected}"
                    ))
                }
            },
        };
        Ok(Pattern {
            text: text.to_string(),
            schema,
            name,
            origin: None,
        })
    }

    /// Whether the object `name` (a table, view, sequence, type, function) is excluded.
    pub fn matches(&self, name: &QualName) -> bool {
        glob_matches(&self.schema, &name.schema) && glob_matches(&self.name, &name.name)
    }

    /// Whether the whole schema is excluded: the pattern's table part is `*` alone.
    pub fn covers_schema(&self, schema: &str) -> bool {
        self.name == [None] && glob_matches(&self.schema, schema)
    }
}

/// `drizzle.*` (at schema.toml:1:12), or `drizzle.*` (--exclude).
impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Some(o) => write!(f, "`{}` (at {o})", self.text),
            None => write!(f, "`{}` (--exclude)", self.text),
        }
    }
}

/// Whether `glob` (characters and `*`) matches all of `s`.
fn glob_matches(glob: &[Option<char>], s: &str) -> bool {
    let s: Vec<char> = s.chars().collect();
    let (mut g, mut i) = (0, 0);
    // The last `*` seen, and where in `s` it was tried to end.
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        match glob.get(g) {
            Some(Some(c)) if *c == s[i] => {
                g += 1;
                i += 1;
            }
            Some(None) => {
                star = Some((g, i));
                g += 1;
            }
            _ => match star {
                // The last `*` takes one more character.
                Some((sg, si)) => {
                    star = Some((sg, si + 1));
                    g = sg + 1;
                    i = si + 1;
                }
                None => return false,
            },
        }
    }
    glob[g..].iter().all(Option::is_none)
}

/// Whether any of `patterns` excludes the object `name`.
pub fn excluded(patterns: &[Pattern], name: &QualName) -> bool {
    patterns.iter().any(|p| p.matches(name))
}

/// Take out of `cat` everything `patterns` exclude: matched tables (and
/// with them their columns, indexes and constraints), enums, domains and
/// sequences, sequences owned by a matched table, wholly excluded schemas,
/// and the unmanaged objects that belong to any of these. Pure.
pub fn apply(patterns: &[Pattern], cat: &mut Catalog) {
    if patterns.is_empty() {
        return;
    }
    let out = |n: &QualName| excluded(patterns, n);
    let covered = |s: &str| patterns.iter().any(|p| p.covers_schema(s));
    cat.schemas.retain(|s| !covered(s));
    cat.tables.retain(|n, _| !out(n));
    // A partition that a pattern names goes with its own partitions.
    fn keep(parts: &mut Vec<crate::model::Partition>, out: &dyn Fn(&QualName) -> bool) {
        parts.retain(|p| !out(&p.name));
        for p in parts {
            keep(&mut p.partitions, out);
        }
    }
    for t in cat.tables.values_mut() {
        keep(&mut t.partitions, &out);
    }
    cat.enums.retain(|n, _| !out(n));
    cat.domains.retain(|n, _| !out(n));
    cat.composite_types.retain(|n, _| !out(n));
    cat.range_types.retain(|n, _| !out(n));
    cat.collations.retain(|n, _| !out(n));
    cat.ts_configs.retain(|n, _| !out(n));
    cat.routines.retain(|id, _| !out(&id.name));
    cat.views.retain(|n, _| !out(n));
    cat.sequences
        .retain(|n, s| !out(n) && !s.owned_by.as_ref().is_some_and(|(t, _)| out(t)));
    cat.unmanaged.retain(|u| match &u.belongs_to {
        Some(BelongsTo::Object(n)) => !out(n),
        Some(BelongsTo::Schema(s)) => !covered(s),
        None => true,
    });
}

/// The objects of the files (tables, enums, domains, sequences) that
/// `patterns` exclude: an object cannot be both managed and excluded. One
/// diagnostic each, at the object's file, line and column.
pub fn conflicts(files: &Catalog, patterns: &[Pattern]) -> Vec<Diagnostic> {
    let named = files
        .tables
        .values()
        .map(|t| ("table", &t.name, &t.origin))
        .chain(files.enums.values().map(|e| ("enum", &e.name, &e.origin)))
        .chain(
            files
                .domains
                .values()
                .map(|d| ("domain", &d.name, &d.origin)),
        )
        .chain(
            files
                .sequences
                .values()
                .map(|s| ("sequence", &s.name, &s.origin)),
        )
        .chain(
            files
                .composite_types
                .values()
                .map(|c| ("composite type", &c.name, &c.origin)),
        )
        .chain(
            files
                .range_types
                .values()
                .map(|r| ("range type", &r.name, &r.origin)),
        )
        .chain(
            files
                .collations
                .values()
                .map(|c| ("collation", &c.name, &c.origin)),
        )
        .chain(
            files
                .ts_configs
                .values()
                .map(|c| ("text search configuration", &c.name, &c.origin)),
        )
        .chain(files.views.values().map(|v| (v.kind(), &v.name, &v.origin)))
        .chain(
            files
                .routines
                .values()
                .map(|r| (r.kind(), &r.id.name, &r.origin)),
        )
        .chain(files.tables.values().flat_map(|t| {
            crate::model::partition::walk(&t.name, &t.partitions)
                .into_iter()
                .map(|(_, p)| ("partition", &p.name, &p.origin))
        }));
    let mut found = Vec::new();
    for (what, name, origin) in named {
        let (Some(o), Some(p)) = (origin, patterns.iter().find(|p| p.matches(name))) else {
            continue;
        };
        found.push(Diagnostic {
            file: o.file.to_string(),
            line: o.line,
            column: o.column,
            message: format!(
                "{what} `{name}` is defined in the schema files but excluded by {p}: \
                 expected a {what} that no exclude pattern matches, since what is excluded is never considered \
                 (remove it from the files, or narrow the pattern)"
            ),
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        Pattern::parse(s).unwrap()
    }
    fn q(s: &str, n: &str) -> QualName {
        QualName::new(s, n)
    }

    #[test]
    fn globs_match_each_part_and_unqualified_means_public() {
        assert!(p("drizzle.*").matches(&q("drizzle", "__drizzle_migrations")));
        assert!(!p("drizzle.*").matches(&q("public", "__drizzle_migrations")));
        assert!(p("schema_migrations").matches(&q("public", "schema_migrations")));
        assert!(!p("schema_migrations").matches(&q("app", "schema_migrations")));
        assert!(p("*.schema_migrations").matches(&q("app", "schema_migrations")));
        assert!(p("public.tmp_*").matches(&q("public", "tmp_")));
        assert!(p("public.tmp_*").matches(&q("public", "tmp_x_y")));
        assert!(!p("public.tmp_*").matches(&q("public", "Tmp_x")));
        assert!(p("a*b*c").matches(&q("public", "aXbYbc")));
        assert!(!p("a*b*c").matches(&q("public", "aXbYbcd")));
        assert!(p("*.*").matches(&q("x", "y")));
        assert!(p("app_*.log").matches(&q("app_eu", "log")));
        assert!(!p("app_*.log").matches(&q("app_eu", "logs")));
    }

    #[test]
    fn quoted_parts_are_taken_as_written() {
        assert!(p("public.\"v1.events\"").matches(&q("public", "v1.events")));
        assert!(p("\"v1.events\"").matches(&q("public", "v1.events")));
        assert!(p("\"my.schema\".*").matches(&q("my.schema", "t")));
        assert!(p("\"my.schema\".*").covers_schema("my.schema"));
        // A quoted `*` is the character.
        assert!(p("\"t*\"").matches(&q("public", "t*")));
        assert!(!p("\"t*\"").matches(&q("public", "tx")));
        assert!(p("\"a\"\"b\"").matches(&q("public", "a\"b")));
        // Quoted and not, in one part.
        assert!(p("\"v1.\"*").matches(&q("public", "v1.anything")));
    }

    #[test]
    fn only_a_lone_star_covers_the_schema() {
        assert!(p("drizzle.*").covers_schema("drizzle"));
        assert!(p("*.*").covers_schema("anything"));
        assert!(!p("drizzle.__*").covers_schema("drizzle"));
        assert!(!p("drizzle.x").covers_schema("drizzle"));
        assert!(!p("\"*\"").covers_schema("public"));
    }

    #[test]
    fn apply_takes_out_what_is_matched_and_what_belongs_to_it() {
        use crate::model::{Sequence, Table, UnmanagedObject};
        let mut cat = Catalog::default();
        for (s, n) in [
            ("drizzle", "__drizzle_migrations"),
            ("public", "schema_migrations"),
            ("public", "users"),
        ] {
            cat.tables.insert(q(s, n), Table::new(q(s, n)));
        }
        cat.schemas
            .extend(["drizzle".to_string(), "app".to_string()]);
        let seq = |name: &str, owner: Option<QualName>| Sequence {
            name: q("public", name),
            ty: None,
            options: Default::default(),
            owned_by: owner.map(|t| (t, "id".to_string())),
            comment: None,
            origin: None,
        };
        cat.sequences.insert(
            q("public", "sm_seq"),
            seq("sm_seq", Some(q("public", "schema_migrations"))),
        );
        cat.sequences
            .insert(q("public", "free_seq"), seq("free_seq", None));
        let u = |kind: &str, belongs_to: Option<BelongsTo>| UnmanagedObject {
            kind: kind.into(),
            name: kind.into(),
            belongs_to,
        };
        cat.unmanaged = vec![
            u(
                "trigger",
                Some(BelongsTo::Object(q("public", "schema_migrations"))),
            ),
            u("function", Some(BelongsTo::Object(q("drizzle", "touch")))),
            u(
                "comment on schema",
                Some(BelongsTo::Schema("drizzle".into())),
            ),
            u("comment on schema", Some(BelongsTo::Schema("app".into()))),
            u("view", Some(BelongsTo::Object(q("public", "users_v")))),
            u("extension version", None),
        ];
        apply(&[p("drizzle.*"), p("schema_migrations")], &mut cat);
        let tables: Vec<String> = cat.tables.keys().map(|n| n.to_string()).collect();
        assert_eq!(tables, ["users"]);
        assert_eq!(cat.schemas.iter().collect::<Vec<_>>(), ["app"]);
        let seqs: Vec<String> = cat.sequences.keys().map(|n| n.to_string()).collect();
        assert_eq!(seqs, ["free_seq"]);
        let kept: Vec<&str> = cat.unmanaged.iter().map(|u| u.kind.as_str()).collect();
        assert_eq!(kept, ["comment on schema", "view", "extension version"]);
        // No pattern: nothing changes.
        let before = cat.unmanaged.clone();
        apply(&[], &mut cat);
        assert_eq!(cat.unmanaged, before);
    }

    #[test]
    fn bad_patterns_say_what_was_expected() {
        for (bad, why) in [
            ("", "an empty name"),
            ("a.", "an empty name"),
            (".a", "an empty name"),
            ("\"\"", "an empty name"),
            ("a.b.c", "more than one dot outside double quotes"),
            ("\"a.b", "a double quote is not closed"),
        ] {
            let e = Pattern::parse(bad).unwrap_err();
            assert!(
                e.contains(why) && e.contains("expected `schema.table`"),
                "{bad}: {e}"
            );
        }
    }
}
