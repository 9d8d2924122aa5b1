//! `dump` of privileges: a `[<object>.grants]` section after each object
//! (`[tables.orders.grants]`, `[functions.f.grants]`, ...), a column's
//! `grants = { ... }` in its inline table, `[schema_grants.<schema>]`.
//! Every grantee but the owner (whose privileges are never read), and none
//! of the privileges PostgreSQL gives without a GRANT (`Grant::implicit`),
//! so that the files, applied, give the same ACLs.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use super::{inline_table, key, list};
use crate::model::grants::{grantee_key, Grant, Kind, Privilege, Target};
use crate::model::Catalog;

/// The explicit grants of a catalog, by object, then grantee.
pub(super) struct Grants<'a> {
    by_target: HashMap<&'a Target, BTreeMap<&'a str, Vec<&'a Grant>>>,
}

impl<'a> Grants<'a> {
    pub(super) fn new(cat: &'a Catalog) -> Self {
        let mut by_target: HashMap<&Target, BTreeMap<&str, Vec<&Grant>>> = HashMap::new();
        for g in cat.grants.iter().filter(|g| !g.implicit) {
            by_target
                .entry(&g.target)
                .or_default()
                .entry(g.grantee.as_str())
                .or_default()
                .push(g);
        }
        Grants { by_target }
    }

    /// `role = value` pairs for `target`, by grantee's name; empty when it has none.
    fn entries(&self, target: &Target) -> Vec<(String, String)> {
        let Some(roles) = self.by_target.get(target) else {
            return Vec::new();
        };
        let kind = match target {
            Target::Relation(_) => Kind::Table,
            Target::Column(..) => Kind::Column,
            Target::Sequence(_) => Kind::Sequence,
            Target::Routine(_) => Kind::Routine,
            Target::Type(_) => Kind::Type,
            Target::Schema(_) => Kind::Schema,
        };
        roles
            .iter()
            .map(|(role, gs)| (key(&grantee_key(role)), value(kind, gs)))
            .collect()
    }

    /// `[<header>]` and one line per grantee, when `target` has grants.
    pub(super) fn section(&self, out: &mut String, header: &str, target: &Target) {
        let entries = self.entries(target);
        if entries.is_empty() {
            return;
        }
        let _ = writeln!(out, "\n{header}");
        for (role, v) in entries {
            let _ = writeln!(out, "{role} = {v}");
        }
    }

    /// `{ role = [...], ... }` for a column's inline table, when it has grants.
    pub(super) fn inline(&self, target: &Target) -> Option<String> {
        let entries = self.entries(target);
        if entries.is_empty() {
            return None;
        }
        let fields: Vec<(&str, String)> = entries
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        Some(inline_table(&fields))
    }
}

/// One grantee's privileges as the files write them: `"all"` when they are
/// every privilege of the kind, else the list; in full with
/// `with_grant_option = true` when every one has it (a grant option on some
/// only is left out, and `plan` reports it).
fn value(kind: Kind, gs: &[&Grant]) -> String {
    let mut privileges: Vec<Privilege> = gs.iter().map(|g| g.privilege).collect();
    privileges.sort();
    privileges.dedup();
    let words = if privileges == kind.privileges() && privileges.len() > 1 {
        "\"all\"".to_string()
    } else {
        let words: Vec<String> = kind
            .privileges()
            .iter()
            .filter(|p| privileges.contains(p))
            .map(|p| p.word())
            .collect();
        list(&words)
    };
    if gs.iter().all(|g| g.grant_option) {
        inline_table(&[("privileges", words), ("with_grant_option", "true".into())])
    } else {
        words
    }
}
