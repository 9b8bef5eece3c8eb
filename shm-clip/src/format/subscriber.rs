//! The subscriber slot: one mailbox registered in the segment's table.

use std::mem::{offset_of, size_of};

use super::header::{LABEL_MAX, MAILBOX_NAME_MAX};
use super::wire::{put_u32, put_u64, truncate_utf8, u32_at, u64_at};

/// One subscriber (mailbox) slot, as LAYOUT.md's "Subscriber slot" table.
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

pub const SUB_SLOT_SIZE: usize = size_of::<SubscriberSlot>();

/// Where a slot's `state` lies: a writer looks at it alone to skip the
/// free slots of the table without decoding them.
pub(crate) const SUB_STATE: usize = offset_of!(SubscriberSlot, state);

/// Slot states.
pub(crate) const SUB_FREE: u32 = 0;
pub(crate) const SUB_LIVE: u32 = 1;

/// A decoded subscriber slot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SubscriberRecord {
    pub(crate) state: u32,
    pub(crate) pid: u32,
    pub(crate) start_time: u64,
    pub(crate) kind: u32,
    pub(crate) registered_ns: u64,
    pub(crate) label: String,
    pub(crate) name: String,
}

impl SubscriberRecord {
    /// Decodes a slot copied out of the segment. Lengths are clamped to
    /// their fields, so any bytes decode; the caller judges the content.
    pub(crate) fn decode(b: &[u8; SUB_SLOT_SIZE]) -> Self {
        let name_at = offset_of!(SubscriberSlot, name);
        let label_at = offset_of!(SubscriberSlot, label);
        let name_len =
            (u32_at(b, offset_of!(SubscriberSlot, name_len)) as usize).min(MAILBOX_NAME_MAX);
        let label = &b[label_at..label_at + LABEL_MAX];
        let label_end = label.iter().position(|&c| c == 0).unwrap_or(LABEL_MAX);
        SubscriberRecord {
            state: u32_at(b, offset_of!(SubscriberSlot, state)),
            pid: u32_at(b, offset_of!(SubscriberSlot, pid)),
            start_time: u64_at(b, offset_of!(SubscriberSlot, start_time)),
            kind: u32_at(b, offset_of!(SubscriberSlot, kind)),
            registered_ns: u64_at(b, offset_of!(SubscriberSlot, registered_ns)),
            label: String::from_utf8_lossy(&label[..label_end]).into_owned(),
            name: String::from_utf8_lossy(&b[name_at..name_at + name_len]).into_owned(),
        }
    }

    /// The slot's bytes; the label and name are cut to fit.
    pub(crate) fn encode(&self) -> [u8; SUB_SLOT_SIZE] {
        let mut b = [0u8; SUB_SLOT_SIZE];
        let label = truncate_utf8(&self.label, LABEL_MAX);
        let name = truncate_utf8(&self.name, MAILBOX_NAME_MAX);
        put_u32(&mut b, offset_of!(SubscriberSlot, state), self.state);
        put_u32(&mut b, offset_of!(SubscriberSlot, pid), self.pid);
        put_u64(
            &mut b,
            offset_of!(SubscriberSlot, start_time),
            self.start_time,
        );
        put_u32(&mut b, offset_of!(SubscriberSlot, kind), self.kind);
        put_u32(
            &mut b,
            offset_of!(SubscriberSlot, name_len),
            name.len() as u32,
        );
        put_u64(
            &mut b,
            offset_of!(SubscriberSlot, registered_ns),
            self.registered_ns,
        );
        b[offset_of!(SubscriberSlot, label)..][..label.len()].copy_from_slice(label.as_bytes());
        b[offset_of!(SubscriberSlot, name)..][..name.len()].copy_from_slice(name.as_bytes());
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriber_record_round_trips() {
        let rec = SubscriberRecord {
            state: SUB_LIVE,
            pid: 42,
            start_time: 7,
            kind: 2,
            registered_ns: 99,
            label: "window 3".into(),
            name: "/shm-clip.1000.default@42.00ff".into(),
        };
        assert_eq!(SubscriberRecord::decode(&rec.encode()), rec);
        assert_eq!(
            SubscriberRecord::decode(&[0u8; SUB_SLOT_SIZE]).state,
            SUB_FREE
        );
    }
}
