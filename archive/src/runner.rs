//! Running an archiver until it is told to stop: sync, let a burst settle,
//! then sleep in `poll(2)` on the board's mailbox and a control socket,
//! sync again.
//!
//! Deletes are coalesced: a look applies them ([`Archiver::apply`]) and the
//! scrub that takes their bytes out of the files (a rewrite of the whole
//! file, seconds for a large archive) waits until no look has deleted
//! anything for a quiet time, at most a longer time after the first
//! ([`ScrubTiming`]: 0.4 s and 3 s by default): ten `rm`s in a row cost one rewrite, not ten. The scrub's report
//! ([`crate::Synced::scrubbed`]) is the point at which those deletes are
//! applied. A stop scrubs before it returns; a kill leaves the scrub due on
//! disk for the next archiver's first look.
//!
//! A full disk is not fatal, and neither is an archive that another program
//! keeps busy past the busy timeout (a write or a scrub left open): one
//! warning, then a retry every few seconds (and at every notification) until
//! a sync succeeds, which is logged once. The board never waits for any of
//! this.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::{Archiver, Error, Result};

/// How often a full disk is retried.
const FULL_RETRY: Duration = Duration::from_secs(5);

/// How often a look that found the archive busy is retried. Short: the
/// look already waited out the busy timeout.
const BUSY_RETRY: Duration = Duration::from_secs(1);

/// Why the last look could not archive, while that lasts: the run loop
/// retries it after [`Stalled::retry`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stalled {
    /// The disk is full.
    Full,
    /// Another program held the archive past the busy timeout.
    Busy,
}

impl Stalled {
    fn retry(self) -> Duration {
        match self {
            Stalled::Full => FULL_RETRY,
            Stalled::Busy => BUSY_RETRY,
        }
    }

    /// What the first look that succeeds again logs.
    fn resumed(self) -> &'static str {
        match self {
            Stalled::Full => "archiving resumed: there is space again",
            Stalled::Busy => "archiving resumed: the archive is free again",
        }
    }
}

/// How often a scrub that another program kept from finishing
/// ([`crate::Archive::scrub`]) is retried.
const SCRUB_RETRY: Duration = Duration::from_secs(2);

/// When the run loop's deferred scrub runs ([`run`]): after [`quiet`]
/// without a look that deleted anything, at most [`defer_max`] after the
/// first. [`ScrubTiming::default`] is what the tray and `archive run` use.
///
/// [`quiet`]: ScrubTiming::quiet
/// [`defer_max`]: ScrubTiming::defer_max
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScrubTiming {
    /// How long after the last look that deleted something the scrub waits
    /// for more. 0.4 s: longer than the gaps of a burst of `rm`s, or of
    /// clicks on a history's delete buttons, short enough that a deleted
    /// secret leaves the disk within a second or so.
    pub quiet: Duration,
    /// The longest a scrub waits behind removals that keep coming. 3 s.
    pub defer_max: Duration,
}

impl Default for ScrubTiming {
    fn default() -> ScrubTiming {
        ScrubTiming {
            quiet: Duration::from_millis(400),
            defer_max: Duration::from_secs(3),
        }
    }
}

/// When the due scrub runs: the first look that left it due, and its time.
#[derive(Clone, Copy, Debug)]
struct Due {
    first: Instant,
    at: Instant,
}

impl Due {
    /// A scrub due after a look at `now` (that deleted, or found one due):
    /// `timing.quiet` later, pushed back by each further deleting look up
    /// to `timing.defer_max` after the first.
    fn after(due: Option<Due>, now: Instant, timing: ScrubTiming) -> Due {
        let first = due.map_or(now, |d| d.first);
        Due {
            first,
            at: (now + timing.quiet).min(first + timing.defer_max),
        }
    }

    /// The same scrub, after a try at `now` left it due: [`SCRUB_RETRY`]
    /// later (another program kept it from finishing), or at the end of
    /// the archiver's backoff (`backoff`: no room, starved) if that is
    /// later, so that the loop does not wake every few seconds for a
    /// scrub that would return at once.
    fn retry(self, now: Instant, backoff: Option<Instant>) -> Due {
        let soon = now + SCRUB_RETRY;
        Due {
            first: self.first,
            at: backoff.map_or(soon, |b| b.max(soon)),
        }
    }
}

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
/// destroyed, calling `synced` after every successful look and after every
/// deferred scrub that finished ([`crate::Synced::scrubbed`]). Errors other
/// than a full disk or a busy archive end the run.
pub fn run(
    archiver: &mut Archiver,
    wakeup: &Wakeup,
    timing: ScrubTiming,
    synced: &mut dyn FnMut(&crate::Synced),
) -> Result<Ended> {
    let mut sub = archiver.board().subscribe()?;
    let mut stalled: Option<Stalled> = None;
    // Whether something may have changed: the first look, a wake-up, a note
    // or the retry of a stalled look. A wake-up of the subscription without
    // a note (its segment's file touched or chmod-ed) costs no sync.
    let mut look = true;
    let mut due: Option<Due> = None;
    loop {
        if look {
            match look_once(archiver, &mut stalled, synced)? {
                Looked::Ended(ended) => return Ok(ended),
                Looked::Deleted => due = Some(Due::after(due, Instant::now(), timing)),
                Looked::Nothing => {}
            }
            settle(wakeup)?;
        }
        // A scrub left due by another process (or a failed one) is read
        // from the disk: it is this archiver's to finish.
        if due.is_none() && archiver.archive().scrub_pending() {
            due = Some(Due::after(None, Instant::now(), timing));
        }
        let mut wait = stalled.map(Stalled::retry);
        if let Some(d) = due {
            let left = d.at.saturating_duration_since(Instant::now());
            wait = Some(wait.map_or(left, |w| w.min(left)));
        }
        let timeout = wait.map_or(PollTimeout::NONE, |w| {
            PollTimeout::from(u16::try_from(w.as_millis()).unwrap_or(u16::MAX))
        });
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
        // Every pending note at once: one sync answers them all.
        look = woken || stalled.is_some();
        loop {
            match sub.try_recv() {
                Ok(Some(_)) => look = true,
                Ok(None) => break,
                Err(shm_clip::Error::BoardDestroyed { .. }) => return Ok(Ended::BoardDestroyed),
                Err(e) => return Err(e.into()),
            }
        }
        // The deferred scrub, once its time came, notes pending or not (the
        // look after it archives them): a stream of copies does not put it
        // off past `timing.defer_max`.
        if let Some(d) = due
            && Instant::now() >= d.at
        {
            let done = archiver.scrub_now();
            due = done
                .scrub_pending
                .then(|| d.retry(Instant::now(), archiver.scrub_backoff_until()));
            // Reported when it finished: the point the deletes are applied.
            if done.scrubbed {
                synced(&done);
            }
        }
    }
}

/// What one look in the run loop came to.
enum Looked {
    /// The run ends.
    Ended(Ended),
    /// It deleted archived clips: their scrub is due.
    Deleted,
    /// Anything else (archived, updated, a full disk).
    Nothing,
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

/// One look ([`Archiver::apply`]: the scrub is deferred), with the stalled
/// state kept across calls: a full disk or a busy archive is warned about
/// once and retried later; a destroyed board ends the run, and so does
/// another error.
fn look_once(
    archiver: &mut Archiver,
    stalled: &mut Option<Stalled>,
    synced: &mut dyn FnMut(&crate::Synced),
) -> Result<Looked> {
    match archiver.apply() {
        Ok(done) => {
            if let Some(was) = stalled.take() {
                tracing::warn!(path = %archiver.archive().path().display(), "{}", was.resumed());
            }
            tracing::debug!(?done, "archive synced");
            synced(&done);
            if done.deleted > 0 {
                return Ok(Looked::Deleted);
            }
        }
        Err(e) if e.is_disk_full() => {
            if *stalled != Some(Stalled::Full) {
                tracing::warn!(
                    "{e}; the board keeps working, archiving is retried every {}s",
                    FULL_RETRY.as_secs()
                );
                *stalled = Some(Stalled::Full);
            }
        }
        Err(e) if e.is_busy() => {
            if *stalled != Some(Stalled::Busy) {
                tracing::warn!(
                    "{e}; another program holds the archive busy (a write or a scrub left \
                     open); the board keeps working, archiving is retried every {}s",
                    BUSY_RETRY.as_secs()
                );
                *stalled = Some(Stalled::Busy);
            }
        }
        Err(Error::Board(shm_clip::Error::BoardDestroyed { .. })) => {
            return Ok(Looked::Ended(Ended::BoardDestroyed));
        }
        Err(e) => return Err(e),
    }
    Ok(Looked::Nothing)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deleting looks at 0, 0.3, 0.6 … s (each within the quiet time of
    /// the last) push the scrub back, but never past `defer_max` after the
    /// first; a quiet time after the last brings it.
    #[test]
    fn a_burst_of_deleting_looks_defers_the_scrub_up_to_its_limit() {
        let timing = ScrubTiming::default();
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let first = Due::after(None, t0, timing);
        assert_eq!((first.first, first.at), (t0, ms(400)));
        let second = Due::after(Some(first), ms(300), timing);
        assert_eq!((second.first, second.at), (t0, ms(700)));
        let mut d = second;
        for n in 2..=9 {
            d = Due::after(Some(d), ms(300 * n), timing);
        }
        assert_eq!(d.at, ms(3000), "pushed past defer_max");
        // Another timing: the burst test's long quiet time.
        let long = ScrubTiming {
            quiet: Duration::from_secs(600),
            defer_max: Duration::from_secs(1200),
        };
        assert_eq!(Due::after(None, t0, long).at, t0 + Duration::from_secs(600));
    }

    #[test]
    fn a_scrub_kept_from_finishing_is_retried_soon_or_at_the_end_of_the_backoff() {
        let t0 = Instant::now();
        let d = Due::after(None, t0, ScrubTiming::default());
        let now = t0 + Duration::from_secs(1);
        assert_eq!(d.retry(now, None).at, now + SCRUB_RETRY);
        let backoff = now + Duration::from_secs(60);
        let r = d.retry(now, Some(backoff));
        assert_eq!((r.first, r.at), (t0, backoff));
        // A backoff that ends sooner than the retry does not hurry it.
        assert_eq!(
            d.retry(now, Some(now + Duration::from_millis(1))).at,
            now + SCRUB_RETRY
        );
    }
}
