//! The plan: the statements to run, the refused changes, the unmanaged objects,
//! and a hash of the statements.

pub mod against;
pub mod canon;
pub mod diff;
pub mod phases;
pub mod render;
pub mod rules;
pub mod validate;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::{Catalog, UnmanagedObject};
use crate::plan::diff::{diff, Change};
use crate::plan::render::{render, Statement};

use crate::plan::rules::removals::Removal;
use crate::plan::rules::Finding;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub statements: Vec<Statement>,
    pub refused: Vec<Finding>,
    pub unmanaged: Vec<UnmanagedObject>,
    /// Desired tables that need nothing (`table:<name>` in the admin endpoints).
    pub in_sync: Vec<String>,
    /// Big tables whose writes this plan would stop while it works, in one
    /// transaction (`apply --online` keeps them flowing).
    pub busy_tables: Vec<BusyTable>,
    pub plan_hash: String,
    /// The version of the files planned (`Sources::hash`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files_hash: Option<String>,
    /// The version of the files the last apply recorded: the third side of
    /// the plan. `None` when no apply recorded one (an adopted database).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied_files: Option<AppliedFiles>,
}

/// The files last applied, as a plan compared them.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedFiles {
    /// The history row that recorded them.
    pub history_id: i64,
    pub files_hash: String,
    /// Why they could not be compared (a record this version cannot read):
    /// removals are then judged as without a recorded version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

/// A table above the threshold (`BUSY_ROWS` rows or `BUSY_BYTES` bytes) on
/// which a statement scans, builds or rewrites while holding a lock that blocks writes.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BusyTable {
    pub table: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<i64>,
    /// The step ids that hold writes back, with their hazard.
    pub steps: Vec<String>,
    /// Whether `apply --online` runs them without blocking writes (a rewrite it cannot avoid).
    pub online_avoids: bool,
}

/// Estimated rows from which a table counts as busy.
pub const BUSY_ROWS: i64 = 100_000;
/// Size from which a table counts as busy: 100 MiB.
pub const BUSY_BYTES: i64 = 100 * 1024 * 1024;

/// Locks that conflict with `ROW EXCLUSIVE`, which every INSERT, UPDATE and DELETE takes.
pub fn blocks_writes(lock: &str) -> bool {
    matches!(
        lock,
        "SHARE" | "SHARE ROW EXCLUSIVE" | "EXCLUSIVE" | "ACCESS EXCLUSIVE"
    )
}

fn busy_tables(statements: &[Statement]) -> Vec<BusyTable> {
    let mut out: Vec<BusyTable> = Vec::new();
    for s in statements {
        let (Some(table), Some(_)) = (&s.table, &s.hazard) else {
            continue;
        };
        let big = s.table_rows.is_some_and(|r| r >= BUSY_ROWS)
            || s.table_bytes.is_some_and(|b| b >= BUSY_BYTES);
        if !big || !blocks_writes(s.lock) {
            continue;
        }
        // Online forms take their strong locks only briefly (no scan under them).
        let avoided = !s.online.is_empty();
        let i = match out.iter().position(|b| &b.table == table) {
            Some(i) => i,
            None => {
                out.push(BusyTable {
                    table: table.clone(),
                    rows: s.table_rows,
                    bytes: s.table_bytes,
                    steps: Vec::new(),
                    online_avoids: true,
                });
                out.len() - 1
            }
        };
        let b = &mut out[i];
        b.steps.push(s.id.clone());
        b.online_avoids &= avoided;
    }
    out
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
            busy_tables: busy_tables(&statements),
            statements,
            refused,
            unmanaged,
            in_sync,
            plan_hash,
            files_hash: desired.sources.as_ref().map(|s| s.hash()),
            applied_files: None,
        }
    }

    /// Three sides: what the files last applied had and the files now do
    /// not (`removals`, from `rules::removals`), judged where the database
    /// still has it. R002 for a rename, replacing the R006 of its new side; R001
    /// for the rest. A removed object the database no longer has is no loss.
    pub fn judge_removals(&mut self, removals: &[Removal], live: &Catalog) {
        for r in removals.iter().filter(|r| r.removed.exists_in(live)) {
            let mut r = r.clone();
            // Both names in the database: nothing is renamed by this plan.
            if r.renamed_to.as_ref().is_some_and(|a| a.exists_in(live)) {
                r.renamed_to = None;
            }
            self.refused.retain(|f| !r.supersedes(f));
            self.refused.push(r.finding());
        }
        self.refused.sort_by_key(|f| f.rule);
    }

    /// Whether the files differ from the version the last apply recorded
    /// (or none was recorded): an apply then records them, even with nothing to run.
    pub fn files_changed(&self) -> bool {
        match (&self.files_hash, &self.applied_files) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(now), Some(last)) => now != &last.files_hash,
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
