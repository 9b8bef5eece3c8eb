//! The bridge's state as others see it: a small JSON file per board in
//! `$XDG_RUNTIME_DIR/shm-clip/bridge-BOARD.json`, rewritten atomically when
//! something changes. `shm-clip-bridge status`, the window and the tray read
//! it; a file whose pid is gone belongs to a bridge that is not running.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One board's bridge, as the status file says.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BridgeStatus {
    /// The local board.
    pub board: String,
    /// This node's display name.
    pub name: String,
    /// The bridge's pid.
    pub pid: u32,
    /// The configured servers.
    pub servers: Vec<String>,
    /// Whether the connection to a server is up.
    pub connected: bool,
    /// The server the client is connected to, if known.
    pub server: String,
    /// The board's stream on the server.
    pub stream: String,
    /// The last stream sequence applied here.
    pub applied_seq: u64,
    /// The stream's last sequence, when last asked.
    pub stream_last_seq: u64,
    /// Stream messages not applied yet.
    pub lag: u64,
    /// Nodes seen on the stream, this one included.
    pub nodes: u64,
    /// The display name of the last remote commit applied.
    pub last_remote_origin: String,
    /// Blobs being uploaded or downloaded.
    pub blobs_in_flight: u64,
    /// Whether the prefetcher follows the bucket now (never, where
    /// `allow_types` refuses some type).
    pub prefetch_live: bool,
    /// Prefetch consumers created so far (one more after each recreation).
    pub prefetch_consumers: u64,
    /// Kept objects that did not match their final info (downloaded instead).
    pub prefetch_mismatched: u64,
    /// Kept objects that matched their info but whose chunks did not open
    /// (downloaded instead: the download gives the verdict).
    pub prefetch_unopened: u64,
    /// Objects of the bucket kept (sealed) before their manifest came.
    pub prefetching: u64,
    /// Their bytes.
    pub prefetch_bytes: u64,
    /// Kept objects dropped unclaimed (an upload cut short, no manifest).
    pub prefetch_dropped: u64,
    /// Own uploads during which the prefetcher followed nothing.
    pub prefetch_paused: u64,
    /// Own uploads seen on the bucket (their first chunks) and not kept.
    pub prefetch_own: u64,
    /// Blobs applied from what was kept.
    pub blobs_prefetched: u64,
    /// Blobs downloaded after their manifest (not, or not wholly, kept).
    pub blobs_downloaded: u64,
    /// Local commits waiting to be published.
    pub outbox: u64,
    /// Commits published from here.
    pub published: u64,
    /// Remote commits applied here.
    pub applied: u64,
    /// Selections (a re-copy or select: "make clip X current") published from here.
    pub selections_published: u64,
    /// Remote selections applied here.
    pub selections_applied: u64,
    /// Messages rejected (undecryptable, forged, replayed, too large).
    pub rejected: u64,
    /// The last error, if any (never content).
    pub last_error: String,
    /// When this file was written, ms since the epoch.
    pub updated_ms: u64,
}

/// The directory of status files.
pub fn status_dir() -> PathBuf {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|v| !v.is_empty())
        .map_or_else(
            || std::env::temp_dir().join(format!("shm-clip-{}", nix::unistd::geteuid())),
            PathBuf::from,
        );
    base.join("shm-clip")
}

/// The status file of `board`.
pub fn status_path(board: &str) -> PathBuf {
    status_dir().join(format!("bridge-{board}.json"))
}

impl BridgeStatus {
    /// Writes the file atomically.
    pub fn save(&self) -> Result<()> {
        let json = serde_json::to_vec_pretty(self).expect("plain data serialises");
        crate::state::write_atomically(&status_path(&self.board), &json)
    }

    /// Reads one status file.
    pub fn load(path: &Path) -> Result<BridgeStatus> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Io {
            path: path.to_owned(),
            source: std::io::Error::other(e),
        })
    }

    /// Whether the bridge that wrote it still runs.
    pub fn running(&self) -> bool {
        self.pid != 0
            && nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid as i32), None).is_ok()
    }

    /// Every status file there is, sorted by board.
    pub fn all() -> Vec<BridgeStatus> {
        let mut out: Vec<BridgeStatus> = std::fs::read_dir(status_dir())
            .into_iter()
            .flatten()
            .filter_map(std::result::Result::ok)
            .filter(|e| {
                let n = e.file_name();
                let n = n.to_string_lossy();
                n.starts_with("bridge-") && n.ends_with(".json")
            })
            .filter_map(|e| BridgeStatus::load(&e.path()).ok())
            .collect();
        out.sort_by(|a, b| a.board.cmp(&b.board));
        out
    }
}
