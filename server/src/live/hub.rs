//! Fan-out of a session's deltas: a bounded ring of recent deltas for resuming clients, and the
//! live subscribers, each with a bounded queue. Owned by the session's thread (no locks): the tick
//! never waits for a client — a full queue drops that client back to a fresh snapshot.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;

use super::protocol::Topic;

/// One delta: its place in the stream, its topic and its frame text (serialized once, shared by
/// every subscriber and the ring).
#[derive(Clone, Debug)]
pub struct Delta {
    /// Per-world sequence number.
    pub seq: u64,
    /// Topic.
    pub topic: Topic,
    /// The JSON frame.
    pub text: Utf8Bytes,
}

/// Most deltas the ring keeps for resuming clients.
pub const RING_FRAMES: usize = 4096;
/// Most bytes of frame text the ring keeps (older deltas go first).
pub const RING_BYTES: usize = 32 << 20;

/// The recent deltas of one stream, oldest first.
#[derive(Debug, Default)]
pub struct Ring {
    deltas: VecDeque<Delta>,
    bytes: usize,
}

impl Ring {
    /// Appends a delta, dropping the oldest beyond [`RING_FRAMES`] / [`RING_BYTES`].
    pub fn push(&mut self, d: Delta) {
        self.bytes += d.text.len();
        self.deltas.push_back(d);
        while self.deltas.len() > RING_FRAMES || (self.bytes > RING_BYTES && self.deltas.len() > 1) {
            if let Some(old) = self.deltas.pop_front() {
                self.bytes -= old.text.len();
            }
        }
    }

    /// The deltas after `seq` on `topics`, if the ring still holds everything after `seq`
    /// (`last` is the stream's newest seq); `None` means the client needs a snapshot.
    pub fn after(&self, seq: u64, last: u64, topics: &BTreeSet<Topic>) -> Option<Vec<Utf8Bytes>> {
        if seq > last {
            return None;
        }
        if seq == last {
            return Some(Vec::new());
        }
        let first = self.deltas.front()?.seq;
        if seq + 1 < first {
            return None;
        }
        Some(self.deltas.iter().filter(|d| d.seq > seq && topics.contains(&d.topic)).map(|d| d.text.clone()).collect())
    }
}

/// Frames queued per client before it counts as slow.
pub const QUEUE_FRAMES: usize = 512;

/// A live subscriber as the session thread sees it.
#[derive(Debug)]
pub struct Subscriber {
    /// Connection id (unique per server process).
    pub id: u64,
    /// Topics it receives.
    pub topics: BTreeSet<Topic>,
    /// Its outbound queue.
    pub tx: mpsc::Sender<Utf8Bytes>,
    /// Set when its queue overflowed: the connection discards what is queued and asks for a snapshot.
    pub lagging: Arc<AtomicBool>,
}

/// The live subscribers of one session.
#[derive(Debug, Default)]
pub struct Hub {
    subs: Vec<Subscriber>,
    /// Clients dropped for overflow since start (reported by metrics and the load tool).
    pub dropped: u64,
}

impl Hub {
    /// Adds (or replaces, by id) a subscriber.
    pub fn add(&mut self, sub: Subscriber) {
        self.subs.retain(|s| s.id != sub.id);
        self.subs.push(sub);
    }

    /// Removes a subscriber.
    pub fn remove(&mut self, id: u64) {
        self.subs.retain(|s| s.id != id);
    }

    /// Live subscribers.
    pub fn len(&self) -> usize {
        self.subs.len()
    }

    /// Characters someone watches (their per-character deltas are worth building).
    pub fn watched(&self) -> BTreeSet<u32> {
        self.subs
            .iter()
            .flat_map(|s| s.topics.iter())
            .filter_map(|t| if let Topic::Character(c) = t { Some(*c) } else { None })
            .collect()
    }

    /// Whether anyone receives `topic`.
    pub fn wanted(&self, topic: Topic) -> bool {
        self.subs.iter().any(|s| s.topics.contains(&topic))
    }

    /// Sends a delta to every subscriber of its topic. A subscriber whose queue is full (or whose
    /// connection is gone) is removed; a full one is flagged so it resyncs from a snapshot.
    pub fn publish(&mut self, d: &Delta) {
        let mut dropped = 0;
        self.subs.retain(|s| {
            if !s.topics.contains(&d.topic) {
                return true;
            }
            match s.tx.try_send(d.text.clone()) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    s.lagging.store(true, Ordering::Release);
                    dropped += 1;
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
        self.dropped += dropped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(seq: u64, topic: Topic) -> Delta {
        Delta { seq, topic, text: format!("{seq}").into() }
    }

    #[test]
    fn the_ring_replays_exactly_what_follows_or_asks_for_a_snapshot() {
        let mut ring = Ring::default();
        for s in 1..=RING_FRAMES as u64 + 10 {
            ring.push(delta(s, if s % 2 == 0 { Topic::Feed } else { Topic::Metrics }));
        }
        let last = RING_FRAMES as u64 + 10;
        let feed: BTreeSet<_> = [Topic::Feed].into();
        let got = ring.after(last - 6, last, &feed).unwrap();
        let seqs: Vec<u64> = got.iter().map(|t| t.as_str().parse().unwrap()).collect();
        assert_eq!(seqs, vec![last - 4, last - 2, last]);
        assert_eq!(ring.after(last, last, &feed), Some(vec![]));
        assert_eq!(ring.after(3, last, &feed), None, "evicted history needs a snapshot");
        assert_eq!(ring.after(last + 1, last, &feed), None, "a position from the future needs a snapshot");
    }

    #[test]
    fn a_full_queue_drops_the_subscriber_and_flags_it() {
        let mut hub = Hub::default();
        let (tx, mut rx) = mpsc::channel(2);
        let lagging = Arc::new(AtomicBool::new(false));
        hub.add(Subscriber { id: 1, topics: [Topic::Feed].into(), tx, lagging: lagging.clone() });
        let (tx2, _rx2) = mpsc::channel(64);
        hub.add(Subscriber { id: 2, topics: [Topic::Feed].into(), tx: tx2, lagging: Arc::default() });
        for s in 1..=3 {
            hub.publish(&delta(s, Topic::Feed));
        }
        assert!(lagging.load(Ordering::Acquire));
        assert_eq!(hub.len(), 1);
        assert_eq!(hub.dropped, 1);
        assert_eq!(rx.try_recv().unwrap().as_str(), "1");
    }
}
