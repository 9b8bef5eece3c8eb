//! The watcher: every new local change, in order, to the publisher.
//!
//! It is a task on the runtime, not a thread of its own. The board's
//! subscription is a pollable descriptor (an epoll set over its queue and
//! its removal watch), so it waits in the runtime's own epoll set: a copy's
//! note wakes the worker that then reads the change and, when the watcher
//! yields, runs the publisher, which was woken on the same worker. A
//! watcher thread woke first and then had to wake a worker, and waking an
//! idle CPU was about a tenth of a small clip's whole way on this box
//! (BENCHMARKS.md, "Bridge", session 10).
//!
//! The removal watch covers all of /dev/shm, so another file's removal
//! there wakes the watcher too, for a look at an empty queue.

use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use shm_clip::Subscription;
use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc::UnboundedSender;

use crate::error::{Error, Result};
use crate::local::{Local, LocalCommit};

/// How long the watcher waits for a note before it looks anyway. A note
/// is what wakes it; the look also reads the removal watch, which is how a
/// board removed by hand (without `destroy`'s notes) is noticed where
/// inotify is missing, as the library's own blocking `recv` does.
const REMOVAL_CHECK: Duration = Duration::from_secs(1);

/// The subscription as tokio's `AsyncFd` takes it.
struct Watched(Subscription);

impl AsRawFd for Watched {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

/// Puts the subscription's descriptor in the runtime's epoll set.
///
/// `AsyncFd::new` is deprecated (tokio#8587) because an `AsRawFd` that
/// returned another descriptor later, or one closed while registered,
/// would leave the reactor watching a number that may by then name some
/// other file. Neither can happen here: [`Watched`] is private to this
/// file and owns the `Subscription`, whose epoll descriptor is opened when
/// it is made and closed only when it is dropped; `as_raw_fd` always
/// returns that one; nothing here replaces the value inside the `AsyncFd`
/// (no `mem::replace` through `get_mut`); and `AsyncFd` deregisters before
/// it drops what it owns. The replacement, `AsyncFd::register`, would need
/// a caller-checked precondition, which this crate's top-level lint
/// forbids: such code lives only in the library's `sys/`.
#[expect(
    deprecated,
    reason = "the one safe constructor; its precondition holds (above)"
)]
fn register(watched: Watched) -> std::io::Result<AsyncFd<Watched>> {
    AsyncFd::new(watched)
}

/// A watcher that has subscribed and taken up the watch, not yet running.
pub struct Watcher {
    local: Arc<Local>,
    after: u64,
    sub: AsyncFd<Watched>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("board", self.local.board.name())
            .field("after", &self.after)
            .finish_non_exhaustive()
    }
}

impl Watcher {
    /// Subscribes to the board and takes up the watch after board seq
    /// `after`. Called before any other task of the bridge runs: the
    /// follower's first write must find the watch taken up (what is
    /// current then is not the user's news), and a board that cannot be
    /// watched (the queue limit) stops the bridge before it applies
    /// anything. Within the runtime, which the registration needs.
    pub fn start(local: Arc<Local>, after: u64) -> Result<Watcher> {
        // Subscribe before the first scan, so no commit falls between the two.
        let sub = local.board.subscribe().map_err(|e| local.err(e))?;
        local.resume_after(after)?;
        let sub = register(Watched(sub)).map_err(|source| Error::Io {
            path: format!("the mailbox of board {}", local.board.name()).into(),
            source,
        })?;
        Ok(Watcher { local, after, sub })
    }

    /// Sends every new local change to the publisher, in order. Ends when
    /// the board is destroyed (an error) or the publisher is gone.
    pub async fn run(mut self, tx: UnboundedSender<LocalCommit>) -> Result<()> {
        let mut last = self.after;
        loop {
            for change in self.changes_after(last)? {
                last = last.max(change.seq);
                if tx.send(change).is_err() {
                    return Ok(());
                }
            }
            self.wait().await?;
        }
    }

    /// [`Local::changes_after`], right here when it can start at once (the
    /// common case: a look of a few µs), else off the async scheduler: the
    /// bridge's own write to the board holds the accounting for its whole
    /// restore, milliseconds for a large clip, which a worker must not wait
    /// for.
    fn changes_after(&self, last: u64) -> Result<Vec<LocalCommit>> {
        match self.local.try_changes_after(last) {
            Some(changes) => changes,
            None => crate::local::blocking(|| self.local.changes_after(last)),
        }
    }

    /// Returns after a note (or [`REMOVAL_CHECK`] without one); an error
    /// once the board is destroyed.
    async fn wait(&mut self) -> Result<()> {
        let local = &self.local;
        loop {
            let Ok(ready) = tokio::time::timeout(removal_check(), self.sub.readable_mut()).await
            else {
                // Quiet for a while: read the queue and the removal watch.
                self.sub.get_mut().0.try_recv().map_err(|e| local.err(e))?;
                return Ok(());
            };
            let mut guard = ready.map_err(|source| Error::Io {
                path: format!("the mailbox of board {}", local.board.name()).into(),
                source,
            })?;
            let note = guard
                .get_inner_mut()
                .0
                .try_recv()
                .map_err(|e| local.err(e))?;
            if note.is_some() {
                // The readiness stays: `try_recv` stops reading once a note
                // carries the board's current seq, so notes may be left in
                // the queue, and the reactor is edge-triggered: no new edge
                // would come for them. The next wait returns at once and
                // clears it when the queue turns out empty.
                return Ok(());
            }
            // Nothing pending (another file of /dev/shm removed, or notes
            // taken by the last look): only now may the readiness go. It is
            // cleared only if no event came after the one this guard is
            // from, so a note arriving meanwhile still wakes the next wait.
            guard.clear_ready();
        }
    }
}

/// [`REMOVAL_CHECK`]; with the test hooks, a test may make it an hour
/// (`SHM_CLIP_BRIDGE_TEST_QUIET_WATCH`), so that a note or a removal that
/// failed to wake the watcher shows as a test that times out, not as a
/// copy that crossed a second late.
fn removal_check() -> Duration {
    #[cfg(feature = "test-hooks")]
    if crate::test_hooks::quiet_watch() {
        return Duration::from_secs(3600);
    }
    REMOVAL_CHECK
}
