//! The editor's text and selection, and the edits that copy, cut and paste
//! make to them. Plain data: positions are character indices, as egui's
//! `TextEdit` counts them.

use std::ops::Range;

/// The working document of this window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Editor {
    pub text: String,
    /// The selection in characters, `start <= end`; empty means a cursor.
    /// The UI reads it from the `TextEdit` after every frame.
    pub selection: Range<usize>,
    /// Set after an edit made here: the UI then moves the `TextEdit`'s cursor
    /// to `selection`, and clears it.
    pub moved: bool,
    /// Set until the UI has given the editor keyboard focus once, so that a
    /// new window takes typing at once.
    pub want_focus: bool,
}

impl Editor {
    fn chars(&self) -> usize {
        self.text.chars().count()
    }

    /// The selection, clamped to the text (the text may have changed since).
    pub fn selection(&self) -> Range<usize> {
        let len = self.chars();
        let end = self.selection.end.min(len);
        self.selection.start.min(end)..end
    }

    fn bytes(&self, chars: Range<usize>) -> Range<usize> {
        byte_of(&self.text, chars.start)..byte_of(&self.text, chars.end)
    }

    /// What Copy takes: the selection, or the whole text when nothing is
    /// selected. `None` when that is empty.
    pub fn copy_text(&self) -> Option<String> {
        let sel = self.selection();
        let text = if sel.is_empty() {
            self.text.as_str()
        } else {
            &self.text[self.bytes(sel)]
        };
        (!text.is_empty()).then(|| text.to_owned())
    }

    /// Removes what Copy would take, and returns where it was and what it was.
    pub fn cut(&mut self) -> Option<(usize, String)> {
        let mut sel = self.selection();
        if sel.is_empty() {
            sel = 0..self.chars();
        }
        if sel.is_empty() {
            return None;
        }
        let bytes = self.bytes(sel.clone());
        let removed = self.text[bytes.clone()].to_owned();
        self.text.replace_range(bytes, "");
        self.move_to(sel.start..sel.start);
        Some((sel.start, removed))
    }

    /// Inserts `text` at the cursor, replacing the selection; the cursor ends
    /// up after it.
    pub fn insert(&mut self, text: &str) {
        let sel = self.selection();
        let bytes = self.bytes(sel.clone());
        self.text.replace_range(bytes, text);
        let end = sel.start + text.chars().count();
        self.move_to(end..end);
    }

    /// Puts `text` back at character `at` (or at the end, if the text has
    /// since become shorter), selected.
    pub fn restore(&mut self, at: usize, text: &str) {
        let at = at.min(self.chars());
        let byte = byte_of(&self.text, at);
        self.text.insert_str(byte, text);
        self.move_to(at..at + text.chars().count());
    }

    fn move_to(&mut self, selection: Range<usize>) {
        self.selection = selection;
        self.moved = true;
    }
}

/// The byte offset of character `index` in `text` (its length past the end).
fn byte_of(text: &str, index: usize) -> usize {
    text.char_indices()
        .nth(index)
        .map_or(text.len(), |(byte, _)| byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn editor(text: &str, selection: Range<usize>) -> Editor {
        Editor {
            text: text.into(),
            selection,
            moved: false,
            want_focus: false,
        }
    }

    #[test]
    fn copy_takes_the_selection_or_everything() {
        assert_eq!(
            editor("héllo wörld", 6..11).copy_text().as_deref(),
            Some("wörld")
        );
        assert_eq!(editor("héllo", 2..2).copy_text().as_deref(), Some("héllo"));
        assert_eq!(editor("", 0..0).copy_text(), None);
        // A stale selection past the end is clamped.
        assert_eq!(editor("ab", 1..9).copy_text().as_deref(), Some("b"));
    }

    #[test]
    fn cut_removes_and_reports_what_and_where() {
        let mut e = editor("one two three", 4..8);
        assert_eq!(e.cut(), Some((4, "two ".into())));
        assert_eq!(e.text, "one three");
        assert_eq!((e.selection.clone(), e.moved), (4..4, true));

        let mut e = editor("all of it", 3..3);
        assert_eq!(e.cut(), Some((0, "all of it".into())));
        assert_eq!(e.text, "");
        assert_eq!(e.cut(), None);
    }

    #[test]
    fn insert_replaces_the_selection_and_moves_the_cursor_after() {
        let mut e = editor("hello world", 6..11);
        e.insert("bøard");
        assert_eq!(e.text, "hello bøard");
        assert_eq!(e.selection, 11..11);
        e.selection = 0..0;
        e.insert(">");
        assert_eq!(e.text, ">hello bøard");
        assert_eq!(e.selection, 1..1);
    }

    #[test]
    fn restore_puts_text_back_selected() {
        let mut e = editor("one three", 0..0);
        e.restore(4, "two ");
        assert_eq!(e.text, "one two three");
        assert_eq!(e.selection, 4..8);
        e.restore(99, "!");
        assert_eq!(e.text, "one two three!");
    }
}
