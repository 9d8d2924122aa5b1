//! The differ for text search configurations. Pure, like the rest of
//! `diff`: one the database lacks is created; one whose parser or mappings
//! differ is a changed definition (R007: what a text search finds would
//! change for the code and the indexes that use it, and PostgreSQL cannot
//! change a parser at all); one the files lack is unmanaged (kept, listed).

use super::{set_comment, Change, CommentTarget};
use crate::model::{Catalog, UnmanagedObject, UserType};

/// The text search configurations of `desired` against `live`, and what `live` has alone.
pub(super) fn diff_ts_configs(desired: &Catalog, live: &Catalog, changes: &mut Vec<Change>) {
    for d in desired.ts_configs.values() {
        let Some(l) = live.ts_configs.get(&d.name) else {
            changes.push(Change::CreateUserType {
                ty: UserType::TsConfig(Box::new(d.clone())),
            });
            continue;
        };
        set_comment(
            changes,
            CommentTarget::TsConfig(d.name.clone()),
            &d.comment,
            &l.comment,
        );
        if d.definition() != l.definition() {
            changes.push(Change::ChangeUserType {
                desired: UserType::TsConfig(Box::new(d.clone())),
                live: UserType::TsConfig(Box::new(l.clone())),
            });
        }
    }
    for name in live.ts_configs.keys() {
        if !desired.ts_configs.contains_key(name) {
            changes.push(Change::Unmanaged {
                object: UnmanagedObject {
                    kind: "text search configuration".into(),
                    name: name.to_string(),
                    belongs_to: None,
                },
                table: None,
            });
        }
    }
}
