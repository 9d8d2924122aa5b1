//! Row-level security policies of a table (`CREATE POLICY`, PostgreSQL's
//! "Row Security Policies", ddl-rowsecurity): which rows a role sees
//! (`USING`) and which rows it may write (`WITH CHECK`).

use serde::Serialize;

use crate::model::names::quote_ident;
use crate::model::{Expr, Origin, QualName};

/// The commands a policy applies to, as `CREATE POLICY ... FOR` spells them.
pub const POLICY_COMMANDS: [&str; 5] = ["all", "select", "insert", "update", "delete"];

/// One policy of a table (pg_policy).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub name: String,
    /// One of [`POLICY_COMMANDS`] (`all` when the files say nothing).
    pub command: String,
    /// `AS PERMISSIVE` (PostgreSQL's default; policies are OR-ed) or
    /// `AS RESTRICTIVE` (AND-ed with the permissive ones).
    pub permissive: bool,
    /// The roles it applies to, sorted; `public` (every role) when the files
    /// name none, as PostgreSQL stores it.
    pub roles: Vec<String>,
    /// `USING (...)`: the rows visible (SELECT, UPDATE, DELETE).
    pub using: Option<Expr>,
    /// `WITH CHECK (...)`: the rows that INSERT and UPDATE may write.
    pub with_check: Option<Expr>,
    pub comment: Option<String>,
    pub deprecated: Option<String>,
    #[serde(skip)]
    pub origin: Option<Origin>,
}

impl Policy {
    /// `CREATE POLICY ... ON table`: with `key`, the expressions' normalized
    /// forms (to compare two policies), without, their SQL (to run).
    pub fn create_sql(&self, table: &QualName, key: bool) -> String {
        let roles: Vec<String> = self.roles.iter().map(|r| role_sql(r)).collect();
        let mut s = format!(
            "CREATE POLICY {} ON {} AS {} FOR {} TO {}",
            quote_ident(&self.name),
            table.sql(),
            if self.permissive {
                "PERMISSIVE"
            } else {
                "RESTRICTIVE"
            },
            self.command.to_uppercase(),
            roles.join(", ")
        );
        let pick = |e: &Expr| if key { e.key.clone() } else { e.sql.clone() };
        if let Some(u) = &self.using {
            s.push_str(&format!(" USING ({})", pick(u)));
        }
        if let Some(c) = &self.with_check {
            s.push_str(&format!(" WITH CHECK ({})", pick(c)));
        }
        s
    }

    /// What the policy is, for a person (a refusal's live and desired sides).
    pub fn definition(&self) -> String {
        let mut s = format!(
            "{} FOR {} TO {}",
            if self.permissive {
                "PERMISSIVE"
            } else {
                "RESTRICTIVE"
            },
            self.command.to_uppercase(),
            self.roles.join(", ")
        );
        if let Some(u) = &self.using {
            s.push_str(&format!(" USING ({})", u.sql));
        }
        if let Some(c) = &self.with_check {
            s.push_str(&format!(" WITH CHECK ({})", c.sql));
        }
        s
    }

    /// The same policy in the files' sense: command, kind, roles and the
    /// expressions' normalized forms (names and comments aside).
    pub fn same_rule(&self, other: &Policy) -> bool {
        let k = |p: &Policy| {
            (
                p.command.clone(),
                p.permissive,
                p.roles.clone(),
                p.using.as_ref().map(|e| e.key.clone()),
                p.with_check.as_ref().map(|e| e.key.clone()),
            )
        };
        k(self) == k(other)
    }
}

/// A role in `TO ...`: `public` is PostgreSQL's keyword for every role (no
/// role can be named so); any other name is quoted as it needs.
pub fn role_sql(role: &str) -> String {
    if role == "public" {
        "PUBLIC".into()
    } else {
        quote_ident(role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_quotes_its_names_and_keeps_public_a_keyword() {
        let p = Policy {
            name: "own rows".into(),
            command: "select".into(),
            permissive: false,
            roles: vec!["App".into(), "public".into()],
            using: Some(crate::desired::expr::from_catalog("(owner = CURRENT_USER)")),
            with_check: None,
            comment: None,
            deprecated: None,
            origin: None,
        };
        assert_eq!(
            p.create_sql(&QualName::new("public", "t"), false),
            "CREATE POLICY \"own rows\" ON public.t AS RESTRICTIVE FOR SELECT TO \"App\", PUBLIC USING ((owner = CURRENT_USER))"
        );
    }
}
