//! Benchmarks behind `botserver bench` (README, Performance). `run` runs the parts in order; each
//! other module measures one figure and returns it as plain numbers; `report` prints
//! them beside their targets.

#![warn(missing_docs)]

pub mod compile;
pub mod console;
pub mod conversation;
pub mod designer;
pub mod http;
pub mod instance;
pub mod memory;
pub mod recovery;
pub mod report;
pub mod run;
pub mod scale;
pub mod steps;
pub mod throughput;
pub mod wake;
pub mod wakeups;
