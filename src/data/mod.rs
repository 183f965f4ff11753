//! The bot's own tables (General Bots' `TABLE … END TABLE` definitions and the data
//! keywords over them): filter strings turned into parameterized SQL (`filter`), table
//! definitions turned into the statements that create or extend their tables (`schema`),
//! and the keywords' statements (`ops`).

pub mod filter;
pub mod ops;
pub mod schema;
