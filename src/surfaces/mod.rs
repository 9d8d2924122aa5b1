//! What people and tools meet: the admin HTTP server (`admin`), the CI guard
//! (`check`, and `ci` for what it gives GitHub Actions), the printers (`report`), and `dump` (the catalog as files).

pub mod admin;
pub mod check;
pub mod ci;
pub mod dump;
pub mod report;
