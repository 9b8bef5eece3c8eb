//! `shm-clip completions SHELL` and the unlisted `shm-clip generate-man DIR`:
//! shell completions and man pages from the clap definitions in `args`, so
//! that neither can drift from the real flags.

use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::args::Args;
use crate::errors::CliError;
use crate::output;

/// Writes the completion script for `shell` to stdout.
pub fn completions(shell: Shell) -> Result<(), CliError> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Args::command(), "shm-clip", &mut script);
    output::bytes(&script)
}

/// Writes `shm-clip.1` and one `shm-clip-SUBCOMMAND.1` per visible
/// subcommand into `dir`, which is created if needed.
pub fn man_pages(dir: &Path) -> Result<(), CliError> {
    let write_error = |source| CliError::Write {
        path: dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(write_error)?;
    clap_mangen::generate_to(Args::command(), dir).map_err(write_error)
}
