//! `shm-clip archive`: the on-disk archive of every clip. `stats`, `prune`,
//! `export` and `vacuum` work on the file; `run` is the archiver of one
//! board in the foreground, for machines without the tray.

use std::path::PathBuf;
use std::time::SystemTime;

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use shm_clip::{Board, Origin, OriginKind};
use shm_clip_archive::{Archive, Archiver, Ended, Policy};

use crate::args::Global;
use crate::args::archive::{ArchiveArgs, ArchiveCommand, PruneArgs, RunArgs};
use crate::errors::CliError;
use crate::{human, json, output};

/// The archive file, opened if it exists.
pub fn open_existing() -> Result<(PathBuf, Option<Archive>), CliError> {
    let path = shm_clip_archive::default_path()?;
    let archive = Archive::open_existing(&path)?;
    Ok((path, archive))
}

/// Warns when a delete's scrub ([`Archive::scrub_after_delete`]) was kept
/// from finishing by another program or a disk without room for it: the
/// clips are deleted (the command succeeds), but their bytes may stay in
/// the file's free space or WAL until a scrub finishes.
pub fn warn_if_unscrubbed(a: &Archive) {
    if a.scrub_pending() {
        let why = a.scrub_deferred().map_or_else(
            || {
                shm_clip_archive::Error::Busy {
                    path: a.path().to_owned(),
                }
                .to_string()
            },
            str::to_owned,
        );
        crate::errors::warn(&why);
    }
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
            let mut a = open_required()?;
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
    let used = match (stats.newest, stats.oldest) {
        (Some(newest), Some(oldest)) => format!(
            "newest {} ago, oldest {} ago",
            human::age(newest),
            human::age(oldest)
        ),
        _ => "no clips yet".to_owned(),
    };
    output::text(&format!(
        "file:     {}{}\nclips:    {} ({} pinned)\ncontent:  {} stored for {} of clips ({} representations, {} distinct)\nfiles:    {} + {} WAL\nused:     {}\n",
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
        used,
    ))
}

fn prune(args: &PruneArgs) -> Result<(), CliError> {
    let mut a = open_required()?;
    // A prune asked for is a delete: marked before it commits, so that a
    // kill before its scrub leaves the scrub to the next archiver.
    let marked = a.mark_unscrubbed()?;
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
    if gone.clips > 0 || marked.was_pending {
        // Its bytes leave the files too.
        a.scrub_after_delete()?;
        warn_if_unscrubbed(&a);
    } else {
        a.unmark_if_unchanged(marked.at)?;
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
        let ended = shm_clip_archive::run(
            &mut archiver,
            &wakeup,
            shm_clip_archive::ScrubTiming::default(),
            &mut |s| {
                if first {
                    first = false;
                    crate::errors::warn(&format!(
                        "archiving board {} into {} ({} archived at start; Ctrl+C stops)",
                        global.board,
                        path.display(),
                        s.archived
                    ));
                } else if args.verbose {
                    // A deferred scrub's report carries no counts of its own.
                    let counts = s.archived + s.updated + s.deleted + s.kept + s.skipped;
                    if counts > 0 || !s.scrubbed {
                        crate::errors::warn(&format!(
                            "seq {}: {} archived, {} updated, {} deleted, {} kept, {} skipped",
                            s.seq, s.archived, s.updated, s.deleted, s.kept, s.skipped
                        ));
                    }
                    if s.scrubbed {
                        crate::errors::warn(&format!(
                            "seq {}: scrubbed: the deleted clips' bytes left {} and its WAL",
                            s.seq,
                            path.display()
                        ));
                    }
                }
            },
        )?;
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
