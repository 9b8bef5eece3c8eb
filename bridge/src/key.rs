//! The board key: 256 random bits in a 0600 file of this user, as 64 hex
//! digits so that it can be pasted through a terminal.
//!
//! A key that others can read, or that another user owns, is refused the way
//! the library refuses such a segment: someone else could read or swap it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A board key. Its bytes never appear in logs or `Debug`.
#[derive(Clone)]
pub struct BoardKey([u8; 32]);

impl std::fmt::Debug for BoardKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BoardKey(..)")
    }
}

impl BoardKey {
    /// A fresh key from the OS's random source.
    pub fn generate() -> BoardKey {
        let mut key = [0; 32];
        getrandom::fill(&mut key).expect("the OS random source");
        BoardKey(key)
    }

    /// A key with these bytes (tests, benches).
    pub fn from_bytes(bytes: [u8; 32]) -> BoardKey {
        BoardKey(bytes)
    }

    /// The raw key.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Reads a key file, refusing one that is not a regular 0600 file of ours.
    pub fn load(path: &Path) -> Result<BoardKey> {
        let fail = |message: String| Error::Key {
            path: path.to_owned(),
            message,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(path)
            .map_err(|err| fail(format!("cannot open it: {err}")))?;
        // fstat the opened file, not the path: it cannot be swapped in between.
        let meta = file
            .metadata()
            .map_err(|err| fail(format!("cannot stat it: {err}")))?;
        if !meta.is_file() {
            return Err(fail("is not a regular file".into()));
        }
        let uid = nix::unistd::geteuid().as_raw();
        if meta.uid() != uid {
            return Err(fail(format!(
                "belongs to uid {}, not to you (uid {uid})",
                meta.uid()
            )));
        }
        let mode = meta.mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(fail(format!(
                "has mode {mode:04o}: others can read it, it must be 0600"
            )));
        }
        let mut text = String::new();
        (&mut file)
            .take(256)
            .read_to_string(&mut text)
            .map_err(|err| fail(format!("cannot read it: {err}")))?;
        parse_hex(text.trim()).map(BoardKey).ok_or_else(|| {
            fail(
                "does not hold a key: expected 64 hex digits (as `shm-clip-bridge keygen` writes)"
                    .into(),
            )
        })
    }

    /// Writes the key to a new 0600 file; never overwrites one.
    pub fn write_new(&self, path: &Path) -> Result<()> {
        let fail = |message: String| Error::Key {
            path: path.to_owned(),
            message,
        };
        let mut file: File = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|err| {
                if err.kind() == std::io::ErrorKind::AlreadyExists {
                    fail("already exists; a new key would cut this machine off its bridged boards. Remove it first if you mean it".into())
                } else {
                    fail(format!("cannot create it: {err}"))
                }
            })?;
        let hex = crate::naming::hex(&self.0);
        file.write_all(format!("{hex}\n").as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|err| fail(format!("cannot write it: {err}")))
    }
}

fn parse_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Where a key goes when `keygen` is given no path.
pub fn default_key_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "shm-clip").map(|d| d.config_dir().join("bridge.key"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("shm-clip-bridge-key-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_written_key_reads_back_and_is_0600() {
        let dir = scratch("rw");
        let path = dir.join("k");
        let key = BoardKey::generate();
        key.write_new(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(BoardKey::load(&path).unwrap().bytes(), key.bytes());
        let again = BoardKey::generate()
            .write_new(&path)
            .unwrap_err()
            .to_string();
        assert!(again.contains("already exists"), "{again}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_key_others_can_read_is_refused() {
        let dir = scratch("mode");
        let path = dir.join("k");
        BoardKey::generate().write_new(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = BoardKey::load(&path).unwrap_err();
        assert!(err.to_string().contains("mode 0644"), "{err}");
        assert!(err.hint().unwrap().contains("chmod 600"), "{err:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_key_of_another_user_is_refused() {
        let dir = scratch("owner");
        let path = dir.join("k");
        let target = if nix::unistd::geteuid().is_root() {
            BoardKey::generate().write_new(&path).unwrap();
            nix::unistd::chown(&path, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
            path
        } else {
            // Not root: a file root owns stands for "another user's".
            PathBuf::from("/etc/passwd")
        };
        let err = BoardKey::load(&target).unwrap_err().to_string();
        assert!(err.contains("belongs to uid"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn garbage_and_symlinks_are_refused() {
        let dir = scratch("garbage");
        let path = dir.join("k");
        std::fs::write(&path, "not a key\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(
            BoardKey::load(&path)
                .unwrap_err()
                .to_string()
                .contains("64 hex digits")
        );
        let link = dir.join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(
            BoardKey::load(&link)
                .unwrap_err()
                .to_string()
                .contains("cannot open")
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
