//! A board handle's decoded copy of the history index.
//!
//! Decoding a slot means an xxh3 over its metadata and a `String` for its
//! label; decoding all 200 on every copy and paste was most of their cost.
//! The cache keeps the slot bytes it decoded. A refresh (under the board
//! lock) first compares the board's seq and recovery counter with the ones
//! it last saw: every change to the index is published with a new seq before
//! the lock is released (a failed change too), and a repair after a dead
//! holder counts a recovery, so equal counters mean an unchanged index.
//! Otherwise it copies the index out once and decodes again only the slots
//! whose bytes changed. A handle that changed the index itself records its
//! own writes ([`IndexCache::note_written`]), so a process that copies again
//! and again never re-reads the index.

use std::sync::atomic::Ordering;

use crate::Result;
use crate::format::IndexRecord;
use crate::format::{INDEX_SLOT_SIZE, SLOT_COMMITTED, off};
use crate::history::Entry;
use crate::lock::LockGuard;
use crate::segment::Segment;

/// A committed index slot with its decoded fields.
#[derive(Clone, Debug)]
pub(crate) struct Live {
    pub(crate) entry: Entry,
    pub(crate) rec: IndexRecord,
}

/// What the cache was last brought up to date with: the board's commit seq
/// and its lock-recovery counter.
type Key = (u64, u64);

/// The decoded index of one board, as of the last [`IndexCache::refresh`].
#[derive(Debug, Default)]
pub(crate) struct IndexCache {
    /// `None` until the first refresh, and after a change of our own failed.
    key: Option<Key>,
    /// The bytes each entry of `slots` was decoded from.
    bytes: Vec<u8>,
    /// This refresh's copy of the index.
    scratch: Vec<u8>,
    /// By slot: the decoded entry if the slot is committed and verified.
    slots: Vec<Option<Live>>,
    /// Slots of `slots` that hold an entry, current first.
    recency: Vec<usize>,
    /// The same slots by arena offset, for placing a new record.
    by_offset: Vec<usize>,
    /// By slot: whether its bytes changed since the two orders were sorted.
    changed: Vec<bool>,
}

fn key(seg: &Segment) -> Key {
    (
        seg.seq_cell().load(Ordering::Acquire),
        seg.header_u64(off::LOCK_RECOVERIES),
    )
}

impl IndexCache {
    /// Brings the cache up to date with the segment's index.
    pub(crate) fn refresh(&mut self, seg: &Segment, _guard: &LockGuard<'_>) -> Result<()> {
        let now = key(seg);
        if self.key == Some(now) && self.slots.len() == seg.index_slots() {
            self.sort();
            return Ok(());
        }
        seg.read_index_into(&mut self.scratch)?;
        let slots = self.scratch.len() / INDEX_SLOT_SIZE;
        if self.slots.len() != slots {
            self.slots = vec![None; slots];
            self.bytes = vec![0; self.scratch.len()];
            self.changed = vec![false; slots];
            self.recency.clear();
            self.by_offset.clear();
        }
        let scratch = std::mem::take(&mut self.scratch);
        let arena = seg.geometry().arena_size;
        for (slot, new) in scratch.chunks_exact(INDEX_SLOT_SIZE).enumerate() {
            self.update(slot, new, arena);
        }
        self.scratch = scratch;
        self.sort();
        self.key = Some(now);
        Ok(())
    }

    /// Forgets the counters: the next refresh reads the whole index.
    pub(crate) fn invalidate(&mut self) {
        self.key = None;
    }

    /// Takes `new` as the bytes of `slot`, decoding them if they changed.
    fn update(&mut self, slot: usize, new: &[u8], arena: u64) {
        let range = slot * INDEX_SLOT_SIZE..(slot + 1) * INDEX_SLOT_SIZE;
        if self.bytes[range.clone()] == *new {
            return;
        }
        self.changed[slot] = true;
        self.slots[slot] = decode(new, slot, arena);
        self.bytes[range].copy_from_slice(new);
    }

    /// Rebuilds both orders if any slot changed.
    fn sort(&mut self) {
        // Flags are cleared only once both orders are rebuilt, so a panic
        // half-way leaves them set for the next refresh.
        if !self.changed.contains(&true) {
            return;
        }
        let (entries, changed) = (&self.slots, &self.changed);
        let entry = |s: usize| &entries[s].as_ref().expect("only decoded slots").entry;
        resort(&mut self.recency, entries, changed, |s| {
            std::cmp::Reverse((entry(s).order, entry(s).seq))
        });
        resort(&mut self.by_offset, entries, changed, |s| entry(s).offset);
        self.drop_overlaps();
        self.changed.fill(false);
    }

    /// Live records never overlap; a slot that claims bytes of the one
    /// before it (a forged slot, or a bug) is not used, so no operation
    /// reads, moves or frees another entry's bytes through it.
    fn drop_overlaps(&mut self) {
        let mut end = 0u64;
        let mut dropped = Vec::new();
        for &s in &self.by_offset {
            let rec = &self.slots[s].as_ref().expect("only decoded slots").rec;
            if rec.offset < end {
                tracing::warn!(
                    slot = s,
                    seq = rec.seq,
                    "skipping an index slot that overlaps another entry"
                );
                dropped.push(s);
            } else {
                end = rec.end();
            }
        }
        if dropped.is_empty() {
            return;
        }
        for &s in &dropped {
            self.slots[s] = None;
        }
        let slots = &self.slots;
        self.by_offset.retain(|&s| slots[s].is_some());
        self.recency.retain(|&s| slots[s].is_some());
    }

    /// The entries, current first.
    pub(crate) fn live(&self) -> impl ExactSizeIterator<Item = &Live> + '_ {
        self.recency
            .iter()
            .map(|&s| self.slots[s].as_ref().expect("recency lists decoded slots"))
    }
}

/// Brings `order` (slots sorted by `key`) up to date after the slots marked
/// in `changed` changed. It starts from the previous order with the changed
/// slots in front: two sorted runs, which the stable sort's run detection
/// merges in O(n).
fn resort<K: Ord>(
    order: &mut Vec<usize>,
    entries: &[Option<Live>],
    changed: &[bool],
    key: impl Fn(usize) -> K,
) {
    order.retain(|&s| !changed[s]);
    let mut fresh: Vec<usize> = (0..entries.len())
        .filter(|&s| changed[s] && entries[s].is_some())
        .collect();
    fresh.sort_by_key(|&s| key(s));
    order.splice(0..0, fresh);
    order.sort_by_key(|&s| key(s));
}

/// Decodes one slot: `None` unless it is committed, its checksum matches,
/// and its record lies inside an arena of `arena` bytes.
fn decode(raw: &[u8], slot: usize, arena: u64) -> Option<Live> {
    let rec = IndexRecord::decode(raw.try_into().expect("one whole slot"));
    if rec.state != SLOT_COMMITTED {
        return None;
    }
    if !rec.meta_ok {
        tracing::warn!(slot, "skipping an index slot with a bad checksum");
        return None;
    }
    if let Err(why) = rec.check(arena) {
        tracing::warn!(
            slot,
            seq = rec.seq,
            why,
            "skipping an index slot that cannot be right"
        );
        return None;
    }
    Some(Live {
        entry: Entry::of(&rec, slot),
        rec,
    })
}
