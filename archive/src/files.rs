//! Where the archive lives, and the checks before SQLite may open it: the
//! same rules as the board's segment (owned by this user, nobody else may
//! read it), because it holds the same secrets for longer. Its directory
//! must be this user's and writable by nobody else.

use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The environment variable that names another archive file (tests, and
/// users who keep it elsewhere).
pub const ARCHIVE_ENV: &str = "SHM_CLIP_ARCHIVE";

/// The archive file: `$SHM_CLIP_ARCHIVE` if set, else `archive.sqlite3` in
/// the XDG data directory (`~/.local/share/shm-clip/archive.sqlite3`).
pub fn default_path() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(ARCHIVE_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    Ok(shm_clip::Config::data_dir()?.join("archive.sqlite3"))
}

/// Makes sure `path`'s directory exists as a directory of this user that
/// nobody else may write (created 0700), and that `path`, if it exists, is
/// a 0600 regular file of this user.
/// Creates an empty 0600 file when there is none and `create` is set.
/// Returns whether the file exists afterwards.
pub(crate) fn prepare(path: &Path, create: bool) -> Result<bool> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if create && !dir.exists() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| Error::Io {
                path: dir.to_owned(),
                source,
            })?;
    }
    match std::fs::metadata(dir) {
        Ok(meta) => check(dir, &meta, true)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !create => return Ok(false),
        Err(source) => {
            return Err(Error::Io {
                path: dir.to_owned(),
                source,
            });
        }
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            check(path, &meta, false)?;
            // SQLite makes these with the database's mode, but one left
            // behind by another program would be used as it is.
            for suffix in ["-wal", "-shm", "-journal"] {
                let side = side_file(path, suffix);
                if let Ok(meta) = std::fs::symlink_metadata(&side) {
                    check(&side, &meta, false)?;
                }
            }
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !create {
                return Ok(false);
            }
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(nix::libc::O_NOFOLLOW)
                .open(path)
                .map_err(|source| Error::Io {
                    path: path.to_owned(),
                    source,
                })?;
            Ok(true)
        }
        Err(source) => Err(Error::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// `path` with `suffix` appended (`archive.sqlite3-wal`).
#[must_use]
pub fn side_file(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn check(path: &Path, meta: &std::fs::Metadata, dir: bool) -> Result<()> {
    let euid = nix::unistd::geteuid().as_raw();
    let kind_ok = if dir {
        meta.is_dir()
    } else {
        meta.file_type().is_file()
    };
    if !kind_ok {
        let what = if meta.file_type().is_symlink() {
            "a symbolic link, which the archive never follows".to_owned()
        } else if dir {
            "not a directory".to_owned()
        } else {
            "not a regular file".to_owned()
        };
        return Err(Error::NotAFile {
            path: path.to_owned(),
            what,
        });
    }
    if meta.uid() != euid {
        return Err(Error::NotOwner {
            path: path.to_owned(),
            uid: meta.uid(),
            euid,
        });
    }
    let mode = meta.mode() & 0o7777;
    // The file: nobody else may read or write it. Its directory: nobody
    // else may add, remove or rename files in it (a 0755 directory is
    // fine: the window's eframe makes the data directory so). A directory
    // the archive creates is 0700.
    let (forbidden, fix) = if dir {
        (0o022, mode & !0o022)
    } else {
        (0o077, 0o600)
    };
    if mode & forbidden != 0 {
        return Err(Error::Permissions {
            path: path.to_owned(),
            mode,
            fix,
        });
    }
    Ok(())
}
