//! `shm-clip boards` and `shm-clip destroy`: boards as a whole.

use std::fmt::Write as _;

use shm_clip::{Board, Config};

use crate::args::{DestroyArgs, Global};
use crate::errors::CliError;
use crate::{human, output};

/// Prints this user's boards, one per line.
pub fn list() -> Result<(), CliError> {
    let names = Board::list()?;
    output::text(&output::lines(
        names.iter().map(shm_clip::BoardName::as_str),
    ))
}

/// Removes the board named by `--board`, the history the tray saved for it,
/// and the archived copies of its clips, those evicted earlier too (a
/// destroyed clip never comes back), but for content another board holds.
pub fn destroy(global: &Global, args: &DestroyArgs) -> Result<(), CliError> {
    // Which archived clips are on the board, read before it goes: its
    // archiver forgets them once it sees the fresh board.
    let archived = if args.keep_history {
        None
    } else {
        match crate::archive::open_existing() {
            Ok((_, Some(a))) => {
                let ids = a.clips_of_board(global.board.as_str())?;
                Some(Ok((a, ids)))
            }
            Ok((_, None)) => None,
            Err(err) => Some(Err(err)),
        }
    };
    let report = Board::destroy(&global.board, args.force).map_err(|err| match err {
        // The library's hint for a missing board is to copy something,
        // which is the last thing someone destroying it wants.
        shm_clip::Error::NoSuchBoard { name } => CliError::NothingToDestroy { board: name },
        err => err.into(),
    })?;
    tracing::debug!(board = %global.board, force = args.force, ?report, "destroyed");
    crate::menu::thumbnails::remove_all(&global.board);
    let mut line = format!(
        "destroyed board {}: wiped {}, told {}",
        global.board,
        human::count(report.entries, "entry", "entries"),
        human::count(report.notified, "running program", "running programs"),
    );
    // Without a data directory (no HOME) no tray can have saved anything.
    if !args.keep_history
        && let Ok(dir) = Config::data_dir()
    {
        let file = Config::history_file(&dir, &global.board);
        match std::fs::remove_file(&file) {
            Ok(()) => {
                let _ = write!(line, "; deleted its saved history {}", file.display());
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(CliError::Write {
                    path: file.display().to_string(),
                    source,
                });
            }
        }
    }
    match archived {
        None => {}
        // Said once the board is gone, so that a refused board is the only error.
        Some(Err(err)) => {
            crate::errors::warn(&format!(
                "{err}; the board is destroyed, its archived copies are not"
            ));
        }
        Some(Ok((mut archive, ids))) => {
            let n = archive.delete(&ids)?;
            crate::archive::warn_if_unscrubbed(&archive);
            if n > 0 {
                let _ = write!(
                    line,
                    "; deleted its {} from {}",
                    human::count(n, "archived clip", "archived clips"),
                    archive.path().display()
                );
            }
        }
    }
    line.push('\n');
    output::text(&line)
}
