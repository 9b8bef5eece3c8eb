//! `shm-clip boards` and `shm-clip destroy`: boards as a whole.

use shm_clip::Board;

use crate::args::{DestroyArgs, Global};
use crate::errors::CliError;
use crate::output;

/// Prints this user's boards, one per line.
pub fn list() -> Result<(), CliError> {
    let names = Board::list()?;
    output::text(&output::lines(
        names.iter().map(shm_clip::BoardName::as_str),
    ))
}

/// Removes the board named by `--board`.
pub fn destroy(global: &Global, args: &DestroyArgs) -> Result<(), CliError> {
    Board::destroy(&global.board, args.force)?;
    tracing::debug!(board = %global.board, force = args.force, "destroyed");
    Ok(())
}
