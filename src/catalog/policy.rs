//! Row-level security policies as the catalog holds them (pg_policy), one
//! JSON document whatever the count. The same statement, with another
//! filter, reads back the probes that `plan::canon` makes of the files'
//! policies, so both sides are printed by PostgreSQL's `pg_get_expr`.

use serde::Deserialize;

use crate::desired::expr;
use crate::model::{Policy, QualName};

/// One JSON array of the policies that `filter` keeps (over `pol`, its table
/// `c` and the table's namespace `n`).
pub fn q_policies(filter: &str) -> String {
    format!(
        "SELECT coalesce(json_agg(x ORDER BY x.schema, x.tbl, x.name), '[]') FROM ( \
           SELECT n.nspname AS schema, c.relname AS tbl, pol.polname AS name, \
                  pol.polcmd::text AS cmd, pol.polpermissive AS permissive, \
                  CASE WHEN pol.polroles = '{{0}}'::oid[] THEN ARRAY['public'::name] \
                       ELSE ARRAY(SELECT r.rolname FROM pg_roles r WHERE r.oid = ANY (pol.polroles)) END AS roles, \
                  pg_get_expr(pol.polqual, pol.polrelid) AS using, \
                  pg_get_expr(pol.polwithcheck, pol.polrelid) AS with_check, \
                  obj_description(pol.oid, 'pg_policy') AS comment \
           FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid \
           JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE {filter} \
         ) x"
    )
}

/// A row of [`q_policies`].
#[derive(Deserialize)]
pub struct RawPolicy {
    pub schema: String,
    pub tbl: String,
    pub name: String,
    cmd: String,
    permissive: bool,
    roles: Vec<String>,
    using: Option<String>,
    with_check: Option<String>,
    comment: Option<String>,
}

impl RawPolicy {
    pub fn table(&self) -> QualName {
        QualName::new(self.schema.clone(), self.tbl.clone())
    }

    /// The model's policy: pg_policy's command letter as its word, roles
    /// sorted (PUBLIC as `public`), expressions as PostgreSQL prints them.
    pub fn into_model(self) -> Policy {
        let command = match self.cmd.as_str() {
            "r" => "select",
            "a" => "insert",
            "w" => "update",
            "d" => "delete",
            _ => "all",
        }
        .to_string();
        let mut roles = self.roles;
        roles.sort();
        Policy {
            name: self.name,
            command,
            permissive: self.permissive,
            roles,
            using: self.using.as_deref().map(expr::from_catalog),
            with_check: self.with_check.as_deref().map(expr::from_catalog),
            comment: self.comment,
            deprecated: None,
            origin: None,
        }
    }
}
