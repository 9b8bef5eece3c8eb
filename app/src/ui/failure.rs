//! Shown instead of the editor and history when the board cannot be opened:
//! what went wrong, how to fix it, and Retry. The window stays up.

use eframe::egui::{self, RichText};

use crate::worker::{Command, Problem};

pub fn failure(ui: &mut egui::Ui, board: &str, problem: &Problem, commands: &mut Vec<Command>) {
    ui.add_space(24.0);
    ui.vertical_centered(|ui| {
        ui.label(
            RichText::new("\u{26a0}")
                .size(40.0)
                .color(ui.visuals().error_fg_color),
        );
        ui.heading(format!("Cannot open board \u{201c}{board}\u{201d}"));
    });
    ui.add_space(12.0);
    egui::Frame::group(ui.style())
        .inner_margin(egui::Margin::same(12))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new("What happened").strong());
            ui.label(RichText::new(&problem.message).color(ui.visuals().error_fg_color));
            if let Some(hint) = &problem.hint {
                ui.add_space(8.0);
                ui.label(RichText::new("How to fix it").strong());
                ui.label(hint);
            }
        });
    ui.add_space(12.0);
    ui.horizontal(|ui| {
        if ui
            .button("Retry")
            .on_hover_text("Try to open the board again")
            .clicked()
        {
            commands.push(Command::Refresh);
        }
        ui.label(
            RichText::new(format!(
                "Or choose another board: shm-clip-app --board NAME (this one is \u{201c}{board}\u{201d})"
            ))
            .weak(),
        );
    });
}
