//! Partitions as the catalog has them: read with the tables (`q_tables` reads
//! each partition's parent from `pg_inherits` and its bound with
//! `pg_get_expr(relpartbound, oid)`), then put under their parents here.
//!
//! What PostgreSQL copies onto a partition from its parent (columns, index
//! clones whose `pg_inherits` row names the parent's index, constraints with
//! `conparentid` or `coninhcount`) is the parent's: neither read nor listed.
//! What a partition has of its own (an index or a constraint made on it
//! alone) is listed as unmanaged by `q_unmanaged_on_partitions`.

use std::collections::HashMap;

use indexmap::IndexMap;

use crate::model::partition::walk;
use crate::model::{Partition, QualName, Table};

/// A partition read with the tables, before it is put under its parent.
pub(super) struct RawPart {
    pub oid: i64,
    pub parent: i64,
    pub partition: Partition,
}

/// Put each partition under its parent: a table of `tables` (found by oid in
/// `table_oids`), or another partition. Partitions come out in order of name.
/// A partition whose parent was not read (an extension's table) is left out.
/// Each table's `stats.partitions` lists them (for an index built online).
pub(super) fn nest(
    mut parts: Vec<RawPart>,
    tables: &mut IndexMap<QualName, Table>,
    table_oids: &HashMap<i64, QualName>,
) {
    parts.sort_unstable_by(|a, b| a.partition.name.cmp(&b.partition.name));
    let mut children: HashMap<i64, Vec<(i64, Partition)>> = HashMap::new();
    for p in parts {
        children
            .entry(p.parent)
            .or_default()
            .push((p.oid, p.partition));
    }
    fn take(oid: i64, children: &mut HashMap<i64, Vec<(i64, Partition)>>) -> Vec<Partition> {
        let Some(list) = children.remove(&oid) else {
            return Vec::new();
        };
        list.into_iter()
            .map(|(oid, mut p)| {
                p.partitions = take(oid, children);
                p
            })
            .collect()
    }
    let mut oids: Vec<(&i64, &QualName)> = table_oids.iter().collect();
    oids.sort_unstable_by(|a, b| a.1.cmp(b.1));
    for (oid, name) in oids {
        if let Some(t) = tables.get_mut(name) {
            t.partitions = take(*oid, &mut children);
            let listed = walk(&t.name, &t.partitions)
                .into_iter()
                .map(|(parent, p)| (parent.clone(), p.name.clone(), p.partition_by.is_some()))
                .collect();
            if let Some(stats) = &mut t.stats {
                stats.partitions = listed;
            }
        }
    }
}

/// A trigger `t` of a partition that PostgreSQL copied from its parent's
/// trigger of the same name (the parent's business, not listed).
pub(super) const CLONE_TRIGGER: &str = "EXISTS (SELECT 1 FROM pg_inherits h \
     JOIN pg_trigger pt ON pt.tgrelid = h.inhparent AND pt.tgname = t.tgname WHERE h.inhrelid = t.tgrelid)";

/// Rows for `q_unmanaged` (kind, name, belongs_to): an index or a constraint
/// that a partition has of its own, not copied from its parent. `rel` and
/// `of` are the catalog's expressions for a relation's name and owner.
pub(super) fn q_unmanaged_on_partitions(rel: &str, of: &str, schema_filter: &str) -> String {
    format!(
        "SELECT 'index', ic.relname || ' on ' || {rel}, {of} \
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relispartition AND {schema_filter} \
           AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid) \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = i.indexrelid AND co.conrelid = c.oid) \
         UNION ALL \
         SELECT 'constraint', co.conname || ' on ' || {rel}, {of} \
         FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relispartition AND co.conparentid = 0 AND co.coninhcount = 0 \
           AND co.contype IN ('p', 'u', 'f', 'c', 'x') AND {schema_filter}"
    )
}
