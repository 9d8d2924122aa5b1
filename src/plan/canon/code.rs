//! Code objects printed by PostgreSQL: a function, a view, a trigger or a
//! policy of the files whose text differs from the database's object of that
//! name is created under a probe's name in `pg_temp` (a trigger or a policy on
//! a temporary copy of its table), inside a savepoint that is rolled back, and read back with the
//! catalog's own statements (`catalog::code`). Nothing any other session sees,
//! no lock but ACCESS SHARE on a table whose trigger is probed. Three round
//! trips whatever the count, none when everything already matches.

use serde::Deserialize;

use crate::catalog::code::{q_routines, q_triggers, q_views, RawRoutine, RawTrigger, RawView};
use crate::catalog::policy::{q_policies, RawPolicy};
use crate::connect::db::{Db, SqlError};
use crate::model::names::quote_ident;
use crate::model::{Catalog, QualName, RoutineId};
use crate::plan::render::code::{routine_sql, view_sql};

const FN: &str = "reconcile_probe_fn_";
const VIEW: &str = "reconcile_probe_view_";
const TRIG: &str = "reconcile_probe_trig_";
const POL: &str = "reconcile_probe_pol_";

enum Probe {
    Routine(RoutineId),
    View(QualName),
    Trigger(QualName, String),
    Policy(QualName, String),
}

/// Replace the files' routines, views and triggers whose text differs from
/// the database's by PostgreSQL's printing of them (see the module).
/// Errors: only when the savepoint cannot be rolled back; a probe that
/// PostgreSQL rejects leaves its object as the files wrote it.
pub async fn canonicalize_code(
    db: &Db,
    desired: &mut Catalog,
    live: &Catalog,
) -> Result<(), SqlError> {
    let mut probes: Vec<(Probe, Vec<String>)> = Vec::new();
    let live_names: std::collections::HashSet<&QualName> =
        live.routines.keys().map(|l| &l.name).collect();
    for (id, r) in &desired.routines {
        let same_name = live_names.contains(&id.name);
        let differs = live
            .routines
            .get(id)
            .is_none_or(|l| l.definition() != r.definition());
        if same_name && differs {
            let k = probes.len();
            let sql = routine_sql(r, &format!("pg_temp.{FN}{k}"), false);
            probes.push((Probe::Routine(id.clone()), vec![sql]));
        }
    }
    for (name, v) in &desired.views {
        if let Some(l) = live.views.get(name) {
            if l.definition_key() != v.definition_key() {
                let k = probes.len();
                let sql = view_sql(&v.as_probe(), &format!("pg_temp.{VIEW}{k}"), false);
                probes.push((Probe::View(name.clone()), vec![sql]));
            }
        }
    }
    for (name, t) in &desired.tables {
        let Some(lt) = live.tables.get(name) else {
            continue;
        };
        for tr in &t.triggers {
            let Some(l) = lt.triggers.iter().find(|l| l.name == tr.name) else {
                continue;
            };
            if l.create_sql(name, false, true) != tr.create_sql(name, false, true) {
                let k = probes.len();
                let copy = QualName::new("pg_temp", format!("{TRIG}{k}"));
                probes.push((
                    Probe::Trigger(name.clone(), tr.name.clone()),
                    vec![
                        format!(
                            "CREATE TEMP TABLE {} (LIKE {})",
                            quote_ident(&copy.name),
                            name.sql()
                        ),
                        tr.create_sql(&copy, false, false),
                    ],
                ));
            }
        }
    }
    for (name, t) in &desired.tables {
        let Some(lt) = live.tables.get(name) else {
            continue;
        };
        for p in &t.policies {
            let Some(l) = lt.policies.iter().find(|l| l.name == p.name) else {
                continue;
            };
            if !l.same_rule(p) {
                let k = probes.len();
                let copy = QualName::new("pg_temp", format!("{POL}{k}"));
                probes.push((
                    Probe::Policy(name.clone(), p.name.clone()),
                    vec![
                        format!(
                            "CREATE TEMP TABLE {} (LIKE {})",
                            quote_ident(&copy.name),
                            name.sql()
                        ),
                        p.create_sql(&copy, false),
                    ],
                ));
            }
        }
    }
    if probes.is_empty() {
        return Ok(());
    }
    let groups: Vec<Vec<String>> = probes.iter().map(|(_, st)| st.clone()).collect();
    let temp = "n.oid = pg_my_temp_schema()";
    let read = format!(
        "SELECT json_build_object('routines', ({}), 'views', ({}), 'triggers', ({}), 'policies', ({}))",
        q_routines(
            &format!("{temp} AND p.proname LIKE '{FN}%'"),
            db.server_version >= 140000
        ),
        q_views(&format!("{temp} AND c.relname LIKE '{VIEW}%'")),
        q_triggers(&format!("{temp} AND c.relname LIKE '{TRIG}%'")),
        q_policies(&format!("{temp} AND c.relname LIKE '{POL}%'")),
    );
    let Some(json) = super::run_probes(db, "reconcile_canon_code", &groups, &read).await? else {
        return Ok(());
    };
    #[derive(Deserialize)]
    struct Printed {
        routines: Vec<RawRoutine>,
        views: Vec<RawView>,
        triggers: Vec<RawTrigger>,
        policies: Vec<RawPolicy>,
    }
    let printed: Printed = serde_json::from_str(&json).map_err(|e| SqlError {
        message: format!("cannot read the canonical forms of functions, views and triggers: {e}"),
        code: None,
        detail: None,
        hint: None,
        statement: None,
    })?;
    let number =
        |name: &str, prefix: &str| -> Option<usize> { name.strip_prefix(prefix)?.parse().ok() };
    let mut renamed = Vec::new();
    for p in printed.routines {
        let Some(k) = number(&p.name, FN) else {
            continue;
        };
        let Some((Probe::Routine(id), _)) = probes.get(k) else {
            continue;
        };
        let mut p = p.into_model();
        if let Some(r) = desired.routines.get_mut(id) {
            if p.sql_body {
                // PostgreSQL qualifies a parameter of a SQL-standard body with
                // the routine's name (`VALUES (reconcile_probe_fn_2.a)`).
                p.body = p.body.replace(
                    &format!("{FN}{k}."),
                    &format!("{}.", quote_ident(&r.id.name.name)),
                );
            }
            let keep = (
                r.id.name.clone(),
                r.comment.take(),
                r.deprecated.take(),
                r.origin.take(),
            );
            *r = p;
            r.id.name = keep.0;
            (r.comment, r.deprecated, r.origin) = (keep.1, keep.2, keep.3);
            if r.id != *id {
                renamed.push((id.clone(), r.id.clone()));
            }
        }
    }
    if !renamed.is_empty() {
        crate::model::grants::rekey_routines(&mut desired.grants, &renamed);
        let routines = std::mem::take(&mut desired.routines);
        desired.routines = routines.into_values().map(|r| (r.id.clone(), r)).collect();
    }
    for p in printed.views {
        let Some(k) = number(&p.name, VIEW) else {
            continue;
        };
        let Some((Probe::View(name), _)) = probes.get(k) else {
            continue;
        };
        let (p, _) = p.into_model();
        if let Some(v) = desired.views.get_mut(name) {
            v.query = p.query;
            v.columns = p.columns;
        }
    }
    for p in printed.triggers {
        let Some(k) = number(&p.tbl, TRIG) else {
            continue;
        };
        let Some((Probe::Trigger(table, name), _)) = probes.get(k) else {
            continue;
        };
        let p = p.into_model();
        if let Some(t) = desired
            .tables
            .get_mut(table)
            .and_then(|t| t.triggers.iter_mut().find(|t| &t.name == name))
        {
            t.when = p.when;
            t.events = p.events;
            t.columns = p.columns;
            t.function = p.function;
            t.arguments = p.arguments;
        }
    }
    for p in printed.policies {
        let Some(k) = number(&p.tbl, POL) else {
            continue;
        };
        let Some((Probe::Policy(table, name), _)) = probes.get(k) else {
            continue;
        };
        let p = p.into_model();
        if let Some(d) = desired
            .tables
            .get_mut(table)
            .and_then(|t| t.policies.iter_mut().find(|x| &x.name == name))
        {
            d.command = p.command;
            d.permissive = p.permissive;
            d.roles = p.roles;
            d.using = p.using;
            d.with_check = p.with_check;
        }
    }
    Ok(())
}
