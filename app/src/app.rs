//! The eframe application: it owns the [`State`] and the [`Worker`] handle,
//! applies the worker's events and forwards the UI's commands.

use std::sync::mpsc::{self, Receiver};

use eframe::egui;
use shm_clip::BoardName;

use crate::state::State;
use crate::worker::{Event, Worker};

struct ClipApp {
    state: State,
    events: Receiver<Event>,
    worker: Worker,
}

impl eframe::App for ClipApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        while let Ok(event) = self.events.try_recv() {
            self.state.apply(event);
        }
        for command in crate::ui::window(ui, &mut self.state) {
            self.worker.send(command);
        }
    }
}

/// Opens the window on board `board` and runs until it is closed.
pub fn run(board: BoardName) -> eframe::Result {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(format!("shm-clip: {board}"))
            .with_app_id("shm-clip-app")
            .with_inner_size([760.0, 560.0])
            .with_min_inner_size([420.0, 320.0]),
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    eframe::run_native(
        "shm-clip",
        options,
        Box::new(move |cc| {
            let (events_tx, events) = mpsc::channel();
            let ctx = cc.egui_ctx.clone();
            crate::signals::spawn_waiter(move || {
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                ctx.request_repaint();
            })?;
            let ctx = cc.egui_ctx.clone();
            let worker = Worker::spawn(board.clone(), events_tx, move || ctx.request_repaint())?;
            Ok(Box::new(ClipApp {
                state: State::new(board.as_str()),
                events,
                worker,
            }))
        }),
    )
}
