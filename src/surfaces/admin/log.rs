//! The lines `reconcile serve` writes: each one JSON object on one line,
//! `{"ts", "level", "msg", ...fields}`; the line at start; and the reason of a
//! failure (refused rules and objects, the SQL error) as fields of its line.

use std::time::SystemTime;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::{AdminConfig, MIN_TOKEN_LEN};
use crate::apply::ApplyError;
use crate::Error;

/// One log line as JSON text (no newline): `ts` (RFC 3339, UTC, ms), `level`
/// (`info`, `warn` or `error`), `msg`, then the keys of `fields` (an object;
/// anything else adds nothing, and a key named `ts`, `level` or `msg` is left out).
pub fn log_line(level: &str, msg: &str, fields: Value) -> String {
    let mut line = serde_json::Map::new();
    line.insert("ts".into(), json!(now_rfc3339()));
    line.insert("level".into(), json!(level));
    line.insert("msg".into(), json!(msg));
    if let Value::Object(extra) = fields {
        for (k, v) in extra {
            line.entry(k).or_insert(v);
        }
    }
    Value::Object(line).to_string()
}

/// Now, as RFC 3339 in UTC with milliseconds.
pub(super) fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// `ADMIN_TOKEN` as the start line reports it: `set` (long enough to be
/// used), `too short` (the token endpoints answer 503) or `unset`.
pub(super) fn token_status(token: Option<&str>) -> &'static str {
    match token {
        None => "unset",
        Some(t) if t.len() < MIN_TOKEN_LEN => "too short",
        Some(_) => "set",
    }
}

/// The line at start: the listen address, the database (its settings as
/// `host=… port=… user=… dbname=…`, never the password), the schema
/// directory and its number of tables, and whether `ADMIN_TOKEN` is set and
/// long enough. `warn` when the token is not usable or the settings or the
/// files cannot be read (the reason then in `databaseError` / `schemaError`).
pub(super) async fn start_line(config: &AdminConfig, listen: &str) -> String {
    let token = token_status(config.token.as_deref());
    let mut level = if token == "set" { "info" } else { "warn" };
    let mut fields = json!({
        "listen": listen,
        "schemaDir": config.schema_dir.display().to_string(),
        "token": token,
        "migrationsOnBoot": config.migrations_on_boot,
        "env": config.env_name,
        "version": env!("CARGO_PKG_VERSION"),
    });
    let mut warnings = Vec::new();
    match crate::connect::db::config_from_warning(config.database_url.as_deref(), &mut |w| {
        warnings.push(w)
    }) {
        Ok(settings) => fields["database"] = json!(settings.describe()),
        Err(e) => {
            fields["database"] = Value::Null;
            fields["databaseError"] = json!(e.to_string());
            level = "warn";
        }
    }
    if !warnings.is_empty() {
        fields["databaseWarnings"] = json!(warnings);
        level = "warn";
    }
    let dir = config.schema_dir.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        crate::desired::load::load_dir(&dir).map(|c| c.tables.len())
    })
    .await;
    match loaded {
        Ok(Ok(n)) => fields["tables"] = json!(n),
        Ok(Err(e)) => {
            fields["tables"] = Value::Null;
            fields["schemaError"] = json!(e.to_string());
            level = "warn";
        }
        Err(e) => {
            fields["tables"] = Value::Null;
            fields["schemaError"] = json!(e.to_string());
            level = "warn";
        }
    }
    log_line(level, "admin server listening", fields)
}

/// Why a request failed, carried on its response to its log line.
#[derive(Clone, Debug)]
pub(super) struct Reason {
    pub level: &'static str,
    /// An object: `error` (the message the client got), and more for some failures.
    pub fields: Value,
}

/// The level of a failed request's line by its status: `error` for 5xx,
/// `warn` for 4xx, else `info`.
pub(super) fn level_of(status: StatusCode) -> &'static str {
    if status.is_server_error() {
        "error"
    } else if status.is_client_error() {
        "warn"
    } else {
        "info"
    }
}

/// Add `fields` (an object) to the reason `r` carries, at `level`.
pub(super) fn add_reason(r: &mut Response, level: &'static str, fields: Value) {
    let mut reason = r.extensions().get::<Reason>().cloned().unwrap_or(Reason {
        level,
        fields: json!({}),
    });
    reason.level = level;
    if let (Some(obj), Value::Object(extra)) = (reason.fields.as_object_mut(), fields) {
        obj.extend(extra);
    }
    r.extensions_mut().insert(reason);
}

/// An apply's (or a prune's) failure as a log line's level and fields: the
/// refused rules and objects (`warn`), the failing step with its SQL error
/// (`error`), the blockers of a lock timeout (`warn`), and so on.
pub(super) fn apply_failure(e: &ApplyError) -> (&'static str, Value) {
    match e {
        ApplyError::Refused { plan } => (
            "warn",
            json!({
                "refused": plan.refused.iter().map(|f| json!({ "rule": f.rule, "object": f.object })).collect::<Vec<_>>(),
                "planHash": plan.plan_hash,
            }),
        ),
        ApplyError::PlanChanged {
            expected, actual, ..
        } => (
            "warn",
            json!({ "expectedPlanHash": expected, "planHash": actual }),
        ),
        ApplyError::LockTimeout {
            statement,
            table,
            blockers,
            error,
            committed,
            ..
        } => (
            "warn",
            json!({
                "statement": statement,
                "table": table,
                // Who, not what: another session's query text may carry
                // literals (personal data, secrets) that a log must not keep.
                "blockers": blockers.iter().map(|b| json!({
                    "pid": b.pid,
                    "applicationName": b.application_name,
                    "state": b.state,
                    "lockMode": b.lock_mode,
                    "transactionSeconds": b.transaction_seconds,
                })).collect::<Vec<_>>(),
                "sql": error,
                "committed": committed,
            }),
        ),
        ApplyError::Statement {
            id,
            origin,
            error,
            committed,
        } => (
            "error",
            json!({ "step": id, "origin": origin, "sql": error, "committed": committed }),
        ),
        ApplyError::Verification {
            remaining,
            refused,
            committed,
            ..
        } => (
            "error",
            json!({ "remaining": remaining, "refusedAfter": refused, "committed": committed }),
        ),
        ApplyError::Pooled { committed, .. } => ("error", json!({ "committed": committed })),
        ApplyError::Stopped { error, committed } => {
            let (_, mut fields) = error_failure(error);
            fields["committed"] = json!(committed);
            ("error", fields)
        }
        ApplyError::Busy { .. } | ApplyError::OnlineUnfinished { .. } => ("warn", json!({})),
        ApplyError::TransactionEnded { .. } => ("error", json!({})),
        ApplyError::Other(inner) => error_failure(inner),
    }
}

/// A library error as a log line's level and fields: the SQL error, or the
/// files' diagnostics (each with its file and line); always `error`.
pub(super) fn error_failure(e: &Error) -> (&'static str, Value) {
    match e {
        Error::Sql(s) => ("error", json!({ "sql": s })),
        Error::Load(l) => ("error", json!({ "diagnostics": l.0 })),
        _ => ("error", json!({ "cause": e.to_string() })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_json_object_whose_fields_cannot_replace_its_own() {
        let line = log_line(
            "warn",
            "[BOOT] x",
            json!({ "msg": "other", "level": "info", "n": 1 }),
        );
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["msg"], "[BOOT] x");
        assert_eq!(v["level"], "warn");
        assert_eq!(v["n"], 1);
        assert!(v["ts"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn token_status_says_whether_it_can_be_used() {
        assert_eq!(token_status(None), "unset");
        assert_eq!(token_status(Some("short")), "too short");
        assert_eq!(
            token_status(Some(&"x".repeat(MIN_TOKEN_LEN - 1))),
            "too short"
        );
        assert_eq!(token_status(Some(&"x".repeat(MIN_TOKEN_LEN))), "set");
    }
}
