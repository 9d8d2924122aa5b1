//! GRANT statements, after every object of the plan exists. Never a REVOKE.
//!
//! Lock: none. In PostgreSQL 15, GRANT on a table updates the table's
//! pg_class row (`relacl`) without a lock on the table (pg_locks shows
//! none, and it does not wait behind a writer, nor behind ACCESS EXCLUSIVE),
//! so it runs on a busy table as it is, online too (in the quick
//! transaction). Two GRANTs on one object at once: one fails with "tuple
//! concurrently updated", and is retried like any failed statement.

use super::Statement;
use crate::model::grants::grant_sql;
use crate::plan::diff::grants::{grant_id, table_of};
use crate::plan::diff::Change;

/// The GRANTs of `changes`, in their order.
pub(super) fn render_grants(changes: &[&Change], out: &mut Vec<Statement>) {
    for c in changes {
        if let Change::Grant {
            target,
            grantee,
            privileges,
            grant_option,
            origin,
        } = c
        {
            out.push(
                Statement::new(
                    grant_id(target, grantee, *grant_option),
                    grant_sql(target, grantee, privileges, *grant_option),
                    table_of(target),
                    "none",
                )
                .from(origin),
            );
        }
    }
}
