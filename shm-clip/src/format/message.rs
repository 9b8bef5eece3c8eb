//! The mailbox message: a change note that a writer sends each subscriber.

use std::mem::{offset_of, size_of};

use super::wire::{put_u32, put_u64, u32_at, u64_at};

/// One message, as LAYOUT.md's "Mailbox messages" table.
#[repr(C)]
pub(crate) struct Message {
    pub seq: u64,
    /// Wall clock of the commit, ns since the Unix epoch.
    pub committed_ns: u64,
    pub origin_pid: u32,
    pub origin_kind: u32,
    /// What changed: `Change`'s raw value.
    pub change: u32,
    pub reserved: u32,
}

/// Bytes per message; messages of any other length are ignored.
pub(crate) const MESSAGE_SIZE: usize = size_of::<Message>();

/// A message's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MessageFields {
    pub(crate) seq: u64,
    pub(crate) committed_ns: u64,
    pub(crate) origin_pid: u32,
    pub(crate) origin_kind: u32,
    pub(crate) change: u32,
}

impl MessageFields {
    pub(crate) fn encode(&self) -> [u8; MESSAGE_SIZE] {
        let mut b = [0u8; MESSAGE_SIZE];
        put_u64(&mut b, offset_of!(Message, seq), self.seq);
        put_u64(&mut b, offset_of!(Message, committed_ns), self.committed_ns);
        put_u32(&mut b, offset_of!(Message, origin_pid), self.origin_pid);
        put_u32(&mut b, offset_of!(Message, origin_kind), self.origin_kind);
        put_u32(&mut b, offset_of!(Message, change), self.change);
        b
    }

    /// Anyone with our uid can write to a queue: only a message of exactly
    /// the right length is decoded.
    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        if b.len() != MESSAGE_SIZE {
            return None;
        }
        Some(MessageFields {
            seq: u64_at(b, offset_of!(Message, seq)),
            committed_ns: u64_at(b, offset_of!(Message, committed_ns)),
            origin_pid: u32_at(b, offset_of!(Message, origin_pid)),
            origin_kind: u32_at(b, offset_of!(Message, origin_kind)),
            change: u32_at(b, offset_of!(Message, change)),
        })
    }
}

/// What a commit did, as a mailbox message tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Change {
    /// Not said (a subscriber joining or leaving, or an older writer).
    Unknown,
    /// A new current clip: copy or restore.
    Copy,
    /// An older entry made current.
    Select,
    /// Pinned or unpinned.
    Pin,
    /// One entry deleted.
    Delete,
    /// Entries cleared.
    Clear,
    /// The board was destroyed.
    Destroy,
}

impl Change {
    pub(crate) fn to_raw(self) -> u32 {
        match self {
            Change::Unknown => 0,
            Change::Copy => 1,
            Change::Select => 2,
            Change::Pin => 3,
            Change::Delete => 4,
            Change::Clear => 5,
            Change::Destroy => 6,
        }
    }

    pub(crate) fn from_raw(raw: u32) -> Self {
        match raw {
            1 => Change::Copy,
            2 => Change::Select,
            3 => Change::Pin,
            4 => Change::Delete,
            5 => Change::Clear,
            6 => Change::Destroy,
            _ => Change::Unknown,
        }
    }
}
