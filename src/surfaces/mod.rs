//! What people and tools meet: the admin HTTP server (`admin`), the CI guard
//! (`check`), the printers (`report`) and JSON answers (`answer`), and `dump`
//! (the catalog as files).

pub mod admin;
pub mod answer;
pub mod check;
pub mod dump;
pub mod paint;
pub mod report;
