//! The history index slot: one entry's metadata, pointing at its record.

use std::mem::{offset_of, size_of};

use super::checksum::xxh3_64;

use super::header::LABEL_MAX;
use super::label::Label;
use super::record::{MAX_REPS, RECORD_HEADER_SIZE, REP_DESC_SIZE};
use super::wire::{id_at, put_u32, put_u64, u32_at, u64_at};

/// One history index slot, as LAYOUT.md's "History index slot" table.
#[repr(C)]
pub(crate) struct IndexSlot {
    /// 0 free, 1 being written, 2 committed.
    pub state: u32,
    /// Bit 0: pinned.
    pub flags: u32,
    /// The board seq at which the entry was created.
    pub seq: u64,
    /// Recency: the board seq at which it last became current.
    pub order: u64,
    pub created_ns: u64,
    pub touched_ns: u64,
    /// Arena-relative offset and length of the record.
    pub offset: u64,
    pub len: u64,
    pub content_hash: u64,
    pub total_size: u64,
    pub origin_pid: u32,
    pub origin_kind: u32,
    pub rep_count: u32,
    pub label_len: u32,
    pub label: [u8; LABEL_MAX],
    /// Random, made when the clip was first copied; kept across boards.
    pub clip_id: [u8; 16],
    /// The node id of the board where the clip was first copied.
    pub origin_node: [u8; 16],
    /// xxh3 of every byte between `state` and itself: the entry. The links
    /// below change whenever a neighbour does, so they are not covered: a
    /// link is checked against its target's back link where it is read.
    pub meta_check: u64,
    /// The arena ring's neighbours: older and newer record (`NO_SLOT` at the ends).
    pub ring_prev: u32,
    pub ring_next: u32,
    /// The next slot in this slot's dedup bucket; in a free slot, the next free slot.
    pub hash_next: u32,
    pub reserved: u32,
    pub reserved2: [u8; 16],
}

pub const INDEX_SLOT_SIZE: usize = size_of::<IndexSlot>();
/// Where `state` is, for the one-word state changes made in place.
pub(crate) const IDX_STATE: usize = offset_of!(IndexSlot, state);
/// The bytes `meta_check` covers: after `state`, up to `meta_check`.
const META_START: usize = offset_of!(IndexSlot, flags);
const META_CHECK: usize = offset_of!(IndexSlot, meta_check);

/// Byte offsets inside an index slot (LAYOUT.md, "History index slot"),
/// for tests and tools that look at a segment image.
pub mod index_off {
    use super::{IndexSlot, offset_of};

    pub const STATE: usize = offset_of!(IndexSlot, state);
    pub const FLAGS: usize = offset_of!(IndexSlot, flags);
    pub const SEQ: usize = offset_of!(IndexSlot, seq);
    pub const ORDER: usize = offset_of!(IndexSlot, order);
    pub const OFFSET: usize = offset_of!(IndexSlot, offset);
    pub const LEN: usize = offset_of!(IndexSlot, len);
    pub const CONTENT_HASH: usize = offset_of!(IndexSlot, content_hash);
    pub const REP_COUNT: usize = offset_of!(IndexSlot, rep_count);
    pub const CLIP_ID: usize = offset_of!(IndexSlot, clip_id);
    pub const RING_PREV: usize = offset_of!(IndexSlot, ring_prev);
    pub const RING_NEXT: usize = offset_of!(IndexSlot, ring_next);
    pub const HASH_NEXT: usize = offset_of!(IndexSlot, hash_next);
    pub const ORIGIN_NODE: usize = offset_of!(IndexSlot, origin_node);
    pub const META_CHECK: usize = offset_of!(IndexSlot, meta_check);
}

pub(crate) const SLOT_FREE: u32 = 0;
pub(crate) const SLOT_WRITING: u32 = 1;
pub(crate) const SLOT_COMMITTED: u32 = 2;
pub(crate) const FLAG_PINNED: u32 = 1;

const _: () = assert!(offset_of!(IndexSlot, state) == 0 && META_CHECK + 8 == LINKS);

/// Where the links start: everything from here on is outside `meta_check`.
const LINKS: usize = offset_of!(IndexSlot, ring_prev);

/// A decoded history index slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct IndexRecord {
    pub(crate) state: u32,
    pub(crate) flags: u32,
    pub(crate) seq: u64,
    pub(crate) order: u64,
    pub(crate) created_ns: u64,
    pub(crate) touched_ns: u64,
    pub(crate) offset: u64,
    pub(crate) len: u64,
    pub(crate) content_hash: u64,
    pub(crate) total_size: u64,
    pub(crate) origin_pid: u32,
    pub(crate) origin_kind: u32,
    pub(crate) rep_count: u32,
    pub(crate) label: Label,
    pub(crate) clip_id: [u8; 16],
    pub(crate) origin_node: [u8; 16],
    pub(crate) ring_prev: u32,
    pub(crate) ring_next: u32,
    pub(crate) hash_next: u32,
    /// Whether the stored meta checksum matched when decoded.
    pub(crate) meta_ok: bool,
}

impl IndexRecord {
    /// Decodes a slot copied out of the segment. Any bytes decode: whether
    /// the entry may be used is [`IndexRecord::check`]'s and `meta_ok`'s call.
    pub(crate) fn decode(b: &[u8; INDEX_SLOT_SIZE]) -> Self {
        let label_len = (u32_at(b, offset_of!(IndexSlot, label_len)) as usize).min(LABEL_MAX);
        let label_at = offset_of!(IndexSlot, label);
        IndexRecord {
            state: u32_at(b, offset_of!(IndexSlot, state)),
            flags: u32_at(b, offset_of!(IndexSlot, flags)),
            seq: u64_at(b, offset_of!(IndexSlot, seq)),
            order: u64_at(b, offset_of!(IndexSlot, order)),
            created_ns: u64_at(b, offset_of!(IndexSlot, created_ns)),
            touched_ns: u64_at(b, offset_of!(IndexSlot, touched_ns)),
            offset: u64_at(b, offset_of!(IndexSlot, offset)),
            len: u64_at(b, offset_of!(IndexSlot, len)),
            content_hash: u64_at(b, offset_of!(IndexSlot, content_hash)),
            total_size: u64_at(b, offset_of!(IndexSlot, total_size)),
            origin_pid: u32_at(b, offset_of!(IndexSlot, origin_pid)),
            origin_kind: u32_at(b, offset_of!(IndexSlot, origin_kind)),
            rep_count: u32_at(b, offset_of!(IndexSlot, rep_count)),
            label: Label::from_bytes(&b[label_at..label_at + label_len]),
            clip_id: id_at(b, offset_of!(IndexSlot, clip_id)),
            origin_node: id_at(b, offset_of!(IndexSlot, origin_node)),
            ring_prev: u32_at(b, offset_of!(IndexSlot, ring_prev)),
            ring_next: u32_at(b, offset_of!(IndexSlot, ring_next)),
            hash_next: u32_at(b, offset_of!(IndexSlot, hash_next)),
            meta_ok: xxh3_64(&b[META_START..META_CHECK]) == u64_at(b, META_CHECK),
        }
    }

    /// The slot's bytes, with `meta_check` computed.
    pub(crate) fn encode(&self) -> [u8; INDEX_SLOT_SIZE] {
        let mut b = [0u8; INDEX_SLOT_SIZE];
        let label = self.label.as_bytes();
        put_u32(&mut b, offset_of!(IndexSlot, state), self.state);
        put_u32(&mut b, offset_of!(IndexSlot, flags), self.flags);
        put_u64(&mut b, offset_of!(IndexSlot, seq), self.seq);
        put_u64(&mut b, offset_of!(IndexSlot, order), self.order);
        put_u64(&mut b, offset_of!(IndexSlot, created_ns), self.created_ns);
        put_u64(&mut b, offset_of!(IndexSlot, touched_ns), self.touched_ns);
        put_u64(&mut b, offset_of!(IndexSlot, offset), self.offset);
        put_u64(&mut b, offset_of!(IndexSlot, len), self.len);
        put_u64(
            &mut b,
            offset_of!(IndexSlot, content_hash),
            self.content_hash,
        );
        put_u64(&mut b, offset_of!(IndexSlot, total_size), self.total_size);
        put_u32(&mut b, offset_of!(IndexSlot, origin_pid), self.origin_pid);
        put_u32(&mut b, offset_of!(IndexSlot, origin_kind), self.origin_kind);
        put_u32(&mut b, offset_of!(IndexSlot, rep_count), self.rep_count);
        put_u32(&mut b, offset_of!(IndexSlot, label_len), label.len() as u32);
        b[offset_of!(IndexSlot, label)..][..label.len()].copy_from_slice(label);
        b[offset_of!(IndexSlot, clip_id)..][..16].copy_from_slice(&self.clip_id);
        b[offset_of!(IndexSlot, origin_node)..][..16].copy_from_slice(&self.origin_node);
        put_u32(&mut b, offset_of!(IndexSlot, ring_prev), self.ring_prev);
        put_u32(&mut b, offset_of!(IndexSlot, ring_next), self.ring_next);
        put_u32(&mut b, offset_of!(IndexSlot, hash_next), self.hash_next);
        let check = xxh3_64(&b[META_START..META_CHECK]);
        put_u64(&mut b, META_CHECK, check);
        b
    }

    /// A free slot's bytes: zero, but for the free list's link.
    pub(crate) fn free_slot(next_free: u32) -> [u8; INDEX_SLOT_SIZE] {
        let mut b = [0u8; INDEX_SLOT_SIZE];
        put_u32(&mut b, offset_of!(IndexSlot, hash_next), next_free);
        b
    }

    pub(crate) fn pinned(&self) -> bool {
        self.flags & FLAG_PINNED != 0
    }

    /// Whether the slot's record lies where a record can: 8-byte aligned,
    /// long enough for a header and one descriptor, inside an arena of
    /// `arena_size` bytes (checked arithmetic: a forged `offset + len` must
    /// not wrap), with 1 to 64 representations. The checksum only proves
    /// that a slot was written whole, not that its writer was honest: this
    /// is checked wherever a slot is read.
    pub(crate) fn check(&self, arena_size: u64) -> Result<(), &'static str> {
        if !self.offset.is_multiple_of(8) {
            return Err("record offset not 8-byte aligned");
        }
        if self.len < (RECORD_HEADER_SIZE + REP_DESC_SIZE) as u64 {
            return Err("record shorter than its header");
        }
        match self.offset.checked_add(self.len) {
            Some(end) if end <= arena_size => {}
            _ => return Err("record outside the arena"),
        }
        if self.rep_count == 0 || self.rep_count > MAX_REPS {
            return Err("bad representation count");
        }
        if self.total_size > self.len {
            return Err("sizes larger than the record");
        }
        Ok(())
    }

    /// The record's end in the arena; valid after [`IndexRecord::check`].
    pub(crate) fn end(&self) -> u64 {
        self.offset.saturating_add(self.len)
    }
}

/// The bytes a walk along a chain reads of each member: `ring_prev`,
/// `ring_next` and `hash_next`, which lie together.
pub(crate) const LINKS_LEN: usize = offset_of!(IndexSlot, hash_next) + 4 - LINKS;

/// A slot's state and links, read with one bounds check: what a walk along
/// the ring or a bucket needs of each member, without decoding the entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotLinks {
    pub(crate) state: u32,
    pub(crate) ring_prev: u32,
    pub(crate) ring_next: u32,
    pub(crate) hash_next: u32,
}

impl SlotLinks {
    /// `state`: the slot's state word; `links`: its bytes from
    /// [`LINKS_OFFSET`] on.
    pub(crate) fn decode(state: u32, links: &[u8; LINKS_LEN]) -> Self {
        let at = |field: usize| u32_at(links, field - LINKS);
        SlotLinks {
            state,
            ring_prev: at(offset_of!(IndexSlot, ring_prev)),
            ring_next: at(offset_of!(IndexSlot, ring_next)),
            hash_next: at(offset_of!(IndexSlot, hash_next)),
        }
    }
}

/// Where a slot's links start ([`SlotLinks`]).
pub(crate) const LINKS_OFFSET: usize = LINKS;

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> IndexRecord {
        IndexRecord {
            state: SLOT_COMMITTED,
            flags: FLAG_PINNED,
            seq: 7,
            order: 9,
            label: Label::new("window 2"),
            offset: 64,
            len: 100,
            rep_count: 1,
            total_size: 10,
            clip_id: [3; 16],
            origin_node: [4; 16],
            ring_prev: 5,
            ring_next: super::super::header::NO_SLOT,
            hash_next: 6,
            meta_ok: true,
            ..IndexRecord::default()
        }
    }

    #[test]
    fn index_record_round_trips_and_detects_flips() {
        let rec = valid();
        let bytes = rec.encode();
        assert_eq!(IndexRecord::decode(&bytes), rec);
        for i in META_START..META_CHECK {
            let mut bad = bytes;
            bad[i] ^= 0x80;
            assert!(!IndexRecord::decode(&bad).meta_ok, "flip at {i}");
        }
    }

    #[test]
    fn forged_geometry_is_refused_without_overflow() {
        assert_eq!(valid().check(4096), Ok(()));
        let cases = [
            IndexRecord {
                offset: 65,
                ..valid()
            },
            IndexRecord { len: 8, ..valid() },
            IndexRecord {
                offset: 4096,
                ..valid()
            },
            IndexRecord {
                offset: !7,
                len: 64,
                ..valid()
            },
            IndexRecord {
                len: u64::MAX,
                ..valid()
            },
            IndexRecord {
                rep_count: 0,
                ..valid()
            },
            IndexRecord {
                rep_count: 65,
                ..valid()
            },
            IndexRecord {
                total_size: 101,
                ..valid()
            },
        ];
        for rec in cases {
            assert!(rec.check(4096).is_err(), "{rec:?}");
        }
    }
}
