//! The plan: the statements to run, the refused changes, the unmanaged objects,
//! and a hash of the statements.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::diff::{diff, Change};
use crate::model::{Catalog, UnmanagedObject};
use crate::render::{render, Statement};
use crate::rules::{self, Finding};

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub statements: Vec<Statement>,
    pub refused: Vec<Finding>,
    pub unmanaged: Vec<UnmanagedObject>,
    /// Desired tables that need nothing (`table:<name>` in the admin endpoints).
    pub in_sync: Vec<String>,
    pub plan_hash: String,
}

impl Plan {
    /// Diff, classify and render.
    pub fn build(desired: &Catalog, live: &Catalog) -> Plan {
        let changes = diff(desired, live);
        let mut allowed: Vec<&Change> = Vec::new();
        let mut refused = Vec::new();
        let mut unmanaged = Vec::new();
        let mut touched = std::collections::HashSet::new();
        for c in &changes {
            if let Change::Unmanaged { object, .. } = c {
                unmanaged.push(object.clone());
                continue;
            }
            let r = rules::refusals(c);
            if r.is_empty() {
                allowed.push(c);
            } else {
                if let Some(t) = c.table() {
                    touched.insert(t.to_string());
                }
                refused.extend(r);
            }
        }
        let statements = render(&allowed);
        for s in &statements {
            if let Some(t) = &s.table {
                touched.insert(t.clone());
            }
        }
        let in_sync = desired
            .tables
            .keys()
            .map(|n| n.to_string())
            .filter(|n| !touched.contains(n))
            .collect();
        let plan_hash = hash(&statements);
        Plan {
            statements,
            refused,
            unmanaged,
            in_sync,
            plan_hash,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }
}

/// The digest of the statements, in order: 16 hex digits of SHA-256.
pub fn hash(statements: &[Statement]) -> String {
    let mut h = Sha256::new();
    for s in statements {
        h.update(s.sql.as_bytes());
        h.update(b";\n");
    }
    let digest = h.finalize();
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}
