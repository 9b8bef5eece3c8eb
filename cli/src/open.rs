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

/// Lets the process exit with `board` still mapped: for `copy` and `paste`,
/// whose process ends right after their one call. The kernel then unmaps
/// the segment with the rest of the address space, in the one teardown that
/// `exit` does anyway; unmapping it first was a second walk of its page
/// tables and a TLB flush of its own, ~20 µs of a 0.5 ms process
/// (BENCHMARKS.md, "The CLI as it ships", session 8). The board holds no
/// lock and no subscriber slot here, so nothing else is owed.
pub fn leave_mapped(board: Board) {
    std::mem::forget(board);
}

fn origin() -> Origin {
    Origin::this_process(OriginKind::Cli)
}
