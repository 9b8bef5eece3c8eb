//! This process's id, cached. glibc's `getpid()` is a system call on every
//! call (it stopped caching in 2.25), and a copy needs the pid for its clip
//! id and its notification: a tenth of a small copy's time went there.
//!
//! A forked child must not keep its parent's pid: ids would repeat, and
//! notes would name the wrong process. A `pthread_atfork` child handler
//! forgets the cached value, registered before anything is cached.

use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

/// 0: not known (never asked, or forgotten in a forked child).
static PID: AtomicU32 = AtomicU32::new(0);
/// Stored instead of a pid when the fork handler could not be registered:
/// then nothing is cached, and every call asks the kernel.
const UNCACHED: u32 = u32::MAX;
static FORGET_IN_CHILDREN: Once = Once::new();

/// `std::process::id()`, without a system call after the first.
pub(crate) fn pid() -> u32 {
    let cached = PID.load(Ordering::Relaxed);
    if cached != 0 && cached != UNCACHED {
        return cached;
    }
    FORGET_IN_CHILDREN.call_once(|| {
        let handler: extern "C" fn() = forget_pid;
        // The child handler only stores to an atomic, which is
        // async-signal-safe, as code that runs in a forked child of a
        // multithreaded process must be; it is a plain `extern "C" fn` that
        // lives as long as the program. No shared memory is involved.
        // Registration fails only with ENOMEM: then nothing is cached.
        // SAFETY: the handler is async-signal-safe and 'static (above).
        let status = unsafe { libc::pthread_atfork(None, None, Some(handler)) };
        if status != 0 {
            PID.store(UNCACHED, Ordering::Relaxed);
        }
    });
    let pid = std::process::id();
    if PID.load(Ordering::Relaxed) != UNCACHED {
        PID.store(pid, Ordering::Relaxed);
    }
    pid
}

extern "C" fn forget_pid() {
    PID.store(0, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::pid;

    #[test]
    fn a_forked_child_gets_its_own_pid_not_the_cached_one() {
        let parent = pid();
        assert_eq!(parent, std::process::id());
        // SAFETY: the child runs only async-signal-safe code (atomic loads
        // and stores, getpid, _exit): no allocation, no lock that another
        // thread of the test harness might have held at the fork.
        match unsafe { libc::fork() } {
            0 => {
                let ok = pid() == std::process::id() && pid() != parent;
                // SAFETY: ends the child without running the parent's
                // atexit handlers or destructors.
                unsafe { libc::_exit(i32::from(!ok)) }
            }
            -1 => panic!("fork failed"),
            child => {
                let mut status = 0;
                // SAFETY: waits for our own child; `status` is a local.
                assert_eq!(unsafe { libc::waitpid(child, &raw mut status, 0) }, child);
                assert!(
                    libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
                    "the forked child saw its parent's pid"
                );
            }
        }
        assert_eq!(pid(), parent, "the parent keeps its own");
    }
}
