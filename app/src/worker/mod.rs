//! The worker thread: it owns the [`Board`] and its mailbox, so that the UI
//! thread never blocks on a lock or a queue.
//!
//! The UI sends [`Command`]s over a channel and writes one byte to a
//! non-blocking wake-up pipe; the worker sleeps in `poll(2)` on that pipe and
//! on its mailbox's queue descriptor. There is no timeout unless the worker
//! itself asked for a one-off re-read (after starting a process, to see it
//! subscribe). Each [`Event`] it sends back is followed by a repaint request.
//! Dropping the [`Worker`] closes the pipe; the worker sees end-of-file, drops
//! its mailbox (unlinking the queue) and the board, and exits.

pub(crate) mod archive;
mod files;
mod ops;
pub(crate) mod picture;
mod spawn;

use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use shm_clip::{Board, BoardName, Clip, EntryInfo, OriginKind, Status, Subscription};

pub use picture::Picture;
pub use spawn::Spawn;

/// Which history entry a paste reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// The current clip.
    Current,
    /// The entry created at this seq.
    Seq(u64),
}

/// What the UI asks the worker to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Commit this text as the board's current clip. `cut` says where the
    /// text was removed from the editor, so that a failed cut can put it back.
    Copy { text: String, cut: Option<usize> },
    /// Fetch an entry for the editor (text) or the image view (image).
    Paste(Which),
    /// Make the entry created at this seq current.
    Select(u64),
    /// Pin (true) or unpin (false) an entry.
    SetPinned(u64, bool),
    /// Delete an entry; its content comes back in [`Event::Deleted`], for Undo.
    Delete(u64),
    /// Undo a delete: copy this content back (it becomes current), and pin
    /// it again if it was pinned.
    Restore { clip: Arc<Clip>, pinned: bool },
    /// Delete every unpinned entry.
    Clear,
    /// Copy files or images dropped onto the window.
    CopyFiles(Vec<std::path::PathBuf>),
    /// Start another process on this board.
    Spawn(Spawn),
    /// Search the on-disk archive for these words (the history's search).
    SearchArchive(String),
    /// Bring this archived clip back to the board as the current clip, and
    /// paste it into the document.
    FromArchive(i64),
    /// Re-read the board; also retries opening it after a failure.
    Refresh,
    /// Exit now: drop the mailbox (unlinking its queue) and the board.
    Shutdown,
}

/// What the worker reports back.
#[derive(Clone, Debug)]
pub enum Event {
    /// The board is open. `mailbox` holds the reason when no mailbox could be
    /// registered: then changes by other processes show only on Refresh.
    Opened { mailbox: Option<Problem> },
    /// The board could not be opened.
    OpenFailed(Problem),
    /// The board was destroyed; the worker has let go of it, and the next
    /// command (Refresh) opens a fresh one.
    Destroyed,
    /// The board as it is now.
    Snapshot(Box<Snapshot>),
    /// A copy (or cut) was committed.
    Copied {
        seq: u64,
        deduplicated: bool,
        cut: bool,
        size: u64,
    },
    /// An entry's content, for the editor or the image view.
    Pasted(Pasted),
    /// A decoded thumbnail of an image entry.
    Thumbnail(Arc<Picture>),
    /// The archive's hits for a search (empty without an archive).
    ArchiveHits {
        query: String,
        hits: Vec<ArchiveHit>,
    },
    /// Something worth a line in the status bar.
    Info(String),
    /// An entry was deleted; here is its content, for Undo.
    Deleted { clip: Arc<Clip>, pinned: bool },
    /// An operation failed; the board stays open. `restore` carries the text
    /// of a failed cut and where it was, so that it goes back into the editor.
    Failed {
        problem: Problem,
        restore: Option<(usize, String)>,
    },
}

/// One archive hit of the history's search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveHit {
    /// The archive id.
    pub id: i64,
    /// Up to 80 characters of its text.
    pub preview: String,
    /// Its first MIME type.
    pub mime: String,
    /// Its size in bytes.
    pub size: u64,
}

/// Pasted content.
#[derive(Clone, Debug)]
pub enum Pasted {
    Text(String),
    Image(Arc<Picture>),
}

/// An error as the window shows it: what happened, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    pub fn new(message: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            hint: None,
        }
    }

    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl From<&shm_clip::Error> for Problem {
    fn from(err: &shm_clip::Error) -> Self {
        Problem {
            message: err.to_string(),
            hint: err.hint(),
        }
    }
}

/// The current clip's text, read ahead so that Ctrl+V is instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentText {
    /// The seq of the entry it belongs to (entry content never changes).
    pub seq: u64,
    pub text: Arc<str>,
}

/// The board's history and status at one seq.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Everything `shm-clip status` shows: seq, sizes, lock counters,
    /// subscribers, last change.
    pub status: Status,
    /// The history, current entry first.
    pub entries: Vec<EntryInfo>,
    /// The current entry's text when it is small enough to keep at hand.
    pub current_text: Option<CurrentText>,
    /// The program name of each subscriber's pid, from `/proc/PID/comm`.
    pub programs: Vec<(u32, String)>,
    /// The notifications that led to this snapshot.
    pub received: Vec<Received>,
    /// The board's `shm-clip-bridge`, if one ever bridged it.
    pub bridge: Option<crate::bridge::BridgeView>,
}

impl Snapshot {
    #[cfg(test)]
    pub fn seq(&self) -> u64 {
        self.status.seq
    }
}

/// One notification, as this window's mailbox received it.
#[derive(Clone, Debug, PartialEq)]
pub struct Received {
    pub seq: u64,
    pub origin_pid: u32,
    pub origin_kind: OriginKind,
    /// How many queued notifications were merged into this one.
    pub coalesced: u32,
    /// The writer's commit time.
    pub committed_at: SystemTime,
    /// When the worker took it from the queue.
    pub received_at: SystemTime,
    /// When the UI thread applied the snapshot it caused (set by the app).
    pub applied_at: Option<SystemTime>,
}

impl Received {
    /// Commit to receipt by the worker.
    pub fn receipt_latency(&self) -> Option<Duration> {
        self.received_at.duration_since(self.committed_at).ok()
    }

    /// Commit to the UI having applied the change.
    pub fn applied_latency(&self) -> Option<Duration> {
        self.applied_at?.duration_since(self.committed_at).ok()
    }
}

/// The UI's handle on the worker thread.
#[derive(Debug)]
pub struct Worker {
    commands: Sender<Command>,
    /// Write end of the wake-up pipe; `None` once dropped.
    wake: Option<OwnedFd>,
    thread: Option<JoinHandle<()>>,
    /// Disconnected once the worker thread has let go of the board.
    exited: Arc<std::sync::Mutex<Receiver<()>>>,
}

/// Stops the worker from another thread (the signal thread), and waits until
/// it has let go of its mailbox and board.
#[derive(Debug)]
pub struct Stopper {
    commands: Sender<Command>,
    wake: OwnedFd,
    exited: Arc<std::sync::Mutex<Receiver<()>>>,
}

impl Stopper {
    /// Asks the worker to exit and waits for it, at most `within`; true if
    /// it has exited.
    pub fn stop(&self, within: Duration) -> bool {
        let _ = self.commands.send(Command::Shutdown);
        let _ = nix::unistd::write(&self.wake, &[1]);
        let exited = self
            .exited
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        matches!(
            exited.recv_timeout(within),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
        )
    }
}

impl Worker {
    /// Starts the worker thread for board `name`. Events go to `events`, each
    /// followed by a call to `repaint`.
    pub fn spawn(
        name: BoardName,
        events: Sender<Event>,
        repaint: impl Fn() + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let (wake_rx, wake_tx) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC)?;
        let (commands, rx) = std::sync::mpsc::channel();
        let outbox = Outbox {
            events,
            repaint: Arc::new(repaint),
        };
        let (exited_tx, exited) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("shm-clip-worker".into())
            .spawn(move || {
                Inner::new(name, outbox).run(&rx, &wake_rx);
                // Inner (mailbox, then board) is dropped by now.
                drop(exited_tx);
            })?;
        Ok(Worker {
            commands,
            wake: Some(wake_tx),
            thread: Some(thread),
            exited: Arc::new(std::sync::Mutex::new(exited)),
        })
    }

    /// A handle that stops this worker from another thread.
    pub fn stopper(&self) -> std::io::Result<Stopper> {
        let wake = self
            .wake
            .as_ref()
            .ok_or_else(|| std::io::Error::other("the worker is stopping"))?
            .try_clone()?;
        Ok(Stopper {
            commands: self.commands.clone(),
            wake,
            exited: Arc::clone(&self.exited),
        })
    }

    /// Queues `command` and wakes the worker.
    pub fn send(&self, command: Command) {
        if self.commands.send(command).is_err() {
            tracing::error!("the worker thread has exited; command dropped");
            return;
        }
        if let Some(wake) = &self.wake {
            // EAGAIN means the pipe is full of unread wake-ups: the worker will
            // drain the channel anyway, so one more byte adds nothing.
            match nix::unistd::write(wake, &[1]) {
                Ok(_) | Err(Errno::EAGAIN) => {}
                Err(err) => tracing::error!(%err, "cannot wake the worker"),
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // The worker exits on Shutdown (a Stopper may hold the pipe open),
        // or when the pipe closes; it then drops its mailbox.
        self.send(Command::Shutdown);
        self.wake = None;
        if self
            .thread
            .take()
            .is_some_and(|thread| thread.join().is_err())
        {
            tracing::error!("the worker thread panicked");
        }
    }
}

/// Where events go; cloned into helper threads (process reapers).
#[derive(Clone)]
struct Outbox {
    events: Sender<Event>,
    repaint: Arc<dyn Fn() + Send + Sync>,
}

impl Outbox {
    fn send(&self, event: Event) {
        // A closed channel means the window is gone; the worker exits soon.
        if self.events.send(event).is_ok() {
            (self.repaint)();
        }
    }

    fn fail(&self, problem: Problem) {
        self.send(Event::Failed {
            problem,
            restore: None,
        });
    }
}

/// The worker thread's own state.
struct Inner {
    name: BoardName,
    // Declared before `board` so that the mailbox is dropped (and its queue
    // unlinked) first.
    mailbox: Option<Subscription>,
    board: Option<Board>,
    /// The seq of the last snapshot sent; notifications up to it are stale.
    seen_seq: Option<u64>,
    /// Notifications received since the last snapshot.
    received: Vec<Received>,
    /// The current entry's text, read ahead.
    current_text: Option<CurrentText>,
    /// Image entries whose thumbnails were sent (or failed), by seq.
    thumbnails: std::collections::HashSet<u64>,
    /// One-off re-reads, to notice processes this window started subscribing.
    rereads: Vec<Instant>,
    outbox: Outbox,
}

impl Inner {
    fn new(name: BoardName, outbox: Outbox) -> Self {
        Inner {
            name,
            mailbox: None,
            board: None,
            seen_seq: None,
            received: Vec::new(),
            current_text: None,
            thumbnails: std::collections::HashSet::new(),
            rereads: Vec::new(),
            outbox,
        }
    }

    fn run(mut self, commands: &Receiver<Command>, wake: &OwnedFd) {
        self.open();
        loop {
            let now = Instant::now();
            let timeout = self
                .rereads
                .iter()
                .min()
                .map(|t| t.saturating_duration_since(now));
            let (woken, mail) = match wait(wake, self.mailbox.as_ref(), timeout) {
                Ok(ready) => ready,
                Err(errno) => {
                    self.outbox
                        .fail(Problem::new(format!("poll failed: {errno}")));
                    return;
                }
            };
            let now = Instant::now();
            let due = self.rereads.len();
            self.rereads.retain(|t| *t > now);
            let mut refresh = self.rereads.len() < due;
            if mail {
                refresh |= self.drain_mailbox();
            }
            let hung_up = woken && drain_pipe(wake);
            loop {
                match commands.try_recv() {
                    Ok(Command::Shutdown) | Err(TryRecvError::Disconnected) => return,
                    Ok(command) => {
                        self.handle(command);
                        refresh = false; // every command ends with a fresh snapshot
                    }
                    Err(TryRecvError::Empty) => break,
                }
            }
            if hung_up {
                return;
            }
            if refresh {
                self.refresh();
            }
        }
    }

    /// Opens the board and its mailbox, then sends a first snapshot.
    fn open(&mut self) {
        let pid = std::process::id();
        let origin =
            shm_clip::Origin::this_process(OriginKind::App).labelled(format!("window {pid}"));
        // A new board gets the sizes of the user's config; an invalid config
        // is an error the failure screen explains, as the CLI would.
        let create = match shm_clip::Config::load() {
            Ok(config) => config.create_options(),
            Err(err) => {
                tracing::warn!(%err, "invalid config");
                self.outbox.send(Event::OpenFailed(Problem::from(&err)));
                return;
            }
        };
        match Board::open_with(&self.name, origin, Some(create)) {
            Ok(board) => {
                let mut problem = None;
                match board.subscribe() {
                    Ok(mailbox) => self.mailbox = Some(mailbox),
                    Err(err) => {
                        tracing::warn!(%err, "no mailbox: live updates off");
                        problem = Some(Problem::from(&err));
                    }
                }
                self.board = Some(board);
                self.outbox.send(Event::Opened { mailbox: problem });
                self.refresh();
            }
            Err(err) => {
                tracing::warn!(%err, board = %self.name, "cannot open board");
                self.outbox.send(Event::OpenFailed(Problem::from(&err)));
            }
        }
    }

    /// Takes every pending notification; true if one announced a seq newer
    /// than the last snapshot.
    fn drain_mailbox(&mut self) -> bool {
        let Some(mailbox) = &mut self.mailbox else {
            return false;
        };
        let mut newer = false;
        loop {
            match mailbox.try_recv() {
                Ok(Some(note)) => {
                    let received_at = SystemTime::now();
                    newer |= self.seen_seq.is_none_or(|seen| note.seq > seen);
                    self.received.push(Received {
                        seq: note.seq,
                        origin_pid: note.origin_pid,
                        origin_kind: note.origin_kind,
                        coalesced: note.coalesced,
                        committed_at: note.committed_at,
                        received_at,
                        applied_at: None,
                    });
                }
                Ok(None) => return newer,
                Err(shm_clip::Error::BoardDestroyed { .. }) => {
                    self.on_destroyed();
                    return false;
                }
                Err(err) => {
                    // Without this, poll would report the broken queue forever.
                    tracing::warn!(%err, "mailbox failed; live updates off");
                    self.mailbox = None;
                    self.outbox.send(Event::Opened {
                        mailbox: Some(Problem::from(&err)),
                    });
                    return true;
                }
            }
        }
    }
}

impl Inner {
    /// Lets go of a destroyed board: nothing of it is shown any more.
    pub(super) fn on_destroyed(&mut self) {
        tracing::info!(board = %self.name, "the board was destroyed");
        self.mailbox = None;
        self.board = None;
        self.seen_seq = None;
        self.current_text = None;
        self.thumbnails.clear();
        self.outbox.send(Event::Destroyed);
    }
}

/// Sleeps until the wake-up pipe or the mailbox is readable (or hung up), or
/// `timeout` passes.
fn wait(
    wake: &OwnedFd,
    mailbox: Option<&Subscription>,
    timeout: Option<Duration>,
) -> nix::Result<(bool, bool)> {
    let mut fds = vec![PollFd::new(wake.as_fd(), PollFlags::POLLIN)];
    if let Some(mailbox) = mailbox {
        fds.push(PollFd::new(mailbox.as_fd(), PollFlags::POLLIN));
    }
    let timeout = match timeout {
        None => PollTimeout::NONE,
        // Round up, so that a re-read is never due a millisecond early.
        Some(t) => PollTimeout::try_from(t.as_millis().saturating_add(1).min(60_000) as i32)
            .unwrap_or(PollTimeout::MAX),
    };
    loop {
        match poll(&mut fds, timeout) {
            Ok(_) => break,
            Err(Errno::EINTR) => {}
            Err(errno) => return Err(errno),
        }
    }
    let ready = |fd: &PollFd<'_>| fd.revents().is_some_and(|r| !r.is_empty());
    Ok((ready(&fds[0]), fds.get(1).is_some_and(ready)))
}

/// Empties the wake-up pipe; true once its write end is closed.
fn drain_pipe(wake: &OwnedFd) -> bool {
    let mut buf = [0u8; 64];
    loop {
        match nix::unistd::read(wake, &mut buf) {
            Ok(0) => return true,
            Ok(_) | Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => return false,
            Err(err) => {
                tracing::error!(%err, "cannot read the wake-up pipe");
                return true;
            }
        }
    }
}

#[cfg(test)]
mod tests;
