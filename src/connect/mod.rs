//! Connections as libpq makes them: the connection string and the libpq
//! variables (`conninfo`), TLS (`tls`), and the client (`db`).

pub mod conninfo;
pub mod db;
pub mod tls;
