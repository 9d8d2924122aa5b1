//! Integration tests against a real PostgreSQL (see harness.rs).

mod apply;
mod cases;
mod check;
mod connect;
mod dump;
mod empty;
mod every_kind;
mod exclude;
mod grants;
mod harness;
mod help;
mod history;
mod introspect;
mod online;
mod oracle;
mod outside;
mod partition;
mod plan;
mod prompt;
mod quoting;
mod security;
mod serve;
mod three_way;
mod types;
mod user_types;
mod validate;
