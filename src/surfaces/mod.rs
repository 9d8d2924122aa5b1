//! What people and tools meet: the admin HTTP server (`admin`), the CI guard
//! (`check`, and `ci` for what it gives GitHub Actions), the printers (`report`)
//! and JSON answers (`answer`), colour (`paint`), and `dump` (the catalog as files).

pub mod admin;
pub mod answer;
pub mod check;
pub mod ci;
pub mod dump;
pub mod paint;
pub mod report;
