//! The tray's archive: an archiver thread for its board, and the refill of a
//! new board (after a reboot) from the archive. This replaces the history
//! file: an existing `history-BOARD.bin` is imported into the archive once,
//! then removed.
//!
//! The board does not announce a process's own commits to that process, so
//! the tray wakes its archiver thread itself after each of its own changes
//! ([`Archiving::wake`]); other processes' changes reach the thread through
//! its own mailbox.

use std::thread::JoinHandle;

use shm_clip::{Board, BoardName, Config, Origin, OriginKind, Provenance};
use shm_clip_archive::{Archive, Archiver, Control, Ended, NewClip, Policy};

use super::persist::Store;

/// The running archiver thread.
#[derive(Debug)]
pub struct Archiving {
    control: Control,
    thread: Option<JoinHandle<()>>,
}

impl Archiving {
    /// Makes the archiver look at the board now (after the tray's own commits).
    pub fn wake(&self) {
        self.control.wake();
    }

    /// Stops the thread and waits for it.
    pub fn stop(&mut self) {
        self.control.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Archiving {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What [`start`] set up.
#[derive(Debug)]
pub struct Started {
    /// The archiver thread; `None` when another archiver already archives
    /// this board (`shm-clip archive run`).
    pub archiving: Option<Archiving>,
}

/// Opens the archive, refills `board` from it when `fresh` (the board was
/// just created), and starts the board's archiver unless one runs already.
/// `Err` (a refused archive file, say) leaves the tray on the history file.
pub fn start(
    name: &BoardName,
    board: &Board,
    config: &Config,
    fresh: bool,
) -> Result<Started, shm_clip_archive::Error> {
    let path = shm_clip_archive::default_path()?;
    let mut archive = Archive::open(&path)?;
    archive.quick_check()?;
    import_history_file(name, &mut archive);
    if fresh {
        // A new board's seqs start again: the old board's must not match them.
        archive.forget_board(name.as_str())?;
        refill(board, &archive)?;
    }
    let instance = match shm_clip_archive::acquire(name) {
        Ok(instance) => instance,
        Err(err @ shm_clip_archive::Error::Running { .. }) => {
            tracing::info!(%err, "not archiving in the tray");
            return Ok(Started { archiving: None });
        }
        Err(err) => return Err(err),
    };
    let origin = Origin::this_process(OriginKind::Tray).labelled("archiver");
    let own = Board::open_with(name, origin.clone(), Some(config.create_options()))?;
    let policy = Policy::from_config(&config.archive);
    let (control, wakeup) = shm_clip_archive::control()?;
    let (name, create) = (name.clone(), config.create_options());
    let thread = std::thread::Builder::new()
        .name("archiver".into())
        .spawn(move || {
            let _instance = instance;
            let mut archiver = Archiver::new(own, archive, policy);
            loop {
                match shm_clip_archive::run(&mut archiver, &wakeup, shm_clip_archive::ScrubTiming::default(), &mut |s| {
                    tracing::debug!(?s, "archived");
                }) {
                    Ok(Ended::Stopped) => return,
                    Ok(Ended::BoardDestroyed) => {
                        let renewed = Board::open_with(&name, origin.clone(), Some(create))
                            .map_err(shm_clip_archive::Error::from)
                            .and_then(|board| archiver.renew(board));
                        match renewed {
                            Ok(renewed) => archiver = renewed,
                            Err(err) => {
                                tracing::warn!(%err, "archiving stopped: cannot archive the fresh board");
                                return;
                            }
                        }
                    }
                    Err(err) => {
                        tracing::warn!(%err, "archiving stopped; the board keeps working");
                        return;
                    }
                }
            }
        })
        .map_err(|source| shm_clip_archive::Error::Io {
            path: "archiver thread".into(),
            source,
        })?;
    tracing::info!(path = %path.display(), "archiving the board");
    Ok(Started {
        archiving: Some(Archiving {
            control,
            thread: Some(thread),
        }),
    })
}

/// Moves the tray's old history file into the archive, then removes it. A
/// file that cannot be read stays where it is.
fn import_history_file(name: &BoardName, archive: &mut Archive) {
    let Ok(dir) = Config::data_dir() else { return };
    let store = Store::new(&dir, name);
    let entries = match store.load() {
        Ok(Some(entries)) => entries,
        Ok(None) => return,
        Err(err) => {
            tracing::warn!(%err, path = %store.path().display(), "cannot import the old history file into the archive; it is kept");
            return;
        }
    };
    let imported = archive.batch(|b| {
        for e in &entries {
            b.insert(&NewClip {
                board: name.as_str(),
                clip_id: None,
                created: e.provenance.created,
                touched: e.provenance.touched,
                origin: &e.provenance.origin,
                pinned: e.provenance.pinned,
                reps: &e.clip.reps,
            })?;
        }
        Ok(entries.len())
    });
    match imported {
        Ok(n) => {
            let _ = std::fs::remove_file(store.path());
            tracing::info!(entries = n, path = %store.path().display(), "old history file imported into the archive and removed");
        }
        Err(err) => {
            tracing::warn!(%err, "cannot import the old history file into the archive; it is kept");
        }
    }
}

/// Fills a new board from the archive's clips of that board: pinned clips
/// first, then the most recent, up to the board's depth and capacity.
fn refill(board: &Board, archive: &Archive) -> Result<(), shm_clip_archive::Error> {
    let status = board.status()?;
    let ids = archive.restore_order(board.name().as_str(), status.max_entries, status.capacity)?;
    let mut restored = 0;
    for id in ids {
        let (info, clip) = archive.get(id)?;
        let provenance = Provenance {
            origin: info.origin,
            created: info.first_seen,
            touched: info.last_used,
            pinned: info.pinned,
            clip_id: info.clip_id.map(shm_clip::ClipId),
            origin_node: None,
        };
        match board.restore(&clip, &provenance) {
            Ok(_) => restored += 1,
            Err(err) => tracing::warn!(%err, id, "could not restore an archived clip"),
        }
    }
    if restored > 0 {
        tracing::info!(entries = restored, "history restored from the archive");
    }
    Ok(())
}
