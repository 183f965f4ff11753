//! Code shared by the integration tests.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod browser;
pub mod corpus;
pub mod db;
pub mod peer;
pub mod server;
pub mod smtp;
