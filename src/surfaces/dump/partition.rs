//! `dump` of declared partitions: each under its parent, as the files write
//! them (`[tables.t.partitions.p]`, `bound` as PostgreSQL prints it without
//! `FOR VALUES`, `default = true`, a sub-partitioned one's `partition_by` and
//! its own `partitions`), so that the dump plans empty against its source.

use std::fmt::Write;

use super::{header, key, string};
use crate::model::{key_part, Partition, QualName, Table};

/// The partitions of `t` (nothing when it has none), after the table's own
/// keys. (A database has no `other_partitions`: every partition is written.)
pub(super) fn write_partitions(out: &mut String, t: &Table) {
    write_level(out, &t.name, &t.name, "partitions", &t.partitions);
}

fn write_level(
    out: &mut String,
    top: &QualName,
    parent: &QualName,
    path: &str,
    parts: &[Partition],
) {
    for p in parts {
        // In the parent's schema the key is the name alone; elsewhere, qualified.
        let name = if p.name.schema == parent.schema {
            key_part(&p.name.name)
        } else {
            format!("{}.{}", key_part(&p.name.schema), key_part(&p.name.name))
        };
        let here = format!("{path}.{}", key(&name));
        let _ = writeln!(out, "\n{}", header("tables", top, Some(&here)));
        if p.is_default() {
            let _ = writeln!(out, "default = true");
        } else {
            let _ = writeln!(out, "bound = {}", string(&p.bound.sql));
        }
        if let Some(k) = &p.partition_by {
            let _ = writeln!(out, "partition_by = {}", string(&k.sql));
        }
        if let Some(c) = &p.comment {
            let _ = writeln!(out, "comment = {}", string(c));
        }
        if let Some(d) = &p.deprecated {
            let _ = writeln!(out, "deprecated = {}", string(d));
        }
        write_level(
            out,
            top,
            &p.name,
            &format!("{here}.partitions"),
            &p.partitions,
        );
    }
}
