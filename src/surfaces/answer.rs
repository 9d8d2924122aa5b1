//! The JSON answers that the admin endpoints send and that the command line
//! prints under `--format json`: one implementation, so that `reconcile apply
//! --format json` prints what `POST /__admin/migrate` answers, and an error is
//! the same object whichever surface met it.
//!
//! Every answer is an object with `success`; a failure has `error` (a
//! sentence) and, where they exist, the details a tool needs (`refused`,
//! `blockers`, `step`, `origin`, `sql`, `diagnostics`, ...). Keys are camelCase.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::apply::{Applied, ApplyError};
use crate::Error;

/// `{ "success": false, "error": message }` with the `extra` object's keys.
pub fn failure(message: impl Into<String>, extra: Value) -> Value {
    let mut body = json!({ "success": false, "error": message.into() });
    if let (Some(obj), Value::Object(extra)) = (body.as_object_mut(), extra) {
        obj.extend(extra);
    }
    body
}

/// A duration as the answers write it: whole milliseconds, `"12ms"`.
pub fn ms(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

/// A library error: connecting (`Database unreachable: ...`), the schema
/// files (`diagnostics`: file, line, column, message each), a statement
/// (`sql`: the server's message, code, detail, hint, statement), or another.
pub fn error(e: &Error) -> Value {
    match e {
        Error::Db(crate::connect::db::DbError::Connect { .. }) => {
            failure(format!("Database unreachable: {e}"), json!({}))
        }
        Error::Load(l) => failure(
            format!("Invalid schema files: {e}"),
            json!({ "diagnostics": l.0 }),
        ),
        Error::Sql(s) => failure(format!("SQL error: {}", s.message), json!({ "sql": s })),
        _ => failure(e.to_string(), json!({})),
    }
}

/// A failed apply or prune: nothing was applied (or, online, what had
/// committed is in `committed`).
pub fn apply_error(e: &ApplyError) -> Value {
    match e {
        ApplyError::Refused { plan } => failure(
            format!(
                "{} change(s) refused; nothing was applied",
                plan.refused.len()
            ),
            json!({ "blocked": true, "refused": plan.refused, "planHash": plan.plan_hash }),
        ),
        ApplyError::PlanChanged {
            expected, actual, ..
        } => failure(
            e.to_string(),
            json!({ "expectedPlanHash": expected, "planHash": actual }),
        ),
        ApplyError::LockTimeout {
            our_pid,
            blockers,
            statement,
            ..
        } => failure(
            e.to_string(),
            json!({ "statement": statement, "pid": our_pid, "blockers": blockers }),
        ),
        ApplyError::Statement {
            id,
            origin,
            error: sql,
            committed,
        } => failure(
            format!(
                "SQL error in {id}{}: {}",
                origin
                    .as_ref()
                    .map_or(String::new(), |o| format!(" (written at {o})")),
                sql.message
            ),
            json!({ "step": id, "origin": origin, "sql": sql, "committed": committed }),
        ),
        ApplyError::Pooled { committed, .. } => {
            failure(e.to_string(), json!({ "committed": committed }))
        }
        ApplyError::Stopped {
            error: inner,
            committed,
        } => failure(
            e.to_string(),
            json!({ "committed": committed, "cause": inner.to_string() }),
        ),
        ApplyError::OnlineUnfinished { remaining } => {
            failure(e.to_string(), json!({ "remaining": remaining }))
        }
        ApplyError::Other(inner) => error(inner),
        ApplyError::Verification { .. }
        | ApplyError::Busy { .. }
        | ApplyError::TransactionEnded { .. } => failure(e.to_string(), json!({})),
    }
}

/// A successful apply: the step ids run, the tables already in step, each
/// step's time, the total (`total`, measured by the caller), the plan hash,
/// and with `online` the phases.
pub fn applied(applied: &Applied, total: Duration, online: bool) -> Value {
    let executed: Vec<&String> = applied.timings.iter().map(|(id, _)| id).collect();
    let timings: BTreeMap<&String, String> =
        applied.timings.iter().map(|(id, d)| (id, ms(*d))).collect();
    let mut result = json!({
        "executed": executed,
        "skipped": applied.plan.in_sync.iter().map(|t| format!("table:{t}")).collect::<Vec<_>>(),
        "timings": timings,
        "totalTime": ms(total),
        "planHash": applied.plan.plan_hash,
    });
    if online {
        result["phases"] = applied
            .phases
            .iter()
            .map(|p| json!({ "phase": p.phase, "executed": p.executed, "totalTime": ms(p.total) }))
            .collect();
    }
    json!({ "success": true, "result": result })
}

/// A successful prune (`POST /__admin/prune`, `prune --format json`): the
/// step ids dropped, each step's time, the total (measured by the caller)
/// and the prune plan's hash.
pub fn pruned(pruned: &Applied, total: Duration) -> Value {
    let timings: BTreeMap<&String, String> =
        pruned.timings.iter().map(|(id, d)| (id, ms(*d))).collect();
    json!({ "success": true, "result": {
        "executed": pruned.timings.iter().map(|(id, _)| id).collect::<Vec<_>>(),
        "timings": timings,
        "totalTime": ms(total),
        "planHash": pruned.plan.plan_hash,
    }})
}

/// A dump: the database (without its password), the directory, each file
/// written (relative to `out`), the counts per kind and what the format does
/// not express (kept in the database, not written).
pub fn dumped(d: &crate::pipeline::Dumped, out: &std::path::Path) -> Value {
    let files: Vec<String> = d
        .files
        .iter()
        .map(|f| {
            f.path
                .strip_prefix(out)
                .unwrap_or(&f.path)
                .display()
                .to_string()
        })
        .collect();
    json!({
        "success": true,
        "result": {
            "database": d.target,
            "out": out.display().to_string(),
            "files": files,
            "counts": d.counts.iter().map(|(k, n)| (camel_case(k), *n)).collect::<BTreeMap<_, _>>(),
            "unmanaged": d.unmanaged,
        }
    })
}

/// `composite types` → `compositeTypes`: the words of a count's name as a JSON key.
fn camel_case(words: &str) -> String {
    let mut out = String::with_capacity(words.len());
    for (i, w) in words
        .split([' ', '_'])
        .filter(|w| !w.is_empty())
        .enumerate()
    {
        let mut chars = w.chars();
        if let (true, Some(first)) = (i > 0, chars.next()) {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        } else {
            out.push_str(w);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn count_names_become_camel_case_keys() {
        assert_eq!(super::camel_case("composite types"), "compositeTypes");
        assert_eq!(
            super::camel_case("text search configurations"),
            "textSearchConfigurations"
        );
        assert_eq!(super::camel_case("tables"), "tables");
    }
}
