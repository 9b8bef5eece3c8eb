//! The searchable text of a clip: its plain text, its HTML without tags, and
//! its URI list. Only this text reaches the full-text index.

/// At most this much text of one clip is indexed: a 50 MB log stays
/// searchable by its beginning without a 50 MB index entry.
pub const MAX_INDEXED: usize = 1 << 20;

/// The text to index for a clip's representations, `(mime, data)` pairs:
/// the library's [`shm_clip::readable_text`], the same words that the
/// board's previews and `shm-clip search` read, up to [`MAX_INDEXED`].
pub(crate) fn searchable<'a>(reps: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    shm_clip::readable_text(reps, MAX_INDEXED)
}

/// The shortest last word that is searched as a prefix. One letter would
/// match nearly every clip (every word that starts with it), which ranks
/// nothing and costs a merge of hundreds of doclists; a one-letter last word
/// matches that one-letter word only.
pub const MIN_PREFIX: usize = 2;

/// A user's search words as an FTS5 query: every word must appear, the last
/// one as a prefix (so results come while typing) from `MIN_PREFIX`
/// letters on. Quotes keep FTS5 operators in the input from being operators.
#[must_use]
pub fn fts_query(input: &str) -> Option<String> {
    let words: Vec<&str> = input.split_whitespace().collect();
    let n = words.len();
    let terms: Vec<String> = words
        .iter()
        .enumerate()
        .filter_map(|(i, w)| {
            // The tokenizer splits on everything but letters and digits, so a
            // word like `file:///tmp` is the phrase `file tmp`; no character
            // left can be an FTS5 operator or a quote.
            let tokens: Vec<&str> = w
                .split(|c: char| !c.is_alphanumeric())
                .filter(|t| !t.is_empty())
                .collect();
            if tokens.is_empty() {
                return None;
            }
            let last_len = tokens.last().map_or(0, |t| t.chars().count());
            let w = tokens.join(" ");
            let star = if i + 1 == n && last_len >= MIN_PREFIX {
                "*"
            } else {
                ""
            };
            Some(format!("\"{w}\"{star}"))
        })
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clip_is_indexed_by_its_readable_text_up_to_the_limit() {
        let long = "word ".repeat(MAX_INDEXED);
        let text = searchable([
            ("text/html", b"<b>bold words</b>".as_slice()),
            ("text/plain", long.as_bytes()),
        ]);
        assert_eq!(text.len(), MAX_INDEXED);
        assert!(!text.contains("bold"));
    }

    #[test]
    fn queries_quote_operators() {
        assert_eq!(fts_query("foo bar").unwrap(), "\"foo\" \"bar\"*");
        assert_eq!(fts_query("NOT OR").unwrap(), "\"NOT\" \"OR\"*");
        assert_eq!(fts_query("a\"b cd*").unwrap(), "\"a b\" \"cd\"*");
        assert_eq!(fts_query("file:///tmp").unwrap(), "\"file tmp\"*");
        assert_eq!(fts_query("  -- ** "), None);
        // A one-letter last word is a word, not a prefix.
        assert_eq!(fts_query("report q").unwrap(), "\"report\" \"q\"");
        assert_eq!(fts_query("file:///t").unwrap(), "\"file t\"");
        assert_eq!(fts_query("qu").unwrap(), "\"qu\"*");
    }
}
