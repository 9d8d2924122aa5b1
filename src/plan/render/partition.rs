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

use super::{comment_stmt, index_sql, index_sql_concurrently, OnlineStep, Statement};
use crate::model::names::{quote_ident, MAX_IDENT_BYTES};
use crate::model::partition::bound_clause;
use crate::model::{Index, Partition, QualName};
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

/// The online form of a new index on an existing partitioned table with
/// partitions (PostgreSQL builds none on it CONCURRENTLY), all in phase 2,
/// outside a transaction: `CREATE INDEX name ON ONLY t` (invalid, empty: a
/// moment of SHARE on `t`), then on each partition `CREATE INDEX CONCURRENTLY`
/// (a sub-partitioned one: `ON ONLY` in turn, its own partitions, then it)
/// and `ALTER INDEX name ATTACH PARTITION`; PostgreSQL marks the index on `t`
/// valid once every partition has its index attached. Each partition's
/// index is named `<partition>_<index>`, cut to 63 bytes.
pub(super) fn online_index(
    mut s: Statement,
    table: &QualName,
    i: &Index,
    partitions: &[(QualName, QualName, bool)],
) -> Statement {
    let top = QualName::new(table.schema.clone(), i.name.clone());
    s.online.push(step(
        format!("create-index:{top}@only"),
        index_sql(&quote_ident(&i.name), &format!("ONLY {}", table.sql()), i),
        "SHARE",
        None,
    ));
    children(&mut s, table, &top, i, partitions);
    s
}

/// The indexes of the partitions of `parent` (whose index is `parent_index`), attached to it.
fn children(
    s: &mut Statement,
    parent: &QualName,
    parent_index: &QualName,
    i: &Index,
    partitions: &[(QualName, QualName, bool)],
) {
    for (of, p, partitioned) in partitions {
        if of != parent {
            continue;
        }
        let name = QualName::new(p.schema.clone(), child_name(&p.name, &i.name));
        let quoted = quote_ident(&name.name);
        if *partitioned {
            s.online.push(step(
                format!("create-index:{name}@only"),
                index_sql(&quoted, &format!("ONLY {}", p.sql()), i),
                "SHARE",
                None,
            ));
            children(s, p, &name, i, partitions);
        } else {
            s.online.push(step(
                format!("create-index:{name}"),
                index_sql_concurrently(&quoted, &p.sql(), i),
                "SHARE UPDATE EXCLUSIVE",
                Some(name.clone()),
            ));
        }
        s.online.push(step(
            format!("attach-index:{name}"),
            format!(
                "ALTER INDEX {} ATTACH PARTITION {}",
                parent_index.sql(),
                name.sql()
            ),
            "SHARE UPDATE EXCLUSIVE",
            None,
        ));
    }
}

fn step(id: String, sql: String, lock: &'static str, builds: Option<QualName>) -> OnlineStep {
    OnlineStep {
        phase: 2,
        id,
        sql,
        lock,
        builds_index: builds,
    }
}

/// `<partition>_<index>`, cut to PostgreSQL's 63 bytes at a character boundary.
fn child_name(partition: &str, index: &str) -> String {
    let mut n = format!("{partition}_{index}");
    let mut end = n.len().min(MAX_IDENT_BYTES);
    while !n.is_char_boundary(end) {
        end -= 1;
    }
    n.truncate(end);
    n
}
