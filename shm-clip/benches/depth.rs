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
//! on `CLOCK_MONOTONIC` around the call, in one process on CPU 0:
//! - `copy`: a new 64-byte clip (never a duplicate);
//! - `paste`: the current clip, after this handle's own copy;
//! - `paste after another handle's copy`: a second handle copies first, so
//!   any per-handle cache is stale, as for a subscriber woken by a note.
//!
//! The verdict divides the slowest depth's p50 by the fastest's (target:
//! within 10 % of each other, whichever depth is slower).

#[path = "latency/stats.rs"]
#[allow(dead_code, reason = "shared with the latency bench")]
mod stats;

use std::time::Instant;

use shm_clip::{Board, BoardName, Clip, CreateOptions, Origin, OriginKind};
use stats::{Summary, ratio, us};

const DEPTHS: [u32; 3] = [1, 200, 10_000];

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

fn clip(n: u64) -> Clip {
    Clip::text(format!("{n:064}"))
}

fn time(samples: &mut Vec<u64>, f: impl FnOnce()) {
    let t = Instant::now();
    f();
    samples.push(t.elapsed().as_nanos() as u64);
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let repeats: u64 = if quick { 2_000 } else { 50_000 };
    let name = BoardName::new(&format!("bench-depth-{}", std::process::id())).unwrap();
    println!("== copy() and paste() alone, full boards (64-byte clips, {repeats} each) ==");
    println!(
        "| depth | copy p50 | p99 | max | paste p50 | p99 | max | paste after another handle's copy p50 | p99 | max |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut rows = Vec::new();
    let mut n = 0u64;
    // `--depth N` measures one depth alone, for profiling it.
    let only: Option<u32> = std::env::args()
        .skip_while(|a| a != "--depth")
        .nth(1)
        .and_then(|d| d.parse().ok());
    for depth in DEPTHS.into_iter().filter(|d| only.is_none_or(|o| o == *d)) {
        let (a, b) = board(&name, depth);
        for _ in 0..u64::from(depth) + 100 {
            n += 1;
            a.copy(&clip(n)).unwrap();
        }
        let (mut copy, mut paste, mut foreign) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..repeats {
            n += 1;
            let c = clip(n);
            time(&mut copy, || {
                a.copy(&c).unwrap();
            });
            time(&mut paste, || {
                std::hint::black_box(a.paste().unwrap());
            });
            n += 1;
            b.copy(&clip(n)).unwrap();
            time(&mut foreign, || {
                std::hint::black_box(a.paste().unwrap());
            });
        }
        let s = [
            Summary::of(&mut copy),
            Summary::of(&mut paste),
            Summary::of(&mut foreign),
        ];
        println!(
            "| {depth} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
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
            a.status().unwrap().entries,
            depth as usize,
            "the board stays full"
        );
        rows.push((depth, s));
        drop((a, b));
        Board::destroy(&name, true).unwrap();
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
