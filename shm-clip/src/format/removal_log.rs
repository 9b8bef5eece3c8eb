//! The removal log: a small ring of what `delete` and `clear` took off the
//! board, so that a process that keeps clips elsewhere (the archive) can tell
//! a removal the user asked for from an eviction, which it must not follow.

use std::mem::{offset_of, size_of};

use super::wire::{put_u32, put_u64, u32_at, u64_at};

/// One removal log entry, as LAYOUT.md's "Removal log entry" table.
#[repr(C)]
pub(crate) struct RemovalSlot {
    /// The board seq that published the removal.
    pub seq: u64,
    /// What was removed: `RemovalKind`.
    pub kind: u32,
    pub reserved: u32,
    /// The removed clip, for `kind` 1; zero otherwise.
    pub clip_id: [u8; 16],
}

pub(crate) const REMOVAL_SIZE: usize = size_of::<RemovalSlot>();

/// What a removal log entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RemovalKind {
    /// One entry, named by its clip id.
    Deleted,
    /// Every unpinned entry on the board at that seq.
    Cleared,
    /// Every entry on the board at that seq, pinned ones too.
    ClearedAll,
}

impl RemovalKind {
    pub(crate) fn to_raw(self) -> u32 {
        match self {
            RemovalKind::Deleted => 1,
            RemovalKind::Cleared => 2,
            RemovalKind::ClearedAll => 3,
        }
    }

    pub(crate) fn from_raw(raw: u32) -> Option<Self> {
        match raw {
            1 => Some(RemovalKind::Deleted),
            2 => Some(RemovalKind::Cleared),
            3 => Some(RemovalKind::ClearedAll),
            _ => None,
        }
    }
}

/// A decoded removal log entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RemovalRecord {
    pub(crate) seq: u64,
    pub(crate) kind: Option<RemovalKind>,
    pub(crate) clip_id: [u8; 16],
}

impl RemovalRecord {
    pub(crate) fn encode(&self) -> [u8; REMOVAL_SIZE] {
        let mut b = [0u8; REMOVAL_SIZE];
        put_u64(&mut b, offset_of!(RemovalSlot, seq), self.seq);
        put_u32(
            &mut b,
            offset_of!(RemovalSlot, kind),
            self.kind.map_or(0, RemovalKind::to_raw),
        );
        b[offset_of!(RemovalSlot, clip_id)..][..16].copy_from_slice(&self.clip_id);
        b
    }

    pub(crate) fn decode(b: &[u8; REMOVAL_SIZE]) -> Self {
        let at = offset_of!(RemovalSlot, clip_id);
        RemovalRecord {
            seq: u64_at(b, offset_of!(RemovalSlot, seq)),
            kind: RemovalKind::from_raw(u32_at(b, offset_of!(RemovalSlot, kind))),
            clip_id: b[at..at + 16].try_into().expect("16 bytes"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_records_round_trip() {
        let rec = RemovalRecord {
            seq: 41,
            kind: Some(RemovalKind::Deleted),
            clip_id: [7; 16],
        };
        assert_eq!(RemovalRecord::decode(&rec.encode()), rec);
        assert_eq!(RemovalRecord::decode(&[0; REMOVAL_SIZE]).kind, None);
    }
}
