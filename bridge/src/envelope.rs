//! Sealing and opening the bridge's ciphertexts: XChaCha20-Poly1305 with the
//! board key, a random 192-bit nonce per piece, and associated data that binds
//! each piece to its place.
//!
//! The associated data names the protocol version, the board (its keyed
//! hash), the clip id, the representation index and the chunk index (with the
//! chunk count, as age's STREAM marks the last chunk). A piece moved into
//! another clip, board, representation or position fails to open.
//!
//! A sealed piece is `nonce (24) || ciphertext || tag (16)`.

use chacha20poly1305::aead::{Aead, AeadInPlace, KeyInit, Payload};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};

use crate::key::BoardKey;

/// Bytes a sealed piece adds to its plaintext.
pub const OVERHEAD: usize = NONCE_LEN + TAG_LEN;
/// Bytes of the random nonce at the start of a sealed piece.
pub const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const CONTEXT: &[u8; 16] = b"shm-clip-bridge1";

/// Which piece of which clip a ciphertext is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    /// The board's keyed name hash.
    pub board: [u8; 32],
    /// The clip's id.
    pub clip: [u8; 16],
    /// The representation, or [`Place::MANIFEST`] for the manifest, or
    /// [`Place::SELECTION`] for a selection.
    pub rep: u32,
    /// The chunk's index within the representation's blob.
    pub chunk: u64,
    /// How many chunks the blob has (1 for the manifest).
    pub chunks: u64,
}

impl Place {
    /// The `rep` of a manifest.
    pub const MANIFEST: u32 = u32::MAX;
    /// The `rep` of a selection: neither kind opens as the other.
    pub const SELECTION: u32 = u32::MAX - 1;

    /// The manifest of `clip` on `board`.
    pub fn manifest(board: [u8; 32], clip: [u8; 16]) -> Place {
        Place {
            board,
            clip,
            rep: Place::MANIFEST,
            chunk: 0,
            chunks: 1,
        }
    }

    /// The selection of `clip` on `board`.
    pub fn selection(board: [u8; 32], clip: [u8; 16]) -> Place {
        Place {
            rep: Place::SELECTION,
            ..Place::manifest(board, clip)
        }
    }

    fn aad(&self) -> [u8; 16 + 32 + 16 + 4 + 8 + 8] {
        let mut aad = [0; 84];
        aad[..16].copy_from_slice(CONTEXT);
        aad[16..48].copy_from_slice(&self.board);
        aad[48..64].copy_from_slice(&self.clip);
        aad[64..68].copy_from_slice(&self.rep.to_be_bytes());
        aad[68..76].copy_from_slice(&self.chunk.to_be_bytes());
        aad[76..84].copy_from_slice(&self.chunks.to_be_bytes());
        aad
    }
}

/// Why a ciphertext did not open. Carries no content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Shorter than a nonce and a tag.
    #[error("truncated ciphertext ({0} bytes)")]
    Truncated(usize),
    /// The tag did not verify: wrong key, tampered bytes, or a piece from
    /// another place.
    #[error("authentication failed (wrong key, tampered, or moved from another clip)")]
    Forged,
}

/// The cipher of one board key.
#[derive(Clone)]
pub struct Envelope {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Envelope(..)")
    }
}

impl Envelope {
    /// The cipher for `key`.
    pub fn new(key: &BoardKey) -> Envelope {
        Envelope {
            cipher: XChaCha20Poly1305::new(key.bytes().into()),
        }
    }

    /// Encrypts `plain` for `place` under a fresh random nonce.
    pub fn seal(&self, place: &Place, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the OS random source");
        // Encrypted where it will be sent: one copy of the plaintext, not
        // a ciphertext buffer copied again behind the nonce.
        let mut out = Vec::with_capacity(OVERHEAD + plain.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plain);
        let tag = self
            .cipher
            .encrypt_in_place_detached(
                XNonce::from_slice(&nonce),
                &place.aad(),
                &mut out[NONCE_LEN..],
            )
            .expect("XChaCha20-Poly1305 takes any length a Vec holds");
        out.extend_from_slice(&tag);
        out
    }

    /// Decrypts a piece sealed for `place`.
    pub fn open(&self, place: &Place, sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < OVERHEAD {
            return Err(OpenError::Truncated(sealed.len()));
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: &place.aad(),
                },
            )
            .map_err(|_| OpenError::Forged)
    }

    /// Decrypts a piece sealed for `place` where it lies, and returns the
    /// plaintext within `sealed`: a blob chunk is opened in the buffer it
    /// was read into, with no second buffer per chunk.
    pub fn open_in_place<'a>(
        &self,
        place: &Place,
        sealed: &'a mut [u8],
    ) -> Result<&'a [u8], OpenError> {
        if sealed.len() < OVERHEAD {
            return Err(OpenError::Truncated(sealed.len()));
        }
        let (nonce, body) = sealed.split_at_mut(NONCE_LEN);
        let (text, tag) = body.split_at_mut(body.len() - TAG_LEN);
        self.cipher
            .decrypt_in_place_detached(
                XNonce::from_slice(nonce),
                &place.aad(),
                text,
                Tag::from_slice(tag),
            )
            .map_err(|_| OpenError::Forged)?;
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place() -> Place {
        Place {
            board: [7; 32],
            clip: [9; 16],
            rep: 1,
            chunk: 2,
            chunks: 3,
        }
    }

    #[test]
    fn a_sealed_piece_opens_in_its_place_only() {
        let env = Envelope::new(&BoardKey::from_bytes([1; 32]));
        let sealed = env.seal(&place(), b"hello");
        assert_eq!(sealed.len(), 5 + OVERHEAD);
        assert_eq!(env.open(&place(), &sealed).unwrap(), b"hello");
        let moved = [
            Place {
                board: [8; 32],
                ..place()
            },
            Place {
                clip: [0; 16],
                ..place()
            },
            Place { rep: 0, ..place() },
            Place {
                chunk: 1,
                ..place()
            },
            Place {
                chunks: 2,
                ..place()
            },
        ];
        for other in moved {
            assert_eq!(
                env.open(&other, &sealed),
                Err(OpenError::Forged),
                "{other:?}"
            );
        }
    }

    #[test]
    fn wrong_keys_tampering_and_truncation_are_refused() {
        let env = Envelope::new(&BoardKey::from_bytes([1; 32]));
        let sealed = env.seal(&place(), b"hello");
        let stranger = Envelope::new(&BoardKey::from_bytes([2; 32]));
        assert_eq!(stranger.open(&place(), &sealed), Err(OpenError::Forged));
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert_eq!(env.open(&place(), &bad), Err(OpenError::Forged), "byte {i}");
        }
        assert_eq!(
            env.open(&place(), &sealed[..sealed.len() - 1]),
            Err(OpenError::Forged)
        );
        assert_eq!(
            env.open(&place(), &sealed[..10]),
            Err(OpenError::Truncated(10))
        );
    }

    #[test]
    fn opening_in_place_agrees_with_open_and_refuses_the_same() {
        let env = Envelope::new(&BoardKey::from_bytes([1; 32]));
        let plain: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let sealed = env.seal(&place(), &plain);
        assert_eq!(env.open(&place(), &sealed).unwrap(), plain);
        let mut buf = sealed.clone();
        assert_eq!(env.open_in_place(&place(), &mut buf).unwrap(), &plain[..]);
        for i in [0, 23, 24, 500, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                env.open_in_place(&place(), &mut bad),
                Err(OpenError::Forged),
                "byte {i}"
            );
        }
        let mut moved = sealed.clone();
        let other = Place { rep: 0, ..place() };
        assert_eq!(
            env.open_in_place(&other, &mut moved),
            Err(OpenError::Forged)
        );
        assert_eq!(
            env.open_in_place(&place(), &mut buf[..39]),
            Err(OpenError::Truncated(39))
        );
    }

    #[test]
    fn nonces_are_fresh() {
        let env = Envelope::new(&BoardKey::from_bytes([1; 32]));
        assert_ne!(
            env.seal(&place(), b"same")[..24],
            env.seal(&place(), b"same")[..24]
        );
    }
}
