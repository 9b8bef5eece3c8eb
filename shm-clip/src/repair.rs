//! Owner-died repair: what the next locker does after a holder died
//! mid-change. The segment runs it as its repair hook (see `lock.rs`), so
//! this module sits above the lock, the index, the records and the
//! subscriber table, and nothing below it imports it.

use crate::format::xxh3_64;

use crate::format::{IndexRecord, SLOT_COMMITTED, SLOT_FREE};
use crate::history::{self, Entry};
use crate::record;
use crate::segment::Segment;

/// Restores the invariants after a holder died mid-change. Returns how many
/// entries were discarded.
pub(crate) fn repair(seg: &Segment) -> usize {
    let arena = seg.geometry().arena_size;
    let mut discarded = 0;
    let mut survivors: Vec<Entry> = Vec::new();
    let mut broken = Vec::new();
    let mut max_seq = seg.seq_cell().load(std::sync::atomic::Ordering::Relaxed);
    for slot in 0..seg.index_slots() {
        let Ok(rec) = seg.read_index(slot) else {
            continue;
        };
        if rec.state == SLOT_FREE {
            continue;
        }
        let intact = rec.state == SLOT_COMMITTED
            && rec.meta_ok
            && record_is_intact(seg, rec.offset, rec.len);
        if intact {
            max_seq = max_seq.max(rec.seq).max(rec.order);
            survivors.push(Entry::of(&rec, slot));
        } else {
            broken.push((slot, rec));
        }
    }
    // Before anything is zeroed: a record whose compaction move was cut
    // short is whole at its destination only.
    let mut lost = Vec::new();
    for (slot, rec) in broken {
        match moved_record(seg, slot, &rec, &survivors) {
            Some(entry) => {
                tracing::warn!(
                    slot,
                    seq = rec.seq,
                    "re-indexed a record that a compaction had moved"
                );
                survivors.push(entry);
            }
            None => lost.push((slot, rec.offset, rec.len)),
        }
    }
    for (slot, offset, len) in lost {
        // Never zero bytes that an intact entry lives in.
        let overlaps = survivors
            .iter()
            .any(|e| offset < e.offset + e.len && e.offset < offset.saturating_add(len));
        discard(seg, slot, offset, if overlaps { 0 } else { len });
        discarded += 1;
    }
    // Half-way: broken entries are gone, overlaps and seq not yet settled,
    // the mutex not yet consistent. The next locker repairs again.
    #[cfg(feature = "test-hooks")]
    crate::test_hooks::park_if_asked("repair");
    // Intact records can still overlap if a compaction was cut short.
    while let Some(slot) = history::first_conflict(&survivors, arena) {
        let e = survivors
            .iter()
            .position(|e| e.slot == slot)
            .expect("conflict is a survivor");
        let e = survivors.swap_remove(e);
        let _ = seg.clear_index(e.slot);
        discarded += 1;
    }
    // A dead writer may have bumped entry seqs past the header; never go back.
    seg.seq_cell()
        .store(max_seq, std::sync::atomic::Ordering::Release);
    crate::mailbox::repair_table(seg);
    // The current slot, free list, ring and buckets, from what survived.
    crate::ring::rebuild(seg);
    discarded
}

/// Finds the record of a committed slot whose bytes are torn at its offset
/// because its holder died half-way through a compaction: after moving the
/// record down over its own start, before re-indexing it. Compaction packs
/// records from offset 0 in offset order and re-indexes each before the
/// next move, so the destination is the end of the survivor below it. The
/// record counts as found there only if it decodes whole, with the slot's
/// length and content hash, overlapping no survivor. Then the slot is
/// re-indexed to it.
fn moved_record(
    seg: &Segment,
    slot: usize,
    rec: &IndexRecord,
    survivors: &[Entry],
) -> Option<Entry> {
    if rec.state != SLOT_COMMITTED || !rec.meta_ok || rec.check(seg.geometry().arena_size).is_err()
    {
        return None;
    }
    // Survivors are intact, so their ends lie in the arena.
    let to = survivors
        .iter()
        .filter(|e| e.offset < rec.offset)
        .map(|e| e.offset + history::aligned(e.len))
        .max()
        .unwrap_or(0);
    let end = to.checked_add(rec.len)?;
    if to >= rec.offset
        || survivors
            .iter()
            .any(|e| e.offset < end && to < e.offset + e.len)
    {
        return None;
    }
    let mut bytes = vec![0u8; usize::try_from(rec.len).ok()?];
    seg.arena_read(to, &mut bytes).ok()?;
    let directory = record::parse_directory(&bytes, rec.len).ok()?.byte_len();
    if xxh3_64(&bytes[..directory]) != rec.content_hash || record::decode_record(&bytes).is_err() {
        return None;
    }
    let moved = IndexRecord { offset: to, ..*rec };
    seg.write_index(slot, &moved).ok()?;
    Some(Entry::of(&moved, slot))
}

/// Frees a slot and overwrites whatever part of its range lies in the arena.
fn discard(seg: &Segment, slot: usize, offset: u64, len: u64) {
    let _ = seg.set_index_state(slot, SLOT_FREE);
    if seg.arena_zero(offset, len).is_err() {
        tracing::warn!(slot, "discarded entry's range was outside the arena");
    }
    let _ = seg.clear_index(slot);
}

fn record_is_intact(seg: &Segment, offset: u64, len: u64) -> bool {
    let Ok(len_usize) = usize::try_from(len) else {
        return false;
    };
    if offset
        .checked_add(len)
        .is_none_or(|end| end > seg.geometry().arena_size)
    {
        return false;
    }
    let mut bytes = vec![0u8; len_usize];
    seg.arena_read(offset, &mut bytes).is_ok() && record::decode_record(&bytes).is_ok()
}
