//! The local side of a bridged board: everything that touches the `Board`.
//! All of it is synchronous (the library is), run on the watcher thread or
//! through [`blocking`], so the async side never blocks on the board and
//! the board never waits for the network.

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
    /// up, which the watcher still has to publish.
    pending: Option<ClipId>,
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
        let node = board.node_id();
        Ok(Local {
            board,
            node,
            accounting: Mutex::new(Accounting::default()),
        })
    }

    fn err(&self, source: BoardError) -> Error {
        Error::Board {
            board: self.board.name().to_string(),
            source,
        }
    }

    /// The local commits after board seq `after`, oldest first: entries
    /// first copied on this node, and not applied by this bridge.
    pub fn commits_after(&self, after: u64) -> Result<Vec<LocalCommit>> {
        let history = self.board.history().map_err(|e| self.err(e))?;
        Ok(self.commits_in(&history, after))
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
    /// what is current) the entry the user made current. `looked` is the
    /// board seq of the last look, updated to this one's.
    fn changes_after(&self, after: u64, looked: &mut Option<u64>) -> Result<Vec<LocalCommit>> {
        let mut accounting = self.accounting.lock().expect("accounting lock");
        let (seq, history) = self.changes_since(*looked)?;
        *looked = Some(seq);
        let mut changes = self.commits_in(&history, after);
        if let Some(current) = history.first().filter(|c| accounting.is_news(c)) {
            accounting.see(current);
            accounting.pending = Some(current.clip_id);
        }
        if let Some(id) = accounting.pending.take() {
            // The newest commit's own manifest makes it current everywhere.
            if changes.last().map(|c| c.clip_id) != Some(id) {
                // Every local commit up to `seq` is in `changes`, and every
                // later one will have a higher seq: the order holds.
                changes.push(LocalCommit {
                    clip_id: id,
                    seq,
                    kind: Kind::Selected,
                    created_ns: 0,
                });
            }
        }
        Ok(changes)
    }

    fn current(&self) -> Result<Option<EntryInfo>> {
        match self.board.info(Selector::Current) {
            Ok(info) => Ok(Some(info)),
            Err(BoardError::NoSuchEntry { .. } | BoardError::Empty) => Ok(None),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Runs one of the bridge's own writes to the board (`write` returns
    /// its commit seq, or `None` if it wrote nothing) so that the watcher
    /// does not publish what it makes current. `write` is told whether a
    /// user's make-current event is still unpublished (it is kept for the
    /// watcher, and comes later on the stream).
    fn bridge_write<T>(&self, write: impl FnOnce(bool) -> Result<(T, Option<u64>)>) -> Result<T> {
        let mut accounting = self.accounting.lock().expect("accounting lock");
        if let Some(current) = self.current()?.filter(|c| accounting.is_news(c)) {
            accounting.see(&current);
            accounting.pending = Some(current.clip_id);
        }
        let (outcome, commit) = write(accounting.pending.is_some())?;
        if let Some(commit) = commit {
            let current = self.current()?;
            // Only if nothing was committed after our write: else the user
            // did something meanwhile, which the watcher must see (at worst
            // it publishes our clip once more, which changes nothing).
            if let Some(current) = current.filter(|_| self.board.seq() == commit) {
                accounting.see(&current);
            }
        }
        Ok(outcome)
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
        self.bridge_write(|pending| {
            if pending {
                return Ok((Selected::Superseded, None));
            }
            self.make_current(id)
        })
    }

    /// Makes our own clip `id` current again when its message (commit or
    /// selection, origin seq `seq`) comes back after remote ones: unless the
    /// user did something newer here, whose message comes later and decides.
    pub fn reselect_own(&self, id: ClipId, seq: u64) -> Result<Selected> {
        // Mostly it is still current and the user did nothing since: then
        // there is nothing to do either way, and no need to read the whole
        // history (this runs right after each own publish, beside the
        // receivers' work on the same cores).
        if let Some(current) = self.current()?.filter(|c| c.clip_id == id)
            && !self
                .accounting
                .lock()
                .expect("accounting lock")
                .is_news(&current)
        {
            return Ok(Selected::AlreadyCurrent);
        }
        if !self.commits_after(seq)?.is_empty() {
            return Ok(Selected::Superseded);
        }
        self.bridge_write(|pending| {
            if pending {
                return Ok((Selected::Superseded, None));
            }
            self.make_current(id)
        })
    }

    fn make_current(&self, id: ClipId) -> Result<(Selected, Option<u64>)> {
        if self.current()?.is_some_and(|c| c.clip_id == id) {
            return Ok((Selected::AlreadyCurrent, None));
        }
        match self.board.select(Selector::Clip(id)) {
            Ok(seq) => Ok((Selected::Made, Some(seq))),
            Err(BoardError::NoSuchEntry { .. }) => Ok((Selected::NotHeld, None)),
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
        let provenance = Provenance {
            origin,
            created: UNIX_EPOCH + Duration::from_nanos(created_ns),
            touched: SystemTime::now(),
            pinned: false,
            clip_id: Some(clip_id),
            origin_node: Some(origin_node),
        };
        let clip = Clip { reps };
        self.bridge_write(|_| {
            let outcome = self
                .board
                .restore(&clip, &provenance)
                .map_err(|e| self.err(e))?;
            Ok(((), Some(outcome.seq)))
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
    on_sent: impl Fn(u64) + Send + 'static,
) -> Result<std::thread::JoinHandle<Result<()>>> {
    // Subscribe before the first scan, so no commit falls between the two.
    let mut sub = local.board.subscribe().map_err(|e| local.err(e))?;
    // What is current now was decided before this bridge ran (or by the
    // stream, which replays it): not the user's news.
    if let Some(current) = local.current()? {
        local
            .accounting
            .lock()
            .expect("accounting lock")
            .see(&current);
    }
    std::thread::Builder::new()
        .name(format!("watch-{}", local.board.name()))
        .spawn(move || {
            let mut last = after;
            let mut looked = None;
            loop {
                for change in local.changes_after(last, &mut looked)? {
                    last = last.max(change.seq);
                    on_sent(change.seq);
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
