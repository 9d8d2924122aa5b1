//! The files' row-level security policies (`[tables.t.policies.name]`,
//! README "Row-level security and policies"). `USING` and `WITH CHECK` are
//! SQL expressions, parsed like every other expression of the files; roles
//! are names, quoted when rendered.

use serde::Deserialize;
use toml::Spanned;

use super::{parse_expr_at, Errors, Source};
use crate::model::policy::POLICY_COMMANDS;
use crate::model::{Origin, Policy, QualName};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    /// all (default), select, insert, update, delete.
    command: Option<Spanned<String>>,
    /// `false`: AS RESTRICTIVE.
    #[serde(default = "yes")]
    permissive: bool,
    /// Default: every role (PUBLIC).
    roles: Option<Spanned<Vec<String>>>,
    using: Option<Spanned<String>>,
    with_check: Option<Spanned<String>>,
    comment: Option<String>,
    deprecated: Option<String>,
}

fn yes() -> bool {
    true
}

/// A policy of table `table`, or `None` with its errors reported: a command
/// PostgreSQL does not know, a role that is a session function rather than a
/// name, an expression that does not parse, or an expression the command
/// cannot take (PostgreSQL: "only WITH CHECK expression allowed for INSERT",
/// "WITH CHECK cannot be applied to SELECT or DELETE").
pub(super) fn build_policy(
    src: &Source,
    table: &QualName,
    name: String,
    origin: Origin,
    raw: &RawPolicy,
    errors: &mut Errors,
) -> Option<Policy> {
    let before = errors.0.len();
    let command = match &raw.command {
        None => "all".to_string(),
        Some(c) => {
            let word = c.get_ref().trim().to_ascii_lowercase();
            if !POLICY_COMMANDS.contains(&word.as_str()) {
                errors.at(
                    &src.origin(c.span()),
                    format!(
                        "bad command `{}` of policy `{name}` on `{table}`: expected all, select, insert, update or delete",
                        c.get_ref()
                    ),
                );
            }
            word
        }
    };
    let mut roles = Vec::new();
    if let Some(list) = &raw.roles {
        let at = src.origin(list.span());
        for r in list.get_ref() {
            let lower = r.to_ascii_lowercase();
            if lower == "public" {
                roles.push("public".to_string());
            } else if ["current_user", "session_user", "current_role"].contains(&lower.as_str()) {
                errors.at(
                    &at,
                    format!(
                        "policy `{name}`: role `{r}` is whoever runs the plan; name the role itself"
                    ),
                );
            } else if r.is_empty() || r.contains('\0') || r.len() > 63 {
                errors.at(
                    &at,
                    format!(
                        "policy `{name}`: bad role `{r}`: expected a role name of 1 to 63 bytes"
                    ),
                );
            } else {
                roles.push(r.clone());
            }
        }
        if list.get_ref().is_empty() {
            errors.at(
                &at,
                format!("policy `{name}`: `roles` is empty: leave it out for every role (PUBLIC)"),
            );
        }
    }
    if roles.is_empty() {
        roles.push("public".to_string());
    }
    roles.sort();
    roles.dedup();
    if roles.len() > 1 && roles.iter().any(|r| r == "public") {
        // PostgreSQL keeps PUBLIC alone: every role is already in it.
        roles.retain(|r| r == "public");
    }
    let using = raw
        .using
        .as_ref()
        .and_then(|u| parse_expr_at(errors, src, u, "USING expression"));
    let with_check = raw
        .with_check
        .as_ref()
        .and_then(|w| parse_expr_at(errors, src, w, "WITH CHECK expression"));
    if let Some(u) = &raw.using {
        if command == "insert" {
            errors.at(
                &src.origin(u.span()),
                format!("policy `{name}`: an insert policy takes `with_check` only (PostgreSQL refuses USING for INSERT)"),
            );
        }
    }
    if let Some(w) = &raw.with_check {
        if command == "select" || command == "delete" {
            errors.at(
                &src.origin(w.span()),
                format!("policy `{name}`: a {command} policy takes `using` only (PostgreSQL refuses WITH CHECK for SELECT and DELETE)"),
            );
        }
    }
    if errors.0.len() > before {
        return None;
    }
    Some(Policy {
        name,
        command,
        permissive: raw.permissive,
        roles,
        using,
        with_check,
        comment: raw.comment.clone(),
        deprecated: raw.deprecated.clone(),
        origin: Some(origin),
    })
}
