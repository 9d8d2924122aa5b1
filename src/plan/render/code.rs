//! DDL of code objects: functions and procedures, views and materialized
//! views, triggers. Names go through `quote_ident`, values through
//! `quote_literal`, a body inside dollar quotes whose tag it does not hold.

use super::{comment_stmt, Statement};
use crate::model::code::LIST_SETTINGS;
use crate::model::names::{dollar_quote, quote_ident, quote_literal};
use crate::model::{QualName, Routine, View};
use crate::plan::diff::{Change, CommentTarget};

/// The elements of a list setting as PostgreSQL reads them back from
/// `proconfig` (`"$user", public` → `$user`, `public`): split at commas
/// outside double quotes, each unquoted (`""` → `"`), as pg_dump's `SplitGUCList`.
pub fn split_list_setting(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur).trim().to_string()),
            c => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out.retain(|s| !s.is_empty());
    out
}

/// `SET name TO 'value'` (a list setting: each element a literal).
pub fn setting_sql(name: &str, value: &str) -> String {
    let name_sql: Vec<String> = name.split('.').map(quote_ident).collect();
    let value_sql = if LIST_SETTINGS.contains(&name) {
        let items: Vec<String> = split_list_setting(value)
            .iter()
            .map(|v| quote_literal(v))
            .collect();
        if items.is_empty() {
            "''".to_string()
        } else {
            items.join(", ")
        }
    } else {
        quote_literal(value)
    };
    format!("SET {} TO {value_sql}", name_sql.join("."))
}

/// `CREATE [OR REPLACE] FUNCTION|PROCEDURE name(arguments) ...` for the
/// routine under the name `name_sql` (the routine's own, or a probe's).
pub fn routine_sql(r: &Routine, name_sql: &str, or_replace: bool) -> String {
    let mut s = format!(
        "CREATE {}{} {name_sql}({})",
        if or_replace { "OR REPLACE " } else { "" },
        r.kind().to_uppercase(),
        r.arguments
    );
    if let Some(ret) = &r.returns {
        s.push_str(&format!("\n RETURNS {ret}"));
    }
    s.push_str(&format!("\n LANGUAGE {}", quote_ident(&r.language)));
    if r.window {
        s.push_str(" WINDOW");
    }
    if !r.procedure {
        if r.volatility != "volatile" {
            s.push(' ');
            s.push_str(&r.volatility.to_uppercase());
        }
        if r.strict {
            s.push_str(" STRICT");
        }
        if r.leakproof {
            s.push_str(" LEAKPROOF");
        }
        if r.parallel != "unsafe" {
            s.push_str(&format!(" PARALLEL {}", r.parallel.to_uppercase()));
        }
        if let Some(c) = &r.cost {
            s.push_str(&format!(" COST {c}"));
        }
        if let Some(n) = &r.rows {
            s.push_str(&format!(" ROWS {n}"));
        }
    }
    if r.security_definer {
        s.push_str(" SECURITY DEFINER");
    }
    for (k, v) in &r.settings {
        s.push_str("\n ");
        s.push_str(&setting_sql(k, v));
    }
    match &r.library {
        Some(lib) => s.push_str(&format!(
            "\nAS {}, {}",
            quote_literal(lib),
            quote_literal(&r.body)
        )),
        None if r.sql_body => {
            s.push('\n');
            s.push_str(&r.body);
        }
        None => {
            s.push_str("\nAS ");
            s.push_str(&dollar_quote(&r.body, "function"));
        }
    }
    s
}

/// `CREATE [OR REPLACE] VIEW name WITH (...) AS query`, or `CREATE
/// MATERIALIZED VIEW name AS query` (with its data), under `name_sql`.
pub fn view_sql(v: &View, name_sql: &str, or_replace: bool) -> String {
    if v.materialized {
        return format!("CREATE MATERIALIZED VIEW {name_sql} AS\n{}", v.query_body());
    }
    format!(
        "CREATE {}VIEW {name_sql}{} AS\n{}",
        if or_replace { "OR REPLACE " } else { "" },
        v.options_sql(),
        v.query_body()
    )
}

/// The names of the tables and of the views that the plan creates.
fn new_relations(
    changes: &[&Change],
) -> (
    std::collections::HashSet<String>,
    std::collections::HashSet<String>,
) {
    let mut tables = std::collections::HashSet::new();
    let mut views = std::collections::HashSet::new();
    for c in changes {
        match c {
            Change::CreateTable { table } => {
                tables.insert(table.name.name.clone());
            }
            Change::CreateView { view } => {
                views.insert(view.name.name.clone());
            }
            _ => {}
        }
    }
    (tables, views)
}

/// The relations and functions a view's query names (the last part of each
/// name, as PostgreSQL folds it), read by sqlparser; where it cannot read the
/// query, every word of it (a column named like a view then orders too).
pub fn query_names(sql: &str) -> std::collections::HashSet<String> {
    use sqlparser::ast::{visit_expressions, visit_relations, Expr, ObjectName, ObjectNamePart};
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    let Ok(statements) = sqlparser::parser::Parser::parse_sql(&dialect, sql) else {
        return query_words(sql);
    };
    let mut out = std::collections::HashSet::new();
    let mut last = |n: &ObjectName| {
        if let Some(ObjectNamePart::Identifier(id)) = n.0.last() {
            out.insert(if id.quote_style.is_some() {
                id.value.clone()
            } else {
                id.value.to_lowercase()
            });
        }
    };
    for st in &statements {
        let _ = visit_relations(st, |r| {
            last(r);
            std::ops::ControlFlow::<()>::Continue(())
        });
        let _ = visit_expressions(st, |e| {
            if let Expr::Function(f) = e {
                last(&f.name);
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
    }
    out
}

/// The words of some SQL (identifiers as PostgreSQL folds them), to find the
/// relations it may name.
pub fn query_words(sql: &str) -> std::collections::HashSet<String> {
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    sqlparser::tokenizer::Tokenizer::new(&dialect, sql)
        .tokenize()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| match t {
            sqlparser::tokenizer::Token::Word(w) => Some(if w.quote_style.is_some() {
                w.value
            } else {
                w.value.to_lowercase()
            }),
            _ => None,
        })
        .collect()
}

/// Whether a routine's signature (or SQL-standard body) names a relation the
/// plan creates (a table's row type): it is created after them.
pub fn after_relations(r: &Routine, new: &std::collections::HashSet<String>) -> bool {
    query_words(&routine_needs(r))
        .iter()
        .any(|w| new.contains(w))
}

/// The text of a routine that must resolve when it is created: its
/// signature, and a SQL-standard body (PostgreSQL resolves its names then,
/// whatever `check_function_bodies` says).
fn routine_needs(r: &Routine) -> String {
    let mut s = format!("{} {}", r.arguments, r.returns.as_deref().unwrap_or(""));
    if r.sql_body {
        s.push(' ');
        s.push_str(&r.body);
    }
    s
}

/// The routines the plan creates (false) or replaces (true), in plan order.
fn routine_changes<'a>(changes: &'a [&'a Change]) -> impl Iterator<Item = (&'a Routine, bool)> {
    changes.iter().filter_map(|c| match c {
        Change::CreateRoutine { routine } => Some((routine, false)),
        Change::ReplaceRoutine { desired, .. } => Some((desired, true)),
        _ => None,
    })
}

/// A routine's statement, and a new one's comment.
fn push_routine(out: &mut Vec<Statement>, r: &Routine, or_replace: bool) {
    out.push(routine_statement(r, or_replace));
    if let (false, Some(cm)) = (or_replace, &r.comment) {
        out.push(comment_stmt(
            &CommentTarget::Routine(r.id.clone(), r.procedure),
            cm,
        ));
    }
}

fn routine_statement(r: &Routine, or_replace: bool) -> Statement {
    // (Each id spelled out: tests/it/quoting.rs reads the kinds from here.)
    let id = match (or_replace, r.procedure) {
        (false, false) => format!("create-function:{}", r.id),
        (true, false) => format!("replace-function:{}", r.id),
        (false, true) => format!("create-procedure:{}", r.id),
        (true, true) => format!("replace-procedure:{}", r.id),
    };
    let mut s = Statement::new(
        id,
        routine_sql(r, &r.id.name.sql(), or_replace),
        None,
        "none",
    )
    .from(&r.origin);
    if or_replace {
        s = s.hazard(Some(
            "sessions that call it run the new definition from COMMIT on, in the middle of their work",
        ));
    }
    s
}

/// The routines created before the tables (their defaults, checks and
/// indexes may call them), or, with `after_tables`, after the tables and
/// before the views (which may call them): those whose signature or
/// SQL-standard body names a new table. Those that name a new view come with
/// the views (`render_views`).
pub(super) fn render_routines(changes: &[&Change], out: &mut Vec<Statement>, after_tables: bool) {
    let (tables, views) = new_relations(changes);
    for (r, or_replace) in routine_changes(changes) {
        if !after_relations(r, &views) && after_relations(r, &tables) == after_tables {
            push_routine(out, r, or_replace);
        }
    }
}

/// What is created after the tables: views and materialized views, and the
/// routines whose signature names a new view.
enum Late<'a> {
    View(&'a View, bool),
    Routine(&'a Routine, bool),
}

/// Views and materialized views, each after the views it selects from and the
/// routines it may call that come after the tables; routines whose signature
/// names a new view, after that view. Depth-first in the files' order; a
/// cycle (which only a word of a query taken for a name can make, or a view
/// and a routine that need each other) is said on the statement.
pub(super) fn render_views(changes: &[&Change], out: &mut Vec<Statement>) {
    let (_, new_views) = new_relations(changes);
    let mut items: Vec<Late> = Vec::new();
    for c in changes {
        match c {
            Change::CreateView { view } => items.push(Late::View(view, false)),
            Change::ReplaceView { desired, .. } => items.push(Late::View(desired, true)),
            _ => {}
        }
    }
    for (r, or_replace) in routine_changes(changes) {
        if after_relations(r, &new_views) {
            items.push(Late::Routine(r, or_replace));
        }
    }
    let name = |it: &Late| match it {
        Late::View(v, _) => v.name.name.clone(),
        Late::Routine(r, _) => r.id.name.name.clone(),
    };
    let names: Vec<String> = items.iter().map(name).collect();
    // What each item names: a view's query names views and routines; a
    // routine's signature, views.
    let deps: Vec<Vec<usize>> = items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let w = match it {
                Late::View(v, _) => query_names(&v.query),
                Late::Routine(r, _) => query_words(&routine_needs(r)),
            };
            (0..items.len())
                .filter(|&j| j != i && w.contains(&names[j]))
                .filter(|&j| matches!(it, Late::View(..)) || matches!(items[j], Late::View(..)))
                .collect()
        })
        .collect();
    let mut state = vec![0u8; items.len()]; // 0 new, 1 visiting, 2 done
    let mut order = Vec::new();
    let mut cycles: Vec<(usize, usize)> = Vec::new();
    fn visit(
        i: usize,
        deps: &[Vec<usize>],
        state: &mut [u8],
        order: &mut Vec<usize>,
        cycles: &mut Vec<(usize, usize)>,
    ) {
        state[i] = 1;
        for &j in &deps[i] {
            match state[j] {
                0 => visit(j, deps, state, order, cycles),
                1 => cycles.push((i, j)),
                _ => {}
            }
        }
        state[i] = 2;
        order.push(i);
    }
    for i in 0..items.len() {
        if state[i] == 0 {
            visit(i, &deps, &mut state, &mut order, &mut cycles);
        }
    }
    for i in order {
        let mut s = match items[i] {
            Late::Routine(r, or_replace) => {
                push_routine(out, r, or_replace);
                continue;
            }
            Late::View(v, or_replace) => view_statement(v, or_replace),
        };
        if let Some(&(_, j)) = cycles.iter().find(|(a, _)| *a == i) {
            s = s.warning(&format!(
                "a cycle: it names {}, which needs it first (through the views and functions of this plan); \
                 if this statement fails, create one of them without the other in this change and complete it in a later one",
                names[j]
            ));
        }
        out.push(s);
        if let Late::View(v, false) = items[i] {
            view_extras(v, out);
        }
    }
}

fn view_statement(v: &View, or_replace: bool) -> Statement {
    let id = match (or_replace, v.materialized) {
        (false, false) => format!("create-view:{}", v.name),
        (true, false) => format!("replace-view:{}", v.name),
        // Never replaced (R007).
        (_, true) => format!("create-materialized-view:{}", v.name),
    };
    let mut s = Statement::new(
        id,
        view_sql(v, &v.name.sql(), or_replace),
        None,
        if or_replace {
            "ACCESS EXCLUSIVE"
        } else {
            "none"
        },
    )
    .from(&v.origin);
    if or_replace {
        s = s.hazard(Some(
            "queries of the view wait for the plan to commit; sessions see the new query from COMMIT on",
        ));
    } else if v.materialized {
        s = s.hazard(Some("runs its query once to fill it"));
    }
    s
}

/// A new view's comment, and a new materialized view's indexes.
fn view_extras(v: &View, out: &mut Vec<Statement>) {
    if let Some(cm) = &v.comment {
        out.push(comment_stmt(
            &CommentTarget::View(v.name.clone(), v.materialized),
            cm,
        ));
    }
    for i in &v.indexes {
        out.push(super::create_index(&v.name, i, &None, false).from(&i.origin));
        if let Some(cm) = &i.comment {
            out.push(comment_stmt(
                &CommentTarget::Index(v.name.clone(), i.name.clone()),
                cm,
            ));
        }
    }
}

/// Triggers, after their table and their function.
pub(super) fn render_triggers(changes: &[&Change], out: &mut Vec<Statement>) {
    for c in changes {
        let (table, t, or_replace, stats) = match c {
            Change::CreateTrigger {
                table,
                trigger,
                stats,
            } => (table, trigger, false, stats),
            Change::ReplaceTrigger {
                table,
                desired,
                stats,
                ..
            } => (table, desired, true, stats),
            Change::CreateTable { table } => {
                for t in &table.triggers {
                    out.push(trigger_statement(&table.name, t, false, &None));
                    if let Some(cm) = &t.comment {
                        out.push(comment_stmt(
                            &CommentTarget::Trigger(table.name.clone(), t.name.clone()),
                            cm,
                        ));
                    }
                }
                continue;
            }
            _ => continue,
        };
        out.push(trigger_statement(table, t, or_replace, stats));
        if let (false, Some(cm)) = (or_replace, &t.comment) {
            out.push(comment_stmt(
                &CommentTarget::Trigger(table.clone(), t.name.clone()),
                cm,
            ));
        }
    }
}

fn trigger_statement(
    table: &QualName,
    t: &crate::model::Trigger,
    or_replace: bool,
    stats: &Option<crate::model::TableStats>,
) -> Statement {
    let id = if or_replace {
        format!("replace-trigger:{table}.{}", t.name)
    } else {
        format!("create-trigger:{table}.{}", t.name)
    };
    let mut s = Statement::new(
        id,
        t.create_sql(table, or_replace, false),
        Some(table),
        "SHARE ROW EXCLUSIVE",
    )
    .from(&t.origin)
    .stats(stats);
    if stats.is_some() {
        s = s.hazard(Some(
            "blocks writes to the table until the plan commits; rows written from then on fire it",
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_settings_are_quoted_element_by_element() {
        assert_eq!(
            setting_sql("search_path", "\"$user\", public"),
            "SET search_path TO '$user', 'public'"
        );
        assert_eq!(setting_sql("work_mem", "64MB"), "SET work_mem TO '64MB'");
        assert_eq!(
            setting_sql("plpgsql.check", "it's"),
            "SET plpgsql.\"check\" TO 'it''s'"
        );
        assert_eq!(
            split_list_setting("a, \"b,c\", \"d\"\"e\""),
            vec!["a", "b,c", "d\"e"]
        );
    }

    #[test]
    fn a_body_keeps_its_dollar_quotes() {
        assert_eq!(
            dollar_quote("select 1", "function"),
            "$function$select 1$function$"
        );
        assert_eq!(
            dollar_quote("x $function$ y", "function"),
            "$function_$x $function$ y$function_$"
        );
        assert_eq!(
            dollar_quote("x $function", "function"),
            "$function_$x $function$function_$"
        );
    }
}
