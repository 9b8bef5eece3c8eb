//! One tray per board: an exclusive `flock` on a per-user, per-board lock
//! file in `$XDG_RUNTIME_DIR`.
//!
//! The kernel drops the lock when its holder exits, however it exits, so a
//! crashed tray never blocks the next one, and two trays started at once
//! cannot both win. The holder writes its pid into the file for the loser's
//! message.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg, OFlag};
use shm_clip::BoardName;

/// Held for the tray's lifetime.
#[derive(Debug)]
pub struct Instance {
    _lock: Flock<File>,
}

/// Why this tray may not run.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    /// Another tray holds the lock.
    #[error(
        "a tray is already running on board {board:?} (pid {pid}); stop it first (kill {pid}), or run this one with --board NAME"
    )]
    Running { board: String, pid: String },
    /// The lock file could not be used.
    #[error("cannot use the tray lock file {path}: {why}")]
    LockFile { path: PathBuf, why: String },
}

/// The lock file of `board`.
#[must_use]
pub fn lock_path(board: &BoardName) -> PathBuf {
    let uid = nix::unistd::geteuid().as_raw();
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(std::env::temp_dir, PathBuf::from);
    dir.join(format!("shm-clip-tray-{uid}-{board}.lock"))
}

/// Becomes the one tray of `board`, or says which process already is.
pub fn acquire(board: &BoardName) -> Result<Instance, InstanceError> {
    let path = lock_path(board);
    let fail = |why: String| InstanceError::LockFile {
        path: path.clone(),
        why,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        // Never follow a link planted in a shared temp directory.
        .custom_flags(OFlag::O_NOFOLLOW.bits())
        .open(&path)
        .map_err(|e| fail(e.to_string()))?;
    let meta = file.metadata().map_err(|e| fail(e.to_string()))?;
    if meta.uid() != nix::unistd::geteuid().as_raw() {
        return Err(fail(format!("it is owned by uid {}", meta.uid())));
    }
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(mut lock) => {
            let pid = format!("{}\n", std::process::id());
            lock.set_len(0)
                .and_then(|()| lock.rewind())
                .and_then(|()| lock.write_all(pid.as_bytes()))
                .map_err(|e| fail(e.to_string()))?;
            Ok(Instance { _lock: lock })
        }
        Err((mut file, nix::errno::Errno::EWOULDBLOCK)) => Err(InstanceError::Running {
            board: board.to_string(),
            pid: holder_pid(&mut file),
        }),
        Err((_, errno)) => Err(fail(errno.to_string())),
    }
}

/// The holder's pid. It writes it right after locking, so wait a moment for it.
fn holder_pid(file: &mut File) -> String {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let mut text = String::new();
        let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
        let pid = text.trim();
        if !pid.is_empty() || Instant::now() > deadline {
            return if pid.is_empty() {
                "unknown".into()
            } else {
                pid.to_owned()
            };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
