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
}

impl MessageFields {
    pub(crate) fn encode(&self) -> [u8; MESSAGE_SIZE] {
        let mut b = [0u8; MESSAGE_SIZE];
        put_u64(&mut b, offset_of!(Message, seq), self.seq);
        put_u64(&mut b, offset_of!(Message, committed_ns), self.committed_ns);
        put_u32(&mut b, offset_of!(Message, origin_pid), self.origin_pid);
        put_u32(&mut b, offset_of!(Message, origin_kind), self.origin_kind);
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
        })
    }
}
