//! Plain reports about a board: its history entries and its status.
//!
//! No serde derives: the command line's `--json` outputs have their own
//! types (`cli/src/json/`), documented in `docs/json.md`, so that a change
//! here cannot change that contract unnoticed.

use std::path::PathBuf;
use std::time::SystemTime;

use crate::Origin;

/// One history entry, without its payload.
#[derive(Clone, Debug)]
pub struct EntryInfo {
    /// Position in the history: 0 is the current clip.
    pub index: usize,
    /// The board seq at which the entry was created; stable while it lives.
    pub seq: u64,
    /// When it was created.
    pub created: SystemTime,
    /// When it last became current (creation, re-copy or select).
    pub touched: SystemTime,
    /// Who wrote it.
    pub origin: Origin,
    /// Pinned entries are never evicted and survive `clear`.
    pub pinned: bool,
    /// The sum of its representations' sizes.
    pub total_size: u64,
    /// Each representation's MIME type and size.
    pub types: Vec<(String, u64)>,
    /// Up to 80 characters of its text, with control characters escaped;
    /// empty for non-text clips.
    pub preview: String,
    /// The clip's id, kept wherever it goes.
    pub clip_id: crate::ClipId,
    /// The board (node) where it was first copied.
    pub origin_node: crate::NodeId,
}

/// Lock statistics kept in the segment header.
#[derive(Clone, Copy, Debug, Default)]
pub struct LockStats {
    /// Every successful lock.
    pub acquisitions: u64,
    /// Locks that found the mutex held and had to wait.
    pub contended: u64,
    /// Locks that found the previous holder dead and repaired the board.
    pub recoveries: u64,
}

/// One registered mailbox.
#[derive(Clone, Debug)]
pub struct SubscriberInfo {
    /// The subscribing process.
    pub origin: Origin,
    /// Its mailbox (a POSIX message queue name).
    pub mailbox: String,
    /// Notifications waiting in the mailbox, if it could be inspected.
    pub pending: Option<u64>,
}

/// Everything `shm-clip status` shows.
#[derive(Clone, Debug)]
pub struct Status {
    /// The board name.
    pub name: String,
    /// The segment's path in the file system.
    pub path: PathBuf,
    /// The segment's owner uid.
    pub owner_uid: u32,
    /// The segment's permission bits.
    pub mode: u32,
    /// The layout version of the segment.
    pub layout_version: u32,
    /// The size of the whole segment file.
    pub segment_size: u64,
    /// The data arena's size.
    pub capacity: u64,
    /// Bytes of the arena holding live entries.
    pub used: u64,
    /// The commit sequence number.
    pub seq: u64,
    /// Live history entries.
    pub entries: usize,
    /// The history depth.
    pub max_entries: usize,
    /// The board's node id.
    pub node_id: crate::NodeId,
    /// Lock statistics.
    pub lock: LockStats,
    /// Live subscribers, after reaping dead ones.
    pub subscribers: Vec<SubscriberInfo>,
    /// Subscriber slots in the table.
    pub max_subscribers: usize,
    /// Who made the last commit, and when; `None` on a new board.
    pub last_change: Option<LastChange>,
}

/// The last commit to a board.
#[derive(Clone, Debug)]
pub struct LastChange {
    /// Who made it.
    pub origin: Origin,
    /// When.
    pub at: SystemTime,
}
