//! The local side of a bridged board: everything that touches the `Board`.
//! All of it is synchronous (the library is), run on the watcher thread or
//! through [`blocking`] or [`sized`], so the async side never blocks on the
//! board for long and the board never waits for the network.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use shm_clip::{
    Board, BoardName, Clip, ClipId, EntryInfo, Error as BoardError, NodeId, Origin, OriginKind,
    Provenance, Representation, Selector,
};
use tokio::sync::mpsc::UnboundedSender;

use crate::error::{Error, Result};

/// Runs a board call from the async side, on this worker thread after
/// tokio has moved its other tasks away (`block_in_place`), rather than
/// handing it to the blocking pool and back: two thread wake-ups less on
/// every clip's way (measured in BENCHMARKS.md, "Bridge"). Board calls are
/// short (a copy under the board's lock) and never wait for the network.
/// Needs the multi-threaded runtime that `run` builds.
pub fn blocking<T>(call: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(call)
}

/// Clips up to this size (the sum of their representations) are read from
/// and written to the board on the async worker itself.
pub const SMALL: u64 = 64 * 1024;

/// Runs a board call that reads or writes a clip of `size` bytes: a small
/// one right here, a larger one through [`blocking`]. A small clip's read
/// or restore takes a few µs under the board's lock, less than
/// `block_in_place`'s hand-off of this worker's other tasks to another
/// thread, which was ~10 µs of every small clip's way on each side
/// (BENCHMARKS.md, "Bridge", session 5). A large clip's copy takes
/// milliseconds, which the worker's other tasks must not wait for.
pub fn sized<T>(size: u64, call: impl FnOnce() -> T) -> T {
    if size <= SMALL {
        call()
    } else {
        blocking(call)
    }
}

/// What a local change is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A new entry, first copied on this node: its manifest goes out.
    Copied,
    /// An entry the board held already made current again (a re-copy of
    /// the same content, or a select): a selection goes out.
    Selected,
}

/// A local change for the publisher: which entry, at which board seq.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalCommit {
    /// The entry's clip id.
    pub clip_id: ClipId,
    /// The origin seq on the stream: the board seq at which the entry was
    /// created ([`Kind::Copied`]), or the board seq when the watcher saw it
    /// made current ([`Kind::Selected`]). Grows from change to change.
    pub seq: u64,
    /// What it is.
    pub kind: Kind,
    /// The sum of its representations' sizes, for a [`Kind::Copied`] (0
    /// for a selection): whether the publisher's read is [`SMALL`].
    pub size: u64,
    /// When the entry was first created (for a new clip's manifest), in
    /// ns since the epoch: the watcher has it already, so the publisher
    /// reads only the content.
    pub created_ns: u64,
}

/// The board's make-current events (copy, re-copy, select, restore), as the
/// bridge accounts for them. Every one sets the entry's `touched` to the
/// board's clock, so a current entry touched later than `seen` was made
/// current by something the bridge has not accounted for: the user. The
/// bridge's own writes (applying remote commits and selections) update
/// `seen` under the same lock as the write, so the watcher never takes them
/// for the user's: no echo.
#[derive(Debug, Default)]
struct Accounting {
    /// The newest `touched` accounted for.
    seen: Option<SystemTime>,
    /// A user's make-current event that a bridge write found and covered
    /// up, which the watcher still has to publish: the clip, and a board
    /// seq at which it was current. A local copy committed after that seq
    /// is newer, and its manifest decides instead.
    pending: Option<(ClipId, u64)>,
    /// The board seq up to which every commit is accounted for: that of the
    /// watcher's last look, or of a bridge write that was the only commit
    /// since it. While the board's seq is still this, nothing happened that
    /// the bridge does not know, so neither the watcher nor the next bridge
    /// write has to read the board to find out.
    looked: Option<u64>,
    /// The board seq of the newest local change handed to the publisher
    /// (a commit's entry seq, a selection's look): an own message with an
    /// older origin seq comes back before that change's message, which
    /// decides. Kept here, under the lock that the bridge's writes hold,
    /// so that no change can be handed on between their check and their
    /// write.
    handed: u64,
}

impl Accounting {
    /// Whether `current` was made current by the user since the last look.
    fn is_news(&self, current: &EntryInfo) -> bool {
        self.seen.is_none_or(|seen| current.touched > seen)
    }

    fn see(&mut self, current: &EntryInfo) {
        self.seen = self.seen.max(Some(current.touched));
    }
}

/// What one of the bridge's own writes committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wrote {
    /// Nothing.
    Nothing,
    /// Commit `seq`, which made an entry current with `touched`, when
    /// known.
    Commit {
        seq: u64,
        touched: Option<SystemTime>,
    },
}

/// What one of the bridge's writes may decide from: taken under the
/// accounting lock, at board seq `seq`.
#[derive(Clone, Copy, Debug)]
struct Look {
    /// The board's seq when it was taken.
    seq: u64,
    /// A user's make-current event is not published yet: its message comes
    /// later on the stream and decides.
    pending: bool,
    /// [`Accounting::handed`].
    handed: u64,
}

/// What [`Local::select_remote`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selected {
    /// The clip is current now.
    Made,
    /// It was current already.
    AlreadyCurrent,
    /// The board does not hold it (never sent here, refused, or evicted).
    NotHeld,
    /// A local make-current event not yet published comes later on the
    /// stream and wins, so this one is not applied.
    Superseded,
}

/// A board handle plus this node's identity.
#[derive(Debug)]
pub struct Local {
    /// The open board.
    pub board: Board,
    /// The board's node id.
    pub node: NodeId,
    accounting: Mutex<Accounting>,
    /// [`Accounting::handed`], readable without the lock, which the
    /// bridge's writes hold across board reads and restores: the
    /// follower's first, cheap look runs on the async runtime and must not
    /// block it. Decisions read the field under the lock.
    handed_hint: AtomicU64,
}

impl Local {
    /// Opens (or creates, with config.toml's sizes) the board.
    pub fn open(name: &BoardName) -> Result<Local> {
        let create = match shm_clip::Config::load() {
            Ok(config) => config.create_options(),
            Err(err) => return Err(Error::Library(err)),
        };
        let board = Board::open_with(name, Origin::this_process(OriginKind::Bridge), Some(create))
            .map_err(|source| Error::Board {
                board: name.to_string(),
                source,
            })?;
        Ok(Local::from_board(board))
    }

    /// The bridge's side of `board`, opened by the caller.
    fn from_board(board: Board) -> Local {
        Local {
            node: board.node_id(),
            board,
            accounting: Mutex::new(Accounting::default()),
            handed_hint: AtomicU64::new(0),
        }
    }

    fn err(&self, source: BoardError) -> Error {
        Error::Board {
            board: self.board.name().to_string(),
            source,
        }
    }

    /// The local commits of `history` created after board seq `after`, oldest first.
    fn commits_in(&self, history: &[EntryInfo], after: u64) -> Vec<LocalCommit> {
        let me = std::process::id();
        let mut out: Vec<LocalCommit> = history
            .iter()
            .filter(|e| e.seq > after && e.origin_node == self.node)
            .filter(|e| !(e.origin.kind == OriginKind::Bridge && e.origin.pid == me))
            .map(|e| LocalCommit {
                clip_id: e.clip_id,
                seq: e.seq,
                kind: Kind::Copied,
                size: e.total_size,
                created_ns: epoch_ns(e.created),
            })
            .collect();
        out.sort_by_key(|c| c.seq);
        out
    }

    /// The history (current first) and the board seq it is the state of:
    /// read again until no commit came between the two reads of the seq.
    fn snapshot(&self) -> Result<(u64, Vec<EntryInfo>)> {
        loop {
            let seq = self.board.seq();
            let history = self.board.history().map_err(|e| self.err(e))?;
            if self.board.seq() == seq {
                return Ok((seq, history));
            }
        }
    }

    /// What changed since the look at board seq `prev`, as the part of the
    /// history that can hold news, and the seq it is the state of. When the
    /// one commit since `prev` created the current entry (a copy), that
    /// entry is all that can be new: every other entry was in the last look
    /// and unchanged since, and the rules below read nothing else. Then one
    /// entry is read instead of the whole history (up to the board's depth,
    /// with previews, under the lock: ~70 µs at depth 200 on a copy's path,
    /// BENCHMARKS.md "Bridge", session 4). Anything else reads it all.
    fn changes_since(&self, prev: Option<u64>) -> Result<(u64, Vec<EntryInfo>)> {
        let seq = self.board.seq();
        if prev.is_some_and(|p| p.checked_add(1) == Some(seq))
            && let Some(current) = self.current()?.filter(|c| c.seq == seq)
            && self.board.seq() == seq
        {
            return Ok((seq, vec![current]));
        }
        self.snapshot()
    }

    /// The changes to publish after board seq `after`, in the order they
    /// must go out: new local commits, then (unless the newest of them is
    /// what is current) the entry the user made current.
    fn changes_after(&self, after: u64) -> Result<Vec<LocalCommit>> {
        let mut accounting = self.accounting.lock().expect("accounting lock");
        if accounting.pending.is_none() && accounting.looked == Some(self.board.seq()) {
            // Woken by a bridge write that accounted for itself (applying a
            // remote clip): nothing to read.
            return Ok(Vec::new());
        }
        let (seq, history) = self.changes_since(accounting.looked)?;
        accounting.looked = Some(seq);
        let mut changes = self.commits_in(&history, after);
        if let Some(current) = history.first().filter(|c| accounting.is_news(c)) {
            accounting.see(current);
            accounting.pending = Some((current.clip_id, seq));
        }
        if let Some((id, at)) = accounting.pending.take() {
            // A copy made after the event is newer (the user copied again
            // before a bridge write let us look), and the newest commit's
            // own manifest makes it current everywhere.
            let overtaken = changes.last().is_some_and(|c| c.seq > at);
            if !overtaken && changes.last().map(|c| c.clip_id) != Some(id) {
                // Every local commit up to `seq` is in `changes`, and every
                // later one will have a higher seq: the order holds.
                changes.push(LocalCommit {
                    clip_id: id,
                    seq,
                    kind: Kind::Selected,
                    size: 0,
                    created_ns: 0,
                });
            }
        }
        if let Some(newest) = changes.iter().map(|c| c.seq).max() {
            accounting.handed = accounting.handed.max(newest);
            self.handed_hint.fetch_max(newest, Ordering::Release);
        }
        Ok(changes)
    }

    /// The current entry and the board seq it is current at: read again
    /// until no commit came between the two reads of the seq.
    fn current_at(&self) -> Result<(u64, Option<EntryInfo>)> {
        loop {
            let seq = self.board.seq();
            let current = self.current()?;
            if self.board.seq() == seq {
                return Ok((seq, current));
            }
        }
    }

    fn current(&self) -> Result<Option<EntryInfo>> {
        match self.board.info(Selector::Current) {
            Ok(info) => Ok(Some(info)),
            Err(BoardError::NoSuchEntry { .. } | BoardError::Empty) => Ok(None),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Runs one of the bridge's own writes to the board so that the
    /// watcher does not publish what it makes current. `write` is given the
    /// [`Look`] it may decide from (a user's make-current event still
    /// unpublished is kept for the watcher, and comes later on the stream),
    /// and says what it committed.
    ///
    /// On a remote clip's way (the common case: nothing happened on the
    /// board since the last look, and the write is a new entry whose
    /// `touched` the bridge chose) it reads nothing from the board: the
    /// board's seq says that nothing is unaccounted for, and the write's own
    /// outcome says what became current. That saved two `info(Current)`
    /// under the board's lock per clip (BENCHMARKS.md, "Bridge", session 5).
    /// Otherwise it reads the current entry before and after the write.
    fn bridge_write<T>(&self, write: impl FnOnce(Look) -> Result<(T, Wrote)>) -> Result<T> {
        let mut accounting = self.accounting.lock().expect("accounting lock");
        #[cfg(feature = "test-hooks")]
        crate::test_hooks::pause_if_asked("bridge-write");
        let mut before = self.board.seq();
        let up_to_date = accounting.looked == Some(before);
        if !up_to_date {
            let (seq, current) = self.current_at()?;
            before = seq;
            if let Some(current) = current.filter(|c| accounting.is_news(c)) {
                accounting.see(&current);
                accounting.pending = Some((current.clip_id, seq));
            }
        }
        let (result, committed) = write(Look {
            seq: before,
            pending: accounting.pending.is_some(),
            handed: accounting.handed,
        })?;
        match committed {
            Wrote::Nothing => {}
            // The only commit since everything was accounted for, and we
            // know the `touched` it gave the current entry.
            Wrote::Commit {
                seq,
                touched: Some(touched),
            } if up_to_date && before.checked_add(1) == Some(seq) => {
                accounting.seen = accounting.seen.max(Some(touched));
                accounting.looked = Some(seq);
            }
            Wrote::Commit { seq, .. } => {
                let current = self.current()?;
                // Only if nothing was committed after our write: else the
                // user did something meanwhile, which the watcher must see
                // (at worst it publishes our clip once more, which changes
                // nothing).
                if let Some(current) = current.filter(|_| self.board.seq() == seq) {
                    accounting.see(&current);
                }
            }
        }
        Ok(result)
    }

    /// The content of the entry with `id`, if the board still has it.
    pub fn read(&self, id: ClipId) -> Result<Option<Clip>> {
        match self.board.get(Selector::Clip(id)) {
            Ok(clip) => Ok(Some(clip)),
            Err(BoardError::NoSuchEntry { .. }) => Ok(None),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Makes the entry `id` current for a remote selection, unless a local
    /// one not yet published will win anyway.
    pub fn select_remote(&self, id: ClipId) -> Result<Selected> {
        self.bridge_select(id, |look| look.pending)
    }

    /// Makes our own clip `id` current again when its message (commit or
    /// selection, origin seq `seq`) comes back after remote ones: unless the
    /// user did something newer here, whose message comes later and decides.
    /// Call it through [`blocking`] unless [`Local::own_still_current`].
    pub fn reselect_own(&self, id: ClipId, seq: u64) -> Result<Selected> {
        if self.own_still_current(id)? {
            return Ok(Selected::AlreadyCurrent);
        }
        #[cfg(feature = "test-hooks")]
        crate::test_hooks::pause_if_asked("reselect-own");
        self.bridge_select(id, |look| {
            let superseded = look.pending || look.handed > seq;
            #[cfg(feature = "test-hooks")]
            if !superseded {
                crate::test_hooks::pause_if_asked("reselect-own-write");
            }
            superseded
        })
    }

    /// The board seq of the newest local change handed to the publisher.
    pub fn handed(&self) -> u64 {
        self.handed_hint.load(Ordering::Acquire)
    }

    /// Makes `id` current unless `superseded` says, from a [`Look`] taken
    /// under the accounting lock, that a local change decides instead. The
    /// select happens only if nothing was committed since that look
    /// ([`Board::select_if_unchanged`]); else the board is looked at and
    /// the case decided again. So a copy the user makes while the bridge
    /// decides, however close, is never overtaken by the bridge's select
    /// of an older clip.
    fn bridge_select(&self, id: ClipId, superseded: impl Fn(&Look) -> bool) -> Result<Selected> {
        loop {
            let made = self.bridge_write(|look| {
                if superseded(&look) {
                    return Ok((Some(Selected::Superseded), Wrote::Nothing));
                }
                self.make_current(id, look.seq)
            })?;
            if let Some(selected) = made {
                return Ok(selected);
            }
            tracing::debug!(clip = %id, "the board moved while the bridge decided; deciding again");
        }
    }

    /// Whether our own clip `id` is still current and the user did nothing
    /// since: mostly so when its message comes back, and then there is
    /// nothing to do either way. One entry's look, cheap enough for an
    /// async worker (this runs right after each own publish, beside the
    /// receivers' work on the same cores).
    pub fn own_still_current(&self, id: ClipId) -> Result<bool> {
        Ok(self.current()?.is_some_and(|current| {
            current.clip_id == id
                && !self
                    .accounting
                    .lock()
                    .expect("accounting lock")
                    .is_news(&current)
        }))
    }

    /// Selects `id` if the board is still at `seen`: `None` if it moved.
    fn make_current(&self, id: ClipId, seen: u64) -> Result<(Option<Selected>, Wrote)> {
        if self.current()?.is_some_and(|c| c.clip_id == id) {
            return Ok((Some(Selected::AlreadyCurrent), Wrote::Nothing));
        }
        match self.board.select_if_unchanged(Selector::Clip(id), seen) {
            // The board's clock chose the `touched`.
            Ok(Some(seq)) => Ok((Some(Selected::Made), Wrote::Commit { seq, touched: None })),
            Ok(None) => Ok((None, Wrote::Nothing)),
            Err(BoardError::NoSuchEntry { .. }) => Ok((Some(Selected::NotHeld), Wrote::Nothing)),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Commits a remote clip with its own id and origin node, labelled
    /// `bridge: NAME`. A clip id the board holds already becomes current.
    pub fn apply(
        &self,
        reps: Vec<Representation>,
        clip_id: ClipId,
        origin_node: NodeId,
        display_name: &str,
        created_ns: u64,
    ) -> Result<()> {
        let origin = Origin::this_process(OriginKind::Bridge).labelled(label(display_name));
        // In whole ns, as the board stores it: the entry's `touched` is then
        // exactly this, which the accounting relies on.
        let touched = UNIX_EPOCH + Duration::from_nanos(epoch_ns(SystemTime::now()));
        let provenance = Provenance {
            origin,
            created: UNIX_EPOCH + Duration::from_nanos(created_ns),
            touched,
            pinned: false,
            clip_id: Some(clip_id),
            origin_node: Some(origin_node),
        };
        let clip = Clip { reps };
        self.bridge_write(|_| {
            #[cfg(feature = "test-hooks")]
            crate::test_hooks::pause_if_asked("apply-write");
            let outcome = self
                .board
                .restore(&clip, &provenance)
                .map_err(|e| self.err(e))?;
            // A new entry has our `touched`; one the board held already (the
            // clip id) was made current with the board's clock.
            let touched = (!outcome.deduplicated).then_some(touched);
            Ok((
                (),
                Wrote::Commit {
                    seq: outcome.seq,
                    touched,
                },
            ))
        })
    }
}

/// `time` in ns since the epoch (0 before it).
fn epoch_ns(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// `bridge: NAME`, cut to the 31 bytes an origin label keeps.
pub fn label(display_name: &str) -> String {
    let mut s = format!("bridge: {display_name}");
    while s.len() > 31 {
        s.pop();
    }
    s
}

/// Watches the board on a named thread and sends every new local change
/// (after board seq `after`) to the publisher, in order. Ends when the
/// board is destroyed or the publisher is gone.
pub fn spawn_watcher(
    local: Arc<Local>,
    after: u64,
    tx: UnboundedSender<LocalCommit>,
) -> Result<std::thread::JoinHandle<Result<()>>> {
    // Subscribe before the first scan, so no commit falls between the two.
    let mut sub = local.board.subscribe().map_err(|e| local.err(e))?;
    {
        let mut accounting = local.accounting.lock().expect("accounting lock");
        // Everything up to `after` was published before this bridge ran.
        accounting.handed = accounting.handed.max(after);
        local.handed_hint.fetch_max(after, Ordering::Release);
        // What is current now was decided before this bridge ran (or by the
        // stream, which replays it): not the user's news.
        if let Some(current) = local.current()? {
            accounting.see(&current);
        }
    }
    std::thread::Builder::new()
        .name(format!("watch-{}", local.board.name()))
        .spawn(move || {
            let mut last = after;
            loop {
                for change in local.changes_after(last)? {
                    last = last.max(change.seq);
                    if tx.send(change).is_err() {
                        return Ok(());
                    }
                }
                match sub.recv() {
                    Ok(_) => {}
                    Err(e) => return Err(local.err(e)),
                }
            }
        })
        .map_err(|source| Error::Io {
            path: "watcher thread".into(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shm_clip::CreateOptions;
    use shm_clip_test_kit::TestBoard;

    /// How many times `f` took the board's lock, and what it returned.
    fn locks_taken<T>(board: &Board, f: impl FnOnce() -> T) -> (u64, T) {
        let (raw, out) = raw_locks(board, f);
        // `status` locks too: what two readings with nothing between count.
        let (own, ()) = raw_locks(board, || ());
        (raw - own, out)
    }

    fn raw_locks<T>(board: &Board, f: impl FnOnce() -> T) -> (u64, T) {
        let before = board.status().unwrap().lock.acquisitions;
        let out = f();
        let after = board.status().unwrap().lock.acquisitions;
        (after - before, out)
    }

    fn remote(local: &Local, id: u8, text: &str) {
        let reps = vec![Representation {
            mime: "text/plain;charset=utf-8".into(),
            data: text.as_bytes().to_vec(),
        }];
        local
            .apply(reps, ClipId([id; 16]), NodeId([9; 16]), "laptop", 1)
            .unwrap();
    }

    /// The watcher's look, as its loop makes it.
    fn look(local: &Local, last: &mut u64) -> Vec<LocalCommit> {
        let changes = local.changes_after(*last).unwrap();
        for c in &changes {
            *last = (*last).max(c.seq);
        }
        changes
    }

    fn kinds(changes: &[LocalCommit]) -> Vec<(ClipId, Kind)> {
        changes.iter().map(|c| (c.clip_id, c.kind)).collect()
    }

    #[test]
    fn a_remote_clip_is_applied_with_one_lock_and_is_never_news_while_the_users_changes_are() {
        let tb = TestBoard::new("bridge-accounting");
        let user = tb.open(CreateOptions::default());
        let local = Local::from_board(
            Board::open_with(&tb.name, Origin::this_process(OriginKind::Bridge), None).unwrap(),
        );
        let mut last = 0;
        assert_eq!(locks_taken(&local.board, || ()).0, 0, "the count is exact");
        let (n, _) = locks_taken(&local.board, || local.current().unwrap());
        assert_eq!(n, 1, "one look at the current entry is one lock");

        let mine = user.copy(&Clip::text("mine")).unwrap().clip_id;
        assert_eq!(kinds(&look(&local, &mut last)), [(mine, Kind::Copied)]);

        // Nothing happened since the look: the restore is the one lock, and
        // the watcher, woken by it, reads nothing and finds nothing.
        let (n, ()) = locks_taken(&local.board, || remote(&local, 1, "from afar"));
        assert_eq!(
            n, 1,
            "applying a remote clip locks the board once, for the restore"
        );
        let (n, changes) = locks_taken(&local.board, || look(&local, &mut last));
        assert_eq!((n, changes), (0, vec![]), "no echo, and no read for it");
        assert_eq!(
            user.info(Selector::Current).unwrap().clip_id,
            ClipId([1; 16])
        );

        // Two remote clips in a row: the same.
        remote(&local, 2, "from afar, again");
        let (n, ()) = locks_taken(&local.board, || remote(&local, 3, "and again"));
        assert_eq!(n, 1);
        assert_eq!(look(&local, &mut last), []);

        // The user's select after them is news, published once.
        user.select(Selector::Clip(mine)).unwrap();
        assert_eq!(kinds(&look(&local, &mut last)), [(mine, Kind::Selected)]);
        assert_eq!(look(&local, &mut last), []);

        // A clip id the board holds (a replay after a restart) is made
        // current with the board's clock: still not news.
        remote(&local, 1, "from afar");
        assert_eq!(look(&local, &mut last), []);

        // A user's copy and select that the watcher has not looked at yet
        // when a remote clip lands: both still go out, in order.
        let other = user.copy(&Clip::text("other")).unwrap().clip_id;
        user.select(Selector::Clip(mine)).unwrap();
        remote(&local, 4, "meanwhile");
        assert_eq!(
            kinds(&look(&local, &mut last)),
            [(other, Kind::Copied), (mine, Kind::Selected)]
        );
        assert_eq!(look(&local, &mut last), []);

        // And a plain copy after a remote clip: published.
        remote(&local, 5, "one more");
        let third = user.copy(&Clip::text("third")).unwrap().clip_id;
        assert_eq!(kinds(&look(&local, &mut last)), [(third, Kind::Copied)]);
    }
}
