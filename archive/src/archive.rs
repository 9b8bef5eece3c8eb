//! The open archive: one SQLite connection in WAL mode with
//! `secure_delete`, on a file that passed the owner and mode checks.

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OpenFlags};

use crate::rewrite::{self, Rewritten};
use crate::{Error, Result, error, files, schema};

/// How long a statement waits for another process's write lock (the
/// archiver and a CLI `prune` may write at once).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The side file (`archive.sqlite3-unscrubbed`, empty) that says a delete
/// committed without its scrub yet: made before the delete commits,
/// removed when a scrub finishes, so that a process killed in between, or
/// one that exits with its scrub kept from finishing, leaves the next
/// opener (the archiver, at its first look) a scrub to do.
pub(crate) const UNSCRUBBED: &str = "-unscrubbed";

/// An open archive database.
pub struct Archive {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    /// The mark (the [`UNSCRUBBED`] side file's mtime) whose rewrite this
    /// handle has done, when only the checkpoint was kept from finishing:
    /// a retry for the same mark need not rewrite the file again. A newer
    /// mark, from a delete since in any process, needs a new rewrite.
    vacuumed_for: Option<SystemTime>,
    /// Whole-file rewrites this handle made ([`Archive::rewrites`]).
    rewrites: u64,
    /// Why the last [`Archive::scrub_after_delete`] left its scrub due,
    /// when it was a full disk or a busy file ([`Archive::scrub_deferred`]).
    scrub_deferred: Option<String>,
}

/// What [`Archive::mark_unscrubbed`] found and left.
#[derive(Clone, Copy, Debug)]
pub struct Marked {
    /// A scrub was due already, in this process or another.
    pub was_pending: bool,
    /// The mark made: the side file's new mtime.
    pub at: SystemTime,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Archive {
    /// Opens the archive at `path`, creating it (0600, in a 0700 directory)
    /// and its schema if there is none. A file of another user, with group
    /// or other permissions, that is not SQLite, or of a newer schema is
    /// refused and left untouched.
    pub fn open(path: &Path) -> Result<Archive> {
        files::prepare(path, true)?;
        Self::connect(path)
    }

    /// Opens the archive at `path` if it exists: `Ok(None)` when there is
    /// none yet (nothing was archived), so that a search need not create one.
    pub fn open_existing(path: &Path) -> Result<Option<Archive>> {
        if !files::prepare(path, false)? {
            return Ok(None);
        }
        Self::connect(path).map(Some)
    }

    fn connect(path: &Path) -> Result<Archive> {
        let fail = |e| error::sqlite(path, e);
        // No CREATE: `prepare` made the file; SQLite must never make one
        // with the process umask in its place.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let mut conn = Connection::open_with_flags(path, flags).map_err(fail)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
        // The first read of the header: "file is not a database" shows here.
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(fail)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Sqlite {
                path: path.to_owned(),
                source: rusqlite::Error::InvalidParameterName(format!(
                    "journal_mode stayed {mode}, WAL was asked for"
                )),
            });
        }
        // secure_delete: freed bytes are zeroed, so a deleted clip's
        // content does not linger in free pages. synchronous=NORMAL in WAL
        // mode: a killed process loses nothing committed; only a power cut
        // may lose the last transactions.
        conn.execute_batch(
            "PRAGMA secure_delete = ON;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;",
        )
        .map_err(fail)?;
        match schema::migrate(&mut conn).map_err(fail)? {
            Ok(_) => {}
            Err(found) => {
                return Err(Error::NewerSchema {
                    path: path.to_owned(),
                    found,
                    supported: schema::VERSION,
                });
            }
        }
        Ok(Archive {
            conn,
            path: path.to_owned(),
            vacuumed_for: None,
            rewrites: 0,
            scrub_deferred: None,
        })
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `PRAGMA integrity_check`: `Ok` when SQLite finds nothing wrong,
    /// else `Corrupt` with its first complaints.
    pub fn integrity_check(&self) -> Result<()> {
        let rows: Vec<String> = self
            .conn
            .prepare("PRAGMA integrity_check")
            .and_then(|mut s| {
                s.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<rusqlite::Result<_>>()
            })
            .map_err(|e| self.err(e))?;
        if rows.len() == 1 && rows[0] == "ok" {
            return Ok(());
        }
        Err(Error::Corrupt {
            path: self.path.clone(),
            detail: rows.into_iter().take(5).collect::<Vec<_>>().join("; "),
        })
    }

    /// `PRAGMA quick_check`: the cheaper check an archiver runs at start.
    pub fn quick_check(&self) -> Result<()> {
        let first: String = self
            .conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if first == "ok" {
            return Ok(());
        }
        Err(Error::Corrupt {
            path: self.path.clone(),
            detail: first,
        })
    }

    /// Moves every committed change from the WAL into the database and
    /// empties the WAL file, so that bytes a delete overwrote are no longer
    /// in either file. Returns false when a reader kept it from finishing
    /// (the bytes then leave at the next checkpoint).
    pub fn checkpoint(&self) -> Result<bool> {
        let busy: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(busy == 0)
    }

    /// Whether a checkpoint that waits for nobody (PASSIVE) copied every
    /// frame of the WAL into the database: no reader holds an older
    /// snapshot any more.
    fn wal_copied(&self) -> Result<bool> {
        let (busy, log, copied): (i64, i64, i64) = self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(|e| self.err(e))?;
        Ok(busy == 0 && log == copied)
    }

    /// Makes what deletes took unrecoverable from the files: rewrites the
    /// database from its live rows (as `VACUUM` does, with the copy in the
    /// archive's own directory and memory that does not grow with the file:
    /// `rewrite.rs`), then checkpoints it out of the WAL and empties the WAL
    /// (TRUNCATE). Returns false when another connection kept it from
    /// finishing (a writer past the busy timeout, commits that kept coming,
    /// another scrub at the same time, or a reader inside a read
    /// transaction); [`Archive::scrub_pending`] then stays true and a later
    /// call finishes the job. [`Error::Busy`] when commits by others made
    /// even the copy taken with the writers held off outdated (rare; a retry
    /// should wait): the scrub stays due as well.
    ///
    /// Why a whole rewrite: `secure_delete` zeroes the cells and pages a
    /// delete frees, but when a b-tree balance rebuilds a page (SQLite's
    /// `rebuildPage`), the old bytes of the cells that page gave to its
    /// siblings stay in its unallocated gap, and a later delete of those
    /// cells, where they went, leaves that copy. No SQL reaches a page's
    /// gap; a rewrite writes every page afresh from the live rows.
    /// (`deleted_clips_leave_no_copy_in_a_page_that_a_balance_rebuilt`.)
    pub fn scrub(&mut self) -> Result<bool> {
        // A scrub is marked before it starts, so that a process killed in
        // the middle leaves it to the next one. A mark made meanwhile (a
        // delete here or in another process, after this rewrite read the
        // file) is answered by going round again.
        for _ in 0..3 {
            let mark = match self.mark() {
                Some(mark) => mark,
                None => self.mark_unscrubbed()?.at,
            };
            let retry = self.vacuumed_for == Some(mark);
            if !retry {
                match rewrite::rewrite(&mut self.conn, &self.path, BUSY_TIMEOUT)? {
                    Rewritten::Done => {}
                    Rewritten::Busy => return Ok(false),
                    // Not worth retrying at once (each try writes a copy
                    // of the file): an error, which the archiver backs
                    // off from.
                    Rewritten::Starved => {
                        return Err(Error::Busy {
                            path: self.path.clone(),
                        });
                    }
                }
                self.rewrites += 1;
                self.vacuumed_for = Some(mark);
            }
            // A retry first asks without waiting: while a reader still holds
            // a snapshot from before the rewrite, the TRUNCATE checkpoint
            // would only sit out the busy timeout again.
            if retry && !self.wal_copied()? {
                return Ok(false);
            }
            if !self.checkpoint()? {
                return Ok(false);
            }
            if self.unmark_if_unchanged(mark)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// [`Archive::scrub`] after deletes that have committed: a scrub that
    /// cannot run now (no room for its copy, a full disk, a busy file) is
    /// no failure of the delete, so it is left due (and on disk) with its
    /// reason kept for [`Archive::scrub_deferred`], and `Ok(false)` is
    /// returned; other errors are returned.
    pub fn scrub_after_delete(&mut self) -> Result<bool> {
        self.scrub_deferred = None;
        match self.scrub() {
            Ok(done) => Ok(done),
            Err(e) if e.is_disk_full() || matches!(e, Error::Busy { .. }) => {
                // The caller says it (the CLI warns, from `scrub_deferred`).
                tracing::debug!(%e, "the delete stands; its scrub is left due");
                self.scrub_deferred = Some(e.to_string());
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Why the last [`Archive::scrub_after_delete`] left its scrub due (the
    /// error's message: no room, a full disk, a busy file), if it did.
    #[must_use]
    pub fn scrub_deferred(&self) -> Option<&str> {
        self.scrub_deferred.as_deref()
    }

    /// How many times this handle rewrote the whole file (each scrub's and
    /// each vacuum's one rewrite; a retry of only the checkpoint makes
    /// none): what several deletes at once cost, for tests and benches.
    #[must_use]
    pub fn rewrites(&self) -> u64 {
        self.rewrites
    }

    /// The side file that records a due scrub.
    fn flag(&self) -> PathBuf {
        files::side_file(&self.path, UNSCRUBBED)
    }

    /// The due scrub's mark, read from the disk: the side file's mtime.
    fn mark(&self) -> Option<SystemTime> {
        std::fs::symlink_metadata(self.flag())
            .and_then(|m| m.modified())
            .ok()
    }

    /// Records, before a delete commits, that a scrub is due (the
    /// `archive.sqlite3-unscrubbed` side file, with a new mtime that every process sees),
    /// so that any process's next scrub rewrites the file again.
    pub fn mark_unscrubbed(&mut self) -> Result<Marked> {
        let was_pending = self.mark().is_some();
        let flag = self.flag();
        let io = |source| Error::Io {
            path: flag.clone(),
            source,
        };
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&flag)
            .map_err(io)?;
        let at = SystemTime::now();
        file.set_modified(at).map_err(io)?;
        let at = self.mark().unwrap_or(at);
        Ok(Marked { was_pending, at })
    }

    /// Forgets the due scrub marked at `mark`, unless a newer mark replaced
    /// it: after a complete scrub, or when the deletes it was marked for
    /// deleted nothing. True if the side file is gone.
    pub fn unmark_if_unchanged(&mut self, mark: SystemTime) -> Result<bool> {
        match self.mark() {
            None => return Ok(true),
            Some(now) if now != mark => return Ok(false),
            Some(_) => {}
        }
        let flag = self.flag();
        match std::fs::remove_file(&flag) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(Error::Io { path: flag, source }),
        }
        self.vacuumed_for = None;
        Ok(true)
    }

    /// Whether a delete's bytes may still be in the files: a scrub is due
    /// ([`Archive::scrub`] was kept from finishing, failed, or has not run
    /// yet), in this process or another (the side file
    /// `archive.sqlite3-unscrubbed`, read at each call).
    #[must_use]
    pub fn scrub_pending(&self) -> bool {
        self.mark().is_some()
    }

    /// Rebuilds the file without free pages (a `VACUUM`, `rewrite.rs`), then checkpoints
    /// (`archive vacuum`): [`Archive::scrub`] with the full-text index's
    /// segments merged first.
    pub fn vacuum(&mut self) -> Result<()> {
        self.conn
            .execute_batch("INSERT INTO clip_text(clip_text) VALUES('optimize');")
            .map_err(|e| self.err(e))?;
        // Asked for: the file is rewritten even if a scrub's was done.
        self.vacuumed_for = None;
        if self.scrub()? {
            Ok(())
        } else {
            Err(Error::Busy {
                path: self.path.clone(),
            })
        }
    }

    pub(crate) fn err(&self, e: rusqlite::Error) -> Error {
        error::sqlite(&self.path, e)
    }
}

/// Whether another connection's lock stopped a statement (after the busy
/// timeout): worth retrying, not a fault of the file.
pub(crate) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}
