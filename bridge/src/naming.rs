//! Names on the server, derived from the board key and the board name so that
//! the server never learns board names: a BLAKE3 keyed hash (under a key
//! derived from the board key for this one purpose) names the stream, its
//! subject and the Object Store bucket.

use shm_clip::BoardName;

use crate::key::BoardKey;

/// The server-side names of one bridged board.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Names {
    /// The board's keyed hash; also bound into every ciphertext.
    pub board_hash: [u8; 32],
    /// The JetStream stream of commits.
    pub stream: String,
    /// Its one subject.
    pub subject: String,
    /// The Object Store bucket of large payloads.
    pub bucket: String,
}

impl Names {
    /// The names of `board` under `key`.
    pub fn new(key: &BoardKey, board: &BoardName) -> Names {
        let naming_key = blake3::derive_key("shm-clip-bridge 2026 board names v1", key.bytes());
        let board_hash = *blake3::keyed_hash(&naming_key, board.as_str().as_bytes()).as_bytes();
        // 128 bits are plenty to keep streams apart and short enough to read.
        let short = hex(&board_hash[..16]);
        Names {
            board_hash,
            stream: format!("SHMCLIP_{short}"),
            subject: format!("shmclip.{short}.commit"),
            bucket: format!("shmclip_{short}"),
        }
    }

    /// The Object Store name of one representation's blob.
    pub fn object(clip: &[u8; 16], rep: u32) -> String {
        format!("{}.{rep}", hex(clip))
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_hide_the_board_and_depend_on_the_key() {
        let key = BoardKey::from_bytes([3; 32]);
        let board = BoardName::new("work").unwrap();
        let names = Names::new(&key, &board);
        assert_eq!(names, Names::new(&key, &board));
        for name in [&names.stream, &names.subject, &names.bucket] {
            assert!(!name.contains("work"), "{name}");
        }
        assert_ne!(names, Names::new(&BoardKey::from_bytes([4; 32]), &board));
        assert_ne!(names, Names::new(&key, &BoardName::new("home").unwrap()));
        assert!(
            names
                .stream
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        );
    }
}
