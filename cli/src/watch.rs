//! `shm-clip watch`: a line, or a command, per change, until told to stop.
//!
//! One thread waits in `poll` on three descriptors: a signalfd for SIGINT and
//! SIGTERM (blocked, so they queue there instead of killing us), the
//! subscription's mailbox, and stdout (a pipe whose reader left reports
//! POLLERR). Every way out returns through `run`, so the `Subscription` is
//! always dropped, which frees its slot and unlinks its mailbox.

use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{self, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::Pid;
use shm_clip::{Board, EntryInfo, Error, Notification, Origin, Selector, Subscription};

use crate::args::{Global, WatchArgs};
use crate::errors::CliError;
use crate::json::{EntryMeta, Event, EventKind, Versioned};
use crate::{change, human, json};

/// How often a running `--exec` command is checked on.
const CHILD_POLL_MS: u16 = 50;
/// How long a stopped `--exec` command gets to exit after SIGTERM.
const CHILD_GRACE: Duration = Duration::from_secs(2);

/// Why the watch ended without an error.
enum Stop {
    Signal(Signal),
    StdoutClosed,
}

/// Watches until a signal, a closed stdout or an error.
pub fn run(global: &Global, args: &WatchArgs) -> Result<(), CliError> {
    // Block before any thread exists, so that every thread inherits the mask
    // and the signals can only arrive through the signalfd.
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGINT);
    mask.add(Signal::SIGTERM);
    mask.thread_block()
        .map_err(CliError::os("blocking SIGINT and SIGTERM"))?;
    let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .map_err(CliError::os("creating a signalfd"))?;

    let stop = {
        let board = crate::open::or_create(global)?;
        // Read the seq before subscribing: a change made just after the
        // subscription exists then has a larger seq and is reported, instead
        // of being skipped as already seen.
        let (seen, history) = snapshot(&board)?;
        let subscription = board.subscribe()?;
        let subscribers = if args.json {
            board.status()?.subscribers.len()
        } else {
            0
        };
        tracing::debug!(mailbox = subscription.mailbox_name(), seen, "watching");
        let mut watch = Watch {
            board: &board,
            args,
            signals: &signals,
            seen,
            history,
            subscribers,
        };
        watch.run(subscription)?
        // The subscription was dropped inside `Watch::run`, the board here.
    };

    match stop {
        Stop::StdoutClosed => tracing::debug!("stdout closed; stopping"),
        Stop::Signal(signal) => {
            tracing::debug!(%signal, "stopping");
            // Everything is cleaned up: die of the signal as the shell
            // expects (a Ctrl-C must also end a `while` loop around us).
            let _ = io::stdout().flush();
            let mut only = SigSet::empty();
            only.add(signal);
            if only.thread_unblock().is_ok() {
                let _ = signal::raise(signal);
            }
            // Still here: the signal is ignored (as for background jobs of a
            // non-interactive shell); exit 0.
        }
    }
    Ok(())
}

/// The state of a running watch.
struct Watch<'a> {
    board: &'a Board,
    args: &'a WatchArgs,
    signals: &'a SignalFd,
    /// The newest seq already handled; notifications up to it are skipped.
    seen: u64,
    /// The history as of `seen`: the next change is told from it.
    history: Vec<EntryInfo>,
    /// Live subscribers when last counted (`--json` only).
    subscribers: usize,
}

/// What the poll found ready.
#[derive(Default)]
struct Ready {
    signal: bool,
    mailbox: bool,
    stdout_closed: bool,
}

impl Watch<'_> {
    /// The event loop; consumes the subscription so it is gone when this returns.
    fn run(&mut self, mut subscription: Subscription) -> Result<Stop, CliError> {
        let stdout = io::stdout();
        loop {
            let ready = wait(self.signals.as_fd(), subscription.as_fd(), stdout.as_fd())?;
            let signal = if ready.signal {
                self.read_signal()?
            } else {
                None
            };
            if let Some(signal) = signal {
                return Ok(Stop::Signal(signal));
            }
            if ready.stdout_closed {
                return Ok(Stop::StdoutClosed);
            }
            if ready.mailbox {
                // Drain the mailbox: pending notifications coalesce, and only
                // the newest seq matters.
                let mut latest: Option<Notification> = None;
                loop {
                    match subscription.try_recv() {
                        Ok(Some(note)) => {
                            if latest.is_none_or(|l| note.seq > l.seq) {
                                latest = Some(note);
                            }
                        }
                        Ok(None) => break,
                        Err(err @ Error::BoardDestroyed { .. }) => {
                            if self.args.json {
                                let event =
                                    Event::new(EventKind::Destroy, self.seen, SystemTime::now());
                                print_event(event)?;
                            }
                            return Err(err.into());
                        }
                        Err(err) => return Err(err.into()),
                    }
                }
                let Some(note) = latest else {
                    continue;
                };
                if note.seq <= self.seen {
                    // The same seq: the subscriber table changed.
                    if self.args.json {
                        self.membership(&note)?;
                    }
                    continue;
                }
                tracing::debug!(
                    seq = note.seq,
                    by = note.origin_pid,
                    coalesced = note.coalesced,
                    "change"
                );
                if let Some(stop) = self.handle(&note)? {
                    return Ok(stop);
                }
            }
        }
    }

    /// The signal waiting in the signalfd, if any.
    fn read_signal(&self) -> Result<Option<Signal>, CliError> {
        let info = self
            .signals
            .read_signal()
            .map_err(CliError::os("reading the signalfd"))?;
        Ok(info.map(|info| {
            if info.ssi_signo == Signal::SIGINT as u32 {
                Signal::SIGINT
            } else {
                Signal::SIGTERM
            }
        }))
    }

    /// Reports the change `note` announced: prints it, or runs the command.
    fn handle(&mut self, note: &Notification) -> Result<Option<Stop>, CliError> {
        let (seq, history) = snapshot(self.board)?;
        let seq = seq.max(note.seq);
        self.seen = seq;
        let before = std::mem::replace(&mut self.history, history);
        if let Some(cmd) = &self.args.exec {
            return self.exec(cmd, seq);
        }
        if self.args.json {
            let change = change::classify(&before, &self.history);
            tracing::debug!(seq, kind = ?change.kind, "classified");
            let mut event = Event::new(change.kind, seq, note.committed_at);
            event.origin = Some(json::Origin::from(&Origin {
                pid: note.origin_pid,
                kind: note.origin_kind,
                label: String::new(),
            }));
            event.entry = change.entry.map(|i| EntryMeta::from(&self.history[i]));
            event.removed = change.removed;
            print_event(event)?;
            return Ok(None);
        }
        print_line(&self.describe(seq))?;
        Ok(None)
    }

    /// After a wake-up with an unchanged seq: a `subscribe` event if the
    /// number of subscribers changed.
    fn membership(&mut self, note: &Notification) -> Result<(), CliError> {
        let count = self.board.status()?.subscribers.len();
        if count == self.subscribers {
            return Ok(());
        }
        self.subscribers = count;
        let mut event = Event::new(EventKind::Subscribe, self.seen, note.committed_at);
        event.origin = Some(json::Origin::from(&Origin {
            pid: note.origin_pid,
            kind: note.origin_kind,
            label: String::new(),
        }));
        event.subscribers = Some(count);
        print_event(event)
    }

    /// One line about the current clip.
    fn describe(&self, seq: u64) -> String {
        match self.history.first() {
            None => format!("seq {seq}: empty\n"),
            Some(entry) => {
                let types: Vec<String> = entry
                    .types
                    .iter()
                    .map(|(mime, size)| format!("{mime} ({})", human::size(*size)))
                    .collect();
                format!(
                    "seq {seq}: {}; {} total; from {}\n",
                    types.join(", "),
                    human::size(entry.total_size),
                    entry.origin
                )
            }
        }
    }

    /// Runs `sh -c cmd` with the current clip on its stdin and waits for it,
    /// still answering SIGINT and SIGTERM.
    fn exec(&self, cmd: &str, seq: u64) -> Result<Option<Stop>, CliError> {
        let rep = match &self.args.mime {
            Some(mime) => self.board.get_type(Selector::Current, mime),
            None => self
                .board
                .paste()
                .and_then(|clip| clip.reps.into_iter().next().ok_or(Error::Empty)),
        };
        let rep = match rep {
            Ok(rep) => rep,
            Err(err @ (Error::Empty | Error::NoSuchType { .. } | Error::NoSuchEntry { .. })) => {
                tracing::info!(seq, "not running the command: {err}");
                return Ok(None);
            }
            Err(err) => return Err(err.into()),
        };
        tracing::debug!(
            seq,
            size = rep.data.len(),
            mime = rep.mime,
            "running the command"
        );
        let exec_err = |source| CliError::Exec {
            cmd: cmd.to_owned(),
            seq,
            source,
        };
        // std gives the child an empty signal mask and default SIGPIPE. Its
        // own process group lets a stop reach the command's children too.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .env("SHM_CLIP_SEQ", seq.to_string())
            .env("SHM_CLIP_MIME", &rep.mime)
            .stdin(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(exec_err)?;
        if let Some(mut stdin) = child.stdin.take() {
            // A thread feeds the clip, so that a command that reads little
            // cannot block us; it ends when the command closes its stdin.
            // It is not joined: a background grandchild may hold the pipe.
            let data = rep.data;
            thread::Builder::new()
                .name("exec-stdin".into())
                .spawn(move || {
                    if let Err(err) = stdin.write_all(&data) {
                        tracing::debug!("the command did not read all of its stdin: {err}");
                    }
                })
                .map_err(exec_err)?;
        }
        self.wait_child(&mut child, cmd, seq)
    }

    /// Waits for `child`; on a signal, stops it and stops the watch.
    fn wait_child(&self, child: &mut Child, cmd: &str, seq: u64) -> Result<Option<Stop>, CliError> {
        loop {
            if let Some(status) = child.try_wait().map_err(|source| CliError::Exec {
                cmd: cmd.to_owned(),
                seq,
                source,
            })? {
                report_status(status, cmd, seq);
                return Ok(None);
            }
            let mut fds = [PollFd::new(self.signals.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, CHILD_POLL_MS) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(errno) => return Err(CliError::os("polling the signalfd")(errno)),
            }
            if let Some(signal) = self.read_signal()? {
                stop_child(child);
                return Ok(Some(Stop::Signal(signal)));
            }
        }
    }
}

/// The seq and the history at that seq (read again if a change came between).
fn snapshot(board: &Board) -> Result<(u64, Vec<EntryInfo>), CliError> {
    loop {
        let seq = board.seq();
        let history = board.history()?;
        if board.seq() == seq {
            return Ok((seq, history));
        }
    }
}

/// One `watch --json` line.
fn print_event(event: Event) -> Result<(), CliError> {
    let mut line = serde_json::to_string(&Versioned::new(event))
        .map_err(io::Error::from)
        .map_err(CliError::Stdout)?;
    line.push('\n');
    print_line(&line)
}

/// Writes `line` to stdout and flushes, so that a reader sees it at once.
fn print_line(line: &str) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    out.write_all(line.as_bytes())
        .and_then(|()| out.flush())
        .map_err(CliError::Stdout)
}

/// Waits in `poll` for the signalfd, the mailbox or a closed stdout.
fn wait(
    signals: BorrowedFd<'_>,
    mailbox: BorrowedFd<'_>,
    stdout: BorrowedFd<'_>,
) -> Result<Ready, CliError> {
    // Asking stdout for no events still reports POLLERR (a pipe without
    // readers) and POLLHUP (a hung-up terminal); files never report either.
    let mut fds = [
        PollFd::new(signals, PollFlags::POLLIN),
        PollFd::new(mailbox, PollFlags::POLLIN),
        PollFd::new(stdout, PollFlags::empty()),
    ];
    match poll(&mut fds, PollTimeout::NONE) {
        Ok(_) => {}
        Err(Errno::EINTR) => return Ok(Ready::default()),
        Err(errno) => return Err(CliError::os("waiting for changes")(errno)),
    }
    let revents = |fd: &PollFd<'_>| fd.revents().unwrap_or(PollFlags::empty());
    let broken = PollFlags::POLLERR | PollFlags::POLLHUP | PollFlags::POLLNVAL;
    let mailbox = revents(&fds[1]);
    if mailbox.intersects(broken) && !mailbox.contains(PollFlags::POLLIN) {
        return Err(CliError::os("waiting on the mailbox")(Errno::EIO));
    }
    Ok(Ready {
        signal: !revents(&fds[0]).is_empty(),
        mailbox: !mailbox.is_empty(),
        // POLLNVAL: stdout is not open at all, so there is nothing to close.
        stdout_closed: revents(&fds[2]).intersects(PollFlags::POLLERR | PollFlags::POLLHUP),
    })
}

/// Asks a running command to stop, then insists.
fn stop_child(child: &mut Child) {
    // The command leads its own process group, so this reaches whatever
    // `sh -c` started too.
    let group = i32::try_from(child.id()).ok().map(Pid::from_raw);
    let signal_group = |signal| {
        if let Some(group) = group {
            let _ = signal::killpg(group, signal);
        }
    };
    signal_group(Signal::SIGTERM);
    let deadline = Instant::now() + CHILD_GRACE;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(status)) => return tracing::debug!("the command stopped: {status}"),
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(_) => break,
        }
    }
    signal_group(Signal::SIGKILL);
    let _ = child.kill();
    if let Ok(status) = child.wait() {
        tracing::debug!("the command was killed: {status}");
    }
}

/// A failed command is reported, in the `shm-clip:` style, with the
/// command and the seq it ran for; the watch goes on.
fn report_status(status: ExitStatus, cmd: &str, seq: u64) {
    use std::os::unix::process::ExitStatusExt;
    if status.success() {
        tracing::debug!(seq, "the command succeeded");
        return;
    }
    let why = match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(number)) => match Signal::try_from(number) {
            Ok(signal) => format!("killed by {signal}"),
            Err(_) => format!("killed by signal {number}"),
        },
        (None, None) => status.to_string(),
    };
    crate::errors::warn(&format!(
        "watch --exec: sh -c {} failed for seq {seq}: {why}",
        crate::errors::shell_quote(cmd)
    ));
}
