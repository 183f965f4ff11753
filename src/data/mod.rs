//! The bot's own tables (General Bots' `TABLE … END TABLE` definitions and the data
//! keywords over them). So far: filter strings turned into parameterized SQL, and table
//! definitions turned into the statements that create or extend their tables.

pub mod filter;
pub mod schema;
