//! Validating a whole segment image given as bytes, for fuzzing and for
//! the hostile-segment tests: the header (`segment`), then every committed
//! entry's slot (`format`) and record (`record`). Above all three, so that
//! the segment layer knows nothing of records.

use crate::format::{INDEX_SLOT_SIZE, IndexRecord, SLOT_COMMITTED};
use crate::segment::validate_image_header;
use crate::{Error, Result};

/// Validates a whole segment image. Arbitrary input gives an error, never a
/// panic: this is a fuzzing entry point.
pub fn validate_image(bytes: &[u8]) -> Result<()> {
    let geo = validate_image_header(bytes)?;
    for slot in 0..geo.index_slots as usize {
        // The geometry was checked against the image's length.
        let at = geo.index_offset as usize + slot * INDEX_SLOT_SIZE;
        let raw: &[u8; INDEX_SLOT_SIZE] = bytes[at..at + INDEX_SLOT_SIZE]
            .try_into()
            .expect("inside the image");
        let rec = IndexRecord::decode(raw);
        if rec.state != SLOT_COMMITTED {
            continue;
        }
        let corrupt = |what: &str| Error::CorruptEntry {
            seq: rec.seq,
            what: what.into(),
        };
        if !rec.meta_ok {
            return Err(corrupt("index slot checksum"));
        }
        rec.check(geo.arena_size).map_err(corrupt)?;
        // check() proved offset + len <= arena_size, and the arena ends the image.
        let start = (geo.arena_offset + rec.offset) as usize;
        crate::record::decode_record(&bytes[start..start + rec.len as usize])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused() {
        assert!(validate_image(&[]).is_err());
        assert!(validate_image(&[0u8; 4096]).is_err());
    }
}
