//! Haven's API test suite: the real server on a random port, real WebSockets and real HTTP.
//! Each module is one topic of issue 2; `support` holds the clients and helpers.

#[path = "../common/mod.rs"]
mod common;

mod support;

mod abuse;
mod admin;
mod auth;
mod backpressure;
mod bad_input;
mod chatter_page;
mod claim_race;
mod cluster;
mod config;
mod console_continuity;
mod disk;
mod faults;
mod flow;
mod forensics;
mod forms;
mod offline;
mod postgres;
mod privacy;
mod proof;
mod protocol_version;
mod purge;
mod queue_page;
mod recovery;
mod restart;
mod resume;
mod second_factor;
mod security_headers;
mod settings;
mod shutdown;
mod stall;
mod stats;
mod store;
mod supervisor;
mod throttle;
mod tls;
