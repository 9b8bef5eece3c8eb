//! How a representation's bytes are stored: as they are, or compressed
//! with zstd (text only, schema 3).
//!
//! The bytes read back are hostile like any on disk: a stored size bounds
//! every decompression, and a result of any other length is an error.

use std::io::Read;

/// Stored as they are.
pub(crate) const RAW: i64 = 0;
/// One zstd frame.
pub(crate) const ZSTD: i64 = 1;

/// zstd's level 3 (its default). Measured on the bench's 100,000 clips
/// (BENCHMARKS.md, "Archive, schema 3"): level 9 saves 0.5 MiB more of
/// 22.6, level 19 0.9 MiB at twice the fill time, level 1 loses 0.1 MiB.
const LEVEL: i32 = 3;

/// Shorter text is stored raw: a zstd frame has about 10 bytes of
/// framing, and a few dozen bytes of text have no repetition to remove
/// (from 32 bytes on, the bench's clips came out no smaller).
pub(crate) const MIN_COMPRESSED: usize = 64;

/// `data` as it is to be stored for a representation of `mime`: text of
/// [`MIN_COMPRESSED`] bytes or more compressed, when that saves space;
/// everything else (images are compressed already) raw.
pub(crate) fn encode(mime: &str, data: &[u8]) -> (i64, Option<Vec<u8>>) {
    if data.len() < MIN_COMPRESSED || shm_clip::text_kind(mime).is_none() {
        return (RAW, None);
    }
    match zstd::bulk::compress(data, LEVEL) {
        Ok(z) if z.len() < data.len() => (ZSTD, Some(z)),
        _ => (RAW, None),
    }
}

/// Why stored bytes could not be read back.
#[derive(Debug)]
pub(crate) struct Damaged(pub(crate) String);

impl std::fmt::Display for Damaged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "stored content is damaged ({}); the file is left as it is. Fix: \
             `sqlite3 FILE .recover > archive.sql` rescues the rest",
            self.0
        )
    }
}

impl std::error::Error for Damaged {}

fn damaged(why: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Blob,
        Box::new(Damaged(why)),
    )
}

/// The first `max` bytes (all when `max >= size`) of content of `size`
/// bytes stored as `stored` with `codec`. Only the bytes asked for are
/// read from `stored` and decompressed.
pub(crate) fn decode(
    codec: i64,
    stored: impl Read,
    size: u64,
    max: usize,
) -> rusqlite::Result<Vec<u8>> {
    let want = usize::try_from(size).unwrap_or(usize::MAX).min(max);
    // One byte past a whole content shows stored bytes longer than their
    // size (a bomb, or a damaged size), without inflating them.
    let limit = (want as u64).saturating_add(u64::from(want as u64 == size));
    // The size is from the file too: memory grows with what is really read.
    let mut out = Vec::with_capacity(want.min(1 << 20));
    let io = |e: std::io::Error| damaged(e.to_string());
    match codec {
        RAW => {
            stored.take(limit).read_to_end(&mut out).map_err(io)?;
        }
        ZSTD => {
            zstd::stream::read::Decoder::new(stored)
                .map_err(io)?
                .take(limit)
                .read_to_end(&mut out)
                .map_err(io)?;
        }
        other => return Err(damaged(format!("unknown codec {other}"))),
    }
    if out.len() != want {
        return Err(damaged(format!(
            "{}{} bytes where {want} of {size} were expected",
            out.len(),
            if out.len() as u64 == limit && limit > want as u64 {
                " or more"
            } else {
                ""
            }
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_compressed_and_short_or_binary_stays_raw() {
        let text = "the quick brown fox jumps over the lazy dog; ".repeat(20);
        let (codec, z) = encode("text/plain;charset=utf-8", text.as_bytes());
        let z = z.unwrap();
        assert_eq!(codec, ZSTD);
        assert!(z.len() < text.len() / 4, "{} of {}", z.len(), text.len());
        let n = text.len() as u64;
        assert_eq!(
            decode(ZSTD, &z[..], n, usize::MAX).unwrap(),
            text.as_bytes()
        );
        assert_eq!(decode(ZSTD, &z[..], n, 9).unwrap(), b"the quick");
        assert_eq!(encode("text/plain", b"short text").0, RAW);
        assert_eq!(encode("image/png", text.as_bytes()).0, RAW);
        assert_eq!(decode(RAW, &b"abcdef"[..], 6, 3).unwrap(), b"abc");
    }

    #[test]
    fn a_wrong_size_or_damaged_frame_is_an_error_not_a_panic() {
        let text = "words words words and more words ".repeat(10);
        let z = encode("text/plain", text.as_bytes()).1.unwrap();
        let n = text.len() as u64;
        // A size that understates the frame: a bomb is not inflated.
        assert!(decode(ZSTD, &z[..], n - 1, usize::MAX).is_err());
        assert!(decode(ZSTD, &z[..], n + 1, usize::MAX).is_err());
        assert!(decode(ZSTD, &z[..z.len() / 2], n, usize::MAX).is_err());
        let mut flipped = z.clone();
        flipped[0] ^= 0xff;
        assert!(decode(ZSTD, &flipped[..], n, usize::MAX).is_err());
        assert!(decode(RAW, &b"abc"[..], 4, usize::MAX).is_err());
        assert!(decode(RAW, &b"abcd"[..], 3, usize::MAX).is_err());
        // A size no file holds is an error, not an allocation.
        assert!(decode(RAW, &b"abcd"[..], u64::MAX, usize::MAX).is_err());
        assert!(decode(ZSTD, &z[..], u64::MAX, usize::MAX).is_err());
        let err = decode(7, &b"abc"[..], 3, usize::MAX).unwrap_err();
        assert!(err.to_string().contains("unknown codec 7"), "{err}");
    }
}
