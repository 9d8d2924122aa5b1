//! The differ for declared partitions (`model::partition`). Pure, like the
//! rest of `diff`.
//!
//! A partition the files declare and the database lacks is created; a plain
//! table of the database that the files now declare a partition is attached;
//! one whose bound or parent differs is `ChangePartitionBound` (refused, R007);
//! a partition the database has and the files do not is listed as unmanaged
//! and kept, unless its top table says `other_partitions = "ignore"`.

use std::collections::{HashMap, HashSet};

use super::{set_comment, Change, CommentTarget};
use crate::model::partition::walk;
use crate::model::{Catalog, OtherPartitions, Partition, QualName, Table, UnmanagedObject};

/// The partitions of every table of `desired` against `live`.
pub(super) fn diff_partitions(desired: &Catalog, live: &Catalog, changes: &mut Vec<Change>) {
    // Every live partition by name, with its parent.
    let live_parts: HashMap<&QualName, (&QualName, &Partition)> = live
        .tables
        .values()
        .flat_map(|t| walk(&t.name, &t.partitions))
        .map(|(parent, p)| (&p.name, (parent, p)))
        .collect();
    for t in desired.tables.values() {
        let live_table = live.tables.get(&t.name);
        for (parent, d) in walk(&t.name, &t.partitions) {
            let Some(&(live_parent, l)) = live_parts.get(&d.name) else {
                if let Some(plain) = live.tables.get(&d.name) {
                    changes.push(Change::AttachPartition {
                        parent: parent.clone(),
                        partition: leaf(d),
                        stats: plain.stats.clone(),
                    });
                } else {
                    changes.push(Change::CreatePartition {
                        parent: parent.clone(),
                        partition: leaf(d),
                        parent_exists: (live_table.is_some() && parent == &t.name)
                            || live_parts.contains_key(parent),
                        default_partition: default_of(live, &live_parts, parent),
                    });
                }
                continue;
            };
            if live_parent != parent || l.bound.key != d.bound.key {
                changes.push(Change::ChangePartitionBound {
                    parent: parent.clone(),
                    partition: d.name.clone(),
                    desired: format!("PARTITION OF {parent} {}", d.bound_sql()),
                    live: format!("PARTITION OF {live_parent} {}", l.bound_sql()),
                    origin: d.origin.clone(),
                });
            }
            if d.partition_by.as_ref().map(|p| &p.key) != l.partition_by.as_ref().map(|p| &p.key) {
                changes.push(Change::ChangePartitioning {
                    table: d.name.clone(),
                    desired: d.partition_by.clone(),
                    live: l.partition_by.clone(),
                    origin: d.origin.clone(),
                });
            }
            set_comment(
                changes,
                CommentTarget::Table(d.name.clone()),
                &d.comment,
                &l.comment,
            );
        }
        if let Some(lt) = live_table {
            unmanaged_partitions(t, lt, changes);
        }
    }
}

/// The live partitions under `live` (a table of the files) that the files do not
/// declare anywhere under `desired`: listed, kept.
fn unmanaged_partitions(desired: &Table, live: &Table, changes: &mut Vec<Change>) {
    if desired.other_partitions == OtherPartitions::Ignore {
        return;
    }
    let declared: HashSet<&QualName> = walk(&desired.name, &desired.partitions)
        .into_iter()
        .map(|(_, p)| &p.name)
        .collect();
    for (parent, l) in walk(&live.name, &live.partitions) {
        // Under an undeclared partition, its own partitions go with it.
        if declared.contains(&l.name) || !(parent == &live.name || declared.contains(parent)) {
            continue;
        }
        changes.push(Change::Unmanaged {
            object: UnmanagedObject {
                kind: "partition".into(),
                name: l.name.to_string(),
                belongs_to: None,
            },
            table: Some(desired.name.clone()),
        });
    }
}

/// The live default partition of `parent`, if any (attaching a partition
/// beside it scans it).
fn default_of(
    live: &Catalog,
    live_parts: &HashMap<&QualName, (&QualName, &Partition)>,
    parent: &QualName,
) -> Option<QualName> {
    let children = match live.tables.get(parent) {
        Some(t) => &t.partitions,
        None => &live_parts.get(parent)?.1.partitions,
    };
    children
        .iter()
        .find(|p| p.is_default())
        .map(|p| p.name.clone())
}

/// The partition alone (its own partitions are changes of their own).
fn leaf(p: &Partition) -> Partition {
    Partition {
        partitions: Vec::new(),
        ..p.clone()
    }
}
