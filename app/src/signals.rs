//! Clean shutdown on SIGINT, SIGTERM and SIGHUP.
//!
//! By default these signals kill the process at once, and the worker never
//! drops its mailbox. Instead, [`block`] blocks them in every thread (it must
//! run before any thread starts, so that all inherit the mask), and a named
//! thread waits for them with `sigwait` and asks the window to close. The
//! normal exit path then drops the worker, which unlinks the mailbox. If the
//! window has not closed after [`GRACE`] (a frame that takes long under a
//! loaded software renderer), the signal thread stops the worker itself, so
//! the mailbox is still unlinked, and exits: the window is gone within 0.5 s
//! of the signal.

use std::time::Duration;

use nix::sys::signal::{SigSet, Signal};

use crate::worker::Stopper;

/// How long the window may take to close by itself after a signal.
pub const GRACE: Duration = Duration::from_millis(250);
/// How long the worker may then take to let go of the board.
const STOP_WITHIN: Duration = Duration::from_millis(150);

fn set() -> SigSet {
    let mut set = SigSet::empty();
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        set.add(signal);
    }
    set
}

/// Blocks the shutdown signals in this thread and every thread it starts.
pub fn block() -> nix::Result<()> {
    set().thread_block()
}

/// Starts the thread that turns the first shutdown signal into `close()`,
/// and, if the process is still there after [`GRACE`], into `stopper.stop()`
/// and an exit.
pub fn spawn_waiter(close: impl Fn() + Send + 'static, stopper: Stopper) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("shm-clip-signals".into())
        .spawn(move || {
            let signal = match set().wait() {
                Ok(signal) => signal,
                Err(err) => {
                    tracing::error!(%err, "sigwait failed; signals will be ignored");
                    return;
                }
            };
            tracing::info!(?signal, "closing the window");
            close();
            // A deadline, not a synchronisation: if the window closed in
            // time, this process no longer exists.
            std::thread::sleep(GRACE);
            tracing::info!(
                ?signal,
                "the window did not close within {GRACE:?}; stopping the worker and exiting"
            );
            if stopper.stop(STOP_WITHIN) {
                std::process::exit(0);
            }
            tracing::warn!("the worker did not stop in time; exiting anyway");
            std::process::exit(128 + signal as i32);
        })?;
    Ok(())
}
