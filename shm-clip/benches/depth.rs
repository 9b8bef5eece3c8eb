//! `copy()` and `paste()` alone, at history depths 1, 200 and 10 000, on
//! full boards: what "constant work whatever the depth" means, measured.
//!
//! ```text
//! cargo bench -p shm-clip --bench depth            # ~20 s
//! cargo bench -p shm-clip --bench depth -- --quick # a smoke run
//! ```
//!
//! Each board is filled to its depth first, so every measured copy evicts
//! the oldest entry, as on a long-lived board. Three operations, each timed
//! on `CLOCK_MONOTONIC` around the call, in one process pinned to CPU 0:
//! - `copy`: a new 64-byte clip (never a duplicate);
//! - `paste`: the current clip, after this handle's own copy;
//! - `paste after another handle's copy`: a second handle copies first, so
//!   any per-handle cache is stale, as for a subscriber woken by a note.
//!
//! The three boards exist side by side, and the repeats are split into
//! rounds that visit the depths in turn (in a rotating order): a slow patch
//! of a shared machine then slows every depth alike, where one depth after
//! another measured the machine's moods as much as the depths. Each round
//! first turns its board's ring once, unmeasured, so that every depth is
//! measured warm, as it was when the depths ran one after another.
//!
//! The verdict divides the slowest depth's p50 by the fastest's (target:
//! within 10 % of each other, whichever depth is slower).

#[path = "latency/stats.rs"]
#[allow(dead_code, reason = "shared with the latency bench")]
mod stats;

use std::time::Instant;

use nix::sched::{CpuSet, sched_setaffinity};
use nix::unistd::Pid;
use shm_clip::{Board, BoardName, Clip, CreateOptions, Origin, OriginKind};
use stats::{Summary, ratio, us};

const DEPTHS: [u32; 3] = [1, 200, 10_000];

/// Rounds that the repeats are split into.
const ROUNDS: usize = 10;

fn board(name: &BoardName, depth: u32) -> (Board, Board) {
    let _ = Board::destroy(name, true);
    let opts = CreateOptions {
        capacity: 64 << 20,
        depth,
    };
    let a = Board::open_with(name, Origin::this_process(OriginKind::Cli), Some(opts)).unwrap();
    let b = Board::open_with(name, Origin::this_process(OriginKind::App), None).unwrap();
    (a, b)
}

/// One depth's boards and samples.
struct Depth {
    depth: u32,
    name: BoardName,
    boards: (Board, Board),
    copy: Vec<u64>,
    paste: Vec<u64>,
    foreign: Vec<u64>,
}

fn clip(n: u64) -> Clip {
    Clip::text(format!("{n:064}"))
}

fn time(samples: &mut Vec<u64>, f: impl FnOnce()) {
    let t = Instant::now();
    f();
    samples.push(t.elapsed().as_nanos() as u64);
}

/// One round of `count` repeats at one depth, after a whole turn of its
/// ring unmeasured: the other depths' rounds in between have pushed this
/// board's slots and records out of the caches, and every depth is to be
/// measured in its own steady state, not in the state the others left.
fn measure_round(at: &mut Depth, count: usize, n: &mut u64) {
    let (own, other) = &at.boards;
    for _ in 0..u64::from(at.depth) + 100 {
        *n += 1;
        own.copy(&clip(*n)).unwrap();
    }
    for _ in 0..count {
        *n += 1;
        let next = clip(*n);
        time(&mut at.copy, || {
            own.copy(&next).unwrap();
        });
        time(&mut at.paste, || {
            std::hint::black_box(own.paste().unwrap());
        });
        *n += 1;
        other.copy(&clip(*n)).unwrap();
        time(&mut at.foreign, || {
            std::hint::black_box(own.paste().unwrap());
        });
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let repeats: usize = if quick { 2_000 } else { 50_000 };
    let mut cpu0 = CpuSet::new();
    cpu0.set(0).expect("CPU 0 within CpuSet");
    sched_setaffinity(Pid::from_raw(0), &cpu0).expect("pinning to CPU 0");
    println!(
        "== copy() and paste() alone, full boards (64-byte clips, {repeats} each, in {ROUNDS} rounds) =="
    );
    println!(
        "| depth | copy p50 | p99 | max | paste p50 | p99 | max | paste after another handle's copy p50 | p99 | max |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut n = 0u64;
    // `--depth N` measures one depth alone, for profiling it.
    let only: Option<u32> = std::env::args()
        .skip_while(|a| a != "--depth")
        .nth(1)
        .and_then(|d| d.parse().ok());
    let mut depths: Vec<Depth> = DEPTHS
        .into_iter()
        .filter(|d| only.is_none_or(|o| o == *d))
        .map(|depth| {
            let name =
                BoardName::new(&format!("bench-depth-{}-{depth}", std::process::id())).unwrap();
            let boards = board(&name, depth);
            for _ in 0..u64::from(depth) + 100 {
                n += 1;
                boards.0.copy(&clip(n)).unwrap();
            }
            Depth {
                depth,
                name,
                boards,
                copy: Vec::with_capacity(repeats),
                paste: Vec::with_capacity(repeats),
                foreign: Vec::with_capacity(repeats),
            }
        })
        .collect();
    for round in 0..ROUNDS {
        for turn in 0..depths.len() {
            let len = depths.len();
            measure_round(&mut depths[(round + turn) % len], repeats / ROUNDS, &mut n);
        }
    }
    let mut rows = Vec::new();
    for mut d in depths {
        let s = [
            Summary::of(&mut d.copy),
            Summary::of(&mut d.paste),
            Summary::of(&mut d.foreign),
        ];
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            d.depth,
            us(s[0].p50),
            us(s[0].p99),
            us(s[0].max),
            us(s[1].p50),
            us(s[1].p99),
            us(s[1].max),
            us(s[2].p50),
            us(s[2].p99),
            us(s[2].max),
        );
        assert_eq!(
            d.boards.0.status().unwrap().entries,
            d.depth as usize,
            "the board stays full"
        );
        rows.push((d.depth, s));
        drop(d.boards);
        Board::destroy(&d.name, true).unwrap();
    }
    println!("\n(µs)\n\n== verdict: slowest p50 ÷ fastest p50 over the depths (target ≤ 1.10×) ==");
    for (i, what) in ["copy", "paste", "paste after another handle's copy"]
        .into_iter()
        .enumerate()
    {
        let by_depth = rows.iter().map(|(depth, s)| (*depth, s[i].p50));
        let (slow_depth, slow) = by_depth.clone().max_by_key(|&(_, p50)| p50).unwrap();
        let (fast_depth, fast) = by_depth.min_by_key(|&(_, p50)| p50).unwrap();
        let r = slow as f64 / fast.max(1) as f64;
        println!(
            "{what:<36} depth {slow_depth} ÷ depth {fast_depth}: {} {}",
            ratio(slow, fast),
            if r <= 1.10 { "met" } else { "MISSED" }
        );
    }
}
