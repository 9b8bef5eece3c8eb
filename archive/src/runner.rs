//! Running an archiver until it is told to stop: sync, let a burst settle,
//! then sleep in `poll(2)` on the board's mailbox and a control socket,
//! sync again.
//!
//! A full disk is not fatal: one warning, then a retry every few seconds
//! (and at every notification) until a sync succeeds, which is logged once.
//! The board never waits for any of this.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::{Archiver, Error, Result};

/// How often a full disk is retried.
const FULL_RETRY: Duration = Duration::from_secs(5);

/// How often a scrub that another program kept from finishing
/// ([`crate::Archive::scrub`]) is retried while the board is quiet.
const SCRUB_RETRY: Duration = Duration::from_secs(2);

/// After each sync the archiver waits this long before it listens to the
/// board again (a stop or wake request ends the wait): the notes of a
/// burst of copies pile up in its queue (a full queue drops them; one sync
/// answers all) instead of each one waking it, a wake-up that the copying
/// process pays for inside its notification, and the burst is archived in
/// one transaction. A lone copy is still archived at once. 20 ms: a board
/// of the default 200 entries would have to take 10,000 copies a second
/// before one is evicted unseen (BENCHMARKS.md, "Archive, Session 5").
const SETTLE: Duration = Duration::from_millis(20);

/// Why [`run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// The [`Control`] asked it to stop, or was dropped.
    Stopped,
    /// The board was destroyed; open the new one and run again.
    BoardDestroyed,
}

/// The other end of a running archiver: wake it (after this process's own
/// commits, which the board does not announce to the process that made
/// them) or stop it.
#[derive(Debug)]
pub struct Control(UnixStream);

/// The archiver's end of its [`Control`].
#[derive(Debug)]
pub struct Wakeup(UnixStream);

/// A connected [`Control`] and [`Wakeup`].
pub fn control() -> Result<(Control, Wakeup)> {
    let (a, b) = UnixStream::pair().map_err(|source| Error::Io {
        path: "socketpair".into(),
        source,
    })?;
    for s in [&a, &b] {
        s.set_nonblocking(true).map_err(|source| Error::Io {
            path: "socketpair".into(),
            source,
        })?;
    }
    Ok((Control(a), Wakeup(b)))
}

impl Control {
    /// Makes the archiver look at the board now.
    pub fn wake(&self) {
        // A full socket already holds a wake-up.
        let _ = (&self.0).write(b"w");
    }

    /// Makes the archiver return [`Ended::Stopped`].
    pub fn stop(&self) {
        let _ = (&self.0).write(b"q");
    }
}

impl Wakeup {
    /// Reads what is pending: true when asked to stop (or the other end is gone).
    fn drain(&self) -> bool {
        let mut buf = [0u8; 64];
        loop {
            match (&self.0).read(&mut buf) {
                Ok(0) => return true,
                Ok(n) => {
                    if buf[..n].contains(&b'q') {
                        return true;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return true,
            }
        }
    }
}

/// Runs `archiver` until `wakeup`'s [`Control`] stops it or the board is
/// destroyed, calling `synced` after every successful sync. Errors other
/// than a full disk end the run.
pub fn run(
    archiver: &mut Archiver,
    wakeup: &Wakeup,
    synced: &mut dyn FnMut(&crate::Synced),
) -> Result<Ended> {
    let mut sub = archiver.board().subscribe()?;
    let mut full = false;
    // Whether something may have changed: the first look, a wake-up, a note
    // or the full-disk retry. The removal watch is on the whole of
    // `/dev/shm`, so any other board's removal wakes the poll too; such a
    // wake-up brings no note and costs no sync.
    let mut look = true;
    loop {
        if look {
            if let Some(ended) = look_once(archiver, &mut full, synced)? {
                return Ok(ended);
            }
            settle(wakeup)?;
        }
        let scrub = archiver.archive().scrub_pending();
        let timeout = if full {
            PollTimeout::from(FULL_RETRY.as_millis() as u16)
        } else if scrub {
            PollTimeout::from(SCRUB_RETRY.as_millis() as u16)
        } else {
            PollTimeout::NONE
        };
        let mut fds = [
            PollFd::new(sub.as_fd(), PollFlags::POLLIN),
            PollFd::new(wakeup.0.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, timeout) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(errno) => {
                return Err(Error::Io {
                    path: "poll".into(),
                    source: errno.into(),
                });
            }
        }
        let woken = fds[1].revents().is_some_and(|r| !r.is_empty());
        if woken && wakeup.drain() {
            // A last look, so that what was committed before the stop was
            // asked for is archived (the tray stops it when it quits).
            match archiver.sync() {
                Ok(done) => synced(&done),
                Err(e) => tracing::warn!("{e}; the last changes before stopping were not archived"),
            }
            return Ok(Ended::Stopped);
        }
        // Every pending note at once: one sync answers them all (and
        // finishes a pending scrub); a timeout with a scrub pending is a
        // look too.
        look = woken || full || scrub;
        loop {
            match sub.try_recv() {
                Ok(Some(_)) => look = true,
                Ok(None) => break,
                Err(shm_clip::Error::BoardDestroyed { .. }) => return Ok(Ended::BoardDestroyed),
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Waits [`SETTLE`], or until `wakeup` has something to read (left for the
/// next poll to read).
fn settle(wakeup: &Wakeup) -> Result<()> {
    let mut fds = [PollFd::new(wakeup.0.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, PollTimeout::from(SETTLE.as_millis() as u16)) {
        Ok(_) | Err(nix::errno::Errno::EINTR) => Ok(()),
        Err(errno) => Err(Error::Io {
            path: "poll".into(),
            source: errno.into(),
        }),
    }
}

/// One sync, with the full-disk state kept across calls: a full disk is
/// retried later; a destroyed board ends the run, and so does another error.
fn look_once(
    archiver: &mut Archiver,
    full: &mut bool,
    synced: &mut dyn FnMut(&crate::Synced),
) -> Result<Option<Ended>> {
    match archiver.sync() {
        Ok(done) => {
            if *full {
                tracing::warn!(path = %archiver.archive().path().display(), "archiving resumed: there is space again");
                *full = false;
            }
            tracing::debug!(?done, "archive synced");
            synced(&done);
        }
        Err(e) if e.is_disk_full() => {
            if !*full {
                tracing::warn!(
                    "{e}; the board keeps working, archiving is retried every {}s",
                    FULL_RETRY.as_secs()
                );
                *full = true;
            }
        }
        Err(Error::Board(shm_clip::Error::BoardDestroyed { .. })) => {
            return Ok(Some(Ended::BoardDestroyed));
        }
        Err(e) => return Err(e),
    }
    Ok(None)
}
