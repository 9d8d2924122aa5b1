//! The files' privileges (README "Grants"): a `grants` key on a table, view,
//! materialized view, column, sequence, function, procedure, enum or domain,
//! and `[schema_grants.<schema>]`, each mapping a role (or `public`) to the
//! privileges it has:
//!
//! ```toml
//! [tables.orders.grants]
//! app_reader = ["select"]
//! app_writer = "all"
//! auditor = { privileges = ["select"], with_grant_option = true }
//! ```
//!
//! A privilege word that the kind does not take (PostgreSQL's GRANT
//! synopsis: `execute` on a table) is an error at its file, line and
//! column. Whether each role exists is known only at plan time
//! ([`check_roles`]).

use std::collections::BTreeSet;

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use super::{Errors, LoadError, ShortOrFull, Source};
use crate::model::grants::{Grant, Kind, Privilege, Target, PUBLIC};
use crate::model::names::MAX_IDENT_BYTES;
use crate::model::{Catalog, Origin};

/// A `grants` key: role -> privileges.
pub(super) type RawGrants = IndexMap<Spanned<String>, Spanned<RawGrant>>;

/// One role's privileges: `"all"`, `["select", "insert"]`, or in full.
pub(super) type RawGrant = ShortOrFull<Words, RawGrantFull>;

/// `"all"` or a list of privilege words.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum Words {
    One(String),
    List(Vec<String>),
}

/// `{ privileges = [...], with_grant_option = true }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGrantFull {
    privileges: Words,
    #[serde(default)]
    with_grant_option: bool,
}

impl super::FullForm for RawGrantFull {
    const EXPECTING: &'static str = "a list of privileges (`[\"select\", \"insert\"]`), \"all\", \
         or { privileges = [...], with_grant_option = true }";
}

/// The grants a `grants` key gives on `target` (of `kind`), one per role
/// and privilege, each with the place of its role's key. Errors: a role name
/// empty or longer than PostgreSQL's 63 bytes, a privilege word unknown or
/// not one `kind` takes (`execute` on a table), no privilege at all.
pub(super) fn build(
    src: &Source,
    target: &Target,
    kind: Kind,
    raw: &RawGrants,
    errors: &mut Errors,
) -> Vec<Grant> {
    let mut out = Vec::new();
    for (role, value) in raw {
        let o = src.origin(role.span());
        let name = role.get_ref();
        let grantee = if name.eq_ignore_ascii_case("public") {
            PUBLIC.to_string()
        } else if name.is_empty() || name.len() > MAX_IDENT_BYTES {
            errors.at(
                &o,
                format!("bad role name `{name}` in the grants of {target}: expected 1 to {MAX_IDENT_BYTES} bytes"),
            );
            continue;
        } else {
            name.clone()
        };
        let vo = src.origin(value.span());
        let (words, grant_option) = match value.get_ref() {
            ShortOrFull::Short(w) => (w, false),
            ShortOrFull::Full(f) => (&f.privileges, f.with_grant_option),
        };
        let Some(privileges) = privileges(words, kind, &vo, target, errors) else {
            continue;
        };
        for privilege in privileges {
            out.push(Grant {
                target: target.clone(),
                grantee: grantee.clone(),
                privilege,
                grant_option,
                implicit: false,
                origin: Some(o.clone()),
            });
        }
    }
    out
}

/// The privileges `words` names for `kind` (`all`: every one it takes), in
/// GRANT's order, each once; `None` after an error.
fn privileges(
    words: &Words,
    kind: Kind,
    o: &Origin,
    target: &Target,
    errors: &mut Errors,
) -> Option<Vec<Privilege>> {
    let list: Vec<&str> = match words {
        Words::One(w) => vec![w.as_str()],
        Words::List(l) => l.iter().map(String::as_str).collect(),
    };
    let takes = kind.privileges();
    let expected = || {
        let words: Vec<String> = takes.iter().map(|p| format!("\"{}\"", p.word())).collect();
        format!("expected {} or \"all\"", words.join(", "))
    };
    if list.is_empty() {
        errors.at(
            o,
            format!("no privilege given for {target}: {}", expected()),
        );
        return None;
    }
    let mut set = BTreeSet::new();
    let mut ok = true;
    for w in list {
        if w.trim().eq_ignore_ascii_case("all") {
            set.extend(takes.iter().copied());
            continue;
        }
        match Privilege::parse(w) {
            Some(p) if takes.contains(&p) => {
                set.insert(p);
            }
            Some(_) => {
                errors.at(
                    o,
                    format!(
                        "`{w}` is not a privilege of a {} ({target}): {}",
                        kind.word(),
                        expected()
                    ),
                );
                ok = false;
            }
            None => {
                errors.at(
                    o,
                    format!("unknown privilege `{w}` for {target}: {}", expected()),
                );
                ok = false;
            }
        }
    }
    ok.then(|| takes.iter().copied().filter(|p| set.contains(p)).collect())
}

/// Check that every role named is one the cluster has (`roles`, from
/// pg_roles; PUBLIC always is). Takes (role name, where the files name it)
/// pairs, so that any key naming roles (grants, policies' `roles`) shares
/// it. Pure. Errors: one diagnostic per missing role, at its place (an
/// input error, exit 2, before any statement runs); roles are not created
/// by a plan, as they live outside a database.
pub fn check_roles<'a>(
    named: impl IntoIterator<Item = (&'a str, &'a Origin)>,
    roles: &BTreeSet<String>,
) -> Result<(), LoadError> {
    let mut errors = Errors::default();
    for (role, o) in named {
        if role != PUBLIC && !roles.contains(role) {
            errors.at(
                o,
                format!(
                    "role `{role}` does not exist in the database's cluster; expected an existing role \
                     (roles live outside a database: create it first, e.g. CREATE ROLE)"
                ),
            );
        }
    }
    if errors.0.is_empty() {
        Ok(())
    } else {
        Err(LoadError(errors.0))
    }
}

/// [`check_roles`] for every role the files name, against the roles of
/// `live`: the grantees of their grants and the roles of their row-level
/// security policies (`roles = [...]`, at the policy's place).
pub fn check_named_roles(desired: &Catalog, live: &Catalog) -> Result<(), LoadError> {
    let mut seen = BTreeSet::new();
    let grants = desired
        .grants
        .iter()
        .filter_map(|g| Some((g.grantee.as_str(), g.origin.as_ref()?)));
    let policies = desired.tables.values().flat_map(|t| {
        t.policies.iter().flat_map(|p| {
            p.roles
                .iter()
                .filter(|r| r.as_str() != "public")
                .filter_map(move |r| Some((r.as_str(), p.origin.as_ref()?)))
        })
    });
    check_roles(
        grants
            .chain(policies)
            // One error per role and place (a role's key gives many privileges).
            .filter(|(r, o)| seen.insert((*r, o.line, o.column, o.file.clone()))),
        &live.roles,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_roles_names_each_missing_role_at_its_place() {
        let o = |line| Origin {
            file: "g.toml".into(),
            line,
            column: 1,
        };
        let (a, b, c) = (o(2), o(3), o(4));
        let roles: BTreeSet<String> = ["app".to_string()].into();
        assert!(check_roles([("app", &a), (PUBLIC, &b)], &roles).is_ok());
        let e = check_roles([("app", &a), ("ghost", &b), ("gone", &c)], &roles).unwrap_err();
        let at: Vec<String> =
            e.0.iter()
                .map(|d| format!("{}:{} {}", d.file, d.line, d.message))
                .collect();
        assert_eq!(at.len(), 2, "{at:?}");
        assert!(
            at[0].starts_with("g.toml:3 role `ghost` does not exist"),
            "{at:?}"
        );
        assert!(at[1].starts_with("g.toml:4 role `gone`"), "{at:?}");
    }
}
