//! The open archive: one SQLite connection in WAL mode with
//! `secure_delete`, on a file that passed the owner and mode checks.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::{Error, Result, error, files, schema};

/// How long a statement waits for another process's write lock (the
/// archiver and a CLI `prune` may write at once).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// An open archive database.
pub struct Archive {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
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

    /// Rebuilds the file without free pages (`VACUUM`), then checkpoints.
    pub fn vacuum(&self) -> Result<()> {
        self.conn
            .execute_batch("INSERT INTO clip_text(clip_text) VALUES('optimize'); VACUUM;")
            .map_err(|e| self.err(e))?;
        self.checkpoint().map(|_| ())
    }

    pub(crate) fn err(&self, e: rusqlite::Error) -> Error {
        error::sqlite(&self.path, e)
    }
}
