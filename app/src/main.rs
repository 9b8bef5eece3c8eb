//! `shm-clip-app`: a desktop window on a shm-clip board.
//!
//! This file only parses arguments and sets up logging. The window lives in
//! [`app`]; the board is owned by the [`worker`] thread so that drawing never
//! blocks on IPC; [`state`] is plain data; [`ui`] holds the drawing functions.

#![forbid(unsafe_code)]

mod app;
mod picker;
mod prefs;
mod signals;
mod state;
mod sync;
mod tray;
mod ui;
mod worker;

#[cfg(test)]
mod testing;

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
struct Args {
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
    board: BoardName,

    /// Run in the background as a system-tray icon that mirrors the desktop
    /// clipboard into the board and back, instead of opening a window
    #[arg(long)]
    tray: bool,

    /// With --tray: sync without showing an icon (for desktops without a tray)
    #[arg(long, requires = "tray")]
    no_icon: bool,

    /// Show the picker, a popup for the keyboard: type to filter the history,
    /// Enter makes the entry current (Shift+Enter also pastes it), Alt+1..9
    /// pick directly, Ctrl+P pins, Delete deletes, Esc closes. The first
    /// --picker stays resident (hidden) so that later ones show at once; the
    /// tray's hotkey (picker.hotkey in config.toml) summons it too
    #[arg(long, conflicts_with = "tray")]
    picker: bool,

    /// Print how to bind a key to `shm-clip-app --picker` on this desktop
    /// (sway, Hyprland, GNOME, KDE) and exit
    #[arg(long, exclusive = true)]
    print_shortcut_setup: bool,

    /// Write the man page shm-clip-app.1 into DIR and exit (for packaging).
    #[arg(long, value_name = "DIR", hide = true, exclusive = true)]
    generate_man: Option<std::path::PathBuf>,
}

/// The log filter without `RUST_LOG`: our own news, everyone's warnings,
/// except winit's, whose X11 warnings (XSETTINGS, a 0 mm display) are noise.
const DEFAULT_LOG: &str = "warn,winit=error,shm_clip=info,shm_clip_app=info";

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if let Some(dir) = &args.generate_man {
        return generate_man(dir);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG)),
        )
        .with_writer(std::io::stderr)
        // journald and log files get plain text, not escape codes.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if args.print_shortcut_setup {
        print!("{}", tray::shortcut_setup(&args.board));
        return std::process::ExitCode::SUCCESS;
    }
    if args.picker {
        return picker::run(&args.board);
    }
    if args.tray {
        return tray::run(&tray::TrayArgs {
            board: args.board,
            no_icon: args.no_icon,
        });
    }
    if let Err(err) = signals::block() {
        tracing::warn!(%err, "cannot block SIGINT/SIGTERM; a signal will skip the clean shutdown");
    }
    match app::run(args.board) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("shm-clip-app: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Writes `shm-clip-app.1`, generated from [`Args`], into `dir`.
fn generate_man(dir: &std::path::Path) -> std::process::ExitCode {
    use clap::CommandFactory;
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| clap_mangen::Man::new(Args::command()).generate_to(dir));
    match written {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("shm-clip-app: writing {}: {err}", dir.display());
            std::process::ExitCode::FAILURE
        }
    }
}
