//! One archiver per board: an exclusive `flock` on a per-user, per-board
//! lock file in `$XDG_RUNTIME_DIR`, as the tray has one per board.
//!
//! The kernel drops the lock when its holder exits, however it exits (a
//! SIGKILL too), so a crashed archiver never blocks the next one. The holder
//! writes its pid into the file for the loser's message.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::PathBuf;

use nix::fcntl::{Flock, FlockArg};
use shm_clip::BoardName;

use crate::{Error, Result};

/// Held for the archiver's lifetime.
#[derive(Debug)]
pub struct Instance {
    _lock: Flock<File>,
}

/// The lock file of `board`'s archiver.
#[must_use]
pub fn lock_path(board: &BoardName) -> PathBuf {
    let uid = nix::unistd::geteuid().as_raw();
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(std::env::temp_dir, PathBuf::from);
    dir.join(format!("shm-clip-archiver-{uid}-{board}.lock"))
}

/// Becomes the one archiver of `board`, or says which process already is.
pub fn acquire(board: &BoardName) -> Result<Instance> {
    let path = lock_path(board);
    let fail = |why: String| Error::LockFile {
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
        .custom_flags(nix::libc::O_NOFOLLOW)
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
        Err((mut file, nix::errno::Errno::EWOULDBLOCK)) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let pid = text.trim();
            Err(Error::Running {
                board: board.to_string(),
                pid: if pid.is_empty() {
                    "unknown".into()
                } else {
                    pid.to_owned()
                },
            })
        }
        Err((_, errno)) => Err(fail(errno.desc().to_owned())),
    }
}
