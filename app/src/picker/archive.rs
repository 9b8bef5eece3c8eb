//! The picker's search of the on-disk archive (crate `shm-clip-archive`):
//! what the board no longer holds shows below its entries. A thread of its
//! own opens the archive (if there is one), answers each query, and brings
//! a chosen clip back to the board, so that SQLite never runs on the UI
//! thread.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};

use shm_clip::{Board, BoardName, OriginKind, Provenance};
use shm_clip_archive::{Archive, ArchivedInfo};

/// How many archive hits the picker shows.
pub const HITS: usize = 20;

/// What the searcher reports.
#[derive(Debug)]
pub enum Found {
    /// The archive's hits for `query`, most relevant first.
    Hits {
        query: String,
        hits: Vec<ArchivedInfo>,
    },
    /// An archived clip is the board's current entry again, at this seq.
    Restored(Result<u64, String>),
}

enum Job {
    Search(String),
    Restore(i64),
}

/// The UI's handle on the searcher thread.
#[derive(Debug)]
pub struct Searcher {
    jobs: Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Search(_) => f.write_str("Search"),
            Job::Restore(id) => write!(f, "Restore({id})"),
        }
    }
}

impl Searcher {
    /// Starts the searcher on the archive at `path` for `board`; results
    /// come back through the receiver, each followed by `repaint`.
    pub fn start(
        path: PathBuf,
        board: BoardName,
        repaint: impl Fn() + Send + 'static,
    ) -> std::io::Result<(Searcher, Receiver<Found>)> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let (found_tx, found) = mpsc::channel();
        std::thread::Builder::new()
            .name("shm-clip-picker-archive".into())
            .spawn(move || {
                let mut archive: Option<Archive> = None;
                let mut opened = false;
                while let Ok(mut job) = rx.recv() {
                    // Only the newest query matters.
                    while let Ok(next) = rx.try_recv() {
                        if matches!(job, Job::Restore(_)) && matches!(next, Job::Search(_)) {
                            break;
                        }
                        job = next;
                    }
                    if !opened {
                        opened = true;
                        archive = match Archive::open_existing(&path) {
                            Ok(found) => found,
                            Err(err) => {
                                tracing::warn!(%err, path = %path.display(), "the picker cannot read the archive");
                                None
                            }
                        };
                    }
                    let Some(archive) = archive.as_mut() else {
                        continue;
                    };
                    let found = match job {
                        Job::Search(query) => {
                            let hits = match archive.search(&query, HITS) {
                                Ok(hits) => hits.into_iter().map(|h| h.info).collect(),
                                Err(err) => {
                                    tracing::debug!(%err, "archive search failed");
                                    Vec::new()
                                }
                            };
                            Found::Hits { query, hits }
                        }
                        Job::Restore(id) => Found::Restored(restore(archive, &board, id)),
                    };
                    if found_tx.send(found).is_err() {
                        return;
                    }
                    repaint();
                }
            })?;
        Ok((Searcher { jobs }, found))
    }

    /// Searches the archive for `query` (the answer may come after a newer one was asked).
    pub fn search(&self, query: &str) {
        let _ = self.jobs.send(Job::Search(query.to_owned()));
    }

    /// Brings archived clip `id` back as the board's current entry.
    pub fn restore(&self, id: i64) {
        let _ = self.jobs.send(Job::Restore(id));
    }
}

/// As `shm-clip select --archive ID`: the clip with its first origin and times.
fn restore(archive: &mut Archive, board: &BoardName, id: i64) -> Result<u64, String> {
    let (info, clip) = archive.get(id).map_err(|e| e.to_string())?;
    let board = Board::open(board, OriginKind::App).map_err(|e| e.to_string())?;
    let now = std::time::SystemTime::now();
    let outcome = board
        .restore(
            &clip,
            &Provenance {
                origin: info.origin.clone(),
                created: info.first_seen,
                touched: now,
                pinned: info.pinned,
                clip_id: info.clip_id.map(shm_clip::ClipId),
                origin_node: None,
            },
        )
        .map_err(|e| e.to_string())?;
    let _ = archive.touch(id, now);
    Ok(outcome.seq)
}
