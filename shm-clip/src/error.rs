//! The crate's one error type.

use std::path::PathBuf;

use nix::errno::Errno;

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong with a board.
///
/// `Display` reads as `what: why`; [`Error::hint`] says what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The board name is not 1–64 characters of `[A-Za-z0-9._-]`.
    #[error("invalid board name {name:?}: {reason}")]
    InvalidName { name: String, reason: &'static str },

    /// The board has not been created yet.
    #[error("board {name:?} does not exist")]
    NoSuchBoard { name: String },

    /// The board this handle was using has been removed (`shm-clip destroy`,
    /// or its file deleted from /dev/shm). Its clips are gone; opening the
    /// name again gives a fresh, empty board.
    #[error("board {name:?} was destroyed")]
    BoardDestroyed { name: String },

    /// The segment exists but is not ours alone: refused, never read or written.
    #[error(
        "refusing segment {path}: owned by uid {owner} with mode {mode:04o}, expected uid {expected_uid} and mode 0600 ({reason})"
    )]
    UnsafeSegment {
        path: PathBuf,
        owner: u32,
        mode: u32,
        expected_uid: u32,
        reason: &'static str,
    },

    /// The segment is too small or too large to be a board.
    #[error("refusing segment {path}: size {size} bytes is not a valid board size ({reason})")]
    BadSize {
        path: PathBuf,
        size: u64,
        reason: &'static str,
    },

    /// The segment does not start with the shm-clip magic.
    #[error("refusing segment {path}: it is not an shm-clip board (bad magic)")]
    BadMagic { path: PathBuf },

    /// The segment was written by a build with another layout version.
    #[error(
        "refusing segment {path}: layout version {found}, this build speaks version {expected}"
    )]
    IncompatibleLayout {
        path: PathBuf,
        found: u32,
        expected: u32,
    },

    /// The segment was created by a build with another ABI (arch, libc, mutex size).
    #[error("refusing segment {path}: created by ABI {found:?}, this build is {expected:?}")]
    AbiMismatch {
        path: PathBuf,
        found: String,
        expected: String,
    },

    /// The segment was created in another pid namespace.
    #[error(
        "refusing segment {path}: created in pid namespace {found}, this process is in {expected}"
    )]
    PidNamespace {
        path: PathBuf,
        found: u64,
        expected: u64,
    },

    /// A header field is inconsistent with the file.
    #[error("refusing segment {path}: corrupt header: {what}")]
    CorruptHeader { path: PathBuf, what: String },

    /// The creator never finished initialising the segment.
    #[error("segment {path} was never initialised (its creator probably died)")]
    InitTimeout { path: PathBuf },

    /// A board was to be created with a size outside [`CreateOptions`]'
    /// ranges: the caller's mistake, refused before anything is created.
    ///
    /// [`CreateOptions`]: crate::CreateOptions
    #[error("cannot create a board with {what} {value}: it must be {range}")]
    InvalidCreateOptions {
        what: &'static str,
        value: u64,
        range: &'static str,
    },

    /// The clip cannot fit in the board's arena.
    #[error(
        "clip of {size} bytes is larger than this board can hold ({capacity} bytes free for one clip)"
    )]
    ClipTooLarge { size: u64, capacity: u64 },

    /// /dev/shm (a tmpfs) has no room left for the memory a board needs:
    /// refused before a byte is written, where a full tmpfs would otherwise
    /// kill the writer with `SIGBUS` in the middle of its write.
    #[error("no room in /dev/shm for {bytes} more bytes of {path}: it is full")]
    SharedMemoryFull { path: PathBuf, bytes: u64 },

    /// The caller's clip cannot be stored as given (no representation, an
    /// empty or overlong MIME type): invalid input, not corruption.
    #[error("invalid clip: {what}")]
    InvalidClip { what: String },

    /// The history index has no free slot and every entry is pinned.
    #[error("history is full of pinned entries")]
    HistoryFull,

    /// The board holds no clip.
    #[error("the board is empty")]
    Empty,

    /// No history entry matches.
    #[error("no such entry: {what}")]
    NoSuchEntry { what: String },

    /// The clip has no representation of the requested type.
    #[error("the clip has no {mime} representation (it has: {})", available.join(", "))]
    NoSuchType {
        mime: String,
        available: Vec<String>,
    },

    /// An entry failed validation: torn, corrupt or hostile. Never returned as data.
    #[error("entry seq {seq} is corrupt: {what}")]
    CorruptEntry { seq: u64, what: String },

    /// The lock could not be taken in time.
    #[error("timed out after {waited_ms} ms waiting for the board lock")]
    LockTimeout { waited_ms: u64 },

    /// The mutex is unusable. Recovery is designed to make this impossible.
    #[error("the board lock is not recoverable")]
    LockUnrecoverable,

    /// Every subscriber slot holds a live process.
    #[error("the subscriber table is full ({slots} live subscribers)")]
    SubscriberTableFull { slots: usize },

    /// A mailbox could not be created because of a kernel limit.
    #[error("cannot create mailbox {name}: {errno}")]
    QueueLimit { name: String, errno: Errno },

    /// Another OS call failed.
    #[error("{what}: {errno}")]
    Os { what: String, errno: Errno },

    /// The config file is invalid: nothing starts with a half-read config.
    #[error(
        "invalid config {}{}{}: {message}",
        path.display(),
        line.map(|l| format!(", line {l}")).unwrap_or_default(),
        key.as_ref().map(|k| format!(", key `{k}`")).unwrap_or_default()
    )]
    Config {
        path: PathBuf,
        line: Option<usize>,
        key: Option<String>,
        message: String,
    },
}

impl Error {
    /// A sentence telling the user how to fix the problem, where there is one.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Error::InvalidName { .. } => {
                "use 1-64 characters from A-Z a-z 0-9 . _ -, for example --board work".into()
            }
            Error::NoSuchBoard { .. } => "copy something to create it: shm-clip copy TEXT".into(),
            Error::BoardDestroyed { .. } => {
                "its clips are gone; open the board again to start a fresh, empty one".into()
            }
            // Ours, but readable by others (a chmod, or a copy kept with
            // cp -a): not a trap, and ours to remove.
            Error::UnsafeSegment {
                path,
                owner,
                expected_uid,
                ..
            } if owner == expected_uid => format!(
                "it is yours, but others may read it, so it is not used; if no program of yours set that on purpose, remove it with: shm-clip --board {} destroy --force (the next copy makes a private one)",
                board_of(path)
            ),
            Error::UnsafeSegment { path, .. } | Error::BadSize { path, .. } => format!(
                "someone else may have created it to spy on you; inspect it, then remove it as its owner or root: rm {}",
                path.display()
            ),
            Error::IncompatibleLayout { path, found, .. } => format!(
                "it was made by a shm-clip that speaks layout version {found}; stop the programs of that version that use it (tray, window), then remove it with: shm-clip --board {} destroy --force",
                board_of(path)
            ),
            Error::BadMagic { path }
            | Error::AbiMismatch { path, .. }
            | Error::CorruptHeader { path, .. }
            | Error::InitTimeout { path } => format!(
                "if no shm-clip of another version uses it, remove it: shm-clip destroy --force (or rm {})",
                path.display()
            ),
            Error::PidNamespace { .. } => {
                "boards cannot be shared across pid namespaces (containers, Flatpak); use a separate --board inside the sandbox".into()
            }
            Error::ClipTooLarge { .. } => {
                "use a larger board: shm-clip --board big --capacity 512M copy ..., or set board.capacity in config.toml (shm-clip config path) for new boards; a board's capacity is fixed when it is created, so destroy and recreate it to grow".into()
            }
            Error::SharedMemoryFull { .. } => {
                "free some of it (df -h /dev/shm shows how full it is; shm-clip boards lists your boards, and shm-clip --board NAME destroy removes one), or copy something smaller; in a container, give it a larger /dev/shm (docker run --shm-size=1g)".into()
            }
            Error::HistoryFull => "unpin some entries: shm-clip unpin N".into(),
            Error::InvalidCreateOptions { .. } => {
                "choose a size in that range (--capacity, --depth, or board.capacity and board.depth in config.toml)".into()
            }
            Error::Empty => "copy something first: shm-clip copy TEXT".into(),
            Error::NoSuchEntry { .. } => "list entries with: shm-clip history".into(),
            Error::NoSuchType { .. } => "list types with: shm-clip paste --list-types".into(),
            Error::LockTimeout { .. } => {
                "another process holds the lock and is stuck; find it with: shm-clip status".into()
            }
            Error::SubscriberTableFull { .. } => {
                "close some shm-clip windows or watchers; dead ones are reaped automatically".into()
            }
            Error::QueueLimit { .. } => {
                "raise the per-user limit (ulimit -q, RLIMIT_MSGQUEUE) or the system ones (sysctl fs.mqueue.queues_max, fs.mqueue.msg_max); copy and paste still work without live updates".into()
            }
            // SHM_CLIP_CONFIG=/tmp: removing the directory is not the fix.
            Error::Config { path, .. } if path.is_dir() => format!(
                "{} is a directory; the config is a file: point SHM_CLIP_CONFIG at a config.toml (shm-clip config path shows where it is looked for)",
                path.display()
            ),
            Error::Config { path, .. } => format!(
                "fix or remove {}; every setting and its default is in the README",
                path.display()
            ),
            Error::CorruptEntry { .. }
            | Error::InvalidClip { .. }
            | Error::LockUnrecoverable | Error::Os { .. } => return None,
        })
    }

    pub(crate) fn os(what: impl Into<String>, errno: Errno) -> Self {
        Error::Os {
            what: what.into(),
            errno,
        }
    }
}

/// The board name in a segment path `/dev/shm/shm-clip.<uid>.<board>`.
fn board_of(path: &std::path::Path) -> String {
    path.file_name()
        .and_then(|f| f.to_str())
        .and_then(|f| f.splitn(3, '.').nth(2))
        .unwrap_or("NAME")
        .to_owned()
}
