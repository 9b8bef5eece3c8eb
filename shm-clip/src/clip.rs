//! Clips: one or more representations of the same content.

/// The longest MIME type a board stores, in bytes (the shortest is 1).
pub const MAX_MIME_LEN: usize = crate::format::MAX_MIME_LEN as usize;

/// The MIME type of plain UTF-8 text, as wl-clipboard and most X11 apps spell it.
pub const TEXT_MIME: &str = "text/plain;charset=utf-8";

/// One representation of a clip: a MIME type and its bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Representation {
    /// The MIME type, such as `text/html` or `image/png`.
    pub mime: String,
    /// The bytes, exactly as copied.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Representation {
    // Clip contents never reach logs, so Debug shows only the type and size.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Representation({}, {} bytes)",
            self.mime,
            self.data.len()
        )
    }
}

/// Content to put on a board, or content read back from it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Clip {
    /// The representations, most preferred first.
    pub reps: Vec<Representation>,
}

impl Clip {
    /// A clip with a single representation.
    #[must_use]
    pub fn new(mime: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        Clip {
            reps: vec![Representation {
                mime: mime.into(),
                data: data.into(),
            }],
        }
    }

    /// A plain-text clip.
    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Self::new(TEXT_MIME, text.into().into_bytes())
    }

    /// Adds another representation of the same content.
    #[must_use]
    pub fn with(mut self, mime: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        self.reps.push(Representation {
            mime: mime.into(),
            data: data.into(),
        });
        self
    }

    /// The representation best matching `mime` (see [`mime_matches`]).
    #[must_use]
    pub fn get(&self, mime: &str) -> Option<&Representation> {
        self.reps
            .iter()
            .find(|r| r.mime == mime)
            .or_else(|| self.reps.iter().find(|r| mime_matches(mime, &r.mime)))
    }

    /// The text of the clip, if it has a valid UTF-8 text representation.
    #[must_use]
    pub fn text_str(&self) -> Option<&str> {
        self.reps
            .iter()
            .filter(|r| is_text(&r.mime))
            .find_map(|r| std::str::from_utf8(&r.data).ok())
    }

    /// The MIME types, in order.
    #[must_use]
    pub fn types(&self) -> Vec<&str> {
        self.reps.iter().map(|r| r.mime.as_str()).collect()
    }

    /// The sum of all representations' sizes.
    #[must_use]
    pub fn total_size(&self) -> u64 {
        self.reps.iter().map(|r| r.data.len() as u64).sum()
    }
}

/// Whether `mime` names plain text, in any of the spellings apps use.
#[must_use]
pub fn is_text(mime: &str) -> bool {
    let base = mime.split(';').next().unwrap_or("").trim();
    base.eq_ignore_ascii_case("text/plain")
        || matches!(mime, "UTF8_STRING" | "STRING" | "TEXT" | "text")
}

/// Whether a request for `wanted` may be served by the stored type `stored`.
///
/// Exact matches win; otherwise `text`, `text/plain` and X11's `UTF8_STRING`
/// all match any plain-text type, and a type without parameters matches the
/// same type with parameters.
#[must_use]
pub fn mime_matches(wanted: &str, stored: &str) -> bool {
    if wanted.eq_ignore_ascii_case(stored) {
        return true;
    }
    if is_text(wanted) && is_text(stored) {
        return true;
    }
    let base = stored.split(';').next().unwrap_or("").trim();
    !wanted.contains(';') && wanted.eq_ignore_ascii_case(base)
}

/// Guesses the MIME type of `data`: plain UTF-8 text when it looks like
/// text (see [`looks_like_text`]), else the type its magic bytes name (the
/// `infer` crate's ~200 signatures: images, archives, documents, audio,
/// video, executables), else `application/octet-stream`.
///
/// Text is decided first because some signatures are two ASCII letters
/// (`BM` for BMP, `MZ` for DOS executables) that plenty of text starts with.
#[must_use]
pub fn sniff_mime(data: &[u8]) -> &'static str {
    if looks_like_text(data) {
        return TEXT_MIME;
    }
    match infer::get(data) {
        // infer's text matchers (HTML, XML, shell scripts) recognise text
        // by its first bytes; content that failed the text check is not text.
        Some(kind) if kind.matcher_type() != infer::MatcherType::Text => kind.mime_type(),
        _ => "application/octet-stream",
    }
}

/// Whether `data` is text a terminal can show: valid UTF-8 without NUL or
/// other control characters, except tab, newline, vertical tab, form feed,
/// carriage return, backspace (overstrike, as `man` prints) and escape (ANSI
/// colours). Valid UTF-8 alone is not enough: 64 KiB of NUL bytes is valid
/// UTF-8 and not text. The empty clip counts as text.
#[must_use]
pub fn looks_like_text(data: &[u8]) -> bool {
    let control = |b: &u8| matches!(b, 0x00..=0x07 | 0x0e..=0x1a | 0x1c..=0x1f | 0x7f);
    !data.iter().any(control) && std::str::from_utf8(data).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_aliases_match() {
        assert!(mime_matches("text/plain", TEXT_MIME));
        assert!(mime_matches("UTF8_STRING", TEXT_MIME));
        assert!(mime_matches("text", "text/plain"));
        assert!(mime_matches("text/html", "text/html;charset=utf-8"));
        assert!(!mime_matches("image/png", TEXT_MIME));
    }

    #[test]
    fn sniffs_png_and_text() {
        assert_eq!(sniff_mime(b"\x89PNG\r\n\x1a\n...."), "image/png");
        assert_eq!(sniff_mime("héllo".as_bytes()), TEXT_MIME);
        assert_eq!(sniff_mime(&[0xff, 0xfe, 0x00]), "application/octet-stream");
    }

    #[test]
    fn nul_bytes_are_not_text() {
        assert_eq!(sniff_mime(&vec![0u8; 64 << 10]), "application/octet-stream");
        assert!(!looks_like_text(b"abc\0def"));
        assert!(looks_like_text(b""));
        assert!(looks_like_text(b"\x1b[1mbold\x1b[0m\ttab\r\n"));
    }

    #[test]
    fn text_that_starts_like_a_signature_is_text() {
        // "BM" is BMP's whole signature, "MZ" a DOS executable's.
        assert_eq!(sniff_mime(b"BMW is a car maker"), TEXT_MIME);
        assert_eq!(sniff_mime(b"MZ-80 was a computer"), TEXT_MIME);
        assert_eq!(sniff_mime(b"<html><b>x</b></html>"), TEXT_MIME);
    }

    #[test]
    fn binary_formats_are_named_by_their_magic() {
        assert_eq!(
            sniff_mime(b"PK\x03\x04\x14\x00\x00\x00\x08\x00"),
            "application/zip"
        );
        assert_eq!(
            sniff_mime(b"\x1f\x8b\x08\x00\x00\x00\x00\x00"),
            "application/gzip"
        );
        assert_eq!(
            sniff_mime(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"),
            "application/pdf"
        );
    }
}
