//! Render new collations, text search configurations (`render::tsconfig`),
//! domains, composite types and range types: the
//! collations first (columns, attributes, domains and ranges use them), each
//! type after the types of the plan it uses (a composite may hold a domain, a
//! domain may be over a composite or a range), and a range whose canonical or
//! subtype_diff function the same plan creates after that function.

use std::collections::{HashMap, HashSet};

use super::{comment_stmt, create_domain, Statement};
use crate::model::{Domain, ObjName, QualName, UserType};
use crate::plan::diff::{Change, CommentTarget};

/// A type the plan creates.
pub(crate) enum NewType<'a> {
    Domain(&'a Domain),
    User(&'a UserType),
}

impl NewType<'_> {
    pub(crate) fn name(&self) -> &QualName {
        match self {
            NewType::Domain(d) => &d.name,
            NewType::User(u) => u.name(),
        }
    }
    /// The canonical names of the types it uses (without array brackets).
    fn uses(&self) -> Vec<&str> {
        match self {
            NewType::Domain(d) => vec![d.ty.trim_end_matches("[]")],
            NewType::User(u) => u.uses(),
        }
    }
}

/// Whether the range `ty` names a function that the plan creates.
fn needs_new_routine(ty: &UserType, changes: &[&Change]) -> bool {
    let UserType::Range(r) = ty else {
        return false;
    };
    let of_plan = |f: &ObjName| {
        let name = QualName::new(f.schema.as_deref().unwrap_or("public"), f.name.clone());
        changes
            .iter()
            .any(|c| matches!(c, Change::CreateRoutine { routine } if routine.id.name == name))
    };
    r.canonical.iter().chain(&r.subtype_diff).any(of_plan)
}

/// The new domains, composite and range types, in an order where each comes
/// after the new types it uses (the order of the plan where they do not
/// depend on each other; a cycle, which PostgreSQL refuses, as it is).
/// `after_routines`: only the ranges whose function the plan creates, which
/// are created after the routines; else all the others.
pub(super) fn render_types(changes: &[&Change], out: &mut Vec<Statement>, after_routines: bool) {
    let collations = changes.iter().filter_map(|c| match c {
        Change::CreateUserType {
            ty: ty @ (UserType::Collation(_) | UserType::TsConfig(_)),
        } if !after_routines => Some(NewType::User(ty)),
        _ => None,
    });
    let pending: Vec<NewType> = collations
        .chain(changes.iter().filter_map(|c| {
            match c {
                Change::CreateDomain { domain } if !after_routines => Some(NewType::Domain(domain)),
                Change::CreateUserType { ty }
                    if needs_new_routine(ty, changes) == after_routines =>
                {
                    (!matches!(ty, UserType::Collation(_) | UserType::TsConfig(_)))
                        .then_some(NewType::User(ty))
                }
                _ => None,
            }
        }))
        .collect();
    for t in in_order(pending) {
        push_type(out, &t);
    }
    if after_routines {
        return;
    }
    // Attributes added to existing composite types, once their types exist.
    for c in changes {
        if let Change::AddAttributes { ty, added } = c {
            let names: Vec<&str> = added.iter().map(|a| a.name.as_str()).collect();
            out.push(
                Statement::new(
                    format!("add-attribute:{}.{}", ty.name, names.join(",")),
                    ty.add_attributes_sql(added),
                    None,
                    "none",
                )
                .from(&ty.origin),
            );
        }
    }
}

/// `pending` in an order where each type comes after the types of `pending`
/// it uses (else in the order given; a cycle, which PostgreSQL refuses, as
/// it is).
pub(crate) fn in_order(mut pending: Vec<NewType<'_>>) -> Vec<NewType<'_>> {
    let mut ordered = Vec::with_capacity(pending.len());
    // Each new type by the name columns and attributes use for it (a range's
    // multirange by the range's).
    let mut by_printed: HashMap<String, QualName> = HashMap::new();
    for t in &pending {
        by_printed.insert(t.name().printed(), t.name().clone());
        if let NewType::User(UserType::Range(r)) = t {
            by_printed.insert(r.multirange().printed(), r.name.clone());
        }
    }
    let mut done: HashSet<QualName> = HashSet::new();
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .position(|t| {
                t.uses()
                    .iter()
                    .filter_map(|u| by_printed.get(*u))
                    .all(|n| done.contains(n) || n == t.name())
            })
            .unwrap_or(0);
        let t = pending.remove(ready);
        done.insert(t.name().clone());
        ordered.push(t);
    }
    ordered
}

fn push_type(out: &mut Vec<Statement>, t: &NewType) {
    if let NewType::User(UserType::TsConfig(c)) = t {
        super::tsconfig::push_ts_config(out, c);
        return;
    }
    let (id, sql, origin, comment) = match t {
        NewType::Domain(d) => (
            format!("create-domain:{}", d.name),
            create_domain(d),
            &d.origin,
            &d.comment,
        ),
        NewType::User(u) => (
            format!(
                "create-{}:{}",
                match u {
                    UserType::Composite(_) => "composite-type",
                    UserType::Range(_) => "range-type",
                    UserType::Collation(_) => "collation",
                    UserType::TsConfig(_) => "ts-config",
                },
                u.name()
            ),
            u.create_sql(true),
            u.origin(),
            u.comment(),
        ),
    };
    out.push(Statement::new(id, sql, None, "none").from(origin));
    if let Some(cm) = comment {
        let target = match t {
            NewType::User(UserType::Collation(c)) => CommentTarget::Collation(c.name.clone()),
            _ => CommentTarget::Enum(t.name().clone()),
        };
        out.push(comment_stmt(&target, cm));
    }
}
