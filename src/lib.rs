//! # Haven
//!
//! Anonymous live chat for advocacy programs. Survivors chat without an account or a cookie;
//! advocates answer from a console; transcripts live only in memory and are purged on a
//! schedule; IP addresses are never stored.
//!
//! ## Layout
//!
//! Arrows run one way: `main → startup → ws/http → hub/auth → store`.
//!
//! - [`cli`]: the command line (`serve`, `staff add`).
//! - [`config`]: typed, layered, validated configuration.
//! - [`telemetry`]: logging, with no personal data in any field.
//! - [`startup`]: builds the application, runs it, shuts it down.
//! - [`protocol`]: the wire frames (`docs/protocol.md`).
//! - [`error`]: the stable error codes.
//! - [`hub`]: queues, chats, transcripts, advocates, purge. No HTTP in it.
//! - [`ws`]: the two WebSockets, adapted to the hub.
//! - [`http`]: staff login, public settings, pages, security headers.
//! - [`auth`]: sessions and login throttling.
//! - [`store`]: SQLite, the only code that touches disk (staff and staff sessions only).
//! - [`staff`]: roles and the staff record every layer shares.

pub mod auth;
pub mod cli;
pub mod config;
pub mod error;
pub mod http;
pub mod hub;
pub mod protocol;
pub mod staff;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod ws;

pub use config::Config;
pub use staff::Role;
pub use startup::{Application, ShutdownHandle};
