//! Noticing, without polling, that a board's segment was removed.
//!
//! `destroy` and a plain `rm /dev/shm/shm-clip.UID.NAME` both unlink the
//! segment's name while other processes still have it mapped: they would go
//! on reading and serving clips that nobody can reach any more. An inotify
//! watch on the segment's own file reports the unlink (the link count
//! changes: `IN_ATTRIB`) as an event, so a subscriber's `poll` wakes for it
//! like for a notification, and only then pays for the `fstat` that decides
//! (`Segment::unlinked`: `st_nlink == 0`). A watch on the file, not on
//! `/dev/shm`: a directory watch woke every subscriber whenever any program
//! removed any file there.
//! `Subscription::recv` waits in its queue instead (one system call per
//! wake-up, not two): it sees `destroy` by its farewell note, and reads this
//! watch once a second while no note comes, so a hand-made `rm` is seen
//! within about a second there.
//!
//! Without inotify (its per-user limits reached), or when the name no
//! longer leads to the segment we mapped, the subscription checks `fstat`
//! on every wake-up instead: `destroy` sends every mailbox a note after the
//! unlink, so it is still seen at once; a hand-made `rm` is then seen at the
//! next notification.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use nix::sys::stat::{fstat, stat};

/// An inotify watch on one segment's file, for its removal.
#[derive(Debug)]
pub(crate) struct RemovalWatch {
    inotify: Inotify,
}

impl RemovalWatch {
    /// Watches the file at `path`, which must be the segment mapped through
    /// `mapped`, for its unlink or rename. `ESTALE` when the name already
    /// leads elsewhere or nowhere: the watch would be on the wrong file.
    pub(crate) fn new(path: &Path, mapped: BorrowedFd<'_>) -> Result<RemovalWatch, Errno> {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
        inotify.add_watch(
            path,
            AddWatchFlags::IN_ATTRIB | AddWatchFlags::IN_DELETE_SELF | AddWatchFlags::IN_MOVE_SELF,
        )?;
        // The watch is on whatever the name led to just now. Our file, once
        // unlinked, never comes back under a name: if the name leads to it
        // after the watch was added, it did when the watch was added.
        let named = stat(path).map_err(|_| Errno::ESTALE)?;
        let ours = fstat(mapped)?;
        if (named.st_dev, named.st_ino) != (ours.st_dev, ours.st_ino) {
            return Err(Errno::ESTALE);
        }
        Ok(RemovalWatch { inotify })
    }

    /// Reads every pending event; true if there was one. Every event is of
    /// our file (a chmod or touch counts too: `fstat` then decides), and an
    /// overflowed queue may have lost one.
    pub(crate) fn drain(&self) -> bool {
        let mut any = false;
        loop {
            match self.inotify.read_events() {
                Ok(events) if events.is_empty() => return any,
                Ok(_) => any = true,
                Err(Errno::EINTR) => {}
                // EAGAIN: nothing more. Anything else: let fstat decide.
                Err(Errno::EAGAIN) => return any,
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
