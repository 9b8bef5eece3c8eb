//! Large payloads in the Object Store, sealed chunk by chunk (age's STREAM
//! idea): chunk `i` of `n` is sealed with its index and the count in the
//! associated data, so chunks cannot be reordered, dropped or moved into
//! another clip. Uploading seals one chunk at a time as the Object Store
//! reads, and downloading opens one chunk at a time, so a blob is never held
//! twice in memory.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

use crate::envelope::{Envelope, NONCE_LEN, OVERHEAD, Place};

/// The plaintext chunk the first version sealed: 128 KiB - [`OVERHEAD`],
/// one per default-sized Object Store chunk. The smallest any version seals.
pub const FIRST_CHUNK: usize = 128 * 1024 - OVERHEAD;
/// The largest plaintext chunk a receiver accepts, since the first version
/// (which accepted up to four times its own).
pub const MAX_CHUNK: usize = 4 * FIRST_CHUNK;
/// Plaintext bytes per chunk sealed here: the largest every receiver
/// accepts, so that a 30 MB blob is 58 Object Store chunks (and acks), not
/// 229 (BENCHMARKS.md, "Bridge", session 4).
pub const CHUNK: usize = MAX_CHUNK;
/// A sealed chunk, which is one Object Store chunk.
pub const SEALED_CHUNK: usize = CHUNK + OVERHEAD;
/// Bytes each sealed chunk adds.
pub const OVERHEAD_PER_CHUNK: u64 = OVERHEAD as u64;

/// How many chunks a blob of `size` bytes has (at least one).
pub fn chunk_count(size: u64, chunk: u64) -> u64 {
    size.div_ceil(chunk).max(1)
}

/// A blob's shape as a manifest gives it (plaintext size and chunk length),
/// checked once against what a receiver accepts, with everything that
/// follows from it. The one place for these bounds and for the sealed-size
/// formula: the numbers come from the network, so all of it is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    size: u64,
    chunk: u32,
    chunks: u64,
    sealed: u64,
}

impl Shape {
    /// The shape of a blob of `size` bytes in chunks of `chunk`, if it is
    /// one a receiver accepts: at most `max_size` bytes, chunks of 1 to
    /// [`MAX_CHUNK`] bytes, and a sealed size that fits in memory.
    pub fn new(size: u64, chunk: u32, max_size: u64) -> Result<Shape, BlobError> {
        let bounds = || BlobError::Bounds { size, chunk };
        if size > max_size || chunk == 0 || chunk as usize > MAX_CHUNK {
            return Err(bounds());
        }
        let chunks = chunk_count(size, u64::from(chunk));
        let sealed = chunks
            .checked_mul(OVERHEAD_PER_CHUNK)
            .and_then(|o| o.checked_add(size))
            .filter(|&sealed| usize::try_from(sealed).is_ok())
            .ok_or_else(bounds)?;
        Ok(Shape {
            size,
            chunk,
            chunks,
            sealed,
        })
    }

    /// Plaintext bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// How many chunks (at least one).
    pub fn chunks(&self) -> u64 {
        self.chunks
    }

    /// Bytes sealed: the Object Store object's size.
    pub fn sealed_len(&self) -> u64 {
        self.sealed
    }

    /// Plaintext bytes of chunk `i` (0 past the last).
    pub fn plain_len(&self, i: u64) -> usize {
        let at = i.saturating_mul(u64::from(self.chunk));
        // At most `chunk` (a u32), so it fits.
        self.size.saturating_sub(at).min(u64::from(self.chunk)) as usize
    }

    /// Sealed bytes of a full chunk.
    fn sealed_chunk(&self) -> usize {
        self.chunk as usize + OVERHEAD
    }

    /// Chunk `i`'s place (its associated data) in representation `rep` of
    /// the clip that `manifest_place` names.
    pub fn place(&self, manifest_place: Place, rep: u32, i: u64) -> Place {
        Place {
            rep,
            chunk: i,
            chunks: self.chunks,
            ..manifest_place
        }
    }
}

/// Told of every sealed chunk before it is handed out.
pub type Observer = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// An `AsyncRead` of the sealed chunks of `data`, sealing each on demand.
pub struct SealingReader {
    envelope: Envelope,
    place: Place,
    data: Arc<Vec<u8>>,
    /// The next chunk to seal.
    next: u64,
    /// The sealed chunk being handed out, and how much of it was.
    current: Vec<u8>,
    at: usize,
    observer: Option<Observer>,
}

impl std::fmt::Debug for SealingReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealingReader")
            .field("place", &self.place)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl SealingReader {
    /// Seals `data` as representation `rep` of the clip that `manifest_place` names.
    pub fn new(envelope: Envelope, manifest_place: Place, rep: u32, data: Arc<Vec<u8>>) -> Self {
        let chunks = chunk_count(data.len() as u64, CHUNK as u64);
        SealingReader {
            envelope,
            place: Place {
                rep,
                chunk: 0,
                chunks,
                ..manifest_place
            },
            data,
            next: 0,
            current: Vec::new(),
            at: 0,
            observer: None,
        }
    }

    /// Tells `observer` of each sealed chunk before it is read out (the
    /// prefetcher, so that it does not keep our own chunks).
    #[must_use]
    pub fn observed(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The next sealed chunk, whole; `None` after the last. The observer is
    /// told of it first.
    pub fn next_chunk(&mut self) -> Option<Vec<u8>> {
        if self.next == self.place.chunks {
            return None;
        }
        let start = (self.next as usize) * CHUNK;
        let end = (start + CHUNK).min(self.data.len());
        let place = Place {
            chunk: self.next,
            ..self.place
        };
        let sealed = self.envelope.seal(&place, &self.data[start..end]);
        if let Some(observer) = &self.observer {
            observer(&sealed);
        }
        self.next += 1;
        Some(sealed)
    }
}

impl AsyncRead for SealingReader {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.at == this.current.len() {
            let Some(sealed) = this.next_chunk() else {
                return Poll::Ready(Ok(())); // end of blob
            };
            this.current = sealed;
            this.at = 0;
        }
        let n = buf.remaining().min(this.current.len() - this.at);
        buf.put_slice(&this.current[this.at..this.at + n]);
        this.at += n;
        Poll::Ready(Ok(()))
    }
}

/// Why a blob was refused. Carries no content.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The manifest's numbers do not describe a blob we accept.
    #[error("blob of {size} bytes in chunks of {chunk} is out of bounds")]
    Bounds { size: u64, chunk: u32 },
    /// The object ended before the manifest's size.
    #[error("blob truncated in chunk {chunk} of {chunks}")]
    Truncated { chunk: u64, chunks: u64 },
    /// A chunk did not open.
    #[error("blob chunk {chunk} of {chunks}: {source}")]
    Chunk {
        chunk: u64,
        chunks: u64,
        #[source]
        source: crate::envelope::OpenError,
    },
    /// Bytes after the last chunk.
    #[error("blob longer than its manifest says")]
    TooLong,
    /// The object could not be read.
    #[error("reading the blob: {0}")]
    Read(std::io::Error),
}

/// Reads and opens a sealed blob of `size` bytes from `object`.
pub async fn open_blob(
    object: &mut (impl AsyncRead + Unpin),
    envelope: &Envelope,
    manifest_place: Place,
    rep: u32,
    size: u64,
    chunk: u32,
    max_size: u64,
) -> Result<Vec<u8>, BlobError> {
    let shape = Shape::new(size, chunk, max_size)?;
    let chunks = shape.chunks();
    // Fits: Shape checked that even the sealed size does.
    let mut out = Vec::with_capacity(size as usize);
    let mut sealed = vec![0; shape.sealed_chunk()];
    for i in 0..chunks {
        let piece = &mut sealed[..shape.plain_len(i) + OVERHEAD];
        object.read_exact(piece).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                BlobError::Truncated { chunk: i, chunks }
            } else {
                BlobError::Read(e)
            }
        })?;
        let place = shape.place(manifest_place, rep, i);
        let plain = envelope
            .open_in_place(&place, piece)
            .map_err(|source| BlobError::Chunk {
                chunk: i,
                chunks,
                source,
            })?;
        out.extend_from_slice(plain);
    }
    let mut extra = [0u8; 1];
    match object.read(&mut extra).await {
        Ok(0) => Ok(out),
        Ok(_) => Err(BlobError::TooLong),
        Err(e) => Err(BlobError::Read(e)),
    }
}

/// Opens a sealed blob of `size` bytes that lies whole in `sealed` (kept
/// by the prefetcher), every chunk where it lies, then moves the plaintext
/// to the front of the same buffer, so the blob is never held twice.
/// (Opening the two halves on two threads was measured and did not pay on
/// two busy cores: BENCHMARKS.md, "Bridge", session 6.)
pub fn open_sealed(
    mut sealed: Vec<u8>,
    envelope: &Envelope,
    manifest_place: Place,
    rep: u32,
    size: u64,
    chunk: u32,
    max_size: u64,
) -> Result<Vec<u8>, BlobError> {
    let shape = Shape::new(size, chunk, max_size)?;
    let chunks = shape.chunks();
    // Fits in a usize: Shape checked it.
    let expected = shape.sealed_len() as usize;
    let full = shape.sealed_chunk();
    if sealed.len() > expected {
        return Err(BlobError::TooLong);
    }
    if sealed.len() < expected {
        // The first chunk that does not fit whole.
        let chunk = ((sealed.len() / full) as u64).min(chunks - 1);
        return Err(BlobError::Truncated { chunk, chunks });
    }
    for (i, piece) in (0..).zip(sealed.chunks_mut(full)) {
        let place = shape.place(manifest_place, rep, i);
        envelope
            .open_in_place(&place, piece)
            .map_err(|source| BlobError::Chunk {
                chunk: i,
                chunks,
                source,
            })?;
    }
    let mut out = 0;
    for (i, at) in (0..chunks).zip((NONCE_LEN..).step_by(full)) {
        let plain_len = shape.plain_len(i);
        sealed.copy_within(at..at + plain_len, out);
        out += plain_len;
    }
    sealed.truncate(out);
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::BoardKey;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    #[test]
    fn a_blob_seals_and_opens_chunk_by_chunk() {
        let env = Envelope::new(&BoardKey::from_bytes([5; 32]));
        let place = Place::manifest([1; 32], [2; 16]);
        let data: Arc<Vec<u8>> = Arc::new((0..(CHUNK * 2 + 17)).map(|i| i as u8).collect());
        let mut sealed = Vec::new();
        rt().block_on(async {
            SealingReader::new(env.clone(), place, 0, data.clone())
                .read_to_end(&mut sealed)
                .await
                .unwrap();
        });
        assert_eq!(sealed.len(), data.len() + 3 * OVERHEAD);
        let open = |bytes: &[u8], rep: u32| {
            rt().block_on(open_blob(
                &mut &bytes[..],
                &env,
                place,
                rep,
                data.len() as u64,
                CHUNK as u32,
                1 << 30,
            ))
        };
        assert_eq!(&open(&sealed, 0).unwrap()[..], &data[..]);
        // Kept whole by the prefetcher: the same answers.
        let whole = |bytes: &[u8], rep: u32| {
            open_sealed(
                bytes.to_vec(),
                &env,
                place,
                rep,
                data.len() as u64,
                CHUNK as u32,
                1 << 30,
            )
        };
        assert_eq!(&whole(&sealed, 0).unwrap()[..], &data[..]);
        assert!(matches!(
            whole(&sealed, 1),
            Err(BlobError::Chunk { chunk: 0, .. })
        ));
        assert!(matches!(
            whole(&sealed[..sealed.len() - 1], 0),
            Err(BlobError::Truncated { chunk: 2, .. })
        ));
        let mut longer_whole = sealed.clone();
        longer_whole.push(0);
        assert!(matches!(whole(&longer_whole, 0), Err(BlobError::TooLong)));
        // Another representation's place, a cut, a flipped bit, an extra byte.
        assert!(matches!(
            open(&sealed, 1),
            Err(BlobError::Chunk { chunk: 0, .. })
        ));
        assert!(matches!(
            open(&sealed[..sealed.len() - 1], 0),
            Err(BlobError::Truncated { chunk: 2, .. })
        ));
        let mut bad = sealed.clone();
        bad[CHUNK + OVERHEAD + 30] ^= 1;
        assert!(matches!(
            open(&bad, 0),
            Err(BlobError::Chunk { chunk: 1, .. })
        ));
        let mut longer = sealed.clone();
        longer.push(0);
        assert!(matches!(open(&longer, 0), Err(BlobError::TooLong)));
        // Chunks swapped: each is bound to its index.
        let mut swapped = sealed.clone();
        let (a, b) = swapped.split_at_mut(CHUNK + OVERHEAD);
        a.swap_with_slice(&mut b[..CHUNK + OVERHEAD]);
        assert!(matches!(
            open(&swapped, 0),
            Err(BlobError::Chunk { chunk: 0, .. })
        ));
        let too_big = rt().block_on(open_blob(
            &mut &sealed[..],
            &env,
            place,
            0,
            1 << 40,
            CHUNK as u32,
            1 << 30,
        ));
        assert!(matches!(too_big, Err(BlobError::Bounds { .. })));
    }

    #[test]
    fn a_shape_is_checked_once_and_gives_every_length() {
        let s = Shape::new(CHUNK as u64 * 2 + 17, CHUNK as u32, 1 << 30).unwrap();
        assert_eq!(s.chunks(), 3);
        assert_eq!(
            s.sealed_len(),
            CHUNK as u64 * 2 + 17 + 3 * OVERHEAD_PER_CHUNK
        );
        assert_eq!(
            (s.plain_len(0), s.plain_len(2), s.plain_len(3)),
            (CHUNK, 17, 0)
        );
        assert_eq!(s.place(Place::manifest([1; 32], [2; 16]), 4, 2).chunks, 3);
        // An empty blob is one chunk.
        assert_eq!(Shape::new(0, 10, 10).unwrap().chunks(), 1);
        for (size, chunk, max) in [
            (11, 10, 10),                                // over max_size
            (10, 0, 10),                                 // no chunk length
            (10, MAX_CHUNK as u32 + 1, 10),              // chunk too long
            (u64::MAX, 1, u64::MAX),                     // the sealed size overflows
            (u64::MAX - 10, MAX_CHUNK as u32, u64::MAX), // ... with large chunks too
        ] {
            assert!(
                matches!(Shape::new(size, chunk, max), Err(BlobError::Bounds { .. })),
                "{size} {chunk} {max}"
            );
        }
    }

    #[test]
    fn a_kept_blob_of_many_chunks_opens_where_it_lies() {
        let env = Envelope::new(&BoardKey::from_bytes([6; 32]));
        let place = Place::manifest([3; 32], [4; 16]);
        // The same bytes, and a flipped bit in any chunk is found by its index.
        let many: Arc<Vec<u8>> = Arc::new((0..(CHUNK * 9 + 5)).map(|i| (i * 7) as u8).collect());
        let mut sealed_many = Vec::new();
        rt().block_on(async {
            SealingReader::new(env.clone(), place, 3, many.clone())
                .read_to_end(&mut sealed_many)
                .await
                .unwrap();
        });
        let open_many = |bytes: Vec<u8>| {
            open_sealed(
                bytes,
                &env,
                place,
                3,
                many.len() as u64,
                CHUNK as u32,
                1 << 30,
            )
        };
        assert_eq!(&open_many(sealed_many.clone()).unwrap()[..], &many[..]);
        for bad_chunk in [1usize, 7] {
            let mut bad = sealed_many.clone();
            bad[bad_chunk * SEALED_CHUNK + 40] ^= 1;
            assert!(
                matches!(open_many(bad), Err(BlobError::Chunk { chunk, .. }) if chunk == bad_chunk as u64),
                "chunk {bad_chunk}"
            );
        }
    }
}
