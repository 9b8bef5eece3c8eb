//! The bridge's one error type: each variant names what failed and, where
//! there is one, the fix.

use std::path::PathBuf;

/// Everything that can stop a bridge command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad `[bridge]` table or flag.
    #[error("{}{}: {key}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Config {
        path: PathBuf,
        line: Option<usize>,
        key: String,
        message: String,
    },
    /// A required setting given neither in config.toml nor as a flag.
    #[error("no {what}: give {flag}, or `{key}` in the [bridge] table of {}", path.display())]
    Missing {
        what: &'static str,
        flag: &'static str,
        key: &'static str,
        path: PathBuf,
    },
    /// The key file is unsafe to use or unreadable.
    #[error("key file {}: {message}", path.display())]
    Key { path: PathBuf, message: String },
    /// The server refused us or could not be reached at start.
    #[error("cannot connect to {servers}: {message}")]
    Connect { servers: String, message: String },
    /// A JetStream request (stream, consumer, object store) failed.
    #[error("JetStream: {what}: {message}")]
    JetStream { what: String, message: String },
    /// The local board.
    #[error("board {board}: {source}")]
    Board {
        board: String,
        #[source]
        source: shm_clip::Error,
    },
    /// The library's config.toml.
    #[error(transparent)]
    Library(#[from] shm_clip::Error),
    /// A state or status file.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// A line of advice to print under the error, if there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Key { path, .. } => Some(format!(
                "the key must be a file of yours with mode 0600: `chmod 600 {}`, or make a new one with `shm-clip-bridge keygen FILE`",
                path.display()
            )),
            Error::Connect { .. } => Some(
                "check --server/servers, the credentials (user/password, nkey, creds) and the TLS files; `nats-server -js` must be running"
                    .into(),
            ),
            Error::Board { source, .. } | Error::Library(source) => source.hint(),
            _ => None,
        }
    }
}

/// The bridge's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
