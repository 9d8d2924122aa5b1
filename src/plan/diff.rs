//! The differ: two catalogs in, typed changes out. Pure: no SQL text, no I/O.
//! Deciding what is allowed is the business of `rules`; writing SQL, of `render`.

mod code;
pub(crate) mod grants;
mod partition;
mod policy;
mod tsconfig;
mod types;

use crate::model::{
    Catalog, Check, Column, Domain, EnumType, Expr, ForeignKey, Index, Key, QualName, Routine,
    RoutineId, Sequence, Table, TableStats, Trigger, UnmanagedObject, UserType, View,
};

/// A constraint that can be added to an existing table.
#[derive(Clone, Debug)]
pub enum Constraint {
    Unique(Key),
    Check(Check),
    ForeignKey(ForeignKey),
    /// `EXCLUDE USING ...` (`model::exclusion`).
    Exclusion(crate::model::exclusion::Exclusion),
}

impl Constraint {
    pub fn name(&self) -> &str {
        match self {
            Constraint::Unique(k) => &k.name,
            Constraint::Check(c) => &c.name,
            Constraint::ForeignKey(f) => &f.name,
            Constraint::Exclusion(x) => &x.name,
        }
    }
    /// The definition as compared and shown: `UNIQUE (a, b)`, `CHECK (expr)`, `FOREIGN KEY ...`.
    pub fn definition(&self) -> String {
        match self {
            Constraint::Unique(k) => format!("UNIQUE {}", k.body()),
            Constraint::Check(c) => c.definition(false),
            Constraint::ForeignKey(f) => f.definition(),
            Constraint::Exclusion(x) => x.definition(),
        }
    }
    fn compare_key(&self) -> String {
        match self {
            Constraint::Check(c) => c.definition(true),
            Constraint::Exclusion(x) => x.key.clone(),
            other => other.definition(),
        }
    }
    /// `pg_constraint.convalidated`: false for a constraint added `NOT VALID`.
    pub fn validated(&self) -> bool {
        match self {
            Constraint::Unique(_) => true,
            Constraint::Check(c) => c.validated,
            Constraint::ForeignKey(f) => f.validated,
            Constraint::Exclusion(_) => true,
        }
    }
    /// Why the files deprecate it (exclusion constraints only say so).
    pub fn deprecated(&self) -> Option<&str> {
        match self {
            Constraint::Exclusion(x) => x.deprecated.as_deref(),
            _ => None,
        }
    }
    pub fn origin(&self) -> Option<&crate::model::Origin> {
        match self {
            Constraint::Unique(k) => k.origin.as_ref(),
            Constraint::Check(c) => c.origin.as_ref(),
            Constraint::ForeignKey(f) => f.origin.as_ref(),
            Constraint::Exclusion(x) => x.origin.as_ref(),
        }
    }
}

/// What a comment is attached to.
#[derive(Clone, Debug)]
pub enum CommentTarget {
    Table(QualName),
    Column(QualName, String),
    /// An enum, a domain, a composite or a range type.
    Enum(QualName),
    Collation(QualName),
    /// A text search configuration.
    TsConfig(QualName),
    /// An index of a table (table, index name).
    Index(QualName, String),
    /// A constraint of a table (table, constraint name).
    Constraint(QualName, String),
    Sequence(QualName),
    /// A function (false) or a procedure (true).
    Routine(RoutineId, bool),
    /// A view, or a materialized view (true).
    View(QualName, bool),
    /// A trigger of a table (table, trigger name).
    Trigger(QualName, String),
    /// A row-level security policy of a table (table, policy name).
    Policy(QualName, String),
}

/// One difference between the files (desired) and the database (live).
#[derive(Clone, Debug)]
pub enum Change {
    CreateSchema {
        name: String,
    },
    CreateExtension {
        name: String,
        /// `WITH SCHEMA`, when the files name one.
        schema: Option<String>,
    },
    /// An extension in another schema than the files name (moving it would
    /// move every object it has, under the names that code uses).
    ChangeExtensionSchema {
        name: String,
        desired: String,
        live: String,
        origin: Option<crate::model::Origin>,
    },
    CreateEnum {
        en: EnumType,
    },
    AddEnumValue {
        name: QualName,
        value: String,
        after: Option<String>,
        before: Option<String>,
    },
    /// Existing enum values in another order than the files say.
    EnumOrderChanged {
        en: EnumType,
        live: Vec<String>,
    },
    CreateDomain {
        domain: Domain,
    },
    /// A domain whose type, default, nullability or checks differ.
    ChangeDomain {
        desired: Domain,
        live: Domain,
    },
    /// A composite or range type that the database lacks.
    CreateUserType {
        ty: UserType,
    },
    /// Attributes added at the end of an existing composite type (`ALTER
    /// TYPE ... ADD ATTRIBUTE`: no table that uses the type is rewritten;
    /// its stored values read the new attributes as NULL).
    AddAttributes {
        ty: crate::model::CompositeType,
        added: Vec<crate::model::Attribute>,
    },
    /// A composite or range type whose definition differs (refused, R007).
    ChangeUserType {
        desired: UserType,
        live: UserType,
    },
    CreateSequence {
        sequence: Sequence,
    },
    /// A sequence whose type, options or owner differ (ALTER SEQUENCE; its
    /// current value is never touched).
    AlterSequence {
        desired: Sequence,
        live: Sequence,
    },
    CreateTable {
        table: Table,
    },
    /// Partitioned in one and not the other, or by another key.
    /// Logged in one, UNLOGGED in the other (R007: `SET LOGGED` rewrites
    /// the table into the WAL, `SET UNLOGGED` lets a crash empty it).
    ChangePersistence {
        table: QualName,
        unlogged: bool,
        origin: Option<crate::model::Origin>,
    },
    ChangePartitioning {
        table: QualName,
        desired: Option<Expr>,
        live: Option<Expr>,
        origin: Option<crate::model::Origin>,
    },
    AddColumn {
        table: QualName,
        column: Column,
        stats: Option<TableStats>,
    },
    ChangeType {
        table: QualName,
        column: Column,
        live: Column,
    },
    SetDefault {
        table: QualName,
        column: Column,
        live: Option<Expr>,
    },
    /// An existing column without a default becomes `serial`: its sequence
    /// is created, owned by it, set past the column's largest value, and
    /// made its default.
    MakeSerial {
        table: QualName,
        column: Column,
    },
    DropDefault {
        table: QualName,
        column: Column,
        live: Expr,
    },
    SetNotNull {
        table: QualName,
        column: Column,
    },
    DropNotNull {
        table: QualName,
        column: Column,
    },
    ChangeIdentity {
        table: QualName,
        column: Column,
        live: Column,
    },
    /// The options of an identity column's sequence differ.
    SetIdentityOptions {
        table: QualName,
        column: Column,
        live: Column,
    },
    ChangeGenerated {
        table: QualName,
        column: Column,
        live: Column,
    },
    ChangePrimaryKey {
        table: QualName,
        desired: Key,
        live: Option<Key>,
    },
    AddConstraint {
        table: QualName,
        constraint: Constraint,
        stats: Option<TableStats>,
    },
    ChangeConstraint {
        table: QualName,
        desired: Constraint,
        live: Constraint,
    },
    CreateIndex {
        table: QualName,
        index: Index,
        stats: Option<TableStats>,
    },
    /// An index left invalid by a failed concurrent build, where the files want
    /// an index or a unique constraint of that name: dropped, then built again.
    DropInvalidIndex {
        table: QualName,
        name: String,
        stats: Option<TableStats>,
    },
    /// A unique constraint the files want, whose index is already built (by an
    /// online apply stopped before it attached it): attached, not built again.
    AttachUniqueIndex {
        table: QualName,
        key: Key,
    },
    /// A constraint the files want, present but not validated (added `NOT VALID`
    /// by an online apply that was interrupted).
    ValidateConstraint {
        table: QualName,
        name: String,
        stats: Option<TableStats>,
    },
    ChangeIndex {
        table: QualName,
        desired: Index,
        live: Index,
    },
    SetComment {
        target: CommentTarget,
        comment: String,
    },
    /// Row level security (or its FORCE) to switch on as the files say;
    /// `None` leaves that switch alone.
    SetRowSecurity {
        table: QualName,
        enable: Option<bool>,
        force: Option<bool>,
    },
    /// Row level security (`forced`: its FORCE) on in the database and off
    /// in the files: refused (R007), never switched off by a plan.
    DisableRowSecurity {
        table: QualName,
        forced: bool,
        origin: Option<crate::model::Origin>,
    },
    CreatePolicy {
        table: QualName,
        policy: crate::model::Policy,
        stats: Option<TableStats>,
    },
    /// A policy whose command, kind, roles or expressions differ (R007).
    ChangePolicy {
        table: QualName,
        desired: crate::model::Policy,
        live: crate::model::Policy,
    },
    CreateRoutine {
        routine: Routine,
    },
    /// Same signature, another body or attributes: `CREATE OR REPLACE`.
    ReplaceRoutine {
        desired: Routine,
        live: Routine,
    },
    /// Another return type, argument names or defaults, or kind: PostgreSQL
    /// cannot replace it in place (R007).
    ChangeRoutineSignature {
        desired: Routine,
        live: Routine,
    },
    CreateView {
        view: View,
    },
    /// `CREATE OR REPLACE VIEW`: the columns kept, new ones at the end.
    ReplaceView {
        desired: View,
        live: View,
    },
    /// A view PostgreSQL cannot replace in place, a materialized view whose
    /// query changed (R007).
    ChangeView {
        desired: View,
        live: View,
        why: String,
    },
    CreateTrigger {
        table: QualName,
        trigger: Trigger,
        stats: Option<TableStats>,
    },
    /// `CREATE OR REPLACE TRIGGER`.
    ReplaceTrigger {
        table: QualName,
        desired: Trigger,
        live: Trigger,
        stats: Option<TableStats>,
    },
    /// Privileges the files list and the database lacks (`diff::grants`):
    /// `GRANT`, additive.
    Grant {
        target: crate::model::grants::Target,
        grantee: String,
        privileges: Vec<crate::model::grants::Privilege>,
        grant_option: bool,
        origin: Option<crate::model::Origin>,
    },
    /// A partition the files declare and the database lacks (`CREATE TABLE
    /// ... PARTITION OF`; online, `LIKE` the parent then `ATTACH PARTITION`).
    /// `parent_exists`: the parent is in the database already.
    /// `default_partition`: the parent's default partition, which an attach scans.
    CreatePartition {
        parent: QualName,
        partition: crate::model::Partition,
        parent_exists: bool,
        default_partition: Option<QualName>,
    },
    /// A plain table of the database that the files declare a partition:
    /// `ALTER TABLE parent ATTACH PARTITION` (its rows are checked against the bound).
    AttachPartition {
        parent: QualName,
        partition: crate::model::Partition,
        stats: Option<TableStats>,
    },
    /// A partition whose bound or parent differs (R007): `desired` and `live`
    /// as `PARTITION OF parent FOR VALUES ...`.
    ChangePartitionBound {
        parent: QualName,
        partition: QualName,
        desired: String,
        live: String,
        origin: Option<crate::model::Origin>,
    },
    /// In the database, not in the files: kept, never dropped (R001).
    Unmanaged {
        object: UnmanagedObject,
        table: Option<QualName>,
    },
}

impl Change {
    /// The table a change belongs to, if any.
    pub fn table(&self) -> Option<&QualName> {
        match self {
            Change::CreateTable { table } => Some(&table.name),
            Change::AddColumn { table, .. }
            | Change::ChangeType { table, .. }
            | Change::SetDefault { table, .. }
            | Change::MakeSerial { table, .. }
            | Change::DropDefault { table, .. }
            | Change::SetNotNull { table, .. }
            | Change::DropNotNull { table, .. }
            | Change::ChangeIdentity { table, .. }
            | Change::SetIdentityOptions { table, .. }
            | Change::ChangeGenerated { table, .. }
            | Change::ChangePrimaryKey { table, .. }
            | Change::AddConstraint { table, .. }
            | Change::ChangeConstraint { table, .. }
            | Change::CreateIndex { table, .. }
            | Change::DropInvalidIndex { table, .. }
            | Change::AttachUniqueIndex { table, .. }
            | Change::ValidateConstraint { table, .. }
            | Change::ChangeIndex { table, .. }
            | Change::ChangePartitioning { table, .. }
            | Change::ChangePersistence { table, .. }
            | Change::SetRowSecurity { table, .. }
            | Change::DisableRowSecurity { table, .. }
            | Change::CreatePolicy { table, .. }
            | Change::ChangePolicy { table, .. }
            | Change::CreateTrigger { table, .. }
            | Change::ReplaceTrigger { table, .. } => Some(table),
            Change::CreatePartition { parent, .. }
            | Change::AttachPartition { parent, .. }
            | Change::ChangePartitionBound { parent, .. } => Some(parent),
            Change::SetComment {
                target:
                    CommentTarget::Table(t)
                    | CommentTarget::Column(t, _)
                    | CommentTarget::Index(t, _)
                    | CommentTarget::Constraint(t, _)
                    | CommentTarget::Trigger(t, _)
                    | CommentTarget::Policy(t, _),
                ..
            } => Some(t),
            Change::Unmanaged { table, .. } => table.as_ref(),
            _ => None,
        }
    }
}

/// Compare the files with the database.
pub fn diff(desired: &Catalog, live: &Catalog) -> Vec<Change> {
    let mut changes = Vec::new();

    for s in &desired.schemas {
        if !live.schemas.contains(s) {
            changes.push(Change::CreateSchema { name: s.clone() });
        }
    }
    for (name, e) in &desired.extensions {
        match live.extensions.get(name) {
            None => changes.push(Change::CreateExtension {
                name: name.clone(),
                schema: e.schema.clone(),
            }),
            Some(l) => {
                if let (Some(d), Some(l)) = (&e.schema, &l.schema) {
                    if d != l {
                        changes.push(Change::ChangeExtensionSchema {
                            name: name.clone(),
                            desired: d.clone(),
                            live: l.clone(),
                            origin: e.origin.clone(),
                        });
                    }
                }
            }
        }
    }
    for (name, en) in &desired.enums {
        match live.enums.get(name) {
            None => changes.push(Change::CreateEnum { en: en.clone() }),
            Some(l) => diff_enum(en, l, &mut changes),
        }
    }
    for (name, d) in &desired.domains {
        match live.domains.get(name) {
            None => changes.push(Change::CreateDomain { domain: d.clone() }),
            Some(l) => {
                // A collation is compared when the files give one; left out,
                // the database's stays (ALTER DOMAIN cannot change it).
                let d = &Domain {
                    collation: d.collation.clone().or_else(|| l.collation.clone()),
                    ..d.clone()
                };
                if d.definition(true) != l.definition(true) {
                    changes.push(Change::ChangeDomain {
                        desired: d.clone(),
                        live: l.clone(),
                    });
                }
                set_comment(
                    &mut changes,
                    CommentTarget::Enum(name.clone()),
                    &d.comment,
                    &l.comment,
                );
            }
        }
    }
    types::diff_user_types(desired, live, &mut changes);
    tsconfig::diff_ts_configs(desired, live, &mut changes);
    // Sequences are created when missing, and altered when their type,
    // options or owner differ; their current value is never compared (`nextval`
    // moves it, and a restart is never what a deploy wants).
    for (name, s) in &desired.sequences {
        match live.sequences.get(name) {
            None => changes.push(Change::CreateSequence {
                sequence: s.clone(),
            }),
            Some(l) => {
                if s.ty != l.ty || s.options != l.options || s.owned_by != l.owned_by {
                    changes.push(Change::AlterSequence {
                        desired: s.clone(),
                        live: l.clone(),
                    });
                }
                set_comment(
                    &mut changes,
                    CommentTarget::Sequence(name.clone()),
                    &s.comment,
                    &l.comment,
                );
            }
        }
    }
    for (name, t) in &desired.tables {
        match live.tables.get(name) {
            None => changes.push(Change::CreateTable { table: t.clone() }),
            Some(l) => {
                diff_table(t, l, &mut changes);
                code::diff_triggers(t, l, &mut changes);
                policy::diff_row_security(t, l, &mut changes);
            }
        }
    }
    code::diff_code(desired, live, &mut changes);
    grants::diff_grants(desired, live, &mut changes);
    partition::diff_partitions(desired, live, &mut changes);
    let declared_partitions: std::collections::HashSet<&QualName> = desired
        .tables
        .values()
        .flat_map(|t| crate::model::partition::walk(&t.name, &t.partitions))
        .map(|(_, p)| &p.name)
        .collect();

    // What the database has and the files do not.
    let unmanaged = |kind: &str, name: String| Change::Unmanaged {
        object: UnmanagedObject {
            kind: kind.into(),
            name,
            belongs_to: None,
        },
        table: None,
    };
    for s in &live.schemas {
        if s != "public" && !desired.schemas.contains(s) {
            changes.push(unmanaged("schema", s.clone()));
        }
    }
    list_missing(
        "extension",
        &live.extensions,
        &desired.extensions,
        &mut changes,
    );
    list_missing("enum", &live.enums, &desired.enums, &mut changes);
    list_missing("domain", &live.domains, &desired.domains, &mut changes);
    list_missing(
        "sequence",
        &live.sequences,
        &desired.sequences,
        &mut changes,
    );
    for (name, t) in &live.tables {
        if !desired.tables.contains_key(name) && !declared_partitions.contains(name) {
            changes.push(unmanaged("table", name.to_string()));
            for tr in &t.triggers {
                changes.push(unmanaged("trigger", format!("{} on {name}", tr.name)));
            }
            for p in &t.policies {
                changes.push(unmanaged("policy", format!("{} on {name}", p.name)));
            }
        }
    }
    for o in &live.unmanaged {
        changes.push(Change::Unmanaged {
            object: o.clone(),
            table: None,
        });
    }
    changes
}

/// A comment the files give that the database lacks or has otherwise is set;
/// one the files leave out is kept.
/// Each object of `live` whose key `desired` lacks, listed as unmanaged
/// `kind` (kept, never dropped).
pub(super) fn list_missing<K, V, W>(
    kind: &str,
    live: &indexmap::IndexMap<K, V>,
    desired: &indexmap::IndexMap<K, W>,
    changes: &mut Vec<Change>,
) where
    K: std::hash::Hash + Eq + std::fmt::Display,
{
    for name in live.keys().filter(|k| !desired.contains_key(*k)) {
        changes.push(Change::Unmanaged {
            object: UnmanagedObject {
                kind: kind.into(),
                name: name.to_string(),
                belongs_to: None,
            },
            table: None,
        });
    }
}

fn set_comment(
    changes: &mut Vec<Change>,
    target: CommentTarget,
    desired: &Option<String>,
    live: &Option<String>,
) {
    if let Some(c) = desired {
        if live.as_ref() != Some(c) {
            changes.push(Change::SetComment {
                target,
                comment: c.clone(),
            });
        }
    }
}

fn diff_enum(desired: &EnumType, live: &EnumType, changes: &mut Vec<Change>) {
    let common: Vec<&String> = desired
        .values
        .iter()
        .filter(|v| live.values.contains(v))
        .collect();
    let live_common: Vec<&String> = live
        .values
        .iter()
        .filter(|v| desired.values.contains(v))
        .collect();
    if common != live_common {
        changes.push(Change::EnumOrderChanged {
            en: desired.clone(),
            live: live.values.clone(),
        });
        return;
    }
    for (i, v) in desired.values.iter().enumerate() {
        if live.values.contains(v) {
            continue;
        }
        // Place it after the nearest earlier value (existing or added just before), else before the next existing one.
        let after = desired.values[..i].last().cloned();
        let before = if after.is_none() {
            desired.values[i + 1..]
                .iter()
                .find(|x| live.values.contains(x))
                .cloned()
        } else {
            None
        };
        changes.push(Change::AddEnumValue {
            name: desired.name.clone(),
            value: v.clone(),
            after,
            before,
        });
    }
    for v in &live.values {
        if !desired.values.contains(v) {
            changes.push(Change::Unmanaged {
                object: UnmanagedObject {
                    kind: "enum value".into(),
                    name: format!("{}.{v}", desired.name),
                    belongs_to: None,
                },
                table: None,
            });
        }
    }
    set_comment(
        changes,
        CommentTarget::Enum(desired.name.clone()),
        &desired.comment,
        &live.comment,
    );
}

fn diff_table(desired: &Table, live: &Table, changes: &mut Vec<Change>) {
    let tname = &desired.name;
    let mut stats = live.stats.clone();
    // An index built partition by partition (online) needs every partition
    // it will have: those the plan creates or attaches too, which exist by
    // the time the index is built (phase 2), else the parent's index would
    // stay invalid.
    if let Some(st) = stats.as_mut().filter(|st| st.partitioned) {
        let mut all: Vec<(QualName, QualName, bool)> =
            crate::model::partition::walk(&desired.name, &desired.partitions)
                .into_iter()
                .map(|(parent, p)| (parent.clone(), p.name.clone(), p.partition_by.is_some()))
                .collect();
        for l in &st.partitions {
            if !all.iter().any(|a| a.1 == l.1) {
                all.push(l.clone());
            }
        }
        st.partitions = all;
    }
    if desired.partition_by.as_ref().map(|p| &p.key) != live.partition_by.as_ref().map(|p| &p.key) {
        changes.push(Change::ChangePartitioning {
            table: tname.clone(),
            desired: desired.partition_by.clone(),
            live: live.partition_by.clone(),
            origin: desired.origin.clone(),
        });
    }
    match (desired.unlogged, live.unlogged) {
        (Some(d), Some(l)) if d != l => changes.push(Change::ChangePersistence {
            table: tname.clone(),
            unlogged: d,
            origin: desired.origin.clone(),
        }),
        (None, Some(true)) => changes.push(Change::Unmanaged {
            object: UnmanagedObject {
                kind: "unlogged table".into(),
                name: tname.to_string(),
                belongs_to: None,
            },
            table: Some(tname.clone()),
        }),
        _ => {}
    }
    for col in &desired.columns {
        match live.column(&col.name) {
            None => changes.push(Change::AddColumn {
                table: tname.clone(),
                column: col.clone(),
                stats: stats.clone(),
            }),
            Some(l) => {
                let in_live_key = live
                    .primary_key
                    .as_ref()
                    .is_some_and(|k| k.columns.contains(&l.name));
                diff_column(tname, col, l, in_live_key, changes)
            }
        }
    }
    for l in &live.columns {
        if desired.column(&l.name).is_none() {
            changes.push(Change::Unmanaged {
                object: UnmanagedObject {
                    kind: "column".into(),
                    name: format!("{tname}.{}", l.name),
                    belongs_to: None,
                },
                table: Some(tname.clone()),
            });
        }
    }

    match (&desired.primary_key, &live.primary_key) {
        (Some(d), Some(l)) if d.name == l.name && d.body() == l.body() => {}
        (Some(d), l) => changes.push(Change::ChangePrimaryKey {
            table: tname.clone(),
            desired: d.clone(),
            live: l.clone(),
        }),
        (None, Some(l)) => changes.push(Change::Unmanaged {
            object: UnmanagedObject {
                kind: "constraint".into(),
                name: format!("{} on {tname}", l.name),
                belongs_to: None,
            },
            table: Some(tname.clone()),
        }),
        (None, None) => {}
    }

    let textual = |c: &str| is_textual(desired, c) && is_textual(live, c);
    let column_type = |c: &str| desired.column(c).map(|c| c.ty.clone());
    let desired_cons: Vec<Constraint> = constraints_of(desired);
    let live_cons: Vec<Constraint> = constraints_of(live);
    for d in &desired_cons {
        match live_cons.iter().find(|l| l.name() == d.name()) {
            None => {
                // A unique constraint added online is built as an index first:
                // an invalid index of its name is what a failed build left; a
                // valid one, a build that finished before the apply stopped.
                if let Constraint::Unique(k) = d {
                    match live.indexes.iter().find(|i| i.name == k.name) {
                        Some(l) if l.valid && backs_unique(l, k) => {
                            changes.push(Change::AttachUniqueIndex {
                                table: tname.clone(),
                                key: k.clone(),
                            });
                            continue;
                        }
                        Some(l) if !l.valid => changes.push(Change::DropInvalidIndex {
                            table: tname.clone(),
                            name: l.name.clone(),
                            stats: stats.clone(),
                        }),
                        _ => {}
                    }
                }
                changes.push(Change::AddConstraint {
                    table: tname.clone(),
                    constraint: d.clone(),
                    stats: stats.clone(),
                })
            }
            Some(l) => {
                if !same_constraint(d, l, &textual) {
                    changes.push(Change::ChangeConstraint {
                        table: tname.clone(),
                        desired: d.clone(),
                        live: l.clone(),
                    });
                } else if d.validated() && !l.validated() {
                    changes.push(Change::ValidateConstraint {
                        table: tname.clone(),
                        name: l.name().to_string(),
                        stats: stats.clone(),
                    });
                }
            }
        }
    }
    for l in &live_cons {
        if !desired_cons.iter().any(|d| d.name() == l.name()) {
            changes.push(Change::Unmanaged {
                object: UnmanagedObject {
                    kind: "constraint".into(),
                    name: format!("{} on {tname}", l.name()),
                    belongs_to: None,
                },
                table: Some(tname.clone()),
            });
        }
    }

    for d in &desired.indexes {
        match live.indexes.iter().find(|l| l.name == d.name) {
            None => changes.push(Change::CreateIndex {
                table: tname.clone(),
                index: d.clone(),
                stats: stats.clone(),
            }),
            // Left invalid by a failed concurrent build: no query uses it, so
            // it is dropped and built again as the files define it.
            Some(l) if !l.valid => {
                changes.push(Change::DropInvalidIndex {
                    table: tname.clone(),
                    name: l.name.clone(),
                    stats: stats.clone(),
                });
                changes.push(Change::CreateIndex {
                    table: tname.clone(),
                    index: d.clone(),
                    stats: stats.clone(),
                });
            }
            Some(l) => {
                if !same_index(d, l, &textual, &column_type) {
                    changes.push(Change::ChangeIndex {
                        table: tname.clone(),
                        desired: d.clone(),
                        live: l.clone(),
                    });
                }
                set_comment(
                    changes,
                    CommentTarget::Index(tname.clone(), d.name.clone()),
                    &d.comment,
                    &l.comment,
                );
            }
        }
    }
    for l in &live.indexes {
        // An index named as a unique constraint the table still lacks is
        // rebuilt or attached (see above).
        let for_constraint = desired.uniques.iter().any(|u| {
            u.name == l.name
                && (!l.valid || backs_unique(l, u))
                && !live.uniques.iter().any(|x| x.name == u.name)
        });
        if !desired.indexes.iter().any(|d| d.name == l.name) && !for_constraint {
            changes.push(Change::Unmanaged {
                object: UnmanagedObject {
                    kind: "index".into(),
                    name: format!("{} on {tname}", l.name),
                    belongs_to: None,
                },
                table: Some(tname.clone()),
            });
        }
    }

    // Comments on constraints: set as the files say; one they leave out is
    // kept and listed.
    for (name, c) in &desired.constraint_comments {
        if live.constraint_comments.get(name) != Some(c) {
            changes.push(Change::SetComment {
                target: CommentTarget::Constraint(tname.clone(), name.clone()),
                comment: c.clone(),
            });
        }
    }
    for name in live.constraint_comments.keys() {
        if !desired.constraint_comments.contains_key(name) {
            changes.push(Change::Unmanaged {
                object: UnmanagedObject {
                    kind: "comment on constraint".into(),
                    name: format!("{name} on {tname}"),
                    belongs_to: None,
                },
                table: Some(tname.clone()),
            });
        }
    }

    set_comment(
        changes,
        CommentTarget::Table(tname.clone()),
        &desired.comment,
        &live.comment,
    );
    for col in &desired.columns {
        if let (Some(c), Some(l)) = (&col.comment, live.column(&col.name)) {
            if l.comment.as_ref() != Some(c) {
                changes.push(Change::SetComment {
                    target: CommentTarget::Column(tname.clone(), col.name.clone()),
                    comment: c.clone(),
                });
            }
        }
    }
}

/// Whether column `c` of `t` is `text` or `varchar`, whose cast to text is a no-op.
fn is_textual(t: &Table, c: &str) -> bool {
    t.column(c).is_some_and(|c| {
        c.ty == "text" || (c.ty.starts_with("character varying") && !c.ty.ends_with(']'))
    })
}

/// Two constraints of one name define the same thing (checks: see `expr::equivalent_keys`).
fn same_constraint(d: &Constraint, l: &Constraint, textual: &dyn Fn(&str) -> bool) -> bool {
    match (d, l) {
        (Constraint::Check(a), Constraint::Check(b)) => {
            a.no_inherit == b.no_inherit
                && crate::desired::expr::equivalent_keys(&a.expr.key, &b.expr.key, textual)
        }
        _ => {
            std::mem::discriminant(d) == std::mem::discriminant(l)
                && d.compare_key() == l.compare_key()
        }
    }
}

/// Two indexes of one name are the same index (expressions: see `expr::equivalent_keys`).
fn same_index(
    d: &Index,
    l: &Index,
    textual: &dyn Fn(&str) -> bool,
    column_type: &dyn Fn(&str) -> Option<String>,
) -> bool {
    if d.compare_key() == l.compare_key() {
        return true;
    }
    let loose = |i: &Index| {
        let mut i = i.clone();
        // A type's default operator class named is the one left out.
        let method = i.method.clone();
        for k in &mut i.keys {
            match &mut k.part {
                crate::model::IndexKeyPart::Column(c) => {
                    let default = column_type(c)
                        .and_then(|t| crate::desired::types::default_opclass(&method, &t));
                    if k.opclass
                        .as_ref()
                        .is_some_and(|o| o.schema.is_none() && default == Some(o.name.as_str()))
                    {
                        k.opclass = None;
                    }
                }
                crate::model::IndexKeyPart::Expression(e) => {
                    e.key = crate::desired::expr::loose_key(&e.key, textual);
                }
            }
        }
        if let Some(p) = i.predicate.as_mut() {
            p.key = crate::desired::expr::loose_key(&p.key, textual);
        }
        i.compare_key()
    };
    loose(d) == loose(l)
}

/// Whether `ALTER TABLE ... ADD CONSTRAINT k UNIQUE USING INDEX i` would give
/// the constraint `k`: a plain unique btree index on exactly its columns.
fn backs_unique(i: &Index, k: &Key) -> bool {
    i.unique
        && i.method == "btree"
        && i.predicate.is_none()
        && i.include == k.include
        && i.nulls_not_distinct == k.nulls_not_distinct
        && i.keys.len() == k.columns.len()
        && i.keys.iter().zip(&k.columns).all(|(ik, c)| {
            matches!(&ik.part, crate::model::IndexKeyPart::Column(n) if n == c)
                && ik.collation.is_none()
                && ik.opclass.is_none()
                && !ik.desc
                && !ik.nulls_first
        })
}

/// The unique, check, foreign key and exclusion constraints of a table.
pub fn constraints_of(t: &Table) -> Vec<Constraint> {
    t.uniques
        .iter()
        .cloned()
        .map(Constraint::Unique)
        .chain(t.checks.iter().cloned().map(Constraint::Check))
        .chain(t.foreign_keys.iter().cloned().map(Constraint::ForeignKey))
        .chain(t.exclusions.iter().cloned().map(Constraint::Exclusion))
        .collect()
}

/// `in_live_key`: the column belongs to the database's primary key, which keeps it NOT NULL.
fn diff_column(
    table: &QualName,
    d: &Column,
    l: &Column,
    in_live_key: bool,
    changes: &mut Vec<Change>,
) {
    let t = || table.clone();
    if d.ty != l.ty || d.collation != l.collation {
        changes.push(Change::ChangeType {
            table: t(),
            column: d.clone(),
            live: l.clone(),
        });
    }
    if d.identity != l.identity {
        changes.push(Change::ChangeIdentity {
            table: t(),
            column: d.clone(),
            live: l.clone(),
        });
    } else if d.identity.is_some() && d.identity_options != l.identity_options {
        changes.push(Change::SetIdentityOptions {
            table: t(),
            column: d.clone(),
            live: l.clone(),
        });
    }
    if d.generated.as_ref().map(|g| &g.key) != l.generated.as_ref().map(|g| &g.key) {
        changes.push(Change::ChangeGenerated {
            table: t(),
            column: d.clone(),
            live: l.clone(),
        });
    }
    if d.identity.is_none()
        && d.generated.is_none()
        && l.identity.is_none()
        && l.generated.is_none()
    {
        match (&d.default, &l.default) {
            (None, Some(ld)) => changes.push(Change::DropDefault {
                table: t(),
                column: d.clone(),
                live: ld.clone(),
            }),
            (Some(_), None) if d.serial.is_some() && l.serial.is_none() => {
                changes.push(Change::MakeSerial {
                    table: t(),
                    column: d.clone(),
                })
            }
            (Some(dd), ld) if ld.as_ref().map(|e| &e.key) != Some(&dd.key) => {
                changes.push(Change::SetDefault {
                    table: t(),
                    column: d.clone(),
                    live: ld.clone(),
                })
            }
            _ => {}
        }
    }
    if d.not_null && !l.not_null {
        changes.push(Change::SetNotNull {
            table: t(),
            column: d.clone(),
        });
    } else if !d.not_null && l.not_null && l.identity.is_none() && !in_live_key {
        changes.push(Change::DropNotNull {
            table: t(),
            column: d.clone(),
        });
    }
}
