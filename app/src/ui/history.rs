//! The history list: one row per entry, current first.

use eframe::egui::{self, Grid, RichText, ScrollArea};
use shm_clip::EntryInfo;

use crate::state::{State, human_size};

/// Characters of preview shown per row; the library keeps up to 80.
const PREVIEW_CHARS: usize = 60;

pub fn history(ui: &mut egui::Ui, state: &State) {
    ui.label(RichText::new("History").strong());
    let Some(snapshot) = &state.snapshot else {
        ui.label(RichText::new("Waiting for the board…").weak());
        return;
    };
    if snapshot.entries.is_empty() {
        ui.label(RichText::new("The board is empty. Copy something to start its history.").weak());
        return;
    }
    ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            Grid::new("history")
                .num_columns(5)
                .striped(true)
                .spacing([16.0, 4.0])
                .show(ui, |ui| {
                    for title in ["#", "Preview", "Types", "Size", "Origin"] {
                        ui.label(RichText::new(title).strong());
                    }
                    ui.end_row();
                    for entry in &snapshot.entries {
                        row(ui, entry);
                        ui.end_row();
                    }
                });
        });
}

fn row(ui: &mut egui::Ui, entry: &EntryInfo) {
    let index = if entry.pinned {
        format!("{} pinned", entry.index)
    } else {
        entry.index.to_string()
    };
    ui.label(index);
    let preview = if entry.preview.is_empty() {
        RichText::new("(no text)").weak()
    } else {
        let mut text: String = entry.preview.chars().take(PREVIEW_CHARS).collect();
        if entry.preview.chars().count() > PREVIEW_CHARS {
            text.push('…');
        }
        RichText::new(text).monospace()
    };
    ui.label(if entry.index == 0 {
        preview.strong()
    } else {
        preview
    });
    let types: Vec<&str> = entry
        .types
        .iter()
        .map(|(mime, _)| mime.split(';').next().unwrap_or(mime))
        .collect();
    ui.label(types.join(", "));
    ui.label(human_size(entry.total_size));
    ui.label(entry.origin.to_string());
}
