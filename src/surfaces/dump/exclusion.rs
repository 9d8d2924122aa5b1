//! Exclusion constraints as the files write them: a
//! `[tables.t.exclusions.name]` section each, after the table's foreign keys.
//! Elements and `where` as PostgreSQL prints them, so the files plan empty
//! against the database they came from; `using` only when not gist; comments
//! go with the table's `constraint_comments`.

use std::fmt::Write as _;

use super::{header, key, list, string};
use crate::model::Table;

/// The `[tables.t.exclusions.name]` sections of a table.
pub(super) fn write_exclusions(out: &mut String, t: &Table) {
    for x in &t.exclusions {
        let _ = writeln!(
            out,
            "\n{}",
            header(
                "tables",
                &t.name,
                Some(&format!("exclusions.{}", key(&x.name)))
            )
        );
        if x.method != "gist" {
            let _ = writeln!(out, "using = {}", string(&x.method));
        }
        let elements: Vec<String> = x
            .elements
            .iter()
            .map(|e| format!("{} WITH {}", e.key.sql(false), e.operator))
            .collect();
        let _ = writeln!(out, "elements = {}", list(&elements));
        if !x.include.is_empty() {
            let _ = writeln!(out, "include = {}", list(&x.include));
        }
        if let Some(p) = &x.predicate {
            let _ = writeln!(out, "where = {}", string(&p.sql));
        }
        if x.initially_deferred {
            let _ = writeln!(out, "initially_deferred = true");
        } else if x.deferrable {
            let _ = writeln!(out, "deferrable = true");
        }
    }
}
