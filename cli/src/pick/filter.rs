//! The terminal picker's filter: case-insensitive, over an entry's text, its
//! MIME types and its origin. Pure, so it is tested without a terminal.

/// How well an entry matched; lower is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    /// The whole query is a substring.
    Substring,
    /// Every word of the query is a substring somewhere.
    Words,
    /// The query's characters appear in order (fuzzy).
    Fuzzy,
}

/// What one entry is searched by, lowercased once.
#[derive(Debug)]
pub struct Haystack(String);

impl Haystack {
    /// The text, the types and the origin of an entry.
    pub fn new(text: &str, types: &[&str], origin: &str) -> Self {
        let mut all = String::with_capacity(text.len() + 64);
        all.push_str(text);
        for mime in types {
            all.push('\n');
            all.push_str(mime);
        }
        all.push('\n');
        all.push_str(origin);
        Haystack(all.to_lowercase())
    }

    fn rank(&self, query: &str) -> Option<Rank> {
        let hay = self.0.as_str();
        if hay.contains(query) {
            return Some(Rank::Substring);
        }
        let mut words = query.split_whitespace().peekable();
        if words.peek().is_some() && query.split_whitespace().all(|w| hay.contains(w)) {
            return Some(Rank::Words);
        }
        let mut rest = hay.chars();
        query
            .chars()
            .filter(|c| !c.is_whitespace())
            .all(|q| rest.any(|h| h == q))
            .then_some(Rank::Fuzzy)
    }
}

/// The indices of the entries that match `query`: substring matches first,
/// then word matches, then fuzzy ones, each in history order.
pub fn filter<'a>(haystacks: impl IntoIterator<Item = &'a Haystack>, query: &str) -> Vec<usize> {
    let query = query.to_lowercase();
    let haystacks = haystacks.into_iter();
    if query.trim().is_empty() {
        return (0..haystacks.count()).collect();
    }
    let mut ranked: Vec<(Rank, usize)> = haystacks
        .enumerate()
        .filter_map(|(i, h)| h.rank(&query).map(|r| (r, i)))
        .collect();
    ranked.sort();
    ranked.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hays() -> Vec<Haystack> {
        vec![
            Haystack::new("Cherry Tart", &["text/plain"], "cli 1"),
            Haystack::new("banana split", &["text/plain"], "cli 2"),
            Haystack::new("", &["image/png"], "tray 3 (x11)"),
            Haystack::new("a big red nectarine", &["text/plain"], "window 4"),
        ]
    }

    #[test]
    fn empty_query_keeps_everything_in_order() {
        assert_eq!(filter(&hays(), ""), [0, 1, 2, 3]);
        assert_eq!(filter(&hays(), "  "), [0, 1, 2, 3]);
    }

    #[test]
    fn substring_is_case_insensitive_and_covers_type_and_origin() {
        assert_eq!(filter(&hays(), "CHERRY"), [0]);
        assert_eq!(filter(&hays(), "image/png"), [2]);
        assert_eq!(filter(&hays(), "tray"), [2]);
        assert_eq!(filter(&hays(), "window"), [3]);
    }

    #[test]
    fn substrings_rank_before_words_before_fuzzy() {
        // "ban" is a substring of banana; b..a..n also fuzzily matches the
        // nectarine ("a big red nectarine" has b, a, n in order).
        assert_eq!(filter(&hays(), "ban"), [1, 3]);
        assert_eq!(filter(&hays(), "split banana"), [1]);
        assert_eq!(filter(&hays(), "chtt"), [0]);
        assert!(filter(&hays(), "zzz").is_empty());
    }
}
