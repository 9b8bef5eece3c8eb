//! The subscriber table in the segment: claiming and freeing slots, its
//! generation, liveness by pid + process start time, reaping the dead,
//! repair, and the listings for status and destroy.

use nix::mqueue::{mq_getattr, mq_unlink};

use super::notifier::announce_membership;
use super::open_for_send;
use crate::format::{SUB_FREE, SUB_LIVE, SubscriberRecord, off};
use crate::segment::{Segment, euid};
use crate::{Error, Origin, OriginKind, Result, SubscriberInfo};

pub(super) fn bump_generation(seg: &Segment) {
    seg.set_header_u64(
        off::SUB_GENERATION,
        seg.header_u64(off::SUB_GENERATION).wrapping_add(1),
    );
}

/// Field 22 of `/proc/PID/stat`: the start time in clock ticks since boot.
/// `None` when the process does not exist.
pub(crate) fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses; fields resume after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn is_alive(pid: u32, start_time: u64) -> bool {
    process_start_time(pid) == Some(start_time)
}

/// The program name of `pid`, for status displays.
pub(crate) fn program_name(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim_end().to_owned())
}

/// Claims a free subscriber slot for `record`.
pub(super) fn register(seg: &Segment, record: &SubscriberRecord) -> Result<usize> {
    let _guard = seg.lock()?;
    for slot in 0..seg.subscriber_slots() {
        if seg.subscriber_state(slot)? == SUB_FREE {
            seg.write_subscriber(slot, record)?;
            bump_generation(seg);
            return Ok(slot);
        }
    }
    Err(Error::SubscriberTableFull {
        slots: seg.subscriber_slots(),
    })
}

/// Frees `slot` if it still holds `record`.
pub(super) fn unregister(seg: &Segment, slot: usize, record: &SubscriberRecord) {
    if let Ok(_guard) = seg.lock()
        && seg.read_subscriber(slot).is_ok_and(|now| now == *record)
    {
        let _ = seg.clear_subscriber(slot);
        bump_generation(seg);
    }
}

/// Frees the slots of processes that are gone (or whose pid was reused) and
/// unlinks their queues. The liveness checks run outside the lock.
pub(crate) fn reap_dead(seg: &Segment) -> usize {
    let Ok(live) = live_slots(seg) else { return 0 };
    let dead: Vec<(usize, SubscriberRecord)> = live
        .into_iter()
        .filter(|(_, r)| !is_alive(r.pid, r.start_time))
        .collect();
    if dead.is_empty() {
        return 0;
    }
    let prefix = seg.name().mailbox_prefix(euid());
    let mut reaped = Vec::new();
    if let Ok(_guard) = seg.lock() {
        for (slot, rec) in dead {
            // Re-check under the lock: the slot may have been reused meanwhile.
            if seg.read_subscriber(slot).is_ok_and(|now| now == rec) {
                // Unlink before clearing, under the lock: a reaper killed
                // here leaves the slot for the next one, never an orphan
                // queue. Only names of our own scheme, whatever the table says.
                if rec.name.starts_with(&prefix) && !rec.name[1..].contains('/') {
                    let _ = mq_unlink(rec.name.as_str());
                }
                let _ = seg.clear_subscriber(slot);
                reaped.push(rec.name);
            }
        }
        if !reaped.is_empty() {
            bump_generation(seg);
        }
    }
    if !reaped.is_empty() {
        announce_membership(seg, OriginKind::Unknown);
    }
    for name in &reaped {
        tracing::debug!(mailbox = %name, "reaped dead subscriber");
    }
    reaped.len()
}

fn live_slots(seg: &Segment) -> Result<Vec<(usize, SubscriberRecord)>> {
    let _guard = seg.lock()?;
    let mut live = Vec::new();
    for slot in 0..seg.subscriber_slots() {
        let rec = seg.read_subscriber(slot)?;
        if rec.state == SUB_LIVE {
            live.push((slot, rec));
        }
    }
    Ok(live)
}

/// Under the lock, after a dead owner: drop slots that are not well-formed.
pub(crate) fn repair_table(seg: &Segment) {
    let prefix = seg.name().mailbox_prefix(euid());
    for slot in 0..seg.subscriber_slots() {
        let Ok(rec) = seg.read_subscriber(slot) else {
            continue;
        };
        if rec.state != SUB_FREE && (rec.state != SUB_LIVE || !rec.name.starts_with(&prefix)) {
            let _ = seg.clear_subscriber(slot);
        }
    }
    bump_generation(seg);
}

/// The live subscribers, for status, with each queue's pending count.
pub(crate) fn subscribers(seg: &Segment) -> Result<Vec<SubscriberInfo>> {
    reap_dead(seg);
    Ok(live_slots(seg)?
        .into_iter()
        .map(|(_, rec)| {
            let pending = open_for_send(&rec.name)
                .ok()
                .and_then(|mq| mq_getattr(mq.get()).ok())
                .map(|a| a.curmsgs() as u64);
            let label = if rec.label.is_empty() {
                program_name(rec.pid).unwrap_or_default()
            } else {
                rec.label
            };
            SubscriberInfo {
                origin: Origin {
                    pid: rec.pid,
                    kind: OriginKind::from_raw(rec.kind),
                    label,
                },
                mailbox: rec.name,
                pending,
            }
        })
        .collect())
}

/// For destroy, before the segment's name goes: the mailboxes registered
/// now, every one of which is told that the board is gone.
pub(crate) fn registered(seg: &Segment) -> Vec<String> {
    let prefix = seg.name().mailbox_prefix(euid());
    live_slots(seg)
        .map(|live| {
            live.into_iter()
                .map(|(_, rec)| rec.name)
                .filter(|name| name.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default()
}
