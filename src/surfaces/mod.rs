//! What people and tools meet: the admin HTTP server (`admin`), the CI guard
//! (`check`), the printers (`report`), and `dump` (the catalog as files).

pub mod admin;
pub mod check;
pub mod dump;
pub mod report;
