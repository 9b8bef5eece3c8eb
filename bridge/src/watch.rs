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
/// other file. Neither can happen here: [`Watched`] owns the
/// `Subscription`, whose epoll descriptor is opened when it is made and
/// closed only when it is dropped, and `as_raw_fd` always returns that one;
/// `AsyncFd` deregisters before it drops what it owns. The replacement,
/// `AsyncFd::register`, is an `unsafe fn`, which this crate forbids.
#[expect(
    deprecated,
    reason = "the one safe constructor; its precondition holds (above)"
)]
fn register(watched: Watched) -> std::io::Result<AsyncFd<Watched>> {
    AsyncFd::new(watched)
}

/// Watches the board and sends every new local change (after board seq
/// `after`) to the publisher, in order. Ends when the board is destroyed
/// (an error) or the publisher is gone.
pub async fn run(local: Arc<Local>, after: u64, tx: UnboundedSender<LocalCommit>) -> Result<()> {
    // Subscribe before the first scan, so no commit falls between the two.
    let sub = local.board.subscribe().map_err(|e| local.err(e))?;
    local.resume_after(after)?;
    let mut sub = register(Watched(sub)).map_err(|source| Error::Io {
        path: format!("the mailbox of board {}", local.board.name()).into(),
        source,
    })?;
    let mut last = after;
    loop {
        for change in local.changes_after(last)? {
            last = last.max(change.seq);
            if tx.send(change).is_err() {
                return Ok(());
            }
        }
        wait(&local, &mut sub).await?;
    }
}

/// Returns after a note (or [`REMOVAL_CHECK`] without one); an error once
/// the board is destroyed.
async fn wait(local: &Local, sub: &mut AsyncFd<Watched>) -> Result<()> {
    loop {
        let Ok(ready) = tokio::time::timeout(REMOVAL_CHECK, sub.readable_mut()).await else {
            // Quiet for a second: read the queue and the removal watch.
            sub.get_mut().0.try_recv().map_err(|e| local.err(e))?;
            return Ok(());
        };
        let mut guard = ready.map_err(|source| Error::Io {
            path: format!("the mailbox of board {}", local.board.name()).into(),
            source,
        })?;
        // `try_recv` empties the queue (its notes merge into one). The
        // readiness is cleared only if no event came after the one this
        // guard was made from, so a note that arrives from here on wakes
        // the next wait.
        let note = guard
            .get_inner_mut()
            .0
            .try_recv()
            .map_err(|e| local.err(e))?;
        guard.clear_ready();
        if note.is_some() {
            return Ok(());
        }
        // Woken for nothing (another file of /dev/shm, a note taken by the
        // last look): wait on.
    }
}
