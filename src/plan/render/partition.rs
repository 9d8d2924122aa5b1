//! Statements for declared partitions: `create-partition:p` and
//! `attach-partition:p`, after the new tables (a parent before its partitions,
//! in the differ's order) and before the changes to existing tables.
//!
//! Locks, as `pg_locks` shows them on PostgreSQL 15: `CREATE TABLE p PARTITION
//! OF t` takes ACCESS EXCLUSIVE on `t` (readers and writers of `t` wait for
//! the end of the transaction); `ALTER TABLE t ATTACH PARTITION p` takes SHARE
//! UPDATE EXCLUSIVE on `t` (readers and writers go on) and ACCESS EXCLUSIVE on
//! `p`. So online, a partition of an existing table is made `LIKE` its parent
//! and attached. Either way a default partition of `t` is scanned for rows
//! that belong to the new bound, under ACCESS EXCLUSIVE on it.

use super::{comment_stmt, Statement};
use crate::model::partition::bound_clause;
use crate::model::{Partition, QualName};
use crate::plan::diff::{Change, CommentTarget};

/// The partitions the plan creates or attaches, in plan order.
pub(super) fn render_partitions(changes: &[&Change], out: &mut Vec<Statement>) {
    for c in changes {
        match c {
            Change::CreatePartition {
                parent,
                partition,
                parent_exists,
                default_partition,
            } => {
                out.push(create_partition(
                    parent,
                    partition,
                    *parent_exists,
                    default_partition.as_ref(),
                ));
                if let Some(cm) = &partition.comment {
                    out.push(comment_stmt(
                        &CommentTarget::Table(partition.name.clone()),
                        cm,
                    ));
                }
            }
            Change::AttachPartition {
                parent,
                partition,
                stats,
            } => {
                let mut s = Statement::new(
                    format!("attach-partition:{}", partition.name),
                    attach_sql(parent, partition),
                    Some(parent),
                    "SHARE UPDATE EXCLUSIVE",
                )
                .hazard(Some(
                    "scans the table to check its rows against the bound (ACCESS EXCLUSIVE on it)",
                ))
                .warning(super::MAY_FAIL)
                .from(&partition.origin);
                if let Some(st) = stats {
                    s.table_rows = (st.rows >= 0.0).then_some(st.rows as i64);
                    s.table_bytes = (st.bytes >= 0).then_some(st.bytes);
                }
                out.push(s);
                if let Some(cm) = &partition.comment {
                    out.push(comment_stmt(
                        &CommentTarget::Table(partition.name.clone()),
                        cm,
                    ));
                }
            }
            _ => {}
        }
    }
}

/// `CREATE TABLE p PARTITION OF t FOR VALUES ... [PARTITION BY ...]`; online,
/// on a parent that exists, `CREATE TABLE p (LIKE t ...)` then `ATTACH PARTITION`.
fn create_partition(
    parent: &QualName,
    p: &Partition,
    parent_exists: bool,
    default_partition: Option<&QualName>,
) -> Statement {
    let id = format!("create-partition:{}", p.name);
    let sub = p
        .partition_by
        .as_ref()
        .map(|k| format!(" PARTITION BY {}", k.sql))
        .unwrap_or_default();
    let sql = format!(
        "CREATE TABLE {} PARTITION OF {} {}{sub}",
        p.name.sql(),
        parent.sql(),
        p.bound_sql()
    );
    let s = Statement::new(id.clone(), sql, Some(parent), "ACCESS EXCLUSIVE").from(&p.origin);
    if !parent_exists {
        return s;
    }
    let scan = default_partition
        .map(|d| {
            format!("; scans the default partition {d} for rows of the new bound (ACCESS EXCLUSIVE on it)")
        })
        .unwrap_or_default();
    s.hazard(Some(&format!(
        "blocks reads and writes of {parent} until the transaction ends (online: SHARE UPDATE EXCLUSIVE, writes go on){scan}"
    )))
    .online(
        1,
        id.clone(),
        format!(
            "CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED){sub}",
            p.name.sql(),
            parent.sql()
        ),
        "ACCESS SHARE",
    )
    .online(1, format!("{id}@attach"), attach_sql(parent, p), "SHARE UPDATE EXCLUSIVE")
}

/// `ALTER TABLE t ATTACH PARTITION p FOR VALUES ...`
fn attach_sql(parent: &QualName, p: &Partition) -> String {
    format!(
        "ALTER TABLE {} ATTACH PARTITION {} {}",
        parent.sql(),
        p.name.sql(),
        bound_clause(&p.bound.sql)
    )
}
