//! The eframe application. [`Window`] ties the [`State`] to the [`Worker`]:
//! each frame it applies the worker's events, draws, and forwards the
//! commands. The tests drive the same `Window` in `egui_kittest`.

use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant, SystemTime};

use eframe::egui;
use shm_clip::BoardName;

use crate::prefs::Prefs;
use crate::state::State;
use crate::worker::{Command, Event, Worker};

/// A window's state and its worker.
#[derive(Debug)]
pub struct Window {
    pub state: State,
    events: Receiver<Event>,
    pub(crate) worker: Worker,
    /// When the user last made us re-read the board by looking at it.
    looked: Option<Instant>,
    /// When the inspector last asked for a re-read.
    inspected: Option<Instant>,
    /// The subscribers' pending counts the inspector last showed, as logged.
    shown_pending: Option<String>,
}

/// While the inspector is visible it re-reads the board at least this often:
/// a mailbox's pending count changes when its owner reads it, and that is no
/// commit, so no notification says so.
pub const INSPECTOR_REFRESH: Duration = Duration::from_secs(1);

impl Window {
    /// Starts the worker on `board`; it calls `repaint` after each event.
    pub fn start(
        board: &BoardName,
        repaint: impl Fn() + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let (events_tx, events) = mpsc::channel();
        let worker = Worker::spawn(board.clone(), events_tx, repaint)?;
        Ok(Window {
            state: State::new(board.as_str()),
            events,
            worker,
            looked: None,
            inspected: None,
            shown_pending: None,
        })
    }

    /// Applies pending events. Notifications are stamped with the time the
    /// UI applied them, which the inspector and the benchmark report.
    pub fn pump(&mut self) {
        while let Ok(mut event) = self.events.try_recv() {
            if let Event::Snapshot(snapshot) = &mut event {
                let now = SystemTime::now();
                for note in &mut snapshot.received {
                    note.applied_at = Some(now);
                    tracing::debug!(
                        target: "shm_clip_app::latency",
                        seq = note.seq,
                        receipt_us = note.receipt_latency().map_or(-1, |d| d.as_micros() as i64),
                        applied_us = note.applied_latency().map_or(-1, |d| d.as_micros() as i64),
                        "applied"
                    );
                }
            }
            self.state.apply(event);
        }
    }

    /// One frame: apply events, draw, send the commands.
    pub fn frame(&mut self, ui: &mut egui::Ui) {
        self.pump();
        self.refresh_on_attention(ui.ctx());
        for command in crate::ui::window(ui, &mut self.state) {
            self.worker.send(command);
        }
        self.keep_inspector_live(ui.ctx());
        // The system clipboard and the PRIMARY selection belong to the tray.
        ui.ctx().output_mut(|o| {
            o.commands.retain(|c| {
                !matches!(
                    c,
                    egui::OutputCommand::CopyText(_)
                        | egui::OutputCommand::CopyImage(_)
                        | egui::OutputCommand::TextSelectionSettled(_)
                )
            });
        });
    }

    /// While the inspector is on screen, re-reads the board every
    /// [`INSPECTOR_REFRESH`] (notifications re-read it sooner), and logs the
    /// pending counts it shows whenever they change.
    fn keep_inspector_live(&mut self, ctx: &egui::Context) {
        if self.state.prefs.view != crate::prefs::View::Inspector || !self.state.is_open() {
            self.inspected = None;
            return;
        }
        if let Some(snapshot) = &self.state.snapshot {
            let pending: Vec<String> = snapshot
                .status
                .subscribers
                .iter()
                .map(|s| {
                    let n = s.pending.map_or("?".into(), |n| n.to_string());
                    format!("{}:{n}", s.origin.pid)
                })
                .collect();
            let pending = pending.join(",");
            if self.shown_pending.as_ref() != Some(&pending) {
                tracing::debug!(
                    target: "shm_clip_app::inspector",
                    seq = snapshot.status.seq,
                    pending = %pending,
                    "shown"
                );
                self.shown_pending = Some(pending);
            }
        }
        let now = Instant::now();
        let due = self.inspected.map_or(now, |t| t + INSPECTOR_REFRESH);
        if due <= now {
            self.inspected = Some(now);
            self.worker.send(Command::Refresh);
            ctx.request_repaint_after(INSPECTOR_REFRESH);
        } else {
            ctx.request_repaint_after(due - now);
        }
    }

    /// New subscribers (a window or watcher started elsewhere) commit
    /// nothing, so no mailbox hears of them. When the user comes back to the
    /// window (pointer or focus), re-read the board, at most every 2 s: the
    /// status bar is then fresh whenever someone looks at it, with no timer.
    fn refresh_on_attention(&mut self, ctx: &egui::Context) {
        let looking = ctx.input(|i| {
            i.events.iter().any(|e| {
                matches!(
                    e,
                    egui::Event::WindowFocused(true) | egui::Event::PointerMoved(_)
                )
            })
        });
        if looking
            && self
                .looked
                .is_none_or(|t| t.elapsed() > Duration::from_secs(2))
        {
            self.looked = Some(Instant::now());
            if self.state.is_open() {
                self.worker.send(Command::Refresh);
            }
        }
    }
}

struct ClipApp {
    window: Window,
    /// The theme last handed to egui.
    theme: Option<crate::prefs::Theme>,
}

impl eframe::App for ClipApp {
    /// Runs before every frame, and also while the window is hidden or fully
    /// covered (then eframe skips `ui`): the state stays current either way.
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.window.pump();
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let theme = self.window.state.prefs.theme;
        if self.theme != Some(theme) {
            ui.ctx().set_theme(theme.preference());
            self.theme = Some(theme);
        }
        self.window.frame(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.window.state.prefs);
    }
}

/// The window's icon: the 128 px rendering of `assets/shm-clip.svg`.
fn window_icon() -> std::sync::Arc<egui::IconData> {
    let png = include_bytes!("../../assets/icons/128x128/shm-clip.png");
    // A broken built-in PNG is a build defect; the window still opens without it.
    let icon = eframe::icon_data::from_png_bytes(png).unwrap_or_else(|err| {
        tracing::warn!(%err, "cannot decode the built-in window icon");
        egui::IconData::default()
    });
    std::sync::Arc::new(icon)
}

/// Opens the window on board `board` and runs until it is closed.
pub fn run(board: BoardName) -> eframe::Result {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(format!("shm-clip: {board}"))
            // The desktop file is io.github.shm_clip.shm_clip.desktop: GNOME on
            // Wayland matches a window to its launcher by app id, X11 desktops
            // by WM_CLASS (StartupWMClass). The portal's host registry looks
            // the tray's app id (tray/portal.rs) up by the same file name.
            .with_app_id(crate::tray::portal::APP_ID)
            .with_icon(window_icon())
            .with_inner_size([1040.0, 660.0])
            .with_min_inner_size([640.0, 400.0]),
        renderer: eframe::Renderer::Glow,
        // Ctrl+X/C/V arrive as keys; `ui::keys` turns them into board
        // actions. eframe would otherwise read the system clipboard on Ctrl+V.
        clipboard_shortcuts: false,
        persistence_path: crate::prefs::storage_file(),
        ..Default::default()
    };
    eframe::run_native(
        "shm-clip",
        options,
        Box::new(move |cc| {
            let ctx = cc.egui_ctx.clone();
            let mut window = Window::start(&board, move || ctx.request_repaint())?;
            let ctx = cc.egui_ctx.clone();
            crate::signals::spawn_waiter(
                move || {
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                    ctx.request_repaint();
                },
                window.worker.stopper()?,
            )?;
            window.state.prefs = cc
                .storage
                .and_then(|s| eframe::get_value::<Prefs>(s, eframe::APP_KEY))
                .unwrap_or_default();
            Ok(Box::new(ClipApp {
                window,
                theme: None,
            }))
        }),
    )
}
