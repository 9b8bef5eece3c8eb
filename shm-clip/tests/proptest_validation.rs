//! Segment and record validation take arbitrary bytes: whatever they get,
//! they return `Ok` or `Err`, and never panic.
//!
//! Inputs are plain random bytes, headers with the right magic and random
//! fields, and a real segment image (a small board after a few copies) with
//! random bytes flipped, fields overwritten, slots copied and tails cut off.

use shm_clip_test_kit as common;

use std::sync::OnceLock;

use common::TestBoard;
use proptest::prelude::*;
use shm_clip::format::{HEADER_BYTES, INDEX_SLOT_SIZE, index_off, off, record_off};
use shm_clip::fuzzing::{decode_record, validate_image};
use shm_clip::{Clip, CreateOptions, Selector};

/// Header offsets, from the format module that owns them (LAYOUT.md).
const VERSION: usize = off::VERSION;
const INDEX_OFFSET: usize = off::INDEX_OFFSET;
const INDEX_SLOTS: usize = off::INDEX_SLOTS;
const ARENA_OFFSET: usize = off::ARENA_OFFSET;
const SLOT_COMMITTED: u32 = 2;

/// Every field of the header's immutable part, and `seq`, as (offset, width).
const HEADER_FIELDS: &[(usize, usize)] = &[
    (off::MAGIC, 8),
    (off::VERSION, 4),
    (off::HEADER_SIZE, 4),
    (off::ABI_TAG, 8),
    (off::ABI_TAG + 8, 8),
    (off::PIDNS_DEV, 8),
    (off::PIDNS_INO, 8),
    (off::CREATOR_UID, 4),
    (off::SEGMENT_SIZE, 8),
    (off::SUB_OFFSET, 8),
    (off::SUB_SLOTS, 4),
    (off::SUB_SLOT_SIZE, 4),
    (off::INDEX_OFFSET, 8),
    (off::INDEX_SLOTS, 4),
    (off::INDEX_SLOT_SIZE, 4),
    (off::ARENA_OFFSET, 8),
    (off::ARENA_SIZE, 8),
    (off::REMOVALS_OFFSET, 8),
    (off::REMOVAL_SLOTS, 4),
    (off::BUCKETS, 4),
    (off::BUCKETS_OFFSET, 8),
    (off::NODE_ID, 8),
    (off::SEQ, 8),
    (off::CURRENT, 4),
    (off::FREE_HEAD, 4),
    (off::RING_FIRST, 4),
    (off::RING_LAST, 4),
    (off::RING_HEAD, 8),
];

struct Real {
    image: Vec<u8>,
    /// The arena bytes of each committed entry.
    records: Vec<Vec<u8>>,
    clips: Vec<Clip>,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(b[at..at + 8].try_into().unwrap())
}

/// A real segment image: a 4 KiB, depth-4 board after a few copies (enough
/// to evict), a pin and a multi-representation clip.
fn real() -> &'static Real {
    static REAL: OnceLock<Real> = OnceLock::new();
    REAL.get_or_init(|| {
        let tb = TestBoard::new("proptest-image");
        let board = tb.open(CreateOptions {
            capacity: 4096,
            depth: 4,
        });
        board.copy(&Clip::text("first, soon evicted")).unwrap();
        board
            .copy(&Clip::new("application/octet-stream", vec![0xa5; 900]))
            .unwrap();
        board.set_pinned(Selector::Current, true).unwrap();
        for i in 0..4 {
            board
                .copy(&Clip::text(format!("text {i} ").repeat(20)))
                .unwrap();
        }
        board
            .copy(
                &Clip::text("multi")
                    .with("text/html", "<i>multi</i>")
                    .with("image/png", b"\x89PNG\r\n\x1a\n....".to_vec()),
            )
            .unwrap();
        let clips = board
            .history()
            .unwrap()
            .iter()
            .map(|e| board.get(Selector::Seq(e.seq)).unwrap())
            .collect();
        let image = std::fs::read(tb.path()).unwrap();
        let (index, slots) = (
            u64_at(&image, INDEX_OFFSET) as usize,
            u32_at(&image, INDEX_SLOTS) as usize,
        );
        let arena = u64_at(&image, ARENA_OFFSET) as usize;
        let records = (0..slots)
            .map(|s| &image[index + s * INDEX_SLOT_SIZE..][..INDEX_SLOT_SIZE])
            .filter(|slot| u32_at(slot, index_off::STATE) == SLOT_COMMITTED)
            .map(|slot| {
                let (at, len) = (
                    u64_at(slot, index_off::OFFSET) as usize,
                    u64_at(slot, index_off::LEN) as usize,
                );
                image[arena + at..arena + at + len].to_vec()
            })
            .collect();
        Real {
            image,
            records,
            clips,
        }
    })
}

#[test]
fn the_real_image_and_its_records_validate() {
    let real = real();
    validate_image(&real.image).unwrap();
    assert_eq!(real.records.len(), 4, "a depth-4 board after 7 copies");
    let mut decoded: Vec<Clip> = real
        .records
        .iter()
        .map(|r| decode_record(r).unwrap())
        .collect();
    let mut expected = real.clips.clone();
    let content = |c: &Clip| -> Vec<(String, Vec<u8>)> {
        c.reps
            .iter()
            .map(|r| (r.mime.clone(), r.data.clone()))
            .collect()
    };
    decoded.sort_by_key(content);
    expected.sort_by_key(content);
    assert_eq!(decoded, expected);
}

/// The bytes of a one-representation record, as the board stores them.
fn stored_record(clip: &Clip) -> Vec<u8> {
    let tb = TestBoard::new("proptest-record");
    let board = tb.open(CreateOptions {
        capacity: 4096,
        depth: 1,
    });
    board.copy(clip).unwrap();
    let image = std::fs::read(tb.path()).unwrap();
    let slot = &image[u64_at(&image, INDEX_OFFSET) as usize..][..INDEX_SLOT_SIZE];
    let at = u64_at(&image, ARENA_OFFSET) as usize + u64_at(slot, index_off::OFFSET) as usize;
    image[at..at + u64_at(slot, index_off::LEN) as usize].to_vec()
}

/// A record whose MIME/data boundary moved by one byte is corrupt, and must
/// not verify as a different clip. Each checksum covers the MIME bytes
/// followed by the data bytes, but not where one ends and the other begins.
#[test]
fn a_moved_boundary_between_mime_and_data_is_detected() {
    let clip = Clip::new("text/plain", "Xhello");
    let mut record = stored_record(&clip);
    assert_eq!(decode_record(&record).unwrap(), clip);
    // The header, then the one descriptor.
    let mime_at = record_off::HEADER_SIZE + record_off::DESC_MIME_LEN;
    let data_at = record_off::HEADER_SIZE + record_off::DESC_DATA_LEN;
    let mime_len = u32_at(&record, mime_at);
    let data_len = u64_at(&record, data_at);
    record[mime_at..mime_at + 4].copy_from_slice(&(mime_len + 1).to_ne_bytes());
    record[data_at..data_at + 8].copy_from_slice(&(data_len - 1).to_ne_bytes());
    match decode_record(&record) {
        Err(shm_clip::Error::CorruptEntry { .. }) => {}
        other => panic!(
            "a record with a moved MIME/data boundary verified as {other:?} ({:?})",
            other.as_ref().map(|c| c.reps[0].mime.clone())
        ),
    }
}

/// One change to an image.
#[derive(Clone, Debug)]
enum Mutation {
    /// XOR a byte with a non-zero mask.
    Flip { at: usize, mask: u8 },
    /// Overwrite a native-endian u32.
    U32 { at: usize, value: u32 },
    /// Overwrite a native-endian u64.
    U64 { at: usize, value: u64 },
    /// Overwrite a header field with an interesting value.
    Field { field: usize, value: u64 },
    /// Copy one index slot over another, meta checksum and all.
    CopySlot { from: usize, to: usize },
    /// Set an index slot's state word (not covered by its checksum).
    SlotState { slot: usize, state: u32 },
    /// Cut the image short.
    Truncate { at: usize },
}

/// Values that sit on the edges of what a field can mean.
fn interesting(len: usize) -> impl Strategy<Value = u64> {
    let len = len as u64;
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(2),
        Just(u64::from(u32::MAX)),
        Just(u64::MAX),
        Just(u64::MAX - 7),
        Just(i64::MAX as u64),
        Just(len),
        Just(len - 1),
        Just(len + 1),
        Just(4096),
        Just(1 << 40),
        any::<u64>(),
    ]
}

fn mutation(len: usize) -> impl Strategy<Value = Mutation> {
    // Offsets: anywhere, or biased to the header and the first index slots.
    let index = u64_at(&real().image, INDEX_OFFSET) as usize;
    let at = prop_oneof![0..len, 0..HEADER_BYTES, index..index + 4 * INDEX_SLOT_SIZE];
    prop_oneof![
        (at.clone(), 1..=255u8).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        (at.clone(), any::<u32>()).prop_map(|(at, value)| Mutation::U32 { at, value }),
        (at, any::<u64>()).prop_map(|(at, value)| Mutation::U64 { at, value }),
        (0..HEADER_FIELDS.len(), interesting(len))
            .prop_map(|(field, value)| Mutation::Field { field, value }),
        (0..4usize, 0..4usize).prop_map(|(from, to)| Mutation::CopySlot { from, to }),
        (0..4usize, 0..4u32).prop_map(|(slot, state)| Mutation::SlotState { slot, state }),
        (0..len).prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn put(b: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = at
        .checked_add(bytes.len())
        .and_then(|end| b.get_mut(at..end))
    {
        dst.copy_from_slice(bytes);
    }
}

fn apply(image: &mut Vec<u8>, m: &Mutation) {
    let index = |image: &[u8], slot: usize| {
        image.get(INDEX_OFFSET..INDEX_OFFSET + 8).and_then(|_| {
            (u64_at(image, INDEX_OFFSET) as usize).checked_add(slot * INDEX_SLOT_SIZE)
        })
    };
    match *m {
        Mutation::Flip { at, mask } => {
            if let Some(b) = image.get_mut(at) {
                *b ^= mask;
            }
        }
        Mutation::U32 { at, value } => put(image, at, &value.to_ne_bytes()),
        Mutation::U64 { at, value } => put(image, at, &value.to_ne_bytes()),
        Mutation::Field { field, value } => {
            let (at, width) = HEADER_FIELDS[field];
            put(image, at, &value.to_ne_bytes()[..width]);
        }
        Mutation::CopySlot { from, to } => {
            if let (Some(from), Some(to)) = (index(image, from), index(image, to))
                && let Some(src) = image.get(from..from.saturating_add(INDEX_SLOT_SIZE))
            {
                let src = src.to_vec();
                put(image, to, &src);
            }
        }
        Mutation::SlotState { slot, state } => {
            if let Some(at) = index(image, slot) {
                put(image, at, &state.to_ne_bytes());
            }
        }
        Mutation::Truncate { at } => image.truncate(at),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn random_bytes_are_refused_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        prop_assert!(validate_image(&bytes).is_err());
        prop_assert!(decode_record(&bytes).is_err());
    }

    #[test]
    fn random_headers_with_the_right_magic_never_panic(
        header in prop::collection::vec(any::<u8>(), HEADER_BYTES..=HEADER_BYTES),
        version_one in any::<bool>(),
        len in prop_oneof![0..512usize, 24_000..40_000usize],
    ) {
        let mut bytes = header;
        bytes[..8].copy_from_slice(b"SHMCLIP\0");
        if version_one {
            bytes[VERSION..VERSION + 4].copy_from_slice(&shm_clip::LAYOUT_VERSION.to_ne_bytes());
        }
        bytes.resize(len.max(bytes.len()), 0);
        let _ = validate_image(&bytes);
        let _ = validate_image(&bytes[..len.min(bytes.len())]);
    }

    #[test]
    fn random_records_with_the_right_magic_never_panic(
        mut bytes in prop::collection::vec(any::<u8>(), 16..2048),
        reps in 0..70u32,
    ) {
        bytes[record_off::MAGIC..][..4].copy_from_slice(b"RCD1");
        bytes[record_off::REP_COUNT..][..4].copy_from_slice(&reps.to_ne_bytes());
        prop_assert!(decode_record(&bytes).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn mutated_real_images_never_panic(
        mutations in prop::collection::vec(mutation(real().image.len()), 1..6),
    ) {
        let mut image = real().image.clone();
        for m in &mutations {
            apply(&mut image, m);
        }
        let _ = validate_image(&image);
    }

    #[test]
    fn mutated_real_records_never_panic(
        which in 0..4usize,
        mutations in prop::collection::vec(
            (0..2048usize, prop_oneof![
                (1..=255u8).prop_map(u64::from),
                any::<u32>().prop_map(u64::from),
                any::<u64>(),
            ], 0..3u8),
            1..6,
        ),
    ) {
        let mut record = real().records[which].clone();
        let original = record.clone();
        for (at, value, kind) in mutations {
            let at = at % record.len().max(1);
            match kind {
                0 => {
                    if let Some(b) = record.get_mut(at) {
                        *b ^= (value as u8) | 1;
                    }
                }
                1 => put(&mut record, at, &(value as u32).to_ne_bytes()),
                _ => put(&mut record, at, &value.to_ne_bytes()),
            }
        }
        let decoded = decode_record(&record);
        // Only the reserved fields are unprotected: a change elsewhere that
        // still decodes must decode to the original clip.
        if let Ok(clip) = decoded {
            prop_assert_eq!(clip, decode_record(&original).unwrap());
        }
    }
}
