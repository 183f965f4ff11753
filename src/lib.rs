//! botserver: a bot server whose bots are BASIC scripts, with durable multi-bot
//! workflows, events and cross-bot memory. See `src/README.md` for the layout.

pub mod basic;
pub mod bench;
pub mod bots;
pub mod cli;
pub mod console;
pub mod data;
pub mod db;
pub mod designer;
pub mod error;
pub mod http;
pub mod instance;
pub mod mail;
pub mod server;
pub mod wakeup;
pub mod workflow;
