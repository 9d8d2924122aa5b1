//! Exclusion constraints printed by PostgreSQL: where the files' definition
//! of an exclusion constraint differs in text from the database's constraint
//! of that name (`(lower(n))` against `lower(n)`, `with` against `WITH`, a
//! default operator class named), it is added to a probe: a temporary table
//! `LIKE` the live one, inside a savepoint that is rolled back, and
//! `pg_get_constraintdef(oid, true)` prints it as the catalog does. No lock
//! but ACCESS SHARE on the table; nothing any other session sees. Two round
//! trips, none when every definition already matches.

use std::collections::HashMap;

use crate::connect::db::{Db, SqlError};
use crate::model::names::quote_ident;
use crate::model::{Catalog, QualName};

const TABLE: &str = "reconcile_probe_xtab_";
const CONSTRAINT: &str = "reconcile_probe_excl_";

/// Replace the comparison key of each exclusion constraint of `desired`
/// whose text differs from the live one of that name by PostgreSQL's
/// printing of it. Errors: only when the savepoint cannot be rolled back; a
/// definition PostgreSQL rejects keeps the files' text (the plan then shows
/// it as changed, R007).
pub async fn canonicalize_exclusions(
    db: &Db,
    desired: &mut Catalog,
    live: &Catalog,
) -> Result<(), SqlError> {
    let mut probes: Vec<((QualName, String), Vec<String>)> = Vec::new();
    for (name, t) in &desired.tables {
        let Some(l) = live.tables.get(name) else {
            continue;
        };
        for x in &t.exclusions {
            let Some(lx) = l.exclusions.iter().find(|lx| lx.name == x.name) else {
                continue;
            };
            if lx.key == x.key {
                continue;
            }
            let k = probes.len();
            let rel = format!("pg_temp.{}", quote_ident(&format!("{TABLE}{k}")));
            probes.push((
                (name.clone(), x.name.clone()),
                vec![
                    format!("CREATE TEMP TABLE {rel} (LIKE {})", name.sql()),
                    format!(
                        "ALTER TABLE {rel} ADD CONSTRAINT {} {}",
                        quote_ident(&format!("{CONSTRAINT}{k}")),
                        x.definition()
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
        "SELECT coalesce(json_agg(json_build_array(co.conname, pg_get_constraintdef(co.oid, true))), '[]') \
         FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid \
         WHERE c.relnamespace = pg_my_temp_schema() AND co.contype = 'x' \
           AND co.conname LIKE '{CONSTRAINT}%'"
    );
    let Some(json) = super::run_probes(db, "reconcile_canon_excl", &groups, &read).await? else {
        return Ok(());
    };
    let printed: Vec<(String, String)> = serde_json::from_str(&json).map_err(|e| SqlError {
        message: format!("cannot read the canonical forms of exclusion constraints: {e}"),
        code: None,
        detail: None,
        hint: None,
        statement: None,
    })?;
    let mut by_probe: HashMap<usize, String> = HashMap::new();
    for (name, def) in printed {
        if let Some(k) = name
            .strip_prefix(CONSTRAINT)
            .and_then(|k| k.parse::<usize>().ok())
        {
            by_probe.insert(k, def);
        }
    }
    for (k, ((table, name), _)) in probes.iter().enumerate() {
        let Some(def) = by_probe.remove(&k) else {
            continue;
        };
        if let Some(x) = desired
            .tables
            .get_mut(table)
            .and_then(|t| t.exclusions.iter_mut().find(|x| &x.name == name))
        {
            x.key = def;
        }
    }
    Ok(())
}
