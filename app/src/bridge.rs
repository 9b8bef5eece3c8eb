//! What the window and the tray know of `shm-clip-bridge`: the small status
//! file it rewrites for each board it bridges,
//! `$XDG_RUNTIME_DIR/shm-clip/bridge-BOARD.json`. Only the fields shown here
//! are read; a missing or unreadable file means "not bridged", a file whose
//! pid is gone means "not running".

use std::path::PathBuf;

use serde::Deserialize;

/// One board's bridge, as its status file says.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct BridgeView {
    /// This machine's display name on the others.
    pub name: String,
    /// The bridge's pid.
    pub pid: u32,
    /// Whether it is connected to a server.
    pub connected: bool,
    /// The server it is connected to.
    pub server: String,
    /// Nodes (machines) seen on the stream, this one included.
    pub nodes: u64,
    /// Stream messages not applied here yet.
    pub lag: u64,
    /// The last stream sequence applied.
    pub applied_seq: u64,
    /// The display name of the last remote commit applied.
    pub last_remote_origin: String,
    /// Blobs being moved.
    pub blobs_in_flight: u64,
    /// Local commits waiting to be published.
    pub outbox: u64,
    /// Messages rejected (wrong key, forged, replayed, too large).
    pub rejected: u64,
    /// The last error, if any.
    pub last_error: String,
    /// Whether the pid is alive (not in the file: checked when read).
    #[serde(skip)]
    pub running: bool,
}

/// The status file of `board`.
fn path(board: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty())?;
    Some(
        PathBuf::from(dir)
            .join("shm-clip")
            .join(format!("bridge-{board}.json")),
    )
}

/// The bridge of `board`, if one ever wrote its status file.
pub fn read(board: &str) -> Option<BridgeView> {
    let bytes = std::fs::read(path(board)?).ok()?;
    let mut view: BridgeView = serde_json::from_slice(&bytes).ok()?;
    view.running = view.pid != 0
        && nix::sys::signal::kill(nix::unistd::Pid::from_raw(view.pid as i32), None).is_ok();
    Some(view)
}

impl BridgeView {
    /// One line for the status bar and the tray: `bridged · 3 nodes · lag 0`.
    pub fn summary(&self) -> String {
        if !self.running {
            return "bridge not running".into();
        }
        if !self.connected {
            return format!("bridge offline · {} waiting", self.outbox);
        }
        let nodes = if self.nodes == 1 {
            "1 node".to_owned()
        } else {
            format!("{} nodes", self.nodes)
        };
        format!("bridged · {nodes} · lag {}", self.lag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_says_how_the_bridge_is() {
        let mut v: BridgeView =
            serde_json::from_str(r#"{"pid":1,"connected":true,"nodes":3,"lag":0,"extra":1}"#)
                .unwrap();
        v.running = true;
        assert_eq!(v.summary(), "bridged · 3 nodes · lag 0");
        v.connected = false;
        v.outbox = 2;
        assert_eq!(v.summary(), "bridge offline · 2 waiting");
        v.running = false;
        assert_eq!(v.summary(), "bridge not running");
    }
}
