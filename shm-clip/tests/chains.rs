//! The writer links a new entry at its dedup bucket's chain end (LAYOUT.md,
//! "A copy", step 6): every chain runs from the entry that became current
//! longest ago to the newest, so the entry that eviction takes is its
//! chain's first and unlinks without a walk of a cold chain. Checked on the
//! segment's bytes, read through the format's own offsets, after copies
//! that evict, deduplicate and select.

use shm_clip::format::{INDEX_SLOT_SIZE, NO_SLOT, index_off, off};
use shm_clip::{Board, Clip, CreateOptions, Selector};
use shm_clip_test_kit::TestBoard;

/// Eight slots over eight buckets: with 60 distinct clips, chains of two
/// and more are all but certain (and asserted).
const OPTS: CreateOptions = CreateOptions {
    capacity: 256 << 10,
    depth: 8,
};

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(b[at..at + 8].try_into().unwrap())
}

/// Each bucket's chain as the `order` of its members, read from a copy of
/// the segment (the test's board is the only writer, and it is idle).
fn chains(tb: &TestBoard) -> Vec<Vec<u64>> {
    let seg = std::fs::read(tb.path()).unwrap();
    let index = usize::try_from(u64_at(&seg, off::INDEX_OFFSET)).unwrap();
    let slots = u32_at(&seg, off::INDEX_SLOTS);
    let buckets = u32_at(&seg, off::BUCKETS);
    let at = usize::try_from(u64_at(&seg, off::BUCKETS_OFFSET)).unwrap();
    (0..buckets as usize)
        .map(|b| {
            let mut orders = Vec::new();
            let mut slot = u32_at(&seg, at + 4 * b);
            while slot != NO_SLOT {
                assert!(slot < slots, "bucket {b} links to slot {slot}");
                assert!(orders.len() < slots as usize, "bucket {b} loops");
                let base = index + slot as usize * INDEX_SLOT_SIZE;
                orders.push(u64_at(&seg, base + index_off::ORDER));
                slot = u32_at(&seg, base + index_off::HASH_NEXT);
            }
            orders
        })
        .collect()
}

/// Every chain is in ascending `order`, and together they hold every entry.
fn assert_oldest_first(tb: &TestBoard, board: &Board, after: &str) -> usize {
    let entries = board.history().unwrap().len();
    let chains = chains(tb);
    for chain in &chains {
        assert!(
            chain.windows(2).all(|w| w[0] < w[1]),
            "after {after}: a chain out of order: {chains:?}"
        );
    }
    assert_eq!(
        chains.iter().map(Vec::len).sum::<usize>(),
        entries,
        "after {after}: {chains:?}"
    );
    chains.iter().map(Vec::len).max().unwrap_or(0)
}

#[test]
fn a_bucket_chain_runs_from_its_oldest_entry_to_its_newest() {
    let tb = TestBoard::new("chains");
    let board = tb.open(OPTS);
    let mut longest = 0;
    for n in 0..60 {
        board.copy(&Clip::text(format!("clip {n}"))).unwrap();
        longest = longest.max(assert_oldest_first(&tb, &board, &format!("copy {n}")));
        if n % 5 == 4 {
            // A duplicate of an older entry, and a select of the oldest:
            // each goes to the end of its chain, as the newest.
            board.copy(&Clip::text(format!("clip {}", n - 3))).unwrap();
            assert_oldest_first(&tb, &board, &format!("the duplicate at {n}"));
            let oldest = board.history().unwrap().len() - 1;
            board.select(Selector::Index(oldest)).unwrap();
            assert_oldest_first(&tb, &board, &format!("the select at {n}"));
        }
    }
    assert!(
        longest >= 2,
        "no chain ever held two entries: nothing was checked"
    );
}
