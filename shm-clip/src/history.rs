//! History bookkeeping as pure functions over plain data: record spans,
//! and which entries conflict (overlap, or leave the arena), for repair and
//! the index cache. No OS calls, so every rule is unit-tested here.

/// A committed index slot, as far as placement and ordering care.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) slot: usize,
    pub(crate) seq: u64,
    /// Recency: the highest is the current clip.
    pub(crate) order: u64,
    pub(crate) offset: u64,
    pub(crate) len: u64,
    pub(crate) pinned: bool,
    pub(crate) content_hash: u64,
}

impl Entry {
    /// The fields of `rec` that placement and ordering care about, for slot `slot`.
    pub(crate) fn of(rec: &crate::format::IndexRecord, slot: usize) -> Entry {
        Entry {
            slot,
            seq: rec.seq,
            order: rec.order,
            offset: rec.offset,
            len: rec.len,
            pinned: rec.pinned(),
            content_hash: rec.content_hash,
        }
    }
}

/// Records start on 8-byte boundaries.
pub(crate) fn aligned(len: u64) -> u64 {
    // Saturating: a length read from shared memory must never overflow here.
    len.checked_next_multiple_of(8).unwrap_or(!7)
}

/// Whether any two entries overlap or one leaves the arena.
pub(crate) fn first_conflict(entries: &[Entry], arena: u64) -> Option<usize> {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_unstable_by_key(|e| e.offset);
    let mut end = 0;
    for e in sorted {
        let Some(e_end) = e.offset.checked_add(e.len) else {
            return Some(e.slot);
        };
        if e.offset < end || e_end > arena {
            return Some(e.slot);
        }
        end = e_end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(slot: usize, order: u64, offset: u64, len: u64, pinned: bool) -> Entry {
        Entry {
            slot,
            seq: order,
            order,
            offset,
            len,
            pinned,
            content_hash: slot as u64,
        }
    }

    #[test]
    fn detects_overlap_and_overflow() {
        assert_eq!(
            first_conflict(&[entry(0, 1, 0, 10, false), entry(1, 2, 8, 8, false)], 100),
            Some(1)
        );
        assert_eq!(first_conflict(&[entry(0, 1, 96, 10, false)], 100), Some(0));
        assert_eq!(
            first_conflict(&[entry(0, 1, u64::MAX, 10, false)], 100),
            Some(0)
        );
        assert_eq!(
            first_conflict(&[entry(0, 1, 0, 8, false), entry(1, 2, 8, 8, false)], 100),
            None
        );
    }
}
