//! The searchable text of a clip: its plain text, its HTML without tags, and
//! its URI list. Only this text reaches the full-text index.

/// At most this much text of one clip is indexed: a 50 MB log stays
/// searchable by its beginning without a 50 MB index entry.
pub const MAX_INDEXED: usize = 1 << 20;

/// What kind of searchable text a MIME type carries, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TextKind {
    Plain,
    Html,
    UriList,
}

/// The kind of text that representations of `mime` hold.
pub(crate) fn kind(mime: &str) -> Option<TextKind> {
    let base = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match base.as_str() {
        "text/html" => Some(TextKind::Html),
        "text/uri-list" => Some(TextKind::UriList),
        _ if shm_clip::is_text(mime) => Some(TextKind::Plain),
        _ => None,
    }
}

/// The text to index for a clip's representations, `(mime, data)` pairs.
/// Plain text comes first; HTML is indexed only when there is no plain text
/// (a browser copy carries both, with the same words).
pub(crate) fn searchable<'a>(reps: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut plain = Vec::new();
    let mut html = Vec::new();
    let mut uris = Vec::new();
    for (mime, data) in reps {
        let data = &data[..data.len().min(MAX_INDEXED)];
        let text = String::from_utf8_lossy(data);
        match kind(mime) {
            Some(TextKind::Plain) => plain.push(text.into_owned()),
            Some(TextKind::Html) => html.push(strip_tags(&text)),
            Some(TextKind::UriList) => uris.push(
                text.lines()
                    .filter(|l| !l.starts_with('#'))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            None => {}
        }
    }
    let mut out = if plain.is_empty() {
        html.join("\n")
    } else {
        plain.join("\n")
    };
    for u in uris {
        if !out.contains(&u) {
            out.push('\n');
            out.push_str(&u);
        }
    }
    if out.len() > MAX_INDEXED {
        let mut end = MAX_INDEXED;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    out
}

/// HTML to its text: tags, comments, scripts and styles out, the common
/// entities decoded. Not a parser; enough that tag names and attributes
/// do not match searches.
pub(crate) fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let tail = &rest[lt..];
        let lower: String = tail
            .chars()
            .take(9)
            .collect::<String>()
            .to_ascii_lowercase();
        let close = if lower.starts_with("<!--") {
            tail.find("-->").map(|i| i + 3)
        } else if lower.starts_with("<script") || lower.starts_with("<style") {
            let name = if lower.starts_with("<script") {
                "</script"
            } else {
                "</style"
            };
            find_ci(tail, name).and_then(|i| tail[i..].find('>').map(|j| i + j + 1))
        } else {
            tail.find('>').map(|i| i + 1)
        };
        match close {
            Some(end) => {
                out.push(' ');
                rest = &tail[end..];
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    decode_entities(&out)
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    hay.to_ascii_lowercase().find(needle)
}

fn decode_entities(text: &str) -> String {
    const ENTITIES: [(&str, &str); 6] = [
        ("&nbsp;", " "),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&amp;", "&"),
    ];
    let mut out = text.to_owned();
    for (entity, plain) in ENTITIES {
        if out.contains(entity) {
            out = out.replace(entity, plain);
        }
    }
    out
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
    fn html_loses_its_tags_scripts_and_entities() {
        let html = "<html><head><style>p{color:red}</style><script>var secretvar=1</script></head>\
                    <body><p class=\"x\">Fish &amp; chips</p><!-- note --></body></html>";
        let text = strip_tags(html);
        assert!(text.contains("Fish & chips"), "{text}");
        for gone in ["class", "color", "secretvar", "note", "<", "body"] {
            assert!(!text.contains(gone), "{gone} in {text}");
        }
        assert_eq!(strip_tags("a <b unclosed"), "a ");
    }

    #[test]
    fn plain_text_wins_over_html_and_uris_are_added() {
        let text = searchable([
            ("text/html", b"<b>bold words</b>".as_slice()),
            ("text/plain;charset=utf-8", b"bold words".as_slice()),
            ("text/uri-list", b"# comment\nfile:///tmp/x".as_slice()),
            ("image/png", b"\x89PNG".as_slice()),
        ]);
        assert_eq!(text, "bold words\nfile:///tmp/x");
        assert_eq!(
            searchable([("text/html", b"<i>only</i>".as_slice())]).trim(),
            "only"
        );
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
