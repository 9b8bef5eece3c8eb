//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// What `--help` shows after the options: two machines in five commands.
const EXAMPLES: &str = "\
Two machines in five commands:

  desktop$ nats-server -js -a 0.0.0.0            # or any NATS server you have
  desktop$ shm-clip-bridge keygen ~/.config/shm-clip/bridge.key
  desktop$ scp -p ~/.config/shm-clip/bridge.key laptop:.config/shm-clip/
  desktop$ shm-clip-bridge run --server nats://127.0.0.1:4222 --name desktop
  laptop$  shm-clip-bridge run --server nats://desktop:4222 --name laptop

Settings come from the [bridge] table of config.toml; flags win over it.";

/// Bridges shm-clip boards across machines through NATS JetStream,
/// end-to-end encrypted with a board key that only your machines hold.
#[derive(Debug, Parser)]
#[command(name = "shm-clip-bridge", version, after_help = EXAMPLES)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a new 256-bit board key to a 0600 file (never overwrites one).
    Keygen {
        /// Where to write it [default: ~/.config/shm-clip/bridge.key].
        keyfile: Option<PathBuf>,
    },
    /// Show each bridged board: server, connection, applied sequence, lag,
    /// last remote origin, blobs in flight.
    Status {
        /// Print JSON (one array of objects) instead of text.
        #[arg(long)]
        json: bool,
    },
}
