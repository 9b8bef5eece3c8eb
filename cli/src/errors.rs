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

    /// Reading the input failed.
    #[error("reading {path}: {source}")]
    Read { path: String, source: io::Error },

    /// Writing a file or directory failed.
    #[error("writing {path}: {source}")]
    Write { path: String, source: io::Error },

    /// Writing to stdout failed; a broken pipe is not reported.
    #[error("writing to stdout: {0}")]
    Stdout(io::Error),

    /// The `--exec` command could not be started.
    #[error("running sh -c {cmd:?}: {source}")]
    Exec { cmd: String, source: io::Error },

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
}

impl CliError {
    /// Wraps a failed OS call.
    pub fn os(what: &'static str) -> impl FnOnce(Errno) -> CliError {
        move |errno| CliError::Os { what, errno }
    }

    /// What to do about it, where the library knows.
    fn hint(&self) -> Option<String> {
        match self {
            CliError::Board(err) => err.hint(),
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
    let message = match err.hint() {
        Some(hint) => format!("shm-clip: {err} ({hint})\n"),
        None => format!("shm-clip: {err}\n"),
    };
    // Nothing sensible is left to do if stderr is gone too.
    let _ = io::stderr().write_all(message.as_bytes());
    ExitCode::FAILURE
}
