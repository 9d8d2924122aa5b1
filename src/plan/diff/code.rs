//! The differ for code objects: routines, views and materialized views,
//! triggers. Pure, like the rest of `diff`.

use super::{set_comment, Change, CommentTarget};
use crate::model::{Catalog, Table, UnmanagedObject, View};

/// Routines and views of `desired` against `live`, and what `live` has alone.
pub(super) fn diff_code(desired: &Catalog, live: &Catalog, changes: &mut Vec<Change>) {
    for (id, d) in &desired.routines {
        match live.routines.get(id) {
            None => changes.push(Change::CreateRoutine { routine: d.clone() }),
            Some(l) => {
                if d.signature() != l.signature() {
                    changes.push(Change::ChangeRoutineSignature {
                        desired: d.clone(),
                        live: l.clone(),
                    });
                } else if d.definition() != l.definition() {
                    changes.push(Change::ReplaceRoutine {
                        desired: d.clone(),
                        live: l.clone(),
                    });
                }
                set_comment(
                    changes,
                    CommentTarget::Routine(id.clone(), d.procedure),
                    &d.comment,
                    &l.comment,
                );
            }
        }
    }
    for (name, d) in &desired.views {
        match live.views.get(name) {
            None => changes.push(Change::CreateView { view: d.clone() }),
            Some(l) => {
                if let Some(why) = view_change(d, l) {
                    match why {
                        Ok(()) => changes.push(Change::ReplaceView {
                            desired: d.clone(),
                            live: l.clone(),
                        }),
                        Err(why) => changes.push(Change::ChangeView {
                            desired: d.clone(),
                            live: l.clone(),
                            why,
                        }),
                    }
                }
                set_comment(
                    changes,
                    CommentTarget::View(name.clone(), d.materialized),
                    &d.comment,
                    &l.comment,
                );
                if d.materialized && l.materialized {
                    diff_view_indexes(d, l, changes);
                }
            }
        }
    }
    let unmanaged = |kind: &str, name: String| Change::Unmanaged {
        object: UnmanagedObject {
            kind: kind.into(),
            name,
            belongs_to: None,
        },
        table: None,
    };
    for (id, l) in &live.routines {
        if !desired.routines.contains_key(id) {
            changes.push(unmanaged(l.kind(), id.to_string()));
        }
    }
    for (name, l) in &live.views {
        if !desired.views.contains_key(name) {
            changes.push(unmanaged(l.kind(), name.to_string()));
        }
    }
}

/// Whether a view must change: `None` when it is the same; `Ok` when
/// `CREATE OR REPLACE VIEW` can replace it (the same columns first, with the
/// same types, new ones only at the end; or its columns are not known until
/// PostgreSQL reads the query); `Err(why)` when it cannot.
fn view_change(d: &View, l: &View) -> Option<Result<(), String>> {
    if d.materialized == l.materialized && d.definition_key() == l.definition_key() {
        return None;
    }
    if d.materialized != l.materialized {
        return Some(Err(format!(
            "it is a {} in the database and a {} in the files",
            l.kind(),
            d.kind()
        )));
    }
    if d.materialized {
        return Some(Err(
            "a materialized view's query cannot be replaced in place; it would have to be dropped and built again"
                .into(),
        ));
    }
    if d.columns.is_empty() || d.query_body() == l.query_body() {
        return Some(Ok(()));
    }
    let kept = l.columns.len() <= d.columns.len() && d.columns[..l.columns.len()] == l.columns[..];
    if kept {
        Some(Ok(()))
    } else {
        let show = |c: &[(String, String)]| {
            c.iter()
                .map(|(n, t)| format!("{n} {t}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        Some(Err(format!(
            "its columns change from ({}) to ({}); CREATE OR REPLACE VIEW keeps every column, \
             with its name and type, and adds new ones only at the end",
            show(&l.columns),
            show(&d.columns)
        )))
    }
}

/// The triggers of a table that exists on both sides.
pub(super) fn diff_triggers(desired: &Table, live: &Table, changes: &mut Vec<Change>) {
    let tname = &desired.name;
    for d in &desired.triggers {
        match live.triggers.iter().find(|l| l.name == d.name) {
            None => changes.push(Change::CreateTrigger {
                table: tname.clone(),
                trigger: d.clone(),
                stats: live.stats.clone(),
            }),
            Some(l) => {
                if d.create_sql(tname, false, true) != l.create_sql(tname, false, true) {
                    changes.push(Change::ReplaceTrigger {
                        table: tname.clone(),
                        desired: d.clone(),
                        live: l.clone(),
                        stats: live.stats.clone(),
                    });
                }
                set_comment(
                    changes,
                    CommentTarget::Trigger(tname.clone(), d.name.clone()),
                    &d.comment,
                    &l.comment,
                );
            }
        }
    }
    for l in &live.triggers {
        if !desired.triggers.iter().any(|d| d.name == l.name) {
            changes.push(Change::Unmanaged {
                object: UnmanagedObject {
                    kind: "trigger".into(),
                    name: format!("{} on {tname}", l.name),
                    belongs_to: None,
                },
                table: Some(tname.clone()),
            });
        }
    }
}

/// A materialized view's indexes, as a table's: a missing one is built (on
/// an existing view, online: CONCURRENTLY), a changed one refused (R007), one
/// the files lack listed.
fn diff_view_indexes(d: &View, l: &View, changes: &mut Vec<Change>) {
    for i in &d.indexes {
        match l.indexes.iter().find(|x| x.name == i.name) {
            None => changes.push(Change::CreateIndex {
                table: d.name.clone(),
                index: i.clone(),
                stats: None,
            }),
            Some(li) => {
                if li.compare_key() != i.compare_key() {
                    changes.push(Change::ChangeIndex {
                        table: d.name.clone(),
                        desired: i.clone(),
                        live: li.clone(),
                    });
                }
                set_comment(
                    changes,
                    CommentTarget::Index(d.name.clone(), i.name.clone()),
                    &i.comment,
                    &li.comment,
                );
            }
        }
    }
    for li in &l.indexes {
        if !d.indexes.iter().any(|i| i.name == li.name) {
            changes.push(Change::Unmanaged {
                object: UnmanagedObject {
                    kind: "index".into(),
                    name: format!("{} on {}", li.name, l.name),
                    belongs_to: None,
                },
                table: None,
            });
        }
    }
}
