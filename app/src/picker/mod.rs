//! `shm-clip-app --picker`: a popup made for the keyboard. A key brings up
//! the history, a few letters filter it, Enter makes the entry current (and,
//! opt-in, pastes it into the window that had the focus).
//!
//! - [`filter`]: which entries match the query (substring, then fuzzy).
//! - [`state`]: the list, the cursor and what each key does (plain data).
//! - [`view`]: drawing, and taking the keys before any widget sees them.
//! - [`window`]: the state tied to the board's worker thread.
//! - [`mod@summon`]: the resident picker's socket, and summoning it.
//! - [`paste`]: asking the tray to paste, or saying "Copied — press Ctrl+V".
//! - [`x11`]: focus, the monitor under the pointer, `WM_CLASS`.
//!
//! Process model: the first `--picker` becomes the resident picker and
//! stays, hidden between summons (X11: `ViewportCommand::Visible`), so that
//! every later summon costs one frame, not a process start. Later `--picker`
//! runs (and the tray's hotkey) only send it a message. On Wayland a
//! window cannot be hidden, so there the resident picker destroys its
//! window after each use and makes a new one on the same event loop at the
//! next summon, keeping its state ([`open_wayland`]).

mod archive;
mod filter;
mod paste;
pub mod state;
mod summon;
mod view;
pub mod window;
mod x11;

#[cfg(test)]
mod tests;

use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use eframe::egui;
use shm_clip::{BoardName, Config};

pub use summon::{socket_path, summon};
use window::{Leave, PickerWindow};

/// The picker's size in points.
const SIZE: [f32; 2] = [640.0, 430.0];
/// How long a second picker waits for a first one that is still starting.
const STARTING_WITHIN: Duration = Duration::from_secs(10);

/// Summons the resident picker of `board`, or becomes it.
pub fn run(board: &BoardName) -> ExitCode {
    // As the window does: SIGINT/SIGTERM/SIGHUP close it cleanly (and a
    // tray that started it passes its own blocked mask down anyway).
    if let Err(err) = crate::signals::block() {
        tracing::warn!(%err, "cannot block SIGINT/SIGTERM; a signal will skip the clean shutdown");
    }
    if let Ok(pid) = summon::summon(board) {
        tracing::info!(pid, "summoned the resident picker");
        return ExitCode::SUCCESS;
    }
    let config = match Config::load() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("shm-clip-app: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mailbox = match summon::Mailbox::bind(board) {
        Ok(mailbox) => mailbox,
        Err(summon::MailboxError::Taken) => return wait_for_starting(board),
        Err(err) => {
            eprintln!("shm-clip-app: {err}");
            return ExitCode::FAILURE;
        }
    };
    match open(board, &config, mailbox) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("shm-clip-app: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Another picker holds the lock and is starting: summon it once it listens.
fn wait_for_starting(board: &BoardName) -> ExitCode {
    let deadline = Instant::now() + STARTING_WITHIN;
    loop {
        match summon::summon(board) {
            Ok(pid) => {
                tracing::info!(pid, "summoned the picker that was starting");
                return ExitCode::SUCCESS;
            }
            Err(err) if Instant::now() > deadline => {
                eprintln!(
                    "shm-clip-app: another picker holds {} but does not answer: {err}",
                    socket_path(board).display()
                );
                return ExitCode::FAILURE;
            }
            // A bounded retry while the other process starts up; its socket
            // appears within one eframe start.
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// The resident picker's eframe application.
struct Resident {
    window: PickerWindow,
    summons: mpsc::Receiver<()>,
    display: Option<std::sync::Arc<x11::Display>>,
}

impl Resident {
    /// Shows the picker for a summon: centred on the pointer's monitor, on
    /// top, focused, with a fresh query.
    fn show(&mut self, ctx: &egui::Context) {
        let return_to = self.display.as_deref().and_then(x11::Display::focused);
        tracing::debug!(?return_to, "summoned");
        self.window.summon(return_to);
        if let Some(area) = self
            .display
            .as_deref()
            .and_then(x11::Display::pointer_monitor)
        {
            let ppp = ctx.pixels_per_point();
            let size = [(SIZE[0] * ppp) as u32, (SIZE[1] * ppp) as u32];
            let [x, y] = x11::centred(area, size);
            ctx.send_viewport_cmd(egui::ViewportCommand::OuterPosition(egui::pos2(
                x as f32 / ppp,
                y as f32 / ppp,
            )));
        }
        ctx.send_viewport_cmd(egui::ViewportCommand::Visible(true));
        ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
        ctx.request_repaint();
    }
}

impl eframe::App for Resident {
    /// Runs while hidden too: board changes keep the list current, and a
    /// summon shows the window.
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.window.pump();
        let mut summoned = false;
        while self.summons.try_recv().is_ok() {
            summoned = true;
        }
        if summoned {
            self.show(ctx);
        }
        self.window.ask_for_focus(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.window.frame(ui);
    }
}

/// The picker window's options; `position` where the pointer's monitor is known.
fn native_options(board: &BoardName, position: Option<[f32; 2]>) -> eframe::NativeOptions {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title(format!("shm-clip picker: {board}"))
        .with_app_id(x11::CLASS)
        .with_inner_size(SIZE)
        .with_decorations(false)
        .with_resizable(false)
        .with_taskbar(false)
        .with_window_level(egui::WindowLevel::AlwaysOnTop)
        .with_active(true);
    if let Some(position) = position {
        viewport = viewport.with_position(position);
    }
    eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        clipboard_shortcuts: false,
        // Nothing of the picker is worth keeping between runs (and a
        // restored window position would fight the centring).
        persistence_path: None,
        persist_window: false,
        ..Default::default()
    }
}

/// Opens the picker window and serves summons until the process ends.
fn open(board: &BoardName, config: &Config, mailbox: summon::Mailbox) -> eframe::Result {
    let Some(display) = x11::Display::connect().map(std::sync::Arc::new) else {
        return open_wayland(board, config, mailbox);
    };
    let display = Some(display);
    let position = display
        .as_deref()
        .and_then(x11::Display::pointer_monitor)
        .map(|area| {
            let [x, y] = x11::centred(area, [SIZE[0] as u32, SIZE[1] as u32]);
            [x as f32, y as f32]
        });
    let options = native_options(board, position);
    let board = board.clone();
    let paste = config.picker.paste;
    let config = config.clone();
    eframe::run_native(
        "shm-clip-picker",
        options,
        Box::new(move |cc| {
            let ctx = cc.egui_ctx.clone();
            let archive = config
                .archive
                .enabled
                .then(|| shm_clip_archive::default_path().ok())
                .flatten();
            let mut window =
                PickerWindow::start(&board, paste, archive, move || ctx.request_repaint())?;
            if let (Some(display), Some(id)) = (&display, x11::window_of(cc)) {
                display.set_class(id);
                let display = std::sync::Arc::clone(display);
                window.take_focus = Some(window::FocusHook(Box::new(move || display.focus(id))));
            }
            window.leave = Leave::Hide;
            let return_to = display.as_deref().and_then(x11::Display::focused);
            window.summon(return_to);
            let ctx = cc.egui_ctx.clone();
            crate::signals::spawn_waiter(
                move || {
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                    ctx.request_repaint();
                },
                window.stopper()?,
            )?;
            let (tx, summons) = mpsc::channel();
            let ctx = cc.egui_ctx.clone();
            mailbox.serve(move || {
                let _ = tx.send(());
                ctx.request_repaint();
            })?;
            tracing::info!(pid = std::process::id(), %board, resident = true, "picker running");
            Ok(Box::new(Resident {
                window,
                summons,
                display,
            }))
        }),
    )
}

/// What wakes the Wayland picker while it has no window.
enum Wake {
    /// A later `--picker` (or the tray's hotkey) summoned it.
    Summon,
    /// The worker or the archive searcher has events.
    Events,
    /// SIGINT/SIGTERM/SIGHUP: close and end.
    Quit,
}

/// Wayland: a window cannot be hidden there, so the resident picker
/// destroys its window after each use and makes a new one on the same
/// event loop at the next summon. `run_native_ext` returns when the window
/// closes (eframe's `run_and_return` keeps its winit event loop in a thread
/// local and reuses it), and gets the same `egui::Context` every time, so
/// fonts, the glyph atlas and widget memory stay; the board's worker, its
/// mailbox, the list and the archive searcher live on in `window` between
/// windows. A summon costs a new window and GL surface, not a process.
fn open_wayland(board: &BoardName, config: &Config, mailbox: summon::Mailbox) -> eframe::Result {
    let app_error = |e: std::io::Error| eframe::Error::AppCreation(Box::new(e));
    let ctx = egui::Context::default();
    let (wake_tx, wake) = mpsc::channel();
    let archive = config
        .archive
        .enabled
        .then(|| shm_clip_archive::default_path().ok())
        .flatten();
    let (repaint, events) = (ctx.clone(), wake_tx.clone());
    let mut window = PickerWindow::start(board, config.picker.paste, archive, move || {
        repaint.request_repaint();
        let _ = events.send(Wake::Events);
    })
    .map_err(app_error)?;
    window.leave = Leave::Close;
    let quit = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (closer, quitting, quit_tx) = (ctx.clone(), std::sync::Arc::clone(&quit), wake_tx.clone());
    crate::signals::spawn_waiter(
        move || {
            quitting.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = quit_tx.send(Wake::Quit);
            closer.send_viewport_cmd(egui::ViewportCommand::Close);
            closer.request_repaint();
        },
        window.stopper().map_err(app_error)?,
    )
    .map_err(app_error)?;
    let summoner = ctx.clone();
    mailbox
        .serve(move || {
            let _ = wake_tx.send(Wake::Summon);
            summoner.request_repaint();
        })
        .map_err(app_error)?;
    tracing::info!(pid = std::process::id(), %board, resident = true, "picker running");
    window.summon(None);
    loop {
        eframe::run_native_ext(
            "shm-clip-picker",
            native_options(board, None),
            Some(ctx.clone()),
            Box::new(|_cc| {
                Ok(Box::new(Shown {
                    window: &mut window,
                    wake: &wake,
                }))
            }),
        )?;
        if quit.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        tracing::info!("picker window closed; resident until the next summon");
        // Between windows the board's events still apply: an auto-paste
        // waits for the pick to be current.
        loop {
            match wake.recv() {
                Ok(Wake::Summon) => break,
                Ok(Wake::Events) => window.pump(),
                Ok(Wake::Quit) | Err(_) => return Ok(()),
            }
        }
        window.summon(None);
        tracing::info!("summoned: a new picker window");
    }
}

/// The Wayland picker's eframe application while its window is open.
struct Shown<'a> {
    window: &'a mut PickerWindow,
    wake: &'a mpsc::Receiver<Wake>,
}

impl eframe::App for Shown<'_> {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.window.pump();
        while let Ok(wake) = self.wake.try_recv() {
            match wake {
                // Summoned while open: start over, and ask for the focus.
                Wake::Summon => {
                    self.window.summon(None);
                    ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
                }
                Wake::Events => {}
                Wake::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
            }
        }
        self.window.ask_for_focus(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.window.frame(ui);
    }
}
