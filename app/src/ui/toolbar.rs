//! The top bar: Cut, Copy, Paste and New window on the left; the board's
//! name and the theme on the right.

use eframe::egui::{self, Align, Button, Layout, RichText};

use super::named;
use crate::prefs::Theme;
use crate::state::State;
use crate::worker::{Command, Spawn};

pub fn toolbar(ui: &mut egui::Ui, state: &mut State, commands: &mut Vec<Command>) {
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        let open = state.is_open();
        let tool = |ui: &mut egui::Ui, icon: &str, name: &str, hover: &str| {
            let button = Button::new(RichText::new(format!("{icon} {name}")).size(15.0));
            named(ui.add_enabled(open, button), name).on_hover_text(hover)
        };
        if tool(ui, "\u{2702}", "Cut", "Move the selection (or all the text) to the board  (Ctrl+X)").clicked() {
            commands.extend(state.cut());
        }
        if tool(ui, "\u{1f5d0}", "Copy", "Copy the selection (or all the text) to the board  (Ctrl+C)").clicked() {
            commands.extend(state.copy());
        }
        if tool(ui, "\u{1f4cb}", "Paste", "Insert the board's current clip at the cursor  (Ctrl+V)").clicked() {
            commands.extend(state.paste());
        }
        ui.separator();
        let new_window = Button::new(RichText::new("\u{1f5d7} New window").size(15.0));
        if named(ui.add(new_window), "New window")
            .on_hover_text("Open another window on this board, as its own process")
            .clicked()
        {
            commands.push(Command::Spawn(Spawn::Window));
        }
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            let theme = ui
                .menu_button(RichText::new("Theme \u{23f7}").size(15.0), |ui| {
                    for theme in Theme::ALL {
                        ui.radio_value(&mut state.prefs.theme, theme, theme.label());
                    }
                })
                .response;
            named(theme, "Theme").on_hover_text(format!("Theme: {}", state.prefs.theme.label()));
            ui.separator();
            ui.add(
                egui::Label::new(RichText::new(&state.board).strong().monospace().size(15.0))
                    .truncate(),
            )
            .on_hover_text(format!(
                "Board \u{201c}{}\u{201d}: every window, tray and `shm-clip` command on it shares this clipboard",
                state.board
            ));
            ui.label(RichText::new("Board").weak());
        });
    });
    ui.add_space(2.0);
}
