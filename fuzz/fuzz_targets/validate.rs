//! Arbitrary bytes as a segment image and as a history record: validation and
//! decoding must return an error, never panic or read out of bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = shm_clip::fuzzing::validate_image(data);
    let _ = shm_clip::fuzzing::decode_record(data);
});
