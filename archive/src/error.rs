//! The archive's one error type: each variant names the file and, where
//! there is one, the fix.

use std::path::PathBuf;

/// What went wrong with the archive.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The archive's directory or file belongs to another user.
    #[error(
        "{path}: owned by uid {uid}, not by you (uid {euid}); the archive holds your clipboard history, so it is not used. Fix: `chown {euid} {path}`, or move it away"
    )]
    NotOwner { path: PathBuf, uid: u32, euid: u32 },
    /// Group or others may read or write the archive file, or write its
    /// directory.
    #[error(
        "{path}: mode {mode:04o} lets group or others in; the archive holds your clipboard history, so it is not used. Fix: `chmod {fix:o} {path}`"
    )]
    Permissions { path: PathBuf, mode: u32, fix: u32 },
    /// The path exists but is not a regular file (or directory).
    #[error("{path}: {what}; move it away, the archive never replaces it")]
    NotAFile { path: PathBuf, what: String },
    /// The file is not an SQLite database.
    #[error(
        "{path}: not an SQLite database, so it is not the archive; it is left as it is. Fix: move it away (a new archive is made in its place) or set SHM_CLIP_ARCHIVE to another file"
    )]
    NotADatabase { path: PathBuf },
    /// SQLite found the database damaged.
    #[error(
        "{path}: the archive is damaged ({detail}); it is left as it is. Fix: `sqlite3 {path} .recover > archive.sql` to rescue it, then move it away"
    )]
    Corrupt { path: PathBuf, detail: String },
    /// The scrub's own machinery failed (its copy came out unusable, or its
    /// copy-back did not end as SQLite promises): the archive was not
    /// changed, and the scrub stays due.
    #[error(
        "{path}: the scrub of deleted clips failed ({detail}); the archive was not changed, and the deleted clips' bytes may stay in its free space. Fix: `shm-clip archive vacuum` tries again; if it fails the same way, check the archive with `sqlite3 {path} 'PRAGMA integrity_check'`"
    )]
    ScrubFailed { path: PathBuf, detail: String },
    /// A newer shm-clip wrote the database.
    #[error(
        "{path}: schema version {found}, but this shm-clip knows versions up to {supported}; a newer shm-clip made it, so it is left as it is. Fix: use that newer shm-clip, or move the file away"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    /// The disk (or quota) is full.
    #[error("{path}: the disk is full; archiving resumes when there is space again")]
    DiskFull { path: PathBuf },
    /// A scrub needs room for a copy of the archive and its WAL beside it.
    #[error(
        "{path}: the scrub of deleted clips needs {} MiB free beside the archive (for a copy of it and its WAL) and the disk has {} MiB; until it runs, the deleted clips' bytes may stay in the file's free space. Fix: free some disk space, or make the archive smaller (`shm-clip archive prune --older-than 30d`, or a lower `archive.max_bytes`); a running archiver tries again later",
        need.div_ceil(1 << 20),
        avail >> 20
    )]
    NoRoomToScrub {
        path: PathBuf,
        need: u64,
        avail: u64,
    },
    /// Another program's open read or write kept [`crate::Archive::scrub`]
    /// from finishing.
    #[error(
        "{path}: another program kept the archive busy (a search or a write left open), so the scrub of deleted clips did not finish; their bytes may still be in its free space or its WAL. Fix: close the other program, then `shm-clip archive vacuum` (a running archiver also finishes it at its next look, within seconds)"
    )]
    Busy { path: PathBuf },
    /// No archived clip has that id.
    #[error("no archived clip has id {0}; `shm-clip history --archive` lists them")]
    NoSuchClip(i64),
    /// Another archiver runs for this board.
    #[error(
        "an archiver is already running for board {board:?} (pid {pid}); it may be the tray's. Stop it first (kill {pid}), or leave it: one is enough"
    )]
    Running { board: String, pid: String },
    /// The archiver's lock file could not be used.
    #[error("cannot use the archiver lock file {path}: {why}")]
    LockFile { path: PathBuf, why: String },
    /// `archive export` was given a place it will not write into.
    #[error("cannot export into {path}: {why}")]
    ExportTarget { path: PathBuf, why: &'static str },
    /// A file system operation failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Any other SQLite error.
    #[error("{path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The board failed.
    #[error(transparent)]
    Board(#[from] shm_clip::Error),
}

/// The archive's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether this error is the disk running out of space: worth a warning
    /// and a retry later, not an exit.
    #[must_use]
    pub fn is_disk_full(&self) -> bool {
        matches!(self, Error::DiskFull { .. } | Error::NoRoomToScrub { .. })
    }

    /// Whether another connection's lock stopped the archive past its busy
    /// timeout (a write or a scrub left open by another program): worth a
    /// warning and a retry later, not an exit.
    #[must_use]
    pub fn is_busy(&self) -> bool {
        match self {
            Error::Busy { .. } => true,
            Error::Sqlite { source, .. } => crate::archive::is_busy(source),
            _ => false,
        }
    }
}

/// Turns an SQLite error on `path` into the variant that says what to do.
pub(crate) fn sqlite(path: &std::path::Path, err: rusqlite::Error) -> Error {
    use rusqlite::ffi::ErrorCode;
    let path = path.to_owned();
    match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => Error::NotADatabase { path },
        Some(ErrorCode::DatabaseCorrupt) => Error::Corrupt {
            path,
            detail: err.to_string(),
        },
        Some(ErrorCode::DiskFull) => Error::DiskFull { path },
        _ => Error::Sqlite { path, source: err },
    }
}
