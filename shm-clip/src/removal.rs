//! Noticing, without polling, that a board's segment was removed.
//!
//! `destroy` and a plain `rm /dev/shm/shm-clip.UID.NAME` both unlink the
//! segment's name while other processes still have it mapped: they would go
//! on reading and serving clips that nobody can reach any more. An inotify
//! watch on `/dev/shm` reports the removal as an event, so a subscriber's
//! `poll` wakes for it like for a notification, and only then pays for the
//! `fstat` that decides (`Segment::unlinked`: `st_nlink == 0`).
//! `Subscription::recv` waits in its queue instead (one system call per
//! wake-up, not two): it sees `destroy` by its farewell note, and reads this
//! watch once a second while no note comes, so a hand-made `rm` is seen
//! within about a second there.
//!
//! Without inotify (its per-user limits reached), the subscription checks
//! `fstat` on every wake-up instead: `destroy` sends every mailbox a note
//! after the unlink, so it is still seen at once; a hand-made `rm` is then
//! seen at the next notification.

use std::os::fd::{AsFd, BorrowedFd};

use nix::errno::Errno;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

/// Where POSIX shared memory lives on Linux.
const SHM_DIR: &str = "/dev/shm";

/// An inotify watch for the removal of one name in `/dev/shm`.
#[derive(Debug)]
pub(crate) struct RemovalWatch {
    inotify: Inotify,
    /// The file name in `/dev/shm`: the segment name without its `/`.
    file: String,
}

impl RemovalWatch {
    /// Watches for `shm_name` (`/shm-clip.UID.NAME`) being removed or renamed.
    pub(crate) fn new(shm_name: &str) -> Result<RemovalWatch, Errno> {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
        inotify.add_watch(
            SHM_DIR,
            AddWatchFlags::IN_DELETE | AddWatchFlags::IN_MOVED_FROM,
        )?;
        Ok(RemovalWatch {
            inotify,
            file: shm_name.trim_start_matches('/').to_owned(),
        })
    }

    /// Reads every pending event; true if one may concern our segment (an
    /// overflowed queue may have lost one, so it counts too).
    pub(crate) fn drain(&self) -> bool {
        let mut ours = false;
        loop {
            match self.inotify.read_events() {
                Ok(events) if events.is_empty() => return ours,
                Ok(events) => {
                    ours |= events.iter().any(|e| {
                        e.mask.contains(AddWatchFlags::IN_Q_OVERFLOW)
                            || e.name.as_ref().is_some_and(|n| *n == *self.file)
                    });
                }
                Err(Errno::EINTR) => {}
                // EAGAIN: nothing more. Anything else: let fstat decide.
                Err(Errno::EAGAIN) => return ours,
                Err(_) => return true,
            }
        }
    }
}

impl AsFd for RemovalWatch {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inotify.as_fd()
    }
}
