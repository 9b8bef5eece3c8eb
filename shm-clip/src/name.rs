//! Board names and the per-user names of the OS objects behind them.

use std::fmt;

/// The board used when none is named.
pub const DEFAULT_BOARD: &str = "default";

/// A validated board name: 1–64 characters from `[A-Za-z0-9._-]`.
///
/// The OS objects of board `B` for user `U` are named
/// `/shm-clip.U.B` (the segment, in `/dev/shm`) and
/// `/shm-clip.U.B@PID.NONCE` (each mailbox, in the mqueue namespace). `@` cannot
/// occur in a board name, so no board's mailboxes match another board's prefix.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BoardName(String);

impl BoardName {
    /// Validates `name`.
    pub fn new(name: &str) -> crate::Result<Self> {
        let invalid = |reason| crate::Error::InvalidName {
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() {
            return Err(invalid("it is empty"));
        }
        if name.len() > 64 {
            return Err(invalid("it is longer than 64 characters"));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(invalid("only A-Z a-z 0-9 . _ - are allowed"));
        }
        if name == "." || name == ".." {
            return Err(invalid("it is a path component"));
        }
        Ok(BoardName(name.to_owned()))
    }

    /// The board named by `SHM_CLIP_BOARD`, or `default`.
    pub fn from_env() -> crate::Result<Self> {
        match std::env::var("SHM_CLIP_BOARD") {
            Ok(name) => Self::new(&name),
            Err(_) => Self::new(DEFAULT_BOARD),
        }
    }

    /// The name as a string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `shm_open` name of this board's segment for user `uid`.
    pub(crate) fn segment_name(&self, uid: u32) -> String {
        format!("/{}{}", segment_prefix(uid), self.0)
    }

    /// Where this board's tray takes requests from the command line
    /// (`copy/paste --primary`): a Unix socket in `$XDG_RUNTIME_DIR` (else
    /// the temp directory), beside the tray's lock file.
    #[must_use]
    pub fn tray_socket_path(&self) -> std::path::PathBuf {
        let uid = nix::unistd::geteuid().as_raw();
        let dir = std::env::var_os("XDG_RUNTIME_DIR")
            .filter(|d| !d.is_empty())
            .map_or_else(std::env::temp_dir, std::path::PathBuf::from);
        dir.join(format!("shm-clip-tray-{uid}-{}.sock", self.0))
    }

    /// The prefix that every mailbox name of this board starts with.
    pub(crate) fn mailbox_prefix(&self, uid: u32) -> String {
        format!("{}@", self.segment_name(uid))
    }
}

/// `shm-clip.UID.`: the start of every segment name of a user, without the slash.
pub(crate) fn segment_prefix(uid: u32) -> String {
    format!("shm-clip.{uid}.")
}

impl fmt::Display for BoardName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for BoardName {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        Self::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_names() {
        for name in ["default", "a", "Work-2.x_y", &"x".repeat(64)] {
            assert!(BoardName::new(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn refuses_invalid_names() {
        for name in ["", "../x", "a/b", &"x".repeat(65), "sp ace", "é", ".", ".."] {
            assert!(BoardName::new(name).is_err(), "{name:?}");
        }
    }

    #[test]
    fn names_are_per_user() {
        let b = BoardName::new("work").unwrap();
        assert_eq!(b.segment_name(1000), "/shm-clip.1000.work");
        assert_eq!(b.mailbox_prefix(0), "/shm-clip.0.work@");
    }
}
