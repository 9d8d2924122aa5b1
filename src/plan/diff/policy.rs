//! The differ for row-level security: the per-table switches and the
//! policies. Pure, like the rest of `diff`.
//!
//! What loosens security is never run: disabling row-level security (or its
//! FORCE) would show every row to every role that can read the table, and a
//! changed policy can hide rows from running code or show rows it must not
//! see; both are refused (R007). Enabling it and adding a policy are additive.

use super::{set_comment, Change, CommentTarget};
use crate::model::{Table, UnmanagedObject};

/// The row-level security switches and policies of a table that exists on
/// both sides.
pub(super) fn diff_row_security(desired: &Table, live: &Table, changes: &mut Vec<Change>) {
    let tname = &desired.name;
    let on = |d: Option<bool>, l: Option<bool>| d == Some(true) && l != Some(true);
    let off = |d: Option<bool>, l: Option<bool>| d == Some(false) && l == Some(true);
    let enable = on(desired.row_level_security, live.row_level_security).then_some(true);
    let force = on(
        desired.force_row_level_security,
        live.force_row_level_security,
    )
    .then_some(true);
    if enable.is_some() || force.is_some() {
        changes.push(Change::SetRowSecurity {
            table: tname.clone(),
            enable,
            force,
        });
    }
    for (forced, d, l) in [
        (false, desired.row_level_security, live.row_level_security),
        (
            true,
            desired.force_row_level_security,
            live.force_row_level_security,
        ),
    ] {
        if off(d, l) {
            changes.push(Change::DisableRowSecurity {
                table: tname.clone(),
                forced,
                origin: desired.origin.clone(),
            });
        }
    }
    let kept: Vec<&str> = [
        (
            desired.row_level_security,
            live.row_level_security,
            "enabled",
        ),
        (
            desired.force_row_level_security,
            live.force_row_level_security,
            "forced",
        ),
    ]
    .into_iter()
    .filter(|(d, l, _)| d.is_none() && *l == Some(true))
    .map(|(.., w)| w)
    .collect();
    if !kept.is_empty() {
        changes.push(Change::Unmanaged {
            object: UnmanagedObject {
                kind: "row level security".into(),
                name: format!("{tname}: {}", kept.join(", ")),
                belongs_to: None,
            },
            table: Some(tname.clone()),
        });
    }

    for d in &desired.policies {
        match live.policies.iter().find(|l| l.name == d.name) {
            None => changes.push(Change::CreatePolicy {
                table: tname.clone(),
                policy: d.clone(),
                stats: live.stats.clone(),
            }),
            Some(l) => {
                if !d.same_rule(l) {
                    changes.push(Change::ChangePolicy {
                        table: tname.clone(),
                        desired: d.clone(),
                        live: l.clone(),
                    });
                }
                set_comment(
                    changes,
                    CommentTarget::Policy(tname.clone(), d.name.clone()),
                    &d.comment,
                    &l.comment,
                );
            }
        }
    }
    for l in &live.policies {
        if !desired.policies.iter().any(|d| d.name == l.name) {
            changes.push(Change::Unmanaged {
                object: UnmanagedObject {
                    kind: "policy".into(),
                    name: format!("{} on {tname}", l.name),
                    belongs_to: None,
                },
                table: Some(tname.clone()),
            });
        }
    }
}
