//! The format's one checksum, XXH3-64 (LAYOUT.md calls it "xxh3"): what an
//! index slot's `meta_check`, a record's `content_hash` and each
//! representation's `checksum` are.
//!
//! The implementation is twox-hash's, which picks its AVX2 code at run time:
//! 1.5–1.8× the speed of the SSE2 code that a generic x86-64 build gets
//! elsewhere, on the 4 KiB–1 MiB clips that every copy and paste hashes once
//! each. The output is XXH3's, whatever the CPU, so the format is unchanged.

use std::hash::Hasher;

use twox_hash::XxHash3_64;

/// Inputs up to this size are hashed in one call: XXH3's streaming state
/// costs about ten times the one-shot hash of a short input, and a
/// representation's checksum always streams (lengths, MIME type, data).
const GATHER: usize = 240;

/// XXH3-64 of `bytes`.
pub(crate) fn xxh3_64(bytes: &[u8]) -> u64 {
    XxHash3_64::oneshot(bytes)
}

/// XXH3-64 of bytes that arrive in pieces, equal to [`xxh3_64`] of their
/// concatenation.
pub(crate) struct Checksum {
    gathered: [u8; GATHER],
    len: usize,
    stream: Option<XxHash3_64>,
}

impl Checksum {
    pub(crate) fn new() -> Self {
        Self {
            gathered: [0; GATHER],
            len: 0,
            stream: None,
        }
    }

    pub(crate) fn update(&mut self, piece: &[u8]) {
        if let Some(stream) = &mut self.stream {
            stream.write(piece);
            return;
        }
        let end = self.len + piece.len();
        if end <= GATHER {
            self.gathered[self.len..end].copy_from_slice(piece);
            self.len = end;
            return;
        }
        let mut stream = XxHash3_64::new();
        stream.write(&self.gathered[..self.len]);
        stream.write(piece);
        self.stream = Some(stream);
    }

    pub(crate) fn digest(&self) -> u64 {
        match &self.stream {
            Some(stream) => stream.finish(),
            None => xxh3_64(&self.gathered[..self.len]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every split of inputs around the gathering limit gives XXH3-64 of the
    /// whole, as the reference implementation computes it.
    #[test]
    fn pieces_hash_as_their_concatenation() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 31 + 7) as u8).collect();
        for len in [0, 1, 16, 40, 239, 240, 241, 480, 4096, 5000] {
            let whole = &data[..len];
            let reference = xxhash_rust::xxh3::xxh3_64(whole);
            assert_eq!(xxh3_64(whole), reference, "one-shot, {len} bytes");
            for split in [0, 1, len / 3, len / 2, len.saturating_sub(1), len] {
                let (a, b) = whole.split_at(split.min(len));
                let mut c = Checksum::new();
                c.update(a);
                for piece in b.chunks(97) {
                    c.update(piece);
                }
                assert_eq!(c.digest(), reference, "{len} bytes split at {split}");
            }
        }
    }
}
