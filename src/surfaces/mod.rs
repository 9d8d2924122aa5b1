//! What people and tools meet: the admin HTTP server (`admin`), the CI guard
//! (`check`, and `ci` for what it gives GitHub Actions), the printers (`report`)
//! and JSON answers (`answer`), colour (`paint`), `dump` (the catalog as files),
//! `codegen` (an ORM's schema generated from the files), and `fleet` (plan,
//! apply and history over many databases).

pub mod admin;
pub mod answer;
pub mod check;
pub mod ci;
pub mod codegen;
pub mod dump;
pub mod fleet;
pub mod paint;
pub mod report;
