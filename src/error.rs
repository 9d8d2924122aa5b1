//! Typed errors of the library; the exit code derives from them (SPEC §4).

use crate::connect::db::{DbError, SqlError};
use crate::desired::load::LoadError;

/// Exit codes of SPEC §4.
pub mod exit {
    pub const OK: u8 = 0;
    pub const OPERATIONAL: u8 = 1;
    pub const INVALID_INPUT: u8 = 2;
    pub const REFUSED: u8 = 3;
    pub const CHANGES_PENDING: u8 = 4;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The schema files are invalid.
    #[error("{0}")]
    Load(#[from] LoadError),
    /// Invalid arguments.
    #[error("{0}")]
    Usage(String),
    /// Connecting failed.
    #[error("{0}")]
    Db(#[from] DbError),
    /// A statement failed; everything was rolled back.
    #[error("{0}")]
    Sql(#[from] SqlError),
    /// Anything else operational.
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Load(_) | Error::Usage(_) => exit::INVALID_INPUT,
            Error::Db(DbError::Config(_)) => exit::INVALID_INPUT,
            Error::Db(_) | Error::Sql(_) | Error::Other(_) => exit::OPERATIONAL,
        }
    }
}
