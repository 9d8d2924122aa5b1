//! `reconcile`: a declarative, additive-only schema reconciler for PostgreSQL.
//!
//! Data flows one way: load desired (TOML) → introspect actual (catalog) → diff
//! → classify by the rules → render SQL → plan → print → apply → record.
//! The stages are folders, each using only the ones below it:
//!
//! - `surfaces/`: the admin HTTP server, the CI guard, the printers, `dump`;
//! - `pipeline`: the chain the command line, the server and the guard call;
//! - `apply/`: apply (one transaction, or online) and `prune`;
//! - `plan/`: a plan against a live database, diff, rules, render, phases,
//!   and what PostgreSQL is asked to print (`canon`) and to judge (`validate`);
//! - `catalog/`: what the database holds (`introspect`) and has recorded (`history`);
//! - `desired/`: the schema files (`load`, `expr`, `types`);
//! - `connect/`: connections as libpq makes them;
//! - `model/`: the one catalog model both sides share, names, exclude patterns.
//!
//! This file only declares the modules and the public API. The old flat
//! paths (`reconcile::db`, `reconcile::admin`, ...) stay as re-exports.

pub mod apply;
pub mod catalog;
pub mod connect;
pub mod desired;
pub mod error;
pub mod model;
pub mod par;
pub mod pipeline;
pub mod plan;
pub mod surfaces;
pub mod trace;

pub use apply::prune;
pub use catalog::{history, introspect};
pub use connect::{conninfo, db, tls};
pub use desired::{expr, load, types};
pub use error::Error;
pub use model::{exclude, names};
pub use pipeline::{apply_target, dump_target, history_target, plan, Dumped, PlanOutcome, Target};
pub use plan::against::{plan_in_transaction, plan_with};
pub use plan::{canon, diff, phases, render, rules, validate, Plan};
pub use surfaces::{admin, answer, check, dump, fleet, paint, report};
