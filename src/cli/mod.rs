//! Command-line subcommands that are not the server: `check` and `run`.

#![warn(missing_docs)]

pub mod check;
pub mod run;
pub mod serve;
