//! The inspector: a live view of what makes the board work. The segment in
//! /dev/shm, the arena's use, the robust mutex's counters, the mailboxes of
//! every subscriber, and the notifications this window received with their
//! latency. Everything here comes from the snapshot; nothing polls.

use eframe::egui::{self, Color32, RichText, Stroke};
use shm_clip::{OriginKind, Status};

use super::palette;
use crate::state::{State, human_size, latency, origin, plural};

pub fn inspector(ui: &mut egui::Ui, state: &State) {
    let Some(snapshot) = &state.snapshot else {
        ui.label(RichText::new("Waiting for the board\u{2026}").weak());
        return;
    };
    let status = &snapshot.status;
    egui::ScrollArea::both()
        .id_salt("inspector")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.label(
                RichText::new(
                    "Every process maps the same shared-memory segment. A robust, process-shared \
                     mutex inside it guards the history; after each change the writer drops a \
                     24-byte hint into every other subscriber's POSIX message queue (its mailbox), \
                     without blocking. Shared memory holds the truth; the hint only says \u{201c}look\u{201d}.",
                )
                .weak(),
            );
            ui.add_space(8.0);
            if ui.available_width() > 760.0 {
                ui.columns(2, |cols| {
                    card(&mut cols[0], "Shared memory segment", |ui| segment(ui, status));
                    card(&mut cols[1], "Robust process-shared mutex", |ui| lock(ui, status));
                });
            } else {
                card(ui, "Shared memory segment", |ui| segment(ui, status));
                card(ui, "Robust process-shared mutex", |ui| lock(ui, status));
            }
            card(ui, "Data arena", |ui| arena(ui, status));
            card(
                ui,
                &format!(
                    "Subscribers \u{b7} {} of {} mailbox slots",
                    status.subscribers.len(),
                    status.max_subscribers
                ),
                |ui| subscribers(ui, state, status),
            );
            card(ui, "Notifications this window received", |ui| notifications(ui, state));
            if let Some(view) = &snapshot.bridge {
                card(ui, "Bridge to other machines", |ui| bridge(ui, view));
            }
        });
}

fn card(ui: &mut egui::Ui, title: &str, body: impl FnOnce(&mut egui::Ui)) {
    // The frame's margin and stroke lie outside its content: leave room.
    let width = (ui.available_width() - 2.0 * (10.0 + 1.0)).max(0.0);
    egui::Frame::group(ui.style())
        .fill(ui.visuals().faint_bg_color)
        .corner_radius(6.0)
        .inner_margin(egui::Margin::same(10))
        .show(ui, |ui| {
            ui.set_width(width);
            ui.label(RichText::new(title).strong().size(15.0));
            ui.add_space(4.0);
            body(ui);
        });
    ui.add_space(6.0);
}

fn facts(ui: &mut egui::Ui, id: &str, rows: &[(&str, RichText)]) {
    egui::Grid::new(id)
        .num_columns(2)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for (key, value) in rows {
                ui.label(RichText::new(*key).weak());
                ui.label(value.clone());
                ui.end_row();
            }
        });
}

fn bridge(ui: &mut egui::Ui, view: &crate::bridge::BridgeView) {
    let or_dash = |s: &str| {
        if s.is_empty() {
            "-".to_owned()
        } else {
            s.to_owned()
        }
    };
    facts(
        ui,
        "bridge-facts",
        &[
            ("state", RichText::new(view.summary())),
            (
                "this node",
                RichText::new(format!("{} (pid {})", view.name, view.pid)),
            ),
            ("server", RichText::new(or_dash(&view.server)).monospace()),
            (
                "applied",
                RichText::new(format!("stream seq {}", view.applied_seq)),
            ),
            (
                "last remote",
                RichText::new(or_dash(&view.last_remote_origin)),
            ),
            (
                "in flight",
                RichText::new(format!(
                    "{} blobs, {} waiting to be sent",
                    view.blobs_in_flight, view.outbox
                )),
            ),
            ("rejected", RichText::new(view.rejected.to_string())),
            ("last error", RichText::new(or_dash(&view.last_error))),
        ],
    );
}

fn segment(ui: &mut egui::Ui, status: &Status) {
    let mode = status.mode & 0o7777;
    let private = mode.trailing_zeros() >= 6; // no group or other bits
    let mode_text = RichText::new(format!(
        "{mode:04o}{}",
        if private {
            "  (yours alone)"
        } else {
            "  (open to others!)"
        }
    ))
    .monospace()
    .color(if private {
        palette::good(ui.visuals())
    } else {
        ui.visuals().error_fg_color
    });
    let me = nix::unistd::geteuid().as_raw();
    let owner = if status.owner_uid == me {
        format!("uid {} (you)", status.owner_uid)
    } else {
        format!("uid {}", status.owner_uid)
    };
    facts(
        ui,
        "segment-facts",
        &[
            (
                "path",
                RichText::new(status.path.display().to_string()).monospace(),
            ),
            ("owner", RichText::new(owner)),
            ("mode", mode_text),
            ("size", RichText::new(human_size(status.segment_size))),
            (
                "layout",
                RichText::new(format!("version {}", status.layout_version)),
            ),
        ],
    );
}

fn lock(ui: &mut egui::Ui, status: &Status) {
    let lock = status.lock;
    let share = if lock.acquisitions == 0 {
        String::new()
    } else {
        format!(
            "  ({:.1}%)",
            lock.contended as f64 * 100.0 / lock.acquisitions as f64
        )
    };
    let recoveries = RichText::new(lock.recoveries.to_string()).monospace();
    let recoveries = if lock.recoveries > 0 {
        recoveries.color(palette::warn(ui.visuals())).strong()
    } else {
        recoveries
    };
    facts(
        ui,
        "lock-facts",
        &[
            (
                "acquisitions",
                RichText::new(lock.acquisitions.to_string()).monospace(),
            ),
            (
                "contended",
                RichText::new(format!("{}{share}", lock.contended)).monospace(),
            ),
            ("recoveries", recoveries),
        ],
    );
    ui.add_space(2.0);
    ui.label(
        RichText::new(if lock.recoveries > 0 {
            "A holder died with the lock; the next process repaired the board (EOWNERDEAD)."
        } else {
            "No holder has ever died with the lock held."
        })
        .small()
        .weak(),
    );
}

fn arena(ui: &mut egui::Ui, status: &Status) {
    let fraction = if status.capacity == 0 {
        0.0
    } else {
        status.used as f32 / status.capacity as f32
    };
    ui.add(
        egui::ProgressBar::new(fraction)
            .text(format!(
                "{} of {} used ({:.1}%)",
                human_size(status.used),
                human_size(status.capacity),
                fraction * 100.0
            ))
            .fill(palette::accent(ui.visuals()).gamma_multiply(0.8))
            .corner_radius(3.0)
            .desired_height(18.0),
    );
    ui.label(
        RichText::new(format!(
            "{} of at most {} \u{b7} tmpfs pages cost memory only once written",
            plural(status.entries, "entry"),
            status.max_entries
        ))
        .small()
        .weak(),
    );
}

fn subscribers(ui: &mut egui::Ui, state: &State, status: &Status) {
    if status.subscribers.is_empty() {
        ui.label(RichText::new("No process is subscribed.").weak());
        return;
    }
    egui::Grid::new("subscriber-table")
        .num_columns(4)
        .striped(true)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            for head in ["pid", "program", "mailbox (POSIX message queue)", "pending"] {
                ui.label(RichText::new(head).strong());
            }
            ui.end_row();
            for sub in &status.subscribers {
                let pid = sub.origin.pid;
                let mine = pid == state.own_pid;
                let pid_text = RichText::new(pid.to_string()).monospace();
                ui.label(if mine { pid_text.strong() } else { pid_text });
                let kind = match sub.origin.kind {
                    OriginKind::App => "window",
                    OriginKind::Tray => "tray",
                    OriginKind::Cli => "cli",
                    OriginKind::Bridge => "bridge",
                    OriginKind::Archive => "archive",
                    OriginKind::Unknown => "unknown",
                };
                let program = state.program(pid).unwrap_or("?");
                let mut who = format!("{program} ({kind})");
                if mine {
                    who.push_str(" (this window)");
                }
                ui.label(who);
                ui.label(RichText::new(&sub.mailbox).monospace().small());
                ui.label(match sub.pending {
                    Some(n) => RichText::new(n.to_string()).monospace(),
                    None => RichText::new("?").weak(),
                });
                ui.end_row();
            }
        });
}

fn notifications(ui: &mut egui::Ui, state: &State) {
    if state.notes.is_empty() {
        ui.label(
            RichText::new(
                "None yet. Copy something from another window or with `shm-clip copy`: this \
                 window's own changes send it no notification.",
            )
            .weak(),
        );
        return;
    }
    let mut receipt: Vec<_> = state
        .notes
        .iter()
        .filter_map(crate::worker::Received::receipt_latency)
        .collect();
    let mut applied: Vec<_> = state
        .notes
        .iter()
        .filter_map(crate::worker::Received::applied_latency)
        .collect();
    receipt.sort();
    applied.sort();
    if let (Some(r), Some(a)) = (median(&receipt), median(&applied)) {
        ui.label(format!(
            "median over the last {}: commit to receipt {}, commit to applied on screen {}",
            plural(state.notes.len(), "notification"),
            latency(r),
            latency(a)
        ));
        ui.add_space(4.0);
    }
    let max = state
        .notes
        .iter()
        .filter_map(|n| n.applied_latency().or(n.receipt_latency()))
        .max()
        .unwrap_or_default()
        .as_secs_f32()
        .max(1e-6);
    egui::Grid::new("notification-table")
        .num_columns(5)
        .striped(true)
        .spacing([16.0, 3.0])
        .show(ui, |ui| {
            for head in [
                "seq",
                "from",
                "merged",
                "commit to receipt",
                "commit to applied",
            ] {
                ui.label(RichText::new(head).strong());
            }
            ui.end_row();
            for note in state.notes.iter().rev() {
                ui.label(RichText::new(note.seq.to_string()).monospace());
                let from = shm_clip::Origin {
                    pid: note.origin_pid,
                    kind: note.origin_kind,
                    label: String::new(),
                };
                ui.label(origin(&from, state.own_pid));
                ui.label(if note.coalesced > 1 {
                    RichText::new(format!("{}", note.coalesced)).monospace()
                } else {
                    RichText::new("\u{2013}").weak()
                });
                let bar =
                    |ui: &mut egui::Ui, d: Option<std::time::Duration>, color: Color32| match d {
                        Some(d) => {
                            ui.horizontal(|ui| {
                                let width = 60.0 * (d.as_secs_f32() / max).clamp(0.02, 1.0);
                                let (rect, _) = ui.allocate_exact_size(
                                    egui::vec2(width, 8.0),
                                    egui::Sense::hover(),
                                );
                                ui.painter().rect(
                                    rect,
                                    2.0,
                                    color,
                                    Stroke::NONE,
                                    egui::StrokeKind::Inside,
                                );
                                ui.label(RichText::new(latency(d)).monospace());
                            });
                        }
                        None => {
                            ui.label(RichText::new("?").weak());
                        }
                    };
                bar(ui, note.receipt_latency(), palette::accent(ui.visuals()));
                bar(ui, note.applied_latency(), palette::good(ui.visuals()));
                ui.end_row();
            }
        });
}

fn median(sorted: &[std::time::Duration]) -> Option<std::time::Duration> {
    sorted.get(sorted.len() / 2).copied()
}
