//! The top bar: which board this is, whether it is live, and Refresh.

use eframe::egui::{self, Align, Layout, RichText};

use crate::state::{Phase, State};
use crate::worker::Command;

pub fn toolbar(ui: &mut egui::Ui, state: &State) -> Option<Command> {
    let mut command = None;
    ui.horizontal(|ui| {
        ui.label("Board");
        ui.label(RichText::new(&state.board).strong().monospace());
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            if ui
                .button("Refresh")
                .on_hover_text("Read the board again")
                .clicked()
            {
                command = Some(Command::Refresh);
            }
            let (text, hover) = match state.phase {
                Phase::Open { live: true } => ("live", "Other processes' copies show up at once"),
                Phase::Open { live: false } => (
                    "not live",
                    "No mailbox: press Refresh to see others' copies",
                ),
                Phase::Opening => ("opening…", "Opening the board"),
                Phase::Failed(_) => ("not open", "The board could not be opened"),
            };
            ui.label(RichText::new(text).weak()).on_hover_text(hover);
        });
    });
    command
}
