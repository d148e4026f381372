//! What the hub tells the statistics: moments in a chat's life as counts-to-be, with no chat
//! id, no person and no text. The recorder (in `stats`) folds them into daily aggregates.

use crate::protocol::OfflineReason;

/// How an answered chat ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    Chatter,
    QuickExit,
    Advocate,
    Supervisor,
    TimedOut,
    ServerClosing,
}

impl EndedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            EndedBy::Chatter => "chatter",
            EndedBy::QuickExit => "quick_exit",
            EndedBy::Advocate => "advocate",
            EndedBy::Supervisor => "supervisor",
            EndedBy::TimedOut => "timed_out",
            EndedBy::ServerClosing => "server_closing",
        }
    }
}

/// One countable moment. `started_ms` is when the chat first entered a queue: every outcome
/// of a chat is counted on the day it started, so that per day offered = answered + abandoned.
#[derive(Debug, Clone)]
pub enum ChatEvent {
    /// `hello` answered with `offline`: no chat was created.
    TurnedAway {
        queue: String,
        reason: OfflineReason,
    },
    /// An advocate joined for the first time.
    Answered {
        queue: String,
        started_ms: u64,
        waited_ms: u64,
    },
    /// The chat closed before any advocate joined.
    Abandoned {
        queue: String,
        started_ms: u64,
    },
    Transferred {
        queue: String,
        started_ms: u64,
    },
    Resumed {
        queue: String,
        started_ms: u64,
    },
    /// An answered chat closed.
    Ended {
        queue: String,
        started_ms: u64,
        by: EndedBy,
        lasted_ms: u64,
    },
}

/// Receives chat events. Called under the hub's lock: it must only queue, never block.
pub trait Recorder: Send + Sync {
    fn record(&self, event: ChatEvent);
}
