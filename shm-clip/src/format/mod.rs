//! Every byte of the shared format, and nothing else: the segment header,
//! the subscriber slot, the removal log, the history index slot and its dedup
//! buckets, a record's directory and the mailbox message. A public, versioned contract (LAYOUT.md).
//!
//! Each structure is a `#[repr(C)]` struct that is never placed over shared
//! memory as a Rust reference: it fixes the offsets (`offset_of!`,
//! `size_of`), and a pure codec turns a copied-out byte array into plain
//! fields and back. No other module uses a numeric offset into the format.
//! `spec`'s test compares every table of LAYOUT.md with these structs, so
//! the document and the code cannot drift apart.
//!
//! This layer uses nothing of the crate but `history::Entry` (a plain
//! struct) and knows no OS call.

mod checksum;
mod header;
mod index;
mod label;
mod message;
mod record;
mod removal_log;
#[cfg(test)]
mod spec;
mod subscriber;
mod wire;

pub(crate) use checksum::{Checksum, xxh3_64};
pub(crate) use header::{
    Birth, Geometry, HEADER_SIZE, IMMUTABLE_HEADER_SIZE, ImmutableHeader, MAGIC, MAX_ARENA,
    MAX_DEPTH, MIN_ARENA, MIN_DEPTH, REMOVAL_SLOTS, SUBSCRIBER_SLOTS, abi_tag, abi_tag_text,
};
pub use header::{LAYOUT_VERSION, NO_SLOT, off};
pub(crate) use index::{
    FLAG_PINNED, IDX_STATE, IndexRecord, LINKS_LEN, LINKS_OFFSET, SLOT_COMMITTED, SLOT_FREE,
    SLOT_WRITING, SlotLinks,
};
pub(crate) use label::Label;
pub use message::Change;
pub(crate) use message::{MESSAGE_SIZE, MessageFields};
#[cfg(test)]
pub(crate) use record::is_reserved;
pub(crate) use record::{
    Desc, MAX_MIME_LEN, MAX_REPS, RECORD_HEADER_SIZE, REP_DESC_SIZE, descs_len, header_rep_count,
    put_header,
};
pub use removal_log::RemovalKind;
pub(crate) use removal_log::{REMOVAL_SIZE, RemovalRecord};
pub(crate) use subscriber::{SUB_FREE, SUB_LIVE, SUB_STATE, SubscriberRecord};

/// Bytes of one index slot, one subscriber slot and the header: for tests
/// and tools that look at a segment image.
pub use index::{INDEX_SLOT_SIZE, index_off};
pub use record::record_off;
pub use subscriber::SUB_SLOT_SIZE;
/// The size of the whole header.
pub const HEADER_BYTES: usize = header::HEADER_SIZE;
