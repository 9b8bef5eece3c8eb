//! A record's directory in the arena: its header and one descriptor per
//! representation. The MIME strings and the data follow them (LAYOUT.md,
//! "Record"); `crate::record` builds and verifies whole records with these.

use std::mem::{offset_of, size_of};

use super::wire::{put_u32, put_u64, u32_at, u64_at};

/// The start of a record in the arena.
#[repr(C)]
pub(crate) struct RecordHeader {
    pub magic: [u8; 4],
    pub rep_count: u32,
    pub reserved: u64,
}

/// Describes one representation; `rep_count` of these follow the header,
/// then each representation's MIME bytes and data bytes, in order.
#[repr(C)]
pub(crate) struct RepDesc {
    pub mime_len: u32,
    pub reserved: u32,
    pub data_len: u64,
    /// xxh3 of the MIME length and data length (u64 little-endian each),
    /// then the MIME bytes, then the data bytes.
    pub checksum: u64,
    pub reserved2: u64,
}

pub(crate) const RECORD_HEADER_SIZE: usize = size_of::<RecordHeader>();
pub(crate) const REP_DESC_SIZE: usize = size_of::<RepDesc>();
pub(crate) const RECORD_MAGIC: [u8; 4] = *b"RCD1";
pub(crate) const MAX_REPS: u32 = 64;
pub(crate) const MAX_MIME_LEN: u32 = 255;

/// Byte offsets inside a record's directory (LAYOUT.md, "Record"), for
/// tests and tools that look at records.
pub mod record_off {
    use super::{RecordHeader, RepDesc, offset_of};

    /// The header's size: the first descriptor starts here.
    pub const HEADER_SIZE: usize = super::RECORD_HEADER_SIZE;
    pub const MAGIC: usize = offset_of!(RecordHeader, magic);
    pub const REP_COUNT: usize = offset_of!(RecordHeader, rep_count);
    /// One descriptor's size.
    pub const DESC_SIZE: usize = super::REP_DESC_SIZE;
    /// Within a descriptor.
    pub const DESC_MIME_LEN: usize = offset_of!(RepDesc, mime_len);
    pub const DESC_DATA_LEN: usize = offset_of!(RepDesc, data_len);
    pub const DESC_CHECKSUM: usize = offset_of!(RepDesc, checksum);
}

/// Bytes of header plus descriptors for `n` representations.
pub(crate) const fn descs_len(n: usize) -> usize {
    RECORD_HEADER_SIZE + n * REP_DESC_SIZE
}

/// Writes a record header for `rep_count` representations.
pub(crate) fn put_header(out: &mut [u8; RECORD_HEADER_SIZE], rep_count: u32) {
    let mut b = [0u8; RECORD_HEADER_SIZE];
    b[offset_of!(RecordHeader, magic)..][..4].copy_from_slice(&RECORD_MAGIC);
    put_u32(&mut b, offset_of!(RecordHeader, rep_count), rep_count);
    *out = b;
}

/// The representation count of a record header, if `header` starts with the
/// record magic. The count itself is not judged here.
pub(crate) fn header_rep_count(header: &[u8]) -> Option<u32> {
    let magic = offset_of!(RecordHeader, magic);
    if header.len() < RECORD_HEADER_SIZE || header[magic..magic + 4] != RECORD_MAGIC {
        return None;
    }
    Some(u32_at(header, offset_of!(RecordHeader, rep_count)))
}

/// One descriptor's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Desc {
    pub(crate) mime_len: u32,
    pub(crate) data_len: u64,
    pub(crate) checksum: u64,
}

impl Desc {
    /// Writes this descriptor.
    pub(crate) fn put(&self, out: &mut [u8; REP_DESC_SIZE]) {
        let mut b = [0u8; REP_DESC_SIZE];
        put_u32(&mut b, offset_of!(RepDesc, mime_len), self.mime_len);
        put_u64(&mut b, offset_of!(RepDesc, data_len), self.data_len);
        put_u64(&mut b, offset_of!(RepDesc, checksum), self.checksum);
        *out = b;
    }

    /// Descriptor `i` of a directory that holds at least `descs_len(i + 1)`
    /// bytes; `None` if it is shorter.
    pub(crate) fn at(directory: &[u8], i: usize) -> Option<Desc> {
        let d = directory.get(descs_len(i)..descs_len(i + 1))?;
        Some(Desc {
            mime_len: u32_at(d, offset_of!(RepDesc, mime_len)),
            data_len: u64_at(d, offset_of!(RepDesc, data_len)),
            checksum: u64_at(d, offset_of!(RepDesc, checksum)),
        })
    }
}

/// Which bytes of a directory of `n` descriptors carry no meaning (reserved,
/// zero when written): the checksums do not cover them.
#[cfg(test)]
pub(crate) fn is_reserved(i: usize, n: usize) -> bool {
    let header = offset_of!(RecordHeader, reserved)..RECORD_HEADER_SIZE;
    if header.contains(&i) {
        return true;
    }
    if !(RECORD_HEADER_SIZE..descs_len(n)).contains(&i) {
        return false;
    }
    let within = (i - RECORD_HEADER_SIZE) % REP_DESC_SIZE;
    (offset_of!(RepDesc, reserved)..offset_of!(RepDesc, data_len)).contains(&within)
        || (offset_of!(RepDesc, reserved2)..REP_DESC_SIZE).contains(&within)
}
