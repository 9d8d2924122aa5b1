//! Row-level security policies as the files write them: a
//! `[tables.t.policies.name]` section each, after the table's triggers.
//! Expressions as PostgreSQL prints them, so the files plan empty against
//! the database they came from.

use std::fmt::Write as _;

use super::{header, key, list, string};
use crate::model::Table;

/// The `[tables.t.policies.name]` sections of a table: the keys that differ
/// from `CREATE POLICY`'s defaults (FOR ALL, AS PERMISSIVE, TO PUBLIC).
pub(super) fn write_policies(out: &mut String, t: &Table) {
    for p in &t.policies {
        let _ = writeln!(
            out,
            "\n{}",
            header(
                "tables",
                &t.name,
                Some(&format!("policies.{}", key(&p.name)))
            )
        );
        if p.command != "all" {
            let _ = writeln!(out, "command = \"{}\"", p.command);
        }
        if !p.permissive {
            let _ = writeln!(out, "permissive = false");
        }
        if p.roles != ["public"] {
            let _ = writeln!(out, "roles = {}", list(&p.roles));
        }
        if let Some(u) = &p.using {
            let _ = writeln!(out, "using = {}", string(&u.sql));
        }
        if let Some(w) = &p.with_check {
            let _ = writeln!(out, "with_check = {}", string(&w.sql));
        }
        if let Some(c) = &p.comment {
            let _ = writeln!(out, "comment = {}", string(c));
        }
    }
}
