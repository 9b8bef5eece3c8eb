//! A writer's side: non-blocking sends to every registered mailbox, and
//! destroy's farewell notes.

use std::time::SystemTime;

use nix::errno::Errno;
use nix::mqueue::{mq_send, mq_unlink};

use super::{Mq, Notification, current_seq, open_for_send};
use crate::OriginKind;
use crate::format::{Change, SUB_LIVE, off};
use crate::segment::Segment;

/// Wakes every other mailbox after the subscriber table changed, with the
/// current (unchanged) seq: status displays re-read the table, while readers
/// that act on new seqs only see nothing new.
pub(super) fn announce_membership(seg: &Segment, kind: OriginKind) {
    let mut notifier = Notifier::default();
    match seg.lock() {
        Ok(_guard) => notifier.refresh(seg),
        Err(_) => return,
    }
    notifier.send(&Notification {
        seq: current_seq(seg),
        origin_pid: crate::sys::pid(),
        origin_kind: kind,
        committed_at: SystemTime::now(),
        change: Change::Unknown,
        coalesced: 1,
    });
}

/// A writer's cached view of the subscriber table, with open descriptors.
#[derive(Debug, Default)]
pub(crate) struct Notifier {
    generation: Option<u64>,
    targets: Vec<Target>,
}

#[derive(Debug)]
struct Target {
    name: String,
    mq: Option<Mq>,
    refused: bool,
}

impl Notifier {
    /// Under the lock: re-read the table if it changed since last time.
    pub(crate) fn refresh(&mut self, seg: &Segment) {
        let generation = seg.header_u64(off::SUB_GENERATION);
        if self.generation == Some(generation) {
            return;
        }
        let me = crate::sys::pid();
        let mut targets = Vec::new();
        for slot in 0..seg.subscriber_slots() {
            // Most of the 128 slots are free: decoding each (two strings)
            // was a few percent of a CLI copy.
            if seg.subscriber_state(slot).ok() != Some(SUB_LIVE) {
                continue;
            }
            let Ok(rec) = seg.read_subscriber(slot) else {
                continue;
            };
            if rec.state == SUB_LIVE && rec.pid != me {
                let old = self
                    .targets
                    .iter()
                    .position(|t| t.name == rec.name)
                    .map(|i| self.targets.swap_remove(i));
                // A refused mailbox is tried again: a new generation is
                // what a subscriber publishes once the queue that its slot
                // named before it existed is there (a send in between saw
                // ENOENT), and skipping it for good left that subscriber
                // deaf to this writer.
                targets.push(old.map_or_else(
                    || Target {
                        name: rec.name,
                        mq: None,
                        refused: false,
                    },
                    |old| Target {
                        refused: false,
                        ..old
                    },
                ));
            }
        }
        self.targets = targets;
        self.generation = Some(generation);
    }

    /// After unlocking: one non-blocking send per mailbox. Returns whether a
    /// mailbox looked dead, so the caller can reap.
    pub(crate) fn send(&mut self, note: &Notification) -> bool {
        let msg = note.encode();
        let mut saw_dead = false;
        for target in &mut self.targets {
            if target.refused {
                continue;
            }
            if target.mq.is_none() {
                match open_for_send(&target.name) {
                    Ok(mq) => target.mq = Some(mq),
                    Err(Errno::ENOENT) => {
                        saw_dead = true;
                        target.refused = true;
                        continue;
                    }
                    Err(_) => {
                        target.refused = true;
                        continue;
                    }
                }
            }
            let mq = target.mq.as_ref().expect("opened above");
            match mq_send(mq.get(), &msg, 0) {
                // EAGAIN: full, so its owner has a wake-up pending already.
                Ok(()) | Err(Errno::EAGAIN) => {}
                Err(errno) => {
                    tracing::debug!(mailbox = %target.name, %errno, "notification failed");
                    target.mq = None;
                }
            }
        }
        saw_dead
    }
}

/// For destroy, after the segment's name is gone: sends each of `names` a
/// last note, so its owner wakes and finds the segment removed, then
/// unlinks the queue (its owner's open descriptor keeps the note). An owner
/// that already noticed the removal by itself (its inotify watch) has gone
/// from the table and unlinked its queue: it needs no note.
pub(crate) fn farewell(seg: &Segment, names: &[String]) {
    let note = Notification {
        seq: current_seq(seg),
        origin_pid: crate::sys::pid(),
        origin_kind: OriginKind::Cli,
        committed_at: SystemTime::now(),
        change: Change::Destroy,
        coalesced: 1,
    }
    .encode();
    for name in names {
        if let Ok(mq) = open_for_send(name) {
            // A full queue already wakes its owner: EAGAIN is as good.
            let _ = mq_send(mq.get(), &note, 0);
        }
        let _ = mq_unlink(name.as_str());
    }
}
