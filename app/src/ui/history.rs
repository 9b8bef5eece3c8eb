//! The history list: one row per entry, current first. Columns follow
//! `shm-clip history`: the preview comes last and takes the remaining width.

use eframe::egui::{self, Align, Label, Layout, RichText, ScrollArea, WidgetText};
use shm_clip::EntryInfo;

use crate::state::{State, human_size};

/// Widths of the fixed columns: index, types, size, origin.
const WIDTHS: [f32; 4] = [60.0, 110.0, 64.0, 96.0];

/// The library marks newlines in previews with U+23CE, which egui's default
/// fonts lack; U+21B5 is in its monospace font (a test below checks).
const NEWLINE_MARK: char = '\u{21b5}';

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
    let headers = ["#", "Types", "Size", "Origin"].map(|h| RichText::new(h).strong().into());
    row(ui, headers, RichText::new("Preview").strong().into());
    ui.separator();
    ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for entry in &snapshot.entries {
                entry_row(ui, entry);
            }
        });
}

fn entry_row(ui: &mut egui::Ui, entry: &EntryInfo) {
    let index = if entry.pinned {
        format!("{} pinned", entry.index)
    } else {
        entry.index.to_string()
    };
    let types: Vec<&str> = entry
        .types
        .iter()
        .map(|(mime, _)| mime.split(';').next().unwrap_or(mime))
        .collect();
    let preview = if entry.preview.is_empty() {
        RichText::new("(no text)").weak()
    } else {
        let text =
            RichText::new(entry.preview.replace('\u{23ce}', &NEWLINE_MARK.to_string())).monospace();
        if entry.index == 0 {
            text.strong()
        } else {
            text
        }
    };
    row(
        ui,
        [
            index.into(),
            types.join(", ").into(),
            human_size(entry.total_size).into(),
            entry.origin.to_string().into(),
        ],
        preview.into(),
    );
}

/// One line: four fixed-width cells, then `last` in whatever width is left.
/// Text too long for its cell is cut with `…` and shown whole on hover.
fn row(ui: &mut egui::Ui, cells: [WidgetText; 4], last: WidgetText) {
    ui.horizontal(|ui| {
        let height = ui.spacing().interact_size.y;
        for (cell, width) in cells.into_iter().zip(WIDTHS) {
            ui.allocate_ui_with_layout(
                egui::vec2(width, height),
                Layout::left_to_right(Align::Center),
                |ui| {
                    ui.set_min_width(width);
                    ui.add(Label::new(cell).truncate());
                },
            );
        }
        ui.add(Label::new(last).truncate());
    });
}

#[cfg(test)]
mod tests {
    use eframe::egui::FontId;

    use super::NEWLINE_MARK;

    #[test]
    fn the_newline_mark_has_a_glyph() {
        let mut harness = egui_kittest::Harness::new_ui(|ui| {
            let has = ui
                .ctx()
                .fonts_mut(|f| f.has_glyph(&FontId::monospace(12.0), NEWLINE_MARK));
            assert!(
                has,
                "pick another newline mark: the monospace font lacks {NEWLINE_MARK}"
            );
        });
        harness.run();
    }
}
