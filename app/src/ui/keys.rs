//! Ctrl+X, Ctrl+C and Ctrl+V, taken from egui's input before any widget sees
//! them, so that they act on the board and never on the system clipboard.
//!
//! The window runs eframe with `clipboard_shortcuts: false`, so the keys
//! arrive as plain key events: eframe does not read the system clipboard on
//! Ctrl+V (it would send nothing at all when that clipboard is empty). The
//! clipboard events egui may still produce (the dedicated Copy/Cut/Paste keys,
//! or a test harness) are handled the same way; `Paste(text)` carries the
//! system clipboard's text, which is ignored in favour of the board. Middle-
//! click pastes of the PRIMARY selection are dropped for the same reason.
//!
//! Order matters when keys come fast (`ctrl+v ctrl+a ctrl+x` in one frame):
//! a clipboard action uses the editor's selection before the frame's other
//! keys change it. So each frame handles the clipboard actions at the front of
//! the queue, passes on the keys up to the next clipboard action, and defers
//! the rest of the keys to the next frame.

use eframe::egui::{self, Event, Id, Key};

/// A clipboard action on the board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Cut,
    Copy,
    Paste,
}

fn action(event: &Event) -> Option<Action> {
    match event {
        Event::Cut => Some(Action::Cut),
        Event::Copy => Some(Action::Copy),
        Event::Paste(_) => Some(Action::Paste),
        Event::Key {
            key,
            pressed: true,
            modifiers,
            ..
        } => match key {
            Key::Cut => Some(Action::Cut),
            Key::Copy => Some(Action::Copy),
            Key::Paste => Some(Action::Paste),
            Key::X if modifiers.command_only() => Some(Action::Cut),
            Key::C if modifiers.command_only() => Some(Action::Copy),
            Key::V if modifiers.command_only() => Some(Action::Paste),
            _ => None,
        },
        _ => None,
    }
}

/// Events that may wait a frame: keyboard input. Pointer events stay, since
/// egui has already taken the pointer's state from them.
fn deferrable(event: &Event) -> bool {
    matches!(
        event,
        Event::Key { .. }
            | Event::Text(_)
            | Event::Copy
            | Event::Cut
            | Event::Paste(_)
            | Event::Ime(_)
    )
}

#[derive(Clone, Default)]
struct Deferred(Vec<Event>);

fn deferred_id() -> Id {
    Id::unique("shm-clip-deferred-keys")
}

/// Takes this frame's clipboard actions out of the input, in order.
pub fn take_actions(ctx: &egui::Context) -> Vec<Action> {
    let earlier = ctx
        .data_mut(|d| d.remove_temp::<Deferred>(deferred_id()))
        .unwrap_or_default();
    let (actions, later) = ctx.input_mut(|input| {
        let mut events = earlier.0;
        events.append(&mut input.events);
        events.retain(|e| !matches!(e, Event::MiddleClickPaste { .. }));
        let (actions, now, later) = split(events);
        input.events = now;
        (actions, later)
    });
    if !later.is_empty() {
        ctx.data_mut(|d| d.insert_temp(deferred_id(), Deferred(later)));
        ctx.request_repaint();
    }
    actions
}

/// Splits `events` into the leading clipboard actions, the events for this
/// frame, and the keyboard events for the next one.
fn split(events: Vec<Event>) -> (Vec<Action>, Vec<Event>, Vec<Event>) {
    let mut actions = Vec::new();
    let mut now = Vec::new();
    let mut later = Vec::new();
    let mut deferring = false;
    for event in events {
        match action(&event) {
            Some(a) if !deferring && now.iter().all(|e| !deferrable(e)) => actions.push(a),
            Some(_) => {
                deferring = true;
                later.push(event);
            }
            None if deferring && deferrable(&event) => later.push(event),
            None => now.push(event),
        }
    }
    (actions, now, later)
}

#[cfg(test)]
mod tests {
    use eframe::egui::Modifiers;

    use super::*;

    fn key(key: Key, modifiers: Modifiers) -> Event {
        Event::Key {
            key,
            physical_key: None,
            pressed: true,
            repeat: false,
            modifiers,
        }
    }

    #[test]
    fn clipboard_keys_become_actions_and_system_text_is_ignored() {
        let (actions, now, later) = split(vec![
            key(Key::V, Modifiers::COMMAND),
            Event::Paste("from the system clipboard".into()),
            Event::Copy,
        ]);
        assert_eq!(actions, [Action::Paste, Action::Paste, Action::Copy]);
        assert!(now.is_empty() && later.is_empty());
        // Ctrl+Shift+V and plain V are not ours.
        let (actions, now, _) = split(vec![
            key(Key::V, Modifiers::COMMAND | Modifiers::SHIFT),
            key(Key::V, Modifiers::NONE),
        ]);
        assert!(actions.is_empty());
        assert_eq!(now.len(), 2);
    }

    #[test]
    fn keys_after_an_action_wait_their_turn() {
        // ctrl+v ctrl+a ctrl+x: paste now, select all now, cut next frame.
        let select_all = key(Key::A, Modifiers::COMMAND);
        let (actions, now, later) = split(vec![
            key(Key::V, Modifiers::COMMAND),
            select_all.clone(),
            Event::PointerGone,
            key(Key::X, Modifiers::COMMAND),
            Event::Text("z".into()),
        ]);
        assert_eq!(actions, [Action::Paste]);
        assert_eq!(now, [select_all, Event::PointerGone]);
        assert_eq!(later.len(), 2);
        let (actions, now, later) = split(later);
        assert_eq!(actions, [Action::Cut]);
        assert_eq!(now, [Event::Text("z".into())]);
        assert!(later.is_empty());
    }
}
