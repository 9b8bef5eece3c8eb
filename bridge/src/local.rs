//! The local side of a bridged board: everything that touches the `Board`.
//! All of it is synchronous (the library is), run on an async worker only
//! where it is short (the watcher's look, when it can start at once, and
//! [`sized`] small clips), else through [`blocking`], so the async side
//! never blocks on the board for long and the board never waits for the
//! network.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use shm_clip::{
    Board, BoardName, Clip, ClipId, EntryInfo, Error as BoardError, NodeId, Origin, OriginKind,
    Provenance, Representation, Selector,
};

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
    /// The changes handed to the publisher whose messages the follower has
    /// not passed yet, oldest first: their messages come later on the
    /// stream than any remote one the follower meets meanwhile, so a
    /// remote clip is placed below them ([`Local::apply`]).
    outstanding: VecDeque<Outstanding>,
    /// The stream seq of the last message the follower handled.
    passed: u64,
    /// A remote clip that [`Local::apply`] placed below local changes,
    /// while those are outstanding. If they all turn out not to be
    /// published (the allow-list, the size cap), it is what the stream
    /// says is current, and the bridge makes it so ([`Local::published`]).
    buried: Option<ClipId>,
}

/// A local change on its way to the stream.
#[derive(Clone, Copy, Debug)]
struct Outstanding {
    /// [`LocalCommit::seq`].
    seq: u64,
    clip_id: ClipId,
    /// The stream seq of its message, once the publisher knows it.
    stream: Option<u64>,
}

impl Accounting {
    /// Whether `current` was made current by the user since the last look.
    fn is_news(&self, current: &EntryInfo) -> bool {
        self.seen.is_none_or(|seen| current.touched > seen)
    }

    fn see(&mut self, current: &EntryInfo) {
        self.seen = self.seen.max(Some(current.touched));
    }

    /// The follower handled stream message `stream_seq`, our own change
    /// of origin seq `own` if it is one: the changes whose messages came
    /// at or before it are no longer on their way. The publisher sends in
    /// the order of the seqs, so an own message also answers for every
    /// older change.
    fn pass(&mut self, stream_seq: u64, own: Option<u64>) {
        self.passed = self.passed.max(stream_seq);
        let passed = self.passed;
        self.outstanding.retain(|o| {
            let gone = o.stream.is_some_and(|n| n <= passed) || own.is_some_and(|s| o.seq <= s);
            !gone
        });
        if self.outstanding.is_empty() {
            // Every change it lay below is on the stream after it, and
            // ranks above it everywhere: the boards agree.
            self.buried = None;
        }
    }

    /// The clip ids of the outstanding changes whose messages come after
    /// stream message `stream_seq`.
    fn later_than(&self, stream_seq: u64) -> impl Iterator<Item = ClipId> + '_ {
        self.outstanding
            .iter()
            .filter(move |o| o.stream.is_none_or(|n| n > stream_seq))
            .map(|o| o.clip_id)
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
    /// Commit `seq`, which left the current entry as it was (an entry
    /// placed below it).
    Beneath { seq: u64 },
}

/// What a bridge write placed with [`Board::restore_below`] or
/// [`Board::select_below`] committed, its `touched` counted as the bridge's
/// own: an entry the board moved or replaced in place got the board's
/// clock, which the watcher would otherwise take for the user's
/// make-current event once that entry becomes current (when the user
/// deletes the entries above it), and publish a selection nobody made.
fn own_write(accounting: &mut Accounting, restored: &shm_clip::Restored) -> Wrote {
    accounting.seen = accounting.seen.max(Some(restored.touched));
    let seq = restored.outcome.seq;
    if restored.below.is_some() {
        Wrote::Beneath { seq }
    } else {
        Wrote::Commit {
            seq,
            touched: Some(restored.touched),
        }
    }
}

/// What one of the bridge's writes may decide from: taken under the
/// accounting lock, at board seq `seq`.
#[derive(Clone, Copy, Debug)]
struct Look {
    /// Nothing was committed since the watcher's last look (or a bridge
    /// write that accounted for itself): every local change up to `seq`
    /// was handed to the publisher, or is `pending`.
    fresh: bool,
    /// The clip of the pending make-current event.
    pending_clip: Option<ClipId>,
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

    pub(crate) fn err(&self, source: BoardError) -> Error {
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
    pub(crate) fn changes_after(&self, after: u64) -> Result<Vec<LocalCommit>> {
        let accounting = self.accounting.lock().expect("accounting lock");
        self.changes_after_in(accounting, after)
    }

    /// [`Local::changes_after`], or `None` if a bridge write holds the
    /// accounting now (for a large clip, for milliseconds).
    pub(crate) fn try_changes_after(&self, after: u64) -> Option<Result<Vec<LocalCommit>>> {
        match self.accounting.try_lock() {
            Ok(accounting) => Some(self.changes_after_in(accounting, after)),
            Err(std::sync::TryLockError::WouldBlock) => None,
            Err(std::sync::TryLockError::Poisoned(_)) => panic!("accounting lock poisoned"),
        }
    }

    fn changes_after_in(
        &self,
        mut accounting: std::sync::MutexGuard<'_, Accounting>,
        after: u64,
    ) -> Result<Vec<LocalCommit>> {
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
        accounting
            .outstanding
            .extend(changes.iter().map(|c| Outstanding {
                seq: c.seq,
                clip_id: c.clip_id,
                stream: None,
            }));
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
    fn bridge_write<T>(
        &self,
        write: impl FnOnce(Look, &mut Accounting) -> Result<(T, Wrote)>,
    ) -> Result<T> {
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
        let (result, committed) = write(
            Look {
                fresh: up_to_date,
                pending_clip: accounting.pending.map(|(id, _)| id),
                seq: before,
                pending: accounting.pending.is_some(),
                handed: accounting.handed,
            },
            &mut accounting,
        )?;
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
            // The current entry is the one accounted for before.
            Wrote::Beneath { seq } if up_to_date && before.checked_add(1) == Some(seq) => {
                accounting.looked = Some(seq);
            }
            Wrote::Commit { seq, .. } | Wrote::Beneath { seq } => {
                let current = self.current()?;
                // Only if nothing was committed after our write: else the
                // user did something meanwhile, which the watcher must see
                // (at worst it publishes our clip once more, which changes
                // nothing).
                if let Some(current) = current.filter(|_| self.board.seq() == seq) {
                    accounting.see(&current);
                    if up_to_date && before.checked_add(1) == Some(seq) {
                        // Ours was the only commit since everything was
                        // accounted for.
                        accounting.looked = Some(seq);
                    }
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

    /// Makes the entry `id` current for a remote selection (stream message
    /// `stream_seq`), ranked below the local changes whose messages come
    /// later on the stream, as [`Local::apply`] ranks a remote clip (and
    /// for the same reason: on every other board those come after it, so
    /// they stay together at the top here too). If `id` is itself one of
    /// them, its own message decides: nothing is done.
    pub fn select_remote(&self, id: ClipId, stream_seq: u64) -> Result<Selected> {
        for _ in 0..DECIDE_ATTEMPTS {
            let made = self.bridge_write(|look, accounting| {
                let Some(keep) = self.later_local_changes(&look, accounting, stream_seq)? else {
                    return Ok((None, Wrote::Nothing));
                };
                if keep.contains(&id) {
                    return Ok((Some(Selected::Superseded), Wrote::Nothing));
                }
                if keep.is_empty() {
                    return self.make_current(id, look.seq);
                }
                match self.board.select_below(Selector::Clip(id), &keep, look.seq) {
                    Ok(Some(selected)) => {
                        accounting.buried = selected.below.map(|_| id);
                        Ok((Some(Selected::Made), own_write(accounting, &selected)))
                    }
                    Ok(None) => Ok((None, Wrote::Nothing)),
                    Err(BoardError::NoSuchEntry { .. }) => {
                        Ok((Some(Selected::NotHeld), Wrote::Nothing))
                    }
                    Err(e) => Err(self.err(e)),
                }
            })?;
            if let Some(selected) = made {
                return Ok(selected);
            }
            tracing::debug!(clip = %id, "the board moved while the bridge decided; deciding again");
        }
        tracing::warn!(
            clip = %id,
            attempts = DECIDE_ATTEMPTS,
            "the board changed under every attempt to make this clip current; leaving it to the local changes"
        );
        Ok(Selected::Superseded)
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
        self.bridge_select(id, |look, _| {
            let superseded = look.pending || look.handed > seq;
            #[cfg(feature = "test-hooks")]
            if !superseded {
                crate::test_hooks::pause_if_asked("reselect-own-write");
            }
            superseded
        })
    }

    /// Takes up the watch where a bridge that ran before left it: every
    /// local change up to board seq `after` was published then.
    pub(crate) fn resume_after(&self, after: u64) -> Result<()> {
        let mut accounting = self.accounting.lock().expect("accounting lock");
        accounting.handed = accounting.handed.max(after);
        self.handed_hint.fetch_max(after, Ordering::Release);
        // What is current now was decided before this bridge ran (or by the
        // stream, which replays it): not the user's news.
        if let Some(current) = self.current()? {
            accounting.see(&current);
        }
        Ok(())
    }

    /// Takes up the changes that a bridge that ran before published and
    /// its follower had not passed (the state's `outstanding`, oldest
    /// first): a remote message replayed before theirs goes below them.
    pub(crate) fn resume_outstanding(&self, published: &[crate::state::OwnMessage]) {
        let mut accounting = self.accounting.lock().expect("accounting lock");
        for own in published {
            if accounting.outstanding.iter().all(|o| o.seq != own.seq) {
                accounting.outstanding.push_back(Outstanding {
                    seq: own.seq,
                    clip_id: ClipId(own.clip),
                    stream: Some(own.stream),
                });
            }
        }
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
    fn bridge_select(
        &self,
        id: ClipId,
        superseded: impl Fn(&Look, &Accounting) -> bool,
    ) -> Result<Selected> {
        for _ in 0..DECIDE_ATTEMPTS {
            let made = self.bridge_write(|look, accounting| {
                if superseded(&look, accounting) {
                    return Ok((Some(Selected::Superseded), Wrote::Nothing));
                }
                self.make_current(id, look.seq)
            })?;
            if let Some(selected) = made {
                return Ok(selected);
            }
            tracing::debug!(clip = %id, "the board moved while the bridge decided; deciding again");
        }
        // Every one of those commits is another process's change, whose own
        // message (if it makes something current) comes later and decides.
        tracing::warn!(
            clip = %id,
            attempts = DECIDE_ATTEMPTS,
            "the board changed under every attempt to make this clip current; leaving it to the local changes"
        );
        Ok(Selected::Superseded)
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

    /// Commits remote clip `clip_id` (stream message `stream_seq`) with its
    /// own id and origin node, labelled `bridge: NAME`. A clip id the board
    /// holds already is moved.
    ///
    /// It goes below the local changes whose messages come later on the
    /// stream ([`Board::restore_below`]): those handed to the publisher
    /// whose messages the follower has not passed, the one still pending,
    /// and the copies the watcher has not looked at yet. So the user's own
    /// newer copy stays current here while its message is on its way (one
    /// round trip, or a whole outbox after a disconnect), instead of this
    /// older clip.
    ///
    /// Why the boards still converge to the stream's order: the follower
    /// reads the stream in order, so when message `stream_seq` is read,
    /// every own message before it has been read too, and every change in
    /// `keep` will be on the stream after it. On the other boards they are
    /// then applied after (above) this clip, as they are here already, in
    /// the same order (the publisher sends in the order of the board's
    /// seqs, and each remote clip goes right below the oldest of them).
    /// Once the follower passes their messages, nothing is outstanding, the
    /// next remote clip goes on top, and an own message that comes back
    /// newest is current (it was above everything applied meanwhile, or
    /// [`Local::reselect_own`] makes it so). A change that is not published
    /// after all (the allow-list, the size cap) leaves the stream's clip
    /// buried: [`Local::published`] makes it current then. No write here is
    /// published (the watcher does not take a bridge write for the user's),
    /// so one copy is still one message and one commit on each other board.
    pub fn apply(
        &self,
        reps: Vec<Representation>,
        clip_id: ClipId,
        origin_node: NodeId,
        display_name: &str,
        created_ns: u64,
        stream_seq: u64,
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
        for _ in 0..DECIDE_ATTEMPTS {
            let done = self.bridge_write(|look, accounting| {
                #[cfg(feature = "test-hooks")]
                crate::test_hooks::pause_if_asked("apply-write");
                let Some(keep) = self.later_local_changes(&look, accounting, stream_seq)? else {
                    return Ok((false, Wrote::Nothing));
                };
                let restored = self
                    .board
                    .restore_below(&clip, &provenance, &keep, look.seq)
                    .map_err(|e| self.err(e))?;
                let Some(restored) = restored else {
                    return Ok((false, Wrote::Nothing));
                };
                // A kept entry with the same content took the clip's place
                // under its own id: that entry is a local change, not buried.
                accounting.buried = restored
                    .below
                    .filter(|_| restored.outcome.clip_id == clip_id)
                    .map(|_| clip_id);
                Ok((true, own_write(accounting, &restored)))
            })?;
            if done {
                return Ok(());
            }
            tracing::debug!(clip = %clip_id, "the board moved while the bridge decided; deciding again");
        }
        // Another process commits faster than we can look: apply it on top,
        // as before there was a below. A newer local change among those
        // commits has its message later on the stream, and its echo makes it
        // current again (`reselect_own`).
        tracing::warn!(
            clip = %clip_id,
            attempts = DECIDE_ATTEMPTS,
            "the board changed under every attempt to place a remote clip; applying it on top"
        );
        self.bridge_write(|_, accounting| {
            let outcome = self
                .board
                .restore(&clip, &provenance)
                .map_err(|e| self.err(e))?;
            accounting.buried = None;
            Ok((
                (),
                Wrote::Commit {
                    seq: outcome.seq,
                    touched: None,
                },
            ))
        })
    }

    /// The clip ids of the local changes whose messages come after stream
    /// message `stream_seq`, as of `look`; `None` if the board moved while
    /// they were read.
    fn later_local_changes(
        &self,
        look: &Look,
        accounting: &Accounting,
        stream_seq: u64,
    ) -> Result<Option<Vec<ClipId>>> {
        let mut keep: Vec<ClipId> = accounting.later_than(stream_seq).collect();
        keep.extend(look.pending_clip);
        if !look.fresh {
            // The user did something since the last look: copies the
            // watcher has not handed on yet come later too.
            let (seq, history) = self.snapshot()?;
            if seq != look.seq {
                return Ok(None);
            }
            keep.extend(
                self.commits_in(&history, accounting.handed)
                    .iter()
                    .map(|c| c.clip_id),
            );
        }
        Ok(Some(keep))
    }

    /// The follower handled stream message `stream_seq` (our own change of
    /// origin seq `own`, if it is one).
    pub fn passed(&self, stream_seq: u64, own: Option<u64>) {
        self.accounting
            .lock()
            .expect("accounting lock")
            .pass(stream_seq, own);
    }

    /// The publisher is done with local change `seq`: its message is
    /// stream message `stream_seq`, or (`None`) it is not published (the
    /// allow-list, the size cap, gone from the board). If that leaves a
    /// remote clip buried below changes none of which is published, and
    /// the user did nothing since, that clip is what the stream says is
    /// current: it is made current.
    pub fn published(&self, seq: u64, stream_seq: Option<u64>) -> Result<()> {
        let buried = {
            let mut accounting = self.accounting.lock().expect("accounting lock");
            match stream_seq {
                Some(n) => {
                    for o in accounting.outstanding.iter_mut().filter(|o| o.seq == seq) {
                        o.stream = Some(n);
                    }
                    // The follower may have passed it already.
                    let passed = accounting.passed;
                    accounting.pass(passed, None);
                    return Ok(());
                }
                None => accounting.outstanding.retain(|o| o.seq != seq),
            }
            if !accounting.outstanding.is_empty() {
                return Ok(());
            }
            accounting.buried.take()
        };
        let Some(id) = buried else { return Ok(()) };
        let selected = self.bridge_select(id, |look, accounting| {
            look.pending || !look.fresh || !accounting.outstanding.is_empty()
        })?;
        tracing::debug!(clip = %id, ?selected, "the local changes above a remote clip were not published");
        Ok(())
    }
}

/// How often a bridge write decides again because another process
/// committed between its look and its write, before it stops deciding: a
/// bound on work under a storm of commits, far above what a user makes.
const DECIDE_ATTEMPTS: usize = 64;

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
            .apply(reps, ClipId([id; 16]), NodeId([9; 16]), "laptop", 1, 0)
            .unwrap();
    }

    /// The watcher's look, as its loop makes it; the changes it hands on
    /// are then published and their messages come back (stream seqs from
    /// 1000 on), so that none is outstanding.
    fn look(local: &Local, last: &mut u64) -> Vec<LocalCommit> {
        let changes = handed(local, last);
        for c in &changes {
            echo(local, c.seq);
        }
        changes
    }

    /// The watcher's look, its changes left outstanding.
    fn handed(local: &Local, last: &mut u64) -> Vec<LocalCommit> {
        let changes = local.changes_after(*last).unwrap();
        for c in &changes {
            *last = (*last).max(c.seq);
        }
        changes
    }

    /// Local change `seq` published and its message back.
    fn echo(local: &Local, seq: u64) {
        let n = 1000 + seq;
        local.published(seq, Some(n)).unwrap();
        local.passed(n, Some(seq));
    }

    fn current(board: &Board) -> ClipId {
        board.info(Selector::Current).unwrap().clip_id
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
        assert_eq!(current(&user), mine, "placed below the user's two changes");
        assert_eq!(
            user.info(Selector::Index(2)).unwrap().clip_id,
            ClipId([4; 16])
        );
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

    /// A change handed to the publisher keeps every remote clip below it
    /// until the follower passes its message; one that is not published
    /// gives the current place back to the remote clip.
    #[test]
    fn remote_clips_stay_below_a_change_until_its_message_is_passed() {
        let tb = TestBoard::new("bridge-outstanding");
        let user = tb.open(CreateOptions::default());
        let local = Local::from_board(
            Board::open_with(&tb.name, Origin::this_process(OriginKind::Bridge), None).unwrap(),
        );
        let mut last = 0;
        let l = user.copy(&Clip::text("l")).unwrap();
        assert_eq!(
            kinds(&handed(&local, &mut last)),
            [(l.clip_id, Kind::Copied)]
        );
        // Published as stream message 7; the follower meets 6 first.
        local.published(l.seq, Some(7)).unwrap();
        let (n, ()) = locks_taken(&local.board, || remote(&local, 1, "r1"));
        assert_eq!(n, 1, "still one lock");
        assert_eq!(current(&user), l.clip_id, "r1 below the unpublished copy");
        local.passed(6, None);
        remote(&local, 2, "r2");
        assert_eq!(current(&user), l.clip_id);
        assert_eq!(
            look(&local, &mut last),
            [],
            "no echo of the bridge's writes"
        );
        // Its message passed: the next one goes on top.
        local.passed(7, Some(l.seq));
        remote(&local, 3, "r3");
        assert_eq!(current(&user), ClipId([3; 16]));

        // A copy that is not published (the size cap, say): the remote clip
        // buried below it is what the stream says is current.
        let big = user.copy(&Clip::text("too big")).unwrap();
        assert_eq!(
            kinds(&handed(&local, &mut last)),
            [(big.clip_id, Kind::Copied)]
        );
        remote(&local, 4, "r4");
        assert_eq!(current(&user), big.clip_id);
        local.published(big.seq, None).unwrap();
        assert_eq!(current(&user), ClipId([4; 16]), "the stream's clip");
        assert_eq!(look(&local, &mut last), [], "and that is not news either");

        // But not if the user did something since: that decides.
        let small = user.copy(&Clip::text("small")).unwrap();
        assert_eq!(
            kinds(&handed(&local, &mut last)),
            [(small.clip_id, Kind::Copied)]
        );
        remote(&local, 5, "r5");
        let again = user.copy(&Clip::text("again")).unwrap();
        local.published(small.seq, None).unwrap();
        assert_eq!(current(&user), again.clip_id);
    }

    /// A remote clip with the same content as a kept (unpublished) copy:
    /// the kept copy stays current under its own id, the publisher can
    /// still read it, and its echo finds it current: nothing to do, and no
    /// echo of the bridge's write.
    #[test]
    fn a_remote_clip_with_a_kept_copys_content_leaves_that_copy_current() {
        let tb = TestBoard::new("bridge-kept-dup");
        let user = tb.open(CreateOptions::default());
        let local = Local::from_board(
            Board::open_with(&tb.name, Origin::this_process(OriginKind::Bridge), None).unwrap(),
        );
        let mut last = 0;
        let l1 = user.copy(&Clip::text("l1")).unwrap();
        let x = user.copy(&Clip::text("x")).unwrap();
        assert_eq!(handed(&local, &mut last).len(), 2);
        remote(&local, 1, "x");
        assert_eq!(current(&user), x.clip_id, "the user's x, not l1");
        assert!(
            local.read(x.clip_id).unwrap().is_some(),
            "still publishable"
        );
        assert_eq!(look(&local, &mut last), [], "no echo");
        assert_eq!(
            local.reselect_own(l1.clip_id, l1.seq).unwrap(),
            Selected::Superseded
        );
        assert!(local.own_still_current(x.clip_id).unwrap());
        assert_eq!(current(&user), x.clip_id);
    }

    /// A held remote clip moved below an unpublished copy gets the board's
    /// clock as its `touched`: when the user deletes the entries above it
    /// and it becomes current, that is not the user's make-current event.
    #[test]
    fn a_held_clip_moved_below_is_no_news_when_it_becomes_current() {
        let tb = TestBoard::new("bridge-moved-below");
        let user = tb.open(CreateOptions::default());
        let local = Local::from_board(
            Board::open_with(&tb.name, Origin::this_process(OriginKind::Bridge), None).unwrap(),
        );
        let mut last = 0;
        remote(&local, 1, "r");
        user.copy(&Clip::text("other")).unwrap();
        assert_eq!(look(&local, &mut last).len(), 1);
        let l = user.copy(&Clip::text("l")).unwrap();
        assert_eq!(handed(&local, &mut last).len(), 1);
        remote(&local, 1, "r");
        assert_eq!(current(&user), l.clip_id, "r moved below l");
        user.delete(Selector::Clip(l.clip_id)).unwrap();
        assert_eq!(current(&user), ClipId([1; 16]));
        assert_eq!(
            look(&local, &mut last),
            [],
            "no selection the user never made"
        );
    }

    /// After a restart: the bridge that handed on and published the user's
    /// copy `l` (stream message 7) was killed before its follower passed
    /// that message, and a new one resumes with every local change up to
    /// `l` counted as published. Its outstanding list starts empty (the
    /// bridge was killed within the persist delay, before its state file
    /// held `l`: the next test has the file), so the replayed remote clip of message 6 goes on
    /// top; when message 7, `l`'s own, comes back, `reselect_own` makes
    /// `l` current again, as on every other board, and that is no news for
    /// the watcher. A newer change of the user's decides instead.
    #[test]
    fn an_own_clip_coming_back_after_a_restart_is_current_again_unless_the_user_did_more() {
        let tb = TestBoard::new("bridge-reselect");
        let user = tb.open(CreateOptions::default());
        let bridge = || {
            Local::from_board(
                Board::open_with(&tb.name, Origin::this_process(OriginKind::Bridge), None).unwrap(),
            )
        };
        let replay = |local: &Local, id: u8, text: &str, stream_seq: u64| {
            let reps = vec![Representation {
                mime: "text/plain;charset=utf-8".into(),
                data: text.as_bytes().to_vec(),
            }];
            local
                .apply(
                    reps,
                    ClipId([id; 16]),
                    NodeId([9; 16]),
                    "laptop",
                    1,
                    stream_seq,
                )
                .unwrap();
            local.passed(stream_seq, None);
        };
        for user_did_more in [false, true] {
            let before = bridge();
            let mut last = user.status().unwrap().seq;
            let l = user
                .copy(&Clip::text(format!("l {user_did_more}")))
                .unwrap();
            assert_eq!(
                kinds(&handed(&before, &mut last)),
                [(l.clip_id, Kind::Copied)]
            );
            before.published(l.seq, Some(7)).unwrap();
            drop(before);

            // The watcher's start, as `watch::run` makes it (the watcher
            // itself would never wake here: a process gets no notes of its
            // own commits, and the user's board is this process's too).
            let after = bridge();
            after.resume_after(l.seq).unwrap();
            let mut last = l.seq;
            replay(
                &after,
                1 + u8::from(user_did_more),
                &format!("from afar {user_did_more}"),
                6,
            );
            assert_ne!(
                current(&user),
                l.clip_id,
                "the window that the persisted list closes once it is written"
            );
            let newer = user_did_more.then(|| {
                let m = user.copy(&Clip::text("newer")).unwrap();
                assert_eq!(
                    kinds(&handed(&after, &mut last)),
                    [(m.clip_id, Kind::Copied)]
                );
                m
            });
            // Message 7, as the follower handles an own one.
            assert!(l.seq >= after.handed() || user_did_more);
            let selected = after.reselect_own(l.clip_id, l.seq).unwrap();
            after.passed(7, Some(l.seq));
            match newer {
                None => {
                    assert_eq!(selected, Selected::Made);
                    assert_eq!(current(&user), l.clip_id);
                }
                Some(m) => {
                    assert_eq!(selected, Selected::Superseded);
                    assert_eq!(current(&user), m.clip_id);
                }
            }
            // No news: the bridge's writes are its own.
            assert_eq!(handed(&after, &mut last), []);
        }
    }

    /// The restart of the test above, with the outstanding list that the
    /// state file kept (`State::outstanding`): the replayed remote clip of
    /// message 6 goes below `l`, which stays current throughout, and
    /// message 7, `l`'s own, passes it.
    #[test]
    fn a_restart_with_the_persisted_outstanding_list_keeps_an_own_clip_current() {
        let tb = TestBoard::new("bridge-resume-outstanding");
        let user = tb.open(CreateOptions::default());
        let bridge = || {
            Local::from_board(
                Board::open_with(&tb.name, Origin::this_process(OriginKind::Bridge), None).unwrap(),
            )
        };
        let before = bridge();
        let mut last = user.status().unwrap().seq;
        let l = user.copy(&Clip::text("l")).unwrap();
        assert_eq!(
            kinds(&handed(&before, &mut last)),
            [(l.clip_id, Kind::Copied)]
        );
        before.published(l.seq, Some(7)).unwrap();
        drop(before);

        let after = bridge();
        after.resume_outstanding(&[crate::state::OwnMessage {
            seq: l.seq,
            clip: l.clip_id.0,
            stream: 7,
        }]);
        after.resume_after(l.seq).unwrap();
        let mut last = l.seq;
        let reps = vec![Representation {
            mime: "text/plain;charset=utf-8".into(),
            data: b"from afar".to_vec(),
        }];
        after
            .apply(reps, ClipId([1; 16]), NodeId([9; 16]), "laptop", 1, 6)
            .unwrap();
        after.passed(6, None);
        assert_eq!(current(&user), l.clip_id, "the replayed clip went below");
        assert_eq!(
            user.get(Selector::Index(1)).unwrap().text_str(),
            Some("from afar")
        );
        after.reselect_own(l.clip_id, l.seq).unwrap();
        after.passed(7, Some(l.seq));
        assert_eq!(current(&user), l.clip_id);
        assert!(
            after.accounting.lock().unwrap().outstanding.is_empty(),
            "message 7 passed it"
        );
        assert_eq!(
            handed(&after, &mut last),
            [],
            "no news: nothing the user did"
        );
    }
}
