//! Benchmarks behind `botserver bench` (DESIGN §6). Each module measures one figure and
//! returns it as plain numbers; the command prints them beside their targets.

pub mod compile;
pub mod http;
pub mod run;
