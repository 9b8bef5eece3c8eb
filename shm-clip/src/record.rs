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

/// Whether `bytes` hold an ASCII control character. Without an early exit,
/// so that it compiles to a few vector compares: `any` made it a byte at a
/// time, 200 of a small copy's 4 600 instructions (callgrind).
fn has_control_byte(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |found, &b| {
        found | u8::from(b < 0x20) | u8::from(b == 0x7f)
    }) != 0
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
        // A newline in a type would split it in two wherever types are
        // listed one per line (`paste --list-types`, X11 TARGETS dumps).
        if let Some(r) = clip
            .reps
            .iter()
            .find(|r| has_control_byte(r.mime.as_bytes()))
        {
            return Err(invalid(format!(
                "the MIME type {:?} holds a control character (a newline, a tab, ...); a type looks like text/plain or image/png",
                r.mime
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

/// One representation as described by a record's directory. Its MIME type
/// borrows the directory's bytes: a paste copies it once, into the
/// representation it fills, instead of into a `String` of its own first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RepInfo<'a> {
    pub(crate) mime: &'a str,
    /// Offset of the data from the start of the record.
    pub(crate) data_offset: u64,
    pub(crate) data_len: u64,
    pub(crate) checksum: u64,
}

/// A record's directory, checked by [`parse_directory`]: its count, every
/// descriptor, MIME type and length. Its representations are decoded again
/// from these bytes each time they are iterated, which costs less than the
/// list of them a paste allocated.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Directory<'a> {
    /// Exactly the directory: header, descriptors and MIME types.
    bytes: &'a [u8],
    /// The MIME types, one after another: checked as UTF-8 once, and cut
    /// at each type's end, which is a character boundary.
    mimes: &'a str,
    count: usize,
    data_len: u64,
}

impl<'a> Directory<'a> {
    /// The directory's length: where the first representation's data starts.
    pub(crate) fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// How many representations the record holds (at least one).
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// The representations' data lengths, summed.
    pub(crate) fn data_len(&self) -> u64 {
        self.data_len
    }

    /// The representations, in record order.
    pub(crate) fn reps(&self) -> Reps<'a> {
        Reps {
            bytes: self.bytes,
            mimes: self.mimes,
            next: 0,
            count: self.count,
            mime_at: 0,
            data_at: self.bytes.len() as u64,
        }
    }
}

/// The representations of a [`Directory`], decoded as they are reached.
#[derive(Clone, Debug)]
pub(crate) struct Reps<'a> {
    bytes: &'a [u8],
    mimes: &'a str,
    next: usize,
    count: usize,
    /// Where the next MIME type starts in `mimes`.
    mime_at: usize,
    data_at: u64,
}

impl<'a> Iterator for Reps<'a> {
    type Item = RepInfo<'a>;

    fn next(&mut self) -> Option<RepInfo<'a>> {
        if self.next == self.count {
            return None;
        }
        // `parse_directory` checked every value below, in these private
        // bytes; failing again here (it cannot) ends the iteration early
        // rather than panicking.
        let d = Desc::at(self.bytes, self.next)?;
        let mime_end = self.mime_at.checked_add(d.mime_len as usize)?;
        let mime = self.mimes.get(self.mime_at..mime_end)?;
        let info = RepInfo {
            mime,
            data_offset: self.data_at,
            data_len: d.data_len,
            checksum: d.checksum,
        };
        self.next += 1;
        self.mime_at = mime_end;
        self.data_at = self.data_at.checked_add(d.data_len)?;
        Some(info)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.count - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Reps<'_> {}

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

/// Checks a record's directory (header, descriptors, MIME strings) in
/// `bytes`, which must start at the record and may extend beyond the
/// directory. Every length is checked against `record_len`, the length the
/// index claims.
pub(crate) fn parse_directory(bytes: &[u8], record_len: u64) -> Result<Directory<'_>> {
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
    // only after the first.
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
    // One check of the whole table, then of each cut: a valid string cut
    // at character boundaries gives valid strings.
    let not_utf8 = || corrupt("MIME type is not UTF-8");
    let mimes = std::str::from_utf8(&bytes[descs_end..dir_end]).map_err(|_| not_utf8())?;
    let mut mime_at = 0;
    let mut data_at = dir_end as u64;
    for i in 0..n {
        let d = Desc::at(bytes, i).ok_or_else(|| corrupt("truncated directory"))?;
        mime_at += d.mime_len as usize;
        if !mimes.is_char_boundary(mime_at) {
            return Err(not_utf8());
        }
        data_at = data_at
            .checked_add(d.data_len)
            .ok_or_else(|| corrupt("data length overflows"))?;
    }
    if data_at != record_len {
        return Err(corrupt("record length disagrees with its directory"));
    }
    Ok(Directory {
        bytes: &bytes[..dir_end],
        mimes,
        count: n,
        data_len: record_len - dir_end as u64,
    })
}

/// Checks a representation's bytes against its directory entry.
pub(crate) fn verify(info: &RepInfo<'_>, data: Vec<u8>) -> Result<Representation> {
    if data.len() as u64 != info.data_len || checksum(info.mime.as_bytes(), &data) != info.checksum
    {
        return Err(Error::CorruptEntry {
            seq: 0,
            what: format!("checksum mismatch in {}", info.mime),
        });
    }
    Ok(Representation {
        mime: info.mime.to_owned(),
        data,
    })
}

/// Decodes and verifies a whole record. Arbitrary input gives an error, never
/// a panic: this is a fuzzing entry point.
pub fn decode_record(bytes: &[u8]) -> Result<Clip> {
    let reps = parse_directory(bytes, bytes.len() as u64)?
        .reps()
        .map(|info| {
            let start = info.data_offset as usize;
            let data = bytes[start..start + info.data_len as usize].to_vec();
            verify(&info, data)
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

    /// The MIME table is checked as UTF-8 once, whole: a table that is
    /// valid only as a whole, with a character cut between two types, is
    /// refused all the same.
    #[test]
    fn refuses_a_character_cut_between_two_types() {
        let mut bytes = encode_to_vec(&Clip::new("xa", "1").with("bx", "2"));
        let at = descs_len(2);
        assert_eq!(&bytes[at..at + 4], b"xabx");
        bytes[at + 1..at + 3].copy_from_slice("é".as_bytes());
        assert!(std::str::from_utf8(&bytes[at..at + 4]).is_ok());
        let err = parse_directory(&bytes, bytes.len() as u64).unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");

        let good = encode_to_vec(&Clip::new("xé", "1").with("bx", "2"));
        let dir = parse_directory(&good, good.len() as u64).unwrap();
        let mimes: Vec<&str> = dir.reps().map(|r| r.mime).collect();
        assert_eq!(mimes, ["xé", "bx"]);
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
