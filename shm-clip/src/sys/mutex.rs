//! A robust, process-shared pthread mutex living inside a [`Mapping`].

use std::mem::MaybeUninit;
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
    /// The mutex stored at `offset`; `None` if it would not fit or is misaligned.
    pub(crate) fn at(mapping: &'a Mapping, offset: usize) -> Option<Self> {
        let raw = mapping.raw(offset, size_of::<libc::pthread_mutex_t>())?;
        if !(raw as usize).is_multiple_of(align_of::<libc::pthread_mutex_t>()) {
            return None;
        }
        Some(RawMutex {
            ptr: raw.cast(),
            _mapping: mapping,
        })
    }

    /// Initialises the mutex as robust and process-shared.
    ///
    /// Only the creator of a segment calls this, before the segment is
    /// published, so no other process can be using the memory yet.
    pub(crate) fn init(&self) -> Result<(), Errno> {
        let mut attr = MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
        // `self.ptr` points at size_of::<pthread_mutex_t>() aligned bytes
        // inside the mapping (checked in `at`), owned by the creator alone.
        // SAFETY: `attr` is initialised by pthread_mutexattr_init before any
        // other use and destroyed at the end; `self.ptr` is valid (above).
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
                check(libc::pthread_mutex_init(self.ptr, attr.as_ptr()))
            })();
            libc::pthread_mutexattr_destroy(attr.as_mut_ptr());
            result
        }
    }

    /// Locks, waiting at most `timeout` if another process holds the mutex.
    pub(crate) fn lock(&self, timeout: Duration) -> Result<Locked, LockError> {
        // SAFETY: `self.ptr` is a valid, aligned pointer into the mapping,
        // which outlives `self`; the mutex was initialised by the creator
        // before the segment's version was published.
        let first = unsafe { libc::pthread_mutex_trylock(self.ptr) };
        let (rc, contended) = if first == libc::EBUSY {
            let deadline = deadline_after(timeout);
            // SAFETY: as above; `deadline` is a valid timespec on our stack.
            (
                unsafe { libc::pthread_mutex_timedlock(self.ptr, &raw const deadline) },
                true,
            )
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

    /// Declares the state repaired after an `owner_died` lock.
    pub(crate) fn mark_consistent(&self) -> Result<(), Errno> {
        // SAFETY: valid pointer as above; we hold the lock (after EOWNERDEAD).
        check(unsafe { libc::pthread_mutex_consistent(self.ptr) })
    }

    /// Unlocks a mutex that this thread holds.
    pub(crate) fn unlock(&self) -> Result<(), Errno> {
        // SAFETY: valid pointer as above; callers only unlock what they locked
        // (the lock guard is the only caller).
        check(unsafe { libc::pthread_mutex_unlock(self.ptr) })
    }
}

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
