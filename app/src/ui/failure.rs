//! Shown instead of the editor and history when the board cannot be opened
//! (what went wrong, how to fix it, and Retry), or when it was destroyed
//! (and a button for a fresh one). The window stays up.

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

/// The board was destroyed while open: its clips are gone, and a fresh,
/// empty board of the same name is one click away.
pub fn destroyed(ui: &mut egui::Ui, board: &str, commands: &mut Vec<Command>) {
    ui.add_space(24.0);
    ui.vertical_centered(|ui| {
        ui.label(
            RichText::new("\u{1f5d1}")
                .size(40.0)
                .color(ui.visuals().warn_fg_color),
        );
        ui.heading(format!("Board \u{201c}{board}\u{201d}: board destroyed"));
        ui.add_space(8.0);
        ui.label(
            "Someone ran shm-clip destroy (or removed its segment). Every clip it held is gone, \
             and this window no longer shows any of them.",
        );
        ui.add_space(12.0);
        if ui
            .button("Open a fresh board")
            .on_hover_text(format!(
                "Create an empty board \u{201c}{board}\u{201d} and use it"
            ))
            .clicked()
        {
            commands.push(Command::Refresh);
        }
    });
}
