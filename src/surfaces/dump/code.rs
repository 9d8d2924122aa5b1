//! `dump` of code objects: functions and procedures to `_functions.toml`,
//! views and materialized views to `_views.toml` (`<schema>/...` outside
//! public), triggers with their table. Bodies and queries as PostgreSQL
//! holds them (`prosrc`, `pg_get_viewdef`), in multi-line literal strings
//! where they can be written so.

use std::fmt::Write;

use super::{header, key, list, string};
use crate::model::{CheckOption, Routine, Table, View};

/// A TOML multi-line literal string (`'''` and a newline, which TOML drops,
/// then the text as is) when the text allows one; else a basic string.
pub(super) fn text_block(s: &str) -> String {
    let literal_ok = !s.contains("'''")
        && !s.ends_with('\'')
        && !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
    if literal_ok && s.contains('\n') {
        format!("'''\n{s}'''")
    } else {
        string(s)
    }
}

/// The `[functions.name]` / `[procedures.name]` section of a routine
/// (`[[...]]` when `overloaded`).
pub(super) fn write_routine(out: &mut String, r: &Routine, overloaded: bool) {
    let section = if r.procedure {
        "procedures"
    } else {
        "functions"
    };
    let h = header(section, &r.id.name, None);
    if overloaded {
        let _ = writeln!(out, "\n[{h}]");
    } else {
        let _ = writeln!(out, "\n{h}");
    }
    if !r.arguments.is_empty() {
        let _ = writeln!(out, "arguments = {}", string(&r.arguments));
    }
    if let Some(ret) = &r.returns {
        let _ = writeln!(out, "returns = {}", string(ret));
    }
    let _ = writeln!(out, "language = {}", string(&r.language));
    if r.volatility != "volatile" {
        let _ = writeln!(out, "volatility = {}", string(&r.volatility));
    }
    if r.strict {
        let _ = writeln!(out, "strict = true");
    }
    if r.security_definer {
        let _ = writeln!(out, "security = \"definer\"");
    }
    if r.leakproof {
        let _ = writeln!(out, "leakproof = true");
    }
    if r.parallel != "unsafe" {
        let _ = writeln!(out, "parallel = {}", string(&r.parallel));
    }
    if r.window {
        let _ = writeln!(out, "window = true");
    }
    for (k, v) in [("cost", &r.cost), ("rows", &r.rows)] {
        if let Some(v) = v {
            let _ = writeln!(out, "{k} = {v}");
        }
    }
    if !r.settings.is_empty() {
        let parts: Vec<String> = r
            .settings
            .iter()
            .map(|(k, v)| format!("{} = {}", key(k), string(v)))
            .collect();
        let _ = writeln!(out, "set = {{ {} }}", parts.join(", "));
    }
    if let Some(c) = &r.comment {
        let _ = writeln!(out, "comment = {}", string(c));
    }
    if let Some(l) = &r.library {
        let _ = writeln!(out, "library = {}", string(l));
    }
    let key = if r.sql_body { "sql_body" } else { "body" };
    let _ = writeln!(out, "{key} = {}", text_block(&r.body));
}

pub(super) fn write_view(out: &mut String, v: &View) {
    let section = if v.materialized {
        "materialized_views"
    } else {
        "views"
    };
    let _ = writeln!(out, "\n{}", header(section, &v.name, None));
    if v.security_barrier {
        let _ = writeln!(out, "security_barrier = true");
    }
    if v.security_invoker {
        let _ = writeln!(out, "security_invoker = true");
    }
    if let Some(c) = v.check_option {
        let word = match c {
            CheckOption::Local => "local",
            CheckOption::Cascaded => "cascaded",
        };
        let _ = writeln!(out, "check_option = \"{word}\"");
    }
    if let Some(c) = &v.comment {
        let _ = writeln!(out, "comment = {}", string(c));
    }
    let _ = writeln!(out, "query = {}", text_block(v.query_body()));
    if !v.indexes.is_empty() {
        let _ = writeln!(out, "\n{}", header(section, &v.name, Some("indexes")));
        for i in &v.indexes {
            let _ = writeln!(out, "{} = {}", key(&i.name), super::index_fields(i));
        }
    }
}

/// The `[tables.t.triggers.name]` sections of a table.
pub(super) fn write_triggers(out: &mut String, t: &Table) {
    for tr in &t.triggers {
        let _ = writeln!(
            out,
            "\n{}",
            header(
                "tables",
                &t.name,
                Some(&format!("triggers.{}", key(&tr.name)))
            )
        );
        let _ = writeln!(out, "timing = \"{}\"", tr.timing.word());
        let _ = writeln!(out, "events = {}", list(&tr.events));
        if !tr.columns.is_empty() {
            let _ = writeln!(out, "columns = {}", list(&tr.columns));
        }
        let _ = writeln!(
            out,
            "for_each = \"{}\"",
            if tr.for_each_row { "row" } else { "statement" }
        );
        if let Some(w) = &tr.when {
            let _ = writeln!(out, "when = {}", string(&w.sql));
        }
        let _ = writeln!(out, "function = {}", string(&tr.function.key()));
        if !tr.arguments.is_empty() {
            let _ = writeln!(out, "arguments = {}", list(&tr.arguments));
        }
        for (k, v) in [("old_table", &tr.old_table), ("new_table", &tr.new_table)] {
            if let Some(v) = v {
                let _ = writeln!(out, "{k} = {}", string(v));
            }
        }
        if let Some(c) = &tr.comment {
            let _ = writeln!(out, "comment = {}", string(c));
        }
    }
}
