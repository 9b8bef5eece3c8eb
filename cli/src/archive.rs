//! `shm-clip archive`: the on-disk archive of every clip. `stats`, `prune`,
//! `export` and `vacuum` work on the file; `run` is the archiver of one
//! board in the foreground, for machines without the tray.

use std::path::PathBuf;
use std::time::SystemTime;

use clap::Subcommand;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use shm_clip::config::{Age, Size};
use shm_clip::{Board, Origin, OriginKind};
use shm_clip_archive::{Archive, Archiver, Ended, Policy};

use crate::args::{BoardArg, CreateArgs, Global};
use crate::errors::CliError;
use crate::{human, json, output};

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
    /// Delete clips not used for this long: 90s, 45m, 12h, 30d, 2w
    #[arg(long, value_name = "AGE", value_parser = Age::parse)]
    pub older_than: Option<Age>,
    /// Delete clips larger than this: 4096, 64K, 10M, 1G
    #[arg(long, value_name = "SIZE", value_parser = Size::parse)]
    pub larger_than: Option<Size>,
}

/// `archive run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Print a line after every sync (what was archived, updated, deleted)
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

/// The archive file, opened if it exists.
pub fn open_existing() -> Result<(PathBuf, Option<Archive>), CliError> {
    let path = shm_clip_archive::default_path()?;
    let archive = Archive::open_existing(&path)?;
    Ok((path, archive))
}

/// The archive file, which must exist.
pub fn open_required() -> Result<Archive, CliError> {
    match open_existing()? {
        (_, Some(a)) => Ok(a),
        (path, None) => Err(CliError::NoArchive { path }),
    }
}

/// Runs an `archive` subcommand.
pub fn run(global: &Global, args: &ArchiveArgs) -> Result<(), CliError> {
    match &args.command {
        ArchiveCommand::Stats { json } => stats(*json),
        ArchiveCommand::Prune(p) => prune(p),
        ArchiveCommand::Export { dir } => {
            let done = open_required()?.export(dir)?;
            output::text(&format!(
                "exported {} ({} files, {}) to {}\n",
                human::count(done.clips as usize, "clip", "clips"),
                done.files,
                human::size(done.bytes),
                dir.display()
            ))
        }
        ArchiveCommand::Vacuum => {
            let a = open_required()?;
            let before = a.stats()?.file_bytes;
            a.vacuum()?;
            let after = a.stats()?.file_bytes;
            output::text(&format!(
                "{}: {} -> {}\n",
                a.path().display(),
                human::size(before),
                human::size(after)
            ))
        }
        ArchiveCommand::Run(r) => run_archiver(global, r),
    }
}

fn stats(as_json: bool) -> Result<(), CliError> {
    let (path, archive) = open_existing()?;
    let stats = match &archive {
        Some(a) => a.stats()?,
        None => shm_clip_archive::Stats::default(),
    };
    if as_json {
        return output::json(&json::Versioned::new(json::ArchiveStats::new(
            &path, &stats,
        )));
    }
    let when = |t: Option<SystemTime>| t.map_or_else(|| "-".to_owned(), human::age);
    output::text(&format!(
        "file:     {}{}\nclips:    {} ({} pinned)\ncontent:  {} stored for {} of clips ({} representations, {} distinct)\nfiles:    {} + {} WAL\nused:     newest {}, oldest {} ago\n",
        path.display(),
        if archive.is_none() { " (none yet)" } else { "" },
        stats.clips,
        stats.pinned,
        human::size(stats.stored_bytes),
        human::size(stats.clip_bytes),
        stats.representations,
        stats.blobs,
        human::size(stats.file_bytes),
        human::size(stats.wal_bytes),
        when(stats.newest),
        when(stats.oldest),
    ))
}

fn prune(args: &PruneArgs) -> Result<(), CliError> {
    let mut a = open_required()?;
    let mut gone = shm_clip_archive::Pruned::default();
    if let Some(age) = args.older_than {
        let cutoff = SystemTime::now()
            .checked_sub(age.0)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let p = a.prune_older_than(cutoff)?;
        gone.clips += p.clips;
        gone.bytes += p.bytes;
    }
    if let Some(size) = args.larger_than {
        let p = a.prune_larger_than(size.0)?;
        gone.clips += p.clips;
        gone.bytes += p.bytes;
    }
    output::text(&format!(
        "removed {} ({}); pinned clips are kept\n",
        human::count(gone.clips as usize, "clip", "clips"),
        human::size(gone.bytes)
    ))
}

/// `archive run`: the archiver of `--board` until a signal.
fn run_archiver(global: &Global, args: &RunArgs) -> Result<(), CliError> {
    let config_path = shm_clip::Config::path()?;
    if !global.config.archive.enabled {
        return Err(CliError::ArchiveDisabled { path: config_path });
    }
    // Block the signals before any thread starts, so that they reach only
    // the signalfd.
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGINT);
    mask.add(Signal::SIGTERM);
    mask.thread_block()
        .map_err(CliError::os("blocking SIGINT and SIGTERM"))?;
    let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC)
        .map_err(CliError::os("creating a signalfd"))?;
    let _instance = shm_clip_archive::acquire(&global.board)?;
    let path = shm_clip_archive::default_path()?;
    let mut archive = Archive::open(&path)?;
    archive.quick_check()?;
    let policy = Policy::from_config(&global.config.archive);
    let (control, wakeup) = shm_clip_archive::control()?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let _ = signals.read_signal();
            control.stop();
        })
        .map_err(|e| CliError::Write {
            path: "a thread".into(),
            source: e,
        })?;
    let origin = Origin::this_process(OriginKind::Cli).labelled("archiver");
    let mut first = true;
    let open = || Board::open_with(&global.board, origin.clone(), Some(global.create_options()));
    let board = open()?;
    if board.seq() == 0 {
        // A new board (after a reboot, say): its seqs start again and must
        // not be matched with the old board's.
        archive.forget_board(global.board.as_str())?;
    }
    let mut archiver = Archiver::new(board, archive, policy);
    loop {
        let ended = shm_clip_archive::run(&mut archiver, &wakeup, &mut |s| {
            if first {
                first = false;
                crate::errors::warn(&format!(
                    "archiving board {} into {} ({} archived at start; Ctrl+C stops)",
                    global.board,
                    path.display(),
                    s.archived
                ));
            } else if args.verbose {
                crate::errors::warn(&format!(
                    "seq {}: {} archived, {} updated, {} deleted, {} kept, {} skipped",
                    s.seq, s.archived, s.updated, s.deleted, s.kept, s.skipped
                ));
            }
        })?;
        match ended {
            Ended::Stopped => return Ok(()),
            Ended::BoardDestroyed => {
                crate::errors::warn(&format!(
                    "board {} was destroyed; archiving the fresh one",
                    global.board
                ));
                archiver = archiver.renew(open()?)?;
            }
        }
    }
}
