//! Integration tests against a real PostgreSQL (see harness.rs).

mod apply;
mod cases;
mod harness;
mod plan;
