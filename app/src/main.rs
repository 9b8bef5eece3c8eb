//! `shm-clip-app`: a desktop window on a shm-clip board.
//!
//! This file only parses arguments and sets up logging. The window lives in
//! [`app`]; the board is owned by the [`worker`] thread so that drawing never
//! blocks on IPC; [`state`] is plain data; [`ui`] holds the drawing functions.

#![forbid(unsafe_code)]

mod app;
mod signals;
mod state;
mod ui;
mod worker;

use clap::Parser;
use shm_clip::BoardName;

/// A window on a shm-clip board: edit text, copy it to the board, paste from
/// it, and watch the board's history change live.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The board to open; it is created if it does not exist.
    #[arg(long, env = "SHM_CLIP_BOARD", default_value = shm_clip::DEFAULT_BOARD)]
    board: BoardName,
}

fn main() -> eframe::Result {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("warn,shm_clip=info,shm_clip_app=info")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(err) = signals::block() {
        tracing::warn!(%err, "cannot block SIGINT/SIGTERM; a signal will skip the clean shutdown");
    }
    app::run(args.board)
}
