//! Clean shutdown on SIGINT, SIGTERM and SIGHUP.
//!
//! By default these signals kill the process at once, and the worker never
//! drops its mailbox. Instead, [`block`] blocks them in every thread (it must
//! run before any thread starts, so that all inherit the mask), and a named
//! thread waits for them with `sigwait` and asks the window to close. The
//! normal exit path then drops the worker, which unlinks the mailbox. A second
//! signal exits at once.

use nix::sys::signal::{SigSet, Signal};

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

/// Starts the thread that turns the first shutdown signal into `close()`.
pub fn spawn_waiter(close: impl Fn() + Send + 'static) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("shm-clip-signals".into())
        .spawn(move || {
            let set = set();
            let mut closing = false;
            loop {
                match set.wait() {
                    Ok(signal) if closing => {
                        tracing::warn!(?signal, "second signal: exiting now");
                        std::process::exit(128 + signal as i32);
                    }
                    Ok(signal) => {
                        tracing::info!(?signal, "closing the window");
                        closing = true;
                        close();
                    }
                    Err(err) => {
                        tracing::error!(%err, "sigwait failed; signals will be ignored");
                        return;
                    }
                }
            }
        })?;
    Ok(())
}
