//! `shm-clip archive`'s clap definitions (the subcommand itself is
//! `crate::archive`). Part of `args`, so it uses only clap and `shm_clip`.

use std::path::PathBuf;

use clap::Subcommand;
use shm_clip::config::{Age, Size};

use super::{BoardArg, CreateArgs};

/// The subcommand's long help.
pub const LONG_ABOUT: &str = "\
The archive: every clip that reached a board, kept on disk and searchable.

The board holds the last entries in shared memory; the archive, \
~/.local/share/shm-clip/archive.sqlite3 (SQLite, mode 0600; SHM_CLIP_ARCHIVE \
names another file), keeps them after they leave it. One archiver per board \
fills it: the tray runs one (config.toml: archive.enabled), and \
`shm-clip archive run` is one in the foreground for machines without a tray \
(the shm-clip-archive.service user unit runs it). Entries removed with rm or \
clear leave the archive too; evicted ones stay. Find clips with \
`shm-clip search WORDS`, list them with `shm-clip history --archive`, and bring \
one back with `shm-clip select --archive ID`.

Example:
  shm-clip archive stats
  shm-clip archive prune --older-than 30d
  shm-clip archive prune --larger-than 10M
  shm-clip archive export ~/clips-backup
  shm-clip archive vacuum
  shm-clip archive run --board work";

/// `archive`.
#[derive(Debug, clap::Args)]
pub struct ArchiveArgs {
    #[command(subcommand)]
    pub command: ArchiveCommand,
}

/// The archive's subcommands.
#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// How many clips and bytes the archive holds, and its file sizes
    Stats {
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Delete old or large unpinned clips from the archive
    Prune(PruneArgs),
    /// Write every archived clip to DIR: a file per representation and index.json
    Export {
        /// The directory to write (created if missing; existing files are never overwritten)
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Rebuild the file without free space (after large prunes)
    Vacuum,
    /// Archive one board in the foreground until SIGINT or SIGTERM
    Run(RunArgs),
}

/// `archive prune`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).multiple(true).args(["older_than", "larger_than"])))]
pub struct PruneArgs {
    /// Delete clips not used for this long: 90s, 45m, 12h, 30d, 2w (the
    /// unit is required)
    #[arg(long, value_name = "AGE", value_parser = age_with_unit, allow_hyphen_values = true)]
    pub older_than: Option<Age>,
    /// Delete clips larger than this: 4096, 64K, 10M, 1G
    #[arg(long, value_name = "SIZE", value_parser = Size::parse, allow_hyphen_values = true)]
    pub larger_than: Option<Size>,
}

/// `archive run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Print a line after every sync (what was archived, updated, deleted)
    /// and after every scrub that took deleted clips out of the files
    #[arg(short, long)]
    pub verbose: bool,
    #[command(flatten)]
    pub board: BoardArg,
    #[command(flatten)]
    pub create: CreateArgs,
}

impl ArchiveArgs {
    /// The board options of `archive run`; the others use no board.
    pub fn board_options(&self) -> (Option<&BoardArg>, Option<&CreateArgs>) {
        match &self.command {
            ArchiveCommand::Run(r) => (Some(&r.board), Some(&r.create)),
            _ => (None, None),
        }
    }
}

/// An age for a prune, which deletes: with its unit spelled out (a bare
/// `30`, seconds in config.toml, is too easily meant as days). `0s` is
/// allowed: every unpinned archived clip, asked for in so many words.
fn age_with_unit(text: &str) -> Result<Age, String> {
    let age = Age::parse(text)?;
    if text.trim().ends_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "{text:?} has no unit; write it with s, m, h, d or w, like {}d for {} days",
            text.trim(),
            text.trim()
        ));
    }
    Ok(age)
}
