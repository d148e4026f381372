//! A chat's transcript: bounded, in memory only, wiped when dropped.

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use zeroize::Zeroizing;

use crate::protocol::{MessageView, Sender, SystemNote};

/// Client message ids remembered per chat, so a message re-sent after a reconnect is
/// acknowledged again instead of stored twice.
const REMEMBERED_CLIENT_IDS: usize = 64;

pub struct Line {
    pub seq: u64,
    pub from: Sender,
    /// Zeroized when the line is dropped (trimmed, purged or the chat is dropped).
    pub text: Zeroizing<String>,
    pub at: u64,
    pub note: Option<SystemNote>,
}

impl Line {
    pub fn view(&self) -> MessageView<'_> {
        MessageView {
            seq: self.seq,
            from: self.from,
            text: &self.text,
            at: self.at,
            key: self.note,
        }
    }
}

/// Bytes of transcript text held by every chat together (the memory budget's measure).
#[derive(Clone, Default)]
pub struct Meter(Arc<AtomicUsize>);

impl Meter {
    pub fn bytes(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    fn add(&self, bytes: usize) {
        self.0.fetch_add(bytes, Ordering::Relaxed);
    }

    fn sub(&self, bytes: usize) {
        self.0.fetch_sub(bytes, Ordering::Relaxed);
    }
}

pub struct Transcript {
    lines: VecDeque<Line>,
    bytes: usize,
    meter: Meter,
    /// Lines were dropped at the bound and nobody was told yet.
    trimmed_untold: bool,
    /// Whether anyone was ever told (they are told once per chat).
    trim_told: bool,
    last_seq: u64,
    max_lines: usize,
    max_bytes: usize,
    client_ids: VecDeque<(Sender, String, u64, u64)>,
}

impl Transcript {
    pub fn new(max_lines: usize, max_bytes: usize, meter: Meter) -> Transcript {
        Transcript {
            lines: VecDeque::new(),
            bytes: 0,
            meter,
            trimmed_untold: false,
            trim_told: false,
            last_seq: 0,
            max_lines,
            max_bytes,
            client_ids: VecDeque::new(),
        }
    }

    /// Appends a line and returns it; the oldest lines go when a bound is reached.
    pub fn push(&mut self, from: Sender, text: String, at: u64, note: Option<SystemNote>) -> &Line {
        self.last_seq += 1;
        self.bytes += text.len();
        self.meter.add(text.len());
        self.lines.push_back(Line {
            seq: self.last_seq,
            from,
            text: Zeroizing::new(text),
            at,
            note,
        });
        while self.lines.len() > self.max_lines
            || (self.bytes > self.max_bytes && self.lines.len() > 1)
        {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= old.text.len();
                self.meter.sub(old.text.len());
                self.trimmed_untold |= !self.trim_told;
            }
        }
        self.lines.back().expect("just pushed")
    }

    /// True once, the first time lines were dropped at the bound: both sides are told then.
    pub fn take_trim_notice(&mut self) -> bool {
        let tell = std::mem::take(&mut self.trimmed_untold);
        self.trim_told |= tell;
        tell
    }

    /// The oldest line still held, if any.
    pub fn first_seq(&self) -> Option<u64> {
        self.lines.front().map(|l| l.seq)
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Records which server line a client id became.
    pub fn remember_client_id(&mut self, from: Sender, id: &str, seq: u64, at: u64) {
        if self.client_ids.len() == REMEMBERED_CLIENT_IDS {
            self.client_ids.pop_front();
        }
        self.client_ids.push_back((from, id.to_owned(), seq, at));
    }

    /// `(seq, at)` of a message this sender already sent with this client id.
    pub fn find_client_id(&self, from: Sender, id: &str) -> Option<(u64, u64)> {
        self.client_ids
            .iter()
            .find(|(f, i, _, _)| *f == from && i == id)
            .map(|&(_, _, seq, at)| (seq, at))
    }

    pub fn since(&self, seq: u64) -> impl Iterator<Item = &Line> {
        self.lines.iter().filter(move |line| line.seq > seq)
    }

    pub fn all(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Drops every line now (their text is zeroized on drop).
    pub fn wipe(&mut self) {
        self.lines.clear();
        self.client_ids.clear();
        self.meter.sub(self.bytes);
        self.bytes = 0;
    }
}

impl Drop for Transcript {
    fn drop(&mut self) {
        self.meter.sub(self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_drop_the_oldest_lines() {
        let mut t = Transcript::new(3, 1_000, Meter::default());
        for i in 0..5 {
            t.push(Sender::Chatter, format!("m{i}"), 0, None);
        }
        let seqs: Vec<u64> = t.all().map(|l| l.seq).collect();
        assert_eq!(seqs, vec![3, 4, 5]);

        let mut t = Transcript::new(100, 10, Meter::default());
        t.push(Sender::Chatter, "123456".into(), 0, None);
        t.push(Sender::Chatter, "abcdef".into(), 0, None);
        assert_eq!(t.len(), 1);
        assert_eq!(&*t.all().next().unwrap().text, "abcdef");
    }

    #[test]
    fn the_meter_counts_every_transcript_and_a_trim_is_told_once() {
        let meter = Meter::default();
        let mut a = Transcript::new(2, 1_000, meter.clone());
        let mut b = Transcript::new(10, 1_000, meter.clone());
        a.push(Sender::Chatter, "12345".into(), 0, None);
        b.push(Sender::Chatter, "123".into(), 0, None);
        assert_eq!(meter.bytes(), 8);
        assert!(!a.take_trim_notice());
        a.push(Sender::Chatter, "1".into(), 0, None);
        a.push(Sender::Chatter, "1".into(), 0, None);
        assert_eq!(meter.bytes(), 5, "the trimmed line left the meter");
        assert!(a.take_trim_notice());
        a.push(Sender::Chatter, "1".into(), 0, None);
        assert!(!a.take_trim_notice(), "told once per chat");
        a.wipe();
        assert_eq!(meter.bytes(), 3);
        drop(b);
        assert_eq!(meter.bytes(), 0, "a dropped transcript leaves the meter");
    }

    #[test]
    fn since_returns_only_later_lines_in_order() {
        let mut t = Transcript::new(10, 1_000, Meter::default());
        for i in 0..4 {
            t.push(Sender::Advocate, format!("m{i}"), 0, None);
        }
        let seqs: Vec<u64> = t.since(2).map(|l| l.seq).collect();
        assert_eq!(seqs, vec![3, 4]);
    }
}
