//! The manifest: the plaintext of one stream message, before sealing.
//!
//! It says which clip this is (id, origin node, the origin board's seq of the
//! entry, which makes replays recognisable), who made it (a display name), and
//! every representation, either inline or as a reference to an encrypted
//! blob in the Object Store. Decoding treats every byte as hostile: bounds
//! and counts are checked, and nothing is allocated before it is checked.
//!
//! ```text
//! "SCM1" | clip id 16 | origin node 16 | origin seq u64 | created ns u64
//! | name len u8 | name | rep count u16
//! | per rep: mime len u8 | mime | size u64 | kind u8 (0 inline, 1 blob)
//!            | inline: size bytes | blob: chunk size u32
//! ```
//! Integers are big-endian.

const MAGIC: &[u8; 4] = b"SCM1";
/// At most this many representations in one clip.
pub const MAX_REPS: usize = 64;

/// Where a representation's bytes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// In the manifest itself.
    Inline(Vec<u8>),
    /// In the Object Store, sealed in chunks of `chunk_size` plaintext bytes.
    Blob {
        /// Plaintext bytes per chunk (the last may be shorter).
        chunk_size: u32,
    },
}

/// One representation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepEntry {
    /// Its MIME type.
    pub mime: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its bytes, or where they are.
    pub body: Body,
}

/// One commit, as it crosses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The clip's id.
    pub clip_id: [u8; 16],
    /// The node (board) where it was first copied.
    pub origin_node: [u8; 16],
    /// The origin board's seq for this commit: grows with every commit of
    /// that node, so an older one arriving again is a replay.
    pub origin_seq: u64,
    /// When it was copied, in ns since the epoch (the origin's clock; shown only).
    pub created_ns: u64,
    /// The origin bridge's display name, e.g. `laptop`.
    pub display_name: String,
    /// Its representations.
    pub reps: Vec<RepEntry>,
}

/// Why a manifest did not decode. Carries no content.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes end early.
    #[error("manifest truncated at byte {0}")]
    Truncated(usize),
    /// Not a manifest of this version.
    #[error("not a version 1 manifest")]
    BadMagic,
    /// A field out of range.
    #[error("manifest field {field} is invalid")]
    Invalid {
        /// Which field.
        field: &'static str,
    },
    /// Bytes after the last representation.
    #[error("{0} stray bytes after the manifest")]
    Trailing(usize),
}

impl Manifest {
    /// The encoded manifest.
    pub fn encode(&self) -> Vec<u8> {
        let inline: usize = self
            .reps
            .iter()
            .map(|r| match &r.body {
                Body::Inline(d) => d.len(),
                Body::Blob { .. } => 0,
            })
            .sum();
        let mut out = Vec::with_capacity(128 + inline);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.clip_id);
        out.extend_from_slice(&self.origin_node);
        out.extend_from_slice(&self.origin_seq.to_be_bytes());
        out.extend_from_slice(&self.created_ns.to_be_bytes());
        let name = truncate_utf8(&self.display_name, 255);
        out.push(name.len() as u8);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(self.reps.len() as u16).to_be_bytes());
        for rep in &self.reps {
            let mime = truncate_utf8(&rep.mime, 255);
            out.push(mime.len() as u8);
            out.extend_from_slice(mime.as_bytes());
            out.extend_from_slice(&rep.size.to_be_bytes());
            match &rep.body {
                Body::Inline(data) => {
                    out.push(0);
                    out.extend_from_slice(data);
                }
                Body::Blob { chunk_size } => {
                    out.push(1);
                    out.extend_from_slice(&chunk_size.to_be_bytes());
                }
            }
        }
        out
    }

    /// Decodes a manifest, checking every length against the bytes there are.
    pub fn decode(bytes: &[u8]) -> Result<Manifest, DecodeError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(4)? != MAGIC {
            return Err(DecodeError::BadMagic);
        }
        let clip_id = r.array16()?;
        let origin_node = r.array16()?;
        let origin_seq = r.u64()?;
        let created_ns = r.u64()?;
        let name_len = usize::from(r.u8()?);
        let display_name = r.text(name_len, "display name")?;
        let count = usize::from(r.u16()?);
        if count == 0 || count > MAX_REPS {
            return Err(DecodeError::Invalid { field: "rep count" });
        }
        let mut reps = Vec::with_capacity(count);
        for _ in 0..count {
            let mime_len = usize::from(r.u8()?);
            let mime = r.text(mime_len, "mime")?;
            if mime.is_empty() {
                return Err(DecodeError::Invalid { field: "mime" });
            }
            let size = r.u64()?;
            let body = match r.u8()? {
                0 => {
                    let len = usize::try_from(size)
                        .map_err(|_| DecodeError::Invalid { field: "size" })?;
                    Body::Inline(r.take(len)?.to_vec())
                }
                1 => {
                    let chunk_size = r.u32()?;
                    if chunk_size == 0 {
                        return Err(DecodeError::Invalid {
                            field: "chunk size",
                        });
                    }
                    Body::Blob { chunk_size }
                }
                _ => return Err(DecodeError::Invalid { field: "body kind" }),
            };
            reps.push(RepEntry { mime, size, body });
        }
        if r.at != bytes.len() {
            return Err(DecodeError::Trailing(bytes.len() - r.at));
        }
        Ok(Manifest {
            clip_id,
            origin_node,
            origin_seq,
            created_ns,
            display_name,
            reps,
        })
    }

    /// The sum of the representations' sizes (saturating: a forged size must
    /// not wrap below a limit).
    pub fn total_size(&self) -> u64 {
        self.reps
            .iter()
            .fold(0u64, |sum, r| sum.saturating_add(r.size))
    }
}

pub(crate) fn truncate_utf8(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or(DecodeError::Truncated(self.at))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn array16(&mut self) -> Result<[u8; 16], DecodeError> {
        Ok(self.take(16)?.try_into().expect("16 bytes"))
    }
    fn text(&mut self, n: usize, field: &'static str) -> Result<String, DecodeError> {
        let raw = self.take(n)?;
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| DecodeError::Invalid { field })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            clip_id: [1; 16],
            origin_node: [2; 16],
            origin_seq: 42,
            created_ns: 7,
            display_name: "laptop".into(),
            reps: vec![
                RepEntry {
                    mime: "text/plain".into(),
                    size: 5,
                    body: Body::Inline(b"hello".to_vec()),
                },
                RepEntry {
                    mime: "image/png".into(),
                    size: 1 << 30,
                    body: Body::Blob {
                        chunk_size: 131_072,
                    },
                },
            ],
        }
    }

    #[test]
    fn a_manifest_round_trips() {
        let m = sample();
        assert_eq!(Manifest::decode(&m.encode()).unwrap(), m);
        assert_eq!(m.total_size(), 5 + (1 << 30));
    }

    #[test]
    fn every_truncation_and_extension_is_an_error() {
        let bytes = sample().encode();
        for len in 0..bytes.len() {
            assert!(Manifest::decode(&bytes[..len]).is_err(), "length {len}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(Manifest::decode(&longer), Err(DecodeError::Trailing(1)));
    }

    #[test]
    fn forged_fields_are_errors_not_panics() {
        let bytes = sample().encode();
        // Every single-byte change decodes to an error or to some manifest; none panics.
        for i in 0..bytes.len() {
            for v in [0u8, 0xff, 0x80] {
                let mut bad = bytes.clone();
                bad[i] = v;
                let _ = Manifest::decode(&bad);
            }
        }
        let mut huge = sample();
        huge.reps[0].body = Body::Inline(Vec::new());
        huge.reps[0].size = u64::MAX;
        assert!(Manifest::decode(&huge.encode()).is_err());
    }
}
