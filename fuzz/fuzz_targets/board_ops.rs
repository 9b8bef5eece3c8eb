//! A live `Board` over a fuzzed segment image, driven by a fuzzed sequence
//! of operations: no input may make an operation panic or hang.
//!
//! Each process creates one real board (a name of its own, 4 KiB arena,
//! depth 4). Each input then
//!
//! 1. overwrites everything in the segment that other processes may write
//!    (the history index, the arena, the header's counters from `seq` on,
//!    and the subscriber table), never the immutable header (bytes 0..128,
//!    validated once at open) nor the mutex: see `shm_clip::format::off`
//!    and shm-clip/LAYOUT.md;
//! 2. opens a fresh handle on it (as another process would: no cache of an
//!    earlier input), and
//! 3. runs the rest of the input as operations: copy, paste, get, types,
//!    history, status, select, pin, delete, clear, subscribe and
//!    `try_recv`, a reap, a forged write in the middle of the sequence, and
//!    a thread that dies holding the board lock, so that the next
//!    operation runs the owner-died repair over the fuzzed image.
//!
//! # Input
//!
//! | bytes | meaning |
//! |---|---|
//! | 0 | bit `i`: recompute index slot `i`'s `meta_check` after laying the image, so the fuzzer gets past the checksum |
//! | 1..3 | `n`, little-endian `u16`: the image's length |
//! | 3..3+n | the image, laid over the index, the arena, the header from `seq` on and the subscriber table, in that order; what it does not cover is zero |
//! | 3+n.. | operations, one byte each plus their arguments (see `run`); missing argument bytes read as 0 |
#![no_main]

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shm_clip::format::{HEADER_BYTES, INDEX_SLOT_SIZE, SUB_SLOT_SIZE, index_off, off};
use shm_clip::{Board, BoardName, Clip, CreateOptions, Origin, OriginKind, Selector};
use xxhash_rust::xxh3::xxh3_64;

const OPTS: CreateOptions = CreateOptions {
    capacity: 4096,
    depth: 4,
};
const NAME_PREFIX: &str = "fuzz-ops-";
const MIMES: [&str; 4] = [
    "text/plain;charset=utf-8",
    "text/html",
    "image/png",
    "text/*",
];

/// The board of this process and where its regions are.
struct Target {
    name: BoardName,
    file: File,
    /// (offset in the segment, length) of each fuzzed region, in image order.
    regions: [(u64, usize); 5],
    index: u64,
}

fn target() -> &'static Target {
    static TARGET: OnceLock<Target> = OnceLock::new();
    TARGET.get_or_init(|| {
        remove_stale_boards();
        let name = BoardName::new(&format!("{NAME_PREFIX}{}", std::process::id())).unwrap();
        let board = Board::open_with(&name, Origin::this_process(OriginKind::Cli), Some(OPTS))
            .expect("create the fuzz board");
        let path = board.status().expect("status of the new board").path;
        drop(board);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .expect("open the segment file");
        let u64_at = |at: usize| {
            let mut b = [0u8; 8];
            file.read_exact_at(&mut b, at as u64).unwrap();
            u64::from_ne_bytes(b)
        };
        let (sub, index, arena) = (
            u64_at(off::SUB_OFFSET),
            u64_at(off::INDEX_OFFSET),
            u64_at(off::ARENA_OFFSET),
        );
        let arena_size = u64_at(off::ARENA_SIZE) as usize;
        let slots = OPTS.depth as usize;
        // A u32 field: the low half of the native-endian u64 read at its offset.
        let sub_slots = (u64_at(off::SUB_SLOTS) & 0xffff_ffff) as usize;
        let buckets = (u64_at(off::BUCKETS) & 0xffff_ffff) as usize;
        let regions = [
            (index, slots * INDEX_SLOT_SIZE),
            (arena, arena_size),
            (off::SEQ as u64, HEADER_BYTES - off::SEQ),
            (u64_at(off::BUCKETS_OFFSET), buckets * 4),
            (sub, sub_slots * SUB_SLOT_SIZE),
        ];
        // A crash or the fuzzer's exit leaves the board behind: the next
        // run's `remove_stale_boards` removes it (statics are never dropped).
        Target {
            name,
            file,
            regions,
            index,
        }
    })
}

/// Removes the boards of earlier fuzz processes that are gone.
fn remove_stale_boards() {
    let Ok(names) = Board::list() else { return };
    for name in names {
        let Some(pid) = name.as_str().strip_prefix(NAME_PREFIX) else {
            continue;
        };
        if pid.parse::<u32>().is_ok_and(|pid| {
            !std::path::Path::new(&format!("/proc/{pid}")).exists() || pid == std::process::id()
        }) {
            let _ = Board::destroy(&name, true);
        }
    }
}

/// Missing bytes read as zero.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    fn bytes(&mut self, n: usize) -> &[u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }

    fn selector(&mut self, last: &[u64]) -> Selector {
        let b = self.byte();
        match b % 4 {
            0 => Selector::Current,
            1 => Selector::Index(usize::from(b / 4 % 8)),
            2 => Selector::Seq(u64::from(b / 4)),
            // A seq that the last history listing showed.
            _ => Selector::Seq(
                last.get(usize::from(b / 4) % last.len().max(1))
                    .copied()
                    .unwrap_or(0),
            ),
        }
    }

    /// A clip from a small alphabet, so that copies repeat (dedup) and fill
    /// the 4 KiB arena (eviction, compaction, "too large").
    fn clip(&mut self) -> Clip {
        let (id, size, shape) = (self.byte(), self.byte(), self.byte());
        let len = if size < 192 {
            usize::from(size)
        } else {
            usize::from(size - 192) * 72
        };
        let data = vec![b'a' + id % 8; len];
        let clip = Clip::new(MIMES[usize::from(shape % 3)], data);
        if shape & 4 != 0 {
            clip.with("text/html", vec![b'<'; usize::from(id)])
        } else {
            clip
        }
    }
}

/// Lays `image` over the fuzzed regions, in order; zero where it ends.
fn lay(t: &Target, image: &[u8]) {
    let mut rest = image;
    for &(at, len) in &t.regions {
        let (head, tail) = rest.split_at(len.min(rest.len()));
        let mut region = vec![0u8; len];
        region[..head.len()].copy_from_slice(head);
        t.file.write_all_at(&region, at).unwrap();
        rest = tail;
    }
}

/// Recomputes the checksum of index slot `slot`, as a forger would.
fn fix_checksum(t: &Target, slot: usize) {
    let at = t.index + (slot * INDEX_SLOT_SIZE) as u64;
    let mut b = [0u8; INDEX_SLOT_SIZE];
    t.file.read_exact_at(&mut b, at).unwrap();
    let check = xxh3_64(&b[index_off::FLAGS..index_off::META_CHECK]);
    b[index_off::META_CHECK..][..8].copy_from_slice(&check.to_ne_bytes());
    t.file.write_all_at(&b, at).unwrap();
}

fn run(t: &'static Target, board: &Board, ops: &mut Input<'_>) {
    let mut subs = Vec::new();
    let mut seqs: Vec<u64> = Vec::new();
    let mut n = 0;
    while !ops.0.is_empty() && n < 64 {
        n += 1;
        match ops.byte() % 17 {
            0 | 1 => {
                let clip = ops.clip();
                let _ = board.copy(&clip);
            }
            2 => {
                let _ = board.paste();
            }
            3 => {
                let which = ops.selector(&seqs);
                let _ = board.get(which);
            }
            4 => {
                let which = ops.selector(&seqs);
                let mime = MIMES[usize::from(ops.byte() % 4)];
                let _ = board.get_type(which, mime);
            }
            5 => {
                let which = ops.selector(&seqs);
                let _ = board.types(which);
            }
            6 => {
                if let Ok(h) = board.history() {
                    assert!(h.len() <= OPTS.depth as usize, "{} entries", h.len());
                    seqs = h.iter().map(|e| e.seq).collect();
                }
            }
            7 => {
                if let Ok(s) = board.status() {
                    assert!(s.entries <= s.max_entries);
                }
            }
            8 => {
                let which = ops.selector(&seqs);
                let _ = board.select(which);
            }
            9 => {
                let which = ops.selector(&seqs);
                let pin = ops.byte() & 1 != 0;
                let _ = board.set_pinned(which, pin);
            }
            10 => {
                let which = ops.selector(&seqs);
                let _ = board.delete(which);
            }
            11 => {
                let all = ops.byte() & 1 != 0;
                let _ = board.clear(all);
            }
            12 => {
                if subs.len() < 2
                    && let Ok(sub) = board.subscribe()
                {
                    subs.push(sub);
                } else {
                    subs.pop();
                }
            }
            13 => {
                for sub in &mut subs {
                    let _ = sub.try_recv();
                }
            }
            // A thread dies holding the lock: the next operation repairs.
            14 => {
                let _ = board.abandon_lock();
            }
            15 => {
                let _ = board.reap();
            }
            _ => {
                // A forged write between two operations, under a live
                // handle: `n` bytes at an offset into the image, and
                // maybe a recomputed checksum of the slot it hit.
                let at = usize::from(ops.u16());
                let len = usize::from(ops.byte() % 32);
                let fix = ops.byte();
                let bytes = ops.bytes(len).to_vec();
                poke(t, at, &bytes);
                if fix & 1 != 0 {
                    fix_checksum(t, usize::from(fix / 2) % OPTS.depth as usize);
                }
            }
        }
    }
    drop(subs);
    // Leaves the lock consistent for the next input (repairing if the last
    // operation left it owner-dead), and checks what a reader sees.
    if let Ok(h) = board.history() {
        assert!(h.len() <= OPTS.depth as usize, "{} entries", h.len());
    }
    let _ = board.status();
}

/// Writes `bytes` at image offset `at`, wrapping around the image.
fn poke(t: &Target, at: usize, bytes: &[u8]) {
    let total: usize = t.regions.iter().map(|r| r.1).sum();
    let mut at = at % total;
    for &b in bytes {
        let mut pos = at;
        for &(start, len) in &t.regions {
            if pos < len {
                t.file.write_all_at(&[b], start + pos as u64).unwrap();
                break;
            }
            pos -= len;
        }
        at = (at + 1) % total;
    }
}

fuzz_target!(|data: &[u8]| {
    let t = target();
    let mut input = Input(data);
    let mask = input.byte();
    let n = usize::from(input.u16());
    lay(t, input.bytes(n));
    for slot in 0..OPTS.depth as usize {
        if mask & (1 << slot) != 0 {
            fix_checksum(t, slot);
        }
    }
    let Ok(board) = Board::open_with(&t.name, Origin::this_process(OriginKind::Cli), None) else {
        return;
    };
    run(t, &board, &mut input);
});
