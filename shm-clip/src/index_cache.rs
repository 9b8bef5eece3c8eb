//! A board handle's decoded copy of the history index.
//!
//! Decoding a slot means an xxh3 over its metadata and a `String` for its
//! label; decoding all 200 on every copy and paste was most of their cost.
//! The cache keeps the slot bytes it decoded, and on each refresh (under the
//! board lock) copies the index out once and decodes again only the slots
//! whose bytes changed. It depends on nothing but those bytes: whatever
//! another process wrote, or a repair discarded, shows up as changed bytes.

use crate::Result;
use crate::history::Entry;
use crate::layout::{INDEX_SLOT_SIZE, SLOT_COMMITTED};
use crate::lock::LockGuard;
use crate::segment::{IndexRecord, Segment};

/// A committed index slot with its decoded fields.
#[derive(Clone, Debug)]
pub(crate) struct Live {
    pub(crate) entry: Entry,
    pub(crate) rec: IndexRecord,
}

/// The decoded index of one board, as of the last [`IndexCache::refresh`].
#[derive(Debug, Default)]
pub(crate) struct IndexCache {
    /// The bytes each entry of `slots` was decoded from.
    bytes: Vec<u8>,
    /// This refresh's copy of the index.
    scratch: Vec<u8>,
    /// By slot: the decoded entry if the slot is committed and verified.
    slots: Vec<Option<Live>>,
    /// Slots of `slots` that hold an entry, current first.
    recency: Vec<usize>,
    /// By slot: whether this refresh found its bytes changed.
    changed: Vec<bool>,
    /// `recency` must be rebuilt (set before any slot changes, so that a
    /// panic half-way cannot leave a stale order behind).
    unsorted: bool,
}

impl IndexCache {
    /// Brings the cache up to date with the segment's index.
    pub(crate) fn refresh(&mut self, seg: &Segment, _guard: &LockGuard<'_>) -> Result<()> {
        seg.read_index_into(&mut self.scratch)?;
        let slots = self.scratch.len() / INDEX_SLOT_SIZE;
        if self.slots.len() != slots {
            self.slots = vec![None; slots];
            self.bytes = vec![0; self.scratch.len()];
            self.recency.clear();
        }
        // A refresh cut short (by a panic) left `recency` behind `slots`.
        let stale = self.unsorted;
        self.changed.clear();
        self.changed.resize(slots, false);
        for slot in 0..slots {
            let range = slot * INDEX_SLOT_SIZE..(slot + 1) * INDEX_SLOT_SIZE;
            let new = &self.scratch[range.clone()];
            if self.bytes[range.clone()] == *new {
                continue;
            }
            self.unsorted = true;
            self.changed[slot] = true;
            let decoded = (IndexRecord::peek(&self.scratch, slot).0 == SLOT_COMMITTED)
                .then(|| decode(&self.scratch, slot))
                .flatten();
            self.slots[slot] = decoded;
            self.bytes[range].copy_from_slice(new);
        }
        if self.unsorted {
            let (entries, changed) = (&self.slots, &self.changed);
            if stale {
                self.recency.clear();
                self.recency
                    .extend((0..slots).filter(|&s| entries[s].is_some()));
            } else {
                // Start from the previous order, changed slots in front
                // (usually the new current entry): nearly sorted already,
                // and the stable sort's run detection makes that O(n).
                self.recency.retain(|&s| !changed[s]);
                let fresh = (0..slots).filter(|&s| changed[s] && entries[s].is_some());
                self.recency.splice(0..0, fresh);
            }
            self.recency.sort_by_key(|&s| {
                let e = &entries[s].as_ref().expect("only decoded slots").entry;
                std::cmp::Reverse((e.order, e.seq))
            });
            self.unsorted = false;
        }
        Ok(())
    }

    /// The entries, current first.
    pub(crate) fn live(&self) -> impl ExactSizeIterator<Item = &Live> + '_ {
        self.recency
            .iter()
            .map(|&s| self.slots[s].as_ref().expect("recency lists decoded slots"))
    }

    /// The current entry, if the board is not empty.
    pub(crate) fn current(&self) -> Option<&Live> {
        self.live().next()
    }

    /// The entry in `slot`, if it holds one.
    pub(crate) fn at(&self, slot: usize) -> Option<&Live> {
        self.slots.get(slot)?.as_ref()
    }
}

/// Decodes one committed slot; `None` if its checksum fails.
fn decode(snapshot: &[u8], slot: usize) -> Option<Live> {
    let rec = IndexRecord::decode_at(snapshot, slot);
    if !rec.meta_ok {
        tracing::warn!(slot, "skipping an index slot with a bad checksum");
        return None;
    }
    Some(Live {
        entry: rec.entry(slot),
        rec,
    })
}
