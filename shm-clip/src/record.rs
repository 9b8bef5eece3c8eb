//! One history entry's bytes in the arena: a directory, then the payload.
//!
//! ```text
//! RecordHeader | RepDesc × n | mime_0 … mime_n-1 | data_0 … data_n-1
//! ```
//! Each `RepDesc` carries an xxh3 checksum of its MIME bytes followed by its
//! data, so a reader can prove that what it copied out is what was written.

pub(crate) use crate::format::descs_len;
#[cfg(test)]
use crate::format::xxh3_64;
use crate::format::{
    Checksum, Desc, MAX_MIME_LEN, MAX_REPS, RECORD_HEADER_SIZE, REP_DESC_SIZE, header_rep_count,
    put_header,
};
use crate::{Clip, Error, Representation, Result};

/// The longest directory handled in a fixed buffer, on the stack: the
/// header, four descriptors and four MIME types of 32 bytes fit. A copy
/// builds one of this size or less without allocating, and a paste finds
/// it in its first read of the record.
pub(crate) const SHORT_DIRECTORY: usize = 512;
const _: () = assert!(SHORT_DIRECTORY >= descs_len(4) + 4 * 32);

/// A clip checked and measured for the arena. The checksums are computed
/// while the bytes are copied in (`Board`'s copy), so that every payload
/// byte is read once: [`Encoded::directory`] then takes them.
#[derive(Debug)]
pub(crate) struct Encoded<'a> {
    clip: &'a Clip,
    /// Total record length.
    pub(crate) len: u64,
    /// Header, descriptors and MIME strings.
    pub(crate) dir_len: usize,
}

impl<'a> Encoded<'a> {
    pub(crate) fn new(clip: &'a Clip) -> Result<Self> {
        let invalid = |what: String| Error::InvalidClip { what };
        if clip.reps.is_empty() {
            return Err(invalid("a clip needs at least one representation".into()));
        }
        if clip.reps.len() > MAX_REPS as usize {
            return Err(invalid(format!(
                "a clip has at most {MAX_REPS} representations"
            )));
        }
        if clip
            .reps
            .iter()
            .any(|r| r.mime.is_empty() || r.mime.len() > MAX_MIME_LEN as usize)
        {
            return Err(invalid(format!(
                "a MIME type must be 1-{MAX_MIME_LEN} bytes"
            )));
        }
        let dir_len = directory_len(clip);
        Ok(Encoded {
            clip,
            len: dir_len as u64 + clip.total_size(),
            dir_len,
        })
    }

    /// Writes the directory into `out`, which is `dir_len` bytes long,
    /// given each representation's checksum in order. Into the caller's
    /// buffer: a copy puts it on its stack, where a `Vec` was an allocation
    /// in every copy.
    pub(crate) fn write_directory(&self, checksums: &[u64], out: &mut [u8]) {
        let reps = &self.clip.reps;
        let (header, rest) = out.split_at_mut(RECORD_HEADER_SIZE);
        let (descs, mut mimes) = rest.split_at_mut(reps.len() * REP_DESC_SIZE);
        put_header(
            header.try_into().expect("split at the header's size"),
            reps.len() as u32,
        );
        let descs = descs.chunks_exact_mut(REP_DESC_SIZE);
        for ((rep, &checksum), d) in reps.iter().zip(checksums).zip(descs) {
            Desc {
                mime_len: rep.mime.len() as u32,
                data_len: rep.data.len() as u64,
                checksum,
            }
            .put(d.try_into().expect("chunks of a descriptor's size"));
        }
        for rep in reps {
            let (this, rest) = mimes.split_at_mut(rep.mime.len());
            this.copy_from_slice(rep.mime.as_bytes());
            mimes = rest;
        }
    }

    /// The whole record in one buffer, with its content hash: for tests,
    /// never on the copy path.
    #[cfg(test)]
    pub(crate) fn to_record(&self) -> (Vec<u8>, u64) {
        let sums: Vec<u64> = self
            .clip
            .reps
            .iter()
            .map(|r| checksum(r.mime.as_bytes(), &r.data))
            .collect();
        let mut out = vec![0; self.dir_len];
        self.write_directory(&sums, &mut out);
        let hash = xxh3_64(&out);
        for rep in &self.clip.reps {
            out.extend_from_slice(&rep.data);
        }
        (out, hash)
    }

    /// The representations, in record order.
    pub(crate) fn reps(&self) -> &[Representation] {
        &self.clip.reps
    }

    pub(crate) fn rep_count(&self) -> u32 {
        self.clip.reps.len() as u32
    }

    pub(crate) fn total_size(&self) -> u64 {
        self.clip.total_size()
    }
}

/// The checksum of a representation of `data_len` bytes, begun: feed it
/// the data, in pieces, as they are copied.
pub(crate) fn rep_hasher(mime: &[u8], data_len: u64) -> Checksum {
    let mut h = Checksum::new();
    h.update(&(mime.len() as u64).to_le_bytes());
    h.update(&data_len.to_le_bytes());
    h.update(mime);
    h
}

fn directory_len(clip: &Clip) -> usize {
    descs_len(clip.reps.len()) + clip.reps.iter().map(|r| r.mime.len()).sum::<usize>()
}

/// A representation's checksum. Covers both lengths too, so moving the
/// boundary between a MIME type and its data cannot produce the same one.
pub(crate) fn checksum(mime: &[u8], data: &[u8]) -> u64 {
    let mut h = rep_hasher(mime, data.len() as u64);
    h.update(data);
    h.digest()
}

/// One representation as described by a record's directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RepInfo {
    pub(crate) mime: String,
    /// Offset of the data from the start of the record.
    pub(crate) data_offset: u64,
    pub(crate) data_len: u64,
    pub(crate) checksum: u64,
}

/// The rep count in a record header, validated.
pub(crate) fn rep_count(header: &[u8]) -> Result<usize> {
    let corrupt = |what: &str| Error::CorruptEntry {
        seq: 0,
        what: what.into(),
    };
    let Some(n) = header_rep_count(header) else {
        return Err(corrupt("bad record magic"));
    };
    if n == 0 || n > MAX_REPS {
        return Err(corrupt("bad representation count"));
    }
    Ok(n as usize)
}

/// Parses a record's directory (header, descriptors, MIME strings) from
/// `bytes`, which must start at the record and may extend beyond the directory.
/// Every length is checked against `record_len`, the length the index claims.
pub(crate) fn parse_directory(bytes: &[u8], record_len: u64) -> Result<(Vec<RepInfo>, usize)> {
    let corrupt = |what: &str| Error::CorruptEntry {
        seq: 0,
        what: what.into(),
    };
    let n = rep_count(bytes)?;
    let descs_end = descs_len(n);
    if bytes.len() < descs_end {
        return Err(corrupt("truncated directory"));
    }
    // Two passes over the descriptors (each read is a bounds-checked copy
    // out of `bytes`, which the caller owns): the MIME table's end is known
    // only after the first, and a Vec to carry them over cost an allocation.
    let mut mime_total = 0usize;
    for i in 0..n {
        let d = Desc::at(bytes, i).ok_or_else(|| corrupt("truncated directory"))?;
        if d.mime_len == 0 || d.mime_len > MAX_MIME_LEN {
            return Err(corrupt("bad MIME length"));
        }
        mime_total += d.mime_len as usize;
    }
    let dir_end = descs_end + mime_total;
    if bytes.len() < dir_end {
        return Err(corrupt("truncated MIME table"));
    }
    let mut reps = Vec::with_capacity(n);
    let mut mime_at = descs_end;
    let mut data_at = dir_end as u64;
    for i in 0..n {
        let Desc {
            mime_len,
            data_len,
            checksum,
        } = Desc::at(bytes, i).ok_or_else(|| corrupt("truncated directory"))?;
        let mime_len = mime_len as usize;
        let mime = std::str::from_utf8(&bytes[mime_at..mime_at + mime_len])
            .map_err(|_| corrupt("MIME type is not UTF-8"))?
            .to_owned();
        mime_at += mime_len;
        reps.push(RepInfo {
            mime,
            data_offset: data_at,
            data_len,
            checksum,
        });
        data_at = data_at
            .checked_add(data_len)
            .ok_or_else(|| corrupt("data length overflows"))?;
    }
    if data_at != record_len {
        return Err(corrupt("record length disagrees with its directory"));
    }
    Ok((reps, dir_end))
}

/// Checks a representation's bytes against its directory entry.
pub(crate) fn verify(info: &RepInfo, data: Vec<u8>) -> Result<Representation> {
    if data.len() as u64 != info.data_len || checksum(info.mime.as_bytes(), &data) != info.checksum
    {
        return Err(Error::CorruptEntry {
            seq: 0,
            what: format!("checksum mismatch in {}", info.mime),
        });
    }
    Ok(Representation {
        mime: info.mime.clone(),
        data,
    })
}

/// Decodes and verifies a whole record. Arbitrary input gives an error, never
/// a panic: this is a fuzzing entry point.
pub fn decode_record(bytes: &[u8]) -> Result<Clip> {
    let (infos, _) = parse_directory(bytes, bytes.len() as u64)?;
    let reps = infos
        .iter()
        .map(|info| {
            let start = info.data_offset as usize;
            let data = bytes[start..start + info.data_len as usize].to_vec();
            verify(info, data)
        })
        .collect::<Result<_>>()?;
    Ok(Clip { reps })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_to_vec(clip: &Clip) -> Vec<u8> {
        let enc = Encoded::new(clip).unwrap();
        let (out, _) = enc.to_record();
        assert_eq!(out.len() as u64, enc.len);
        out
    }

    #[test]
    fn round_trips_several_representations() {
        let clip = Clip::text("hello")
            .with("text/html", "<b>hello</b>")
            .with("image/png", vec![0u8, 1, 2, 255]);
        assert_eq!(decode_record(&encode_to_vec(&clip)).unwrap(), clip);
    }

    #[test]
    fn round_trips_empty_data() {
        let clip = Clip::text("");
        assert_eq!(decode_record(&encode_to_vec(&clip)).unwrap(), clip);
    }

    #[test]
    fn detects_every_single_byte_flip() {
        let bytes = encode_to_vec(&Clip::text("hello world").with("text/html", "<i>x</i>"));
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x01;
            // Reserved fields are not covered; everything that carries meaning is.
            if crate::format::is_reserved(i, 2) {
                continue;
            }
            assert!(decode_record(&bad).is_err(), "flip at {i} went unnoticed");
        }
    }

    #[test]
    fn refuses_truncation() {
        let bytes = encode_to_vec(&Clip::text("hello"));
        for n in 0..bytes.len() {
            assert!(decode_record(&bytes[..n]).is_err());
        }
    }

    #[test]
    fn same_content_same_hash() {
        let a = Clip::text("x").with("text/html", "y");
        let b = a.clone();
        let c = Clip::text("x").with("text/html", "z");
        assert_eq!(
            Encoded::new(&a).unwrap().to_record().1,
            Encoded::new(&b).unwrap().to_record().1
        );
        assert_ne!(
            Encoded::new(&a).unwrap().to_record().1,
            Encoded::new(&c).unwrap().to_record().1
        );
    }

    #[test]
    fn refuses_bad_clips() {
        assert!(Encoded::new(&Clip::default()).is_err());
        assert!(Encoded::new(&Clip::new("", "x")).is_err());
        assert!(Encoded::new(&Clip::new("a".repeat(256), "x")).is_err());
    }
}
