//! Shown instead of the editor when the board cannot be opened.

use eframe::egui::{self, RichText};

use crate::worker::{Command, Problem};

pub fn failure(ui: &mut egui::Ui, board: &str, problem: &Problem) -> Option<Command> {
    ui.heading(format!("Cannot open board \u{201c}{board}\u{201d}"));
    ui.add_space(8.0);
    ui.label(RichText::new(&problem.message).color(ui.visuals().error_fg_color));
    if let Some(hint) = &problem.hint {
        ui.add_space(4.0);
        ui.label(format!("Hint: {hint}"));
    }
    ui.add_space(8.0);
    ui.button("Retry")
        .on_hover_text("Try to open the board again")
        .clicked()
        .then_some(Command::Refresh)
}
