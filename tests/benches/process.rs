//! The CLI as it ships, as whole processes: `shm-clip paste` against
//! `/bin/true`, and `shm-clip copy` + `shm-clip paste` against two
//! `/bin/true`, interleaved in one run so that both see the same machine.
//!
//! ```text
//! scripts/bench-cli            # builds the static-pie CLI, runs this, then perf stat
//! SHM_CLIP_BIN=target/release/shm-clip cargo bench -p shm-clip-tests --bench process
//! ```
//!
//! Each sample is the wall time from spawning to reaping the process(es)
//! (`std::process::Command`, which uses `posix_spawn`), stdin and stdout on
//! /dev/null, and no `LD_LIBRARY_PATH` (cargo's would slow `/bin/true`). Every paste is checked: it must print the clip just copied.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

/// `cargo bench` runs this with `LD_LIBRARY_PATH` naming four directories
/// (target/release/deps among them), and a dynamic `/bin/true` would search
/// each for libc: a slower floor than a user's shell gives. Every child gets
/// the environment without it.
const CARGO_LIBRARY_PATH: &str = "LD_LIBRARY_PATH";

fn run(cmd: &mut Command) -> u64 {
    cmd.env_remove(CARGO_LIBRARY_PATH);
    let t = Instant::now();
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    let ns = t.elapsed().as_nanos() as u64;
    assert!(status.success(), "{cmd:?}: {status}");
    ns
}

struct Summary {
    p50: u64,
    p99: u64,
    max: u64,
}

fn summary(mut v: Vec<u64>) -> Summary {
    v.sort_unstable();
    let n = v.len();
    let rank = |p: usize| v[(n * p).div_ceil(100).clamp(1, n) - 1];
    Summary {
        p50: rank(50),
        p99: rank(99),
        max: v[n - 1],
    }
}

fn ms(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e6)
}

fn main() {
    let bin = PathBuf::from(
        std::env::var_os("SHM_CLIP_BIN").unwrap_or_else(|| "target/release/shm-clip".into()),
    );
    assert!(
        bin.exists(),
        "{} is missing: run scripts/bench-cli",
        bin.display()
    );
    let quick = std::env::args().any(|a| a == "--quick");
    let n = if quick { 100 } else { 1000 };
    let board = format!("bench-cli-{}", std::process::id());
    let shm = |args: &[&str]| {
        let mut c = Command::new(&bin);
        c.env_remove(CARGO_LIBRARY_PATH)
            .arg("--board")
            .arg(&board)
            .args(args);
        c
    };
    run(&mut shm(&["copy", "warm-up"]));
    let (mut t1, mut paste, mut t2, mut round) = (vec![], vec![], vec![], vec![]);
    for i in 0..n {
        t1.push(run(&mut Command::new("/bin/true")));
        paste.push(run(&mut shm(&["paste"])));
        t2.push(run(&mut Command::new("/bin/true")) + run(&mut Command::new("/bin/true")));
        let text = format!("clip {i}");
        let t = run(&mut shm(&["copy", &text]));
        let t0 = Instant::now();
        let out = shm(&["paste"]).stdin(Stdio::null()).output().unwrap();
        round.push(t + t0.elapsed().as_nanos() as u64);
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), text);
    }
    let _ = Command::new(&bin)
        .args(["--board", &board, "destroy", "--force"])
        .stdout(Stdio::null())
        .status();
    let rows = [
        ("/bin/true", summary(t1)),
        ("shm-clip paste", summary(paste)),
        ("2 × /bin/true", summary(t2)),
        ("shm-clip copy + shm-clip paste", summary(round)),
    ];
    println!(
        "== the CLI as whole processes ({n} each, interleaved; {}) ==",
        bin.display()
    );
    println!("| command | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|");
    for (what, s) in &rows {
        println!("| {what} | {} | {} | {} |", ms(s.p50), ms(s.p99), ms(s.max));
    }
    let verdict = |what: &str, ours: &Summary, floor: &Summary| {
        let r = ours.p50 as f64 / floor.p50 as f64;
        println!(
            "{what}: {r:.2}× (target ≤ 1.20×) {}",
            if r <= 1.2 { "met" } else { "MISSED" }
        );
    };
    verdict("paste ÷ /bin/true", &rows[1].1, &rows[0].1);
    verdict("copy + paste ÷ 2 × /bin/true", &rows[3].1, &rows[2].1);
}
