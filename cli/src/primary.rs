//! `--primary` on `copy` and `paste`: the desktop's PRIMARY selection lives
//! in the X server or the compositor, and only the tray talks to them, so
//! the CLI has to go through the board's running tray.
//!
//! The tray does not take requests from the command line yet, so this finds
//! out which of the two refusals applies and says what to do instead.

use shm_clip::{Board, Error, OriginKind};

use crate::args::Global;
use crate::errors::CliError;
use crate::open;

/// Why `--primary` cannot be served: no tray on the board, or a tray that
/// cannot take the request. Errors reading the board are passed on.
pub fn refusal(global: &Global) -> CliError {
    let board = global.board.to_string();
    let status = match open::existing(global).and_then(|b: Board| b.status()) {
        Ok(status) => status,
        // No board, no tray: a tray creates its board when it starts.
        Err(Error::NoSuchBoard { .. }) => return CliError::NoTray { board },
        Err(err) => return err.into(),
    };
    match status
        .subscribers
        .iter()
        .find(|s| s.origin.kind == OriginKind::Tray)
    {
        None => CliError::NoTray { board },
        Some(tray) => CliError::TrayWithoutPrimary {
            board,
            pid: tray.origin.pid,
        },
    }
}
