//! The document: a multi-line editor whose Cut, Copy and Paste (keys, toolbar
//! and right-click menu) go through the board, and above it the image view
//! when an image clip was pasted.

use eframe::egui::{self, Id, RichText, TextEdit, text::CCursor, text_selection::CCursorRange};

use super::{named, textures};
use crate::state::{State, human_size};
use crate::worker::{Command, Picture};

/// The editor's widget id, fixed so that its cursor can be read and moved.
pub fn editor_id() -> Id {
    Id::unique("shm-clip-document")
}

pub fn editor(ui: &mut egui::Ui, state: &mut State, commands: &mut Vec<Command>) {
    if let Some(picture) = state.image.clone() {
        image_view(ui, state, &picture);
        ui.add_space(6.0);
    }
    let label = ui
        .horizontal(|ui| {
            let label = ui.label(RichText::new("Document").strong());
            ui.add(
                egui::Label::new(
                    RichText::new(format!(
                        "Ctrl+X, C and V use board \u{201c}{}\u{201d}, not the system clipboard",
                        state.board
                    ))
                    .weak(),
                )
                .truncate(),
            );
            label
        })
        .inner;

    let id = editor_id();
    let ctx = ui.ctx().clone();
    if state.editor.moved {
        // An edit made outside the TextEdit (paste, cut): move its cursor.
        let sel = state.editor.selection();
        let mut edit_state = TextEdit::load_state(&ctx, id).unwrap_or_default();
        edit_state.cursor.set_char_range(Some(CCursorRange::two(
            CCursor::new(sel.start),
            CCursor::new(sel.end),
        )));
        TextEdit::store_state(&ctx, id, edit_state);
        state.editor.moved = false;
    }
    let output = egui::ScrollArea::vertical()
        .id_salt("document-scroll")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            TextEdit::multiline(&mut state.editor.text)
                .id(id)
                .font(egui::TextStyle::Monospace)
                .desired_width(f32::INFINITY)
                .min_size(ui.available_size())
                .hint_text("Type here. Cut, Copy and Paste work with the shared board.")
                .show(ui)
        })
        .inner;
    let response = output.response.response.clone().labelled_by(label.id);
    if let Some(range) = output.cursor_range {
        let range = range.as_sorted_char_range();
        state.editor.selection = range.start.0..range.end.0;
    }
    if state.editor.want_focus && state.is_open() {
        response.request_focus();
        state.editor.want_focus = false;
    }
    response.context_menu(|ui| {
        let has_text = !state.editor.text.is_empty();
        let item = |ui: &mut egui::Ui, text: &str, shortcut: &str, enabled: bool| {
            ui.add_enabled(enabled, egui::Button::new(text).shortcut_text(shortcut))
                .clicked()
        };
        if item(ui, "Cut", "Ctrl+X", has_text) {
            commands.extend(state.cut());
        }
        if item(ui, "Copy", "Ctrl+C", has_text) {
            commands.extend(state.copy());
        }
        if item(ui, "Paste", "Ctrl+V", state.is_open()) {
            commands.extend(state.paste());
        }
        ui.separator();
        if item(ui, "Select all", "Ctrl+A", has_text) {
            let len = state.editor.text.chars().count();
            state.editor.selection = 0..len;
            state.editor.moved = true;
        }
    });
}

/// The pasted image, scaled to fit half the height, with its size.
fn image_view(ui: &mut egui::Ui, state: &mut State, picture: &Picture) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Image").strong());
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if named(ui.small_button("\u{1f5d9} Close image"), "Close image").clicked() {
                    state.image = None;
                }
                ui.add(
                    egui::Label::new(format!(
                        "{} \u{d7} {} px \u{b7} PNG, {} \u{b7} seq {}",
                        picture.width,
                        picture.height,
                        human_size(picture.encoded),
                        picture.seq
                    ))
                    .truncate(),
                );
            });
        });
        let texture = textures::texture(ui.ctx(), picture);
        let room = egui::vec2(
            ui.available_width(),
            (ui.available_height() * 0.55).max(120.0),
        );
        let size = fit(
            egui::vec2(picture.width as f32, picture.height as f32),
            room,
        );
        ui.vertical_centered(|ui| {
            ui.add(egui::Image::new((texture.id(), size)).alt_text(format!(
                "Pasted image, {} by {} pixels",
                picture.width, picture.height
            )));
        });
    });
}

/// `size` scaled to fit in `room`, keeping its aspect, never enlarged.
fn fit(size: egui::Vec2, room: egui::Vec2) -> egui::Vec2 {
    let scale = (room.x / size.x).min(room.y / size.y).min(1.0);
    size * scale.max(0.0)
}

#[cfg(test)]
mod tests {
    use eframe::egui::vec2;

    #[test]
    fn images_shrink_to_fit_and_never_grow() {
        assert_eq!(
            super::fit(vec2(400.0, 200.0), vec2(100.0, 100.0)),
            vec2(100.0, 50.0)
        );
        assert_eq!(
            super::fit(vec2(40.0, 20.0), vec2(100.0, 100.0)),
            vec2(40.0, 20.0)
        );
    }
}
