//! The worker thread: it owns the [`Board`] and its mailbox, so that the UI
//! thread never blocks on a lock or a queue.
//!
//! The UI sends [`Command`]s over a channel and writes one byte to a
//! non-blocking wake-up pipe; the worker sleeps in `poll(2)` on that pipe and
//! on its mailbox's queue descriptor, with no timeout. Each [`Event`] it sends
//! back is followed by a repaint request. Dropping the [`Worker`] closes the
//! pipe; the worker sees end-of-file, drops its mailbox (unlinking the queue)
//! and the board, and exits.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::thread::JoinHandle;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use shm_clip::{Board, BoardName, Clip, EntryInfo, OriginKind, Subscription};

/// What the UI asks the worker to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Commit this text as the board's current clip.
    Copy(String),
    /// Fetch the current clip's text into the editor.
    Paste,
    /// Re-read the board; also retries opening it after a failure.
    Refresh,
}

/// What the worker reports back.
#[derive(Clone, Debug)]
pub enum Event {
    /// The board is open. `live` is false when no mailbox could be registered,
    /// so changes by other processes show only on Refresh.
    Opened { live: bool },
    /// The board could not be opened.
    OpenFailed(Problem),
    /// The board as it is now.
    Snapshot(Snapshot),
    /// A copy was committed.
    Copied { seq: u64, deduplicated: bool },
    /// The current clip's text, for the editor.
    Pasted(String),
    /// An operation failed; the board stays open.
    Error(Problem),
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
}

impl From<&shm_clip::Error> for Problem {
    fn from(err: &shm_clip::Error) -> Self {
        Problem {
            message: err.to_string(),
            hint: err.hint(),
        }
    }
}

/// The board's history and status at one seq.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The commit seq at which the status was read.
    pub seq: u64,
    /// The history, current entry first.
    pub entries: Vec<EntryInfo>,
    /// Live subscribers (windows, watchers), this window included.
    pub subscribers: usize,
    /// Bytes of the arena in use.
    pub used: u64,
    /// The arena's size.
    pub capacity: u64,
}

/// The UI's handle on the worker thread.
#[derive(Debug)]
pub struct Worker {
    commands: Sender<Command>,
    /// Write end of the wake-up pipe; `None` once dropped.
    wake: Option<OwnedFd>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker thread for board `name`. Events go to `events`, each
    /// followed by a call to `repaint`.
    pub fn spawn(
        name: BoardName,
        events: Sender<Event>,
        repaint: impl Fn() + Send + 'static,
    ) -> std::io::Result<Self> {
        let (wake_rx, wake_tx) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC)?;
        let (commands, rx) = std::sync::mpsc::channel();
        let outbox = Outbox {
            events,
            repaint: Box::new(repaint),
        };
        let thread = std::thread::Builder::new()
            .name("shm-clip-worker".into())
            .spawn(move || Inner::new(name, outbox).run(&rx, &wake_rx))?;
        Ok(Worker {
            commands,
            wake: Some(wake_tx),
            thread: Some(thread),
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
        // Closing the pipe tells the worker to exit; it then drops its mailbox.
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

struct Outbox {
    events: Sender<Event>,
    repaint: Box<dyn Fn() + Send>,
}

impl Outbox {
    fn send(&self, event: Event) {
        // A closed channel means the window is gone; the worker exits soon.
        if self.events.send(event).is_ok() {
            (self.repaint)();
        }
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
    outbox: Outbox,
}

impl Inner {
    fn new(name: BoardName, outbox: Outbox) -> Self {
        Inner {
            name,
            mailbox: None,
            board: None,
            seen_seq: None,
            outbox,
        }
    }

    fn run(mut self, commands: &Receiver<Command>, wake: &OwnedFd) {
        self.open();
        loop {
            let (woken, mail) = match wait(wake, self.mailbox.as_ref()) {
                Ok(ready) => ready,
                Err(errno) => {
                    self.outbox
                        .send(Event::Error(Problem::new(format!("poll failed: {errno}"))));
                    return;
                }
            };
            let mut refresh = false;
            if mail {
                refresh |= self.drain_mailbox();
            }
            let hung_up = woken && drain_pipe(wake);
            loop {
                match commands.try_recv() {
                    Ok(command) => {
                        self.handle(command);
                        refresh = false; // every command ends with a fresh snapshot
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return,
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
        match Board::open(&self.name, OriginKind::App) {
            Ok(board) => {
                match board.subscribe() {
                    Ok(mailbox) => self.mailbox = Some(mailbox),
                    Err(err) => {
                        tracing::warn!(%err, "no live updates");
                        self.outbox.send(Event::Error(Problem::from(&err)));
                    }
                }
                self.board = Some(board);
                self.outbox.send(Event::Opened {
                    live: self.mailbox.is_some(),
                });
                self.refresh();
            }
            Err(err) => {
                tracing::warn!(%err, board = %self.name, "cannot open board");
                self.outbox.send(Event::OpenFailed(Problem::from(&err)));
            }
        }
    }

    fn handle(&mut self, command: Command) {
        if self.board.is_none() {
            // Every command first retries the open that failed before.
            self.open();
            if self.board.is_none() || command == Command::Refresh {
                return;
            }
        }
        let Some(board) = &self.board else { return };
        match command {
            Command::Copy(text) => match board.copy(&Clip::text(text)) {
                Ok(outcome) => {
                    self.outbox.send(Event::Copied {
                        seq: outcome.seq,
                        deduplicated: outcome.deduplicated,
                    });
                }
                Err(err) => self.outbox.send(Event::Error(Problem::from(&err))),
            },
            Command::Paste => match board.paste() {
                Ok(clip) => match clip.text_str() {
                    Some(text) => self.outbox.send(Event::Pasted(text.to_owned())),
                    None => self.outbox.send(Event::Error(Problem {
                        message: format!(
                            "the current clip has no text (it has: {})",
                            clip.types().join(", ")
                        ),
                        hint: Some("paste it with: shm-clip paste -t TYPE > FILE".into()),
                    })),
                },
                Err(err) => self.outbox.send(Event::Error(Problem::from(&err))),
            },
            Command::Refresh => {}
        }
        self.refresh();
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
                Ok(Some(note)) => newer |= self.seen_seq.is_none_or(|seen| note.seq > seen),
                Ok(None) => return newer,
                Err(err) => {
                    // Without this, poll would report the broken queue forever.
                    tracing::warn!(%err, "mailbox failed; live updates off");
                    self.mailbox = None;
                    self.outbox.send(Event::Error(Problem::from(&err)));
                    self.outbox.send(Event::Opened { live: false });
                    return true;
                }
            }
        }
    }

    fn refresh(&mut self) {
        let Some(board) = &self.board else { return };
        // Status first: a commit between the two reads then shows up as a
        // notification newer than `seen_seq`, and triggers another refresh.
        let snapshot = board.status().and_then(|status| {
            Ok(Snapshot {
                seq: status.seq,
                entries: board.history()?,
                subscribers: status.subscribers.len(),
                used: status.used,
                capacity: status.capacity,
            })
        });
        match snapshot {
            Ok(snapshot) => {
                self.seen_seq = Some(snapshot.seq);
                self.outbox.send(Event::Snapshot(snapshot));
            }
            Err(err) => self.outbox.send(Event::Error(Problem::from(&err))),
        }
    }
}

/// Sleeps until the wake-up pipe or the mailbox is readable (or hung up).
fn wait(wake: &OwnedFd, mailbox: Option<&Subscription>) -> nix::Result<(bool, bool)> {
    let mut fds = vec![PollFd::new(wake.as_fd(), PollFlags::POLLIN)];
    if let Some(mailbox) = mailbox {
        fds.push(PollFd::new(mailbox.as_fd(), PollFlags::POLLIN));
    }
    loop {
        match poll(&mut fds, PollTimeout::NONE) {
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
mod tests {
    use std::sync::mpsc::{self, Receiver};
    use std::time::Duration;

    use shm_clip::{Board, BoardName, Clip, Origin, OriginKind};

    use super::*;

    /// A board of this test's own, destroyed on drop.
    struct TestBoard(BoardName);

    impl TestBoard {
        fn new(test: &str) -> Self {
            TestBoard(BoardName::new(&format!("app-{test}-{}", std::process::id())).unwrap())
        }
    }

    impl Drop for TestBoard {
        fn drop(&mut self) {
            let _ = Board::destroy(&self.0, true);
        }
    }

    /// The next event matching `want`, failing after a watchdog timeout.
    fn expect<T>(events: &Receiver<Event>, mut want: impl FnMut(Event) -> Option<T>) -> T {
        loop {
            let event = events
                .recv_timeout(Duration::from_secs(10))
                .expect("no matching event from the worker within 10 s");
            if let Some(found) = want(event) {
                return found;
            }
        }
    }

    fn snapshot_at(events: &Receiver<Event>, seq: u64) -> Snapshot {
        expect(events, |e| match e {
            Event::Snapshot(s) if s.seq >= seq => Some(s),
            _ => None,
        })
    }

    #[test]
    fn copies_pastes_and_sees_other_writers() {
        let board = TestBoard::new("worker");
        let (tx, events) = mpsc::channel();
        let worker = Worker::spawn(board.0.clone(), tx, || {}).unwrap();
        let live = expect(&events, |e| match e {
            Event::Opened { live } => Some(live),
            Event::OpenFailed(p) => panic!("open failed: {p:?}"),
            _ => None,
        });
        assert!(live, "the worker should have a mailbox");

        worker.send(Command::Copy("from the window".into()));
        let seq = expect(&events, |e| match e {
            Event::Copied { seq, .. } => Some(seq),
            Event::Error(p) => panic!("copy failed: {p:?}"),
            _ => None,
        });
        let snap = snapshot_at(&events, seq);
        assert_eq!(snap.entries[0].preview, "from the window");
        assert_eq!(snap.subscribers, 1);

        // Another process writes: the mailbox alone must bring the change.
        // (Writers skip their own process's mailboxes, so it must be another.)
        copy_from_another_process(&board.0, "from elsewhere");
        let snap = snapshot_at(&events, seq + 1);
        assert_eq!(snap.entries[0].preview, "from elsewhere");
        assert_eq!(snap.entries[0].origin.kind, OriginKind::Cli);
        assert_eq!(snap.entries[1].preview, "from the window");

        worker.send(Command::Paste);
        let text = expect(&events, |e| match e {
            Event::Pasted(t) => Some(t),
            Event::Error(p) => panic!("paste failed: {p:?}"),
            _ => None,
        });
        assert_eq!(text, "from elsewhere");

        // Dropping the handle stops the thread and unregisters the mailbox.
        drop(worker);
        let other =
            Board::open_with(&board.0, Origin::this_process(OriginKind::Cli), None).unwrap();
        assert!(other.status().unwrap().subscribers.is_empty());
    }

    const COPY_ROLE: &str = "SHM_CLIP_APP_TEST_COPY";

    /// Re-runs this test binary as a writer process (see `copy_role`).
    fn copy_from_another_process(board: &BoardName, text: &str) {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "worker::tests::copy_role",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(COPY_ROLE, format!("{board}\n{text}"))
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "writer process failed: {status}");
    }

    /// Does nothing unless run by `copy_from_another_process`: then it copies
    /// the text to the board from this separate process.
    #[test]
    fn copy_role() {
        let Ok(job) = std::env::var(COPY_ROLE) else {
            return;
        };
        let (board, text) = job.split_once('\n').unwrap();
        let board = Board::open(&BoardName::new(board).unwrap(), OriginKind::Cli).unwrap();
        board.copy(&Clip::text(text)).unwrap();
    }

    #[test]
    fn paste_of_an_empty_board_is_an_error_with_a_hint() {
        let board = TestBoard::new("empty");
        let (tx, events) = mpsc::channel();
        let worker = Worker::spawn(board.0.clone(), tx, || {}).unwrap();
        worker.send(Command::Paste);
        let problem = expect(&events, |e| match e {
            Event::Error(p) => Some(p),
            Event::Pasted(_) => panic!("an empty board has nothing to paste"),
            _ => None,
        });
        assert!(problem.message.contains("empty"), "{problem:?}");
        assert!(problem.hint.is_some());
    }
}
