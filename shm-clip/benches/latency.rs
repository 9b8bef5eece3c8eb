//! Latency of a shm-clip handoff between processes, next to the floor a
//! shared-memory handoff can reach on this machine.
//!
//! ```text
//! cargo bench -p shm-clip --bench latency                     # everything, ~1 min
//! cargo bench -p shm-clip --bench latency -- --mode same-core # one topology
//! cargo bench -p shm-clip --bench latency -- --quick          # a smoke run
//! cargo bench -p shm-clip --bench latency -- --only lock-hold --sizes 33554432
//! ```
//!
//! The writer is this process, pinned to CPU 0. Readers are this same binary
//! re-executed with `SHM_CLIP_BENCH_ROLE=reader`, pinned to CPU 0 too
//! ("same core") or to CPU 1 ("cross core"). Each repeat the writer waits
//! until every reader is blocked, takes `t0` on `CLOCK_MONOTONIC`, publishes
//! the payload; each reader wakes, copies the payload out, takes `t1` on the
//! same clock and sends it back with an ack, then checks every byte. The
//! sample is `max(t1) - t0`. See BENCHMARKS.md for the method and results.

#[path = "latency/common.rs"]
mod common;
#[path = "latency/diag.rs"]
mod diag;
#[path = "latency/handoff.rs"]
mod handoff;
#[path = "latency/reader.rs"]
mod reader;
#[path = "latency/stats.rs"]
mod stats;

use common::{ROLE_VAR, pin_to};
use handoff::{Handoff, Method};
use stats::{Summary, ratio, size, us};

/// Payloads of the one-way scenario, with (warm-up, measured) repeats.
/// Warm-ups are long enough to fill the board's history (200 entries, or the
/// 128 MiB arena for large clips) so that measured copies evict, as they do
/// on a long-lived board.
const ONE_WAY: [(usize, u64, u64); 4] = [
    (16, 300, 2000),
    (4 << 10, 300, 2000),
    (1 << 20, 150, 300),
    (32 << 20, 6, 40),
];
/// Fan-out: payload and reader counts, with (warm-up, measured) repeats.
const FAN_OUT_LEN: usize = 4 << 10;
const FAN_OUT: [(usize, u64, u64); 3] = [(1, 250, 1000), (8, 250, 500), (32, 250, 300)];

/// Fan-out target to 8 and 32 readers: shm-clip p50 ÷ floor p50.
const FAN_OUT_TARGET: f64 = 1.2;

/// Targets: shm-clip p50 ÷ floor p50.
fn target(len: usize) -> f64 {
    if len <= 4 << 10 { 1.3 } else { 1.5 }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Topology {
    SameCore,
    CrossCore,
}

impl Topology {
    fn label(self) -> &'static str {
        match self {
            Topology::SameCore => "same core",
            Topology::CrossCore => "cross core",
        }
    }

    fn reader_cpu(self) -> usize {
        match self {
            Topology::SameCore => 0,
            Topology::CrossCore => 1,
        }
    }
}

struct Options {
    /// CPUs this process may run on, counted before it pins itself.
    cpus: usize,
    topologies: Vec<Topology>,
    /// Divide every repeat count by this (for smoke runs).
    shrink: u64,
    /// Rounds each configuration's repeats are split into.
    rounds: u64,
    /// Sections to run: one-way, fan-out, locked, breakdown.
    only: Vec<String>,
    /// One-way and breakdown payload sizes to run (all if empty).
    sizes: Vec<usize>,
    /// History depth of the handoff boards (an experiment; default 200).
    depth: u32,
}

impl Options {
    fn wants(&self, section: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == section)
    }

    fn wants_size(&self, len: usize) -> bool {
        self.sizes.is_empty() || self.sizes.contains(&len)
    }
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes --bench; `cargo test --benches` does not, and then
    // a smoke run proves the bench works without taking a minute.
    let mut shrink = if args.iter().any(|a| a == "--bench") {
        1
    } else {
        50
    };
    let mut topologies = vec![Topology::SameCore, Topology::CrossCore];
    let mut only = Vec::new();
    let mut sizes = Vec::new();
    let mut depth = handoff::BOARD.depth;
    let list = |v: Option<&String>| -> Vec<String> {
        v.map(|v| v.split(',').map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => shrink = 20,
            "--only" => only = list(it.next()),
            "--depth" => {
                depth = it
                    .next()
                    .and_then(|d| d.parse().ok())
                    .expect("--depth takes a history depth");
            }
            "--sizes" => {
                sizes = list(it.next())
                    .iter()
                    .map(|s| s.parse().expect("--sizes takes byte counts"))
                    .collect();
            }
            "--mode" => {
                topologies = match it.next().map(String::as_str) {
                    Some("same-core") => vec![Topology::SameCore],
                    Some("cross-core") => vec![Topology::CrossCore],
                    Some("both") => vec![Topology::SameCore, Topology::CrossCore],
                    other => panic!("--mode same-core|cross-core|both, not {other:?}"),
                }
            }
            _ => {}
        }
    }
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    if cpus < 2 {
        println!("only {cpus} CPU: skipping the cross-core runs");
        topologies.retain(|t| *t == Topology::SameCore);
    }
    Options {
        cpus,
        topologies,
        shrink,
        rounds: if shrink == 1 { 3 } else { 1 },
        only,
        sizes,
        depth,
    }
}

fn shrunk(warmup: u64, n: u64, shrink: u64) -> (u64, u64) {
    if shrink == 1 {
        (warmup, n)
    } else {
        (warmup / shrink + 1, (n / shrink).max(5))
    }
}

fn machine() {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map_or("?", |m| m.trim_start_matches([' ', '\t', ':']));
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get);
    println!(
        "machine: {cpus} CPUs, {model}, Linux {}; clock: CLOCK_MONOTONIC",
        kernel.trim()
    );
    if cfg!(feature = "test-hooks") {
        println!(
            "note: built with shm-clip's `test-hooks` feature (enabled by its own \
             dev-dependency): its park points are compiled in but unarmed, one cached \
             check each"
        );
    }
}

/// One table row; `floor` is the floor's p50 for the ratio column.
fn print_row(first: &str, method: Method, s: &Summary, floor: u64) {
    println!(
        "  {first:<8} {:<16} {:>5} {:>9} {:>9} {:>9} {:>10}",
        method.label(),
        s.n,
        us(s.p50),
        us(s.p99),
        us(s.max),
        ratio(s.p50, floor)
    );
}

fn table_header(first: &str) {
    println!(
        "  {first:<8} {:<16} {:>5} {:>9} {:>9} {:>9} {:>10}",
        "method", "n", "p50 µs", "p99 µs", "max µs", "p50/floor"
    );
}

/// Runs every method for one configuration; returns (method, summary).
/// The repeats are split into rounds that visit the methods in turn, so that
/// a slow patch of a shared machine hits every method alike.
fn run_all(base: Handoff, first_col: &str, tag: &str, opts: &Options) -> Vec<(Method, Summary)> {
    let (warmup, repeats) = shrunk(base.warmup, base.repeats, opts.shrink);
    let rounds = opts.rounds.min(repeats).max(1);
    let mut samples: Vec<Vec<u64>> = vec![Vec::new(); Method::ALL.len()];
    let (mut acquired, mut contended) = (0, 0);
    for round in 0..rounds {
        // The last round takes what the division left over.
        let share = repeats / rounds
            + if round + 1 == rounds {
                repeats % rounds
            } else {
                0
            };
        for (i, &method) in Method::ALL.iter().enumerate() {
            let h = Handoff {
                method,
                warmup,
                repeats: share,
                ..base
            };
            let out = handoff::run(&h, tag);
            if let Some((a, c)) = out.lock {
                acquired += a;
                contended += c;
            }
            samples[i].extend(out.samples);
        }
    }
    let results: Vec<(Method, Summary)> = Method::ALL
        .iter()
        .zip(&mut samples)
        .map(|(&method, s)| (method, Summary::of(s)))
        .collect();
    let floor = results
        .iter()
        .find(|(m, _)| *m == Method::Floor)
        .map_or(0, |(_, s)| s.p50);
    for (i, (method, s)) in results.iter().enumerate() {
        print_row(if i == 0 { first_col } else { "" }, *method, s, floor);
    }
    if base.readers > 1 {
        println!("  (shm-clip board lock: {contended} of {acquired} acquisitions contended)");
    }
    results
}

struct Verdict {
    topology: Topology,
    what: String,
    ours: u64,
    floor: u64,
    target: Option<f64>,
}

fn print_verdicts(verdicts: &[Verdict]) {
    println!("\n== targets: shm-clip p50 ÷ floor p50 ==");
    println!(
        "  {:<11} {:<18} {:>9} {:>9} {:>8} {:>7}  result",
        "topology", "scenario", "ours µs", "floor µs", "ratio", "target"
    );
    for v in verdicts {
        let r = v.ours as f64 / v.floor.max(1) as f64;
        let (target, result) = match v.target {
            Some(t) if r <= t => (format!("≤{t}×"), "met"),
            Some(t) => (format!("≤{t}×"), "MISSED"),
            None => ("-".into(), "(no target)"),
        };
        println!(
            "  {:<11} {:<18} {:>9} {:>9} {:>8} {:>7}  {result}",
            v.topology.label(),
            v.what,
            us(v.ours),
            us(v.floor),
            ratio(v.ours, v.floor),
            target
        );
    }
}

fn p50_of(results: &[(Method, Summary)], m: Method) -> u64 {
    results
        .iter()
        .find(|(x, _)| *x == m)
        .map_or(0, |(_, s)| s.p50)
}

fn main() {
    if std::env::var_os(ROLE_VAR).is_some() {
        reader::main();
        return;
    }
    let opts = options();
    machine();
    if opts.depth != handoff::BOARD.depth {
        println!(
            "experiment: handoff boards have a history depth of {} (not {})",
            opts.depth,
            handoff::BOARD.depth
        );
    }
    pin_to(0);
    let started = std::time::Instant::now();
    let mut verdicts = Vec::new();
    for &topology in &opts.topologies {
        let cpu = topology.reader_cpu();
        if opts.wants("one-way") {
            println!(
                "\n== 1. one-way copy → notify → paste, {} (writer CPU 0, reader CPU {cpu}) ==",
                topology.label()
            );
            table_header("payload");
        }
        for (len, warmup, repeats) in ONE_WAY {
            if !opts.wants("one-way") || !opts.wants_size(len) {
                continue;
            }
            let base = Handoff {
                method: Method::Floor,
                len,
                readers: 1,
                warmup,
                repeats,
                reader_cpu: cpu,
                depth: opts.depth,
            };
            let r = run_all(base, &size(len), &format!("w{len}"), &opts);
            verdicts.push(Verdict {
                topology,
                what: format!("one-way {}", size(len)),
                ours: p50_of(&r, Method::ShmClip),
                floor: p50_of(&r, Method::Floor),
                target: Some(target(len)),
            });
        }
        if !opts.wants("fan-out") {
            continue;
        }
        println!(
            "\n== 2. fan-out of {} to N readers until the last has it, {} (writer CPU 0, readers CPU {cpu}) ==",
            size(FAN_OUT_LEN),
            topology.label()
        );
        table_header("readers");
        for (readers, warmup, repeats) in FAN_OUT {
            let base = Handoff {
                method: Method::Floor,
                len: FAN_OUT_LEN,
                readers,
                warmup,
                repeats,
                reader_cpu: cpu,
                depth: opts.depth,
            };
            let r = run_all(base, &readers.to_string(), &format!("f{readers}"), &opts);
            verdicts.push(Verdict {
                topology,
                what: format!("fan-out to {readers}"),
                ours: p50_of(&r, Method::ShmClip),
                floor: p50_of(&r, Method::Floor),
                target: (readers > 1).then_some(FAN_OUT_TARGET),
            });
        }
    }
    if !verdicts.is_empty() {
        print_verdicts(&verdicts);
    }
    if opts.wants("locked") {
        diag::locked_ops((20_000 / opts.shrink).max(100));
    }
    let sizes: Vec<(usize, u64, u64)> = ONE_WAY
        .iter()
        .filter(|&&(len, ..)| opts.wants_size(len))
        .map(|&(len, warmup, repeats)| {
            let (w, r) = shrunk(warmup.min(50), repeats.min(1000), opts.shrink);
            (len, w, r)
        })
        .collect();
    if opts.wants("breakdown") {
        diag::breakdown(&sizes);
    }
    if opts.wants("lock-hold") && opts.cpus >= 2 {
        diag::lock_hold(&sizes);
    }
    println!("\ntotal time: {:.1} s", started.elapsed().as_secs_f64());
}
