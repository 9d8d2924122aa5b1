//! What the database holds: its catalog, read in a fixed number of queries
//! (`introspect`), and what reconcile recorded in it (`history`).

/// The oid of the database connected to, as a scalar subquery.
pub const THIS_DATABASE: &str =
    "(SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())";

/// The first oid that PostgreSQL gives an object made after initdb
/// (`FirstNormalObjectId`); the oid counter never goes below it again, so
/// an oid below it is one of PostgreSQL's own objects.
pub const FIRST_NORMAL_OBJECT_ID: u32 = 16384;

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
