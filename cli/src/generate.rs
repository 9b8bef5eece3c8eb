//! `shm-clip completions SHELL`: a shell completion script from the clap
//! definitions in `args`, so that it cannot drift from the real flags. (The
//! man pages and the packaged completions come from the same definitions,
//! written by `build.rs`.)

use clap_complete::Shell;

use crate::errors::CliError;
use crate::output;

/// Writes the completion script for `shell` to stdout.
pub fn completions(shell: Shell) -> Result<(), CliError> {
    output::bytes(&crate::args::completion_script(shell))
}
