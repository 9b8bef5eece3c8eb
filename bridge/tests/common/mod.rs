//! Shared pieces of the bridge's tests.
#![allow(dead_code, reason = "each test file uses a part of the kit")]

use std::path::PathBuf;

use shm_clip_bridge::key::BoardKey;

/// A scratch directory for a test, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "shm-clip-bridge-test.{}.{test}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// A fresh 0600 board key in this directory.
    pub fn key(&self) -> PathBuf {
        let path = self.0.join("board.key");
        if !path.exists() {
            BoardKey::generate().write_new(&path).unwrap();
        }
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A tokio runtime for talking to the server directly (the rogue
/// publisher, stream counts).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
