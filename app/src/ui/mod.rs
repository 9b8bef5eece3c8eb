//! Drawing: free functions from state to widgets. They never block and never
//! touch IPC; a click becomes a [`Command`] for the worker.
//!
//! Layout: the toolbar on top, the status bar at the bottom, the history on
//! the right, and in the middle either the editor (with the image view) or
//! the inspector. Every control has an accessible name, which the tests use.

mod editor;
mod failure;
mod history;
mod inspector;
pub mod keys;
mod status;
pub(crate) mod textures;
mod toolbar;

use std::time::{Duration, Instant, SystemTime};

use eframe::egui::{self, Align2, Color32, Id, RichText};

use crate::prefs::View;
use crate::state::{Phase, State};
use crate::worker::Command;

/// Draws the whole window and returns the commands its input produced.
pub fn window(ui: &mut egui::Ui, state: &mut State) -> Vec<Command> {
    let mut commands = Vec::new();
    let ctx = ui.ctx().clone();
    // Before any widget: Ctrl+X/C/V act on the board, in order.
    let actions = keys::take_actions(&ctx);
    let searching = ctx.memory(|m| m.has_focus(history::search_id()));
    for action in actions {
        if searching {
            continue; // the search field does not take clips
        }
        commands.extend(match action {
            keys::Action::Cut => state.cut(),
            keys::Action::Copy => state.copy(),
            keys::Action::Paste => state.paste(),
        });
    }
    if let Some(due) = state.expire(Instant::now()) {
        ctx.request_repaint_after(due);
    }
    dropped_files(&ctx, state, &mut commands);
    textures::keep_only(
        &ctx,
        state
            .thumbnails
            .values()
            .map(AsRef::as_ref)
            .chain(state.image.as_deref()),
    );

    egui::Panel::top("toolbar").show(ui, |ui| toolbar::toolbar(ui, state, &mut commands));
    egui::Panel::bottom("status").show(ui, |ui| status::status_bar(ui, state, &mut commands));
    if let Phase::Failed(problem) = &state.phase {
        let problem = problem.clone();
        egui::CentralPanel::default().show(ui, |ui| {
            failure::failure(ui, &state.board, &problem, &mut commands);
        });
        return commands;
    }
    if state.phase == Phase::Destroyed {
        egui::CentralPanel::default().show(ui, |ui| {
            failure::destroyed(ui, &state.board, &mut commands);
        });
        return commands;
    }
    egui::Panel::top("tabs").show(ui, |ui| tabs(ui, state));
    if state.prefs.view == View::Inspector {
        // The inspector's tables want the whole width.
        egui::CentralPanel::default().show(ui, |ui| inspector::inspector(ui, state));
        return commands;
    }
    // The split is proportional: the history takes at most 45 % of the width
    // (the rest goes to margins), so a window narrowed after it was wide still
    // leaves the document at least half (a panel keeps its width otherwise).
    let width = ui.available_width();
    let widest = (width * 0.45).max(120.0);
    egui::Panel::right("history")
        .resizable(true)
        .default_size((width * 0.42).clamp(240.0, 460.0).min(widest))
        .size_range(120.0_f32.min(widest)..=widest)
        .show(ui, |ui| history::history(ui, state, &mut commands));
    egui::CentralPanel::default().show(ui, |ui| editor::editor(ui, state, &mut commands));
    commands
}

fn tabs(ui: &mut egui::Ui, state: &mut State) {
    ui.add_space(3.0);
    ui.horizontal(|ui| {
        for (view, text, name) in [
            (View::Editor, "\u{270f} Editor", "Editor"),
            (View::Inspector, "\u{1f50d} Inspector", "Inspector"),
        ] {
            let tab = ui.selectable_label(state.prefs.view == view, RichText::new(text).size(15.0));
            let tab = named(tab, name);
            if tab.clicked() {
                state.prefs.view = view;
            }
        }
    });
    ui.add_space(1.0);
}

/// Files dragged over the window: a hint while they hover, a copy on drop.
fn dropped_files(ctx: &egui::Context, state: &State, commands: &mut Vec<Command>) {
    let (hovering, dropped) = ctx.input(|i| {
        (
            !i.raw.hovered_files.is_empty(),
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_owned())
                .collect::<Vec<_>>(),
        )
    });
    if !dropped.is_empty() && state.is_open() {
        commands.push(Command::CopyFiles(dropped));
    }
    if hovering {
        let painter = ctx.layer_painter(egui::LayerId::new(
            egui::Order::Foreground,
            Id::unique("drop"),
        ));
        let rect = ctx.content_rect();
        painter.rect_filled(rect, 0.0, Color32::from_black_alpha(170));
        painter.text(
            rect.center(),
            Align2::CENTER_CENTER,
            "Drop to copy to the board",
            egui::FontId::proportional(26.0),
            Color32::WHITE,
        );
    }
}

/// Gives `response` the accessible name `name` (for icon buttons, and for
/// widgets whose visible text is not a good name).
pub fn named(response: egui::Response, name: &str) -> egui::Response {
    response
        .ctx
        .accesskit_node_builder(response.id, |node| node.set_label(name));
    response
}

/// Asks for a repaint when the soonest age label shown this frame changes
/// (at most once a minute). Ages are computed when drawing, so an idle window
/// wakes only for that.
pub fn age_label(ui: &egui::Ui, then: SystemTime) -> String {
    let (label, valid_for) = crate::state::age(then, SystemTime::now());
    ui.ctx()
        .request_repaint_after(valid_for.max(Duration::from_millis(50)));
    label
}

/// Colours that read well in both themes.
pub mod palette {
    use eframe::egui::{Color32, Visuals};

    pub fn good(v: &Visuals) -> Color32 {
        if v.dark_mode {
            Color32::from_rgb(110, 200, 120)
        } else {
            Color32::from_rgb(30, 130, 50)
        }
    }

    pub fn warn(v: &Visuals) -> Color32 {
        v.warn_fg_color
    }

    pub fn accent(v: &Visuals) -> Color32 {
        if v.dark_mode {
            Color32::from_rgb(110, 170, 255)
        } else {
            Color32::from_rgb(20, 100, 200)
        }
    }
}

#[cfg(test)]
mod tests;
