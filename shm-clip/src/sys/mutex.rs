//! A robust, process-shared pthread mutex living inside a [`Mapping`].

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use nix::errno::Errno;

use super::Mapping;

/// How a lock was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Locked {
    /// The mutex was held by someone else when we asked.
    pub(crate) contended: bool,
    /// The previous owner died holding it: the protected state may be half
    /// updated and must be repaired before [`RawMutex::mark_consistent`].
    pub(crate) owner_died: bool,
}

/// Why a lock failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LockError {
    Timeout,
    NotRecoverable,
    Other(Errno),
}

/// A `pthread_mutex_t` at a fixed, checked place in a mapping.
#[derive(Debug)]
pub(crate) struct RawMutex<'a> {
    ptr: *mut libc::pthread_mutex_t,
    _mapping: &'a Mapping,
}

impl<'a> RawMutex<'a> {
    /// `size_of::<pthread_mutex_t>()` aligned bytes at `offset`, if they fit.
    fn place(mapping: &Mapping, offset: usize) -> Option<*mut libc::pthread_mutex_t> {
        let raw = mapping.raw(offset, size_of::<libc::pthread_mutex_t>())?;
        if !(raw as usize).is_multiple_of(align_of::<libc::pthread_mutex_t>()) {
            return None;
        }
        Some(raw.cast())
    }

    /// The mutex stored at `offset`; `None` if it would not fit or is misaligned.
    ///
    /// # Safety
    ///
    /// For as long as `'a`, the bytes at `offset` must hold a mutex that
    /// [`RawMutex::init`] initialised (by a process of this ABI), and nothing
    /// but `pthread_mutex_*` calls (and [`RawMutex::word`]'s atomic load of
    /// the lock word) may touch them. Locking bytes that are not
    /// an initialised mutex is undefined behaviour in glibc and musl alike.
    pub(crate) unsafe fn at(mapping: &'a Mapping, offset: usize) -> Option<Self> {
        Some(RawMutex {
            ptr: Self::place(mapping, offset)?,
            _mapping: mapping,
        })
    }

    /// Initialises the mutex at `offset` as robust and process-shared.
    /// Fails with `EINVAL` if it would not fit or is misaligned.
    ///
    /// # Safety
    ///
    /// Nobody else may use these bytes during the call: no thread or process
    /// may hold, wait on or initialise the mutex, and none may read or write
    /// its bytes. Memory that no other process looks at yet qualifies, such
    /// as a fresh segment before its version is published.
    pub(crate) unsafe fn init(mapping: &Mapping, offset: usize) -> Result<(), Errno> {
        let ptr = Self::place(mapping, offset).ok_or(Errno::EINVAL)?;
        let mut attr = MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
        // `attr` is initialised by pthread_mutexattr_init before any
        // other use and destroyed at the end. `ptr` points at
        // size_of::<pthread_mutex_t>() aligned bytes inside the mapping
        // (checked in `place`), which outlives the call. Concurrency: by the
        // caller's contract no other thread or process touches those bytes
        // while pthread_mutex_init writes them.
        // SAFETY: `attr` is initialised before use and `ptr` is aligned, in bounds and untouched by others meanwhile (argued above).
        unsafe {
            Errno::result(libc::pthread_mutexattr_init(attr.as_mut_ptr()))?;
            let result = (|| {
                check(libc::pthread_mutexattr_setpshared(
                    attr.as_mut_ptr(),
                    libc::PTHREAD_PROCESS_SHARED,
                ))?;
                check(libc::pthread_mutexattr_setrobust(
                    attr.as_mut_ptr(),
                    libc::PTHREAD_MUTEX_ROBUST,
                ))?;
                check(libc::pthread_mutex_init(ptr, attr.as_ptr()))
            })();
            libc::pthread_mutexattr_destroy(attr.as_mut_ptr());
            result
        }
    }

    /// Locks, waiting at most `timeout` if another process holds the mutex.
    pub(crate) fn lock(&self, timeout: Duration) -> Result<Locked, LockError> {
        // `self.ptr` is a valid, aligned pointer into the mapping, which
        // outlives `self`, and holds an initialised robust, process-shared
        // mutex (the contract of `at`). Concurrency: other processes may be
        // locking, unlocking or dying with it right now; that is what a
        // process-shared mutex is for, and the kernel's robust list hands us
        // EOWNERDEAD if a holder died.
        // SAFETY: a valid, initialised process-shared mutex, shared as designed (above).
        let first = unsafe { libc::pthread_mutex_trylock(self.ptr) };
        let (rc, contended) = if first == libc::EBUSY {
            (self.wait_in_slices(timeout), true)
        } else {
            (first, false)
        };
        match rc {
            0 => Ok(Locked {
                contended,
                owner_died: false,
            }),
            libc::EOWNERDEAD => Ok(Locked {
                contended,
                owner_died: true,
            }),
            libc::ETIMEDOUT => Err(LockError::Timeout),
            libc::ENOTRECOVERABLE => Err(LockError::NotRecoverable),
            errno => Err(LockError::Other(Errno::from_raw(errno))),
        }
    }

    /// `pthread_mutex_timedlock` in slices of [`WAIT_SLICE`] until `timeout`.
    ///
    /// One long wait trusts a single futex wake-up, and a wake-up can be
    /// lost: an unlock wakes one waiter, and a waiter killed after it was
    /// woken but before it ran takes the wake-up with it (the kernel's
    /// robust list wakes another only for a dying *owner*). The others then
    /// sleep on a free mutex. The chaos test, which kills processes in and
    /// around the lock, saw exactly that: waiters (its lock probe among
    /// them) timed out after 10 s where no holder can hold the mutex so
    /// long, and a `trylock` right after an expired slice found it free. `CLOCK_REALTIME` stepping does the same to a long
    /// wait. Each slice looks at the mutex again, so a lost wake-up costs a
    /// slice, not the timeout.
    fn wait_in_slices(&self, timeout: Duration) -> libc::c_int {
        let until = std::time::Instant::now() + timeout;
        loop {
            let left = until.saturating_duration_since(std::time::Instant::now());
            let deadline = deadline_after(left.min(WAIT_SLICE));
            // SAFETY: as in `lock` (valid, initialised, shared with other
            // processes only through pthread calls); `deadline` is a
            // timespec on our stack.
            let rc = unsafe { libc::pthread_mutex_timedlock(self.ptr, &raw const deadline) };
            if rc != libc::ETIMEDOUT || left <= WAIT_SLICE {
                return rc;
            }
        }
    }

    /// Declares the state repaired after an `owner_died` lock.
    pub(crate) fn mark_consistent(&self) -> Result<(), Errno> {
        // Valid, initialised mutex as in `lock`. The call only changes state
        // if this thread holds the mutex after EOWNERDEAD; otherwise a robust
        // mutex returns EINVAL or EPERM. Other processes are blocked in lock
        // meanwhile, or time out: they do not touch the bytes.
        // SAFETY: a valid, initialised mutex; only its holder changes it (above).
        check(unsafe { libc::pthread_mutex_consistent(self.ptr) })
    }

    /// glibc's lock word, loaded atomically: the first `int` of a
    /// `pthread_mutex_t` (`__data.__lock` on Linux), where a robust mutex
    /// keeps its owner's TID, with [`FUTEX_WAITERS`] set while anyone sleeps
    /// on it. Read as a hint for fairness, never written: a libc of another
    /// layout only makes [`Self::has_waiters`] and [`Self::looks_free`] wrong.
    fn word(&self) -> u32 {
        // Bounds: `ptr` points at a whole, aligned `pthread_mutex_t` inside
        // the mapping (the contract of `at`), whose first 4 bytes are an
        // aligned `int`, and the mapping outlives `self`. Concurrency: other
        // processes lock, unlock and die with it right now, but glibc and
        // the kernel change that word only with atomic instructions, so an
        // atomic load of it is what they expect anyone to do.
        // SAFETY: in bounds and aligned, and shared only atomically (above).
        let word = unsafe { AtomicU32::from_ptr(self.ptr.cast::<u32>()) };
        word.load(Ordering::Relaxed)
    }

    /// Whether another thread, here or in another process, sleeps waiting
    /// for the mutex. A hint (see [`Self::word`]).
    pub(crate) fn has_waiters(&self) -> bool {
        cfg!(target_env = "gnu") && self.word() & FUTEX_WAITERS != 0
    }

    /// Whether nobody holds the mutex. A hint (see [`Self::word`]).
    pub(crate) fn looks_free(&self) -> bool {
        !cfg!(target_env = "gnu") || self.word() & FUTEX_TID_MASK == 0
    }

    /// Unlocks a mutex that this thread holds.
    pub(crate) fn unlock(&self) -> Result<(), Errno> {
        // Valid, initialised mutex as in `lock`. A robust mutex checks its
        // owner, so unlocking one this thread does not hold returns EPERM and
        // changes nothing; the lock guard, the only caller, is `!Send` so it
        // unlocks on the thread that locked. Other processes may be waiting
        // in lock: unlock is how they get it.
        // SAFETY: a valid, initialised mutex; the owner check makes a stray unlock harmless (above).
        check(unsafe { libc::pthread_mutex_unlock(self.ptr) })
    }
}

/// The kernel's robust-futex bits (`linux/futex.h`): someone sleeps on the
/// word, and the owner's TID.
const FUTEX_WAITERS: u32 = 0x8000_0000;
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;

/// How long one wait for the mutex trusts a single wake-up.
const WAIT_SLICE: Duration = Duration::from_millis(100);

fn check(rc: libc::c_int) -> Result<(), Errno> {
    if rc == 0 {
        Ok(())
    } else {
        Err(Errno::from_raw(rc))
    }
}

/// `timeout` from now on `CLOCK_REALTIME`, which `pthread_mutex_timedlock` uses.
fn deadline_after(timeout: Duration) -> libc::timespec {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        + timeout;
    libc::timespec {
        tv_sec: now.as_secs() as libc::time_t,
        tv_nsec: libc::c_long::from(now.subsec_nanos() as i32),
    }
}
