//! The derived structures of LAYOUT.md's rules, which make copy and paste
//! constant work whatever the depth: the current slot, the free list, the
//! arena ring and the dedup buckets. Every function here runs under the
//! board lock.
//!
//! Every slot number and link read from the segment is checked where it is
//! read: in range, naming a slot in the right state whose meta checksum and
//! geometry hold, with a back link that agrees. A check that fails is a
//! [`Fault`]: the caller rebuilds everything from the slots
//! ([`rebuild`], through `repair`) instead of trusting it.
//!
//! Over 400 lines, yet one concept: the four structures change together under
//! one lock, and `rebuild` must derive exactly what the other functions keep.

use crate::format::index_off::{CONTENT_HASH, HASH_NEXT, LEN, RING_NEXT, RING_PREV};
use crate::format::{
    IndexRecord, NO_SLOT, RemovalKind, RemovalRecord, SLOT_COMMITTED, SLOT_FREE, SLOT_WRITING,
    SlotLinks, off,
};
use crate::history::aligned;
use crate::segment::Segment;

/// A derived structure disagrees with the slots: rebuild, don't trust it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fault(pub(crate) &'static str);

pub(crate) type Checked<T> = std::result::Result<T, Fault>;

/// Where a record of a given size can go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Room {
    /// At this arena offset, now free.
    At(u64),
    /// A whole turn of the ring found no gap: pinned records break it up.
    NeedsCompaction,
}

/// A live slot, decoded and checked.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot {
    pub(crate) slot: u32,
    pub(crate) rec: IndexRecord,
}

/// The structures of one segment, under its lock.
pub(crate) struct Ring<'a> {
    seg: &'a Segment,
    depth: u32,
    arena: u64,
}

impl<'a> Ring<'a> {
    /// Under the lock.
    pub(crate) fn new(seg: &'a Segment) -> Self {
        Ring {
            seg,
            depth: seg.index_slots() as u32,
            arena: seg.geometry().arena_size,
        }
    }

    fn head(&self, at: usize) -> u32 {
        self.seg.header_u32(at)
    }

    fn set_head(&self, at: usize, v: u32) {
        self.seg.set_header_u32(at, v);
    }

    /// A slot number read from the segment: in range, or `NO_SLOT`.
    fn link(&self, v: u32) -> Checked<Option<u32>> {
        match v {
            NO_SLOT => Ok(None),
            v if v < self.depth => Ok(Some(v)),
            _ => Err(Fault("slot number out of range")),
        }
    }

    /// Slot `slot`, which must hold an entry (being written or committed)
    /// whose checksum and geometry hold.
    #[expect(
        clippy::inline_always,
        reason = "a `Slot` is 240 bytes, copied once more when returned from a call; when back_arena joined `place`, LLVM stopped inlining this into it (+80 instructions a copy, callgrind)"
    )]
    #[inline(always)]
    pub(crate) fn live(&self, slot: u32) -> Checked<Slot> {
        let rec = self
            .seg
            .read_index(slot as usize)
            .map_err(|_| Fault("slot out of range"))?;
        if !(rec.state == SLOT_COMMITTED || rec.state == SLOT_WRITING) {
            return Err(Fault("link to a free slot"));
        }
        if !rec.meta_ok {
            return Err(Fault("slot checksum"));
        }
        rec.check(self.arena).map_err(Fault)?;
        Ok(Slot { slot, rec })
    }

    /// The number of index slots.
    pub(crate) fn depth(&self) -> u32 {
        self.depth
    }

    /// Writes a committed slot back with a changed `order`: its links must
    /// be as [`Self::live`] read them, with nothing relinked since.
    pub(crate) fn rewrite(&self, s: &Slot) -> Checked<()> {
        self.write(s)
    }

    fn write(&self, s: &Slot) -> Checked<()> {
        self.seg
            .write_index(s.slot as usize, &s.rec)
            .map_err(|_| Fault("slot out of range"))
    }

    /// One `u64` field of slot `slot`, unchecked: a hint to confirm.
    fn field_u64(&self, slot: u32, field: usize) -> Checked<u64> {
        self.seg
            .index_u64(slot as usize, field)
            .ok_or(Fault("slot out of range"))
    }

    /// Stores one link field: a single 4-byte store, outside `meta_check`.
    fn set_field(&self, slot: u32, field: usize, v: u32) -> Checked<()> {
        self.seg
            .set_index_u32(slot as usize, field, v)
            .ok_or(Fault("slot out of range"))
    }

    /// Slot `slot`'s state and links, undecoded otherwise.
    fn links(&self, slot: u32) -> Checked<SlotLinks> {
        self.seg
            .index_links(slot as usize)
            .ok_or(Fault("slot out of range"))
    }

    /// The links of a slot that a link names, which must hold an entry. Its
    /// entry is not decoded: only its links are used, and each is checked
    /// against the link that led there.
    fn linked(&self, slot: u32) -> Checked<SlotLinks> {
        let links = self.links(slot)?;
        match links.state {
            SLOT_COMMITTED | SLOT_WRITING => Ok(links),
            _ => Err(Fault("link to a free slot")),
        }
    }

    /// The current clip's slot, checked; `None` on an empty board.
    pub(crate) fn current(&self) -> Checked<Option<Slot>> {
        let Some(cur) = self.link(self.head(off::CURRENT))? else {
            return Ok(None);
        };
        let s = self.live(cur)?;
        if s.rec.state != SLOT_COMMITTED {
            return Err(Fault("current slot not committed"));
        }
        Ok(Some(s))
    }

    /// Takes a slot off the free list.
    pub(crate) fn take_free(&self) -> Checked<Option<u32>> {
        let Some(slot) = self.link(self.head(off::FREE_HEAD))? else {
            return Ok(None);
        };
        // A free slot has no checksum: its state and its link are all it
        // holds, and both are checked here.
        let links = self.links(slot)?;
        if links.state != SLOT_FREE {
            return Err(Fault("free list names a used slot"));
        }
        let next = self.link(links.hash_next)?;
        self.set_head(off::FREE_HEAD, next.unwrap_or(NO_SLOT));
        Ok(Some(slot))
    }

    /// The oldest unpinned committed entry in ring order, for eviction
    /// when every slot is taken. `first`: the ring's first record as
    /// [`Self::make_room`] decoded it, if the ring has not changed since,
    /// so that it is not read and checked twice.
    pub(crate) fn oldest_unpinned(&self, first: Option<Slot>) -> Checked<Option<Slot>> {
        let mut at = self.link(self.head(off::RING_FIRST))?;
        let mut known = first.filter(|f| Some(f.slot) == at);
        for _ in 0..=self.depth {
            let Some(slot) = at else { return Ok(None) };
            let s = match known.take() {
                Some(s) => s,
                None => self.live(slot)?,
            };
            if s.rec.state == SLOT_COMMITTED && !s.rec.pinned() {
                return Ok(Some(s));
            }
            at = self.link(s.rec.ring_next)?;
        }
        Err(Fault("ring longer than the index"))
    }

    /// Makes room for `need` bytes at the ring's head: evicts the unpinned
    /// records in the way (calling `evicted` after each) and passes over
    /// pinned ones. Does not claim the range. Also returns the ring's first
    /// record as decoded last, for [`Self::oldest_unpinned`].
    ///
    /// An evicted record's bytes are zeroed, but for those that the new
    /// record is about to overwrite: zeroing them first was a third pass
    /// over a large clip's bytes (a 1 MiB copy on a full board wrote 2 MiB).
    /// A writer killed before its record is written leaves those bytes
    /// unnamed by any slot, as a kill between freeing and zeroing always did;
    /// the next record placed there overwrites them.
    pub(crate) fn make_room(
        &self,
        need: u64,
        evicted: impl FnMut(),
    ) -> Checked<(Room, Option<Slot>)> {
        // Each victim's own range: between two victims may lie a pinned
        // record passed over, or, after a wrap, any record.
        let mut victims = Vec::new();
        let mut first = None;
        let room = self.find_room(need, evicted, &mut victims, &mut first);
        let kept = match room {
            Ok(Room::At(at)) => at..at.saturating_add(need),
            _ => 0..0,
        };
        for (start, end) in victims {
            // [start, end) less the range the new record will cover.
            let _ = self
                .seg
                .arena_zero(start, end.min(kept.start).saturating_sub(start));
            let from = start.max(kept.end);
            let _ = self.seg.arena_zero(from, end.saturating_sub(from));
        }
        room.map(|room| (room, first))
    }

    /// [`Self::make_room`]'s search; `victims` collects the ranges of the
    /// records it evicted, whose bytes are not zeroed yet, and `first` the
    /// ring's first record when it returns room.
    fn find_room(
        &self,
        need: u64,
        mut evicted: impl FnMut(),
        victims: &mut Vec<(u64, u64)>,
        first_seen: &mut Option<Slot>,
    ) -> Checked<Room> {
        let need = aligned(need);
        let mut wraps = 0;
        // Each turn evicts, passes, wraps or returns: bounded by the records.
        for _ in 0..(4 * u64::from(self.depth) + 8) {
            // Only a first record decoded in the turn that returns is still the first.
            *first_seen = None;
            let h = self.seg.header_u64(off::RING_HEAD);
            if h > self.arena || !h.is_multiple_of(8) {
                return Err(Fault("ring head outside the arena"));
            }
            let Some(first) = self.link(self.head(off::RING_FIRST))? else {
                self.seg.set_header_u64(off::RING_HEAD, 0);
                return Ok(Room::At(0));
            };
            let f = self.live(first)?;
            if f.rec.state != SLOT_COMMITTED {
                return Err(Fault("a half-written record in the ring"));
            }
            *first_seen = Some(f);
            if f.rec.offset >= h {
                if f.rec.offset - h >= need {
                    return Ok(Room::At(h));
                }
            } else if f.rec.offset >= need && self.head(off::FREE_HEAD) == NO_SLOT {
                // Every record lies in [first, head), so [0, first) is free.
                // With every slot taken this copy evicts the oldest anyway;
                // wrapping now keeps the ring on the pages it has used,
                // instead of walking the whole arena: each page the ring
                // first reaches costs tmpfs a page of RAM and every process
                // that maps the board a page fault.
                self.seg.set_header_u64(off::RING_HEAD, 0);
                return Ok(Room::At(0));
            } else if self.arena - h >= need {
                return Ok(Room::At(h));
            } else {
                wraps += 1;
                if wraps > 1 {
                    return Ok(Room::NeedsCompaction);
                }
                self.seg.set_header_u64(off::RING_HEAD, 0);
                continue;
            }
            if f.rec.pinned() {
                // Passed over: it becomes the newest record of the ring.
                let end = f.rec.offset + aligned(f.rec.len);
                self.unlink(f.slot)?;
                let mut f = f;
                self.append(&mut f)?;
                self.seg.set_header_u64(off::RING_HEAD, end);
            } else {
                self.forget(&f)?;
                victims.push((f.rec.offset, f.rec.offset.saturating_add(f.rec.len)));
                evicted();
            }
        }
        Err(Fault("no room after a bounded search"))
    }

    /// Links `s` in as the ring's newest record and writes it.
    pub(crate) fn append(&self, s: &mut Slot) -> Checked<()> {
        let last = self.link(self.head(off::RING_LAST))?;
        s.rec.ring_prev = last.unwrap_or(NO_SLOT);
        s.rec.ring_next = NO_SLOT;
        match last {
            Some(l) => {
                if self.linked(l)?.ring_next != NO_SLOT {
                    return Err(Fault("ring's last record has a successor"));
                }
                self.set_field(l, RING_NEXT, s.slot)?;
            }
            None => self.set_head(off::RING_FIRST, s.slot),
        }
        self.set_head(off::RING_LAST, s.slot);
        self.write(s)
    }

    /// Takes `slot` out of the ring (its own links are left as they are).
    fn unlink(&self, slot: u32) -> Checked<()> {
        let own = self.links(slot)?;
        let prev = self.link(own.ring_prev)?;
        let next = self.link(own.ring_next)?;
        match prev {
            Some(p) => {
                if self.linked(p)?.ring_next != slot {
                    return Err(Fault("ring links disagree"));
                }
                self.set_field(p, RING_NEXT, next.unwrap_or(NO_SLOT))?;
            }
            None if self.head(off::RING_FIRST) == slot => {
                self.set_head(off::RING_FIRST, next.unwrap_or(NO_SLOT));
            }
            None => return Err(Fault("ring's first record disagrees")),
        }
        match next {
            Some(n) => {
                if self.linked(n)?.ring_prev != slot {
                    return Err(Fault("ring links disagree"));
                }
                self.set_field(n, RING_PREV, prev.unwrap_or(NO_SLOT))?;
            }
            None if self.head(off::RING_LAST) == slot => {
                self.set_head(off::RING_LAST, prev.unwrap_or(NO_SLOT));
            }
            None => return Err(Fault("ring's last record disagrees")),
        }
        Ok(())
    }

    fn bucket(&self, hash: u64) -> u32 {
        (hash & u64::from(self.seg.geometry().buckets - 1)) as u32
    }

    /// An older committed entry with the same content as `hash`/`len`.
    ///
    /// The chain is walked by its links, as [`Self::unbucket`] walks it: a
    /// member's content hash and length are read alone, and only a member
    /// whose two match is decoded and checked whole, before it is used. A
    /// bucket is shared by unrelated content (the depth's worth of entries
    /// over as many buckets), and decoding every member made a copy at
    /// depth 200 cost more than at depth 1, where chains are empty.
    pub(crate) fn find_duplicate(&self, hash: u64, len: u64, except: u32) -> Checked<Option<Slot>> {
        let head = self
            .seg
            .read_bucket(self.bucket(hash))
            .ok_or(Fault("bucket out of range"))?;
        let mut at = self.link(head)?;
        for _ in 0..=self.depth {
            let Some(slot) = at else { return Ok(None) };
            let links = self.linked(slot)?;
            if links.state != SLOT_COMMITTED {
                return Err(Fault("a half-written record in a bucket"));
            }
            let same = slot != except
                && self.field_u64(slot, CONTENT_HASH)? == hash
                && self.field_u64(slot, LEN)? == len;
            if same {
                let s = self.live(slot)?;
                // Read again, whole and checked: what decides.
                if s.rec.state == SLOT_COMMITTED && s.rec.content_hash == hash && s.rec.len == len {
                    return Ok(Some(s));
                }
                at = self.link(s.rec.hash_next)?;
            } else {
                at = self.link(links.hash_next)?;
            }
        }
        Err(Fault("bucket chain longer than the index"))
    }

    /// Commits `s`: state 2, into its bucket, the current clip. Its ring
    /// links are the segment's, not `s`'s: removing a neighbour (a
    /// duplicate) since `s` was appended has changed them.
    ///
    /// `s` goes at its chain's end, so that a chain runs from its oldest
    /// commit to its newest. Eviction takes the oldest entry, which is then
    /// (pins and selects aside) its chain's first and unlinks without a
    /// walk ([`Self::unbucket`]); the walk to the end here is over the
    /// members that [`Self::find_duplicate`] has just read, in cache. At a
    /// depth of 10 000 the index is 1.9 MB, and a walk of a cold chain is a
    /// cache miss per member.
    pub(crate) fn commit(&self, s: &mut Slot) -> Checked<()> {
        let own = self.links(s.slot)?;
        s.rec.ring_prev = own.ring_prev;
        s.rec.ring_next = own.ring_next;
        let b = self.bucket(s.rec.content_hash);
        let head = self
            .seg
            .read_bucket(b)
            .ok_or(Fault("bucket out of range"))?;
        let first = self.link(head)?;
        s.rec.hash_next = NO_SLOT;
        s.rec.state = SLOT_COMMITTED;
        self.write(s)?;
        match first {
            None => self
                .seg
                .write_bucket(b, s.slot)
                .ok_or(Fault("bucket out of range"))?,
            Some(first) => {
                let last = self.chain_end(first, s.slot)?;
                self.set_field(last, HASH_NEXT, s.slot)?;
            }
        }
        self.set_head(off::CURRENT, s.slot);
        Ok(())
    }

    /// The last member of the bucket chain that starts at `first`, which
    /// must not hold `joining` already: linking it behind itself would
    /// make a loop.
    fn chain_end(&self, first: u32, joining: u32) -> Checked<u32> {
        let mut at = first;
        for _ in 0..self.depth {
            if at == joining {
                return Err(Fault("a new entry already in a bucket"));
            }
            match self.link(self.linked(at)?.hash_next)? {
                None => return Ok(at),
                Some(next) => at = next,
            }
        }
        Err(Fault("bucket chain longer than the index"))
    }

    /// Makes committed entry `s` current without moving it.
    pub(crate) fn set_current(&self, s: &Slot) {
        self.set_head(off::CURRENT, s.slot);
    }

    fn unbucket(&self, s: &Slot) -> Checked<()> {
        let b = self.bucket(s.rec.content_hash);
        let head = self
            .seg
            .read_bucket(b)
            .ok_or(Fault("bucket out of range"))?;
        let after = self.links(s.slot)?.hash_next;
        if head == s.slot {
            return self
                .seg
                .write_bucket(b, after)
                .ok_or(Fault("bucket out of range"));
        }
        let mut at = self.link(head)?;
        for _ in 0..=self.depth {
            let Some(slot) = at else {
                return Err(Fault("entry missing from its bucket"));
            };
            let next = self.linked(slot)?.hash_next;
            if next == s.slot {
                return self.set_field(slot, HASH_NEXT, after);
            }
            at = self.link(next)?;
        }
        Err(Fault("bucket chain longer than the index"))
    }

    /// Removes an entry: out of the ring and its bucket, its bytes zeroed,
    /// its slot freed. If it was current, `current` becomes `NO_SLOT`: the
    /// caller commits a new current or calls [`Ring::recompute_current`].
    pub(crate) fn remove(&self, s: &Slot) -> Checked<()> {
        self.forget(s)?;
        // The slot is already free: a kill here leaves bytes no slot names,
        // which the next writer at this offset overwrites (and repair zeroes).
        let _ = self.seg.arena_zero(s.rec.offset, s.rec.len);
        Ok(())
    }

    /// [`Self::remove`] but for the zeroing, which the caller owes.
    fn forget(&self, s: &Slot) -> Checked<()> {
        self.unlink(s.slot)?;
        if s.rec.state == SLOT_COMMITTED {
            self.unbucket(s)?;
        }
        self.free_slot(s.slot);
        #[cfg(feature = "test-hooks")]
        crate::test_hooks::park_if_asked("wipe");
        if self.head(off::CURRENT) == s.slot {
            self.set_head(off::CURRENT, NO_SLOT);
        }
        Ok(())
    }

    fn free_slot(&self, slot: u32) {
        let next = self.head(off::FREE_HEAD);
        let _ = self
            .seg
            .write_index_raw(slot as usize, &IndexRecord::free_slot(next));
        self.set_head(off::FREE_HEAD, slot);
    }

    /// Sets `current` to the committed entry with the highest order: after a
    /// delete of the current clip, O(depth).
    pub(crate) fn recompute_current(&self) {
        let best = (0..self.depth)
            .filter_map(|slot| Some((slot, self.live(slot).ok()?.rec)))
            .filter(|(_, r)| r.state == SLOT_COMMITTED)
            .max_by_key(|(_, r)| (r.order, r.seq))
            .map_or(NO_SLOT, |(slot, _)| slot);
        self.set_head(off::CURRENT, best);
    }

    /// Appends a removal to the removal log.
    pub(crate) fn log_removal(&self, seq: u64, kind: RemovalKind, clip_id: [u8; 16]) {
        let n = self.seg.header_u64(off::REMOVED_TOTAL);
        self.seg.write_removal(
            n,
            &RemovalRecord {
                seq,
                kind: Some(kind),
                clip_id,
            },
        );
        self.seg
            .set_header_u64(off::REMOVED_TOTAL, n.wrapping_add(1));
    }
}

/// Rebuilds every derived structure from the slots, which must already be
/// sound (repair has freed the broken and overlapping ones): the ring in
/// arena order from `ring_head`, the buckets, the free list and `current`.
/// O(depth); for repair only.
pub(crate) fn rebuild(seg: &Segment) {
    let arena = seg.geometry().arena_size;
    let depth = seg.index_slots() as u32;
    let mut live: Vec<Slot> = Vec::new();
    for slot in 0..depth {
        let Ok(rec) = seg.read_index(slot as usize) else {
            continue;
        };
        // Anything else is freed below; repair has decided what to zero.
        if rec.state == SLOT_COMMITTED && rec.meta_ok && rec.check(arena).is_ok() {
            live.push(Slot { slot, rec });
        }
    }
    // The head stays where it was if no record covers it.
    let mut head = seg.header_u64(off::RING_HEAD);
    let inside = |h: u64| {
        live.iter()
            .any(|s| s.rec.offset < h && h < s.rec.offset + aligned(s.rec.len))
    };
    if head > arena || !head.is_multiple_of(8) || inside(head) {
        head = live
            .iter()
            .max_by_key(|s| (s.rec.order, s.rec.seq))
            .map_or(0, |s| s.rec.offset + aligned(s.rec.len));
    }
    seg.set_header_u64(off::RING_HEAD, head);
    live.sort_by_key(|s| {
        if s.rec.offset >= head {
            s.rec.offset - head
        } else {
            s.rec.offset + arena - head
        }
    });
    let buckets = seg.geometry().buckets;
    for b in 0..buckets {
        let _ = seg.write_bucket(b, NO_SLOT);
    }
    let slots: Vec<u32> = live.iter().map(|s| s.slot).collect();
    for (i, s) in live.iter_mut().enumerate() {
        s.rec.ring_prev = if i == 0 { NO_SLOT } else { slots[i - 1] };
        s.rec.ring_next = slots.get(i + 1).copied().unwrap_or(NO_SLOT);
        let b = (s.rec.content_hash & u64::from(buckets - 1)) as u32;
        s.rec.hash_next = seg.read_bucket(b).unwrap_or(NO_SLOT);
        let _ = seg.write_index(s.slot as usize, &s.rec);
        let _ = seg.write_bucket(b, s.slot);
    }
    seg.set_header_u32(off::RING_FIRST, slots.first().copied().unwrap_or(NO_SLOT));
    seg.set_header_u32(off::RING_LAST, slots.last().copied().unwrap_or(NO_SLOT));
    let mut used = vec![false; depth as usize];
    for &slot in &slots {
        used[slot as usize] = true;
    }
    let mut free = NO_SLOT;
    for slot in (0..depth).rev() {
        if !used[slot as usize] {
            let _ = seg.write_index_raw(slot as usize, &IndexRecord::free_slot(free));
            free = slot;
        }
    }
    seg.set_header_u32(off::FREE_HEAD, free);
    let current = live
        .iter()
        .max_by_key(|s| (s.rec.order, s.rec.seq))
        .map_or(NO_SLOT, |s| s.slot);
    seg.set_header_u32(off::CURRENT, current);
}
