//! What the database holds: its catalog, read in a fixed number of queries
//! (`introspect`), and what reconcile recorded in it (`history`).

pub mod code;
pub mod grants;
pub mod history;
pub mod introspect;
mod partition;
pub mod policy;
pub mod settled;
pub mod tsconfig;
pub mod types;
mod unmanaged;
