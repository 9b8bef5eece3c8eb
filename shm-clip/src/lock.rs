//! The board lock, and when to repair.
//!
//! A process killed inside the critical section leaves the robust mutex in
//! the "owner died" state. The next locker gets it anyway, runs the
//! segment's repair hook (`repair.rs`, given to `Segment::open` by the
//! board: the lock knows nothing of entries or mailboxes), marks the mutex
//! consistent, and counts a recovery. Because that always ends in
//! `pthread_mutex_consistent`, no sequence of kills leaves the mutex
//! `ENOTRECOVERABLE`.
//!
//! Every holder also keeps the write generation (LAYOUT.md, "Rules"): odd
//! from just after locking to just before unlocking, so that a reader that
//! copied without the lock can tell whether a holder ran meanwhile.
//!
//! **Hand-off.** The robust mutex is not fair: an unlock wakes one waiter,
//! but a process that locks again at once (back-to-back copies of large
//! clips) takes the mutex before the woken waiter has run, and a paste or a
//! copy elsewhere waited through dozens of holds: up to 0.67 s behind
//! 32 MiB copies (BENCHMARKS.md, "Longest lock hold"). So a holder that
//! unlocks while someone waits, and wants the lock again soon, first yields
//! until the woken waiter has taken it, then queues behind it. It yields
//! for at most half as long as it held the lock (between [`HANDOFF_MIN`]
//! and [`HANDOFF_MAX`]): a woken waiter may need a while to be scheduled on
//! a busy machine, or may have been killed, and a short holder should not
//! wait long for it.

use std::marker::PhantomData;
use std::sync::atomic::{Ordering, fence};
use std::time::Duration;

use crate::format::off;
use crate::segment::Segment;
use crate::sys::LockError;
use crate::{Error, Result};

/// How long a locker waits before giving up on a stuck holder.
const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// The least and the most time for which an unlock that woke a waiter
/// leaves the mutex to it (module docs).
const HANDOFF_MIN: Duration = Duration::from_micros(200);
const HANDOFF_MAX: Duration = Duration::from_millis(20);

/// Nanoseconds on the coarse monotonic clock (a few milliseconds of
/// resolution, enough to size a hand-off), never 0. Every lock reads it, so
/// it must cost next to nothing: the coarse clock is a load from the vDSO
/// page, where `CLOCK_MONOTONIC` reads and scales the TSC.
fn mono_ns() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC_COARSE).map_or(1, |t| {
        let ns = i128::from(t.tv_sec()) * 1_000_000_000 + i128::from(t.tv_nsec());
        u64::try_from(ns).unwrap_or(u64::MAX).max(1)
    })
}

/// Proof that this thread holds the board lock; unlocks on drop.
///
/// `!Send`, as `std::sync::MutexGuard` is: a pthread mutex must be unlocked
/// by the thread that locked it (a robust one refuses anyone else with
/// `EPERM`, and the board would stay locked until this process died).
#[derive(Debug)]
pub(crate) struct LockGuard<'a> {
    seg: &'a Segment,
    /// When the lock was taken, on [`mono_ns`]'s clock.
    since: u64,
    _not_send: PhantomData<*const ()>,
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        // Even again, and past every value an optimistic reader may have
        // seen while we held the lock: what we wrote is published with it.
        let cell = self.seg.write_gen_cell();
        let generation = cell.load(Ordering::Relaxed);
        cell.store((generation | 1).wrapping_add(1), Ordering::Release);
        let mutex = self.seg.mutex();
        let waiters = mutex.has_waiters();
        if let Err(errno) = mutex.unlock() {
            tracing::error!(%errno, "unlocking the board failed");
        }
        let until = if waiters {
            let now = mono_ns();
            let held = Duration::from_nanos(now.saturating_sub(self.since));
            let leave = (held / 2).clamp(HANDOFF_MIN, HANDOFF_MAX);
            now.saturating_add(leave.as_nanos() as u64)
        } else {
            0
        };
        // Most unlocks find it 0 and leave it so: no store to share.
        if until != 0 || self.seg.handoff_until.load(Ordering::Relaxed) != 0 {
            self.seg.handoff_until.store(until, Ordering::Relaxed);
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
        self.leave_to_woken_waiter();
        let locked = self.mutex().lock(timeout).map_err(|e| match e {
            LockError::Timeout => Error::LockTimeout {
                waited_ms: timeout.as_millis() as u64,
            },
            LockError::NotRecoverable => Error::LockUnrecoverable,
            LockError::Other(errno) => Error::os("locking the board", errno),
        })?;
        // Odd before anything else is touched: the release fence orders the
        // store before every write of ours that an optimistic reader may
        // copy, so a reader that copied any of them sees the generation move.
        // A holder that died left it odd; it moves on all the same.
        let cell = self.write_gen_cell();
        let generation = cell.load(Ordering::Relaxed);
        cell.store(generation.wrapping_add(1) | 1, Ordering::Relaxed);
        fence(Ordering::Release);
        let guard = LockGuard {
            seg: self,
            since: mono_ns(),
            _not_send: PhantomData,
        };
        self.bump(off::LOCK_ACQUISITIONS);
        if locked.contended {
            self.bump(off::LOCK_CONTENDED);
        }
        if locked.owner_died {
            let discarded = self.repair_hook()(self);
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

    /// The hand-off (module docs): if our last unlock woke a waiter a
    /// moment ago, yields until someone has taken the mutex, or until the
    /// time that unlock left it.
    fn leave_to_woken_waiter(&self) {
        // A plain load first: the swap's locked instruction only when set.
        if self.handoff_until.load(Ordering::Relaxed) == 0 {
            return;
        }
        let until = self.handoff_until.swap(0, Ordering::Relaxed);
        let mutex = self.mutex();
        while mutex.looks_free() && mono_ns() < until {
            std::thread::yield_now();
        }
    }

    fn bump(&self, offset: usize) {
        self.set_header_u64(offset, self.header_u64(offset).wrapping_add(1));
    }
}
