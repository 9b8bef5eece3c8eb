//! Starting another `shm-clip-app` process on the same board: a new window,
//! or the tray that bridges the board to the system clipboard.

use std::os::unix::process::CommandExt;
use std::process::Stdio;

use shm_clip::BoardName;

use super::{Event, Outbox, Problem};

/// What to start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spawn {
    /// Another window on this board.
    Window,
    /// `shm-clip-app --tray` on this board.
    Tray,
}

impl std::fmt::Display for Spawn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Spawn::Window => "a new window",
            Spawn::Tray => "the tray",
        })
    }
}

/// Starts `what` from this program's own executable and reports "Started …".
/// A named thread waits for it, so it never lingers as a zombie, and reports
/// a failed exit.
///
/// The start is reported before that thread exists: a child that fails at
/// once must not have its exit reported before its start.
pub(super) fn start(what: Spawn, board: &BoardName, outbox: &Outbox) -> Result<(), Problem> {
    let exe = std::env::current_exe()
        .map_err(|err| Problem::new(format!("cannot find this program's executable: {err}")))?;
    let mut command = std::process::Command::new(&exe);
    command.arg("--board").arg(board.as_str());
    if what == Spawn::Tray {
        command.arg("--tray");
    }
    // Its own process group: Ctrl+C in this window's terminal does not end it.
    command.stdin(Stdio::null()).process_group(0);
    let mut child = command
        .spawn()
        .map_err(|err| Problem::new(format!("cannot start {}: {err}", exe.display())))?;
    let pid = child.id();
    outbox.send(Event::Info(format!("Started {what} (pid {pid})")));
    let outbox = outbox.clone();
    let board = board.clone();
    std::thread::Builder::new()
        .name("shm-clip-reaper".into())
        .spawn(move || match child.wait() {
            Ok(status) if status.success() => {}
            Ok(status) => {
                let flag = if what == Spawn::Tray { " --tray" } else { "" };
                outbox.fail(
                    Problem::new(format!("{what} (pid {pid}) exited: {status}")).with_hint(
                        format!(
                            "run `shm-clip-app --board {board}{flag}` in a terminal to see why"
                        ),
                    ),
                );
            }
            Err(err) => tracing::warn!(%err, pid, "cannot wait for the child process"),
        })
        .map_err(|err| Problem::new(format!("cannot start a reaper thread: {err}")))?;
    Ok(())
}
