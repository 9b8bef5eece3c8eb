//! What changed on a board since a reader last looked, for a reader that
//! follows every change (the archiver): one short hold of the lock that
//! reads no record.
//!
//! [`Board::history`] reads every entry's record directory and preview
//! under the lock: about 0.1 ms for 200 entries, on every wake-up of a
//! follower, while copies and pastes wait for the lock. A follower needs
//! less: which entries are live, with their pin and last use (from the
//! index slots, which the handle's index cache keeps decoded and re-decodes
//! only where they changed), who wrote the entries created since its last
//! look, and the removals logged since then, all at one seq.

use std::time::SystemTime;

use super::{Board, Removal, RemovalLog, time_of};
use crate::format::off;
use crate::ids::{ClipId, NodeId};
use crate::lock::LockGuard;
use crate::{Origin, OriginKind, RemovalKind, Result};

/// The board as [`Board::changes`] saw it: its entries and removal log at
/// one seq (read under one hold of the lock, so nothing came between).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changes {
    /// The board's seq at the read.
    pub seq: u64,
    /// Every entry, current first, as its index slot tells.
    pub entries: Vec<EntryState>,
    /// The removal log from the removal number asked for.
    pub removals: RemovalLog,
}

/// One entry as its index slot tells, without reading its record: no MIME
/// types and no preview ([`Board::info`] has those).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryState {
    /// The seq that created it (`Selector::Seq`).
    pub seq: u64,
    /// When it was created.
    pub created: SystemTime,
    /// When it last became current (creation, re-copy or select).
    pub touched: SystemTime,
    /// Whether it is pinned.
    pub pinned: bool,
    /// The sum of its representations' sizes.
    pub total_size: u64,
    /// How many representations it has.
    pub rep_count: u32,
    /// Its clip id.
    pub clip_id: ClipId,
    /// The board where it was first copied.
    pub origin_node: NodeId,
    /// Who wrote it, for entries created after the `since` seq asked for
    /// only (`None` for the others, which the caller saw before): copying
    /// every label out is work under the lock that a follower does not need.
    pub origin: Option<Origin>,
}

impl Board {
    /// The board's entries and its removals from removal number
    /// `removals_from` on (0 for every one the log keeps; a previous
    /// [`RemovalLog::next`] for those since), at one seq, under one short
    /// hold of the lock. Entries created after seq `since` carry their
    /// origin. The index is read only where it changed since this handle
    /// last read it, and no record is read.
    pub fn changes(&self, since: u64, removals_from: u64) -> Result<Changes> {
        let guard = self.seg.lock()?;
        let index = self.index(&guard)?;
        let entries = index
            .live()
            .map(|l| {
                let rec = &l.rec;
                EntryState {
                    seq: rec.seq,
                    created: time_of(rec.created_ns),
                    touched: time_of(rec.touched_ns),
                    pinned: rec.pinned(),
                    total_size: rec.total_size,
                    rep_count: rec.rep_count,
                    clip_id: ClipId(rec.clip_id),
                    origin_node: NodeId(rec.origin_node),
                    origin: (rec.seq > since).then(|| Origin {
                        pid: rec.origin_pid,
                        kind: OriginKind::from_raw(rec.origin_kind),
                        label: rec.label.text().into_owned(),
                    }),
                }
            })
            .collect();
        drop(index);
        let removals = self.removal_log(&guard, removals_from);
        let seq = self
            .seg
            .seq_cell()
            .load(std::sync::atomic::Ordering::Acquire);
        drop(guard);
        Ok(Changes {
            seq,
            entries,
            removals,
        })
    }

    /// The removal log from removal number `from` on. Under the lock.
    pub(super) fn removal_log(&self, _guard: &LockGuard<'_>, from: u64) -> RemovalLog {
        let total = self.seg.header_u64(off::REMOVED_TOTAL);
        let kept = u64::from(crate::format::REMOVAL_SLOTS);
        let start = from.max(total.saturating_sub(kept)).min(total);
        let mut log = RemovalLog {
            removals: Vec::new(),
            next: total,
            missed: start.saturating_sub(from),
        };
        for n in start..total {
            let Some(rec) = self.seg.read_removal((n % kept) as u32) else {
                continue;
            };
            if let Some(kind) = rec.kind {
                log.removals.push(Removal {
                    seq: rec.seq,
                    kind,
                    clip_id: (kind == RemovalKind::Deleted).then_some(ClipId(rec.clip_id)),
                });
            }
        }
        log
    }
}
