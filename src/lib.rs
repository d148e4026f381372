//! # Haven
//!
//! Anonymous live chat for advocacy programs. Survivors chat without an account or a cookie;
//! advocates answer from a console; transcripts live only in memory and are purged on a
//! schedule; IP addresses are never stored.
//!
//! ## Layout
//!
//! Arrows run one way: `main → startup → ws/http → state → hub/auth → store`.
//!
//! - [`cli`]: the command line (`serve`, `staff add`).
//! - [`config`]: typed, layered, validated configuration.
//! - [`program_text`]: the program's texts per language, with fallbacks.
//! - [`telemetry`]: logging, with no personal data in any field.
//! - [`startup`]: builds the application, runs it, shuts it down.
//! - [`state`]: `AppState`, what every handler and socket shares; below the router, so that
//!   the router and the sockets import it and nothing imports them back.
//! - [`protocol`]: the wire frames (`docs/protocol.md`).
//! - [`error`]: the stable error codes.
//! - [`hub`]: queues, chats, transcripts, advocates, purge. No HTTP in it.
//! - [`ws`]: the two WebSockets, adapted to the hub.
//! - [`http`]: staff login, public settings, pages, security headers.
//! - [`auth`]: sessions, login throttling, device cookies, revocation.
//! - [`admin`]: staff administration rules shared by the admin API and the CLI.
//! - [`settings`]: queues, hours, canned responses and texts admins edit while Haven runs.
//! - [`audit`]: the audit trail of staff actions, written off the request path.
//! - [`store`]: SQLite, the only code that touches disk (staff and staff sessions only).
//! - [`staff`]: roles and the staff record every layer shares.
//! - [`forms`]: the voluntary intake form and exit survey; answers kept unlinkable to chats.
//! - [`stats`]: aggregate statistics for evaluators, with small-cell suppression.
//! - [`abuse`]: per-client keys and limits, the file-descriptor budget (issue 8).
//! - [`metrics`]: Prometheus counts and gauges, never about a person.
//! - [`memory`]: freed memory goes back to the system (jemalloc's background purge).
//! - `serve`: the accept loop (connection cap, header-read timeout, optional TLS, security
//!   headers on hyper's own answers, graceful shutdown).

pub mod abuse;
pub mod admin;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod error;
pub mod forms;
pub mod http;
pub mod hub;
pub mod memory;
pub mod metrics;
pub mod program_text;
pub mod protocol;
mod serve;
pub mod settings;
pub mod staff;
pub mod startup;
pub mod state;
pub mod stats;
pub mod store;
pub mod telemetry;
pub mod ws;

#[cfg(test)]
mod parser_fuzz;

pub use config::Config;
pub use staff::Role;
pub use startup::{Application, ShutdownHandle};
