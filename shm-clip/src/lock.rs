//! The board lock. Owner-died repair lives here and nowhere else.
//!
//! A process killed inside the critical section leaves the robust mutex in
//! the "owner died" state. The next locker gets it anyway, repairs the board
//! (discarding any entry the dead owner was half-way through), marks the mutex
//! consistent, and counts a recovery. Because repair always ends in
//! `pthread_mutex_consistent`, no sequence of kills leaves the mutex
//! `ENOTRECOVERABLE`.

use std::marker::PhantomData;
use std::time::Duration;

use crate::history::{self, Entry};
use crate::layout::{SLOT_COMMITTED, SLOT_FREE, off};
use crate::record;
use crate::segment::Segment;
use crate::sys::LockError;
use crate::{Error, Result};

/// How long a locker waits before giving up on a stuck holder.
const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Proof that this thread holds the board lock; unlocks on drop.
///
/// `!Send`, as `std::sync::MutexGuard` is: a pthread mutex must be unlocked
/// by the thread that locked it (a robust one refuses anyone else with
/// `EPERM`, and the board would stay locked until this process died).
#[derive(Debug)]
pub(crate) struct LockGuard<'a> {
    seg: &'a Segment,
    _not_send: PhantomData<*const ()>,
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        if let Err(errno) = self.seg.mutex().unlock() {
            tracing::error!(%errno, "unlocking the board failed");
        }
    }
}

impl Segment {
    /// Takes the board lock, repairing the board if its last holder died.
    pub(crate) fn lock(&self) -> Result<LockGuard<'_>> {
        self.lock_within(LOCK_TIMEOUT)
    }

    /// [`Segment::lock`], giving up after `timeout`: for clean-up that has a
    /// fallback and should not keep a closing program waiting.
    pub(crate) fn lock_within(&self, timeout: Duration) -> Result<LockGuard<'_>> {
        let locked = self.mutex().lock(timeout).map_err(|e| match e {
            LockError::Timeout => Error::LockTimeout {
                waited_ms: timeout.as_millis() as u64,
            },
            LockError::NotRecoverable => Error::LockUnrecoverable,
            LockError::Other(errno) => Error::os("locking the board", errno),
        })?;
        let guard = LockGuard {
            seg: self,
            _not_send: PhantomData,
        };
        self.bump(off::LOCK_ACQUISITIONS);
        if locked.contended {
            self.bump(off::LOCK_CONTENDED);
        }
        if locked.owner_died {
            let discarded = repair(self);
            // Consistent even if repair hit an error: a mutex left inconsistent
            // becomes ENOTRECOVERABLE at unlock, which would brick the board.
            if let Err(errno) = self.mutex().mark_consistent() {
                tracing::error!(%errno, "pthread_mutex_consistent failed");
            }
            self.bump(off::LOCK_RECOVERIES);
            tracing::warn!(board = %self.name(), discarded, "previous lock holder died; board repaired");
        }
        Ok(guard)
    }

    fn bump(&self, offset: usize) {
        self.set_header_u64(offset, self.header_u64(offset).wrapping_add(1));
    }
}

/// Restores the invariants after a holder died mid-change. Returns how many
/// entries were discarded.
fn repair(seg: &Segment) -> usize {
    let arena = seg.geometry().arena_size;
    let mut discarded = 0;
    let mut survivors: Vec<Entry> = Vec::new();
    let mut broken = Vec::new();
    let mut max_seq = seg.seq_cell().load(std::sync::atomic::Ordering::Relaxed);
    for slot in 0..seg.index_slots() {
        let Ok(rec) = seg.read_index(slot) else {
            continue;
        };
        if rec.state == SLOT_FREE {
            continue;
        }
        let intact = rec.state == SLOT_COMMITTED
            && rec.meta_ok
            && record_is_intact(seg, rec.offset, rec.len);
        if intact {
            max_seq = max_seq.max(rec.seq).max(rec.order);
            survivors.push(rec.entry(slot));
        } else {
            broken.push((slot, rec.offset, rec.len));
        }
    }
    for (slot, offset, len) in broken {
        // Never zero bytes that an intact entry lives in.
        let overlaps = survivors
            .iter()
            .any(|e| offset < e.offset + e.len && e.offset < offset.saturating_add(len));
        discard(seg, slot, offset, if overlaps { 0 } else { len });
        discarded += 1;
    }
    // Intact records can still overlap if a compaction was cut short.
    while let Some(slot) = history::first_conflict(&survivors, arena) {
        let e = survivors
            .iter()
            .position(|e| e.slot == slot)
            .expect("conflict is a survivor");
        let e = survivors.swap_remove(e);
        let _ = seg.clear_index(e.slot);
        discarded += 1;
    }
    // A dead writer may have bumped entry seqs past the header; never go back.
    seg.seq_cell()
        .store(max_seq, std::sync::atomic::Ordering::Release);
    crate::mailbox::repair_table(seg);
    discarded
}

/// Frees a slot and overwrites whatever part of its range lies in the arena.
fn discard(seg: &Segment, slot: usize, offset: u64, len: u64) {
    let _ = seg.set_index_state(slot, SLOT_FREE);
    if seg.arena_zero(offset, len).is_err() {
        tracing::warn!(slot, "discarded entry's range was outside the arena");
    }
    let _ = seg.clear_index(slot);
}

fn record_is_intact(seg: &Segment, offset: u64, len: u64) -> bool {
    let Ok(len_usize) = usize::try_from(len) else {
        return false;
    };
    if offset
        .checked_add(len)
        .is_none_or(|end| end > seg.geometry().arena_size)
    {
        return false;
    }
    let mut bytes = vec![0u8; len_usize];
    seg.arena_read(offset, &mut bytes).is_ok() && record::decode_record(&bytes).is_ok()
}
