//! Test-only pause points, compiled in with the `test-hooks` feature and
//! armed at run time by [`PAUSE_VAR`] = the path of a FIFO and
//! [`PAUSE_AT_VAR`] = the points' names, comma-separated. The first time
//! the bridge reaches one of them it writes the point's name to `FIFO.at`,
//! then blocks opening the FIFO until the test opens it for writing and
//! closes it: the test makes its move (a copy, a hold in the network) while
//! the bridge stands at a known place, with no sleep on either side. A race
//! between the bridge's threads and the board's user can then be forced
//! instead of hoped for.

use std::ffi::OsString;
use std::io::Read;
use std::sync::{Mutex, OnceLock};

/// The FIFO the bridge waits on.
pub const PAUSE_VAR: &str = "SHM_CLIP_BRIDGE_TEST_PAUSE";
/// The points at which it waits, comma-separated.
pub const PAUSE_AT_VAR: &str = "SHM_CLIP_BRIDGE_TEST_PAUSE_AT";
/// Set: the watcher looks only when woken, not also every second
/// (`watch.rs`), so the tests prove that notes and removals wake it.
pub const QUIET_WATCH_VAR: &str = "SHM_CLIP_BRIDGE_TEST_QUIET_WATCH";

/// The FIFO and the points, read once: a test sets them when it starts
/// the bridge. Read on every pass, they cost each clip's way an environment
/// lookup per point, in the bench too (its bridge is built with the hooks,
/// unarmed).
fn armed() -> Option<&'static (OsString, Vec<String>)> {
    static ARMED: OnceLock<Option<(OsString, Vec<String>)>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let fifo = std::env::var_os(PAUSE_VAR)?;
            let points = std::env::var(PAUSE_AT_VAR).unwrap_or_default();
            Some((fifo, points.split(',').map(str::to_owned).collect()))
        })
        .as_ref()
}

/// Whether the test set [`QUIET_WATCH_VAR`], read once (the watcher asks
/// at every wait).
pub fn quiet_watch() -> bool {
    static QUIET: OnceLock<bool> = OnceLock::new();
    *QUIET.get_or_init(|| std::env::var_os(QUIET_WATCH_VAR).is_some())
}

/// Whether the test asked to pause at `point`: a caller that must leave
/// the async scheduler to pause checks this first, so an unarmed hook
/// costs no hand-off.
pub fn asked(point: &str) -> bool {
    armed().is_some_and(|(_, points)| points.iter().any(|p| p == point))
}

/// Waits at `point` for the test, the first time only, if it asked.
/// Blocks the calling thread: call it where a board call could block too
/// (inside [`crate::local::blocking`]).
pub fn pause_if_asked(point: &str) {
    static PASSED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let Some((fifo, _)) = armed().filter(|_| asked(point)) else {
        return;
    };
    {
        let mut passed = PASSED.lock().expect("pause points lock");
        if passed.iter().any(|p| p == point) {
            return;
        }
        passed.push(point.to_owned());
    }
    let mut marker = fifo.clone();
    marker.push(".at");
    if let Err(e) = std::fs::write(&marker, point) {
        tracing::error!(error = %e, "test hook: cannot write the pause marker");
        return;
    }
    tracing::info!(point, "test hook: paused");
    // Opening a FIFO for reading blocks until a writer opens it; its close
    // ends the read.
    let released = std::fs::File::open(fifo).and_then(|mut f| f.read_to_end(&mut Vec::new()));
    tracing::info!(point, ok = released.is_ok(), "test hook: released");
}
