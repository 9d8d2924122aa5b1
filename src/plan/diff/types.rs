//! The differ for composite types, range types and collations. Pure, like the rest of
//! `diff`: a type the database lacks is created; one whose definition differs
//! is a changed definition (R007: PostgreSQL cannot change a range type, and
//! changing a composite's attributes would change every value stored in it);
//! one the files lack is unmanaged. Attributes added at the end of a
//! composite type are added (PostgreSQL rewrites no table for it).

use super::{list_missing, set_comment, Change, CommentTarget};
use crate::model::{Catalog, UserType};

/// The composite and range types of `desired` against `live`, and what `live` has alone.
pub(super) fn diff_user_types(desired: &Catalog, live: &Catalog, changes: &mut Vec<Change>) {
    let pairs = desired
        .composite_types
        .values()
        .map(|c| {
            (
                UserType::Composite(c.clone()),
                live.composite_types
                    .get(&c.name)
                    .map(|l| UserType::Composite(l.clone())),
            )
        })
        .chain(desired.collations.values().map(|c| {
            (
                UserType::Collation(Box::new(c.clone())),
                live.collations
                    .get(&c.name)
                    .map(|l| UserType::Collation(Box::new(l.clone()))),
            )
        }))
        .chain(desired.range_types.values().map(|r| {
            (
                UserType::Range(Box::new(r.clone())),
                live.range_types
                    .get(&r.name)
                    .map(|l| UserType::Range(Box::new(l.clone()))),
            )
        }));
    for (d, l) in pairs {
        match l {
            None => changes.push(Change::CreateUserType { ty: d }),
            Some(l) => {
                let target = match &d {
                    UserType::Collation(c) => CommentTarget::Collation(c.name.clone()),
                    _ => CommentTarget::Enum(d.name().clone()),
                };
                set_comment(changes, target, d.comment(), l.comment());
                if let (UserType::Composite(dc), UserType::Composite(lc)) = (&d, &l) {
                    let n = lc.attributes.len();
                    if dc.attributes.len() > n && dc.attributes[..n] == lc.attributes[..] {
                        changes.push(Change::AddAttributes {
                            ty: dc.clone(),
                            added: dc.attributes[n..].to_vec(),
                        });
                        continue;
                    }
                }
                if d.definition() != l.definition() {
                    changes.push(Change::ChangeUserType {
                        desired: d,
                        live: l,
                    });
                }
            }
        }
    }
    list_missing(
        "composite type",
        &live.composite_types,
        &desired.composite_types,
        changes,
    );
    list_missing(
        "range type",
        &live.range_types,
        &desired.range_types,
        changes,
    );
    list_missing("collation", &live.collations, &desired.collations, changes);
}
