//! Clips: one or more representations of the same content.

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

/// Guesses the MIME type of `data` from its first bytes, falling back to text
/// for valid UTF-8 and `application/octet-stream` otherwise.
#[must_use]
pub fn sniff_mime(data: &[u8]) -> &'static str {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-", "application/pdf"),
        (b"BM", "image/bmp"),
    ];
    if let Some((_, mime)) = MAGIC.iter().find(|(magic, _)| data.starts_with(magic)) {
        return mime;
    }
    if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        return "image/webp";
    }
    if std::str::from_utf8(data).is_ok() {
        TEXT_MIME
    } else {
        "application/octet-stream"
    }
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
}
