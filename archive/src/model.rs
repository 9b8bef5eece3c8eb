//! Plain data going into and coming out of the archive.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use shm_clip::{Origin, Representation};

/// A board entry to archive.
#[derive(Clone, Debug)]
pub struct NewClip<'a> {
    /// The board it was copied on.
    pub board: &'a str,
    /// The board's id of the entry (16 bytes), if the board gives one.
    pub clip_id: Option<[u8; 16]>,
    /// When it was first copied.
    pub created: SystemTime,
    /// When it was last copied or selected.
    pub touched: SystemTime,
    /// Who copied it.
    pub origin: &'a Origin,
    /// Whether it is pinned.
    pub pinned: bool,
    /// Its content.
    pub reps: &'a [Representation],
}

/// What an insert did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inserted {
    /// The archive id of the clip.
    pub id: i64,
    /// False when the same content was already archived (its last use and
    /// pin were updated instead).
    pub new: bool,
}

/// One archived clip, without its payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchivedInfo {
    /// The archive id (`shm-clip select --archive ID`).
    pub id: i64,
    /// The board's id of the entry it last was, if known.
    pub clip_id: Option<[u8; 16]>,
    /// The board it was copied on.
    pub board: String,
    /// When it was first seen.
    pub first_seen: SystemTime,
    /// When it was last copied or selected.
    pub last_used: SystemTime,
    /// Who copied it first.
    pub origin: Origin,
    /// Pinned clips are restored first and are never pruned.
    pub pinned: bool,
    /// The sum of its representations' sizes.
    pub total_size: u64,
    /// Each representation's MIME type and size, in order.
    pub types: Vec<(String, u64)>,
    /// Up to 80 characters of its searchable text, control characters
    /// escaped; empty for clips without text.
    pub preview: String,
}

/// One search hit.
#[derive(Clone, Debug)]
pub struct Hit {
    /// The clip.
    pub info: ArchivedInfo,
    /// Its bm25 score: lower is more relevant.
    pub score: f64,
}

/// What the archive holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Archived clips.
    pub clips: u64,
    /// Of which pinned.
    pub pinned: u64,
    /// Representations of all clips.
    pub representations: u64,
    /// Distinct stored contents (deduplicated representations).
    pub blobs: u64,
    /// Bytes of content stored once each.
    pub stored_bytes: u64,
    /// Bytes of content as the clips hold it (before deduplication).
    pub clip_bytes: u64,
    /// The database file's size.
    pub file_bytes: u64,
    /// The WAL file's size.
    pub wal_bytes: u64,
    /// When the least recently used clip was last used.
    pub oldest: Option<SystemTime>,
    /// When the most recently used clip was last used.
    pub newest: Option<SystemTime>,
}

/// What a prune removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Clips removed.
    pub clips: u64,
    /// Their bytes (before deduplication).
    pub bytes: u64,
}

pub(crate) fn to_ns(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

pub(crate) fn from_ns(ns: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(u64::try_from(ns).unwrap_or(0))
}

/// The first characters of `text` for a list row, drawn as the board's
/// previews are: newlines as ⏎, other control characters as ·, at most 80.
pub(crate) fn preview(text: &str) -> String {
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n == 80 {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push('⏎'),
            '\t' => out.push(' '),
            c if c.is_control() => out.push('·'),
            c => out.push(c),
        }
    }
    out
}
