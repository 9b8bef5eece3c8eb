//! The picker's state: the board's history, the query, the filtered list
//! and the cursor, and what each key does. Plain data with no egui and no
//! IPC, so that every key is unit-tested without a window.

use std::collections::HashMap;
use std::sync::Arc;

use shm_clip::EntryInfo;
use shm_clip_archive::ArchivedInfo;

use super::filter;
use crate::worker::Picture;

/// A key the picker acts on (the drawing code turns egui's keys into these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    /// Enter; with Shift it also pastes, for this pick only.
    Enter {
        shift: bool,
    },
    /// Alt+1..9: pick the N-th shown entry (1-based).
    Pick(usize),
    /// Ctrl+P.
    TogglePin,
    /// Delete.
    Delete,
    /// Esc.
    Close,
}

/// What a key asks the rest of the picker to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Make this entry current; `paste` also sends the paste keys to the
    /// window the picker was summoned over. The picker closes.
    Select { seq: u64, paste: bool },
    /// Pin (true) or unpin (false) this entry; the picker stays open.
    SetPinned(u64, bool),
    /// Delete this entry; the picker stays open.
    Delete(u64),
    /// Bring this archived clip back as the current entry (and paste it,
    /// as `Select` does). The picker closes.
    Restore { id: i64, paste: bool },
    /// Close without choosing.
    Close,
}

/// Everything the picker shows.
#[derive(Debug, Default)]
pub struct Picker {
    /// What the user typed.
    pub query: String,
    /// The board's history, current first.
    entries: Vec<EntryInfo>,
    /// Positions in `entries` that match `query`, best first.
    shown: Vec<usize>,
    /// The query `shown` was computed for.
    shown_for: String,
    /// The highlighted row, a position in `shown`.
    cursor: usize,
    /// Thumbnails of image entries, by seq.
    pub thumbnails: HashMap<u64, Arc<Picture>>,
    /// Whether Enter pastes (`picker.paste`); Shift+Enter always does.
    pub paste_by_default: bool,
    /// A line shown under the list (an error, or "Copied — press Ctrl+V").
    pub notice: Option<String>,
    /// The cursor moved: the list scrolls to it on the next frame.
    pub scroll_to_cursor: bool,
    /// The archive's hits for the query, below the board's entries (those
    /// the board holds are left out).
    archive: Vec<ArchivedInfo>,
}

impl Picker {
    /// A picker whose Enter pastes when `paste_by_default`.
    #[must_use]
    pub fn new(paste_by_default: bool) -> Self {
        Picker {
            paste_by_default,
            ..Picker::default()
        }
    }

    /// Starts afresh for a new summon: empty query, cursor on the current clip.
    pub fn reset(&mut self) {
        self.scroll_to_cursor = true;
        self.query.clear();
        self.cursor = 0;
        self.notice = None;
        self.refilter();
    }

    /// Replaces the history (after every board change), keeping the cursor
    /// on the same entry when it is still shown.
    pub fn set_entries(&mut self, entries: Vec<EntryInfo>) {
        let on = self.cursor_entry().map(|e| e.seq);
        self.entries = entries;
        self.thumbnails
            .retain(|seq, _| self.entries.iter().any(|e| e.seq == *seq));
        self.shown_for.clear();
        self.shown = filter::filter(&self.query, &self.entries);
        self.shown_for.clone_from(&self.query);
        if let Some(at) = on.and_then(|seq| self.shown().position(|e| e.seq == seq)) {
            self.cursor = at;
        }
        self.clamp();
    }

    /// Re-filters if the query changed since the last time.
    pub fn refilter(&mut self) {
        if self.shown_for != self.query {
            self.archive.clear();
        }
        if self.shown_for != self.query || self.shown.is_empty() {
            self.shown = filter::filter(&self.query, &self.entries);
            self.shown_for.clone_from(&self.query);
            self.cursor = 0;
            self.scroll_to_cursor = true;
        }
        self.clamp();
    }

    /// The whole history.
    #[must_use]
    pub fn entries(&self) -> &[EntryInfo] {
        &self.entries
    }

    /// The entries that match the query, best first.
    pub fn shown(&self) -> impl Iterator<Item = &EntryInfo> {
        self.shown.iter().filter_map(|&i| self.entries.get(i))
    }

    /// How many entries match.
    #[must_use]
    pub fn shown_len(&self) -> usize {
        self.shown.len()
    }

    /// Takes the archive's hits for `query`, if it is still the query.
    pub fn set_archive_hits(&mut self, query: &str, hits: Vec<ArchivedInfo>) {
        if query != self.query || query.trim().is_empty() {
            return;
        }
        let on_board = |h: &ArchivedInfo| {
            self.entries
                .iter()
                .any(|e| e.preview == h.preview && e.total_size == h.total_size)
        };
        self.archive = hits.into_iter().filter(|h| !on_board(h)).collect();
        self.clamp();
    }

    /// The archive's hits shown below the board's entries.
    #[must_use]
    pub fn archive_hits(&self) -> &[ArchivedInfo] {
        &self.archive
    }

    /// Every row: the board's matches, then the archive's.
    fn rows(&self) -> usize {
        self.shown.len() + self.archive.len()
    }

    /// The highlighted row (a position among the shown entries).
    #[must_use]
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// The highlighted entry.
    #[must_use]
    pub fn cursor_entry(&self) -> Option<&EntryInfo> {
        self.entries.get(*self.shown.get(self.cursor)?)
    }

    fn clamp(&mut self) {
        self.cursor = self.cursor.min(self.rows().saturating_sub(1));
    }

    /// The action that choosing row `at` means.
    fn choose(&self, at: usize, paste: bool) -> Option<Action> {
        if let Some(&i) = self.shown.get(at) {
            return Some(Action::Select {
                seq: self.entries.get(i)?.seq,
                paste,
            });
        }
        let hit = self.archive.get(at - self.shown.len())?;
        Some(Action::Restore { id: hit.id, paste })
    }

    /// Acts on one key; `page` is how many rows a page holds.
    pub fn input(&mut self, input: Input, page: usize) -> Option<Action> {
        self.refilter();
        let last = self.rows().saturating_sub(1);
        let page = page.max(1);
        self.scroll_to_cursor = true;
        match input {
            Input::Up => self.cursor = self.cursor.saturating_sub(1),
            Input::Down => self.cursor = (self.cursor + 1).min(last),
            Input::PageUp => self.cursor = self.cursor.saturating_sub(page),
            Input::PageDown => self.cursor = (self.cursor + page).min(last),
            Input::Home => self.cursor = 0,
            Input::End => self.cursor = last,
            Input::Enter { shift } => {
                return self.choose(self.cursor, shift || self.paste_by_default);
            }
            Input::Pick(n) => return self.choose(n.checked_sub(1)?, self.paste_by_default),
            Input::TogglePin => {
                let entry = self.cursor_entry()?;
                return Some(Action::SetPinned(entry.seq, !entry.pinned));
            }
            Input::Delete => return Some(Action::Delete(self.cursor_entry()?.seq)),
            Input::Close => return Some(Action::Close),
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An entry as a real board describes one, changed to `seq`, `text`
    /// and `pinned` (cloned, so that fields the library adds need nothing here).
    fn entry(seq: u64, text: &str, pinned: bool) -> EntryInfo {
        static TEMPLATE: std::sync::OnceLock<EntryInfo> = std::sync::OnceLock::new();
        let mut e = TEMPLATE
            .get_or_init(|| {
                let board = crate::testing::TestBoard::new("pk-state");
                board.open().copy(&shm_clip::Clip::text("x")).unwrap();
                board.open().history().unwrap().remove(0)
            })
            .clone();
        e.seq = seq;
        e.pinned = pinned;
        e.total_size = text.len() as u64;
        e.types = vec![("text/plain;charset=utf-8".into(), text.len() as u64)];
        e.preview = text.into();
        e
    }

    fn picker() -> Picker {
        let mut p = Picker::new(false);
        p.set_entries(
            (1..=20)
                .rev()
                .map(|i| entry(i, &format!("clip number {i}"), i == 3))
                .collect(),
        );
        p
    }

    #[test]
    fn keys_move_within_the_list() {
        let mut p = picker();
        assert_eq!(p.cursor_entry().unwrap().seq, 20);
        assert_eq!(p.input(Input::Up, 5), None);
        assert_eq!(p.cursor(), 0);
        p.input(Input::Down, 5);
        assert_eq!(p.cursor_entry().unwrap().seq, 19);
        p.input(Input::PageDown, 5);
        assert_eq!(p.cursor(), 6);
        p.input(Input::End, 5);
        assert_eq!(p.cursor_entry().unwrap().seq, 1);
        p.input(Input::Down, 5);
        assert_eq!(p.cursor(), 19);
        p.input(Input::PageUp, 5);
        assert_eq!(p.cursor(), 14);
        p.input(Input::Home, 5);
        assert_eq!(p.cursor(), 0);
    }

    #[test]
    fn enter_and_alt_digits_choose_and_shift_pastes() {
        let mut p = picker();
        p.input(Input::Down, 5);
        assert_eq!(
            p.input(Input::Enter { shift: false }, 5),
            Some(Action::Select {
                seq: 19,
                paste: false
            })
        );
        assert_eq!(
            p.input(Input::Enter { shift: true }, 5),
            Some(Action::Select {
                seq: 19,
                paste: true
            })
        );
        assert_eq!(
            p.input(Input::Pick(3), 5),
            Some(Action::Select {
                seq: 18,
                paste: false
            })
        );
        assert_eq!(p.input(Input::Pick(0), 5), None);
        p.paste_by_default = true;
        assert_eq!(
            p.input(Input::Pick(1), 5),
            Some(Action::Select {
                seq: 20,
                paste: true
            })
        );
    }

    #[test]
    fn filtering_resets_the_cursor_and_an_update_keeps_it() {
        let mut p = picker();
        p.query = "number 1".into();
        p.refilter();
        // 1, 10..19 contain "number 1"; newest first.
        let shown: Vec<u64> = p.shown().map(|e| e.seq).collect();
        assert_eq!(shown, [19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 1]);
        p.input(Input::Down, 5);
        assert_eq!(p.cursor_entry().unwrap().seq, 18);
        // A new clip arrives: the cursor stays on 18.
        let mut entries = p.entries().to_vec();
        entries.insert(0, entry(21, "clip number 21", false));
        p.set_entries(entries);
        assert_eq!(p.cursor_entry().unwrap().seq, 18);
        p.query = "nothing like it".into();
        assert_eq!(p.input(Input::Enter { shift: false }, 5), None);
        assert_eq!(p.input(Input::Close, 5), Some(Action::Close));
    }

    #[test]
    fn pin_and_delete_act_on_the_cursor() {
        let mut p = picker();
        p.query = "number 3".into();
        assert_eq!(
            p.input(Input::TogglePin, 5),
            Some(Action::SetPinned(3, false))
        );
        p.input(Input::Home, 5);
        assert_eq!(p.input(Input::Delete, 5), Some(Action::Delete(3)));
        p.reset();
        assert_eq!(p.query, "");
        assert_eq!(p.shown_len(), 20);
    }
}
