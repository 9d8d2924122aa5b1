//! Integration tests against a real PostgreSQL (see harness.rs).

mod apply;
mod cases;
mod check;
mod dump;
mod harness;
mod introspect;
mod plan;
mod serve;
