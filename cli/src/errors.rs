//! The CLI's errors and how they reach the user: `shm-clip: what: why (hint)`.

use std::io::{self, Write};
use std::process::ExitCode;

use nix::errno::Errno;

/// Everything a subcommand can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The library refused or failed.
    #[error(transparent)]
    Board(#[from] shm_clip::Error),

    /// The archive refused or failed.
    #[error("archive: {0}")]
    Archive(#[from] shm_clip_archive::Error),

    /// An archive command, and there is no archive file yet.
    #[error("there is no archive yet at {}", path.display())]
    NoArchive { path: std::path::PathBuf },

    /// `archive run` with `archive.enabled = false`.
    #[error("archive run: the archive is turned off (archive.enabled = false in {})", path.display())]
    ArchiveDisabled { path: std::path::PathBuf },

    /// Reading the input failed.
    #[error("reading {path}: {source}")]
    Read { path: String, source: io::Error },

    /// Writing a file or directory failed.
    #[error("writing {path}: {source}")]
    Write { path: String, source: io::Error },

    /// Writing to stdout failed; a broken pipe is not reported.
    #[error("writing to stdout: {0}")]
    Stdout(io::Error),

    /// The `--exec` command could not be started or waited for.
    #[error(
        "watch --exec: cannot run sh -c {} for seq {seq}: {source}",
        shell_quote(cmd)
    )]
    Exec {
        cmd: String,
        seq: u64,
        source: io::Error,
    },

    /// The `pick --menu` command could not be started or waited for.
    #[error("pick --menu: cannot run sh -c {}: {source}", shell_quote(cmd))]
    Menu { cmd: String, source: io::Error },

    /// `rm` of a pinned entry without `--force`.
    #[error("entry seq {seq} is pinned; not deleting it")]
    Pinned { seq: u64 },

    /// `rm --archive` of a pinned archived clip without `--force`.
    #[error("archived clip {id} is pinned; not deleting it")]
    PinnedArchived { id: i64 },

    /// The user cancelled a menu or the picker: exit 1, say nothing.
    #[error("cancelled")]
    Cancelled,

    /// `--menu-line` got something that is not a menu line.
    #[error("reading the menu line: {0}")]
    MenuLine(String),

    /// `pick` without `--menu` needs a terminal.
    #[error("pick: stdin and stdout are not a terminal")]
    NoTerminal,

    /// Setting up or drawing the terminal picker failed.
    #[error("terminal: {0}")]
    Terminal(io::Error),

    /// Another OS call failed.
    #[error("{what}: {errno}")]
    Os { what: &'static str, errno: Errno },

    /// `SHM_CLIP_BOARD` does not hold a board name.
    #[error("{}={value:?} is not a board name: {reason}", crate::args::BOARD_ENV)]
    BoardEnv { value: String, reason: &'static str },

    /// TEXT or --file, and data on stdin too: which one was meant?
    #[error("copy: got {named} and data on stdin; it is unclear which to copy")]
    TwoInputs { named: &'static str },

    /// The input is larger than the board can hold. `exact` is false when
    /// reading stopped early, so that `size` is a lower bound.
    #[error(
        "clip of {}{size} bytes ({}) from {input} is larger than this board can hold ({limit} bytes free for one {mime} clip){}",
        if *exact { "" } else { "at least " },
        crate::human::size(*size),
        if *exact { "" } else { "; stopped reading there" }
    )]
    InputTooLarge {
        input: String,
        size: u64,
        exact: bool,
        limit: u64,
        mime: String,
    },

    /// `paste` to a terminal of a clip that is not text.
    #[error("paste: not writing the clip to the terminal: it is {mime} ({}), not text", crate::human::size(*size))]
    NotText { mime: String, size: u64 },

    /// `--primary` without a tray on the board.
    #[error(
        "--primary: no tray is running on board {board}, and the PRIMARY selection is reached through it"
    )]
    NoTray { board: String },

    /// `--primary`: the tray could not do it, and says why.
    #[error("--primary: the tray on board {board} refused: {why}")]
    TrayRefused { board: String, why: String },

    /// `destroy` of a board that does not exist.
    #[error("board {board:?} does not exist, so there is nothing to destroy")]
    NothingToDestroy { board: String },
}

impl CliError {
    /// Wraps a failed OS call.
    pub fn os(what: &'static str) -> impl FnOnce(Errno) -> CliError {
        move |errno| CliError::Os { what, errno }
    }

    /// What to do about it, where the library knows.
    fn hint(&self) -> Option<String> {
        match self {
            CliError::Board(err) | CliError::Archive(shm_clip_archive::Error::Board(err)) => {
                err.hint()
            }
            CliError::NoArchive { .. } => Some(
                "an archiver makes it: the tray runs one, or start `shm-clip archive run`".into(),
            ),
            CliError::ArchiveDisabled { .. } => {
                Some("set archive.enabled = true there to archive clips".into())
            }
            CliError::BoardEnv { .. } => Some(format!(
                "set {} to 1-64 characters from A-Z a-z 0-9 . _ -, or unset it; --board NAME overrides it",
                crate::args::BOARD_ENV
            )),
            CliError::TwoInputs { named } => Some(format!(
                "copy stdin alone with: shm-clip copy, or the {named} alone with stdin redirected: ... < /dev/null"
            )),
            CliError::InputTooLarge { size, limit, .. } => shm_clip::Error::ClipTooLarge {
                size: *size,
                capacity: *limit,
            }
            .hint(),
            CliError::NotText { .. } => Some(
                "redirect it to a file: shm-clip paste > file, or write it anyway with --force"
                    .into(),
            ),
            CliError::NoTray { board } => {
                Some(format!("start one: shm-clip-app --tray --board {board}"))
            }
            CliError::NothingToDestroy { .. } => {
                Some("list your boards with: shm-clip boards".into())
            }
            CliError::Pinned { seq } => Some(format!(
                "unpin it first (shm-clip unpin --seq {seq}), or delete it anyway: shm-clip rm --seq {seq} --force"
            )),
            CliError::PinnedArchived { id } => Some(format!(
                "unpin it first (shm-clip unpin --archive {id}), or delete it anyway: shm-clip rm --archive {id} --force"
            )),
            CliError::MenuLine(_) => {
                Some("give it a line that `shm-clip history --menu` printed".into())
            }
            CliError::NoTerminal => Some("give a menu program with --menu CMD".into()),
            _ => None,
        }
    }

    /// A reader went away: like `cat`, stop quietly with status 0.
    fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Stdout(err) if err.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// `text` as one sh word: single-quoted unless it is plainly safe.
pub fn shell_quote(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Prints a problem that does not stop the program, as `report` prints one
/// that does: `shm-clip: what: why`.
pub fn warn(message: &str) {
    let _ = writeln!(io::stderr(), "shm-clip: {message}");
}

/// Prints `err` to stderr and returns the exit status for it.
pub fn report(err: &CliError) -> ExitCode {
    if err.is_broken_pipe() {
        tracing::debug!("stdout closed by its reader; exiting quietly");
        return ExitCode::SUCCESS;
    }
    if matches!(err, CliError::Cancelled) {
        tracing::debug!("cancelled; nothing changed");
        return ExitCode::FAILURE;
    }
    // `archive run` next to a running archiver (the tray's): a status of its
    // own, so that the systemd unit does not restart it again and again.
    let status = if matches!(
        err,
        CliError::Archive(shm_clip_archive::Error::Running { .. })
    ) {
        ExitCode::from(3)
    } else {
        ExitCode::FAILURE
    };
    let message = match err.hint() {
        Some(hint) => format!("shm-clip: {err} ({hint})\n"),
        None => format!("shm-clip: {err}\n"),
    };
    // Nothing sensible is left to do if stderr is gone too.
    let _ = io::stderr().write_all(message.as_bytes());
    status
}
