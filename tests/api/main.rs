//! Haven's API test suite: the real server on a random port, real WebSockets and real HTTP.
//! Each module is one topic of issue 2; `support` holds the clients and helpers.

#[path = "../common/mod.rs"]
mod common;

mod support;

mod auth;
mod backpressure;
mod bad_input;
mod claim_race;
mod config;
mod flow;
mod offline;
mod privacy;
mod purge;
mod resume;
mod shutdown;
