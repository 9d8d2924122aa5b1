//! R001 and R002 across two versions of the files: what an older version had
//! that the newer one does not, and which of those removals are renames (an
//! added object of the same kind and shape in the same place). One judge for
//! the CI guard (`check --base`, `check --from`) and for plan and apply, which
//! compare the files now with the files last applied (SPEC §3, "Three sides").

use crate::model::partition::walk;
use crate::model::{Catalog, Origin, Partition, Policy, QualName, Routine, Table, Trigger, View};
use crate::plan::diff::{constraints_of, Change};

use super::{col_object, r001_drop, r002_rename, Finding, RuleId};

/// An object of one version of the files.
#[derive(Clone, Debug)]
pub struct Object {
    /// `table`, `column`, `index`, `constraint`, `primary key`, `enum`, `enum
    /// value`, `trigger`, `policy`, `view`, `materialized view`, `function`,
    /// `procedure`, `partition`.
    pub kind: &'static str,
    /// The table it lives in, when it lives in one.
    pub table: Option<QualName>,
    /// Its name (an enum value: the value).
    pub name: String,
    /// What must match for a removed and an added object to be one renamed:
    /// a column's type, a table's columns, an index's or a constraint's definition.
    /// Empty when a rename cannot be told (enums).
    shape: String,
    /// Where the version that has it defines it.
    pub origin: Option<Origin>,
    /// A table's or an enum's own name.
    pub(crate) qual: Option<QualName>,
}

impl Object {
    /// `table.name` for what lives in a table (an enum value: `enum.value`), else the name.
    pub fn full_name(&self) -> String {
        match &self.table {
            Some(t) => format!("{t}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// Whether `cat` (the database, read by `introspect`) has this object.
    pub fn exists_in(&self, cat: &Catalog) -> bool {
        let table = || self.table.as_ref().and_then(|t| cat.tables.get(t));
        match self.kind {
            "table" => self
                .qual
                .as_ref()
                .is_some_and(|n| cat.tables.contains_key(n)),
            "column" => table().is_some_and(|t| t.column(&self.name).is_some()),
            "index" => table().is_some_and(|t| t.indexes.iter().any(|i| i.name == self.name)),
            "constraint" => table().is_some_and(|t| constraint_names(t).contains(&self.name)),
            "primary key" => table().is_some_and(|t| t.primary_key.is_some()),
            "enum" => self
                .qual
                .as_ref()
                .is_some_and(|n| cat.enums.contains_key(n)),
            "enum value" => self
                .qual
                .as_ref()
                .and_then(|n| cat.enums.get(n))
                .is_some_and(|e| e.values.iter().any(|v| Some(v.as_str()) == self.value())),
            "trigger" => table().is_some_and(|t| t.triggers.iter().any(|x| x.name == self.name)),
            "policy" => table().is_some_and(|t| t.policies.iter().any(|x| x.name == self.name)),
            "view" | "materialized view" => self
                .qual
                .as_ref()
                .and_then(|n| cat.views.get(n))
                .is_some_and(|v| v.kind() == self.kind),
            "function" | "procedure" => cat.routines.keys().any(|id| id.to_string() == self.name),
            "partition" => self.qual.as_ref().is_some_and(|n| {
                cat.tables.values().any(|t| {
                    walk(&t.name, &t.partitions)
                        .iter()
                        .any(|(_, p)| &p.name == n)
                })
            }),
            _ => false,
        }
    }

    /// An enum value's value (its name is `enum.value`).
    fn value(&self) -> Option<&str> {
        let e = self.qual.as_ref()?.to_string();
        self.name.strip_prefix(&e)?.strip_prefix('.')
    }
}

/// An object the older version had and the newer one does not, without a
/// `deprecated` mark in the older one.
#[derive(Clone, Debug)]
pub struct Removal {
    pub removed: Object,
    /// The added object of the same kind and shape in the same place, when there is one.
    pub renamed_to: Option<Object>,
}

impl Removal {
    /// R002 when it looks renamed, else R001.
    pub fn finding(&self) -> Finding {
        let r = &self.removed;
        match &self.renamed_to {
            Some(a) => r002_rename::renamed(
                r.kind,
                &r.full_name(),
                &a.full_name(),
                a.origin.clone().or_else(|| r.origin.clone()),
            ),
            None => r001_drop::removed(r.kind, &r.full_name(), r.origin.clone()),
        }
    }

    /// Whether `f` is the R006 refusal of the new side of this rename (a NOT
    /// NULL column without a default): the rename is the finding that says
    /// what happened, so it replaces that one.
    pub fn supersedes(&self, f: &Finding) -> bool {
        match &self.renamed_to {
            Some(a) if a.kind == "column" && f.rule == RuleId::R006 => a
                .table
                .as_ref()
                .is_some_and(|t| f.object == col_object(t, &a.name)),
            _ => false,
        }
    }
}

/// What `old` has and `new` does not (unless `old` marked it `deprecated`),
/// each paired with the object `changes` add in its place, if any.
/// `changes` is `diff(new, old)`: every change, refused or not, so that a NOT
/// NULL column renamed is seen as the rename it is.
pub fn removals(old: &Catalog, new: &Catalog, changes: &[Change]) -> Vec<Removal> {
    let added = added(changes);
    let mut used = vec![false; added.len()];
    removed(old, new)
        .into_iter()
        .map(|r| {
            let pair = added.iter().enumerate().position(|(i, a)| {
                !used[i]
                    && a.kind == r.kind
                    && a.table == r.table
                    && !r.shape.is_empty()
                    && a.shape == r.shape
            });
            let renamed_to = pair.map(|i| {
                used[i] = true;
                added[i].clone()
            });
            Removal {
                removed: r,
                renamed_to,
            }
        })
        .collect()
}

/// The objects that `changes` add.
fn added(changes: &[Change]) -> Vec<Object> {
    let mut added = Vec::new();
    for c in changes {
        match c {
            Change::AddColumn { table, column, .. } => added.push(Object {
                kind: "column",
                table: Some(table.clone()),
                name: column.name.clone(),
                shape: column.ty.clone(),
                origin: column.origin.clone(),
                qual: None,
            }),
            Change::CreateTable { table } => added.push(Object {
                kind: "table",
                table: None,
                name: table.name.to_string(),
                shape: table_shape(table),
                origin: table.origin.clone(),
                qual: Some(table.name.clone()),
            }),
            Change::CreateIndex { table, index, .. } => added.push(Object {
                kind: "index",
                table: Some(table.clone()),
                name: index.name.clone(),
                shape: index.compare_key(),
                origin: index.origin.clone(),
                qual: None,
            }),
            Change::CreateTrigger { table, trigger, .. } => added.push(Object {
                kind: "trigger",
                table: Some(table.clone()),
                name: trigger.name.clone(),
                shape: trigger_shape(trigger),
                origin: trigger.origin.clone(),
                qual: None,
            }),
            Change::CreatePolicy { table, policy, .. } => added.push(Object {
                kind: "policy",
                table: Some(table.clone()),
                name: policy.name.clone(),
                shape: policy_shape(policy),
                origin: policy.origin.clone(),
                qual: None,
            }),
            Change::CreatePartition {
                parent, partition, ..
            } => added.push(partition_object(parent, partition)),
            Change::CreateView { view } => added.push(view_object(view)),
            Change::CreateRoutine { routine } => added.push(routine_object(routine)),
            Change::AddConstraint {
                table, constraint, ..
            } => added.push(Object {
                kind: "constraint",
                table: Some(table.clone()),
                name: constraint.name().to_string(),
                shape: constraint.definition(),
                origin: constraint.origin().cloned(),
                qual: None,
            }),
            _ => {}
        }
    }
    added
}

/// A partition as an object of the files: renamed when one of the same
/// parent and bound is added.
fn partition_object(parent: &QualName, p: &Partition) -> Object {
    Object {
        kind: "partition",
        table: None,
        name: p.name.to_string(),
        shape: format!("{parent} {}", p.bound.key),
        origin: p.origin.clone(),
        qual: Some(p.name.clone()),
    }
}

/// The objects of `old` that `new` lacks and `old` did not mark `deprecated`.
fn removed(old: &Catalog, new: &Catalog) -> Vec<Object> {
    let mut removed = Vec::new();
    // Partitions, wherever they were declared (one may move under another table).
    let new_parts: std::collections::HashSet<&QualName> = new
        .tables
        .values()
        .flat_map(|t| walk(&t.name, &t.partitions))
        .map(|(_, p)| &p.name)
        .collect();
    for ot in old.tables.values() {
        for (parent, p) in walk(&ot.name, &ot.partitions) {
            if !new_parts.contains(&p.name) && p.deprecated.is_none() && ot.deprecated.is_none() {
                removed.push(partition_object(parent, p));
            }
        }
    }
    for (name, ot) in &old.tables {
        let Some(nt) = new.tables.get(name) else {
            // A table the files now declare a partition is attached, not removed.
            if ot.deprecated.is_none() && !new_parts.contains(name) {
                removed.push(Object {
                    kind: "table",
                    table: None,
                    name: name.to_string(),
                    shape: table_shape(ot),
                    origin: ot.origin.clone(),
                    qual: Some(name.clone()),
                });
            }
            continue;
        };
        let t = Some(name.clone());
        for c in &ot.columns {
            if nt.column(&c.name).is_none() && c.deprecated.is_none() {
                removed.push(Object {
                    kind: "column",
                    table: t.clone(),
                    name: c.name.clone(),
                    shape: c.ty.clone(),
                    origin: c.origin.clone(),
                    qual: None,
                });
            }
        }
        for i in &ot.indexes {
            if !nt.indexes.iter().any(|x| x.name == i.name) && i.deprecated.is_none() {
                removed.push(Object {
                    kind: "index",
                    table: t.clone(),
                    name: i.name.clone(),
                    shape: i.compare_key(),
                    origin: i.origin.clone(),
                    qual: None,
                });
            }
        }
        let new_cons = constraint_names(nt);
        for c in constraints_of(ot) {
            if !new_cons.contains(&c.name().to_string()) && c.deprecated().is_none() {
                removed.push(Object {
                    kind: "constraint",
                    table: t.clone(),
                    name: c.name().to_string(),
                    shape: c.definition(),
                    origin: c.origin().cloned(),
                    qual: None,
                });
            }
        }
        for tr in &ot.triggers {
            if !nt.triggers.iter().any(|x| x.name == tr.name) && tr.deprecated.is_none() {
                removed.push(Object {
                    kind: "trigger",
                    table: t.clone(),
                    name: tr.name.clone(),
                    shape: trigger_shape(tr),
                    origin: tr.origin.clone(),
                    qual: None,
                });
            }
        }
        for p in &ot.policies {
            if !nt.policies.iter().any(|x| x.name == p.name) && p.deprecated.is_none() {
                removed.push(Object {
                    kind: "policy",
                    table: t.clone(),
                    name: p.name.clone(),
                    shape: policy_shape(p),
                    origin: p.origin.clone(),
                    qual: None,
                });
            }
        }
        if let (Some(k), None) = (&ot.primary_key, &nt.primary_key) {
            removed.push(Object {
                kind: "primary key",
                table: t.clone(),
                name: k.name.clone(),
                shape: String::new(),
                origin: k.origin.clone(),
                qual: None,
            });
        }
    }
    for (name, oe) in &old.enums {
        match new.enums.get(name) {
            None => removed.push(Object {
                kind: "enum",
                table: None,
                name: name.to_string(),
                shape: String::new(),
                origin: oe.origin.clone(),
                qual: Some(name.clone()),
            }),
            Some(ne) => {
                for v in oe.values.iter().filter(|v| !ne.values.contains(v)) {
                    removed.push(Object {
                        kind: "enum value",
                        table: None,
                        name: format!("{name}.{v}"),
                        shape: String::new(),
                        origin: oe.origin.clone(),
                        qual: Some(name.clone()),
                    });
                }
            }
        }
    }
    for (name, v) in &old.views {
        if !new.views.contains_key(name) && v.deprecated.is_none() {
            removed.push(view_object(v));
        }
    }
    for (id, r) in &old.routines {
        if !new.routines.contains_key(id) && r.deprecated.is_none() {
            removed.push(routine_object(r));
        }
    }
    removed
}

/// A trigger's shape: its definition under a name of none.
fn trigger_shape(t: &Trigger) -> String {
    let unnamed = Trigger {
        name: String::new(),
        comment: None,
        deprecated: None,
        origin: None,
        ..t.clone()
    };
    unnamed.create_sql(&QualName::new("", ""), false, true)
}

/// A policy's shape: what it allows, under a name of none.
fn policy_shape(p: &Policy) -> String {
    let unnamed = Policy {
        name: String::new(),
        comment: None,
        deprecated: None,
        origin: None,
        ..p.clone()
    };
    unnamed.create_sql(&QualName::new("", ""), true)
}

fn view_object(v: &View) -> Object {
    Object {
        kind: v.kind(),
        table: None,
        name: v.name.to_string(),
        shape: v.definition_key(),
        origin: v.origin.clone(),
        qual: Some(v.name.clone()),
    }
}

/// A routine: named with its argument types; shaped by everything but its name.
fn routine_object(r: &Routine) -> Object {
    Object {
        kind: r.kind(),
        table: None,
        name: r.id.to_string(),
        shape: format!(
            "{}\n{}",
            r.id.args,
            r.definition().split_once('\n').map_or("", |(_, rest)| rest)
        ),
        origin: r.origin.clone(),
        qual: Some(r.id.name.clone()),
    }
}

fn table_shape(t: &Table) -> String {
    t.columns
        .iter()
        .map(|c| format!("{} {}", c.name, c.ty))
        .collect::<Vec<_>>()
        .join(", ")
}

fn constraint_names(t: &Table) -> Vec<String> {
    constraints_of(t)
        .iter()
        .map(|c| c.name().to_string())
        .collect()
}
