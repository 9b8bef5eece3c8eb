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
        let umount = |lazy: bool| {
            let mut cmd = Command::new("umount");
            if lazy {
                cmd.arg("-l");
            }
            cmd.arg(&self.0).status().is_ok_and(|s| s.success())
        };
        // Still in use (a file a failing test left open, a child not yet
        // reaped): detached lazily instead, so that no mount outlives the
        // test; said, so that it is noticed.
        if !umount(false) {
            eprintln!("umount {}: busy; detaching it lazily", self.0.display());
            if !umount(true) {
                eprintln!("umount -l {} failed too", self.0.display());
                return;
            }
        }
        let _ = std::fs::remove_dir(&self.0);
    }
}
