//! `shm-clip search`'s clap definitions (the subcommand itself is
//! `crate::search`). Part of `args`, so it uses only clap and `shm_clip`.

use super::BoardArg;

/// The subcommand's long help.
pub const LONG_ABOUT: &str = "\
Search the board and the archive for clips that hold every word of QUERY.

Words match case-insensitively, the last one also as the start of a word \
from two letters on (results come while typing; one letter matches that \
one-letter word only, as nearly every clip has a word starting with it). Results are ranked by relevance, then recency. \
Each line \
says where the clip lives: `board N` (use `shm-clip select N`) or \
`archive ID` (use `shm-clip select --archive ID`). The archive searches \
text/plain, the text of text/html and text/uri-list.

Example:
  shm-clip search invoice march
  shm-clip search --limit 5 ssh-ed
  shm-clip search --json deploy | jq '.[0]'";

/// `search`.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// The words to look for
    #[arg(value_name = "QUERY", required = true)]
    pub query: Vec<String>,
    /// Show at most N results
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub board: BoardArg,
}
