//! Let PostgreSQL decide where our own normalization cannot. An expression of the
//! files whose normalized text differs from the database's (`status IN ('a')`
//! against `status = ANY (ARRAY['a'::text])`) is given to PostgreSQL on a
//! temporary copy of the live table, inside a savepoint that is rolled back, and
//! compared in the form PostgreSQL prints it. A fixed number of round trips,
//! and none at all when every expression already matches.

pub mod code;
pub mod exclusion;
pub mod partition;

use std::collections::HashMap;

use serde::Deserialize;

use crate::catalog::introspect::{index_from_raw, index_json_query, KeyContext, Names, RawIndex};
use crate::connect::db::{Db, SqlError};
use crate::desired::expr;
use crate::model::names::{dollar_quote, quote_ident, quote_literal};
use crate::model::{Catalog, IndexKeyPart, QualName};
use crate::plan::render::{create_domain, index_sql};

/// What a probe asks PostgreSQL to print.
enum Probe {
    Default {
        table: QualName,
        column: String,
    },
    Generated {
        table: QualName,
        column: String,
    },
    Check {
        table: QualName,
        name: String,
    },
    Index {
        table: QualName,
        name: String,
    },
    /// A domain's default and checks, on a temporary domain of its definition.
    Domain {
        name: QualName,
    },
}

const PREFIX: &str = "reconcile_probe_";

/// Where a probe's SQL names the probe table of the `t`-th probed table
/// until the tables are named: control characters around a name of ours,
/// which SQL of the files holds nowhere but, at the very most, in a literal.
fn placeholder(t: usize) -> String {
    format!("\u{1}{PREFIX}table_{t}\u{1}")
}

/// The probe tables' names: each named as its table where no other probed
/// table has that name, so that an expression naming its own table
/// (`t.price >= 0`) resolves on the copy as on the table; else numbered.
fn probe_table_names(tables: &[&QualName]) -> Vec<String> {
    let mut same_name: HashMap<&str, usize> = HashMap::new();
    for name in tables {
        *same_name.entry(name.name.as_str()).or_default() += 1;
    }
    tables
        .iter()
        .enumerate()
        .map(|(t, name)| {
            if same_name.get(name.name.as_str()) == Some(&1) {
                name.name.clone()
            } else {
                format!("{PREFIX}{t}")
            }
        })
        .collect()
}

/// Make the probes (`groups`, see [`probes_block`]) inside savepoint
/// `savepoint`, run `read` (one row, one JSON value), and roll the savepoint
/// back: the JSON text, or `None` when the probes could not be made at all
/// (no TEMP privilege, a read-only replica: compare as is) or `read` gave
/// no row. Errors: `read` failing, or the rollback.
pub(crate) async fn run_probes(
    db: &Db,
    savepoint: &str,
    groups: &[Vec<String>],
    read: &str,
) -> Result<Option<String>, SqlError> {
    let script = format!("SAVEPOINT {savepoint};\n{}", probes_block(groups));
    let rollback = format!("ROLLBACK TO SAVEPOINT {savepoint}; RELEASE SAVEPOINT {savepoint}");
    // One round trip: the probes, the read and the rollback are sent
    // together (tokio-postgres pipelines requests issued at once, and
    // `join3` issues them in order). When the probes could not be made, the
    // read fails too (25P02) and the rollback to the savepoint undoes both.
    let t = std::time::Instant::now();
    let (made, rows, undone) =
        futures_util::future::join3(db.execute(&script), db.simple(read), db.execute(&rollback))
            .await;
    crate::trace::trace("  probes made and read", t);
    undone?;
    if made.is_err() {
        return Ok(None);
    }
    Ok(crate::connect::db::first_value(&rows?).map(str::to_string))
}

/// A `DO` block that runs each group of statements in a block of its own and
/// ignores what PostgreSQL rejects (that probe is then not read back). Each
/// statement is a literal to `EXECUTE`, the block dollar-quoted with a tag
/// that none of them can end.
pub(crate) fn probes_block(groups: &[Vec<String>]) -> String {
    let mut body = String::from("\nBEGIN\n");
    for statements in groups {
        let executes: Vec<String> = statements
            .iter()
            .map(|s| format!("EXECUTE {};", quote_literal(s)))
            .collect();
        body.push_str(&format!(
            "  BEGIN {} EXCEPTION WHEN OTHERS THEN NULL; END;\n",
            executes.join(" ")
        ));
    }
    body.push_str("END\n");
    format!("DO {};\n", dollar_quote(&body, "reconcile_canon"))
}

/// Replace the comparison keys of desired expressions by PostgreSQL's own
/// printing wherever our normalization found a difference.
pub async fn canonicalize(db: &Db, desired: &mut Catalog, live: &Catalog) -> Result<(), SqlError> {
    let mut probes: Vec<(usize, Probe, String)> = Vec::new(); // (probe table, probe, SQL)
    let mut tables: Vec<&QualName> = Vec::new();
    for (name, d) in &desired.tables {
        let Some(l) = live.tables.get(name) else {
            continue;
        };
        let before = probes.len();
        let t = tables.len();
        // Named once every probed table is known (see `probe_table_names`).
        let probe_table = placeholder(t);
        for c in &d.columns {
            let Some(lc) = l.column(&c.name) else {
                continue;
            };
            if c.ty != lc.ty {
                continue;
            }
            if let (Some(dd), Some(ld)) = (&c.default, &lc.default) {
                if dd.key != ld.key && c.generated.is_none() && lc.identity.is_none() {
                    let sql = format!(
                        "ALTER TABLE {probe_table} ALTER COLUMN {} SET DEFAULT {}",
                        quote_ident(&c.name),
                        dd.sql
                    );
                    probes.push((
                        t,
                        Probe::Default {
                            table: name.clone(),
                            column: c.name.clone(),
                        },
                        sql,
                    ));
                }
            }
            if let (Some(dg), Some(lg)) = (&c.generated, &lc.generated) {
                if dg.key != lg.key {
                    let k = probes.len();
                    let sql = format!("ALTER TABLE {probe_table} ADD COLUMN {PREFIX}gen_{k} {} GENERATED ALWAYS AS ({}) STORED", c.ty, dg.sql);
                    probes.push((
                        t,
                        Probe::Generated {
                            table: name.clone(),
                            column: c.name.clone(),
                        },
                        sql,
                    ));
                }
            }
        }
        for c in &d.checks {
            if let Some(lc) = l.checks.iter().find(|x| x.name == c.name) {
                if lc.expr.key != c.expr.key {
                    let k = probes.len();
                    let sql = format!("ALTER TABLE {probe_table} ADD CONSTRAINT {PREFIX}chk_{k} CHECK ({}) NOT VALID", c.expr.sql);
                    probes.push((
                        t,
                        Probe::Check {
                            table: name.clone(),
                            name: c.name.clone(),
                        },
                        sql,
                    ));
                }
            }
        }
        for i in &d.indexes {
            if let Some(li) = l.indexes.iter().find(|x| x.name == i.name) {
                if li.compare_key() != i.compare_key() {
                    let k = probes.len();
                    let sql = index_sql(&format!("{PREFIX}idx_{k}"), &probe_table, i);
                    probes.push((
                        t,
                        Probe::Index {
                            table: name.clone(),
                            name: i.name.clone(),
                        },
                        sql,
                    ));
                }
            }
        }
        if probes.len() > before {
            tables.push(name);
        }
    }
    for (name, d) in &desired.domains {
        let Some(l) = live.domains.get(name) else {
            continue;
        };
        if d.definition(true) != l.definition(true) {
            let k = probes.len();
            let probe = crate::model::Domain {
                name: QualName::new("pg_temp", format!("{PREFIX}dom_{k}")),
                comment: None,
                ..d.clone()
            };
            probes.push((
                0,
                Probe::Domain { name: name.clone() },
                create_domain(&probe),
            ));
        }
    }
    if probes.is_empty() {
        return Ok(());
    }
    let rels = probe_table_names(&tables);
    for (t, _, sql) in probes.iter_mut() {
        if let Some(rel) = rels.get(*t) {
            *sql = sql.replace(&placeholder(*t), &format!("pg_temp.{}", quote_ident(rel)));
        }
    }

    // One round trip: a savepoint, the temporary copies, and every probe in a
    // DO block that ignores the probes PostgreSQL rejects (those stay different).
    let mut script = String::from("SAVEPOINT reconcile_canon;\n");
    for (rel, name) in rels.iter().zip(&tables) {
        script.push_str(&format!(
            "CREATE TEMP TABLE {} (LIKE {});\n",
            quote_ident(rel),
            name.sql()
        ));
    }
    let groups: Vec<Vec<String>> = probes.iter().map(|(_, _, sql)| vec![sql.clone()]).collect();
    script.push_str(&probes_block(&groups));
    let rel_list: Vec<String> = rels.iter().map(|r| quote_literal(r)).collect();
    let filter = format!(
        "c.relnamespace = pg_my_temp_schema() AND c.relname = ANY (ARRAY[{}]::text[])",
        rel_list.join(", ")
    );
    let read = format!(
        "SELECT json_build_object( \
           'exprs', (SELECT coalesce(json_agg(json_build_object('rel', c.relname, 'col', a.attname, 'expr', pg_get_expr(d.adbin, d.adrelid))), '[]') \
                     FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid \
                     JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE {filter}), \
           'checks', (SELECT coalesce(json_agg(json_build_object('rel', c.relname, 'name', co.conname, 'expr', pg_get_expr(co.conbin, co.conrelid, true))), '[]') \
                      FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid WHERE co.contype = 'c' AND {filter}), \
           'indexes', ({}), \
           'domains', (SELECT coalesce(json_agg(json_build_object('name', t.typname, 'default', t.typdefault, \
                          'checks', (SELECT coalesce(json_agg(json_build_array(co.conname, pg_get_expr(co.conbin, 0, true))), '[]') \
                                     FROM pg_constraint co WHERE co.contypid = t.oid AND co.contype = 'c'))), '[]') \
                       FROM pg_type t WHERE t.typnamespace = pg_my_temp_schema() AND t.typtype = 'd' AND t.typname LIKE '{PREFIX}dom\\_%'), \
           'default_opclasses', (SELECT coalesce(json_agg(DISTINCT opc.oid::int8), '[]') FROM pg_opclass opc \
                                 JOIN pg_index i ON opc.oid = ANY (i.indclass::oid[]) JOIN pg_class ic ON ic.oid = i.indexrelid \
                                 WHERE opc.opcdefault AND ic.relnamespace = pg_my_temp_schema() AND ic.relname LIKE '{PREFIX}idx\\_%'))",
        index_json_query(
            &format!("{filter} AND ic.relname LIKE '{PREFIX}idx\\_%'"),
            true,
            db.server_version >= 150000
        )
    );
    // The script, the read and the rollback in one round trip (see `run_probes`).
    let (made, rows, undone) = futures_util::future::join3(
        db.execute(&script),
        db.simple(&read),
        db.execute("ROLLBACK TO SAVEPOINT reconcile_canon; RELEASE SAVEPOINT reconcile_canon"),
    )
    .await;
    undone?;
    if made.is_err() {
        // No temporary tables here (no TEMP privilege, a read-only replica...): compare as is.
        return Ok(());
    }
    let rows = rows?;
    let Some(json) = crate::connect::db::first_value(&rows) else {
        return Ok(());
    };
    #[derive(Deserialize)]
    struct Printed {
        exprs: Vec<PrintedExpr>,
        checks: Vec<PrintedCheck>,
        indexes: Vec<RawIndex>,
        default_opclasses: Vec<i64>,
        domains: Vec<PrintedDomain>,
    }
    #[derive(Deserialize)]
    struct PrintedDomain {
        name: String,
        default: Option<String>,
        checks: Vec<(String, String)>,
    }
    #[derive(Deserialize)]
    struct PrintedExpr {
        rel: String,
        col: String,
        expr: String,
    }
    #[derive(Deserialize)]
    struct PrintedCheck {
        name: String,
        expr: String,
    }
    let printed: Printed = serde_json::from_str(json).map_err(|e| SqlError {
        message: format!("cannot read the canonical forms: {e}"),
        code: None,
        detail: None,
        hint: None,
        statement: None,
    })?;
    let domains: HashMap<String, PrintedDomain> = printed
        .domains
        .into_iter()
        .map(|d| (d.name.clone(), d))
        .collect();
    let exprs: HashMap<(String, String), String> = printed
        .exprs
        .into_iter()
        .map(|e| ((e.rel, e.col), e.expr))
        .collect();
    let checks: HashMap<String, String> = printed
        .checks
        .into_iter()
        .map(|c| (c.name, c.expr))
        .collect();
    // Which keys of each probe index have their type's default operator class
    // (PostgreSQL then prints none, whatever the files named); only the probe
    // indexes' classes are read.
    let defaults: std::collections::HashSet<i64> = printed.default_opclasses.into_iter().collect();
    let default_keys: HashMap<String, Vec<bool>> = printed
        .indexes
        .iter()
        .map(|i| {
            (
                i.name().to_string(),
                i.opclass_oids()
                    .iter()
                    .map(|o| defaults.contains(o))
                    .collect(),
            )
        })
        .collect();
    let indexes: HashMap<String, crate::model::Index> = printed
        .indexes
        .into_iter()
        .map(|i| {
            index_from_raw(
                i,
                &KeyContext {
                    names: &Names::default(),
                    column_collations: &HashMap::new(),
                    exprs: &Default::default(),
                },
            )
        })
        .map(|i| (i.name.clone(), i))
        .collect();

    for (k, (t, probe, _)) in probes.iter().enumerate() {
        let rel = rels.get(*t).cloned().unwrap_or_default();
        match probe {
            Probe::Default { table, column } => {
                if let Some(e) = exprs.get(&(rel, column.clone())) {
                    if let Some(c) = column_mut(desired, table, column) {
                        if let Some(d) = c.default.as_mut() {
                            d.key = expr::from_catalog(e).key;
                        }
                    }
                }
            }
            Probe::Generated { table, column } => {
                if let Some(e) = exprs.get(&(rel, format!("{PREFIX}gen_{k}"))) {
                    if let Some(c) = column_mut(desired, table, column) {
                        if let Some(g) = c.generated.as_mut() {
                            g.key = expr::from_catalog(e).key;
                        }
                    }
                }
            }
            Probe::Check { table, name } => {
                if let Some(e) = checks.get(&format!("{PREFIX}chk_{k}")) {
                    if let Some(c) = desired
                        .tables
                        .get_mut(table)
                        .and_then(|t| t.checks.iter_mut().find(|c| &c.name == name))
                    {
                        c.expr.key = expr::from_catalog(e).key;
                    }
                }
            }
            Probe::Domain { name } => {
                let (Some(p), Some(d)) = (
                    domains.get(&format!("{PREFIX}dom_{k}")),
                    desired.domains.get_mut(name),
                ) else {
                    continue;
                };
                if let (Some(dd), Some(pd)) = (d.default.as_mut(), &p.default) {
                    dd.key = expr::from_catalog(pd).key;
                }
                for c in &mut d.checks {
                    if let Some((_, e)) = p.checks.iter().find(|(n, _)| n == &c.name) {
                        c.expr.key = expr::from_catalog(e).key;
                    }
                }
            }
            Probe::Index { table, name } => {
                let probe = format!("{PREFIX}idx_{k}");
                if let Some(p) = indexes.get(&probe) {
                    if let Some(i) = desired
                        .tables
                        .get_mut(table)
                        .and_then(|t| t.indexes.iter_mut().find(|i| &i.name == name))
                    {
                        let defaults = default_keys.get(&probe).map_or(&[][..], Vec::as_slice);
                        for (dk, is_default) in i.keys.iter_mut().zip(defaults) {
                            if *is_default {
                                dk.opclass = None;
                            }
                        }
                        for (dk, pk) in i.keys.iter_mut().zip(&p.keys) {
                            if let (IndexKeyPart::Expression(de), IndexKeyPart::Expression(pe)) =
                                (&mut dk.part, &pk.part)
                            {
                                de.key = pe.key.clone();
                            }
                        }
                        if let (Some(dp), Some(pp)) = (i.predicate.as_mut(), &p.predicate) {
                            dp.key = pp.key.clone();
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

fn column_mut<'a>(
    cat: &'a mut Catalog,
    table: &QualName,
    column: &str,
) -> Option<&'a mut crate::model::Column> {
    cat.tables
        .get_mut(table)?
        .columns
        .iter_mut()
        .find(|c| c.name == column)
}
