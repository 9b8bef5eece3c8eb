//! Drawing: free functions from state to widgets. They never block and never
//! touch IPC; a click becomes a [`Command`] for the worker.

mod editor;
mod failure;
mod history;
mod status;
mod toolbar;

use eframe::egui;

use crate::state::{Phase, State};
use crate::worker::Command;

/// Draws the whole window and returns the commands its clicks produced.
pub fn window(ui: &mut egui::Ui, state: &mut State) -> Vec<Command> {
    let mut commands = Vec::new();
    egui::Panel::top("toolbar").show(ui, |ui| commands.extend(toolbar::toolbar(ui, state)));
    egui::Panel::bottom("status").show(ui, |ui| status::status_bar(ui, state));
    egui::CentralPanel::default().show(ui, |ui| {
        if let Phase::Failed(problem) = &state.phase {
            commands.extend(failure::failure(ui, &state.board, problem));
        } else {
            commands.extend(editor::editor(ui, state));
            ui.separator();
            history::history(ui, state);
        }
    });
    commands
}

#[cfg(test)]
mod tests {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    use super::*;
    use crate::state::tests::snapshot;
    use crate::worker::{Event, Problem};

    fn harness(state: State) -> Harness<'static, (State, Vec<Command>)> {
        let mut harness = Harness::new_ui_state(
            |ui, (state, commands): &mut (State, Vec<Command>)| commands.extend(window(ui, state)),
            (state, Vec::new()),
        );
        harness.set_size(egui::vec2(800.0, 600.0));
        harness.run();
        harness
    }

    fn open_state() -> State {
        let mut state = State::new("test");
        state.apply(Event::Opened { live: true });
        state.apply(Event::Snapshot(snapshot(9, &["second", "first"])));
        state
    }

    #[test]
    fn typing_then_copy_sends_the_text() {
        let mut harness = harness(open_state());
        harness.get_by_label("Clip text").focus();
        harness.get_by_label("Clip text").type_text("hello board");
        harness.run();
        harness.get_by_label("Copy to board").click();
        harness.run();
        assert_eq!(harness.state().1, vec![Command::Copy("hello board".into())]);
    }

    #[test]
    fn paste_and_refresh_send_commands() {
        let mut harness = harness(open_state());
        harness.get_by_label("Paste from board").click();
        harness.run();
        harness.get_by_label("Refresh").click();
        harness.run();
        assert_eq!(harness.state().1, vec![Command::Paste, Command::Refresh]);
    }

    #[test]
    fn history_and_status_are_shown() {
        let harness = harness(open_state());
        harness.get_by_label("second");
        harness.get_by_label("first");
        harness.get_by_label_contains("seq 9 · 2 entries · 2 subscribers");
    }

    #[test]
    fn copy_is_disabled_with_an_empty_editor() {
        let mut harness = harness(open_state());
        harness.get_by_label("Copy to board").click();
        harness.run();
        assert!(harness.state().1.is_empty());
    }

    #[test]
    fn open_failure_shows_error_hint_and_retry() {
        let mut state = State::new("test");
        state.apply(Event::OpenFailed(Problem {
            message: "refusing segment /dev/shm/x: bad magic".into(),
            hint: Some("remove it".into()),
        }));
        let mut harness = harness(state);
        harness.get_by_label_contains("bad magic");
        harness.get_by_label_contains("remove it");
        harness.get_by_label("Retry").click();
        harness.run();
        assert_eq!(harness.state().1, vec![Command::Refresh]);
    }
}
