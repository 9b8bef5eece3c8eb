//! `watch --json`: one event per line.

use std::time::SystemTime;

use serde::Serialize;

use super::time::{epoch_ms, rfc3339};
use super::{EntryMeta, Origin};

/// What happened to the board.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A new clip, or content already in the history copied again.
    Copy,
    /// An entry made current.
    Select,
    Pin,
    Unpin,
    /// One entry deleted.
    Delete,
    /// Unpinned (or all) entries deleted, possibly none.
    Clear,
    /// The board was destroyed; the watch ends after this event.
    Destroy,
    /// A process subscribed to the board or left it.
    Subscribe,
}

/// One line of `watch --json`. Every field is always present; those that
/// do not apply to the kind are `null` (or `[]`).
#[derive(Debug, Serialize)]
pub struct Event {
    pub event: EventKind,
    /// The board's seq once the change was seen.
    pub seq: u64,
    /// When the change was committed (the writer's clock), or noticed.
    pub at: String,
    pub at_ms: u64,
    /// The process that made the change, where known.
    pub origin: Option<Origin>,
    /// The entry it concerns: the new current one (copy, select), or the
    /// one pinned or unpinned. Metadata only: watch never prints content.
    pub entry: Option<EntryMeta>,
    /// The seqs of the entries that went (delete, clear, or evicted by a copy).
    pub removed: Vec<u64>,
    /// For `subscribe`: how many processes are subscribed now.
    pub subscribers: Option<usize>,
}

impl Event {
    /// An event with nothing but its kind, seq and time.
    pub fn new(event: EventKind, seq: u64, at: SystemTime) -> Self {
        Event {
            event,
            seq,
            at: rfc3339(at),
            at_ms: epoch_ms(at),
            origin: None,
            entry: None,
            removed: Vec::new(),
            subscribers: None,
        }
    }
}
