//! Which board a subcommand uses: the options given before and after it,
//! else `SHM_CLIP_BOARD`, else the default board. Kept out of `args.rs`,
//! which holds only the clap definitions (the build script compiles that file
//! on its own to write the man pages and completions).

use shm_clip::{BoardName, Config, DEFAULT_BOARD};

use crate::args::{Args, BOARD_ENV, Global};
use crate::errors::CliError;

impl Global {
    /// Merges the options given before the subcommand with those given
    /// after it (which win), then `SHM_CLIP_BOARD`, then the default board.
    /// A bad `SHM_CLIP_BOARD` is an error only where a board is used.
    pub fn resolve(args: &Args, config: Config) -> Result<Global, CliError> {
        // Options given before a subcommand that does not use them (an
        // alias `shm-clip --board work` running `boards`) change nothing.
        let (board, create) = args.command.board_options();
        let Some(board) = board else {
            return Ok(Global {
                board: BoardName::new(DEFAULT_BOARD)?,
                capacity: None,
                depth: None,
                config,
            });
        };
        let create = create.cloned().unwrap_or_default();
        let board = match board.board.clone().or_else(|| args.board.board.clone()) {
            Some(name) => name,
            None => board_from_env()?,
        };
        Ok(Global {
            board,
            capacity: create.capacity.or(args.create.capacity),
            depth: create.depth.or(args.create.depth),
            config,
        })
    }
}

/// `SHM_CLIP_BOARD`, else the default board; a bad value is blamed on the
/// variable, not on `--board`.
fn board_from_env() -> Result<BoardName, CliError> {
    match std::env::var_os(BOARD_ENV) {
        Some(value) if !value.is_empty() => {
            let text = value.to_string_lossy().into_owned();
            BoardName::new(&text).map_err(|err| CliError::BoardEnv {
                value: text,
                reason: match err {
                    shm_clip::Error::InvalidName { reason, .. } => reason,
                    _ => "it is not a valid board name",
                },
            })
        }
        _ => Ok(BoardName::new(DEFAULT_BOARD)?),
    }
}
