//! Integration tests against a real PostgreSQL (see harness.rs).

mod cases;
mod harness;
mod plan;
