//! The differ for privileges. Additive only: a privilege the files list and
//! the database lacks becomes a `Change::Grant`; a privilege the database
//! has on an object of the files and the files do not list (another role's,
//! or another privilege, or a grant option) is reported as unmanaged (kind
//! `privilege`), never revoked. The owner's own privileges are never read,
//! and those PostgreSQL gives without a GRANT (`Grant::implicit`) are not
//! reported. Pure, like the rest of `diff`.

use std::collections::{BTreeMap, HashMap};

use super::Change;
use crate::model::grants::{grantee_key, Privilege, Target};
use crate::model::{BelongsTo, Catalog, Origin, QualName, UnmanagedObject};

/// Whether the files define the object `target` names (so that its
/// privileges are theirs to compare).
fn managed(desired: &Catalog, target: &Target) -> bool {
    match target {
        Target::Relation(n) => desired.tables.contains_key(n) || desired.views.contains_key(n),
        Target::Column(n, c) => desired.tables.get(n).is_some_and(|t| t.column(c).is_some()),
        Target::Sequence(n) => desired.sequences.contains_key(n),
        Target::Routine(id) => desired.routines.contains_key(id),
        Target::Type(n) => desired.enums.contains_key(n) || desired.domains.contains_key(n),
        Target::Schema(s) => {
            desired.schemas.contains(s)
                || desired
                    .grants
                    .iter()
                    .any(|g| matches!(&g.target, Target::Schema(x) if x == s))
        }
    }
}

/// The table a privilege belongs to, for grouping in the plan.
pub(crate) fn table_of(target: &Target) -> Option<&QualName> {
    match target {
        Target::Relation(n) | Target::Column(n, _) => Some(n),
        _ => None,
    }
}

/// Privileges of `desired` against `live`.
pub(super) fn diff_grants(desired: &Catalog, live: &Catalog, changes: &mut Vec<Change>) {
    let has: HashMap<(&Target, &str, Privilege), bool> = live
        .grants
        .iter()
        .map(|g| ((&g.target, g.grantee.as_str(), g.privilege), g.grant_option))
        .collect();
    let wants: HashMap<(&Target, &str, Privilege), bool> = desired
        .grants
        .iter()
        .map(|g| ((&g.target, g.grantee.as_str(), g.privilege), g.grant_option))
        .collect();
    // One GRANT per object, grantee and grant option, in the files' order.
    let mut missing: BTreeMap<(usize, bool), (Vec<Privilege>, Option<Origin>)> = BTreeMap::new();
    let mut first: HashMap<(&Target, &str), usize> = HashMap::new();
    for g in &desired.grants {
        let lacks = match has.get(&(&g.target, g.grantee.as_str(), g.privilege)) {
            None => true,
            Some(option) => g.grant_option && !option,
        };
        if !lacks {
            continue;
        }
        let n = first.len();
        let at = *first.entry((&g.target, g.grantee.as_str())).or_insert(n);
        let entry = missing
            .entry((at, g.grant_option))
            .or_insert_with(|| (Vec::new(), g.origin.clone()));
        if !entry.0.contains(&g.privilege) {
            entry.0.push(g.privilege);
        }
    }
    let mut keyed: Vec<((&Target, &str), usize)> = first.into_iter().collect();
    keyed.sort_by_key(|(_, i)| *i);
    let by_index: Vec<(&Target, &str)> = keyed.into_iter().map(|(k, _)| k).collect();
    for ((at, grant_option), (mut privileges, origin)) in missing {
        let (target, grantee) = by_index[at];
        privileges.sort();
        changes.push(Change::Grant {
            target: target.clone(),
            grantee: grantee.to_string(),
            privileges,
            grant_option,
            origin,
        });
    }
    for g in &live.grants {
        if g.implicit || !managed(desired, &g.target) {
            continue;
        }
        let what = match wants.get(&(&g.target, g.grantee.as_str(), g.privilege)) {
            None => format!("{} on {} to {}", g.privilege.sql(), g.target, g.grantee),
            Some(false) if g.grant_option => format!(
                "grant option of {} on {} to {}",
                g.privilege.sql(),
                g.target,
                g.grantee
            ),
            Some(_) => continue,
        };
        changes.push(Change::Unmanaged {
            object: UnmanagedObject {
                kind: "privilege".into(),
                name: what,
                belongs_to: Some(match g.target.object() {
                    Some(n) => BelongsTo::Object(n.clone()),
                    None => BelongsTo::Schema(match &g.target {
                        Target::Schema(s) => s.clone(),
                        _ => String::new(),
                    }),
                }),
            },
            table: table_of(&g.target).cloned(),
        });
    }
}

/// The statement id of a GRANT: `grant:orders:app_reader`,
/// `grant-column:orders.total:app_reader`, `grant-routine:f(integer):public`,
/// `grant-schema:reporting:app_reader` (`Target::step`); with
/// `:with-grant-option` after it for one WITH GRANT OPTION.
pub(crate) fn grant_id(target: &Target, grantee: &str, grant_option: bool) -> String {
    let (step, object) = target.step();
    format!(
        "{step}:{object}:{}{}",
        grantee_key(grantee),
        if grant_option {
            ":with-grant-option"
        } else {
            ""
        }
    )
}
