//! Drawing the picker: the search field on top, one row per shown entry,
//! a line of key hints at the bottom. Keys are taken before any widget
//! sees them, so that the search field only ever receives text.

use eframe::egui::{self, Align, Event, Id, Key, Layout, Modifiers, RichText, Sense, Stroke, vec2};
use shm_clip::EntryInfo;

use super::state::{Input, Picker};
use crate::state::{human_size, short_mime};
use crate::ui::{named, palette, textures};

/// Every row has the same height, so a page is a known number of rows.
pub const ROW_HEIGHT: f32 = 40.0;
const THUMB: f32 = 32.0;
/// Newlines in previews (U+23CE) are shown with a glyph egui's fonts have.
const NEWLINE_MARK: &str = "\u{21b5}";

/// The search field's id: it holds the keyboard focus whenever the picker shows.
pub fn search_id() -> Id {
    Id::unique("shm-clip-picker-search")
}

/// The keys the picker acts on, taken out of this frame's input.
pub fn take_keys(ctx: &egui::Context) -> Vec<Input> {
    const TABLE: [(Modifiers, Key, Input); 12] = [
        (Modifiers::NONE, Key::ArrowUp, Input::Up),
        (Modifiers::NONE, Key::ArrowDown, Input::Down),
        (Modifiers::NONE, Key::PageUp, Input::PageUp),
        (Modifiers::NONE, Key::PageDown, Input::PageDown),
        (Modifiers::NONE, Key::Home, Input::Home),
        (Modifiers::NONE, Key::End, Input::End),
        // Shift+Enter before Enter: a plain pattern also matches with Shift.
        (Modifiers::SHIFT, Key::Enter, Input::Enter { shift: true }),
        (Modifiers::NONE, Key::Enter, Input::Enter { shift: false }),
        (Modifiers::COMMAND, Key::P, Input::TogglePin),
        (Modifiers::NONE, Key::Delete, Input::Delete),
        (Modifiers::NONE, Key::Escape, Input::Close),
        (Modifiers::SHIFT, Key::Escape, Input::Close),
    ];
    const DIGITS: [Key; 9] = [
        Key::Num1,
        Key::Num2,
        Key::Num3,
        Key::Num4,
        Key::Num5,
        Key::Num6,
        Key::Num7,
        Key::Num8,
        Key::Num9,
    ];
    ctx.input_mut(|i| {
        let mut keys = Vec::new();
        for (n, key) in DIGITS.iter().enumerate() {
            if i.consume_key(Modifiers::ALT, *key) {
                keys.push(Input::Pick(n + 1));
            }
        }
        if keys.iter().any(|k| matches!(k, Input::Pick(_))) {
            // Alt+digit must not also type the digit into the search.
            i.events
                .retain(|e| !matches!(e, Event::Text(t) if t.chars().all(|c| c.is_ascii_digit())));
        }
        for (mods, key, input) in TABLE {
            while i.consume_key(mods, key) {
                keys.push(input);
            }
        }
        keys
    })
}

/// How many rows fit in `height`.
pub fn rows_per_page(height: f32, spacing: f32) -> usize {
    ((height / (ROW_HEIGHT + spacing)).floor() as usize).max(1)
}

/// Draws the picker. The search field holds the keyboard focus only while
/// the window has it (`focus`): a focused text field asks winit for an
/// input method, and doing that before the window has the focus left winit
/// without it. Returns true if the query changed.
pub fn picker(ui: &mut egui::Ui, picker: &mut Picker, focus: bool) -> bool {
    let mut changed = false;
    ui.horizontal(|ui| {
        let label = ui.label(RichText::new("\u{1f50d}").size(18.0));
        let search = egui::TextEdit::singleline(&mut picker.query)
            .id(search_id())
            .hint_text("Type to filter: text, type (image), origin (tray)")
            .desired_width(f32::INFINITY)
            .font(egui::TextStyle::Heading);
        let response = ui.add(search).labelled_by(label.id);
        let response = named(response, "Search");
        if !focus && response.has_focus() {
            response.surrender_focus();
        }
        changed = response.changed();
    });
    ui.add_space(4.0);
    ui.separator();
    let footer = 22.0;
    let height = (ui.available_height() - footer).max(ROW_HEIGHT);
    let cursor = picker.cursor();
    let shown: Vec<EntryInfo> = picker.shown().cloned().collect();
    egui::ScrollArea::vertical()
        .max_height(height)
        .auto_shrink([false, false])
        .show(ui, |ui| {
            if shown.is_empty() {
                let text = if picker.entries().is_empty() {
                    "The board is empty: copy something first"
                } else {
                    "Nothing matches"
                };
                ui.add_space(12.0);
                ui.vertical_centered(|ui| ui.weak(text));
            }
            // Scrolling to the cursor only when it moved: asking every frame
            // would repaint without end.
            let scroll = std::mem::take(&mut picker.scroll_to_cursor);
            for (at, entry) in shown.iter().enumerate() {
                row(ui, picker, entry, at, at == cursor, scroll);
            }
            if !picker.archive_hits().is_empty() {
                ui.add_space(4.0);
                ui.label(RichText::new("From the archive").small().weak());
            }
            for (i, hit) in picker.archive_hits().iter().enumerate() {
                let at = shown.len() + i;
                archive_row(ui, hit, at, at == cursor, scroll);
            }
        });
    ui.separator();
    ui.horizontal(|ui| {
        if let Some(notice) = &picker.notice {
            ui.colored_label(palette::warn(ui.visuals()), notice);
            return;
        }
        let enter = if picker.paste_by_default {
            "Enter paste"
        } else {
            "Enter select · Shift+Enter paste"
        };
        ui.weak(format!(
            "{enter} · Alt+1…9 pick · Ctrl+P pin · Del delete · Esc close  ({} of {})",
            picker.shown_len(),
            picker.entries().len()
        ));
    });
    changed
}

fn row(ui: &mut egui::Ui, picker: &Picker, entry: &EntryInfo, at: usize, on: bool, scroll: bool) {
    let (rect, response) =
        ui.allocate_exact_size(vec2(ui.available_width(), ROW_HEIGHT), Sense::hover());
    let name = describe(entry);
    response.widget_info(|| egui::WidgetInfo::selected(egui::Role::ListBoxOption, true, on, &name));
    let visuals = ui.visuals().clone();
    if on {
        ui.painter()
            .rect_filled(rect, 4.0, visuals.selection.bg_fill.gamma_multiply(0.55));
        ui.painter().rect_stroke(
            rect,
            4.0,
            Stroke::new(1.0, visuals.selection.stroke.color),
            egui::StrokeKind::Inside,
        );
        if scroll {
            response.scroll_to_me(None);
        }
    } else if at % 2 == 1 {
        ui.painter().rect_filled(rect, 4.0, visuals.faint_bg_color);
    }
    if entry.index == 0 {
        let bar = egui::Rect::from_min_size(rect.min, vec2(3.0, rect.height()));
        ui.painter().rect_filled(bar, 1.5, palette::good(&visuals));
    }
    let mut inner = ui.new_child(
        egui::UiBuilder::new()
            .max_rect(rect.shrink2(vec2(8.0, 3.0)))
            .layout(Layout::left_to_right(Align::Center)),
    );
    inner.set_clip_rect(rect.intersect(ui.clip_rect()));
    let digit = if at < 9 {
        format!("{}", at + 1)
    } else {
        " ".into()
    };
    inner.label(RichText::new(digit).monospace().weak());
    if let Some(thumb) = picker.thumbnails.get(&entry.seq).cloned() {
        let texture = textures::texture(inner.ctx(), &thumb);
        let size = vec2(thumb.pixels_size[0] as f32, thumb.pixels_size[1] as f32);
        let size = size * (THUMB / size.y.max(size.x)).min(1.0);
        inner.add(egui::Image::new((texture.id(), size)).alt_text(format!(
            "Thumbnail, {} by {} pixels",
            thumb.width, thumb.height
        )));
    }
    inner.with_layout(Layout::right_to_left(Align::Center), |ui| {
        let mut meta = entry
            .types
            .first()
            .map(|(m, _)| short_mime(m).to_owned())
            .unwrap_or_default();
        meta.push_str(" · ");
        meta.push_str(&human_size(entry.total_size));
        meta.push_str(" · ");
        meta.push_str(entry.origin.kind.as_str());
        ui.label(RichText::new(meta).small().weak());
        if entry.pinned {
            ui.label("\u{1f4cc}");
        }
        ui.with_layout(Layout::left_to_right(Align::Center), |ui| {
            let text = RichText::new(name).monospace();
            let text = if entry.preview.is_empty() {
                text.italics()
            } else {
                text
            };
            ui.add(egui::Label::new(text).truncate().selectable(false));
        });
    });
}

/// An archived clip's row: its preview, type, size and when it was last used.
fn archive_row(
    ui: &mut egui::Ui,
    hit: &shm_clip_archive::ArchivedInfo,
    at: usize,
    on: bool,
    scroll: bool,
) {
    let (rect, response) =
        ui.allocate_exact_size(vec2(ui.available_width(), ROW_HEIGHT), Sense::hover());
    let name = if hit.preview.is_empty() {
        let mime = hit.types.first().map_or("data", |(m, _)| short_mime(m));
        format!("[{mime}, {}]", human_size(hit.total_size))
    } else {
        hit.preview.replace('\u{23ce}', NEWLINE_MARK)
    };
    response.widget_info(|| egui::WidgetInfo::selected(egui::Role::ListBoxOption, true, on, &name));
    let visuals = ui.visuals().clone();
    if on {
        ui.painter()
            .rect_filled(rect, 4.0, visuals.selection.bg_fill.gamma_multiply(0.55));
        if scroll {
            response.scroll_to_me(None);
        }
    }
    let mut inner = ui.new_child(
        egui::UiBuilder::new()
            .max_rect(rect.shrink2(vec2(8.0, 3.0)))
            .layout(Layout::left_to_right(Align::Center)),
    );
    inner.set_clip_rect(rect.intersect(ui.clip_rect()));
    let digit = if at < 9 {
        format!("{}", at + 1)
    } else {
        " ".into()
    };
    inner.label(RichText::new(digit).monospace().weak());
    inner.with_layout(Layout::right_to_left(Align::Center), |ui| {
        let mime = hit.types.first().map_or("", |(m, _)| short_mime(m));
        let age = crate::state::age(hit.last_used, std::time::SystemTime::now()).0;
        ui.label(
            RichText::new(format!(
                "{mime} · {} · archive, {age}",
                human_size(hit.total_size)
            ))
            .small()
            .weak(),
        );
        ui.with_layout(Layout::left_to_right(Align::Center), |ui| {
            ui.add(
                egui::Label::new(RichText::new(name).monospace().weak())
                    .truncate()
                    .selectable(false),
            );
        });
    });
}

/// The entry's one-line preview, or what it is when it has no text.
pub fn describe(entry: &EntryInfo) -> String {
    if !entry.preview.is_empty() {
        return entry.preview.replace('\u{23ce}', NEWLINE_MARK);
    }
    let kinds: Vec<&str> = entry.types.iter().map(|(m, _)| short_mime(m)).collect();
    if kinds.iter().any(|k| k.starts_with("image/")) {
        format!("[image, {}]", human_size(entry.total_size))
    } else {
        format!("[{}]", kinds.join(", "))
    }
}
