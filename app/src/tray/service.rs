//! The tray's event loop: one thread, one `poll` over the X connection, the
//! board's mailbox, the menu's wake-up socket and a signalfd. Nothing polls
//! on a timer; the only timeout is the debounced save.

use std::os::fd::AsFd;
use std::os::unix::net::UnixDatagram;
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signalfd::SignalFd;
use shm_clip::{Board, Config, EntryInfo, Error, Selector, Subscription};

use super::menu::{Command, TrayIcon, View};
use super::persist::Store;
use super::requests::{self, Request, Requests};
use crate::sync::{Owner, OwnerChange, ReadOutcome, ReadPolicy, Reader, Wayland, WlEvent};

/// The desktop clipboard the tray bridges to.
#[derive(Debug)]
pub enum Desktop {
    /// X11 (or `XWayland`): selection ownership and `XFixes` events.
    X11 {
        /// Owns and serves CLIPBOARD; reports owner changes.
        owner: Box<Owner>,
        /// Reads other owners' selections.
        reader: Box<Reader>,
    },
    /// Wayland with the data-control protocol.
    Wayland(Wayland),
}

/// Why auto-paste cannot paste while the tray does not own the clipboard.
const NOT_SERVING: &str =
    "the tray does not serve the desktop clipboard (sync.to_system is off, or syncing is paused)";

/// The X server time at which the tray takes CLIPBOARD. The server ignores
/// a takeover older than the selection's last change (ICCCM §2.1), which is
/// what keeps a late takeover from stealing a newer owner's clip.
#[derive(Clone, Copy, Debug)]
enum Takeover {
    /// The server's current time: the board changed just now.
    Now,
    /// The time of the owner change that the takeover answers: when the
    /// last owner exited, the selection's own timestamp. Anyone who took
    /// CLIPBOARD after that change wins.
    At(x11rb::protocol::xproto::Timestamp),
}

/// Saves wait this long after a change, so a burst of copies is one write.
const SAVE_DELAY: Duration = Duration::from_secs(2);

/// Everything the loop owns.
pub struct Service {
    pub board: Board,
    pub config: Config,
    pub desktop: Desktop,
    /// `None` when the mailbox could not be created: desktop → board only.
    pub subscription: Option<Subscription>,
    pub signals: SignalFd,
    pub icon: Option<ksni::blocking::Handle<TrayIcon>>,
    pub commands: Receiver<Command>,
    pub wake: UnixDatagram,
    pub store: Option<Store>,
    pub paused: bool,
    /// The board's current entry (its seq), as last seen.
    pub head: Option<u64>,
    /// The board's commit seq when it was last saved.
    pub saved_seq: Option<u64>,
    pub save_at: Option<Instant>,
    /// The last clipboard owner offered a secret: when it goes away, do not
    /// put an older clip back in its place.
    pub skipped_secret: bool,
    /// We serve the desktop clipboard (a board clip), as far as we know.
    pub serving: bool,
    /// Requests from the command line (`--primary`); `None` if the socket
    /// could not be made (logged once).
    pub requests: Option<Requests>,
    /// The archiver thread, woken after the tray's own commits; `None` when
    /// the archive is off or another archiver runs.
    pub archiving: Option<super::archiving::Archiving>,
    /// X11: the picker's hotkey and auto-paste's keys; `None` on Wayland.
    pub keyboard: Option<super::keyboard::Keyboard>,
    /// Wayland: auto-paste's virtual keyboard; `None` where the compositor
    /// has none (or after an error: the next paste connects again).
    pub virtual_keyboard: Option<super::virtual_keyboard::VirtualKeyboard>,
    /// The picker's hotkey and paste keys from `[picker]`.
    pub keys: super::PickerKeys,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("board", &self.board)
            .field("paused", &self.paused)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// First contact: take the desktop's clipboard into the board, or, when
    /// nobody owns it, offer the board's current clip.
    pub fn start(&mut self) {
        self.refresh();
        // On Wayland the watcher reports the current selection first.
        let Desktop::X11 { owner, .. } = &self.desktop else {
            return;
        };
        let clipboard = owner.clipboard();
        match owner.owner_of(clipboard) {
            Ok(Some(_)) if self.config.sync.to_board => {
                self.import(clipboard, x11rb::CURRENT_TIME);
            }
            Ok(None) if self.config.sync.to_system => self.serve_head(Takeover::Now),
            Ok(_) => {}
            Err(err) => tracing::warn!(%err, "cannot query the CLIPBOARD owner"),
        }
    }

    /// Runs until Quit or a signal.
    pub fn run(&mut self) -> crate::sync::Result<()> {
        loop {
            match &mut self.desktop {
                Desktop::X11 { owner, .. } => {
                    for change in owner.dispatch()? {
                        self.on_owner_change(change);
                    }
                }
                Desktop::Wayland(wayland) => {
                    for event in wayland.drain() {
                        self.on_wayland_event(event);
                    }
                }
            }
            let timeout = self.save_at.map_or(PollTimeout::NONE, |at| {
                let ms = at.saturating_duration_since(Instant::now()).as_millis();
                PollTimeout::try_from(i32::try_from(ms).unwrap_or(i32::MAX))
                    .unwrap_or(PollTimeout::MAX)
            });
            let ready = {
                let desktop = match &self.desktop {
                    Desktop::X11 { owner, .. } => owner.fd(),
                    Desktop::Wayland(wayland) => wayland.fd(),
                };
                // Without a mailbox, the wake socket stands in for it: it is
                // polled twice, and only its second entry is acted on.
                let mailbox = self
                    .subscription
                    .as_ref()
                    .map_or(self.wake.as_fd(), AsFd::as_fd);
                // Without a request socket the wake socket stands in, as above.
                let requests = self
                    .requests
                    .as_ref()
                    .map_or(self.wake.as_fd(), |r| r.listener().as_fd());
                // Without a keyboard connection the wake socket stands in, as above.
                let keyboard = self
                    .keyboard
                    .as_ref()
                    .map_or(self.wake.as_fd(), super::keyboard::Keyboard::fd);
                let mut fds = [
                    PollFd::new(desktop, PollFlags::POLLIN),
                    PollFd::new(mailbox, PollFlags::POLLIN),
                    PollFd::new(self.wake.as_fd(), PollFlags::POLLIN),
                    PollFd::new(self.signals.as_fd(), PollFlags::POLLIN),
                    PollFd::new(requests, PollFlags::POLLIN),
                    PollFd::new(keyboard, PollFlags::POLLIN),
                ];
                match poll(&mut fds, timeout) {
                    Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                    Err(errno) => {
                        return Err(crate::sync::SyncError::Connection(format!("poll: {errno}")));
                    }
                }
                fds.map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            };
            // ready[0]: X events are handled by dispatch() at the top.
            if ready[1]
                && let Some(subscription) = &mut self.subscription
            {
                match subscription.try_recv() {
                    Ok(Some(_)) => self.on_board_change(),
                    Ok(None) => {}
                    Err(Error::BoardDestroyed { .. }) => self.on_destroyed(),
                    Err(err) => tracing::warn!(%err, "reading the mailbox failed"),
                }
            } else if self.subscription.is_none() && self.board.is_destroyed() {
                // No mailbox to be told through: check on every wake-up.
                self.on_destroyed();
            }
            if ready[4] && self.requests.is_some() {
                self.on_requests();
            }
            // x11rb may have queued events while answering other requests,
            // so the keyboard is read on every wake-up, not only when ready.
            if let Some(keyboard) = &mut self.keyboard {
                match keyboard.dispatch() {
                    Ok(true) => super::shortcut::summon_picker(self.board.name()),
                    Ok(false) => {}
                    Err(err) => {
                        tracing::warn!(%err, "the keyboard connection failed: no picker hotkey any more");
                        self.keyboard = None;
                    }
                }
            }
            if ready[2] && self.on_commands() {
                return Ok(());
            }
            if ready[3] {
                if let Ok(Some(info)) = self.signals.read_signal() {
                    tracing::info!(signal = info.ssi_signo, "stopping");
                }
                return Ok(());
            }
            if self.save_at.is_some_and(|at| at <= Instant::now()) {
                self.save();
            }
        }
    }

    /// Saves if anything changed since the last save.
    pub fn save(&mut self) {
        self.save_at = None;
        let Some(store) = &self.store else { return };
        let seq = self.board.seq();
        if self.saved_seq == Some(seq) || self.board.is_destroyed() {
            return;
        }
        match store.save(&self.board, self.config.persistence.enabled) {
            // `destroy` unlinks the board before it deletes the file: a
            // save that raced with it either sees the board gone here, or
            // finished before the unlink, and then the file goes with it.
            Ok(_) if self.board.is_destroyed() => {
                let _ = std::fs::remove_file(store.path());
            }
            Ok(report) => {
                tracing::debug!(
                    entries = report.entries,
                    bytes = report.bytes,
                    path = %store.path().display(),
                    "history saved"
                );
                self.saved_seq = Some(seq);
            }
            Err(err) => {
                tracing::warn!(%err, path = %store.path().display(), "cannot save the history");
            }
        }
    }

    fn on_owner_change(&mut self, change: OwnerChange) {
        if change.ours {
            // Our own ownership: never echoed back into the board.
            return;
        }
        if self.paused {
            return;
        }
        let Desktop::X11 { owner, .. } = &self.desktop else {
            return;
        };
        let (clipboard, primary) = (owner.clipboard(), owner.primary());
        if change.selection == clipboard {
            match change.owner {
                Some(_) if self.config.sync.to_board => self.import(change.selection, change.time),
                Some(_) => {}
                None => self.keep_alive(Takeover::At(change.time)),
            }
        } else if change.selection == primary
            && self.config.sync.primary
            && self.config.sync.to_board
            && change.owner.is_some()
        {
            self.import(change.selection, change.time);
        }
    }

    /// The clipboard's owner exited: serve the board's current clip instead,
    /// so that what was copied stays pasteable.
    fn keep_alive(&mut self, takeover: Takeover) {
        if !self.config.sync.to_system {
            return;
        }
        if self.skipped_secret {
            tracing::info!("a password manager's clip went away; not restoring an older clip");
            self.skipped_secret = false;
            return;
        }
        tracing::debug!("CLIPBOARD lost its owner; serving the board's current clip");
        self.serve_head(takeover);
    }

    /// Reads `selection` and copies it into the board as one clip.
    fn import(&mut self, selection: u32, time: u32) {
        let policy = ReadPolicy {
            max_size: self.config.sync.max_size.0,
            ignore: self.config.sync.ignore_types.clone(),
        };
        let started = Instant::now();
        let Desktop::X11 { owner, reader } = &mut self.desktop else {
            return;
        };
        // A selection we own now was taken back from the owner that this
        // change names (a board clip served since): converting it would
        // ask ourselves, and this thread cannot answer while it waits.
        match owner.owns(selection) {
            Ok(true) => {
                tracing::debug!("not reading a clipboard change that a board clip has superseded");
                return;
            }
            Ok(false) => {}
            Err(err) => {
                tracing::warn!(%err, "cannot query the selection owner");
                return;
            }
        }
        let outcome = reader
            .read(selection, time, &policy)
            .map_err(|e| e.to_string());
        self.apply(outcome, started);
    }

    /// What the Wayland watcher saw.
    fn on_wayland_event(&mut self, event: WlEvent) {
        if matches!(event, WlEvent::Changed(_)) {
            self.serving = false;
        }
        if self.paused {
            return;
        }
        match event {
            WlEvent::Changed(outcome) if self.config.sync.to_board => {
                self.apply(outcome, Instant::now());
            }
            WlEvent::Changed(_) => {}
            WlEvent::Cleared => self.keep_alive(Takeover::Now),
        }
    }

    /// Copies what was read from the desktop into the board, or logs why not.
    fn apply(&mut self, outcome: Result<ReadOutcome, String>, started: Instant) {
        self.skipped_secret = matches!(outcome, Ok(ReadOutcome::Secret));
        match outcome {
            Ok(ReadOutcome::Clip(clip)) => match self.board.copy(&clip) {
                Ok(outcome) => {
                    tracing::info!(
                        seq = outcome.seq,
                        size = clip.total_size(),
                        hash = %super::digest(&clip),
                        types = ?clip.types(),
                        dedup = outcome.deduplicated,
                        micros = started.elapsed().as_micros() as u64,
                        "system clipboard copied into the board"
                    );
                    self.refresh();
                }
                Err(err @ Error::ClipTooLarge { .. }) => {
                    tracing::warn!(%err, "skipped a clipboard change: too large for the board");
                }
                Err(err) => tracing::warn!(%err, "cannot copy the clipboard into the board"),
            },
            Ok(ReadOutcome::Secret) => tracing::info!(
                "skipped a clip marked secret by a password manager (x-kde-passwordManagerHint); it is not stored"
            ),
            // Reading stops at the limit (or at INCR's announced lower
            // bound), so the size known is a lower bound: said as one.
            Ok(ReadOutcome::TooLarge { size, max }) => tracing::warn!(
                at_least = size,
                max,
                "skipped a clipboard change of at least {size} bytes: sync.max_size is {max} bytes"
            ),
            Ok(ReadOutcome::Nothing) => {
                tracing::info!(
                    "skipped a clipboard change: it offers no type that is synced (or sync.ignore_types lists them all)"
                );
            }
            Err(err) => tracing::warn!(%err, "cannot read the clipboard"),
        }
    }

    /// The board was destroyed under us: nothing of it may stay pasteable,
    /// so give up the desktop clipboard if we serve one of its clips, then
    /// go on with a fresh board of the same name. Nothing is restored into
    /// it: `destroy` deletes the saved history too.
    fn on_destroyed(&mut self) {
        let name = self.board.name().clone();
        tracing::info!(board = %name, "the board was destroyed; dropping what the desktop clipboard served from it and moving to a fresh board");
        self.save_at = None;
        let dropped = match &mut self.desktop {
            Desktop::X11 { owner, reader } => reader
                .server_time()
                .and_then(|time| owner.disown(time))
                .map_err(|e| e.to_string()),
            Desktop::Wayland(wayland) if self.serving => wayland.clear().map(|()| true),
            Desktop::Wayland(_) => Ok(false),
        };
        self.serving = false;
        match dropped {
            Ok(true) => tracing::info!("gave up the desktop clipboard"),
            Ok(false) => {}
            Err(err) => tracing::warn!(%err, "cannot give up the desktop clipboard"),
        }
        let origin = self.board.origin().clone();
        let board = match Board::open_with(&name, origin, Some(self.config.create_options())) {
            Ok(board) => board,
            Err(err) => {
                tracing::warn!(%err, "cannot open a fresh board; still bridging the destroyed one");
                return;
            }
        };
        self.subscription = None;
        self.subscription = match board.subscribe() {
            Ok(subscription) => Some(subscription),
            Err(err) => {
                tracing::warn!(%err, "no mailbox on the fresh board: its changes will not reach the desktop clipboard");
                None
            }
        };
        // Unsaved, whatever it holds: a copy may have created the fresh
        // board before we noticed the destroy, and it must reach the disk.
        self.saved_seq = None;
        self.board = board;
        self.head = None;
        self.on_board_change();
    }

    /// Answers every waiting command-line request.
    fn on_requests(&mut self) {
        loop {
            let Some((stream, request)) = self.requests.as_ref().and_then(Requests::accept) else {
                return;
            };
            let result = request.and_then(|request| self.serve_request(request));
            if let Err(why) = &result {
                tracing::info!(why, "refused a command-line request");
            }
            requests::answer(stream, result);
        }
    }

    /// What a `--primary` request gets.
    fn serve_request(&mut self, request: Request) -> Result<shm_clip::Representation, String> {
        if let Request::Paste { target } = request {
            return self.paste(target);
        }
        let (owner, reader) = match &mut self.desktop {
            Desktop::X11 { owner, reader } => (owner, reader),
            Desktop::Wayland(wayland) => {
                return match request {
                    Request::PastePrimary { mime } => {
                        wayland.read_primary(mime.as_deref(), self.config.sync.max_size.0)
                    }
                    Request::Paste { .. } => unreachable!("answered above"),
                    Request::CopyPrimary(rep) => {
                        wayland.own_primary(&rep)?;
                        tracing::info!(size = rep.data.len(), "command-line clip put on PRIMARY");
                        Ok(shm_clip::Representation {
                            mime: String::new(),
                            data: Vec::new(),
                        })
                    }
                };
            }
        };
        match request {
            Request::Paste { .. } => unreachable!("answered above"),
            Request::PastePrimary { mime } => {
                if let Some(clip) = owner.primary_clip() {
                    return requests::pick((*clip).clone(), mime.as_deref());
                }
                let policy = ReadPolicy {
                    max_size: self.config.sync.max_size.0,
                    ignore: Vec::new(),
                };
                match reader.read(owner.primary(), x11rb::CURRENT_TIME, &policy) {
                    Ok(ReadOutcome::Clip(clip)) => {
                        tracing::info!(
                            size = clip.total_size(),
                            types = ?clip.types(),
                            "PRIMARY pasted to the command line"
                        );
                        requests::pick(clip, mime.as_deref())
                    }
                    Ok(ReadOutcome::Secret) => Err(
                        "PRIMARY holds a password manager's secret; it is not handed out".into(),
                    ),
                    Ok(ReadOutcome::TooLarge { size, max }) => Err(format!(
                        "PRIMARY holds at least {size} bytes, more than sync.max_size ({max} bytes)"
                    )),
                    Ok(ReadOutcome::Nothing) => {
                        Err("PRIMARY is empty, or offers no type shm-clip reads".into())
                    }
                    Err(err) => Err(format!("cannot read PRIMARY: {err}")),
                }
            }
            Request::CopyPrimary(rep) => {
                let clip = std::sync::Arc::new(shm_clip::Clip { reps: vec![rep] });
                let (size, types) = (clip.total_size(), format!("{:?}", clip.types()));
                let taken = reader
                    .server_time()
                    .and_then(|time| owner.own_primary(clip, time))
                    .map_err(|e| format!("cannot take PRIMARY: {e}"))?;
                if !taken {
                    return Err("another application kept the PRIMARY selection".into());
                }
                tracing::info!(size, types, "command-line clip put on PRIMARY");
                Ok(shm_clip::Representation {
                    mime: String::new(),
                    data: Vec::new(),
                })
            }
        }
    }

    /// Auto-paste for the picker: make sure the desktop clipboard serves
    /// the board's current clip (the picker's choice), then send the paste
    /// keys to the window the picker was summoned over.
    fn paste(&mut self, target: Option<u32>) -> Result<shm_clip::Representation, String> {
        self.on_board_change();
        let done = shm_clip::Representation {
            mime: String::new(),
            data: Vec::new(),
        };
        if matches!(self.desktop, Desktop::Wayland(_)) {
            if !self.serving {
                return Err(NOT_SERVING.into());
            }
            let sent = self.paste_wayland()?;
            tracing::info!(keys = %sent, "pasted the picker's choice through the virtual keyboard");
            return Ok(done);
        }
        let Some(keyboard) = &mut self.keyboard else {
            return Err("the tray has no keyboard connection".into());
        };
        if !self.serving {
            return Err(NOT_SERVING.into());
        }
        let keys = &self.keys;
        let sent = keyboard.paste(target, |classes| keys.paste_keys_for(classes))?;
        tracing::info!(keys = %sent, target = ?target, "pasted the picker's choice");
        Ok(done)
    }

    /// Wayland: types the paste keys on the virtual keyboard (connecting
    /// again if there is none yet). No protocol tells which client has the
    /// focus, so `picker.paste_rules` (matched on `WM_CLASS`) do not apply:
    /// it is `picker.paste_keys`.
    fn paste_wayland(&mut self) -> Result<String, String> {
        let keyboard = match &mut self.virtual_keyboard {
            Some(keyboard) => keyboard,
            None => {
                self.virtual_keyboard
                    .insert(super::virtual_keyboard::VirtualKeyboard::connect(
                        self.keys.keymap(),
                    )?)
            }
        };
        let combo = self.keys.paste.clone();
        if let Err(why) = keyboard.type_combo(&combo) {
            self.virtual_keyboard = None;
            return Err(why);
        }
        Ok(combo.text)
    }

    /// Another process changed the board.
    fn on_board_change(&mut self) {
        let before = self.head;
        self.refresh();
        if self.paused || !self.config.sync.to_system {
            return;
        }
        if self.head.is_some() && self.head != before {
            self.serve_head(Takeover::Now);
        }
    }

    /// Takes CLIPBOARD with the board's current clip.
    fn serve_head(&mut self, takeover: Takeover) {
        let Some(seq) = self.head else { return };
        let started = Instant::now();
        let clip = match self.board.get(Selector::Seq(seq)) {
            Ok(clip) => clip,
            Err(err) => {
                tracing::warn!(%err, "cannot read the board's current clip");
                return;
            }
        };
        self.skipped_secret = false;
        // Logged as the other direction is: sizes and a hash, never content.
        let (size, hash) = (clip.total_size(), super::digest(&clip));
        let types: Vec<String> = clip.types().into_iter().map(str::to_owned).collect();
        let result = match &mut self.desktop {
            Desktop::X11 { owner, reader } => match takeover {
                Takeover::Now => reader.server_time(),
                Takeover::At(time) => Ok(time),
            }
            .and_then(|time| owner.own(Arc::new(clip), time))
            .map_err(|e| e.to_string()),
            Desktop::Wayland(wayland) => wayland.own(&clip).map(|()| true),
        };
        match result {
            Ok(false) => {
                self.serving = false;
                tracing::info!(
                    seq,
                    "not serving the board's clip: another application took the clipboard since"
                );
            }
            Ok(true) => {
                self.serving = true;
                tracing::info!(
                    seq,
                    size,
                    %hash,
                    ?types,
                    micros = started.elapsed().as_micros() as u64,
                    "board clip put on the system clipboard"
                );
            }
            Err(err) => {
                tracing::warn!(%err, seq, size, %hash, "cannot take the clipboard selection");
            }
        }
    }

    /// Re-reads the history: the current entry, the menu, the save timer.
    fn refresh(&mut self) {
        let history = match self.board.history() {
            Ok(h) => h,
            Err(err) => {
                tracing::warn!(%err, "cannot read the board's history");
                return;
            }
        };
        self.head = history.first().map(|e| e.seq);
        // The board does not tell this process of its own commits; every one
        // of them ends here, so the archiver hears of them here.
        if let Some(archiving) = &self.archiving {
            archiving.wake();
        }
        if self.saved_seq != Some(self.board.seq()) && self.save_at.is_none() {
            self.save_at = Some(Instant::now() + SAVE_DELAY);
        }
        self.update_icon(&history);
    }

    fn update_icon(&self, history: &[EntryInfo]) {
        if let Some(icon) = &self.icon {
            let view = View::new(&self.board.name().to_string(), history, self.paused);
            icon.update(move |t| t.view = view);
        }
    }

    /// Handles every queued menu command; true on Quit.
    fn on_commands(&mut self) -> bool {
        let mut buf = [0u8; 64];
        while self.wake.recv(&mut buf).is_ok() {}
        while let Ok(command) = self.commands.try_recv() {
            tracing::debug!(?command, "menu");
            match command {
                Command::Select(seq) => match self.board.select(Selector::Seq(seq)) {
                    Ok(_) => {
                        self.refresh();
                        if self.config.sync.to_system {
                            self.serve_head(Takeover::Now);
                        }
                    }
                    Err(err) => tracing::warn!(%err, "cannot select that entry"),
                },
                Command::OpenWindow => open_window(self.board.name()),
                Command::TogglePause => {
                    self.paused = !self.paused;
                    if let Desktop::Wayland(wayland) = &self.desktop {
                        wayland.set_paused(self.paused);
                    }
                    tracing::info!(
                        paused = self.paused,
                        "syncing {}",
                        if self.paused { "paused" } else { "resumed" }
                    );
                    self.refresh();
                }
                Command::ClearHistory => match self.board.clear(false) {
                    Ok(n) => {
                        tracing::info!(removed = n, "history cleared");
                        self.refresh();
                    }
                    Err(err) => tracing::warn!(%err, "cannot clear the history"),
                },
                Command::ShowPicker => super::shortcut::summon_picker(self.board.name()),
                Command::Quit => return true,
            }
        }
        false
    }
}

/// Starts a window on the same board, and reaps it when it exits.
fn open_window(board: &shm_clip::BoardName) {
    let exe = std::env::current_exe().unwrap_or_else(|_| "shm-clip-app".into());
    match std::process::Command::new(exe)
        .arg("--board")
        .arg(board.to_string())
        .spawn()
    {
        Ok(mut child) => {
            let reaper = std::thread::Builder::new()
                .name("shm-clip-window-reaper".into())
                .spawn(move || {
                    let _ = child.wait();
                });
            if let Err(err) = reaper {
                tracing::warn!(%err, "cannot start the reaper thread");
            }
        }
        Err(err) => tracing::warn!(%err, "cannot start shm-clip-app"),
    }
}
