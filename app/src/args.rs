//! The command line of `shm-clip-app`, as clap derive types.
//!
//! This file is compiled twice: into the binary, and on its own by
//! `build.rs`, which writes the man page from it. So it uses only clap and
//! the `shm_clip` library, never another module of the app.

use clap::Parser;
use shm_clip::BoardName;

const ABOUT_LONG: &str = "\
A desktop window on a shm-clip board, or (with --tray) the bridge between the \
board and the desktop's clipboard.

The window edits text, copies it to the board and pastes from it, and shows \
the board's history and its machinery live. Ctrl+X, Ctrl+C and Ctrl+V use the \
board, not the system clipboard; the tray connects the two.";

const EXAMPLES: &str = "\
Examples:
  shm-clip-app                               open a window on the default board
  shm-clip-app --board work                  use another board (or set SHM_CLIP_BOARD=work)
  shm-clip-app --tray                        bridge the board and the desktop clipboard
  shm-clip-app --tray --no-icon              the same, on a desktop without a system tray
  shm-clip-app --picker                      the keyboard popup: type to filter, Enter to choose
  shm-clip-app --print-shortcut-setup        how to bind a key to the picker on this desktop

Set RUST_LOG=debug to see what shm-clip-app does; clip contents are never logged.";

/// `--board`, worded as the CLI words it.
const BOARD_HELP: &str = "The board to use: 1-64 characters from A-Z a-z 0-9 . _ - [default: default; SHM_CLIP_BOARD sets another]";
const BOARD_LONG_HELP: &str = "The board to use: 1-64 characters from A-Z a-z 0-9 . _ - [default: \
default; SHM_CLIP_BOARD sets another]

It is created if it does not exist.";

/// The command line of `shm-clip-app`, in the wording of `shm-clip`'s.
#[derive(Debug, Parser)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent command-line flags"
)]
#[command(
    version,
    about = "A desktop window on a shm-clip board, and its system-tray bridge",
    long_about = ABOUT_LONG,
    after_help = EXAMPLES
)]
pub struct Args {
    /// The board to use (the help text is the CLI's, in `BOARD_HELP`).
    #[arg(
        long,
        help = BOARD_HELP,
        long_help = BOARD_LONG_HELP,
        env = "SHM_CLIP_BOARD",
        hide_env = true,
        default_value = shm_clip::DEFAULT_BOARD,
        hide_default_value = true,
        value_name = "NAME"
    )]
    pub board: BoardName,

    /// Run in the background as a system-tray icon that mirrors the desktop
    /// clipboard into the board and back, instead of opening a window
    #[arg(long)]
    pub tray: bool,

    /// With --tray: sync without showing an icon (for desktops without a tray)
    #[arg(long, requires = "tray")]
    pub no_icon: bool,

    /// Show the picker, a popup for the keyboard: type to filter the history,
    /// Enter makes the entry current (Shift+Enter also pastes it), Alt+1..9
    /// pick directly, Ctrl+P pins, Delete deletes, Esc closes. The first
    /// --picker stays resident (hidden) so that later ones show at once; the
    /// tray's hotkey (picker.hotkey in config.toml) summons it too
    #[arg(long, conflicts_with = "tray")]
    pub picker: bool,

    /// Print how to bind a key to `shm-clip-app --picker` on this desktop
    /// (sway, Hyprland, GNOME, KDE) and exit
    #[arg(long, exclusive = true)]
    pub print_shortcut_setup: bool,
}
