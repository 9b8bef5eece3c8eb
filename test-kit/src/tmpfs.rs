//! A small tmpfs of its own for a test (full-disk tests): mounted with a
//! `size=` limit and mode 0700, unmounted on drop. Mounting needs root,
//! which CI has; anywhere else the test fails, it is never skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A mounted tmpfs, unmounted (and its mount point removed) on drop.
#[derive(Debug)]
pub struct SmallDisk(PathBuf);

impl SmallDisk {
    /// Mounts a tmpfs of `size` (as `mount -o size=` takes it: `2m`, `48m`)
    /// at `at`, creating the directory.
    pub fn mount(at: PathBuf, size: &str) -> SmallDisk {
        assert!(
            nix::unistd::geteuid().is_root(),
            "a full-disk test mounts a tmpfs and needs root (CI runs as root)"
        );
        std::fs::create_dir_all(&at).expect("create the mount point");
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&at)
            .status()
            .expect("mount (util-linux) must be installed");
        assert!(
            status.success(),
            "mount -t tmpfs at {} failed",
            at.display()
        );
        SmallDisk(at)
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        match Command::new("umount").arg(&self.0).status() {
            Ok(s) if s.success() => {
                let _ = std::fs::remove_dir(&self.0);
            }
            // Still in use (a file the test left open): said, so that a
            // mount left behind is noticed.
            other => eprintln!("umount {}: {other:?}", self.0.display()),
        }
    }
}
