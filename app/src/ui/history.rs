//! The history panel: search, one row per entry (preview or thumbnail, type,
//! size, age, origin; current and pinned marks), buttons and a context menu
//! per entry, Clear with a confirmation step, and keyboard navigation.
//!
//! A click selects an entry, a double-click makes it current, and Enter (or
//! the row's paste button) pastes it into the document. Arrow keys move
//! between entries once one has focus (Down from the search field enters the
//! list); Delete deletes the focused entry. Deleting a pinned entry asks
//! first, in its own row; any delete can be undone for a few seconds.
//!
//! The list holds still: while it is scrolled, new entries above the visible
//! rows move the scroll offset by as much, and a "N new" button in the header
//! counts them and scrolls back to the top.

use eframe::egui::{
    self, Align, Color32, EventFilter, Id, Key, Layout, Modifiers, RichText, Sense, Stroke, vec2,
};
use shm_clip::EntryInfo;

use super::{age_label, named, palette, textures};
use crate::state::{State, human_size, origin, plural, short_mime};
use crate::worker::Command;

/// Every row has the same height, so that only the visible ones are drawn.
const ROW_HEIGHT: f32 = 58.0;
const THUMB: f32 = 46.0;

/// The library marks newlines in previews with U+23CE, which egui's default
/// fonts lack; U+21B5 is in its monospace font (a test checks).
pub const NEWLINE_MARK: char = '\u{21b5}';

pub fn search_id() -> Id {
    Id::unique("shm-clip-history-search")
}

fn row_id(seq: u64) -> Id {
    Id::unique(("shm-clip-entry", seq))
}

/// The first visible row as the last frame drew it: the list keeps that row
/// where it was when entries appear or go above it.
#[derive(Clone, Debug)]
struct Anchor {
    seq: u64,
    index: usize,
    offset: f32,
    search: String,
}

fn anchor_id() -> Id {
    Id::unique("shm-clip-history-anchor")
}

pub fn history(ui: &mut egui::Ui, state: &mut State, commands: &mut Vec<Command>) {
    ui.add_space(6.0);
    let total = state.entries().len();
    let visible: Vec<EntryInfo> = state.visible_entries().into_iter().cloned().collect();
    let step = ROW_HEIGHT + ui.spacing().item_spacing.y;
    let anchor = ui.data(|d| d.get_temp::<Anchor>(anchor_id()));
    // Where the anchor row is now: scroll by as many rows as it moved.
    let mut offset = anchor
        .as_ref()
        .filter(|a| a.offset > 0.0 && a.search == state.history.search)
        .and_then(|a| {
            let now = visible.iter().position(|e| e.seq == a.seq)?;
            (now != a.index).then(|| (a.offset + (now as f32 - a.index as f32) * step).max(0.0))
        });
    let top = offset.or(anchor.as_ref().map(|a| a.offset)).unwrap_or(0.0);
    let first = (top / step).floor() as usize;
    let newest = visible.iter().map(|e| e.seq).max();
    if top <= 0.0 || state.history.seen_seq.is_none() {
        state.history.seen_seq = newest;
    }
    let seen = state.history.seen_seq.unwrap_or(u64::MAX);
    let new_above = visible.iter().take(first).filter(|e| e.seq > seen).count();

    ui.horizontal(|ui| {
        ui.label(RichText::new("History").strong().size(16.0));
        ui.label(RichText::new(plural(total, "entry")).weak());
        if new_above > 0 {
            let marker = ui
                .small_button(format!("\u{2b06} {new_above} new"))
                .on_hover_text("New entries above: scroll to the top");
            if marker.clicked() {
                offset = Some(0.0);
                state.history.seen_seq = newest;
            }
        }
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            let unpinned = state.entries().iter().filter(|e| !e.pinned).count();
            let clear = ui
                .add_enabled(unpinned > 0, egui::Button::new("\u{1f5d1} Clear\u{2026}"))
                .on_hover_text("Delete every unpinned entry (asks first)");
            if named(clear, "Clear history").clicked() {
                state.history.confirm_clear = true;
            }
        });
    });
    if state.history.confirm_clear {
        confirm_clear(ui, state, commands);
    }
    let search = search_field(ui, state);
    ask_the_archive(state, commands);

    let Some(_) = &state.snapshot else {
        ui.add_space(12.0);
        ui.label(RichText::new("Waiting for the board\u{2026}").weak());
        return;
    };
    if total == 0 {
        ui.add_space(12.0);
        ui.label(RichText::new("The board is empty. Copy something to start its history.").weak());
        return;
    }
    if visible.is_empty() {
        ui.add_space(12.0);
        ui.label(RichText::new("No entry matches the search.").weak());
        from_archive(ui, state, commands);
        return;
    }
    keyboard(ui, state, &visible, &search, commands);

    let scroll_to = state
        .history
        .selected
        .and_then(|seq| visible.iter().position(|e| e.seq == seq))
        .filter(|_| ui.memory(|m| visible.iter().any(|e| m.has_focus(row_id(e.seq)))));
    let archive_room = archive_room(ui, state);
    let mut area = egui::ScrollArea::vertical()
        .id_salt("history-rows")
        .max_height((ui.available_height() - archive_room).max(ROW_HEIGHT))
        .auto_shrink([false, false]);
    if let Some(offset) = offset {
        area = area.vertical_scroll_offset(offset);
    } else if let Some(index) = scroll_to {
        area = keep_in_view(ui, area, index);
    }
    let output = area.show_rows(ui, ROW_HEIGHT, visible.len(), |ui, rows| {
        for entry in &visible[rows] {
            row(ui, state, entry, commands);
        }
    });
    from_archive(ui, state, commands);
    let offset = output.state.clamped_offset().y;
    let first = ((offset / step).floor() as usize).min(visible.len() - 1);
    let shown = (output.inner_rect.height() / step).floor() as usize;
    ui.data_mut(|d| {
        d.insert_temp(Id::unique("history-view"), (first, shown.max(1)));
        d.insert_temp(
            anchor_id(),
            Anchor {
                seq: visible[first].seq,
                index: first,
                offset,
                search: state.history.search.clone(),
            },
        );
    });
}

/// Scrolls just enough that row `index` is in view.
fn keep_in_view(ui: &egui::Ui, area: egui::ScrollArea, index: usize) -> egui::ScrollArea {
    let Some((first, shown)) =
        ui.data(|d| d.get_temp::<(usize, usize)>(Id::unique("history-view")))
    else {
        return area;
    };
    let step = ROW_HEIGHT + ui.spacing().item_spacing.y;
    if index < first {
        area.vertical_scroll_offset(index as f32 * step)
    } else if index >= first + shown {
        area.vertical_scroll_offset((index + 1 - shown) as f32 * step)
    } else {
        area
    }
}

/// The archive's hits get the lower part of the panel, below the board's.
fn archive_room(ui: &egui::Ui, state: &State) -> f32 {
    if state.history.archive_hits.is_empty() {
        0.0
    } else {
        (ui.available_height() * 0.4).max(80.0)
    }
}

/// Asks the worker to search the archive when the search text changed.
fn ask_the_archive(state: &mut State, commands: &mut Vec<Command>) {
    if state.history.search == state.history.archive_query {
        return;
    }
    state
        .history
        .archive_query
        .clone_from(&state.history.search);
    state.history.archive_hits.clear();
    if !state.history.search.trim().is_empty() {
        commands.push(Command::SearchArchive(state.history.search.clone()));
    }
}

/// "From the archive": clips the search found on disk, below the board's
/// entries. Clicking one brings it back to the board and pastes it.
fn from_archive(ui: &mut egui::Ui, state: &State, commands: &mut Vec<Command>) {
    if state.history.archive_hits.is_empty() {
        return;
    }
    ui.separator();
    ui.label(RichText::new("From the archive").strong());
    egui::ScrollArea::vertical()
        .id_salt("archive-rows")
        .auto_shrink([false, true])
        .show(ui, |ui| {
            for hit in &state.history.archive_hits {
                let text = if hit.preview.is_empty() {
                    format!("{} ({} bytes)", hit.mime, hit.size)
                } else {
                    hit.preview.clone()
                };
                let button = ui
                    .add(egui::Button::new(text).frame(false).truncate())
                    .on_hover_text("Bring it back to the board and paste it");
                if button.clicked() {
                    commands.push(Command::FromArchive(hit.id));
                }
            }
        });
}

fn search_field(ui: &mut egui::Ui, state: &mut State) -> egui::Response {
    ui.add_space(4.0);
    let response = ui
        .horizontal(|ui| {
            let label = ui.label("\u{1f50e}");
            let field = ui.add(
                egui::TextEdit::singleline(&mut state.history.search)
                    .id(search_id())
                    .desired_width(f32::INFINITY)
                    .hint_text("Search text, type or origin"),
            );
            named(field.labelled_by(label.id), "Search history")
        })
        .inner;
    ui.add_space(4.0);
    response
}

fn confirm_clear(ui: &mut egui::Ui, state: &mut State, commands: &mut Vec<Command>) {
    let unpinned = state.entries().iter().filter(|e| !e.pinned).count();
    egui::Frame::group(ui.style())
        .fill(ui.visuals().faint_bg_color)
        .stroke(Stroke::new(1.0, palette::warn(ui.visuals())))
        .show(ui, |ui| {
            ui.label(format!(
                "Delete {}? Pinned entries stay. Deleted bytes are overwritten.",
                plural(unpinned, "unpinned entry")
            ));
            ui.horizontal(|ui| {
                if ui.button("Yes, clear history").clicked() {
                    commands.push(Command::Clear);
                    state.history.confirm_clear = false;
                }
                if ui.button("Cancel").clicked() {
                    state.history.confirm_clear = false;
                }
            });
        });
}

/// Arrow keys, Enter and Delete, for the focused entry or the search field.
fn keyboard(
    ui: &mut egui::Ui,
    state: &mut State,
    visible: &[EntryInfo],
    search: &egui::Response,
    commands: &mut Vec<Command>,
) {
    let focused = ui.memory(|m| visible.iter().position(|e| m.has_focus(row_id(e.seq))));
    let key = |ui: &mut egui::Ui, key| ui.input_mut(|i| i.consume_key(Modifiers::NONE, key));
    if search.has_focus() {
        if key(ui, Key::ArrowDown) {
            move_to(ui, state, &visible[0]);
        } else if search.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)) {
            state.history.selected = Some(visible[0].seq);
            commands.extend(state.paste_entry(visible[0].seq));
        }
        return;
    }
    let Some(index) = focused else { return };
    // Keep egui from moving focus with the arrows: they are ours here.
    ui.memory_mut(|m| {
        m.set_focus_lock_filter(
            row_id(visible[index].seq),
            EventFilter {
                vertical_arrows: true,
                ..EventFilter::default()
            },
        );
    });
    if key(ui, Key::ArrowDown) {
        if let Some(next) = visible.get(index + 1) {
            move_to(ui, state, next);
        }
    } else if key(ui, Key::ArrowUp) {
        match index.checked_sub(1) {
            Some(prev) => move_to(ui, state, &visible[prev]),
            None => ui.memory_mut(|m| m.request_focus(search_id())),
        }
    } else if key(ui, Key::Enter) {
        commands.extend(state.paste_entry(visible[index].seq));
    } else if key(ui, Key::Escape) && state.history.confirm_delete.is_some() {
        state.history.confirm_delete = None;
    } else if key(ui, Key::Delete) {
        let Some(delete) = state.request_delete(&visible[index]) else {
            return; // a pinned entry: its row now asks
        };
        commands.push(delete);
        if let Some(next) = visible
            .get(index + 1)
            .or(index.checked_sub(1).map(|i| &visible[i]))
        {
            move_to(ui, state, next);
        }
    }
}

fn move_to(ui: &egui::Ui, state: &mut State, entry: &EntryInfo) {
    state.history.selected = Some(entry.seq);
    ui.memory_mut(|m| m.request_focus(row_id(entry.seq)));
}

/// What a screen reader says for an entry, and what tests look it up by.
pub fn entry_name(entry: &EntryInfo) -> String {
    format!("Entry {}: {}", entry.index, describe(entry))
}

/// The entry's text preview, or what it is when it has none.
fn describe(entry: &EntryInfo) -> String {
    if !entry.preview.is_empty() {
        return entry.preview.replace('\u{23ce}', &NEWLINE_MARK.to_string());
    }
    let kinds: Vec<&str> = entry.types.iter().map(|(m, _)| short_mime(m)).collect();
    if kinds.iter().any(|k| k.starts_with("image/")) {
        "image".into()
    } else {
        kinds.join(", ")
    }
}

#[expect(
    clippy::too_many_lines,
    reason = "one row: background, thumbnail, text, marks, buttons, menu"
)]
fn row(ui: &mut egui::Ui, state: &mut State, entry: &EntryInfo, commands: &mut Vec<Command>) {
    let (rect, _) = ui.allocate_exact_size(vec2(ui.available_width(), ROW_HEIGHT), Sense::hover());
    let id = row_id(entry.seq);
    let response = ui.interact(rect, id, Sense::click());
    let selected = state.history.selected == Some(entry.seq);
    let name = entry_name(entry);
    response.widget_info(|| {
        egui::WidgetInfo::selected(egui::Role::ListBoxOption, true, selected, &name)
    });

    // One highlight: the selected entry (which is also the focused one
    // whenever a row has the keyboard).
    let visuals = ui.visuals().clone();
    let fill = if selected {
        visuals.selection.bg_fill.gamma_multiply(0.45)
    } else if response.hovered() {
        visuals.widgets.hovered.weak_bg_fill
    } else if entry.index % 2 == 1 {
        visuals.faint_bg_color
    } else {
        Color32::TRANSPARENT
    };
    ui.painter().rect_filled(rect, 4.0, fill);
    if entry.index == 0 {
        let bar = egui::Rect::from_min_size(rect.min, vec2(3.0, rect.height()));
        ui.painter().rect_filled(bar, 1.5, palette::good(&visuals));
    }
    if selected {
        ui.painter().rect_stroke(
            rect,
            4.0,
            Stroke::new(1.0, visuals.selection.stroke.color),
            egui::StrokeKind::Inside,
        );
    }

    let mut inner = ui.new_child(
        egui::UiBuilder::new()
            .max_rect(rect.shrink2(vec2(8.0, 5.0)))
            .layout(Layout::left_to_right(Align::Center)),
    );
    inner.set_clip_rect(rect.intersect(ui.clip_rect()));
    if state.history.confirm_delete == Some(entry.seq) {
        confirm_delete(&mut inner, state, entry, commands);
        return;
    }
    if let Some(thumb) = state.thumbnails.get(&entry.seq).cloned() {
        let texture = textures::texture(inner.ctx(), &thumb);
        let size = vec2(thumb.pixels_size[0] as f32, thumb.pixels_size[1] as f32);
        let size = size * (THUMB / size.y.max(size.x)).min(1.0);
        inner.add(egui::Image::new((texture.id(), size)).alt_text(format!(
            "Thumbnail, {} by {} pixels",
            thumb.width, thumb.height
        )));
    }
    inner.with_layout(Layout::right_to_left(Align::Center), |ui| {
        buttons(ui, state, entry, commands);
        marks(ui, entry);
        ui.with_layout(Layout::top_down(Align::Min), |ui| {
            ui.add_space(2.0);
            let preview = RichText::new(describe(entry)).monospace();
            let preview = if entry.preview.is_empty() {
                preview.italics().weak()
            } else {
                preview
            };
            ui.add(egui::Label::new(preview).truncate().selectable(false));
            let mut meta = vec![
                entry
                    .types
                    .iter()
                    .map(|(m, _)| short_mime(m))
                    .collect::<Vec<_>>()
                    .join(", "),
                human_size(entry.total_size),
                age_label(ui, entry.touched),
                origin(&entry.origin, state.own_pid),
            ];
            if let Some(thumb) = state.thumbnails.get(&entry.seq) {
                meta.insert(1, format!("{}\u{d7}{}", thumb.width, thumb.height));
            }
            ui.add(
                egui::Label::new(RichText::new(meta.join("  \u{b7}  ")).small().weak())
                    .truncate()
                    .selectable(false),
            );
        });
    });

    if response.double_clicked() {
        state.history.selected = Some(entry.seq);
        if entry.index != 0 {
            commands.push(Command::Select(entry.seq));
        }
    } else if response.clicked() {
        state.history.selected = Some(entry.seq);
        response.request_focus();
    }
    response.context_menu(|ui| {
        if ui.button("Paste into the document").clicked() {
            commands.extend(state.paste_entry(entry.seq));
        }
        if ui
            .add_enabled(entry.index != 0, egui::Button::new("Make current"))
            .clicked()
        {
            commands.push(Command::Select(entry.seq));
        }
        let pin = if entry.pinned { "Unpin" } else { "Pin" };
        if ui.button(pin).clicked() {
            commands.push(Command::SetPinned(entry.seq, !entry.pinned));
        }
        ui.separator();
        if ui.button("Delete").clicked() {
            commands.extend(state.request_delete(entry));
        }
    });
}

/// A pinned entry's delete, asked in its own row so that nothing moves.
fn confirm_delete(
    ui: &mut egui::Ui,
    state: &mut State,
    entry: &EntryInfo,
    commands: &mut Vec<Command>,
) {
    ui.label(
        RichText::new(format!("\u{26a0} Delete pinned entry {}?", entry.index))
            .color(palette::warn(ui.visuals())),
    );
    ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
        if named(ui.button("Keep it"), "Keep the pinned entry").clicked() {
            state.history.confirm_delete = None;
        }
        if named(ui.button("Delete"), "Delete the pinned entry").clicked() {
            commands.extend(state.request_delete(entry));
        }
    });
}

/// Paste, make current, pin or unpin, and delete, as small icon buttons.
fn buttons(ui: &mut egui::Ui, state: &mut State, entry: &EntryInfo, commands: &mut Vec<Command>) {
    let n = entry.index;
    let weak = ui.visuals().weak_text_color();
    let icon = |ui: &mut egui::Ui, icon: &str, color: Color32, name: String, hover: &str| {
        let button = egui::Button::new(RichText::new(icon).size(14.0).color(color)).frame(false);
        named(ui.add(button), &name).on_hover_text(hover).clicked()
    };
    let hover = if entry.pinned {
        "Delete (asks first: it is pinned), and overwrite its bytes"
    } else {
        "Delete, and overwrite its bytes (Undo for a few seconds)"
    };
    if icon(ui, "\u{1f5d1}", weak, format!("Delete entry {n}"), hover) {
        commands.extend(state.request_delete(entry));
    }
    let (color, verb, hover) = if entry.pinned {
        (
            palette::accent(ui.visuals()),
            "Unpin",
            "Unpin: it may be evicted again",
        )
    } else {
        (weak, "Pin", "Pin: never evicted, kept by Clear")
    };
    if icon(ui, "\u{1f4cc}", color, format!("{verb} entry {n}"), hover) {
        commands.push(Command::SetPinned(entry.seq, !entry.pinned));
    }
    if n != 0
        && icon(
            ui,
            "\u{2b06}",
            weak,
            format!("Make entry {n} current"),
            "Make it the current clip (or double-click the entry)",
        )
    {
        commands.push(Command::Select(entry.seq));
    }
    if icon(
        ui,
        "\u{1f4cb}",
        weak,
        format!("Paste entry {n} into the document"),
        "Paste it at the cursor in the document (or select it and press Enter)",
    ) {
        state.history.selected = Some(entry.seq);
        commands.extend(state.paste_entry(entry.seq));
    }
}

/// The current and pinned badges.
fn marks(ui: &mut egui::Ui, entry: &EntryInfo) {
    let badge = |ui: &mut egui::Ui, text: &str, color: Color32| {
        let text = RichText::new(format!(" {text} "))
            .small()
            .strong()
            .color(color)
            .background_color(color.gamma_multiply(0.18));
        ui.add(egui::Label::new(text).selectable(false));
    };
    if entry.pinned {
        badge(ui, "pinned", palette::accent(ui.visuals()));
    }
    if entry.index == 0 {
        badge(ui, "current", palette::good(ui.visuals()));
    }
}

#[cfg(test)]
mod tests {
    use eframe::egui::FontId;

    use super::NEWLINE_MARK;

    #[test]
    fn the_glyphs_we_use_exist() {
        let mut harness = egui_kittest::Harness::new_ui(|ui| {
            let missing: Vec<char> = ui.ctx().fonts_mut(|f| {
                let mono = FontId::monospace(12.0);
                let prop = FontId::proportional(14.0);
                let mut missing: Vec<char> = [NEWLINE_MARK]
                    .into_iter()
                    .filter(|c| !f.has_glyph(&mono, *c))
                    .collect();
                missing.extend(
                    "\u{2702}\u{1f5d0}\u{1f4cb}\u{1f5d7}\u{270f}\u{1f50d}\u{1f50e}\u{1f5d1}\u{1f4cc}\u{1f4cd}\u{2b06}\u{1f5d9}\u{26a0}\u{23fa}\u{25cb}\u{d7}\u{b7}\u{2026}\u{27f3}\u{1f517}\u{23f7}"
                        .chars()
                        .filter(|c| !f.has_glyph(&prop, *c)),
                );
                missing
            });
            assert!(missing.is_empty(), "the default fonts lack {missing:?}");
        });
        harness.run();
    }
}
