//! The text editor and the two buttons that move text to and from the board.

use eframe::egui::{self, Button, TextEdit};

use crate::state::State;
use crate::worker::Command;

pub fn editor(ui: &mut egui::Ui, state: &mut State) -> Option<Command> {
    let mut command = None;
    let label = ui.label("Clip text");
    ui.add(
        TextEdit::multiline(&mut state.editor)
            .desired_rows(8)
            .desired_width(f32::INFINITY)
            .hint_text("Type text here, then copy it to the board"),
    )
    .labelled_by(label.id);
    ui.horizontal(|ui| {
        let open = state.is_open();
        let copy = ui
            .add_enabled(
                open && !state.editor.is_empty(),
                Button::new("Copy to board"),
            )
            .on_hover_text("Make this text the board's current clip");
        if copy.clicked() {
            command = Some(Command::Copy(state.editor.clone()));
        }
        let paste = ui
            .add_enabled(open, Button::new("Paste from board"))
            .on_hover_text("Replace this text with the board's current clip");
        if paste.clicked() {
            command = Some(Command::Paste);
        }
    });
    command
}
