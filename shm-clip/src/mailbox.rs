//! Mailboxes: one POSIX message queue per subscribing process, registered in
//! the segment's subscriber table.
//!
//! A mailbox is indirect communication owned by its reader: writers only know
//! its name from the table. Writers send with `O_NONBLOCK`, so a full queue
//! (its owner already has a wake-up pending) or a stuck reader can never block
//! them. Notifications are hints; the segment is the truth.
//!
//! `mailbox.rs` holds the message and the queue descriptor; the rest is one
//! concept per file: `subscription.rs` (a reader's own mailbox),
//! `registry.rs` (the subscriber table and the reaping of dead subscribers),
//! `notifier.rs` (a writer's sends, and destroy's farewell notes).

mod notifier;
mod registry;
mod subscription;

use std::os::fd::AsFd;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, MqdT, mq_close, mq_open};
use nix::sys::stat::{Mode, fstat};

use crate::OriginKind;
use crate::format::{Change, MESSAGE_SIZE, MessageFields};
use crate::segment::{Segment, euid};

pub(crate) use notifier::{Notifier, farewell};
pub(crate) use registry::{reap_dead, registered, repair_table, subscribers};
pub use subscription::Subscription;
pub(crate) use subscription::subscribe;

/// The queue's message size (≤ 64 bytes keeps each queue's cost against
/// `RLIMIT_MSGQUEUE` tiny) and depth (one pending wake-up is all a reader needs).
const MSG_SIZE: i64 = 32;
const MSG_DEPTH: i64 = 4;

/// A change notification. Several pending notifications are coalesced into
/// one that carries the latest seq, read from the segment when the queue was
/// full; `origin_pid`, `origin_kind` and `committed_at` then describe the
/// newest message that did arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Notification {
    /// The latest commit seq announced.
    pub seq: u64,
    /// The pid of the process that made that commit.
    pub origin_pid: u32,
    /// The kind of program that made it.
    pub origin_kind: OriginKind,
    /// When the writer committed (its clock), for latency measurements.
    pub committed_at: SystemTime,
    /// What that commit did.
    pub change: Change,
    /// How many notifications were merged into this one.
    pub coalesced: u32,
}

impl Notification {
    fn encode(&self) -> [u8; MESSAGE_SIZE] {
        MessageFields {
            seq: self.seq,
            committed_ns: self
                .committed_at
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
            origin_pid: self.origin_pid,
            origin_kind: self.origin_kind.to_raw(),
            change: self.change.to_raw(),
        }
        .encode()
    }

    /// Anyone with our uid can write to the queue, so accept only well-formed messages.
    fn decode(b: &[u8]) -> Option<Self> {
        let m = MessageFields::decode(b)?;
        Some(Notification {
            seq: m.seq,
            committed_at: UNIX_EPOCH + Duration::from_nanos(m.committed_ns),
            origin_pid: m.origin_pid,
            origin_kind: OriginKind::from_raw(m.origin_kind),
            change: Change::from_raw(m.change),
            coalesced: 1,
        })
    }
}

/// A message queue descriptor that closes itself (nix's `MqdT` does not).
#[derive(Debug)]
struct Mq(Option<MqdT>);

impl Mq {
    fn get(&self) -> &MqdT {
        self.0.as_ref().expect("present until drop")
    }
}

impl Drop for Mq {
    fn drop(&mut self) {
        if let Some(mq) = self.0.take() {
            let _ = mq_close(mq);
        }
    }
}

/// Opens someone's mailbox for sending, refusing a queue that is not ours alone.
fn open_for_send(name: &str) -> Result<Mq, Errno> {
    let mq = Mq(Some(mq_open(
        name,
        MQ_OFlag::O_WRONLY | MQ_OFlag::O_NONBLOCK,
        Mode::empty(),
        None,
    )?));
    let st = fstat(mq.get().as_fd())?;
    if st.st_uid != euid() || st.st_mode & 0o077 != 0 {
        tracing::warn!(
            mailbox = name,
            owner = st.st_uid,
            mode = format_args!("{:04o}", st.st_mode & 0o7777),
            "refusing a mailbox that is not ours alone"
        );
        return Err(Errno::EPERM);
    }
    Ok(mq)
}

/// Loads the commit seq (for callers that only need a cheap freshness check).
pub(crate) fn current_seq(seg: &Segment) -> u64 {
    seg.seq_cell().load(Ordering::Acquire)
}
