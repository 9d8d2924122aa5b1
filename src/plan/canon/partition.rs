//! Partition bounds printed by PostgreSQL: where a partition of the files has
//! another bound key than the database's partition of that name (the files
//! write `FROM ('2022-01-01')`, PostgreSQL prints a `timestamptz` bound as
//! `FROM ('2022-01-01 00:00:00+00')`), the files' bound is given to a probe:
//! a temporary table `LIKE` the parent, partitioned by the parent's key, and
//! a temporary partition of it with that bound, inside a savepoint that is
//! rolled back; `pg_get_expr(relpartbound, oid)` then prints it as the
//! catalog does. No lock but ACCESS SHARE on the parent; nothing any other
//! session sees. Two round trips, none when every bound already matches.

use std::collections::HashMap;

use crate::connect::db::{Db, SqlError};
use crate::desired::load::partition::bound_from_catalog;
use crate::model::names::quote_ident;
use crate::model::partition::walk;
use crate::model::{Catalog, Expr, QualName};

const PARENT: &str = "reconcile_probe_ppar_";
const PART: &str = "reconcile_probe_part_";

/// Replace the bound of each partition of `desired` whose key differs from
/// the live partition's of that name by PostgreSQL's printing of it.
/// Errors: only when the savepoint cannot be rolled back; a bound that
/// PostgreSQL rejects is left as the files wrote it (the plan then shows it).
pub async fn canonicalize_partitions(
    db: &Db,
    desired: &mut Catalog,
    live: &Catalog,
) -> Result<(), SqlError> {
    // Each live partition's bound, and the partition key of each live parent.
    let mut live_bounds: HashMap<&QualName, (&QualName, &Expr)> = HashMap::new();
    let mut keys: HashMap<&QualName, &Expr> = HashMap::new();
    for t in live.tables.values() {
        if let Some(k) = &t.partition_by {
            keys.insert(&t.name, k);
        }
        for (parent, p) in walk(&t.name, &t.partitions) {
            live_bounds.insert(&p.name, (parent, &p.bound));
            if let Some(k) = &p.partition_by {
                keys.insert(&p.name, k);
            }
        }
    }
    let mut probes: Vec<(QualName, Vec<String>)> = Vec::new();
    for t in desired.tables.values() {
        for (parent, p) in walk(&t.name, &t.partitions) {
            let Some(&(lparent, lbound)) = live_bounds.get(&p.name) else {
                continue;
            };
            let Some(key) = keys.get(parent) else {
                continue;
            };
            if lparent != parent || lbound.key == p.bound.key {
                continue;
            }
            let k = probes.len();
            probes.push((
                p.name.clone(),
                vec![
                    format!(
                        "CREATE TEMP TABLE {} (LIKE {}) PARTITION BY {}",
                        quote_ident(&format!("{PARENT}{k}")),
                        parent.sql(),
                        key.sql
                    ),
                    format!(
                        "CREATE TEMP TABLE {} PARTITION OF pg_temp.{} {}",
                        quote_ident(&format!("{PART}{k}")),
                        quote_ident(&format!("{PARENT}{k}")),
                        p.bound_sql()
                    ),
                ],
            ));
        }
    }
    if probes.is_empty() {
        return Ok(());
    }
    let groups: Vec<Vec<String>> = probes.iter().map(|(_, st)| st.clone()).collect();
    let read = format!(
        "SELECT coalesce(json_agg(json_build_array(c.relname, pg_get_expr(c.relpartbound, c.oid))), '[]') \
         FROM pg_class c WHERE c.relnamespace = pg_my_temp_schema() AND c.relispartition \
           AND c.relname LIKE '{PART}%'"
    );
    let Some(json) = super::run_probes(db, "reconcile_canon_part", &groups, &read).await? else {
        return Ok(());
    };
    let printed: Vec<(String, String)> = serde_json::from_str(&json).map_err(|e| SqlError {
        message: format!("cannot read the canonical forms of partition bounds: {e}"),
        code: None,
        detail: None,
        hint: None,
        statement: None,
    })?;
    let mut by_name: HashMap<QualName, Expr> = HashMap::new();
    for (rel, bound) in printed {
        let Some(k) = rel.strip_prefix(PART).and_then(|k| k.parse::<usize>().ok()) else {
            continue;
        };
        if let Some((name, _)) = probes.get(k) {
            by_name.insert(name.clone(), bound_from_catalog(&bound));
        }
    }
    for t in desired.tables.values_mut() {
        set_bounds(&mut t.partitions, &by_name);
    }
    Ok(())
}

fn set_bounds(parts: &mut [crate::model::Partition], by_name: &HashMap<QualName, Expr>) {
    for p in parts {
        if let Some(b) = by_name.get(&p.name) {
            p.bound = b.clone();
        }
        set_bounds(&mut p.partitions, by_name);
    }
}
