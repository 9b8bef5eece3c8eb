//! Test-only pause points, compiled in with the `test-hooks` feature and
//! armed at run time by [`PAUSE_VAR`] = the path of a FIFO and
//! [`PAUSE_AT_VAR`] = the points' names, comma-separated. The first time
//! the bridge reaches one of them it writes the point's name to `FIFO.at`,
//! then blocks opening the FIFO until the test opens it for writing and
//! closes it: the test makes its move (a copy, a hold in the network) while
//! the bridge stands at a known place, with no sleep on either side. A race
//! between the bridge's threads and the board's user can then be forced
//! instead of hoped for.

use std::io::Read;
use std::sync::Mutex;

/// The FIFO the bridge waits on.
pub const PAUSE_VAR: &str = "SHM_CLIP_BRIDGE_TEST_PAUSE";
/// The points at which it waits, comma-separated.
pub const PAUSE_AT_VAR: &str = "SHM_CLIP_BRIDGE_TEST_PAUSE_AT";

/// Waits at `point` for the test, the first time only, if it asked.
/// Blocks the calling thread: call it where a board call could block too
/// (inside [`crate::local::blocking`]).
pub fn pause_if_asked(point: &str) {
    static PASSED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let Some(fifo) = std::env::var_os(PAUSE_VAR) else {
        return;
    };
    let asked = std::env::var(PAUSE_AT_VAR).unwrap_or_default();
    if !asked.split(',').any(|at| at == point) {
        return;
    }
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
    let released = std::fs::File::open(&fifo).and_then(|mut f| f.read_to_end(&mut Vec::new()));
    tracing::info!(point, ok = released.is_ok(), "test hook: released");
}
