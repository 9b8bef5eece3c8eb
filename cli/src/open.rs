//! Opening the board named on the command line.

use shm_clip::{Board, Origin, OriginKind};

use crate::args::Global;

/// Opens the board, creating it with `--capacity`/`--depth` if it is missing.
pub fn or_create(global: &Global) -> shm_clip::Result<Board> {
    Board::open_with(&global.board, origin(), Some(global.create_options()))
}

/// Opens the board if it exists; read-only commands must not create boards.
pub fn existing(global: &Global) -> shm_clip::Result<Board> {
    Board::open_with(&global.board, origin(), None)
}

fn origin() -> Origin {
    Origin::this_process(OriginKind::Cli)
}
