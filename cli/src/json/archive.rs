//! The archive's outputs: `history --archive --json`, `search --json` and
//! `archive stats --json`.

use serde::Serialize;
use shm_clip_archive::{ArchivedInfo, Stats};

use super::time::{epoch_ms, rfc3339};
use super::{Origin, Type};

/// An archived clip as `history --archive --json` prints it.
#[derive(Debug, Serialize)]
pub struct Archived {
    /// The archive id (`select --archive ID`).
    pub id: i64,
    /// The board's clip id (32 hex digits) of the entry it last was.
    pub clip_id: Option<String>,
    pub board: String,
    pub first_seen: String,
    pub first_seen_ms: u64,
    pub last_used: String,
    pub last_used_ms: u64,
    pub origin: Origin,
    pub pinned: bool,
    pub total_size: u64,
    pub types: Vec<Type>,
    pub preview: String,
}

impl From<&ArchivedInfo> for Archived {
    fn from(a: &ArchivedInfo) -> Self {
        Archived {
            id: a.id,
            clip_id: a.clip_id.map(shm_clip_archive::hex),
            board: a.board.clone(),
            first_seen: rfc3339(a.first_seen),
            first_seen_ms: epoch_ms(a.first_seen),
            last_used: rfc3339(a.last_used),
            last_used_ms: epoch_ms(a.last_used),
            origin: Origin::from(&a.origin),
            pinned: a.pinned,
            total_size: a.total_size,
            types: a
                .types
                .iter()
                .map(|(mime, size)| Type {
                    mime: mime.clone(),
                    size: *size,
                })
                .collect(),
            preview: a.preview.clone(),
        }
    }
}

/// One `search --json` hit: on the board or in the archive.
#[derive(Debug, Serialize)]
pub struct Hit {
    /// `board` or `archive`.
    pub location: &'static str,
    /// The board index (for `select N`), or null for an archive hit.
    pub index: Option<usize>,
    /// The board seq, or null for an archive hit.
    pub seq: Option<u64>,
    /// The archive id (for `select --archive ID`), or null for a board hit.
    pub archive_id: Option<i64>,
    pub last_used: String,
    pub last_used_ms: u64,
    pub origin: Origin,
    pub pinned: bool,
    pub total_size: u64,
    pub types: Vec<Type>,
    pub preview: String,
}

/// `archive stats --json`.
#[derive(Debug, Serialize)]
pub struct ArchiveStats {
    pub path: String,
    pub clips: u64,
    pub pinned: u64,
    pub representations: u64,
    pub blobs: u64,
    pub stored_bytes: u64,
    pub clip_bytes: u64,
    pub file_bytes: u64,
    pub wal_bytes: u64,
    pub oldest: Option<String>,
    pub oldest_ms: Option<u64>,
    pub newest: Option<String>,
    pub newest_ms: Option<u64>,
}

impl ArchiveStats {
    pub fn new(path: &std::path::Path, s: &Stats) -> Self {
        ArchiveStats {
            path: path.display().to_string(),
            clips: s.clips,
            pinned: s.pinned,
            representations: s.representations,
            blobs: s.blobs,
            stored_bytes: s.stored_bytes,
            clip_bytes: s.clip_bytes,
            file_bytes: s.file_bytes,
            wal_bytes: s.wal_bytes,
            oldest: s.oldest.map(rfc3339),
            oldest_ms: s.oldest.map(epoch_ms),
            newest: s.newest.map(rfc3339),
            newest_ms: s.newest.map(epoch_ms),
        }
    }
}
