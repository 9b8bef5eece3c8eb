//! The bottom bar: seq, entries, subscribers, and the last operation's outcome.

use eframe::egui::{self, RichText};

use crate::state::{Notice, State};

pub fn status_bar(ui: &mut egui::Ui, state: &State) {
    ui.add_space(2.0);
    match &state.notice {
        Some(Notice::Info(message)) => {
            ui.label(message);
        }
        Some(Notice::Error(problem)) => {
            ui.label(RichText::new(&problem.message).color(ui.visuals().error_fg_color));
            if let Some(hint) = &problem.hint {
                ui.label(format!("Hint: {hint}"));
            }
        }
        None => {}
    }
    ui.label(RichText::new(state.status_line()).weak());
    ui.add_space(2.0);
}
