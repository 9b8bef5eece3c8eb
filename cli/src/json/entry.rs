//! A history entry: `history --json` prints them, `watch --json` events
//! carry one's metadata.

use serde::Serialize;
use shm_clip::{Board, EntryInfo, Selector};

use super::time::{epoch_ms, rfc3339};
use super::{Origin, Type};

/// How many bytes of an entry's text `history --json` gives in `text`.
pub const TEXT_PREFIX_BYTES: usize = 512;

/// What is known about an entry without reading its content.
#[derive(Debug, Serialize)]
pub struct EntryMeta {
    pub index: usize,
    pub seq: u64,
    pub created: String,
    pub created_ms: u64,
    pub touched: String,
    pub touched_ms: u64,
    pub origin: Origin,
    pub pinned: bool,
    pub total_size: u64,
    pub types: Vec<Type>,
}

impl From<&EntryInfo> for EntryMeta {
    fn from(e: &EntryInfo) -> Self {
        EntryMeta {
            index: e.index,
            seq: e.seq,
            created: rfc3339(e.created),
            created_ms: epoch_ms(e.created),
            touched: rfc3339(e.touched),
            touched_ms: epoch_ms(e.touched),
            origin: Origin::from(&e.origin),
            pinned: e.pinned,
            total_size: e.total_size,
            types: e
                .types
                .iter()
                .map(|(mime, size)| Type {
                    mime: mime.clone(),
                    size: *size,
                })
                .collect(),
        }
    }
}

/// An entry as `history --json` prints it: metadata plus the start of its
/// text, raw, and the preview that `history` shows.
#[derive(Debug, Serialize)]
pub struct Entry {
    #[serde(flatten)]
    pub meta: EntryMeta,
    /// Up to [`TEXT_PREFIX_BYTES`] of the first text type, cut at a
    /// character boundary; `None` for a clip without text.
    pub text: Option<String>,
    /// Whether `text` is shorter than the text it starts.
    pub text_truncated: bool,
    /// For display only: up to 80 characters, newlines shown as `⏎`.
    pub preview: String,
}

impl Entry {
    /// `info` with its text read from `board`. An entry removed meanwhile
    /// has no text.
    pub fn read(board: &Board, info: &EntryInfo) -> shm_clip::Result<Self> {
        let mime = info
            .types
            .iter()
            .map(|(mime, _)| mime)
            .find(|mime| shm_clip::is_text(mime));
        let data = match mime {
            None => None,
            Some(mime) => match board.get_type(Selector::Seq(info.seq), mime) {
                Ok(rep) => Some(rep.data),
                Err(shm_clip::Error::NoSuchEntry { .. } | shm_clip::Error::NoSuchType { .. }) => {
                    None
                }
                Err(err) => return Err(err),
            },
        };
        let (text, text_truncated) = match data.as_deref().map(text_prefix) {
            Some((text, truncated)) => (Some(text), truncated),
            None => (None, false),
        };
        Ok(Entry {
            meta: EntryMeta::from(info),
            text,
            text_truncated,
            preview: info.preview.clone(),
        })
    }
}

/// The first [`TEXT_PREFIX_BYTES`] of `data` as text, never ending in part
/// of a character, and whether anything was cut off. Invalid UTF-8 inside
/// becomes U+FFFD.
fn text_prefix(data: &[u8]) -> (String, bool) {
    let head = &data[..data.len().min(TEXT_PREFIX_BYTES)];
    let end = match std::str::from_utf8(head) {
        // A character cut by the limit: drop its first bytes.
        Err(err) if err.error_len().is_none() && head.len() < data.len() => err.valid_up_to(),
        _ => head.len(),
    };
    (
        String::from_utf8_lossy(&head[..end]).into_owned(),
        end < data.len(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_raw_and_cut_at_a_character_boundary() {
        assert_eq!(text_prefix(b"a\nb\t"), ("a\nb\t".to_owned(), false));
        let long = "é".repeat(TEXT_PREFIX_BYTES);
        let (text, truncated) = text_prefix(long.as_bytes());
        assert!(truncated);
        assert_eq!(text, "é".repeat(TEXT_PREFIX_BYTES / 2));
        let odd = format!("x{long}");
        let (text, truncated) = text_prefix(odd.as_bytes());
        assert!(truncated);
        assert_eq!(text.len(), TEXT_PREFIX_BYTES - 1, "the cut é is dropped");
        assert_eq!(text_prefix(b"ok\xff"), ("ok\u{fffd}".to_owned(), false));
    }
}
