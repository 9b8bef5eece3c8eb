//! The local side of a bridged board: everything that touches the `Board`.
//! All of it is synchronous (the library is), run on the watcher thread or
//! through `spawn_blocking`, so the async side never blocks on the board and
//! the board never waits for the network.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use shm_clip::{
    Board, BoardName, Clip, ClipId, EntryInfo, Error as BoardError, NodeId, Origin, OriginKind,
    Provenance, Representation, Selector,
};
use tokio::sync::mpsc::UnboundedSender;

use crate::error::{Error, Result};

/// A local commit for the publisher: which entry, at which board seq.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalCommit {
    /// The entry's clip id.
    pub clip_id: ClipId,
    /// The board seq at which it was created (the origin seq on the stream).
    pub seq: u64,
}

/// A board handle plus this node's identity.
#[derive(Debug)]
pub struct Local {
    /// The open board.
    pub board: Board,
    /// The board's node id.
    pub node: NodeId,
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
        Ok(Local { board, node })
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
        let me = std::process::id();
        let mut out: Vec<LocalCommit> = self
            .board
            .history()
            .map_err(|e| self.err(e))?
            .into_iter()
            .filter(|e| e.seq > after && e.origin_node == self.node)
            .filter(|e| !(e.origin.kind == OriginKind::Bridge && e.origin.pid == me))
            .map(|e| LocalCommit {
                clip_id: e.clip_id,
                seq: e.seq,
            })
            .collect();
        out.sort_by_key(|c| c.seq);
        Ok(out)
    }

    /// The entry with `id` and its content, if the board still has it.
    pub fn read(&self, id: ClipId) -> Result<Option<(EntryInfo, Clip)>> {
        let info = match self.board.info(Selector::Clip(id)) {
            Ok(info) => info,
            Err(BoardError::NoSuchEntry { .. }) => return Ok(None),
            Err(e) => return Err(self.err(e)),
        };
        match self.board.get(Selector::Clip(id)) {
            Ok(clip) => Ok(Some((info, clip))),
            Err(BoardError::NoSuchEntry { .. }) => Ok(None),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Whether `id` is the current clip.
    pub fn is_current(&self, id: ClipId) -> Result<bool> {
        match self.board.info(Selector::Current) {
            Ok(info) => Ok(info.clip_id == id),
            Err(BoardError::NoSuchEntry { .. } | BoardError::Empty) => Ok(false),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Makes the entry `id` current, if the board has it; returns whether it did.
    pub fn select(&self, id: ClipId) -> Result<bool> {
        match self.board.select(Selector::Clip(id)) {
            Ok(_) => Ok(true),
            Err(BoardError::NoSuchEntry { .. }) => Ok(false),
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
        self.board
            .restore(&Clip { reps }, &provenance)
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}

/// `bridge: NAME`, cut to the 31 bytes an origin label keeps.
pub fn label(display_name: &str) -> String {
    let mut s = format!("bridge: {display_name}");
    while s.len() > 31 {
        s.pop();
    }
    s
}

/// Watches the board on a named thread and sends every new local commit
/// (board seq above `after`) to the publisher, in order. Ends when the
/// board is destroyed or the publisher is gone.
pub fn spawn_watcher(
    local: Arc<Local>,
    after: u64,
    tx: UnboundedSender<LocalCommit>,
    on_sent: impl Fn(u64) + Send + 'static,
) -> Result<std::thread::JoinHandle<Result<()>>> {
    // Subscribe before the first scan, so no commit falls between the two.
    let mut sub = local.board.subscribe().map_err(|e| local.err(e))?;
    std::thread::Builder::new()
        .name(format!("watch-{}", local.board.name()))
        .spawn(move || {
            let mut last = after;
            loop {
                for commit in local.commits_after(last)? {
                    last = commit.seq;
                    on_sent(last);
                    if tx.send(commit).is_err() {
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
