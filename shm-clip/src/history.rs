//! History bookkeeping as pure functions over plain data: which entry is
//! current, where a new record goes, what must be evicted or moved for it.
//! No OS calls, so every rule is unit-tested here.

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

    fn span(&self) -> u64 {
        aligned(self.len)
    }
}

/// Records start on 8-byte boundaries.
pub(crate) fn aligned(len: u64) -> u64 {
    // Saturating: a length read from shared memory must never overflow here.
    len.checked_next_multiple_of(8).unwrap_or(!7)
}

/// Sorts entries current-first.
#[cfg(test)]
fn by_recency(entries: &mut [Entry]) {
    entries.sort_unstable_by(|a, b| b.order.cmp(&a.order).then(b.seq.cmp(&a.seq)));
}

/// A record to relocate during compaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Move {
    pub(crate) slot: usize,
    pub(crate) from: u64,
    pub(crate) to: u64,
    pub(crate) len: u64,
}

/// How to make room for a new record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Slots to free (oldest unpinned first); their bytes must be zeroed.
    pub(crate) evict: Vec<usize>,
    /// Relocations, to apply in order (each moves towards lower offsets).
    pub(crate) moves: Vec<Move>,
    /// The index slot for the new entry.
    pub(crate) slot: usize,
    /// The arena offset for the new record.
    pub(crate) offset: u64,
}

impl Plan {
    /// Every index slot that carrying out the plan writes.
    pub(crate) fn touched(&self) -> Vec<usize> {
        let mut slots = self.evict.clone();
        slots.extend(self.moves.iter().map(|m| m.slot));
        slots.push(self.slot);
        slots
    }
}

/// Why a record cannot be placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NoRoom {
    /// Even with every unpinned entry evicted it would not fit; `max` is the
    /// largest record that would.
    TooLarge { max: u64 },
    /// Every index slot holds a pinned entry.
    HistoryFull,
}

/// Plans the placement of a record of `need` bytes in an arena of `arena`
/// bytes with `slots` index slots, evicting as few entries as possible.
pub(crate) fn plan_insert(
    entries: &[Entry],
    slots: usize,
    arena: u64,
    need: u64,
) -> Result<Plan, NoRoom> {
    let need = aligned(need);
    let pinned: u64 = entries.iter().filter(|e| e.pinned).map(Entry::span).sum();
    let pinned_count = entries.iter().filter(|e| e.pinned).count();
    if pinned_count >= slots {
        return Err(NoRoom::HistoryFull);
    }
    if need > arena.saturating_sub(pinned) {
        return Err(NoRoom::TooLarge {
            max: arena.saturating_sub(pinned),
        });
    }

    // The survivors, as (offset, span, slot, len): small to sort.
    let mut live: Vec<Placed> = entries.iter().map(Placed::of).collect();
    let mut evicted = vec![false; entries.len()];
    let mut plan = Plan::default();
    let mut used: u64 = entries.iter().map(Entry::span).sum();
    let mut count = entries.len();
    // Usually one victim, so a scan per victim beats sorting them all.
    while count >= slots || arena.saturating_sub(used) < need {
        let (i, victim) = entries
            .iter()
            .enumerate()
            .filter(|(i, e)| !e.pinned && !evicted[*i])
            .min_by_key(|(_, e)| (e.order, e.seq))
            .expect("pinned space was checked above");
        evicted[i] = true;
        used -= victim.span();
        count -= 1;
        plan.evict.push(victim.slot);
    }
    if !plan.evict.is_empty() {
        let mut i = 0;
        live.retain(|_| {
            i += 1;
            !evicted[i - 1]
        });
    }
    let mut taken = vec![false; slots];
    for p in &live {
        if let Some(t) = taken.get_mut(p.slot) {
            *t = true;
        }
    }
    plan.slot = taken
        .iter()
        .position(|t| !t)
        .expect("a slot was freed above");

    // Stable sort: in a ring-shaped arena the offsets come in a few runs,
    // which its run detection merges in O(n).
    live.sort_by_key(|p| p.offset);
    if let Some(offset) = first_fit(&live, arena, need) {
        plan.offset = offset;
        return Ok(plan);
    }
    // Enough bytes are free, but not in one piece: slide everything down.
    let mut at = 0;
    for p in &live {
        if p.offset != at {
            plan.moves.push(Move {
                slot: p.slot,
                from: p.offset,
                to: at,
                len: p.len,
            });
        }
        at += p.span;
    }
    plan.offset = at;
    Ok(plan)
}

/// Where a surviving record lies, for placement.
#[derive(Clone, Copy)]
struct Placed {
    offset: u64,
    span: u64,
    len: u64,
    slot: usize,
}

impl Placed {
    fn of(e: &Entry) -> Placed {
        Placed {
            offset: e.offset,
            span: e.span(),
            len: e.len,
            slot: e.slot,
        }
    }
}

/// The lowest offset with `need` free bytes, given entries sorted by offset.
fn first_fit(sorted: &[Placed], arena: u64, need: u64) -> Option<u64> {
    let mut at = 0;
    for p in sorted {
        if p.offset >= at && p.offset - at >= need {
            return Some(at);
        }
        at = at.max(p.offset + p.span);
    }
    (arena.checked_sub(at)? >= need).then_some(at)
}

/// The entry whose content hash and length equal the new record's.
pub(crate) fn find_duplicate(entries: &[Entry], content_hash: u64, len: u64) -> Option<&Entry> {
    entries
        .iter()
        .find(|e| e.content_hash == content_hash && e.len == len)
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
    fn first_record_goes_to_offset_zero() {
        let plan = plan_insert(&[], 4, 1000, 100).unwrap();
        assert_eq!(
            plan,
            Plan {
                evict: vec![],
                moves: vec![],
                slot: 0,
                offset: 0
            }
        );
    }

    #[test]
    fn appends_after_existing_records_aligned() {
        let e = [entry(0, 1, 0, 13, false)];
        let plan = plan_insert(&e, 4, 1000, 100).unwrap();
        assert_eq!((plan.slot, plan.offset), (1, 16));
        assert!(plan.evict.is_empty());
    }

    #[test]
    fn reuses_a_gap() {
        let e = [entry(0, 1, 0, 100, false), entry(2, 3, 300, 100, false)];
        let plan = plan_insert(&e, 4, 400, 150).unwrap();
        assert_eq!((plan.slot, plan.offset), (1, 104));
    }

    #[test]
    fn evicts_the_oldest_unpinned_first() {
        let e = [
            entry(0, 5, 0, 400, false),
            entry(1, 1, 400, 400, false),
            entry(2, 3, 800, 200, false),
        ];
        let plan = plan_insert(&e, 8, 1000, 300).unwrap();
        assert_eq!(plan.evict, vec![1]);
        assert_eq!(plan.offset, 400);
    }

    #[test]
    fn never_evicts_pinned() {
        let e = [entry(0, 1, 0, 400, true), entry(1, 2, 400, 400, false)];
        let plan = plan_insert(&e, 8, 1000, 500).unwrap();
        assert_eq!(plan.evict, vec![1]);
        assert_eq!(plan.offset, 400);
    }

    #[test]
    fn depth_limit_evicts_even_when_bytes_are_free() {
        let e = [entry(0, 2, 0, 8, false), entry(1, 1, 8, 8, false)];
        let plan = plan_insert(&e, 2, 1000, 8).unwrap();
        assert_eq!(plan.evict, vec![1]);
        assert_eq!(plan.slot, 1);
    }

    #[test]
    fn compacts_when_free_space_is_fragmented_by_pins() {
        let e = [
            entry(0, 1, 0, 100, true),
            entry(1, 2, 300, 100, true),
            entry(2, 3, 600, 100, true),
        ];
        let plan = plan_insert(&e, 8, 1000, 500).unwrap();
        assert!(plan.evict.is_empty());
        assert_eq!(
            plan.moves,
            vec![
                Move {
                    slot: 1,
                    from: 300,
                    to: 104,
                    len: 100
                },
                Move {
                    slot: 2,
                    from: 600,
                    to: 208,
                    len: 100
                },
            ]
        );
        assert_eq!(plan.offset, 312);
    }

    #[test]
    fn too_large_reports_the_largest_that_fits() {
        let e = [entry(0, 1, 0, 96, true), entry(1, 2, 96, 400, false)];
        assert_eq!(
            plan_insert(&e, 8, 1000, 905),
            Err(NoRoom::TooLarge { max: 904 })
        );
        assert!(plan_insert(&e, 8, 1000, 904).is_ok());
    }

    #[test]
    fn half_the_arena_always_fits_without_pins() {
        let arena = 1 << 20;
        let mut entries = Vec::new();
        let mut order = 0;
        for size in [
            1000u64,
            70_000,
            300_000,
            12,
            arena / 2,
            5,
            arena / 2,
            99_999,
        ] {
            order += 1;
            let plan = plan_insert(&entries, 16, arena, size).unwrap();
            entries.retain(|e: &Entry| !plan.evict.contains(&e.slot));
            for m in &plan.moves {
                entries
                    .iter_mut()
                    .find(|e| e.slot == m.slot)
                    .unwrap()
                    .offset = m.to;
            }
            entries.push(entry(plan.slot, order, plan.offset, size, false));
            assert_eq!(first_conflict(&entries, arena), None);
        }
    }

    #[test]
    fn history_full_of_pins() {
        let e = [entry(0, 1, 0, 8, true), entry(1, 2, 8, 8, true)];
        assert_eq!(plan_insert(&e, 2, 1000, 8), Err(NoRoom::HistoryFull));
    }

    #[test]
    fn recency_order_and_duplicates() {
        let mut e = vec![
            entry(0, 1, 0, 8, false),
            entry(1, 9, 8, 8, false),
            entry(2, 4, 16, 8, false),
        ];
        by_recency(&mut e);
        assert_eq!(e.iter().map(|e| e.slot).collect::<Vec<_>>(), vec![1, 2, 0]);
        assert_eq!(find_duplicate(&e, 2, 8).map(|e| e.slot), Some(2));
        assert_eq!(find_duplicate(&e, 2, 9), None);
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
