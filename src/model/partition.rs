//! Declared partitions (README "Partitions"): a partitioned table's
//! partitions, each with its bound, maybe partitioned in turn. Filled from the
//! files (`[tables.t.partitions.p]`) and from the catalog (`pg_inherits`,
//! `pg_get_expr(relpartbound, oid)`).

use serde::Serialize;

use crate::model::{Expr, Origin, QualName};

/// One partition of a partitioned table (`CREATE TABLE p PARTITION OF t FOR VALUES ...`).
/// Its columns, and the indexes and constraints of its parent, are PostgreSQL's
/// copies: nothing of them is declared or compared here.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Partition {
    pub name: QualName,
    /// The bound without `FOR VALUES`: `FROM ('2022-01-01') TO ('2022-02-01')`,
    /// `IN ('a', 'b')`, `WITH (MODULUS 4, REMAINDER 0)`, or `DEFAULT`. `sql` as
    /// written (printed by sqlparser) or as PostgreSQL prints it; `key` normalized.
    pub bound: Expr,
    /// Sub-partitioned: its own partition key (`RANGE (d)`).
    pub partition_by: Option<Expr>,
    /// Its own partitions, when it is partitioned.
    pub partitions: Vec<Partition>,
    pub comment: Option<String>,
    pub deprecated: Option<String>,
    pub origin: Option<Origin>,
}

impl Partition {
    /// `FOR VALUES FROM (...) TO (...)`, or `DEFAULT`, as DDL takes it.
    pub fn bound_sql(&self) -> String {
        bound_clause(&self.bound.sql)
    }

    /// Is it the default partition (`DEFAULT`)?
    pub fn is_default(&self) -> bool {
        self.bound.key == "DEFAULT"
    }
}

/// `FOR VALUES <bound>`, or `DEFAULT` for the default partition.
pub fn bound_clause(bound: &str) -> String {
    if bound.eq_ignore_ascii_case("DEFAULT") {
        "DEFAULT".to_string()
    } else {
        format!("FOR VALUES {bound}")
    }
}

/// Every partition under `parts`, depth first (a parent before its own
/// partitions), each with the name of the table it is a partition of.
pub fn walk<'a>(
    parent: &'a QualName,
    parts: &'a [Partition],
) -> Vec<(&'a QualName, &'a Partition)> {
    let mut out = Vec::new();
    fn go<'a>(
        parent: &'a QualName,
        parts: &'a [Partition],
        out: &mut Vec<(&'a QualName, &'a Partition)>,
    ) {
        for p in parts {
            out.push((parent, p));
            go(&p.name, &p.partitions, out);
        }
    }
    go(parent, parts, &mut out);
    out
}

/// What becomes of partitions in the database that the files do not declare
/// (`other_partitions` of the partitioned table).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum OtherPartitions {
    /// Listed as unmanaged, kept (the default).
    #[default]
    Report,
    /// Not listed at all: the application or pg_partman makes them at run time.
    Ignore,
}
