//! The segment's binary layout: a public, versioned contract (see `LAYOUT.md`).
//!
//! These `#[repr(C)]` structs are never placed over shared memory as Rust
//! references. They exist to fix the offsets, which the rest of the crate
//! reads with bounds-checked copies, and which the asserts below pin to the
//! numbers documented in `LAYOUT.md`.

use std::mem::{offset_of, size_of};

/// The first eight bytes of every board segment.
pub(crate) const MAGIC: [u8; 8] = *b"SHMCLIP\0";

/// The layout version. Bump it, and add a changelog line to `LAYOUT.md`, for
/// any change to the structures below.
pub const LAYOUT_VERSION: u32 = 2;

/// Room reserved for the `pthread_mutex_t`; the real size is in the ABI tag.
pub(crate) const MUTEX_ROOM: usize = 64;

/// Subscriber slots in every board.
pub(crate) const SUBSCRIBER_SLOTS: u32 = 128;

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
    pub reserved1: [u8; 8],
}

/// One subscriber (mailbox) slot.
#[repr(C)]
pub(crate) struct SubscriberSlot {
    /// 0 free, 1 live.
    pub state: u32,
    pub pid: u32,
    /// Field 22 of `/proc/PID/stat`: tells a reused pid from the original.
    pub start_time: u64,
    pub kind: u32,
    pub name_len: u32,
    pub registered_ns: u64,
    pub label: [u8; LABEL_MAX],
    pub name: [u8; MAILBOX_NAME_MAX],
}

/// One history index slot.
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
    /// xxh3 of bytes 4..120 of this slot (everything but `state` and itself).
    pub meta_check: u64,
}

pub(crate) const SLOT_FREE: u32 = 0;
pub(crate) const SLOT_WRITING: u32 = 1;
pub(crate) const SLOT_COMMITTED: u32 = 2;
pub(crate) const FLAG_PINNED: u32 = 1;

/// The start of a record in the arena.
#[repr(C)]
pub(crate) struct RecordHeader {
    pub magic: [u8; 4],
    pub rep_count: u32,
    pub reserved: u64,
}

/// Describes one representation; `rep_count` of these follow the header,
/// then each representation's MIME bytes and data bytes, in order.
#[repr(C)]
pub(crate) struct RepDesc {
    pub mime_len: u32,
    pub reserved: u32,
    pub data_len: u64,
    /// xxh3 of the MIME length and data length (u64 little-endian each),
    /// then the MIME bytes, then the data bytes.
    pub checksum: u64,
    pub reserved2: u64,
}

pub(crate) const RECORD_MAGIC: [u8; 4] = *b"RCD1";
pub(crate) const MAX_REPS: u32 = 64;
pub(crate) const MAX_MIME_LEN: u32 = 255;

/// Field offsets, shared by code and `LAYOUT.md`.
pub(crate) mod off {
    use super::{Header, IndexSlot, SubscriberSlot, offset_of};

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
    pub const MUTEX: usize = offset_of!(Header, mutex);
    pub const SEQ: usize = offset_of!(Header, seq);
    pub const LOCK_ACQUISITIONS: usize = offset_of!(Header, lock_acquisitions);
    pub const LOCK_CONTENDED: usize = offset_of!(Header, lock_contended);
    pub const LOCK_RECOVERIES: usize = offset_of!(Header, lock_recoveries);
    pub const LAST_PID: usize = offset_of!(Header, last_pid);
    pub const LAST_KIND: usize = offset_of!(Header, last_kind);
    pub const LAST_NS: usize = offset_of!(Header, last_ns);
    pub const SUB_GENERATION: usize = offset_of!(Header, sub_generation);

    pub const SUB_STATE: usize = offset_of!(SubscriberSlot, state);
    pub const SUB_PID: usize = offset_of!(SubscriberSlot, pid);
    pub const SUB_START_TIME: usize = offset_of!(SubscriberSlot, start_time);
    pub const SUB_KIND: usize = offset_of!(SubscriberSlot, kind);
    pub const SUB_NAME_LEN: usize = offset_of!(SubscriberSlot, name_len);
    pub const SUB_REGISTERED_NS: usize = offset_of!(SubscriberSlot, registered_ns);
    pub const SUB_LABEL: usize = offset_of!(SubscriberSlot, label);
    pub const SUB_NAME: usize = offset_of!(SubscriberSlot, name);

    pub const IDX_STATE: usize = offset_of!(IndexSlot, state);
    pub const IDX_META_CHECK: usize = offset_of!(IndexSlot, meta_check);
}

pub(crate) const HEADER_SIZE: usize = size_of::<Header>();
/// The header's first bytes, `magic` to `arena_size`: written by the creator
/// before it publishes `version`, never again after. Everything from the
/// mutex on changes while other processes run, atomically or under the lock.
pub(crate) const IMMUTABLE_HEADER_SIZE: usize = off::MUTEX;
pub(crate) const SUB_SLOT_SIZE: usize = size_of::<SubscriberSlot>();
pub(crate) const INDEX_SLOT_SIZE: usize = size_of::<IndexSlot>();
pub(crate) const RECORD_HEADER_SIZE: usize = size_of::<RecordHeader>();
pub(crate) const REP_DESC_SIZE: usize = size_of::<RepDesc>();

// The documented contract (LAYOUT.md). A failure here means the document and
// the code disagree: fix one, and bump LAYOUT_VERSION if the layout moved.
const _: () = {
    assert!(off::MAGIC == 0);
    assert!(off::VERSION == 8);
    assert!(off::HEADER_SIZE == 12);
    assert!(off::ABI_TAG == 16);
    assert!(off::PIDNS_DEV == 48);
    assert!(off::PIDNS_INO == 56);
    assert!(off::CREATOR_UID == 64);
    assert!(off::SEGMENT_SIZE == 72);
    assert!(off::SUB_OFFSET == 80);
    assert!(off::SUB_SLOTS == 88);
    assert!(off::SUB_SLOT_SIZE == 92);
    assert!(off::INDEX_OFFSET == 96);
    assert!(off::INDEX_SLOTS == 104);
    assert!(off::INDEX_SLOT_SIZE == 108);
    assert!(off::ARENA_OFFSET == 112);
    assert!(off::ARENA_SIZE == 120);
    assert!(off::MUTEX == 128);
    assert!(off::SEQ == 192);
    assert!(off::LOCK_ACQUISITIONS == 200);
    assert!(off::LOCK_CONTENDED == 208);
    assert!(off::LOCK_RECOVERIES == 216);
    assert!(off::LAST_PID == 224);
    assert!(off::LAST_KIND == 228);
    assert!(off::LAST_NS == 232);
    assert!(off::SUB_GENERATION == 240);
    assert!(HEADER_SIZE == 256);
    assert!(IMMUTABLE_HEADER_SIZE == 128);
    assert!(off::ARENA_SIZE + 8 == IMMUTABLE_HEADER_SIZE);

    assert!(off::SUB_STATE == 0);
    assert!(off::SUB_PID == 4);
    assert!(off::SUB_START_TIME == 8);
    assert!(off::SUB_KIND == 16);
    assert!(off::SUB_NAME_LEN == 20);
    assert!(off::SUB_REGISTERED_NS == 24);
    assert!(off::SUB_LABEL == 32);
    assert!(off::SUB_NAME == 64);
    assert!(SUB_SLOT_SIZE == 192);

    assert!(offset_of!(IndexSlot, state) == 0);
    assert!(offset_of!(IndexSlot, flags) == 4);
    assert!(offset_of!(IndexSlot, seq) == 8);
    assert!(offset_of!(IndexSlot, order) == 16);
    assert!(offset_of!(IndexSlot, created_ns) == 24);
    assert!(offset_of!(IndexSlot, touched_ns) == 32);
    assert!(offset_of!(IndexSlot, offset) == 40);
    assert!(offset_of!(IndexSlot, len) == 48);
    assert!(offset_of!(IndexSlot, content_hash) == 56);
    assert!(offset_of!(IndexSlot, total_size) == 64);
    assert!(offset_of!(IndexSlot, origin_pid) == 72);
    assert!(offset_of!(IndexSlot, origin_kind) == 76);
    assert!(offset_of!(IndexSlot, rep_count) == 80);
    assert!(offset_of!(IndexSlot, label_len) == 84);
    assert!(offset_of!(IndexSlot, label) == 88);
    assert!(off::IDX_META_CHECK == 120);
    assert!(INDEX_SLOT_SIZE == 128);

    assert!(RECORD_HEADER_SIZE == 16);
    assert!(REP_DESC_SIZE == 32);
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
    pub index_offset: u64,
    pub index_slots: u32,
    pub arena_offset: u64,
    pub arena_size: u64,
    pub segment_size: u64,
}

impl Geometry {
    pub(crate) fn new(depth: u32, arena: u64) -> Geometry {
        let sub_offset = HEADER_SIZE as u64;
        let index_offset = sub_offset + u64::from(SUBSCRIBER_SLOTS) * SUB_SLOT_SIZE as u64;
        let arena_offset =
            (index_offset + u64::from(depth) * INDEX_SLOT_SIZE as u64).next_multiple_of(64);
        Geometry {
            sub_offset,
            index_offset,
            index_slots: depth,
            arena_offset,
            arena_size: arena,
            segment_size: arena_offset + arena,
        }
    }
}
