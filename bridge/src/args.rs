//! The command line.
//!
//! The doc comments here are `--help` text, read in a terminal, not rustdoc:
//! config keys and URLs stay as users type them.
#![allow(clippy::doc_markdown, reason = "doc comments are --help text")]

use std::path::PathBuf;

use clap::{Args as ClapArgs, Parser, Subcommand};

use crate::config::Overrides;

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
    /// Mirror the boards to their streams and back, until stopped.
    Run(Box<RunArgs>),
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

#[derive(Debug, ClapArgs)]
pub struct RunArgs {
    /// A NATS server URL; repeat for a cluster [config: servers; default: nats://127.0.0.1:4222].
    #[arg(long = "server", value_name = "URL")]
    pub servers: Vec<String>,
    /// The board key [config: key_file; default: ~/.config/shm-clip/bridge.key].
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// A board to bridge, or LOCAL=SHARED to bridge board LOCAL under the shared name SHARED; repeat for several [config: boards; default: default].
    #[arg(long = "board", value_name = "NAME")]
    pub boards: Vec<String>,
    /// This machine's display name, shown as "bridge: NAME" on the others [config: name; default: the host name].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Server user name (with --password) [config: user].
    #[arg(long)]
    pub user: Option<String>,
    /// Server password [config: password or password_file]; also $SHM_CLIP_BRIDGE_PASSWORD.
    #[arg(long, env = "SHM_CLIP_BRIDGE_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// A file holding an nkey seed [config: nkey_seed_file].
    #[arg(long, value_name = "FILE")]
    pub nkey_seed_file: Option<PathBuf>,
    /// A .creds file (JWT + nkey seed) [config: creds_file].
    #[arg(long, value_name = "FILE")]
    pub creds_file: Option<PathBuf>,
    /// Trust this CA (PEM) and require TLS [config: tls_ca_file].
    #[arg(long, value_name = "FILE")]
    pub tls_ca_file: Option<PathBuf>,
    /// Client certificate (PEM), with --tls-key-file [config: tls_cert_file].
    #[arg(long, value_name = "FILE")]
    pub tls_cert_file: Option<PathBuf>,
    /// The client certificate's key (PEM) [config: tls_key_file].
    #[arg(long, value_name = "FILE")]
    pub tls_key_file: Option<PathBuf>,
    /// Stream replicas: 3 on a 3-node cluster [config: replicas; default: 1].
    #[arg(long)]
    pub replicas: Option<usize>,
    /// Exit quietly (status 0) when there is no key file yet: for the
    /// autostart entry and the systemd unit, which every user gets.
    #[arg(long)]
    pub if_configured: bool,
}

impl RunArgs {
    /// The flags as overrides of the config file.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            servers: self.servers.clone(),
            key_file: self.key_file.clone(),
            boards: self.boards.clone(),
            name: self.name.clone(),
            user: self.user.clone(),
            password: self.password.clone(),
            nkey_seed_file: self.nkey_seed_file.clone(),
            creds_file: self.creds_file.clone(),
            tls_ca_file: self.tls_ca_file.clone(),
            tls_cert_file: self.tls_cert_file.clone(),
            tls_key_file: self.tls_key_file.clone(),
            replicas: self.replicas,
        }
    }
}
