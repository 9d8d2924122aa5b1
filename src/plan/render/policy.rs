//! DDL of row-level security policies (`CREATE POLICY`). Names go through
//! `quote_ident`; `USING` and `WITH CHECK` are the files' parsed expressions.
//! No statement here loosens security: a policy is never altered nor dropped
//! by a plan (a changed one is refused), only by `prune`.

use super::{comment_stmt, Statement};
use crate::model::{Policy, QualName, TableStats};
use crate::plan::diff::{Change, CommentTarget};

/// Policies, after their table and the functions and views their
/// expressions call.
pub(super) fn render_policies(changes: &[&Change], out: &mut Vec<Statement>) {
    for c in changes {
        match c {
            Change::CreatePolicy {
                table,
                policy,
                stats,
            } => push_policy(table, policy, stats, out),
            Change::CreateTable { table } => {
                for p in &table.policies {
                    push_policy(&table.name, p, &None, out);
                }
            }
            _ => {}
        }
    }
}

fn push_policy(table: &QualName, p: &Policy, stats: &Option<TableStats>, out: &mut Vec<Statement>) {
    let mut s = Statement::new(
        format!("create-policy:{table}.{}", p.name),
        p.create_sql(table, false),
        Some(table),
        "ACCESS EXCLUSIVE",
    )
    .from(&p.origin)
    .stats(stats);
    if stats.is_some() {
        s = s.hazard(Some(
            "waits for every query on the table, then blocks it until the plan commits; the policy applies from COMMIT on",
        ));
    }
    out.push(s);
    if let Some(cm) = &p.comment {
        out.push(comment_stmt(
            &CommentTarget::Policy(table.clone(), p.name.clone()),
            cm,
        ));
    }
}
