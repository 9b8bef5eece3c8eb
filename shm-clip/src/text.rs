//! The readable text of a clip: its plain text, its HTML without tags, and
//! its URI list. One definition for every place that shows or searches a
//! clip's words: the board's previews, `shm-clip search`, the picker's
//! filter and the archive's full-text index.

use crate::clip::is_text;

/// What kind of readable text a MIME type carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TextKind {
    /// `text/plain` and X11's names for it.
    Plain,
    /// `text/html`: read without its tags.
    Html,
    /// `text/uri-list`: read without its comment lines.
    UriList,
}

/// The kind of text that representations of `mime` hold, if any.
#[must_use]
pub fn text_kind(mime: &str) -> Option<TextKind> {
    let base = mime.split(';').next().unwrap_or("").trim();
    if base.eq_ignore_ascii_case("text/html") {
        Some(TextKind::Html)
    } else if base.eq_ignore_ascii_case("text/uri-list") {
        Some(TextKind::UriList)
    } else if is_text(mime) {
        Some(TextKind::Plain)
    } else {
        None
    }
}

/// Of a clip's representation types, the one whose text reads best, with
/// its kind: the first plain text, else the first HTML, else the first URI
/// list. What a one-line preview shows.
#[must_use]
pub fn best_text_type<'a>(types: impl IntoIterator<Item = &'a str>) -> Option<(TextKind, &'a str)> {
    types
        .into_iter()
        .filter_map(|mime| text_kind(mime).map(|kind| (kind, mime)))
        // The first of the lowest kind: `min_by_key` keeps the first.
        .min_by_key(|(kind, _)| *kind)
}

/// A clip's readable text from its `(mime, data)` representations, at most
/// `max` bytes of it (cut at a character boundary; each representation is
/// read from its first `max` bytes). Plain text comes first; HTML counts
/// only when there is no plain text (a browser's copy carries both, with
/// the same words); a URI list is added unless the text holds it already.
#[must_use]
pub fn readable_text<'a>(
    reps: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    max: usize,
) -> String {
    let mut plain = Vec::new();
    let mut html = Vec::new();
    let mut uris = Vec::new();
    for (mime, data) in reps {
        let Some(kind) = text_kind(mime) else {
            continue;
        };
        let text = String::from_utf8_lossy(&data[..data.len().min(max)]);
        match kind {
            TextKind::Plain => plain.push(text.into_owned()),
            TextKind::Html => html.push(strip_tags(&text)),
            TextKind::UriList => uris.push(uri_lines(&text)),
        }
    }
    let mut out = if plain.is_empty() {
        html.join("\n")
    } else {
        plain.join("\n")
    };
    for u in uris {
        if !out.contains(&u) {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&u);
        }
    }
    if out.len() > max {
        let mut end = max;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    out
}

/// A URI list's URIs, one per line: its comment lines (`#`) and its CRs out.
#[must_use]
pub fn uri_lines(list: &str) -> String {
    list.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// HTML to its text: tags, comments, scripts and styles out, the common
/// entities decoded. Not a parser; enough that tag names and attributes
/// neither show nor match searches. An unclosed tag at the end (a cut-off
/// head) ends the text.
#[must_use]
pub fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let tail = &rest[lt..];
        let close = if starts_with_ci(tail, "<!--") {
            tail.find("-->").map(|i| i + 3)
        } else if starts_with_ci(tail, "<script") || starts_with_ci(tail, "<style") {
            let end_tag = if starts_with_ci(tail, "<script") {
                "</script"
            } else {
                "</style"
            };
            find_ci(tail, end_tag).and_then(|i| tail[i..].find('>').map(|j| i + j + 1))
        } else {
            tail.find('>').map(|i| i + 1)
        };
        match close {
            Some(end) => {
                out.push(' ');
                rest = &tail[end..];
            }
            None => rest = "",
        }
    }
    out.push_str(rest);
    decode_entities(&out)
}

fn starts_with_ci(hay: &str, prefix: &str) -> bool {
    hay.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_name_their_kind_of_text() {
        assert_eq!(text_kind("text/plain;charset=utf-8"), Some(TextKind::Plain));
        assert_eq!(text_kind("UTF8_STRING"), Some(TextKind::Plain));
        assert_eq!(text_kind("Text/HTML; charset=utf-8"), Some(TextKind::Html));
        assert_eq!(text_kind("text/uri-list"), Some(TextKind::UriList));
        assert_eq!(text_kind("image/png"), None);
        assert_eq!(text_kind("text/x-moz-url-priv"), None);
    }

    #[test]
    fn plain_text_reads_best_then_html_then_uris() {
        let types = [
            "image/png",
            "text/uri-list",
            "text/html",
            "text/plain",
            "UTF8_STRING",
        ];
        assert_eq!(best_text_type(types), Some((TextKind::Plain, "text/plain")));
        assert_eq!(
            best_text_type(types[..3].iter().copied()),
            Some((TextKind::Html, "text/html"))
        );
        assert_eq!(
            best_text_type(types[..2].iter().copied()),
            Some((TextKind::UriList, "text/uri-list"))
        );
        assert_eq!(best_text_type(["image/png"]), None);
    }

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
        assert_eq!(strip_tags("<SCRIPT>x</SCRIPT>y").trim(), "y");
        // A multi-byte character right after '<' is no tag name to compare.
        assert_eq!(strip_tags("<é>ok").trim(), "ok");
    }

    #[test]
    fn plain_text_wins_over_html_and_uris_are_added() {
        let text = readable_text(
            [
                ("text/html", b"<b>bold words</b>".as_slice()),
                ("text/plain;charset=utf-8", b"bold words".as_slice()),
                (
                    "text/uri-list",
                    b"# comment\r\nfile:///tmp/x\r\n".as_slice(),
                ),
                ("image/png", b"\x89PNG".as_slice()),
            ],
            1 << 20,
        );
        assert_eq!(text, "bold words\nfile:///tmp/x");
        assert_eq!(
            readable_text([("text/html", b"<i>only</i>".as_slice())], 1 << 20).trim(),
            "only"
        );
        assert_eq!(
            readable_text(
                [("text/uri-list", b"file:///a\nfile:///b".as_slice())],
                1 << 20
            ),
            "file:///a\nfile:///b"
        );
    }

    #[test]
    fn the_text_is_cut_at_a_character_boundary() {
        let text = readable_text([("text/plain", "aé".as_bytes())], 2);
        assert_eq!(text, "a");
    }
}
