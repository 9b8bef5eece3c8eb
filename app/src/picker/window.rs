//! The picker's window logic: the [`Picker`] state tied to a [`Worker`]
//! (the same worker thread the main window uses, so the board's IPC never
//! runs on the UI thread). Each frame applies the worker's events, draws,
//! and turns the chosen keys into board commands. The kittest tests drive
//! this same type without a display.

use std::sync::mpsc::{self, Receiver};
use std::time::Instant;

use eframe::egui;
use shm_clip::BoardName;

use super::state::{Action, Picker};
use super::view;
use crate::worker::{Command, Event, Worker};

/// How many frames after a show the picker asks for the focus, at most.
const FOCUS_ASKS: u32 = 120;

/// How the picker goes away after a choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leave {
    /// X11: hide, and stay resident for the next summon.
    Hide,
    /// Wayland: a window cannot be hidden there, so the process ends.
    Close,
}

/// The picker's state and its worker.
#[derive(Debug)]
pub struct PickerWindow {
    pub picker: Picker,
    events: Receiver<Event>,
    worker: Worker,
    board: BoardName,
    /// Whether the window is on screen (as far as we asked for).
    pub visible: bool,
    pub leave: Leave,
    /// The window that had the focus before the picker showed: auto-paste
    /// goes back there.
    pub return_to: Option<u32>,
    /// An entry chosen for auto-paste, pasted once the board has made it current.
    paste_after: Option<u64>,
    /// An archived clip chosen for auto-paste: pasted once it is back.
    paste_restored: bool,
    /// The picker has had the focus since it showed (focus loss closes it only then).
    had_focus: bool,
    /// Frames since the show in which the focus was asked for and not yet had.
    focus_asks: u32,
    /// When the last summon arrived, until the first frame with entries is painted.
    pub summoned: Option<Instant>,
    /// Requests sent to the tray, for the tests: the number of auto-pastes asked for.
    pub pastes_asked: usize,
    /// The archive's searcher, and what it found; `None` without an archive.
    archive: Option<(super::archive::Searcher, Receiver<super::archive::Found>)>,
    /// The query the archive was last asked about.
    searched: String,
    /// Takes the keyboard focus directly (X11 `SetInputFocus`): winit only
    /// asks the window manager, and without one nobody would give it.
    pub take_focus: Option<FocusHook>,
}

/// A way to take the keyboard focus, beside asking the window manager.
pub struct FocusHook(pub Box<dyn Fn()>);

impl std::fmt::Debug for FocusHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FocusHook")
    }
}

impl PickerWindow {
    /// Starts the worker on `board`; it calls `repaint` after each event.
    /// With `archive`, the archive at that path is searched too.
    pub fn start(
        board: &BoardName,
        paste_by_default: bool,
        archive: Option<std::path::PathBuf>,
        repaint: impl Fn() + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let (events_tx, events) = mpsc::channel();
        let repaint = std::sync::Arc::new(repaint);
        let again = std::sync::Arc::clone(&repaint);
        let archive = match archive {
            Some(path) => Some(super::archive::Searcher::start(
                path,
                board.clone(),
                move || {
                    again();
                },
            )?),
            None => None,
        };
        let worker = Worker::spawn(board.clone(), events_tx, move || repaint())?;
        Ok(PickerWindow {
            picker: Picker::new(paste_by_default),
            events,
            worker,
            board: board.clone(),
            visible: true,
            leave: Leave::Hide,
            return_to: None,
            paste_after: None,
            paste_restored: false,
            had_focus: false,
            focus_asks: 0,
            summoned: Some(Instant::now()),
            pastes_asked: 0,
            archive,
            searched: String::new(),
            take_focus: None,
        })
    }

    /// A handle that stops the worker from the signal thread.
    pub fn stopper(&self) -> std::io::Result<crate::worker::Stopper> {
        self.worker.stopper()
    }

    /// Applies the worker's events; sends a pending auto-paste once the
    /// board's current entry is the chosen one.
    pub fn pump(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            match event {
                Event::Snapshot(snapshot) => {
                    let head = snapshot.entries.first().map(|e| e.seq);
                    self.picker.set_entries(snapshot.entries);
                    if let Some(seq) = self.paste_after.filter(|s| Some(*s) == head) {
                        self.paste_after = None;
                        self.ask_paste(seq);
                    }
                }
                Event::Thumbnail(picture) => {
                    self.picker.thumbnails.insert(picture.seq, picture);
                }
                Event::Failed { problem, .. } | Event::OpenFailed(problem) => {
                    self.picker.notice = Some(match problem.hint {
                        Some(hint) => format!("{} ({hint})", problem.message),
                        None => problem.message,
                    });
                }
                _ => {}
            }
        }
        let mut restored = Vec::new();
        if let Some((_, found)) = &self.archive {
            while let Ok(found) = found.try_recv() {
                match found {
                    super::archive::Found::Hits { query, hits } => {
                        self.picker.set_archive_hits(&query, hits);
                    }
                    super::archive::Found::Restored(result) => restored.push(result),
                }
            }
        }
        for result in restored {
            match result {
                Ok(seq) => {
                    // Written by this process: its own mailbox hears nothing.
                    self.worker.send(Command::Refresh);
                    if std::mem::take(&mut self.paste_restored) {
                        self.paste_after = Some(seq);
                    }
                }
                Err(why) => {
                    self.paste_restored = false;
                    tracing::warn!(%why, "cannot bring the clip back from the archive");
                }
            }
        }
    }

    /// Prepares a fresh summon: empty query, cursor on the current clip.
    pub fn summon(&mut self, return_to: Option<u32>) {
        self.picker.reset();
        self.return_to = return_to;
        self.visible = true;
        self.had_focus = false;
        self.focus_asks = 0;
        self.summoned = Some(Instant::now());
    }

    /// While shown and not yet focused, takes the focus (again): a request
    /// made before the window is mapped is lost, and without a window
    /// manager nobody else gives it. Runs in every pass, also those eframe
    /// makes without drawing while the window is still being mapped.
    pub fn ask_for_focus(&mut self, ctx: &egui::Context) {
        if !self.visible || self.had_focus || self.focus_asks >= FOCUS_ASKS {
            return;
        }
        self.focus_asks += 1;
        tracing::debug!(
            asks = self.focus_asks,
            visible = ?ctx.input(|i| i.viewport().visible()),
            "asking for the focus"
        );
        if let Some(hook) = &self.take_focus {
            (hook.0)();
        }
        ctx.request_repaint_after(std::time::Duration::from_millis(15));
    }

    /// One frame: apply events, take keys, draw, act.
    pub fn frame(&mut self, ui: &mut egui::Ui) {
        self.pump();
        let ctx = ui.ctx().clone();
        if !self.visible {
            return;
        }
        // Only focus events count, in their order: the viewport's focus
        // flag can still say "focused" from before the last hide, and the
        // hide's focus-out can arrive after the next summon.
        let last_focus = ctx.input(|i| {
            i.events.iter().rev().find_map(|e| match e {
                egui::Event::WindowFocused(f) => Some(*f),
                _ => None,
            })
        });
        match last_focus {
            Some(true) => self.had_focus = true,
            Some(false) if self.had_focus => {
                tracing::debug!("the picker lost the focus; closing");
                self.go(&ctx);
                return;
            }
            _ => {}
        }
        if self.had_focus {
            // Before the search field is drawn, so that it takes this very
            // frame's text: the first keystroke after the focus came is
            // never lost.
            ctx.memory_mut(|m| m.request_focus(view::search_id()));
        }
        // Keys are taken before the search field can see them, and applied
        // after it took this frame's text: "alph" then Enter in one frame
        // chooses among the entries that match "alph".
        let keys = view::take_keys(&ctx);
        let page = view::rows_per_page(ui.available_height() - 90.0, ui.spacing().item_spacing.y);
        egui::Frame::new().inner_margin(10.0).show(ui, |ui| {
            if view::picker(ui, &mut self.picker, self.had_focus) {
                self.picker.refilter();
            }
        });
        if let Some(summoned) = self.summoned
            && !self.picker.entries().is_empty()
        {
            self.summoned = None;
            tracing::debug!(
                target: "shm_clip_app::picker",
                micros = summoned.elapsed().as_micros() as u64,
                painted_unix_us = unix_micros(),
                "painted"
            );
        }
        if !keys.is_empty() {
            ctx.request_repaint(); // the cursor moved
        }
        if let Some((searcher, _)) = &self.archive
            && self.searched != self.picker.query
        {
            self.searched.clone_from(&self.picker.query);
            if !self.searched.trim().is_empty() {
                searcher.search(&self.searched);
            }
        }
        for key in keys {
            if let Some(action) = self.picker.input(key, page) {
                self.act(&ctx, action);
                if !self.visible {
                    break;
                }
            }
        }
    }

    fn act(&mut self, ctx: &egui::Context, action: Action) {
        match action {
            Action::Select { seq, paste } => {
                tracing::info!(seq, paste, "picked");
                self.worker.send(Command::Select(seq));
                if paste {
                    self.paste_after = Some(seq);
                }
                self.go(ctx);
            }
            Action::Restore { id, paste } => {
                tracing::info!(id, paste, "picked from the archive");
                if let Some((searcher, _)) = &self.archive {
                    searcher.restore(id);
                    // The seq is known once the clip is back on the board.
                    self.paste_restored = paste;
                }
                self.go(ctx);
            }
            Action::SetPinned(seq, pinned) => self.worker.send(Command::SetPinned(seq, pinned)),
            Action::Delete(seq) => self.worker.send(Command::Delete(seq)),
            Action::Close => self.go(ctx),
        }
    }

    /// Hides (or closes) the picker.
    fn go(&mut self, ctx: &egui::Context) {
        self.visible = false;
        ctx.memory_mut(|m| m.surrender_focus(view::search_id()));
        ctx.send_viewport_cmd(match self.leave {
            Leave::Hide => egui::ViewportCommand::Visible(false),
            Leave::Close => egui::ViewportCommand::Close,
        });
    }

    /// Asks the tray to paste into the window the picker was summoned over,
    /// on a short-lived thread (it connects and waits for an answer).
    fn ask_paste(&mut self, seq: u64) {
        self.pastes_asked += 1;
        let board = self.board.clone();
        let target = self.return_to;
        let spawned = std::thread::Builder::new()
            .name("shm-clip-picker-paste".into())
            .spawn(move || match super::paste::ask_tray(&board, target) {
                Ok(()) => tracing::info!(seq, "the tray pasted the pick"),
                Err(why) => {
                    tracing::warn!(%why, "auto-paste did not happen");
                    super::paste::notify_copied(&why);
                }
            });
        if let Err(err) = spawned {
            tracing::warn!(%err, "cannot start the paste thread");
        }
    }
}

/// Now, in microseconds since the Unix epoch (the benchmark matches log lines
/// of two processes by it).
pub fn unix_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}
