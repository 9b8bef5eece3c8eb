//! The segment header, the whole-segment geometry and the ABI tag.
//!
//! `Header` is never placed over shared memory as a Rust reference: it fixes
//! the offsets in [`off`], which `segment/` and `sys/shm.rs` read with
//! bounds-checked copies and atomics.

use std::mem::{offset_of, size_of};

use super::index::INDEX_SLOT_SIZE;
use super::removal_log::REMOVAL_SIZE;
use super::subscriber::SUB_SLOT_SIZE;
use super::wire::{put_u32, put_u64, u32_at, u64_at};

/// The first eight bytes of every board segment.
pub(crate) const MAGIC: [u8; 8] = *b"SHMCLIP\0";

/// The layout version. Bump it, and add a changelog line to `LAYOUT.md`, for
/// any change to the structures below.
pub const LAYOUT_VERSION: u32 = 4;

/// Room reserved for the `pthread_mutex_t`; the real size is in the ABI tag.
pub(crate) const MUTEX_ROOM: usize = 64;

/// Subscriber slots in every board.
pub(crate) const SUBSCRIBER_SLOTS: u32 = 128;

/// Entries of the removal log.
pub(crate) const REMOVAL_SLOTS: u32 = 64;

/// "No slot" in every slot-number field (`current`, list links, buckets).
pub const NO_SLOT: u32 = u32::MAX;

/// The longest mailbox name a slot can hold.
pub(crate) const MAILBOX_NAME_MAX: usize = 128;

/// The longest origin label a slot can hold.
pub(crate) const LABEL_MAX: usize = 32;

/// Bounds on what a creator may ask for, and an opener accepts.
pub(crate) const MIN_ARENA: u64 = 4096;
pub(crate) const MAX_ARENA: u64 = 1 << 40;
pub(crate) const MIN_DEPTH: u32 = 1;
pub(crate) const MAX_DEPTH: u32 = 100_000;

/// The segment header, at offset 0.
#[repr(C)]
pub(crate) struct Header {
    pub magic: [u8; 8],
    /// 0 until the creator has finished; published last with a release store.
    pub version: u32,
    pub header_size: u32,
    /// `arch/libc/mutex-size`, NUL padded.
    pub abi_tag: [u8; 32],
    /// `st_dev` and `st_ino` of the creator's `/proc/self/ns/pid`.
    pub pidns_dev: u64,
    pub pidns_ino: u64,
    pub creator_uid: u32,
    pub reserved0: u32,
    pub segment_size: u64,
    pub sub_offset: u64,
    pub sub_slots: u32,
    pub sub_slot_size: u32,
    pub index_offset: u64,
    pub index_slots: u32,
    pub index_slot_size: u32,
    pub arena_offset: u64,
    pub arena_size: u64,
    pub removals_offset: u64,
    pub removal_slots: u32,
    /// Dedup hash buckets: a power of two, at least the depth.
    pub buckets: u32,
    pub buckets_offset: u64,
    /// Random, made with the board: who committed a clip, across machines.
    pub node_id: [u8; 16],
    pub created_ns: u64,
    pub reserved2: [u8; 16],
    pub mutex: [u8; MUTEX_ROOM],
    /// Commit sequence number; bumped under the lock by every change.
    pub seq: u64,
    pub lock_acquisitions: u64,
    pub lock_contended: u64,
    pub lock_recoveries: u64,
    pub last_pid: u32,
    pub last_kind: u32,
    pub last_ns: u64,
    /// Bumped whenever the subscriber table changes, so writers can cache it.
    pub sub_generation: u64,
    /// The slot of the current clip, or `NO_SLOT`.
    pub current: u32,
    /// The first free index slot (free slots chain through `hash_next`).
    pub free_head: u32,
    /// The arena ring's oldest and newest records (slots).
    pub ring_first: u32,
    pub ring_last: u32,
    /// Where the next record goes in the arena.
    pub ring_head: u64,
    /// Removals ever logged; the newest is in log slot `(n - 1) % removal_slots`.
    pub removed_total: u64,
    /// Odd while a lock holder may be changing anything; advanced at every
    /// lock and unlock, so that a reader can copy without the lock and know
    /// afterwards whether anyone wrote meanwhile (LAYOUT.md, "Rules").
    pub write_gen: u64,
    pub reserved1: [u8; 32],
}

/// Field offsets, shared by code and `LAYOUT.md`.
/// Byte offsets of the header's fields (LAYOUT.md, "Header").
pub mod off {
    use super::{Header, offset_of};

    pub const MAGIC: usize = offset_of!(Header, magic);
    pub const VERSION: usize = offset_of!(Header, version);
    pub const HEADER_SIZE: usize = offset_of!(Header, header_size);
    pub const ABI_TAG: usize = offset_of!(Header, abi_tag);
    pub const PIDNS_DEV: usize = offset_of!(Header, pidns_dev);
    pub const PIDNS_INO: usize = offset_of!(Header, pidns_ino);
    pub const CREATOR_UID: usize = offset_of!(Header, creator_uid);
    pub const SEGMENT_SIZE: usize = offset_of!(Header, segment_size);
    pub const SUB_OFFSET: usize = offset_of!(Header, sub_offset);
    pub const SUB_SLOTS: usize = offset_of!(Header, sub_slots);
    pub const SUB_SLOT_SIZE: usize = offset_of!(Header, sub_slot_size);
    pub const INDEX_OFFSET: usize = offset_of!(Header, index_offset);
    pub const INDEX_SLOTS: usize = offset_of!(Header, index_slots);
    pub const INDEX_SLOT_SIZE: usize = offset_of!(Header, index_slot_size);
    pub const ARENA_OFFSET: usize = offset_of!(Header, arena_offset);
    pub const ARENA_SIZE: usize = offset_of!(Header, arena_size);
    pub const REMOVALS_OFFSET: usize = offset_of!(Header, removals_offset);
    pub const REMOVAL_SLOTS: usize = offset_of!(Header, removal_slots);
    pub const BUCKETS: usize = offset_of!(Header, buckets);
    pub const BUCKETS_OFFSET: usize = offset_of!(Header, buckets_offset);
    pub const NODE_ID: usize = offset_of!(Header, node_id);
    pub const CREATED_NS: usize = offset_of!(Header, created_ns);
    pub const MUTEX: usize = offset_of!(Header, mutex);
    pub const SEQ: usize = offset_of!(Header, seq);
    pub const LOCK_ACQUISITIONS: usize = offset_of!(Header, lock_acquisitions);
    pub const LOCK_CONTENDED: usize = offset_of!(Header, lock_contended);
    pub const LOCK_RECOVERIES: usize = offset_of!(Header, lock_recoveries);
    pub const LAST_PID: usize = offset_of!(Header, last_pid);
    pub const LAST_KIND: usize = offset_of!(Header, last_kind);
    pub const LAST_NS: usize = offset_of!(Header, last_ns);
    pub const SUB_GENERATION: usize = offset_of!(Header, sub_generation);
    pub const CURRENT: usize = offset_of!(Header, current);
    pub const FREE_HEAD: usize = offset_of!(Header, free_head);
    pub const RING_FIRST: usize = offset_of!(Header, ring_first);
    pub const RING_LAST: usize = offset_of!(Header, ring_last);
    pub const RING_HEAD: usize = offset_of!(Header, ring_head);
    pub const REMOVED_TOTAL: usize = offset_of!(Header, removed_total);
    pub const WRITE_GEN: usize = offset_of!(Header, write_gen);
}

pub(crate) const HEADER_SIZE: usize = size_of::<Header>();
/// The header's first bytes, `magic` to `reserved2`: written by the creator
/// before it publishes `version`, never again after. Everything from the
/// mutex on changes while other processes run, atomically or under the lock.
pub(crate) const IMMUTABLE_HEADER_SIZE: usize = off::MUTEX;

// The numbers themselves are LAYOUT.md's: `format::spec`'s test compares
// every table there with these structs. Here, only what the code relies on.
const _: () = {
    assert!(off::MAGIC == 0);
    assert!(IMMUTABLE_HEADER_SIZE == 192 && off::MUTEX.is_multiple_of(64));
    assert!(off::MUTEX.is_multiple_of(8) && off::SEQ.is_multiple_of(8));
    assert!(off::WRITE_GEN.is_multiple_of(8));
    assert!(size_of::<libc::pthread_mutex_t>() <= MUTEX_ROOM);
};

/// `arch/libc/mutex-size`: processes that disagree on it must not share a mutex.
pub(crate) fn abi_tag() -> [u8; 32] {
    let libc = if cfg!(target_env = "musl") {
        "musl"
    } else if cfg!(target_env = "gnu") {
        "gnu"
    } else {
        "other"
    };
    let text = format!(
        "{}/{libc}/mutex{}",
        std::env::consts::ARCH,
        size_of::<libc::pthread_mutex_t>()
    );
    let mut tag = [0u8; 32];
    let n = text.len().min(tag.len());
    tag[..n].copy_from_slice(&text.as_bytes()[..n]);
    tag
}

/// The ABI tag as text, for error messages.
pub(crate) fn abi_tag_text(tag: &[u8; 32]) -> String {
    let end = tag.iter().position(|&b| b == 0).unwrap_or(tag.len());
    String::from_utf8_lossy(&tag[..end]).into_owned()
}

/// Where each region goes for a board of `depth` entries and `arena` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub sub_offset: u64,
    pub removals_offset: u64,
    pub index_offset: u64,
    pub index_slots: u32,
    pub buckets_offset: u64,
    pub buckets: u32,
    pub arena_offset: u64,
    pub arena_size: u64,
    pub segment_size: u64,
}

impl Geometry {
    pub(crate) fn new(depth: u32, arena: u64) -> Geometry {
        let sub_offset = HEADER_SIZE as u64;
        let removals_offset = sub_offset + u64::from(SUBSCRIBER_SLOTS) * SUB_SLOT_SIZE as u64;
        let index_offset = removals_offset + u64::from(REMOVAL_SLOTS) * REMOVAL_SIZE as u64;
        let buckets_offset = index_offset + u64::from(depth) * INDEX_SLOT_SIZE as u64;
        // At least one bucket per entry keeps the dedup chains short.
        let buckets = depth.next_power_of_two();
        let arena_offset = (buckets_offset + u64::from(buckets) * 4).next_multiple_of(64);
        Geometry {
            sub_offset,
            removals_offset,
            index_offset,
            index_slots: depth,
            buckets_offset,
            buckets,
            arena_offset,
            arena_size: arena,
            segment_size: arena_offset + arena,
        }
    }
}

/// What a creator picks for a new board, beyond its geometry: its identity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Birth {
    pub(crate) node_id: [u8; 16],
    pub(crate) created_ns: u64,
}

/// The immutable part of the header (bytes 0–191) as plain fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ImmutableHeader {
    pub(crate) magic: [u8; 8],
    pub(crate) version: u32,
    pub(crate) header_size: u32,
    pub(crate) abi_tag: [u8; 32],
    pub(crate) pidns: (u64, u64),
    pub(crate) creator_uid: u32,
    pub(crate) segment_size: u64,
    pub(crate) sub_offset: u64,
    pub(crate) sub_slots: u32,
    pub(crate) sub_slot_size: u32,
    pub(crate) index_offset: u64,
    pub(crate) index_slots: u32,
    pub(crate) index_slot_size: u32,
    pub(crate) arena_offset: u64,
    pub(crate) arena_size: u64,
    pub(crate) removals_offset: u64,
    pub(crate) removal_slots: u32,
    pub(crate) buckets: u32,
    pub(crate) buckets_offset: u64,
    pub(crate) node_id: [u8; 16],
    pub(crate) created_ns: u64,
}

impl ImmutableHeader {
    /// What a creator writes for `geo`. `magic` and `version` stay zero:
    /// the creator stores them atomically when it publishes.
    pub(crate) fn for_geometry(
        geo: &Geometry,
        abi_tag: [u8; 32],
        pidns: (u64, u64),
        uid: u32,
        birth: Birth,
    ) -> Self {
        ImmutableHeader {
            header_size: HEADER_SIZE as u32,
            abi_tag,
            pidns,
            creator_uid: uid,
            segment_size: geo.segment_size,
            sub_offset: geo.sub_offset,
            sub_slots: SUBSCRIBER_SLOTS,
            sub_slot_size: SUB_SLOT_SIZE as u32,
            index_offset: geo.index_offset,
            index_slots: geo.index_slots,
            index_slot_size: INDEX_SLOT_SIZE as u32,
            arena_offset: geo.arena_offset,
            arena_size: geo.arena_size,
            removals_offset: geo.removals_offset,
            removal_slots: REMOVAL_SLOTS,
            buckets: geo.buckets,
            buckets_offset: geo.buckets_offset,
            node_id: birth.node_id,
            created_ns: birth.created_ns,
            ..ImmutableHeader::default()
        }
    }

    pub(crate) fn encode(&self) -> [u8; IMMUTABLE_HEADER_SIZE] {
        let mut b = [0u8; IMMUTABLE_HEADER_SIZE];
        b[off::MAGIC..][..8].copy_from_slice(&self.magic);
        put_u32(&mut b, off::VERSION, self.version);
        put_u32(&mut b, off::HEADER_SIZE, self.header_size);
        b[off::ABI_TAG..][..32].copy_from_slice(&self.abi_tag);
        put_u64(&mut b, off::PIDNS_DEV, self.pidns.0);
        put_u64(&mut b, off::PIDNS_INO, self.pidns.1);
        put_u32(&mut b, off::CREATOR_UID, self.creator_uid);
        put_u64(&mut b, off::SEGMENT_SIZE, self.segment_size);
        put_u64(&mut b, off::SUB_OFFSET, self.sub_offset);
        put_u32(&mut b, off::SUB_SLOTS, self.sub_slots);
        put_u32(&mut b, off::SUB_SLOT_SIZE, self.sub_slot_size);
        put_u64(&mut b, off::INDEX_OFFSET, self.index_offset);
        put_u32(&mut b, off::INDEX_SLOTS, self.index_slots);
        put_u32(&mut b, off::INDEX_SLOT_SIZE, self.index_slot_size);
        put_u64(&mut b, off::ARENA_OFFSET, self.arena_offset);
        put_u64(&mut b, off::ARENA_SIZE, self.arena_size);
        put_u64(&mut b, off::REMOVALS_OFFSET, self.removals_offset);
        put_u32(&mut b, off::REMOVAL_SLOTS, self.removal_slots);
        put_u32(&mut b, off::BUCKETS, self.buckets);
        put_u64(&mut b, off::BUCKETS_OFFSET, self.buckets_offset);
        b[off::NODE_ID..][..16].copy_from_slice(&self.node_id);
        put_u64(&mut b, off::CREATED_NS, self.created_ns);
        b
    }

    /// Decodes the bytes as they are; validation is the opener's.
    pub(crate) fn decode(b: &[u8; IMMUTABLE_HEADER_SIZE]) -> Self {
        let array = |at: usize| -> [u8; 32] { b[at..at + 32].try_into().expect("32 bytes") };
        ImmutableHeader {
            magic: b[off::MAGIC..off::MAGIC + 8].try_into().expect("8 bytes"),
            version: u32_at(b, off::VERSION),
            header_size: u32_at(b, off::HEADER_SIZE),
            abi_tag: array(off::ABI_TAG),
            pidns: (u64_at(b, off::PIDNS_DEV), u64_at(b, off::PIDNS_INO)),
            creator_uid: u32_at(b, off::CREATOR_UID),
            segment_size: u64_at(b, off::SEGMENT_SIZE),
            sub_offset: u64_at(b, off::SUB_OFFSET),
            sub_slots: u32_at(b, off::SUB_SLOTS),
            sub_slot_size: u32_at(b, off::SUB_SLOT_SIZE),
            index_offset: u64_at(b, off::INDEX_OFFSET),
            index_slots: u32_at(b, off::INDEX_SLOTS),
            index_slot_size: u32_at(b, off::INDEX_SLOT_SIZE),
            arena_offset: u64_at(b, off::ARENA_OFFSET),
            arena_size: u64_at(b, off::ARENA_SIZE),
            removals_offset: u64_at(b, off::REMOVALS_OFFSET),
            removal_slots: u32_at(b, off::REMOVAL_SLOTS),
            buckets: u32_at(b, off::BUCKETS),
            buckets_offset: u64_at(b, off::BUCKETS_OFFSET),
            node_id: b[off::NODE_ID..off::NODE_ID + 16]
                .try_into()
                .expect("16 bytes"),
            created_ns: u64_at(b, off::CREATED_NS),
        }
    }
}
