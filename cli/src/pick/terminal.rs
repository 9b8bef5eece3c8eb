//! Taking the terminal over for the picker, and giving it back on every way
//! out: a normal return ([`Session`]'s `Drop`), a panic (a hook that restores
//! before the message is printed, so it lands on the normal screen), and
//! SIGINT, SIGTERM, SIGHUP or SIGQUIT (a thread that waits for them).
//!
//! Raw mode turns Ctrl+C into a key, so SIGINT only comes from outside
//! (`kill -INT`, a parent shell's job control). Those signals are blocked in
//! this thread before the waiter starts, so only the waiter receives them.
//! It takes the draw lock, so it never restores in the middle of a frame,
//! and exits with 128 + the signal's number, as a shell reports it.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use nix::sys::signal::{SigSet, Signal};
use ratatui::crossterm::{cursor, execute, terminal};

/// Whether the terminal is ours (raw, alternate screen) right now.
static TAKEN: AtomicBool = AtomicBool::new(false);
/// Held while a frame is drawn.
static DRAWING: Mutex<()> = Mutex::new(());

/// The terminal in raw mode on the alternate screen, until dropped.
#[derive(Debug)]
pub struct Session(());

impl Session {
    /// Takes the terminal over.
    pub fn start() -> io::Result<Session> {
        install_panic_hook();
        watch_signals();
        terminal::enable_raw_mode()?;
        TAKEN.store(true, Ordering::SeqCst);
        // From here on, dropping the session restores what was done.
        let session = Session(());
        execute!(io::stdout(), terminal::EnterAlternateScreen, cursor::Hide)?;
        Ok(session)
    }

    /// Hold this while drawing a frame.
    pub fn draw_lock() -> MutexGuard<'static, ()> {
        DRAWING.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        restore();
    }
}

/// Gives the terminal back, once: leaves the alternate screen, shows the
/// cursor and restores the termios that raw mode saved.
fn restore() {
    if TAKEN.swap(false, Ordering::SeqCst) {
        let mut out = io::stdout();
        let _ = execute!(out, terminal::LeaveAlternateScreen, cursor::Show);
        let _ = out.flush();
        let _ = terminal::disable_raw_mode();
    }
}

/// Restores the terminal before the default hook prints the panic.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// Blocks the terminating signals here and waits for them on a thread.
fn watch_signals() {
    let mut set = SigSet::empty();
    for signal in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
    ] {
        set.add(signal);
    }
    if let Err(err) = set.thread_block() {
        tracing::warn!(%err, "cannot block signals; a signal would leave the terminal raw");
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("pick-signals".into())
        .spawn(move || {
            let Ok(signal) = set.wait() else { return };
            tracing::debug!(?signal, "signal; restoring the terminal");
            // Never in the middle of a frame; the lock is not released, so
            // no frame follows either.
            let _frame = DRAWING.lock().unwrap_or_else(PoisonError::into_inner);
            restore();
            std::process::exit(128 + signal as i32);
        });
    if let Err(err) = spawned {
        tracing::warn!(%err, "cannot start the signal thread");
        let _ = set.thread_unblock();
    }
}
