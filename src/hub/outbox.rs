//! A connection's bounded outbound queue, as the hub sees it.
//!
//! The hub never awaits a socket: it `try_send`s into the connection's queue. A queue that is
//! full means a slow consumer; the hub cancels that connection (which may resume) instead of
//! waiting, so one stalled phone can never block other chats.
//!
//! The queue is a `VecDeque` that grows with what is queued, not a tokio channel: a channel
//! allocates a 32-slot block up front (1.3 KB per connection), and most connections (a chatter
//! waiting in a long line) hold one or two frames at a time (issue 10).

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex, MutexGuard,
    },
};

use tokio::sync::Notify;

use super::switch::Switch;
use crate::{error::ErrorCode, protocol::Version};

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

#[derive(Debug, Clone)]
pub enum Frame {
    Text(Arc<str>),
    /// The `ack` of the client's own message: the writer may hold it a moment, so that it goes
    /// out in one write with the frame that usually follows (the reply it acknowledges).
    Ack(Arc<str>),
    /// Several frames that take one place in the queue (a resume's replay of missed lines).
    Batch(Vec<Arc<str>>),
    /// Close the socket with this code and reason after the frames before it.
    Close(u16, ErrorCode),
}

/// State frames where only the newest matters (snapshots of the queue, the roster, a
/// supervisor's overview, one's own status, a waiting chatter's position). They replace each other instead of queueing, so
/// a burst of changes can never fill a console's queue and get it dropped.
#[derive(Debug, Clone, Copy)]
pub enum Snapshot {
    Queue = 0,
    Advocates = 1,
    Overview = 2,
    Status = 3,
    /// A waiting chatter's `queued` position.
    Position = 4,
}

#[derive(Debug, Default)]
pub struct Latest {
    slots: Mutex<[Option<Arc<str>>; 5]>,
    pub changed: Notify,
}

impl Latest {
    /// The pending snapshots, oldest kind first, leaving the slots empty.
    pub fn take(&self) -> Vec<Arc<str>> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.iter_mut().filter_map(Option::take).collect()
    }
}

#[derive(Debug, Clone)]
pub struct Outbox {
    id: u64,
    queue: Arc<Queue>,
    latest: Arc<Latest>,
    /// Cancelled when the hub gives up on this connection (slow consumer, replaced).
    kill: Switch,
    /// The protocol the client on this connection speaks.
    version: Version,
}

/// The frames waiting for the socket's writer.
#[derive(Debug)]
struct Queue {
    frames: Mutex<VecDeque<Frame>>,
    capacity: usize,
    /// A frame arrived (for the writer).
    arrived: Notify,
    /// The writer took frames (for the reader waiting for room).
    taken: Notify,
    /// The receiving end is gone: sending is pointless.
    closed: AtomicBool,
}

impl Queue {
    fn frames(&self) -> MutexGuard<'_, VecDeque<Frame>> {
        self.frames.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The receiving end of a connection's queue (one per connection: its writer).
#[derive(Debug)]
pub struct Receiver {
    queue: Arc<Queue>,
}

/// Nothing is queued now.
#[derive(Debug)]
pub struct Empty;

impl Receiver {
    /// The next frame, waiting for one. (`Option` as a channel's: this queue never ends by
    /// itself; the connection stops its writer.)
    pub async fn recv(&mut self) -> Option<Frame> {
        loop {
            if let Ok(frame) = self.try_recv() {
                return Some(frame);
            }
            // A frame queued since the check has stored a permit: this returns at once.
            self.queue.arrived.notified().await;
        }
    }

    /// The next frame if one is queued.
    pub fn try_recv(&mut self) -> Result<Frame, Empty> {
        let frame = self.queue.frames().pop_front().ok_or(Empty)?;
        self.queue.taken.notify_one();
        Ok(frame)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.queue.closed.store(true, Ordering::Release);
        self.queue.taken.notify_one();
    }
}

/// What the socket side holds: the receiving end and the kill switch.
pub struct Inbox {
    pub rx: Receiver,
    pub latest: Arc<Latest>,
    pub kill: Switch,
}

impl Outbox {
    pub fn new(capacity: usize) -> (Outbox, Inbox) {
        let queue = Arc::new(Queue {
            frames: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            arrived: Notify::new(),
            taken: Notify::new(),
            closed: AtomicBool::new(false),
        });
        let kill = Switch::new();
        let id = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
        let latest = Arc::new(Latest::default());
        (
            Outbox {
                id,
                queue: queue.clone(),
                latest: latest.clone(),
                kill: kill.clone(),
                version: Version::V1,
            },
            Inbox {
                rx: Receiver { queue },
                latest,
                kill,
            },
        )
    }

    /// The same connection, speaking `version` (known from the client's first frame).
    pub fn speaking(mut self, version: Version) -> Outbox {
        self.version = version;
        self
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// Identifies the connection, so late events from a replaced socket are ignored.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Queues a frame; a full queue cancels the connection as a slow consumer.
    pub fn send(&self, frame: Frame) -> bool {
        if self.kill.is_cancelled() {
            return false;
        }
        match self.try_push(frame) {
            Ok(()) => true,
            Err(Refused::Full) => {
                tracing::warn!(conn = self.id, "slow consumer dropped");
                self.kill.cancel();
                false
            }
            Err(Refused::Closed) => false,
        }
    }

    fn try_push(&self, frame: Frame) -> Result<(), Refused> {
        if self.queue.closed.load(Ordering::Acquire) {
            return Err(Refused::Closed);
        }
        let mut frames = self.queue.frames();
        if frames.len() >= self.queue.capacity {
            return Err(Refused::Full);
        }
        frames.push_back(frame);
        drop(frames);
        self.queue.arrived.notify_one();
        Ok(())
    }

    /// Waits until the queue has room for `frames` more: the socket reads the client's next
    /// frame only then, so a client's own burst (each frame answered by an `ack`, a `pong` or
    /// an `error`) slows its reading instead of filling its queue.
    pub async fn wait_for_room(&self, frames: usize) {
        let frames = frames.min(self.queue.capacity / 2).max(1);
        loop {
            let closed = self.queue.closed.load(Ordering::Acquire);
            if closed || self.queue.frames().len() + frames <= self.queue.capacity {
                return;
            }
            // Frames taken since the check have stored a permit: this returns at once.
            self.queue.taken.notified().await;
        }
    }

    /// Replaces the pending snapshot of this kind.
    pub fn snapshot(&self, kind: Snapshot, frame: &Frame) {
        if let Frame::Text(text) = frame {
            let mut slots = self.latest.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots[kind as usize] = Some(text.clone());
            drop(slots);
            self.latest.changed.notify_one();
        }
    }

    /// Drops a pending snapshot that no longer holds (a position once an advocate joined).
    pub fn clear_snapshot(&self, kind: Snapshot) {
        let mut slots = self.latest.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots[kind as usize] = None;
    }

    /// Asks the socket to close with `code` after what is queued; forces it if the queue is full.
    pub fn close(&self, code: u16, reason: ErrorCode) {
        if self.try_push(Frame::Close(code, reason)).is_err() {
            self.kill.cancel();
        }
    }

    /// Gives up on the connection at once (its session elsewhere did: cluster mode).
    pub fn kill(&self) {
        self.kill.cancel();
    }

    pub fn is_killed(&self) -> bool {
        self.kill.is_cancelled()
    }
}

enum Refused {
    Full,
    Closed,
}
