//! What a bridge remembers across restarts, per board: the last stream
//! sequence it applied, the last local board seq it published, and the
//! newest commit seen from every origin node (an older one is a replay).
//!
//! `$XDG_STATE_HOME/shm-clip/bridge-BOARD.state` (JSON), written atomically
//! (a temporary file renamed over the old one), so a bridge killed at any
//! moment finds either the old or the new state, never a torn one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use shm_clip::BoardName;

use crate::error::{Error, Result};

/// One board's remembered progress.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// The stream this progress belongs to (another key means another stream).
    pub stream: String,
    /// The local board's node id (hex); a recreated board is a new node.
    pub node: String,
    /// The last stream sequence applied (or rejected): resume after it.
    pub applied_seq: u64,
    /// The last local board seq published: later local entries are the outbox.
    pub published_board_seq: u64,
    /// Per origin node (hex): the newest origin seq applied.
    pub origin_seqs: BTreeMap<String, u64>,
    /// This board's published changes whose messages come after
    /// `applied_seq`, oldest first: after a restart, a remote message
    /// replayed before them is placed below them, as the bridge that
    /// published them would have placed it.
    pub outstanding: Vec<OwnMessage>,
}

/// At most this many [`State::outstanding`] entries are kept: the file is
/// rewritten after every change, and a follower that far behind (retrying
/// an unreadable blob while the user copies on) has the oldest of them far
/// down the history anyway. Dropping one only means that, after a
/// restart, a remote clip replayed before its message may go above it.
pub const MAX_OUTSTANDING: usize = 1024;

/// A local change on the stream that the follower has not passed yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnMessage {
    /// The change's origin seq (its board seq).
    pub seq: u64,
    /// Its clip id.
    pub clip: [u8; 16],
    /// Its message's stream seq.
    pub stream: u64,
}

/// Where the state of `board` lives.
pub fn state_path(board: &BoardName) -> Result<PathBuf> {
    let base = if let Some(dir) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        PathBuf::from(dir)
    } else {
        let home = std::env::var_os("HOME").ok_or_else(|| Error::Io {
            path: PathBuf::from("$XDG_STATE_HOME"),
            source: std::io::Error::other("neither XDG_STATE_HOME nor HOME is set"),
        })?;
        PathBuf::from(home).join(".local/state")
    };
    Ok(base.join("shm-clip").join(format!("bridge-{board}.state")))
}

impl State {
    /// Records a published change whose message the follower has not
    /// passed; beyond [`MAX_OUTSTANDING`] the oldest goes.
    pub fn push_outstanding(&mut self, own: OwnMessage) {
        self.outstanding.push(own);
        let over = self.outstanding.len().saturating_sub(MAX_OUTSTANDING);
        self.outstanding.drain(..over);
    }

    /// Reads the state at `path`; a missing file is a fresh state, a damaged
    /// one is an error (guessing could apply commits twice or skip some).
    pub fn load(path: &Path) -> Result<State> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Io {
                path: path.to_owned(),
                source: std::io::Error::other(format!(
                    "damaged bridge state ({e}); remove it to start over (history is replayed again)"
                )),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(source) => Err(Error::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Writes the state atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec(self).expect("plain data serialises");
        write_atomically(path, &json)
    }
}

/// Writes `bytes` to a temporary file beside `path` (mode 0600) and renames
/// it over `path`. No fsync: the rename is atomic against a killed process,
/// which is what a restart must survive; a power cut may lose the last
/// update, and then a few commits are applied again as the same entries.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    // One name per write: two tasks may save at once, and each renames its own.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)?;
    }
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp.{}.{n}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_damage_is_an_error() {
        let dir =
            std::env::temp_dir().join(format!("shm-clip-bridge-state-{}", std::process::id()));
        let path = dir.join("sub/bridge-x.state");
        assert_eq!(State::load(&path).unwrap(), State::default());
        let mut s = State {
            stream: "S".into(),
            applied_seq: 7,
            ..State::default()
        };
        s.origin_seqs.insert("ab".into(), 3);
        s.outstanding.push(OwnMessage {
            seq: 4,
            clip: [5; 16],
            stream: 9,
        });
        s.save(&path).unwrap();
        assert_eq!(State::load(&path).unwrap(), s);
        std::fs::write(&path, b"{not json").unwrap();
        assert!(
            State::load(&path)
                .unwrap_err()
                .to_string()
                .contains("damaged")
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_outstanding_list_keeps_its_newest_entries_up_to_the_cap() {
        let mut s = State::default();
        let own = |n: u64| OwnMessage {
            seq: n,
            clip: [n as u8; 16],
            stream: n + 100,
        };
        for n in 0..MAX_OUTSTANDING as u64 + 3 {
            s.push_outstanding(own(n));
        }
        assert_eq!(s.outstanding.len(), MAX_OUTSTANDING);
        assert_eq!(s.outstanding.first(), Some(&own(3)), "the oldest went");
        assert_eq!(s.outstanding.last(), Some(&own(MAX_OUTSTANDING as u64 + 2)));
    }
}
