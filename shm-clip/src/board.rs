//! The public `Board`: opening, publishing and notifying, subscriptions,
//! destroying. Writing is in `board/write.rs`, reading in `board/read.rs`,
//! what changed since a follower's last look in `board/changes.rs`.
//!
//! Over 400 lines, yet one concept: the handle and the steps every operation
//! shares (sequencing, commit, notify, finding an entry under the lock).

mod below;
mod changes;
mod read;
mod unlocked;
mod write;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::format::{Change, off};
use crate::ids::{ClipId, NodeId};
use crate::index_cache::IndexCache;
use crate::lock::LockGuard;
use crate::mailbox::{self, Notifier};
use crate::record;
use crate::ring::{Fault, Ring, Slot};
use crate::segment::Segment;
use crate::{
    BoardName, CreateOptions, Error, Notification, Origin, OriginKind, Result, Subscription,
};

pub use below::Restored;
pub use changes::{Changes, EntryState};
pub use write::{Removal, RemovalLog};

/// Why an operation on the derived structures stopped: a user-facing error,
/// or an inconsistency that a repair fixes.
enum Failure {
    Error(Error),
    Fault(Fault),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Error(e)
    }
}

impl From<Fault> for Failure {
    fn from(f: Fault) -> Self {
        Failure::Fault(f)
    }
}

/// Which history entry an operation acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selector {
    /// The current clip (index 0).
    Current,
    /// The entry at this history position; 0 is current.
    Index(usize),
    /// The entry created at this seq.
    Seq(u64),
    /// The entry holding this clip.
    Clip(ClipId),
}

/// What a copy did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopyOutcome {
    /// The commit seq of the copy.
    pub seq: u64,
    /// The seq that names the entry (what `Selector::Seq` and `history`
    /// use): `seq` for new content, the original entry's seq when
    /// `deduplicated`.
    pub entry_seq: u64,
    /// The same content was already in history and was moved to the front.
    pub deduplicated: bool,
    /// The entry's clip id (the earlier entry's, when `deduplicated`).
    pub clip_id: ClipId,
}

/// An open board. Cheap to share between threads (`Send + Sync`).
pub struct Board {
    seg: Arc<Segment>,
    origin: Origin,
    notifier: Mutex<Notifier>,
    /// Locked only while holding the board lock, after it.
    index: Mutex<IndexCache>,
}

impl Board {
    /// Opens board `name`, creating it with the default sizes if it does
    /// not exist. Reads no file of the user's: to create boards with the
    /// sizes of config.toml, load it ([`Config::load`](crate::Config::load))
    /// and pass its [`Config::create_options`](crate::Config::create_options)
    /// to [`Board::open_with`], as the CLI and the app do.
    pub fn open(name: &BoardName, kind: OriginKind) -> Result<Board> {
        Self::open_with(
            name,
            Origin::this_process(kind),
            Some(CreateOptions::default()),
        )
    }

    /// Opens board `name` as `origin`. With `create`, a missing board is
    /// created with those sizes; without, a missing board is `NoSuchBoard`.
    pub fn open_with(
        name: &BoardName,
        origin: Origin,
        create: Option<CreateOptions>,
    ) -> Result<Board> {
        let seg = Segment::open(name, create, crate::repair::repair)?;
        Ok(Board {
            seg: Arc::new(seg),
            origin,
            notifier: Mutex::new(Notifier::default()),
            index: Mutex::new(IndexCache::default()),
        })
    }

    /// The board's name.
    #[must_use]
    pub fn name(&self) -> &BoardName {
        self.seg.name()
    }

    /// Who this handle writes as.
    #[must_use]
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The board's node id, made with it: the origin of the clips copied here.
    #[must_use]
    pub fn node_id(&self) -> NodeId {
        NodeId(self.seg.node_id())
    }

    /// The size of the board's data arena, fixed at creation. Read without the lock.
    #[must_use]
    pub fn capacity(&self) -> u64 {
        self.seg.geometry().arena_size
    }

    /// The largest single-representation clip of type `mime` that fits on an
    /// empty board: the arena less the record's framing.
    #[must_use]
    pub fn max_clip_size(&self, mime: &str) -> u64 {
        let framing = (record::descs_len(1) + mime.len()) as u64;
        // Records start 8-byte aligned, so only whole 8-byte units of the arena count.
        (self.capacity() & !7).saturating_sub(framing)
    }

    /// The seq the next commit publishes. Taken before any change: `seq`
    /// never goes back, so a forged `u64::MAX` leaves no commit possible,
    /// and a change that could not be published must not be made.
    fn next_seq(&self) -> Result<u64> {
        self.seg
            .seq_cell()
            .load(Ordering::Relaxed)
            .checked_add(1)
            .ok_or_else(|| Error::CorruptHeader {
                path: self.seg.path().to_owned(),
                what: "seq is at its maximum, so no change can be published".into(),
            })
    }

    /// Publishes a change under the lock: seq last, with release ordering.
    /// Our own cache forgets the index: the next listing reads it again.
    fn commit(&self, _guard: &LockGuard<'_>, seq: u64, now: u64) {
        self.seg.set_header_u32(off::LAST_PID, self.origin.pid);
        self.seg
            .set_header_u32(off::LAST_KIND, self.origin.kind.to_raw());
        self.seg.set_header_u64(off::LAST_NS, now);
        // The change is made, its seq not yet published.
        #[cfg(feature = "test-hooks")]
        crate::test_hooks::park_if_asked("commit");
        self.seg.seq_cell().store(seq, Ordering::Release);
        self.index
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .invalidate();
        // Usually one header read: the table is re-read only when it changed.
        self.notifier
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .refresh(&self.seg);
    }

    /// After unlocking: one non-blocking send per mailbox.
    fn notify(&self, seq: u64, now: u64, change: Change) {
        let mut notifier = self.notifier.lock().unwrap_or_else(PoisonError::into_inner);
        let note = Notification {
            seq,
            origin_pid: self.origin.pid,
            origin_kind: self.origin.kind,
            committed_at: UNIX_EPOCH + Duration::from_nanos(now),
            change,
            coalesced: 1,
        };
        if notifier.send(&note) {
            drop(notifier);
            mailbox::reap_dead(&self.seg);
        }
    }

    /// Runs `op` on the board's derived structures; if one of them turns
    /// out inconsistent, repairs the board (rebuilding them from the slots)
    /// and runs it once more. Under the lock.
    fn with_ring<T>(
        &self,
        _guard: &LockGuard<'_>,
        mut op: impl FnMut(&Ring<'_>) -> std::result::Result<T, Failure>,
    ) -> Result<T> {
        for attempt in 0..2 {
            match op(&Ring::new(&self.seg)) {
                Ok(v) => return Ok(v),
                Err(Failure::Error(e)) => return Err(e),
                Err(Failure::Fault(Fault(why))) => {
                    tracing::warn!(board = %self.seg.name(), why, attempt, "board structures inconsistent; repairing");
                    let _ = crate::repair::repair(&self.seg);
                    self.seg.set_header_u64(
                        off::LOCK_RECOVERIES,
                        self.seg.header_u64(off::LOCK_RECOVERIES).wrapping_add(1),
                    );
                    self.index
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .invalidate();
                }
            }
        }
        Err(Error::CorruptHeader {
            path: self.seg.path().to_owned(),
            what: "the history index stays inconsistent after a repair".into(),
        })
    }

    /// The entry `which` names, checked where it is read. Under the lock.
    fn find(&self, guard: &LockGuard<'_>, which: Selector) -> Result<Slot> {
        let found = match which {
            Selector::Current => self.with_ring(guard, |ring| Ok(ring.current()?))?,
            // Most often the clip asked for by id is the current one (a
            // watcher reading what was just copied): that needs no look at
            // the index, whose cache another process's commit has made
            // stale, and refreshing it copies the whole index out. The
            // current slot is checked as for `Selector::Current` (a fault
            // repairs the board), not also against its neighbours' records
            // as the index cache does; the record's reads are bounds-checked
            // and its checksums verified either way.
            Selector::Clip(id)
                if let Some(current) = self.with_ring(guard, |ring| Ok(ring.current()?))?
                    && current.rec.clip_id == id.0 =>
            {
                Some(current)
            }
            other => {
                let slot = {
                    let index = self.index(guard)?;
                    let mut live = index.live();
                    match other {
                        Selector::Index(i) => live.nth(i),
                        Selector::Seq(s) => live.find(|l| l.entry.seq == s),
                        Selector::Clip(id) => live.find(|l| l.rec.clip_id == id.0),
                        Selector::Current => unreachable!("handled above"),
                    }
                    .map(|l| l.entry.slot as u32)
                };
                match slot {
                    Some(slot) => Some(self.with_ring(guard, |ring| Ok(ring.live(slot)?))?),
                    None => None,
                }
            }
        };
        if let Some(s) = found {
            return Ok(s);
        }
        let entries = self.index(guard)?.live().len();
        Err(match which {
            Selector::Current => Error::Empty,
            Selector::Index(i) => Error::NoSuchEntry {
                what: format!("index {i} (history has {entries} entries)"),
            },
            Selector::Seq(s) => Error::NoSuchEntry {
                what: format!("seq {s}"),
            },
            Selector::Clip(id) => Error::NoSuchEntry {
                what: format!("clip {id}"),
            },
        })
    }

    /// The index cache, brought up to date. Under the board lock.
    fn index(&self, guard: &LockGuard<'_>) -> Result<MutexGuard<'_, IndexCache>> {
        let mut index = self.index.lock().unwrap_or_else(PoisonError::into_inner);
        index.refresh(&self.seg, guard)?;
        Ok(index)
    }

    /// The commit seq, read without the lock.
    #[must_use]
    pub fn seq(&self) -> u64 {
        mailbox::current_seq(&self.seg)
    }

    /// Registers a mailbox for this process and returns it.
    ///
    /// Writers notify every mailbox except those of their own process: a
    /// process learns of its own commits from the calls it made. Subscribing
    /// and unsubscribing also wake the other mailboxes, with an unchanged seq,
    /// so that status displays can re-read the subscriber table.
    pub fn subscribe(&self) -> Result<Subscription> {
        mailbox::subscribe(&self.seg, &self.origin)
    }

    /// Frees the subscriber slots of dead processes and unlinks their
    /// mailboxes. Returns how many were reaped.
    pub fn reap(&self) -> usize {
        mailbox::reap_dead(&self.seg)
    }

    /// This user's boards, by name.
    pub fn list() -> Result<Vec<BoardName>> {
        let prefix = crate::name::segment_prefix(crate::segment::euid());
        let dir = std::fs::read_dir("/dev/shm").map_err(|e| {
            Error::os(
                "listing /dev/shm",
                nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)),
            )
        })?;
        let uid = crate::segment::euid();
        // A file named for our uid that someone else owns (or a symlink,
        // a directory) is no board of ours: every open refuses it.
        let ours = |e: &std::fs::DirEntry| {
            use std::os::unix::fs::MetadataExt;
            e.metadata().is_ok_and(|m| m.is_file() && m.uid() == uid)
        };
        let mut names: Vec<BoardName> = dir
            .filter_map(std::result::Result::ok)
            .filter(ours)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter_map(|f| BoardName::new(f.strip_prefix(&prefix)?).ok())
            .collect();
        names.sort();
        Ok(names)
    }

    /// Removes board `name` and its mailboxes, and makes its clips
    /// unreadable: every entry, pinned ones too, is wiped in place first, so
    /// a process that still maps the segment finds nothing. Then the name is
    /// unlinked, and only after that every mailbox gets a last note, so its
    /// owner wakes, sees the removal and reports [`Error::BoardDestroyed`].
    ///
    /// Without `force` the segment must pass validation; with it, any
    /// segment owned by this user goes (unwiped if it cannot be read).
    pub fn destroy(name: &BoardName, force: bool) -> Result<DestroyReport> {
        let board = match Segment::open(name, None, crate::repair::repair) {
            Ok(seg) => Some(Board {
                seg: Arc::new(seg),
                origin: Origin::this_process(OriginKind::Cli),
                notifier: Mutex::new(Notifier::default()),
                index: Mutex::new(IndexCache::default()),
            }),
            Err(Error::NoSuchBoard { .. }) => {
                return Err(Error::NoSuchBoard {
                    name: name.to_string(),
                });
            }
            Err(e) if !force => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "destroying an invalid segment");
                None
            }
        };
        let mut report = DestroyReport::default();
        let mut told = Vec::new();
        if let Some(board) = &board {
            report.entries = board.wipe()?;
            told = mailbox::registered(&board.seg);
        }
        Segment::unlink(name)?;
        if let Some(board) = &board {
            mailbox::farewell(&board.seg, &told);
        }
        report.notified = told.len();
        Ok(report)
    }

    /// Wipes every entry without notifying anyone: the farewell note follows.
    fn wipe(&self) -> Result<usize> {
        let guard = self.seg.lock()?;
        // The board goes next: a forged, exhausted seq must not keep its
        // clips from being wiped.
        let seq = self.next_seq().unwrap_or(u64::MAX);
        let wiped = self.remove_all(&guard, true);
        self.commit(&guard, seq, now_ns());
        wiped
    }

    /// For tests and fuzzing: a thread of this process takes the board lock
    /// and ends holding it, as a process killed inside the critical section
    /// would; the next locker gets `EOWNERDEAD` and repairs the board.
    #[cfg(feature = "test-hooks")]
    #[doc(hidden)]
    pub fn abandon_lock(&self) -> Result<()> {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("shm-clip-abandons-lock".into())
                .spawn_scoped(scope, || {
                    // Never unlocked: the thread's end makes the robust
                    // mutex owner-dead, exactly what repair is for.
                    std::mem::forget(self.seg.lock()?);
                    Ok(())
                })
                .map_err(|e| {
                    let errno = nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0));
                    Error::os("spawning a thread", errno)
                })?
                .join()
                .unwrap_or(Ok(()))
        })
    }

    /// Whether this board was destroyed since it was opened (its segment's
    /// name removed): whatever it still holds is unreachable to everyone
    /// else, and opening the name again gives a fresh board. One `fstat`.
    #[must_use]
    pub fn is_destroyed(&self) -> bool {
        self.seg.unlinked()
    }
}

/// Where a restored entry came from, as it was saved: [`Board::restore`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provenance {
    /// The program that first copied it.
    pub origin: Origin,
    /// When it was first copied.
    pub created: SystemTime,
    /// When it was last copied or selected.
    pub touched: SystemTime,
    /// Whether it was pinned.
    pub pinned: bool,
    /// Its clip id; `None` makes a fresh one. A board that holds this clip
    /// already only makes that entry current.
    pub clip_id: Option<ClipId>,
    /// The board it was first copied on; `None` means this one.
    pub origin_node: Option<NodeId>,
}

impl Provenance {
    /// Provenance of a clip first copied by `origin` at `created`, with no
    /// id yet: for restoring from files that kept no ids.
    #[must_use]
    pub fn new(origin: Origin, created: SystemTime, touched: SystemTime, pinned: bool) -> Self {
        Provenance {
            origin,
            created,
            touched,
            pinned,
            clip_id: None,
            origin_node: None,
        }
    }
}

/// What [`Board::destroy`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DestroyReport {
    /// Entries wiped (0 for a segment that could not be read).
    pub entries: usize,
    /// Live mailboxes when the board went, each told that it is gone: by a
    /// last note, or by its own watch on the removal, whichever came first.
    pub notified: usize,
}

impl std::fmt::Debug for Board {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Board")
            .field("name", self.seg.name())
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

use crate::ids::now_ns;

fn ns_of(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn time_of(ns: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(ns)
}

fn corrupt(seq: u64, what: &str) -> Error {
    Error::CorruptEntry {
        seq,
        what: what.into(),
    }
}

fn with_seq(e: Error, seq: u64) -> Error {
    match e {
        Error::CorruptEntry { what, .. } => Error::CorruptEntry { seq, what },
        other => other,
    }
}
