//! One-line previews of clips for menus: pure functions over bytes.
//!
//! A preview never contains a tab, a newline, a NUL or rofi's `\x1f`: runs of
//! whitespace collapse to one space, and every other control character (and
//! every bidi override, which could reorder what the menu shows) is drawn
//! visibly. Text is cut on grapheme boundaries to a width in terminal columns.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use crate::human;

/// How much of a text clip is kept for previews and filtering.
pub const HEAD_BYTES: usize = 64 * 1024;

/// What a menu line says about one clip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// A text clip: its first [`HEAD_BYTES`] as text, and its line count.
    Text {
        mime: String,
        head: String,
        lines: usize,
        size: u64,
    },
    /// An image, with its pixel size where the header gave one.
    Image {
        mime: String,
        size: u64,
        dims: Option<(u32, u32)>,
    },
    /// Any other payload.
    Binary { mime: String, size: u64 },
    /// A clip with no representation at all.
    Empty,
}

impl Body {
    /// Summarises a text representation.
    pub fn text(mime: &str, data: &[u8]) -> Body {
        let cut = floor_char_boundary(data, HEAD_BYTES);
        Body::Text {
            mime: mime.to_owned(),
            head: String::from_utf8_lossy(&data[..cut]).into_owned(),
            lines: line_count(data),
            size: data.len() as u64,
        }
    }

    /// Summarises an image representation.
    pub fn image(mime: &str, data: &[u8]) -> Body {
        Body::Image {
            mime: mime.to_owned(),
            size: data.len() as u64,
            dims: png_dimensions(data),
        }
    }

    /// The MIME type shown, without parameters.
    pub fn mime(&self) -> &str {
        match self {
            Body::Text { mime, .. } | Body::Image { mime, .. } | Body::Binary { mime, .. } => {
                human::mime_base(mime)
            }
            Body::Empty => "",
        }
    }

    /// The preview, at most `width` columns wide (but never empty).
    pub fn line(&self, width: usize) -> String {
        let summary = match self {
            Body::Text {
                head,
                lines,
                size,
                mime,
            } => {
                let collapsed = collapse(head);
                if collapsed.is_empty() {
                    return fit(&bracket(human::mime_base(mime), None, *size), width);
                }
                if *lines > 1 {
                    let suffix = format!(" … ({lines} lines)");
                    let room = width.saturating_sub(suffix.width()).max(1);
                    let (text, _) = cut(&collapsed, room);
                    format!("{text}{suffix}")
                } else {
                    collapsed
                }
            }
            Body::Image { mime, size, dims } => bracket(human::mime_base(mime), *dims, *size),
            Body::Binary { mime, size } => bracket(human::mime_base(mime), None, *size),
            Body::Empty => "[[ empty ]]".to_owned(),
        };
        fit(&summary, width)
    }
}

/// `text` if it fits in `width` columns, else cut with an ellipsis.
fn fit(text: &str, width: usize) -> String {
    let (cut_text, more) = cut(text, width);
    if more {
        let (text, _) = cut(text, width.saturating_sub(1).max(1));
        format!("{text}…")
    } else {
        cut_text
    }
}

/// `[[ image/png 1920×1080 240 KiB ]]`, `[[ application/pdf 1.2 MiB ]]`.
fn bracket(mime: &str, dims: Option<(u32, u32)>, size: u64) -> String {
    let mime = visible(mime);
    match dims {
        Some((w, h)) => format!("[[ {mime} {w}×{h} {} ]]", size_short(size)),
        None => format!("[[ {mime} {} ]]", size_short(size)),
    }
}

/// `12 B`, `1.2 MiB`, `240 KiB`: one decimal below 10, none above.
pub fn size_short(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1023.5 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value < 9.95 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// Lines in `data`: newline-separated, a final newline ends the last line.
pub fn line_count(data: &[u8]) -> usize {
    if data.is_empty() {
        return 0;
    }
    // A plain loop; the bytecount crate would be faster, but this runs over
    // a board's history at most.
    #[expect(clippy::naive_bytecount, reason = "not worth a dependency")]
    let newlines = data.iter().filter(|&&b| b == b'\n').count();
    if data.ends_with(b"\n") {
        newlines
    } else {
        newlines + 1
    }
}

/// The largest index `<= max` that does not split a UTF-8 sequence (valid
/// or not, the cut then only loses whole characters).
fn floor_char_boundary(data: &[u8], max: usize) -> usize {
    if data.len() <= max {
        return data.len();
    }
    let mut at = max;
    // Continuation bytes are 0b10xx_xxxx; a sequence is at most 4 bytes.
    while at > max.saturating_sub(3) && at > 0 && data[at] & 0xC0 == 0x80 {
        at -= 1;
    }
    at
}

/// Whitespace runs as one space, trimmed; other controls made visible.
pub fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        push_visible(&mut out, c);
    }
    out
}

/// `text` with every control and bidi character made visible, newlines too.
pub fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_visible(&mut out, c);
    }
    out
}

/// One line of text for a preview pane: tabs as spaces, a CR dropped,
/// every other control made visible.
pub fn visible_line(line: &str) -> String {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if c == '\t' {
            out.push_str("    ");
        } else {
            push_visible(&mut out, c);
        }
    }
    out
}

/// Pushes `c`, or a visible stand-in for it: C0 controls as their control
/// pictures (␀ ␉ ␛ …), DEL as ␡, C1 and bidi controls as `\u{…}`.
pub fn push_visible(out: &mut String, c: char) {
    match c {
        '\0'..='\x1f' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('?')),
        '\x7f' => out.push('␡'),
        c if c.is_control() || is_bidi_control(c) => out.extend(c.escape_unicode()),
        c => out.push(c),
    }
}

/// Characters that change the direction of the text around them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The longest prefix of `text` made of whole graphemes that fits in `width`
/// columns, and whether anything was left out.
fn cut(text: &str, width: usize) -> (String, bool) {
    let mut used = 0;
    for (at, grapheme) in text.grapheme_indices(true) {
        let w = grapheme.width();
        if used + w > width {
            return (text[..at].trim_end().to_owned(), true);
        }
        used += w;
    }
    (text.to_owned(), false)
}

/// Width and height from a PNG's IHDR chunk, if `data` starts with one.
pub fn png_dimensions(data: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";
    let header = data.get(..24)?;
    if &header[..8] != SIGNATURE || header[8..12] != [0, 0, 0, 13] || &header[12..16] != b"IHDR" {
        return None;
    }
    let be = |at: usize| u32::from_be_bytes(header[at..at + 4].try_into().expect("4 bytes"));
    let (width, height) = (be(16), be(20));
    // The PNG spec limits both to 1..=2^31-1.
    let valid = |n: u32| (1..=0x7fff_ffff).contains(&n);
    (valid(width) && valid(height)).then_some((width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Body {
        Body::text("text/plain;charset=utf-8", s.as_bytes())
    }

    #[test]
    fn short_text_is_shown_as_is() {
        assert_eq!(text("hello").line(100), "hello");
    }

    #[test]
    fn whitespace_collapses_and_controls_show() {
        assert_eq!(text("  a \t b\r\n").line(100), "a b");
        assert_eq!(text("a\x1b[31mb\0c\x7f").line(100), "a␛[31mb␀c␡");
        assert_eq!(text("x\u{202e}y\u{85}z").line(100), "x\\u{202e}y z");
        assert_eq!(text("x\u{9b}y").line(100), "x\\u{9b}y");
    }

    #[test]
    fn no_preview_holds_a_separator() {
        let all: Vec<u8> = (0..=255).collect();
        for body in [
            Body::text("text/plain", &all),
            Body::Binary {
                mime: "a/b\t\n\0\x1f".into(),
                size: 3,
            },
        ] {
            let line = body.line(1000);
            assert!(!line.contains(['\t', '\n', '\0', '\x1f', '\r']), "{line:?}");
        }
    }

    #[test]
    fn long_text_is_cut_by_grapheme_and_width() {
        let line = text(&"x".repeat(200)).line(100);
        assert_eq!(line.chars().count(), 100);
        assert!(line.ends_with("x…"));
        // "é" as e + combining acute is one grapheme of width 1: never split.
        let line = text(&"e\u{301}".repeat(50)).line(10);
        assert_eq!(line, format!("{}…", "e\u{301}".repeat(9)));
        // Wide characters take two columns each.
        let line = text(&"漢".repeat(30)).line(11);
        assert_eq!(line, format!("{}…", "漢".repeat(5)));
        assert!(line.width() <= 11);
    }

    #[test]
    fn multi_line_text_ends_with_its_line_count() {
        assert_eq!(
            text("one\ntwo\nthree\n").line(100),
            "one two three … (3 lines)"
        );
        let line = text(&format!("{}\nend", "y".repeat(300))).line(40);
        assert!(line.ends_with("y … (2 lines)"), "{line}");
        assert!(line.width() <= 40, "{line}");
        assert_eq!(text("single\n").line(100), "single");
    }

    #[test]
    fn blank_and_empty_clips_say_what_they_are() {
        assert_eq!(text(" \n ").line(100), "[[ text/plain 3 B ]]");
        assert_eq!(Body::Empty.line(100), "[[ empty ]]");
    }

    #[test]
    fn images_and_binaries_show_type_size_and_pixels() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend(1920u32.to_be_bytes());
        png.extend(1080u32.to_be_bytes());
        png.resize(240 * 1024, 0);
        assert_eq!(png_dimensions(&png), Some((1920, 1080)));
        assert_eq!(
            Body::image("image/png", &png).line(100),
            "[[ image/png 1920×1080 240 KiB ]]"
        );
        let pdf = Body::Binary {
            mime: "application/pdf".into(),
            size: 1_258_291,
        };
        assert_eq!(pdf.line(100), "[[ application/pdf 1.2 MiB ]]");
        assert_eq!(
            Body::image("image/jpeg", b"\xff\xd8").line(100),
            "[[ image/jpeg 2 B ]]"
        );
    }

    #[test]
    fn png_headers_are_bounds_checked() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend(1u32.to_be_bytes());
        assert_eq!(png_dimensions(&png), None, "truncated");
        png.extend(0u32.to_be_bytes());
        assert_eq!(png_dimensions(&png), None, "zero height");
        png.truncate(20);
        png.extend(0x8000_0000u32.to_be_bytes());
        assert_eq!(png_dimensions(&png), None, "over 2^31-1");
        assert_eq!(png_dimensions(b"GIF89a"), None);
    }

    #[test]
    fn sizes_are_short() {
        assert_eq!(size_short(0), "0 B");
        assert_eq!(size_short(1023), "1023 B");
        assert_eq!(size_short(1024), "1.0 KiB");
        assert_eq!(size_short(240 * 1024), "240 KiB");
        assert_eq!(size_short(1023 * 1024 + 1000), "1.0 MiB");
        assert_eq!(size_short(5 << 30), "5.0 GiB");
    }

    #[test]
    fn heads_never_split_a_character() {
        let data = format!("{}é", "a".repeat(HEAD_BYTES - 1));
        let Body::Text { head, .. } = Body::text("text/plain", data.as_bytes()) else {
            panic!("text")
        };
        assert_eq!(head.len(), HEAD_BYTES - 1);
        assert!(!head.contains('\u{fffd}'));
    }
}
