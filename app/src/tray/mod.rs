//! The tray process: mirrors the desktop's system clipboard into the board
//! and back, with a `StatusNotifierItem` icon. Its own module, never folded into
//! the window code.

use std::process::ExitCode;

use shm_clip::BoardName;

/// What `shm-clip-app --tray` was asked to do.
#[derive(Debug)]
pub struct TrayArgs {
    /// The board to bridge.
    pub board: BoardName,
    /// Sync without an icon, for desktops without a tray.
    pub no_icon: bool,
}

/// Runs the tray until it is told to quit.
pub fn run(args: &TrayArgs) -> ExitCode {
    let icon = if args.no_icon { "without" } else { "with" };
    eprintln!(
        "shm-clip-app: --tray ({icon} icon) is not implemented yet for board {}",
        args.board
    );
    ExitCode::FAILURE
}
