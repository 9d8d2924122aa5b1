//! DDL of code objects: functions and procedures, views and materialized
//! views, triggers. Names go through `quote_ident`, values through
//! `quote_literal`, a body inside dollar quotes whose tag it does not hold.

use super::{comment_stmt, Statement};
use crate::model::code::LIST_SETTINGS;
use crate::model::names::{quote_ident, quote_literal};
use crate::model::{QualName, Routine as RoutineModel};
use crate::model::{Routine, View};
use crate::plan::diff::{Change, CommentTarget};

/// `$function$`, or a longer tag when the body holds that one.
fn dollar_tag(body: &str) -> String {
    let mut tag = String::from("$function$");
    while body.contains(&tag) {
        tag.insert(tag.len() - 1, '_');
    }
    tag
}

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
            let tag = dollar_tag(&r.body);
            s.push_str(&format!("\nAS {tag}{}{tag}", r.body));
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

/// The names of relations (tables, views) that the plan creates.
fn new_relations(changes: &[&Change]) -> std::collections::HashSet<String> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateTable { table } => Some(table.name.name.clone()),
            Change::CreateView { view } => Some(view.name.name.clone()),
            _ => None,
        })
        .collect()
}

/// The words of some SQL (identifiers as PostgreSQL folds them), to find the
/// relations it may name.
fn words(sql: &str) -> std::collections::HashSet<String> {
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

/// Whether a routine's signature names a relation the plan creates (a
/// table's row type): it is created after them.
pub(crate) fn after_relations(r: &RoutineModel, new: &std::collections::HashSet<String>) -> bool {
    let sig = format!("{} {}", r.arguments, r.returns.as_deref().unwrap_or(""));
    words(&sig).iter().any(|w| new.contains(w))
}

fn routine_statement(r: &RoutineModel, or_replace: bool) -> Statement {
    let id = format!(
        "{}-{}:{}",
        if or_replace { "replace" } else { "create" },
        r.kind(),
        r.id
    );
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

/// Routines created or replaced before the tables (their defaults, checks
/// and indexes may call them), but those whose signature names a new relation.
/// `stage` 0: before the tables; 1: after the tables, before the views (a
/// view may select from `SETOF items` of a new table: it used to come after
/// every view, so such a view failed); 2: after the views, those whose
/// signature names a new view.
pub(super) fn render_routines(changes: &[&Change], out: &mut Vec<Statement>, stage: u8) {
    let new = new_relations(changes);
    let new_views: std::collections::HashSet<String> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateView { view } => Some(view.name.name.clone()),
            _ => None,
        })
        .collect();
    for c in changes {
        let (r, or_replace) = match c {
            Change::CreateRoutine { routine } => (routine, false),
            Change::ReplaceRoutine { desired, .. } => (desired, true),
            _ => continue,
        };
        let at = match (after_relations(r, &new), after_relations(r, &new_views)) {
            (false, _) => 0,
            (true, false) => 1,
            (true, true) => 2,
        };
        if at != stage {
            continue;
        }
        out.push(routine_statement(r, or_replace));
        if let (false, Some(cm)) = (or_replace, &r.comment) {
            out.push(comment_stmt(
                &CommentTarget::Routine(r.id.clone(), r.procedure),
                cm,
            ));
        }
    }
}

/// Views and materialized views, each after the views it selects from.
pub(super) fn render_views(changes: &[&Change], out: &mut Vec<Statement>) {
    let views: Vec<(&View, bool)> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateView { view } => Some((view, false)),
            Change::ReplaceView { desired, .. } => Some((desired, true)),
            _ => None,
        })
        .collect();
    let named: Vec<std::collections::HashSet<String>> =
        views.iter().map(|(v, _)| words(&v.query)).collect();
    // Depth-first, in the files' order: a view after every view of the plan
    // whose name its query mentions.
    let mut done = vec![false; views.len()];
    let mut visiting = vec![false; views.len()];
    fn visit(
        i: usize,
        views: &[(&View, bool)],
        named: &[std::collections::HashSet<String>],
        done: &mut [bool],
        visiting: &mut [bool],
        order: &mut Vec<usize>,
    ) {
        if done[i] || visiting[i] {
            return;
        }
        visiting[i] = true;
        for (j, (v, _)) in views.iter().enumerate() {
            if j != i && named[i].contains(&v.name.name) {
                visit(j, views, named, done, visiting, order);
            }
        }
        visiting[i] = false;
        done[i] = true;
        order.push(i);
    }
    let mut order = Vec::new();
    for i in 0..views.len() {
        visit(i, &views, &named, &mut done, &mut visiting, &mut order);
    }
    for i in order {
        let (v, or_replace) = views[i];
        let kind = if v.materialized {
            "materialized-view"
        } else {
            "view"
        };
        let id = format!(
            "{}-{kind}:{}",
            if or_replace { "replace" } else { "create" },
            v.name
        );
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
        out.push(s);
        if let (false, Some(cm)) = (or_replace, &v.comment) {
            out.push(comment_stmt(
                &CommentTarget::View(v.name.clone(), v.materialized),
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
    let id = format!(
        "{}-trigger:{table}.{}",
        if or_replace { "replace" } else { "create" },
        t.name
    );
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
        assert_eq!(dollar_tag("select 1"), "$function$");
        assert_eq!(dollar_tag("x $function$ y"), "$function_$");
    }
}
