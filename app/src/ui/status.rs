//! The bottom bar: the last operation's outcome, then the board's vital
//! signs: live or not, seq, subscribers, the last change, lock recoveries, and
//! whether a tray bridges the board to the system clipboard.

use eframe::egui::{self, RichText};

use super::{age_label, named, palette};
use crate::state::{Notice, Phase, State, origin, plural};
use crate::worker::{Command, Spawn};

pub fn status_bar(ui: &mut egui::Ui, state: &mut State, commands: &mut Vec<Command>) {
    ui.add_space(3.0);
    // The message line is always there, one line high, so that a message
    // coming or going never resizes the panels above (and never moves the
    // history under the pointer).
    let height = ui.spacing().interact_size.y;
    ui.allocate_ui_with_layout(
        egui::vec2(ui.available_width(), height),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_min_size(egui::vec2(ui.available_width(), height));
            if state.history.undo.is_some()
                && named(ui.small_button("Undo"), "Undo delete")
                    .on_hover_text(
                        "Copy the deleted entry back to the board, from this window's memory",
                    )
                    .clicked()
            {
                commands.extend(state.undo());
            }
            match &state.notice {
                Some(Notice::Info(message)) => {
                    ui.add(egui::Label::new(message.as_str()).truncate());
                }
                Some(Notice::Error(problem)) => {
                    let text = match &problem.hint {
                        Some(hint) => format!("\u{26a0} {}  Hint: {hint}", problem.message),
                        None => format!("\u{26a0} {}", problem.message),
                    };
                    ui.add(
                        egui::Label::new(RichText::new(&text).color(ui.visuals().error_fg_color))
                            .truncate(),
                    )
                    .on_hover_text(text);
                }
                None => {}
            }
        },
    );
    ui.separator();
    ui.horizontal_wrapped(|ui| {
        live(ui, state, commands);
        let Some(snapshot) = &state.snapshot else {
            return;
        };
        let status = &snapshot.status;
        sep(ui);
        ui.label(format!("seq {}", status.seq))
            .on_hover_text("The board's commit sequence number: it grows by one with every change");
        sep(ui);
        let subscribers = status.subscribers.len();
        ui.label(plural(subscribers, "subscriber")).on_hover_text(
            "Processes with a mailbox on this board right now: windows, trays, `shm-clip watch`",
        );
        if let Some(bridge) = &snapshot.bridge {
            sep(ui);
            ui.label(bridge.summary()).on_hover_text(
                "shm-clip-bridge shares this board with other machines; the inspector has the details",
            );
        }
        if let Some(change) = &status.last_change {
            sep(ui);
            let who = origin(&change.origin, state.own_pid);
            ui.label(format!("last change: {who}, {}", age_label(ui, change.at)));
        }
        if status.lock.recoveries > 0 {
            sep(ui);
            ui.label(
                RichText::new(format!(
                    "\u{26a0} lock recovered {}\u{d7} from a dead owner",
                    status.lock.recoveries
                ))
                .color(palette::warn(ui.visuals()))
                .strong(),
            )
            .on_hover_text(
                "A process died while it held the board's lock. The next one repaired the board \
                 and discarded any half-written entry. See the Inspector for the counters.",
            );
        }
        sep(ui);
        tray(ui, state, commands);
    });
    ui.add_space(3.0);
}

fn sep(ui: &mut egui::Ui) {
    ui.label(RichText::new("\u{b7}").weak());
}

fn live(ui: &mut egui::Ui, state: &State, commands: &mut Vec<Command>) {
    let visuals = ui.visuals().clone();
    match &state.phase {
        Phase::Open { mailbox: None } => {
            ui.label(RichText::new("\u{23fa} live").color(palette::good(&visuals)))
                .on_hover_text("A mailbox brings every change by another process at once");
        }
        Phase::Open {
            mailbox: Some(problem),
        } => {
            ui.label(RichText::new("\u{25cb} live updates off").color(palette::warn(&visuals)))
                .on_hover_text(format!(
                    "No mailbox: {}{}\nOther processes' changes show when you press Refresh.",
                    problem.message,
                    problem
                        .hint
                        .as_deref()
                        .map(|h| format!("\nHint: {h}"))
                        .unwrap_or_default()
                ));
            if named(ui.small_button("\u{27f3} Refresh"), "Refresh")
                .on_hover_text("Read the board again")
                .clicked()
            {
                commands.push(Command::Refresh);
            }
        }
        Phase::Opening => {
            ui.label(RichText::new("opening\u{2026}").weak());
        }
        Phase::Failed(_) => {
            ui.label(RichText::new("not open").color(visuals.error_fg_color));
        }
        Phase::Destroyed => {
            ui.label(RichText::new("board destroyed").color(visuals.error_fg_color));
        }
    }
}

fn tray(ui: &mut egui::Ui, state: &State, commands: &mut Vec<Command>) {
    if !state.is_open() {
        return;
    }
    if let Some(tray) = state.tray() {
        ui.label(
            RichText::new(format!(
                "\u{1f517} tray {} bridges the system clipboard",
                tray.origin.pid
            ))
            .color(palette::good(ui.visuals())),
        )
        .on_hover_text("A tray process copies between the desktop's clipboard and this board");
        return;
    }
    ui.label(RichText::new("no tray").weak())
        .on_hover_text("No tray process bridges this board with the desktop's clipboard");
    if named(ui.small_button("Start tray"), "Start tray")
        .on_hover_text(
            "Run `shm-clip-app --tray` on this board, to bridge it with the system clipboard",
        )
        .clicked()
    {
        commands.push(Command::Spawn(Spawn::Tray));
    }
}
