//! Command-line subcommands that are not the server: `check` and `run`.

pub mod check;
pub mod run;
pub mod serve;
