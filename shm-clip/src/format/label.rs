//! An origin label as an index slot stores it: up to [`LABEL_MAX`] bytes
//! inline, so that decoding a slot allocates nothing. A copy reads three
//! to four slots under the lock, and a `String` per slot was a malloc and a
//! free each time (about a tenth of a small copy's cost).

use std::borrow::Cow;
use std::fmt;

use super::header::LABEL_MAX;
use super::wire::truncate_utf8;

/// Up to [`LABEL_MAX`] bytes, as they were stored. Bytes read from shared
/// memory need not be UTF-8: they are only interpreted, lossily, where a
/// caller asks for text ([`Label::text`]).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Label {
    len: u8,
    bytes: [u8; LABEL_MAX],
}

const _: () = assert!(LABEL_MAX <= u8::MAX as usize);

impl Label {
    /// `text`, cut at a character boundary to fit.
    pub(crate) fn new(text: &str) -> Self {
        Self::from_bytes(truncate_utf8(text, LABEL_MAX).as_bytes())
    }

    /// The first [`LABEL_MAX`] bytes of `bytes`, whatever they are.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Self {
        let len = bytes.len().min(LABEL_MAX);
        let mut label = Label {
            len: len as u8,
            bytes: [0; LABEL_MAX],
        };
        label.bytes[..len].copy_from_slice(&bytes[..len]);
        label
    }

    /// The stored bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The label as text; invalid UTF-8 becomes U+FFFD.
    pub(crate) fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_label_is_cut_at_a_character_boundary() {
        let text = "é".repeat(LABEL_MAX);
        let label = Label::new(&text);
        assert_eq!(label.as_bytes().len(), LABEL_MAX);
        assert_eq!(label.text(), "é".repeat(LABEL_MAX / 2));
        let odd = format!("x{text}");
        assert_eq!(Label::new(&odd).as_bytes().len(), LABEL_MAX - 1);
    }

    #[test]
    fn stored_bytes_that_are_not_utf8_read_lossily() {
        let label = Label::from_bytes(&[b'a', 0xff, b'b']);
        assert_eq!(label.text(), "a\u{fffd}b");
        assert_eq!(
            Label::from_bytes(&[7; 2 * LABEL_MAX]).as_bytes().len(),
            LABEL_MAX
        );
    }
}
