//! The whole-file rewrite that a scrub needs ([`crate::Archive::scrub`]),
//! in memory that does not grow with the archive.
//!
//! Plain `VACUUM` builds the new file in a temporary database and copies it
//! back. With `temp_store = MEMORY` (which keeps clip text out of `/tmp`,
//! outside the archive's 0700 directory) that temporary database is as
//! large as the archive, in RAM: +1 GiB for a 1 GiB archive (BENCHMARKS.md,
//! "Archive, Session 8"). The other ways to put it on disk were judged:
//! - `temp_store = FILE` for the `VACUUM`: SQLite then makes the copy in
//!   `$SQLITE_TMPDIR`, `$TMPDIR`, `/var/tmp` or `/tmp`, which may be another
//!   file system than the user's (encrypted) home, and shared.
//! - `PRAGMA temp_store_directory`: deprecated, and it sets a process-wide
//!   variable that SQLite reads without a lock; the tray's window searches
//!   the archive on other threads meanwhile, so it is a data race.
//! - `VACUUM INTO` a new file, then renaming it over the database: every
//!   process that has the archive open (a CLI search, the window, another
//!   board's archiver) keeps reading the old inode, while its WAL and
//!   shared-memory index, found by name, now belong to the new one: that
//!   corrupts both.
//!
//! So the copy is built where only this user can read it, by `VACUUM INTO`
//! a sibling file (`archive.sqlite3-scrub`, 0600, in the archive's own
//! directory), and copied back over the database by SQLite's backup API,
//! which writes every page of the live database as one ordinary write
//! transaction through the WAL: other connections see a commit, as after a
//! `VACUUM`, and the pages and the file's end are exactly the fresh copy's,
//! so no page's free space keeps a deleted clip's bytes. Both steps go
//! through page caches of a fixed size (the backup spills to the WAL), so
//! memory stays flat; the disk needs the copy and the WAL beside the
//! database for the length of the scrub.
//!
//! A commit by another connection between the copy's snapshot and the
//! copy-back would be lost, so the copy-back first takes the write lock,
//! then checks that nothing was committed since the copy was read
//! (`PRAGMA data_version` on the connection that read it) and starts over
//! if something was. Writers that commit more often than a copy takes
//! (another board's archiver, a CLI, even another process's TRUNCATE
//! checkpoint, whose WAL restart changes `data_version`) would outdate
//! every copy, so the second and last attempt holds them off: a gate
//! connection takes the write lock (`BEGIN IMMEDIATE`, in any process it
//! stops commits; readers go on) before the copy's snapshot and lets go
//! just before the copy-back takes it. Writers wait meanwhile, for the copy
//! and the copy-back: about 1.7 s for a 415 MiB archive, about 5 s for
//! 1 GiB on the bench machine (BENCHMARKS.md, "Archive, Session 8"), at
//! the 5 s busy timeout, after which a waiting write fails with "database
//! is locked"; only when a first copy was outdated. If even that copy was
//! (a writer took the lock in the microseconds between the gate and the
//! copy-back), the scrub is [`Rewritten::Starved`]: the archiver backs off. Two scrubs at once (the archiver and a CLI `rm
//! --archive`) would share the copy, so a scrub holds an exclusive `flock`
//! on it; the other is told the archive is busy and leaves its scrub due.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::archive::is_busy;
use crate::{Error, Result, error, files};

/// The scrub's copy: `archive.sqlite3-scrub` (and SQLite's
/// `archive.sqlite3-scrub-journal` while `VACUUM INTO` writes it).
pub(crate) const COPY: &str = "-scrub";

/// How many copies are made when other connections keep committing
/// between a copy's snapshot and its copy-back: one beside the writers,
/// then one with them held off ([`Gate`]).
const ATTEMPTS: usize = 2;

/// What a rewrite came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rewritten {
    /// The database is the fresh copy now (in the WAL, until a checkpoint).
    Done,
    /// Another connection held the write lock past the busy timeout, kept
    /// committing, or another scrub holds the copy: nothing was changed.
    Busy,
    /// Other connections committed between every copy's snapshot and its
    /// copy-back, even the one made with the writers held off (only a
    /// writer that took the lock in the microseconds between the gate and
    /// the copy-back does that): nothing was changed, and trying again at
    /// once would most likely write the copy for nothing again.
    Starved,
}

/// Rewrites the database of `conn` (the file `path`) from its live rows,
/// as `VACUUM` does, with the copy in the archive's directory.
pub(crate) fn rewrite(conn: &mut Connection, path: &Path, timeout: Duration) -> Result<Rewritten> {
    let Some(copy) = Copy::claim(path)? else {
        return Ok(Rewritten::Busy);
    };
    // A copy a killed scrub left (live clips of then, some maybe deleted
    // since) is emptied first: its room is the new copy's.
    copy.empty()?;
    ensure_room(conn, path)?;
    let reader = reader(path, timeout)?;
    let fail = |e| error::sqlite(path, e);
    for attempt in 1..=ATTEMPTS {
        copy.empty()?;
        // The last attempt holds every other writer off from before its
        // copy's snapshot: a gate connection holds the write lock while
        // `VACUUM INTO` reads (readers go on), and lets go just before the
        // copy-back takes it.
        let gate = if attempt == ATTEMPTS {
            match Gate::close(path, timeout)? {
                Some(gate) => Some(gate),
                None => return Ok(Rewritten::Busy),
            }
        } else {
            None
        };
        let before = data_version(&reader).map_err(fail)?;
        match reader.execute("VACUUM INTO ?1", [&copy.name]) {
            Ok(_) => {}
            Err(e) if is_busy(&e) => return Ok(Rewritten::Busy),
            Err(e) => return Err(vacuum_into_failed(path, &copy, e)),
        }
        let source = copy.open()?;
        let backup = Backup::new(&source, conn).map_err(fail)?;
        // The window between these two is microseconds; a writer that got
        // in there is seen by `data_version` below.
        drop(gate);
        // Zero pages: takes the write lock on the database, copies nothing.
        match backup.step(0).map_err(fail)? {
            StepResult::More => {}
            // The copy has pages (checked in `open`), so nothing is done yet.
            StepResult::Done => unreachable_done(path)?,
            // Busy or Locked: another connection's write lock.
            _ => return Ok(Rewritten::Busy),
        }
        // Under the write lock nobody commits; was anything committed
        // after the copy's snapshot? Then it is not in the copy: again.
        if data_version(&reader).map_err(fail)? != before {
            drop(backup);
            continue;
        }
        match backup.step(-1).map_err(fail)? {
            StepResult::Done => return Ok(Rewritten::Done),
            StepResult::More => unreachable_more(path)?,
            _ => return Ok(Rewritten::Busy),
        }
    }
    Ok(Rewritten::Starved)
}

/// A connection holding the database's write lock (`BEGIN IMMEDIATE`,
/// nothing written), so that no other connection, in any process, commits
/// while it is held. Dropping it rolls the empty transaction back, which
/// changes nothing that `PRAGMA data_version` sees.
struct Gate(Connection);

impl Gate {
    /// Takes the write lock, waiting up to `timeout` for a writer that has
    /// it; `None` when that writer kept it longer.
    fn close(path: &Path, timeout: Duration) -> Result<Option<Gate>> {
        let conn = reader(path, timeout)?;
        match conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => Ok(Some(Gate(conn))),
            Err(e) if is_busy(&e) => Ok(None),
            Err(e) => Err(error::sqlite(path, e)),
        }
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        // A failed rollback still ends with the connection's close.
        let _ = self.0.execute_batch("ROLLBACK");
    }
}

/// Refuses a rewrite that the file system has no room for, before writing
/// anything: the copy and the WAL each take about the live pages' size, and
/// a scrub that filled the disk would make other programs' writes fail
/// meanwhile, only to give up itself.
fn ensure_room(conn: &Connection, path: &Path) -> Result<()> {
    let fail = |e| error::sqlite(path, e);
    let pragma = |name: &str| -> Result<u64> {
        let v: i64 = conn
            .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .map_err(fail)?;
        Ok(u64::try_from(v).unwrap_or(0))
    };
    let live = pragma("page_count")?
        .saturating_sub(pragma("freelist_count")?)
        .saturating_mul(pragma("page_size")?);
    // The copy, the WAL with a 24-byte header per frame (and a few frames
    // written twice), and 1 MiB for the journal and the rest.
    let need = live
        .saturating_mul(2)
        .saturating_add(live / 32)
        .saturating_add(1 << 20);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fs = nix::sys::statvfs::statvfs(dir).map_err(|errno| Error::Io {
        path: dir.to_owned(),
        source: errno.into(),
    })?;
    // A WAL whose every frame is in the database is written again from its
    // start by the next writer (the copy-back): its room is reused. A
    // checkpoint that waits for nobody makes it so, unless a reader still
    // holds an older snapshot.
    let (busy, log, copied): (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .map_err(fail)?;
    let wal = if busy == 0 && log == copied {
        std::fs::symlink_metadata(files::side_file(path, "-wal")).map_or(0, |m| m.len())
    } else {
        0
    };
    let avail = fs
        .blocks_available()
        .saturating_mul(fs.fragment_size())
        .saturating_add(wal);
    if avail < need {
        return Err(Error::NoRoomToScrub {
            path: path.to_owned(),
            need,
            avail,
        });
    }
    Ok(())
}

/// A `Done` after a step of zero pages: only a source without pages gives
/// it, which [`Copy::open`] refused just before. Reported, never trusted.
fn unreachable_done(path: &Path) -> Result<()> {
    Err(Error::ScrubFailed {
        path: path.to_owned(),
        detail: "its copy-back ended before it copied a page".into(),
    })
}

/// A step of all pages that did not finish: SQLite's contract says it
/// cannot happen. Reported; dropping the backup rolls its writes back.
fn unreachable_more(path: &Path) -> Result<()> {
    Err(Error::ScrubFailed {
        path: path.to_owned(),
        detail: "its copy-back did not finish in one step".into(),
    })
}

/// An error of `VACUUM INTO`, against the file it is about: it reads the
/// archive, so a damaged archive or one that is not a database is the
/// archive's (the copy is removed when the scrub ends, so naming it would
/// send the user to a file that is gone); anything else (a full disk, an
/// I/O error writing) is the copy's.
fn vacuum_into_failed(db: &Path, copy: &Copy, e: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => error::sqlite(db, e),
        _ => copy.err(e),
    }
}

/// The connection that reads the database for `VACUUM INTO` and watches
/// for commits after it. `synchronous = OFF`: `VACUUM INTO` takes it for
/// the copy, which is thrown away, so it is never synced to the disk.
/// `temp_store = MEMORY`: no temporary file of clip text outside the
/// archive's directory (the copy needs none).
fn reader(path: &Path, timeout: Duration) -> Result<Connection> {
    let fail = |e| error::sqlite(path, e);
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_NOFOLLOW;
    let conn = Connection::open_with_flags(path, flags).map_err(fail)?;
    conn.busy_timeout(timeout).map_err(fail)?;
    conn.execute_batch("PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY;")
        .map_err(fail)?;
    Ok(conn)
}

/// Changes whenever another connection commits to the database.
fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
}

/// The scrub's copy, held by one scrub at a time: an exclusive `flock` on
/// the file, which is removed (with its journal) when the scrub ends, how
/// ever it ends, and emptied before use (one a killed scrub left behind).
struct Copy {
    /// The database it is a copy of.
    db: PathBuf,
    path: PathBuf,
    /// `path` as SQL text, for `VACUUM INTO`.
    name: String,
    lock: Flock<File>,
}

impl Copy {
    /// The copy beside `db`, or `None` while another scrub holds it.
    fn claim(db: &Path) -> Result<Option<Copy>> {
        let path = files::side_file(db, COPY);
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        let Some(name) = path.to_str().map(str::to_owned) else {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::InvalidFilename,
                "not UTF-8, which SQLite's VACUUM INTO needs for the scrub's copy",
            )));
        };
        // The holder removes the file before it unlocks: a lock won on a
        // removed file is no lock on the file of that name, so look again.
        for _ in 0..3 {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
                .open(&path)
                .map_err(|e| refused(&path, e))?;
            check_copy(&path, &file)?;
            let lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => lock,
                Err((_, nix::errno::Errno::EWOULDBLOCK)) => return Ok(None),
                Err((_, errno)) => return Err(io(errno.into())),
            };
            let same = std::fs::symlink_metadata(&path)
                .is_ok_and(|m| m.ino() == lock.metadata().map_or(0, |l| l.ino()));
            if same {
                return Ok(Some(Copy {
                    db: db.to_owned(),
                    path,
                    name,
                    lock,
                }));
            }
        }
        Ok(None)
    }

    /// Truncates the copy and removes its journal: `VACUUM INTO` writes
    /// only into an empty file.
    fn empty(&self) -> Result<()> {
        self.lock.set_len(0).map_err(|source| Error::Io {
            path: self.path.clone(),
            source,
        })?;
        remove(&files::side_file(&self.path, "-journal"))
    }

    /// The finished copy, read-only, after checking that it has pages: a
    /// backup from an empty database would empty the archive.
    fn open(&self) -> Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(|e| self.err(e))?;
        let pages: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'clips'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if pages < 1 || tables != 1 {
            return Err(Error::ScrubFailed {
                path: self.db.clone(),
                detail: format!(
                    "its copy {} came out with {pages} pages and no clips table",
                    self.path.display()
                ),
            });
        }
        Ok(conn)
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        error::sqlite(&self.path, e)
    }
}

/// An error opening the copy: a symbolic link (`O_NOFOLLOW`) or a
/// directory in its place is named as such, with the fix.
fn refused(path: &Path, e: std::io::Error) -> Error {
    let what = match e.raw_os_error() {
        Some(nix::libc::ELOOP) => "a symbolic link, which the archive never follows",
        Some(nix::libc::EISDIR) => "a directory",
        _ => {
            return Error::Io {
                path: path.to_owned(),
                source: e,
            };
        }
    };
    Error::NotAFile {
        path: path.to_owned(),
        what: format!("{what} where the scrub makes its copy of the archive"),
    }
}

/// The checks of the copy as opened (`fstat`, so nothing can be swapped in
/// between): a regular file of this user, made 0600 before a live clip is
/// written into it, whatever mode a file left there had.
fn check_copy(path: &Path, file: &File) -> Result<()> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let meta = file.metadata().map_err(io)?;
    if !meta.file_type().is_file() {
        return Err(Error::NotAFile {
            path: path.to_owned(),
            what: "not a regular file, where the scrub makes its copy of the archive".into(),
        });
    }
    let euid = nix::unistd::geteuid().as_raw();
    if meta.uid() != euid {
        return Err(Error::NotOwner {
            path: path.to_owned(),
            uid: meta.uid(),
            euid,
        });
    }
    if meta.mode() & 0o7777 != 0o600 {
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .map_err(io)?;
    }
    Ok(())
}

impl Drop for Copy {
    /// Removes the copy while still holding its lock (so that no other
    /// scrub writes into the file being removed), then unlocks.
    fn drop(&mut self) {
        for p in [self.path.clone(), files::side_file(&self.path, "-journal")] {
            if let Err(err) = remove(&p) {
                tracing::warn!(%err, "the scrub's copy of the live clips stays until the next scrub");
            }
        }
    }
}

fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Io {
            path: path.to_owned(),
            source,
        }),
    }
}
