//! The picker's filter: which entries match what was typed, best first.
//!
//! An entry is matched on one line of words: its text preview, its MIME
//! types and its origin (`tray`, `cli`, a window's label), all compared
//! case-insensitively. A query that occurs as a substring beats one whose
//! characters only occur in order (a fuzzy match, so `hlwd` finds
//! `hello world`); within each group the history order is kept, because
//! the newest clip is most often the one wanted.

use shm_clip::EntryInfo;

/// How an entry matched, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Match {
    /// The query is a substring (or empty).
    Substring,
    /// The query's characters occur in order.
    Fuzzy,
}

/// The text an entry is matched on: preview, types and origin.
#[must_use]
pub fn haystack(entry: &EntryInfo) -> String {
    let mut text = entry.preview.to_lowercase();
    for (mime, _) in &entry.types {
        text.push(' ');
        text.push_str(&mime.to_lowercase());
    }
    text.push(' ');
    text.push_str(entry.origin.kind.as_str());
    if !entry.origin.label.is_empty() {
        text.push(' ');
        text.push_str(&entry.origin.label.to_lowercase());
    }
    text
}

/// How `query` matches `haystack` (already lowercase), if it does.
#[must_use]
pub fn matches(query: &str, haystack: &str) -> Option<Match> {
    let query = query.trim().to_lowercase();
    if query.is_empty() || haystack.contains(&query) {
        return Some(Match::Substring);
    }
    let mut rest = haystack.chars();
    query
        .chars()
        .filter(|c| !c.is_whitespace())
        .all(|q| rest.any(|h| h == q))
        .then_some(Match::Fuzzy)
}

/// The positions in `entries` that match `query`: substring matches first,
/// then fuzzy ones, each group in history order.
#[must_use]
pub fn filter(query: &str, entries: &[EntryInfo]) -> Vec<usize> {
    let mut found: Vec<(Match, usize)> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((matches(query, &haystack(e))?, i)))
        .collect();
    found.sort();
    found.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substring_beats_fuzzy_and_case_is_ignored() {
        assert_eq!(matches("", "anything"), Some(Match::Substring));
        assert_eq!(matches("WORLD", "hello world"), Some(Match::Substring));
        assert_eq!(matches("hlwd", "hello world"), Some(Match::Fuzzy));
        assert_eq!(matches("h w", "hello world"), Some(Match::Fuzzy));
        assert_eq!(matches("dlrow", "hello world"), None);
        assert_eq!(matches("é", "café"), Some(Match::Substring));
        assert_eq!(matches("CAFÉ", "café"), Some(Match::Substring));
    }
}
