//! `status --json`.

use serde::Serialize;

use super::Origin;
use super::time::{epoch_ms, rfc3339};

/// The board's segment, sizes, counters and subscribers.
#[derive(Debug, Serialize)]
pub struct Status {
    pub name: String,
    pub path: String,
    pub owner_uid: u32,
    /// The permission bits in octal, as `ls` and `chmod` write them: `0600`.
    pub mode: String,
    pub layout_version: u32,
    pub segment_size: u64,
    pub capacity: u64,
    pub used: u64,
    pub seq: u64,
    pub entries: usize,
    pub max_entries: usize,
    pub lock: Lock,
    pub subscribers: Vec<Subscriber>,
    pub max_subscribers: usize,
    pub last_change: Option<LastChange>,
}

#[derive(Debug, Serialize)]
pub struct Lock {
    pub acquisitions: u64,
    pub contended: u64,
    pub recoveries: u64,
}

#[derive(Debug, Serialize)]
pub struct Subscriber {
    pub origin: Origin,
    pub mailbox: String,
    pub pending: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct LastChange {
    pub origin: Origin,
    pub at: String,
    pub at_ms: u64,
}

impl From<&shm_clip::Status> for Status {
    fn from(s: &shm_clip::Status) -> Self {
        Status {
            name: s.name.clone(),
            path: s.path.display().to_string(),
            owner_uid: s.owner_uid,
            mode: format!("{:04o}", s.mode & 0o7777),
            layout_version: s.layout_version,
            segment_size: s.segment_size,
            capacity: s.capacity,
            used: s.used,
            seq: s.seq,
            entries: s.entries,
            max_entries: s.max_entries,
            lock: Lock {
                acquisitions: s.lock.acquisitions,
                contended: s.lock.contended,
                recoveries: s.lock.recoveries,
            },
            subscribers: s
                .subscribers
                .iter()
                .map(|sub| Subscriber {
                    origin: Origin::from(&sub.origin),
                    mailbox: sub.mailbox.clone(),
                    pending: sub.pending,
                })
                .collect(),
            max_subscribers: s.max_subscribers,
            last_change: s.last_change.as_ref().map(|c| LastChange {
                origin: Origin::from(&c.origin),
                at: rfc3339(c.at),
                at_ms: epoch_ms(c.at),
            }),
        }
    }
}
