//! Typed, bounds-checked views of a segment: the header's counters and
//! `seq`, the index slots and their `u32` fields, the dedup buckets, the
//! removal log, the subscriber slots, and the arena. Every offset is checked
//! against the validated geometry before it reaches the mapping.

use std::sync::atomic::{AtomicU64, Ordering};

use nix::errno::Errno;

use super::{Segment, corrupt};
use crate::format::{
    self, HEADER_SIZE, IDX_STATE, INDEX_SLOT_SIZE, IndexRecord, LINKS_LEN, LINKS_OFFSET,
    RemovalRecord, SUB_SLOT_SIZE, SUBSCRIBER_SLOTS, SlotLinks, SubscriberRecord, off,
};
use crate::sys::RawMutex;
use crate::{Error, Result};

impl Segment {
    fn oob(&self) -> Error {
        corrupt(&self.path, "offset out of bounds")
    }

    /// The commit sequence number.
    pub(crate) fn seq_cell(&self) -> &AtomicU64 {
        self.map
            .atomic_u64(off::SEQ)
            .expect("validated geometry holds the header")
    }

    /// The write generation (LAYOUT.md, "Rules"): stored by the lock holder
    /// only, loaded by optimistic readers at any time.
    pub(crate) fn write_gen_cell(&self) -> &AtomicU64 {
        self.map
            .atomic_u64(off::WRITE_GEN)
            .expect("validated geometry holds the header")
    }

    /// The lock-guarded header fields (`lock_acquisitions` to
    /// `removed_total`): read and written non-atomically, under the lock (or
    /// copied by an optimistic reader, which trusts nothing it copied until
    /// the write generation proves that no holder ran). Never the immutable
    /// part (validated once at open), the mutex, `seq` or `write_gen`, which
    /// other processes access atomically: see `seq_cell`, `write_gen_cell`.
    fn counter_at(offset: usize) -> usize {
        debug_assert!(
            (off::SEQ + 8..HEADER_SIZE).contains(&offset) && offset != off::WRITE_GEN,
            "header offset {offset} is not a lock-guarded counter"
        );
        offset
    }

    pub(crate) fn header_u64(&self, offset: usize) -> u64 {
        self.map
            .read_u64(Self::counter_at(offset))
            .expect("validated geometry holds the header")
    }
    pub(crate) fn set_header_u64(&self, offset: usize, value: u64) {
        self.map
            .write_u64(Self::counter_at(offset), value)
            .expect("validated geometry holds the header");
    }
    pub(crate) fn header_u32(&self, offset: usize) -> u32 {
        self.map
            .read_u32(Self::counter_at(offset))
            .expect("validated geometry holds the header")
    }
    pub(crate) fn set_header_u32(&self, offset: usize, value: u32) {
        self.map
            .write_u32(Self::counter_at(offset), value)
            .expect("validated geometry holds the header");
    }

    pub(crate) fn index_slots(&self) -> usize {
        self.geo.index_slots as usize
    }

    fn index_at(&self, slot: usize) -> usize {
        self.geo.index_offset as usize + slot * INDEX_SLOT_SIZE
    }

    pub(crate) fn read_index(&self, slot: usize) -> Result<IndexRecord> {
        Ok(IndexRecord::decode(&self.read_index_raw(slot)?))
    }

    /// The undecoded bytes of index slot `slot`.
    pub(crate) fn read_index_raw(&self, slot: usize) -> Result<[u8; INDEX_SLOT_SIZE]> {
        let mut b = [0u8; INDEX_SLOT_SIZE];
        if slot >= self.index_slots() {
            return Err(self.oob());
        }
        self.map
            .read(self.index_at(slot), &mut b)
            .ok_or_else(|| self.oob())?;
        Ok(b)
    }

    /// Copies the whole index out in one memcpy, into a reused buffer.
    pub(crate) fn read_index_into(&self, bytes: &mut Vec<u8>) -> Result<()> {
        bytes.resize(self.index_slots() * INDEX_SLOT_SIZE, 0);
        self.map
            .read(self.index_at(0), bytes)
            .ok_or_else(|| self.oob())
    }

    pub(crate) fn write_index(&self, slot: usize, rec: &IndexRecord) -> Result<()> {
        if slot >= self.index_slots() {
            return Err(self.oob());
        }
        self.map
            .write(self.index_at(slot), &rec.encode())
            .ok_or_else(|| self.oob())
    }

    /// One `u64` field of slot `slot`, read alone and not checked: a hint,
    /// which the caller confirms by decoding the slot before it acts on it.
    #[inline]
    pub(crate) fn index_u64(&self, slot: usize, field: usize) -> Option<u64> {
        if slot >= self.index_slots() || field + 8 > INDEX_SLOT_SIZE {
            return None;
        }
        self.map.read_u64(self.index_at(slot) + field)
    }

    /// The state and links of slot `slot` (one bounds check, four loads):
    /// what a walk along the ring or a bucket reads of each member. `None`
    /// if `slot` is out of range. Inlined: a walk calls it for every member.
    #[inline]
    pub(crate) fn index_links(&self, slot: usize) -> Option<SlotLinks> {
        if slot >= self.index_slots() {
            return None;
        }
        let at = self.index_at(slot);
        let state = self.map.read_u32(at + IDX_STATE)?;
        let mut links = [0; LINKS_LEN];
        self.map.read(at + LINKS_OFFSET, &mut links)?;
        Some(SlotLinks::decode(state, &links))
    }

    /// Stores one `u32` field of slot `slot`: a link, outside `meta_check`.
    #[inline]
    pub(crate) fn set_index_u32(&self, slot: usize, field: usize, v: u32) -> Option<()> {
        if slot >= self.index_slots() || field + 4 > INDEX_SLOT_SIZE {
            return None;
        }
        self.map.write_u32(self.index_at(slot) + field, v)
    }

    /// Writes a slot's bytes as they are (a free slot's).
    pub(crate) fn write_index_raw(&self, slot: usize, bytes: &[u8; INDEX_SLOT_SIZE]) -> Result<()> {
        if slot >= self.index_slots() {
            return Err(self.oob());
        }
        self.map
            .write(self.index_at(slot), bytes)
            .ok_or_else(|| self.oob())
    }

    /// Dedup bucket `b`'s first slot (may be any value: the caller checks it).
    /// Dedup bucket `b`'s first slot; `None` if `b` is out of range.
    #[inline]
    pub(crate) fn read_bucket(&self, b: u32) -> Option<u32> {
        if b >= self.geo.buckets {
            return None;
        }
        self.map
            .read_u32(self.geo.buckets_offset as usize + b as usize * 4)
    }

    #[inline]
    pub(crate) fn write_bucket(&self, b: u32, slot: u32) -> Option<()> {
        if b >= self.geo.buckets {
            return None;
        }
        self.map
            .write_u32(self.geo.buckets_offset as usize + b as usize * 4, slot)
    }

    /// Writes removal number `n` into its log entry, `n mod REMOVAL_SLOTS`.
    pub(crate) fn write_removal(&self, n: u64, rec: &RemovalRecord) {
        let at = self.geo.removals_offset as usize
            + (n % u64::from(format::REMOVAL_SLOTS)) as usize * format::REMOVAL_SIZE;
        let _ = self.map.write(at, &rec.encode());
    }

    /// Removal log entry `i` (0 to `REMOVAL_SLOTS - 1`).
    pub(crate) fn read_removal(&self, i: u32) -> Option<RemovalRecord> {
        if i >= format::REMOVAL_SLOTS {
            return None;
        }
        let mut b = [0u8; format::REMOVAL_SIZE];
        let at = self.geo.removals_offset as usize + i as usize * format::REMOVAL_SIZE;
        self.map.read(at, &mut b)?;
        Some(RemovalRecord::decode(&b))
    }

    pub(crate) fn set_index_state(&self, slot: usize, state: u32) -> Result<()> {
        if slot >= self.index_slots() {
            return Err(self.oob());
        }
        self.map
            .write_u32(self.index_at(slot) + IDX_STATE, state)
            .ok_or_else(|| self.oob())
    }

    pub(crate) fn clear_index(&self, slot: usize) -> Result<()> {
        if slot >= self.index_slots() {
            return Err(self.oob());
        }
        self.map
            .zero(self.index_at(slot), INDEX_SLOT_SIZE)
            .ok_or_else(|| self.oob())
    }

    #[expect(
        clippy::unused_self,
        reason = "the table size may move into the header in a later layout"
    )]
    pub(crate) fn subscriber_slots(&self) -> usize {
        SUBSCRIBER_SLOTS as usize
    }

    fn sub_at(&self, slot: usize) -> usize {
        self.geo.sub_offset as usize + slot * SUB_SLOT_SIZE
    }

    pub(crate) fn read_subscriber(&self, slot: usize) -> Result<SubscriberRecord> {
        let mut b = [0u8; SUB_SLOT_SIZE];
        if slot >= self.subscriber_slots() {
            return Err(self.oob());
        }
        self.map
            .read(self.sub_at(slot), &mut b)
            .ok_or_else(|| self.oob())?;
        Ok(SubscriberRecord::decode(&b))
    }

    /// The `state` of subscriber slot `slot` alone (4 bytes, no decoding).
    pub(crate) fn subscriber_state(&self, slot: usize) -> Result<u32> {
        if slot >= self.subscriber_slots() {
            return Err(self.oob());
        }
        self.map
            .read_u32(self.sub_at(slot) + format::SUB_STATE)
            .ok_or_else(|| self.oob())
    }

    pub(crate) fn write_subscriber(&self, slot: usize, rec: &SubscriberRecord) -> Result<()> {
        if slot >= self.subscriber_slots() {
            return Err(self.oob());
        }
        self.map
            .write(self.sub_at(slot), &rec.encode())
            .ok_or_else(|| self.oob())
    }

    pub(crate) fn clear_subscriber(&self, slot: usize) -> Result<()> {
        if slot >= self.subscriber_slots() {
            return Err(self.oob());
        }
        self.map
            .zero(self.sub_at(slot), SUB_SLOT_SIZE)
            .ok_or_else(|| self.oob())
    }

    /// Checks that `offset..offset+len` lies in the arena and returns the
    /// absolute offset.
    fn arena_range(&self, offset: u64, len: u64) -> Result<usize> {
        let end = offset.checked_add(len).ok_or_else(|| self.oob())?;
        if end > self.geo.arena_size {
            return Err(self.oob());
        }
        Ok((self.geo.arena_offset + offset) as usize)
    }

    pub(crate) fn arena_read(&self, offset: u64, dst: &mut [u8]) -> Result<()> {
        let at = self.arena_range(offset, dst.len() as u64)?;
        self.map.read(at, dst).ok_or_else(|| self.oob())
    }

    /// An empty buffer with room for `len` arena bytes, for
    /// [`Segment::arena_read_append`]; a large one is backed by huge pages,
    /// so that filling it costs few page faults.
    pub(crate) fn arena_out_buffer(len: usize) -> Vec<u8> {
        crate::sys::buffer::with_room(len)
    }

    /// Appends `len` arena bytes from `offset` to `dst`, which must have
    /// the room (see [`Segment::arena_out_buffer`]).
    pub(crate) fn arena_read_append(
        &self,
        offset: u64,
        len: usize,
        dst: &mut Vec<u8>,
    ) -> Result<()> {
        let at = self.arena_range(offset, len as u64)?;
        self.map.read_append(at, len, dst).ok_or_else(|| self.oob())
    }

    pub(crate) fn arena_write(&self, offset: u64, src: &[u8]) -> Result<()> {
        let at = self.arena_range(offset, src.len() as u64)?;
        self.map.write(at, src).ok_or_else(|| self.oob())
    }

    /// Backs arena bytes `offset..offset + len` with pages before they are
    /// first written (`sys::shm`'s `back`): on a full /dev/shm a copy then
    /// fails with [`Error::SharedMemoryFull`] before it writes a byte,
    /// instead of dying of `SIGBUS` half-way with the lock held. Under the
    /// board lock, for the range a new record is about to claim.
    ///
    /// Why a range that ends below [`Segment::backed_to`] needs no system
    /// call: a record is placed at the ring's head, and the head only moves
    /// up past records or wraps to 0, so it never passes the highest end `H`
    /// any record has had; every writer backs (or, before this, wrote) its
    /// whole record, so all of `0..H` is backed. `backed_to` is an end this
    /// process backed, so `0..backed_to` is backed too. After a lap of the
    /// ring, no copy makes the call; a fresh process (the CLI) makes one.
    pub(crate) fn back_arena(&self, offset: u64, len: u64) -> Result<()> {
        // `backed_to` is only ever an end inside the arena.
        let backed_to = self.backed_to.load(Ordering::Relaxed);
        if offset.checked_add(len).is_some_and(|end| end <= backed_to) {
            return Ok(());
        }
        self.back_arena_now(offset, len)
    }

    /// [`Segment::back_arena`]'s system call, out of the copy's line.
    #[cold]
    #[inline(never)]
    fn back_arena_now(&self, offset: u64, len: u64) -> Result<()> {
        let at = self.arena_range(offset, len)? as u64;
        let end = offset + len;
        match self.map.back(at, len) {
            Ok(()) => {
                self.backed_to.fetch_max(end, Ordering::Relaxed);
                Ok(())
            }
            Err(Errno::ENOSPC) => Err(Error::SharedMemoryFull {
                path: self.path.clone(),
                bytes: len,
            }),
            Err(errno) => Err(Error::os(
                format!("reserving memory for {}", self.path.display()),
                errno,
            )),
        }
    }

    pub(crate) fn arena_zero(&self, offset: u64, len: u64) -> Result<()> {
        let at = self.arena_range(offset, len)?;
        self.map.zero(at, len as usize).ok_or_else(|| self.oob())
    }

    pub(crate) fn arena_move(&self, from: u64, to: u64, len: u64) -> Result<()> {
        let src = self.arena_range(from, len)?;
        let dst = self.arena_range(to, len)?;
        self.map
            .move_within(src, dst, len as usize)
            .ok_or_else(|| self.oob())
    }

    pub(crate) fn mutex(&self) -> RawMutex<'_> {
        self.map.mutex()
    }
}
