//! Every slot is validated where it is read: a same-user process that forges
//! index slots with a correctly recomputed checksum (an offset past the
//! arena, a length that overflows, overlapping entries, a misaligned or
//! empty record) makes no operation panic or loop. Each returns a clear
//! error or works around the slot. Run in debug (overflow checks on) and,
//! from scripts/test, in release.

use std::os::unix::fs::FileExt;
use std::time::Duration;

use shm_clip::format::{INDEX_SLOT_SIZE, index_off, off};
use shm_clip::{Board, Clip, CreateOptions, Selector};
use shm_clip_test_kit::{TestBoard, within};
use xxhash_rust::xxh3::xxh3_64;

const OPTS: CreateOptions = CreateOptions {
    capacity: 64 << 10,
    depth: 8,
};

/// The segment file, opened read-write beside the board's own mapping: the
/// same bytes another process of ours could write.
struct Forger {
    file: std::fs::File,
    index: u64,
    arena: u64,
}

impl Forger {
    fn new(tb: &TestBoard) -> Forger {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(tb.path())
            .unwrap();
        let read = |at: usize| {
            let mut b = [0u8; 8];
            file.read_exact_at(&mut b, at as u64).unwrap();
            u64::from_ne_bytes(b)
        };
        let (index, arena) = (read(off::INDEX_OFFSET), read(off::ARENA_SIZE));
        Forger { file, index, arena }
    }

    fn slot(&self, slot: usize) -> [u8; INDEX_SLOT_SIZE] {
        let mut b = [0u8; INDEX_SLOT_SIZE];
        self.file
            .read_exact_at(&mut b, self.index + (slot * INDEX_SLOT_SIZE) as u64)
            .unwrap();
        b
    }

    /// Writes `slot` with `edit` applied and its checksum recomputed.
    fn forge(&self, slot: usize, edit: impl FnOnce(&mut [u8; INDEX_SLOT_SIZE])) {
        let mut b = self.slot(slot);
        edit(&mut b);
        let check = xxh3_64(&b[index_off::FLAGS..index_off::META_CHECK]);
        b[index_off::META_CHECK..][..8].copy_from_slice(&check.to_ne_bytes());
        self.file
            .write_all_at(&b, self.index + (slot * INDEX_SLOT_SIZE) as u64)
            .unwrap();
    }
}

fn set_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_ne_bytes());
}

fn get_u64(b: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(b[at..at + 8].try_into().unwrap())
}

/// Every operation on the forged board, under a watchdog: none may panic
/// (that fails the thread) or hang. Returns the seqs `history` listed
/// right after the forgery.
fn run_everything(board: Board, what: &'static str) -> Vec<u64> {
    within(what, Duration::from_secs(20), move || {
        let listed: Vec<u64> = board.history().unwrap().iter().map(|e| e.seq).collect();
        let outcomes = [
            board.copy(&Clip::text("after the forgery")).map(drop),
            board.paste().map(drop),
            board.get(Selector::Index(1)).map(drop),
            board.history().map(drop),
            board.status().map(drop),
            board.select(Selector::Index(1)).map(drop),
            board.delete(Selector::Index(2)).map(drop),
            board.copy(&Clip::text("x".repeat(20_000))).map(drop),
            board.clear(false).map(drop),
            board.copy(&Clip::text("last")).map(drop),
        ];
        for err in outcomes.iter().filter_map(|o| o.as_ref().err()) {
            // An error must say what happened, not be empty.
            assert!(!err.to_string().is_empty());
        }
        assert_eq!(
            board.paste().unwrap().text_str(),
            Some("last"),
            "{what}: the board still works"
        );
        listed
    })
}

/// A board holding three clips (slots 0, 1, 2), and the forger.
fn board(test: &str) -> (TestBoard, Forger) {
    let tb = TestBoard::new(test);
    let board = tb.open(OPTS);
    for text in ["first", "second", "third"] {
        board.copy(&Clip::text(text)).unwrap();
    }
    let forger = Forger::new(&tb);
    (tb, forger)
}

/// A handle opened after the forgery, as another process would: it decodes
/// the forged slots (a handle that saw the board before keeps its decoded
/// copy until `seq` moves, which the forger did not do).
fn reopen(tb: &TestBoard) -> Board {
    tb.open(OPTS)
}

#[test]
fn an_offset_past_the_arena_is_never_followed() {
    let (tb, f) = board("forged-past");
    let arena = f.arena;
    f.forge(1, |b| set_u64(b, index_off::OFFSET, arena + 8));
    let seqs = run_everything(reopen(&tb), "offset past the arena");
    assert!(!seqs.contains(&2), "the forged entry is listed: {seqs:?}");
}

#[test]
fn a_length_that_overflows_is_never_added() {
    let (tb, f) = board("forged-overflow");
    f.forge(1, |b| {
        set_u64(b, index_off::OFFSET, 4096);
        set_u64(b, index_off::LEN, u64::MAX - 3);
    });
    let seqs = run_everything(reopen(&tb), "overflowing length");
    assert!(!seqs.contains(&2), "the forged entry is listed: {seqs:?}");
}

#[test]
fn overlapping_entries_are_not_both_used() {
    let (tb, f) = board("forged-overlap");
    let first = get_u64(&f.slot(0), index_off::OFFSET);
    f.forge(2, |b| set_u64(b, index_off::OFFSET, first));
    let seqs = run_everything(reopen(&tb), "overlapping entries");
    assert!(
        !(seqs.contains(&1) && seqs.contains(&3)),
        "both overlapping entries are listed: {seqs:?}"
    );
}

#[test]
fn misaligned_and_empty_records_are_refused() {
    let (tb, f) = board("forged-misaligned");
    f.forge(0, |b| {
        let at = get_u64(b, index_off::OFFSET);
        set_u64(b, index_off::OFFSET, at + 3);
    });
    f.forge(1, |b| {
        b[index_off::REP_COUNT..][..4].copy_from_slice(&0u32.to_ne_bytes());
    });
    f.forge(2, |b| set_u64(b, index_off::LEN, 4));
    let seqs = run_everything(reopen(&tb), "misaligned and empty records");
    assert!(seqs.is_empty(), "forged entries are listed: {seqs:?}");
}

/// A forged `seq` at its maximum: `seq` never goes back, so no change can be
/// published after it. Every change is refused with an error before it is
/// made, reads still work, and destroy still wipes the clips. Found by the
/// `board_ops` fuzz target: `seq + 1` overflowed (a panic in a debug build,
/// a wrap to 0, so seq going back, in a release build).
#[test]
fn a_seq_at_its_maximum_refuses_changes_and_panics_nowhere() {
    let (tb, f) = board("forged-seq");
    f.file
        .write_all_at(&u64::MAX.to_ne_bytes(), off::SEQ as u64)
        .unwrap();
    let board = reopen(&tb);
    let name = tb.name.clone();
    within("seq at u64::MAX", Duration::from_secs(20), move || {
        let refused = [
            board.copy(&Clip::text("new")).map(drop),
            board.copy(&Clip::text("second")).map(drop),
            board.select(Selector::Index(1)).map(drop),
            board.set_pinned(Selector::Current, true).map(drop),
            board.delete(Selector::Index(2)).map(drop),
            board.clear(true).map(drop),
        ];
        for outcome in refused {
            let err = outcome.expect_err("a change after seq u64::MAX");
            assert!(err.to_string().contains("seq is at its maximum"), "{err}");
        }
        assert_eq!(board.seq(), u64::MAX);
        assert_eq!(board.paste().unwrap().text_str(), Some("third"));
        let listed: Vec<u64> = board.history().unwrap().iter().map(|e| e.seq).collect();
        assert_eq!(listed, [3, 2, 1], "nothing was changed");
        board.status().unwrap();
        assert_eq!(Board::destroy(&name, false).unwrap().entries, 3);
    });
}

/// Writes `value` over the header field at `at`, as another process could.
fn forge_header(f: &Forger, at: usize, value: &[u8]) {
    f.file.write_all_at(value, at as u64).unwrap();
}

/// Layout 3's derived structures are followed only after a check: a
/// current slot that names a free slot, one past the index, and a free
/// list that names a committed slot are each found out, and the board is
/// repaired instead (counted as a recovery).
#[test]
fn a_forged_current_slot_or_free_list_is_repaired_not_followed() {
    for (what, at, value) in [
        ("current names a free slot", off::CURRENT, 6u32),
        ("current past the index", off::CURRENT, 5000),
        ("free list names a committed slot", off::FREE_HEAD, 1),
        ("free list past the index", off::FREE_HEAD, 9),
    ] {
        let (tb, f) = board("forged-current");
        forge_header(&f, at, &value.to_ne_bytes());
        let board = reopen(&tb);
        let before = board.status().unwrap().lock.recoveries;
        // The first operation that reads the forged field repairs the board.
        if at == off::CURRENT {
            assert_eq!(board.paste().unwrap().text_str(), Some("third"), "{what}");
        } else {
            board.copy(&Clip::text("fourth")).unwrap();
            assert_eq!(board.history().unwrap().len(), 4, "{what}");
        }
        let after = board.status().unwrap().lock.recoveries;
        assert_eq!(after, before + 1, "{what}: one repair");
        run_everything(board, what);
    }
}

/// Forged ring links, dedup buckets and ring head: a link to a free slot,
/// a link past the index, a bucket naming garbage, a head past the arena.
#[test]
fn forged_ring_links_buckets_and_head_are_never_followed() {
    let (tb, f) = board("forged-links");
    f.forge(1, |b| {
        b[index_off::RING_NEXT..][..4].copy_from_slice(&7u32.to_ne_bytes());
        b[index_off::HASH_NEXT..][..4].copy_from_slice(&3u32.to_ne_bytes());
    });
    f.forge(2, |b| {
        b[index_off::RING_PREV..][..4].copy_from_slice(&999u32.to_ne_bytes());
    });
    let mut buckets = [0u8; 8];
    f.file
        .read_exact_at(&mut buckets, off::BUCKETS_OFFSET as u64)
        .unwrap();
    let buckets_at = u64::from_ne_bytes(buckets);
    f.file.write_all_at(&[0x5a; 32], buckets_at).unwrap();
    forge_header(&f, off::RING_HEAD, &(f.arena + 4096).to_ne_bytes());
    run_everything(reopen(&tb), "forged links, buckets and head");
}
