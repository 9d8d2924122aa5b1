//! The desired schema: TOML files loaded into the model (`load`), their SQL
//! expressions parsed and normalized (`expr`), their types (`types`).

pub mod expr;
pub mod load;
pub mod types;
