//! `shm-clip-app`: a desktop window on a shm-clip board.
//!
//! This file only parses arguments and sets up logging. The window lives in
//! [`app`]; the board is owned by the [`worker`] thread so that drawing never
//! blocks on IPC; [`state`] is plain data; [`ui`] holds the drawing functions.

#![forbid(unsafe_code)]

mod app;
mod args;
mod bridge;
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

use crate::args::Args;

/// The log filter without `RUST_LOG`: our own news and everyone's
/// warnings, except winit's. Its X11 warnings (XSETTINGS, a 0 mm display)
/// are noise, and so are the X11 protocol errors it logs at error level,
/// such as `BadWindow` for a window that the server destroyed as it closed;
/// a failure of winit's that matters comes back as an error, which `main`
/// prints. `RUST_LOG=winit=debug` shows them all.
const DEFAULT_LOG: &str = "warn,winit=off,shm_clip=info,shm_clip_app=info";

fn main() -> std::process::ExitCode {
    let args = Args::parse();
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
