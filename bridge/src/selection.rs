//! A selection: the plaintext of a "make clip X current" stream message.
//!
//! A board makes an entry it already holds current again when its user
//! copies the same content once more (the copy is deduplicated into the old
//! entry, same clip id) or selects an older entry. No new clip exists, so no
//! manifest is sent; this message tells the other boards to make the clip
//! with that id current, in stream order like every commit. Its origin seq is
//! the origin board's seq when the bridge saw the change, on the same counter
//! as the manifests' origin seqs, so replays of either kind are recognised by
//! one rule. Decoding treats every byte as hostile.
//!
//! ```text
//! "SCS1" | clip id 16 | origin node 16 | origin seq u64 | selected ns u64
//! | name len u8 | name
//! ```
//! Integers are big-endian.

use crate::manifest::DecodeError;

const MAGIC: &[u8; 4] = b"SCS1";
const FIXED: usize = 4 + 16 + 16 + 8 + 8 + 1;

/// "Make clip `clip_id` current", from node `origin_node`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// The clip to make current.
    pub clip_id: [u8; 16],
    /// The node (board) where it was made current.
    pub origin_node: [u8; 16],
    /// That board's seq when its bridge saw the change: grows with every
    /// message of that node, commits included.
    pub origin_seq: u64,
    /// When the bridge saw it, in ns since the epoch (the origin's clock; shown only).
    pub selected_ns: u64,
    /// The origin bridge's display name, e.g. `laptop`.
    pub display_name: String,
}

impl Selection {
    /// The encoded selection.
    pub fn encode(&self) -> Vec<u8> {
        let name = crate::manifest::truncate_utf8(&self.display_name, 255);
        let mut out = Vec::with_capacity(FIXED + name.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.clip_id);
        out.extend_from_slice(&self.origin_node);
        out.extend_from_slice(&self.origin_seq.to_be_bytes());
        out.extend_from_slice(&self.selected_ns.to_be_bytes());
        out.push(name.len() as u8);
        out.extend_from_slice(name.as_bytes());
        out
    }

    /// Decodes a selection, checking every length against the bytes there are.
    pub fn decode(bytes: &[u8]) -> Result<Selection, DecodeError> {
        if bytes.len() < FIXED {
            return Err(DecodeError::Truncated(bytes.len()));
        }
        if &bytes[..4] != MAGIC {
            return Err(DecodeError::BadMagic);
        }
        let field = |at: usize, len: usize| &bytes[at..at + len];
        let name_len = usize::from(bytes[FIXED - 1]);
        let end = FIXED + name_len;
        if bytes.len() < end {
            return Err(DecodeError::Truncated(bytes.len()));
        }
        if bytes.len() > end {
            return Err(DecodeError::Trailing(bytes.len() - end));
        }
        let display_name = std::str::from_utf8(&bytes[FIXED..end])
            .map_err(|_| DecodeError::Invalid {
                field: "display name",
            })?
            .to_owned();
        Ok(Selection {
            clip_id: field(4, 16).try_into().expect("16 bytes"),
            origin_node: field(20, 16).try_into().expect("16 bytes"),
            origin_seq: u64::from_be_bytes(field(36, 8).try_into().expect("8 bytes")),
            selected_ns: u64::from_be_bytes(field(44, 8).try_into().expect("8 bytes")),
            display_name,
        })
    }

    /// The `Nats-Msg-Id` of this selection: the same clip is made current
    /// again and again, so the clip id alone would make the stream drop all
    /// but the first within its duplicate window; a retry of one selection
    /// has the same id. A hash, so that the server learns neither the node
    /// nor its seq.
    pub fn message_id(&self) -> String {
        let mut hasher = blake3::Hasher::new_derive_key("shm-clip-bridge 2026 selection id v1");
        hasher.update(&self.clip_id);
        hasher.update(&self.origin_node);
        hasher.update(&self.origin_seq.to_be_bytes());
        crate::naming::hex(&hasher.finalize().as_bytes()[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Selection {
        Selection {
            clip_id: [1; 16],
            origin_node: [2; 16],
            origin_seq: 42,
            selected_ns: 7,
            display_name: "laptop".into(),
        }
    }

    #[test]
    fn a_selection_round_trips() {
        let s = sample();
        assert_eq!(Selection::decode(&s.encode()).unwrap(), s);
    }

    #[test]
    fn every_truncation_extension_and_forged_byte_is_an_error_not_a_panic() {
        let bytes = sample().encode();
        for len in 0..bytes.len() {
            assert!(Selection::decode(&bytes[..len]).is_err(), "length {len}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(Selection::decode(&longer), Err(DecodeError::Trailing(1)));
        for i in 0..bytes.len() {
            for v in [0u8, 0xff, 0x80] {
                let mut bad = bytes.clone();
                bad[i] = v;
                let _ = Selection::decode(&bad);
            }
        }
        let mut manifest_magic = bytes.clone();
        manifest_magic[..4].copy_from_slice(b"SCM1");
        assert_eq!(
            Selection::decode(&manifest_magic),
            Err(DecodeError::BadMagic)
        );
    }

    #[test]
    fn message_ids_differ_per_selection_and_repeat_per_retry() {
        let s = sample();
        assert_eq!(s.message_id(), sample().message_id());
        assert_eq!(s.message_id().len(), 32);
        let later = Selection {
            origin_seq: 43,
            ..sample()
        };
        let elsewhere = Selection {
            origin_node: [3; 16],
            ..sample()
        };
        assert_ne!(s.message_id(), later.message_id());
        assert_ne!(s.message_id(), elsewhere.message_id());
        assert_ne!(s.message_id(), crate::naming::hex(&s.clip_id));
    }
}
