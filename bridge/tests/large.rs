//! A 30 MB PNG crosses both ways byte-exact, with the bridges' memory
//! bounded (they stream sealed chunks and never hold a clip twice), and the
//! receiving board gets the clip whole, never partially.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::{CROSS, Machine, Scratch, wait_until};
use shm_clip::{Clip, Selector};
use shm_clip_test_kit::nats::NatsServer;
use shm_clip_test_kit::spawn_named;

const SIZE: usize = 30_000_000;
const LIMIT_KIB: u64 = 64 << 10;

/// A PNG-looking 30 MB blob with content that differs everywhere.
fn big_png(seed: u8) -> Vec<u8> {
    let mut data = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut x: u32 = 0x9e37_79b9 ^ u32::from(seed);
    while data.len() < SIZE {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data.extend_from_slice(&x.to_le_bytes());
    }
    data.truncate(SIZE);
    data
}

/// A field of /proc/PID/status in KiB.
fn proc_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Samples the private (anonymous) RSS of `pids` until stopped; keeps each one's peak.
fn sample(pids: Vec<u32>) -> (Arc<AtomicBool>, Arc<Vec<AtomicU64>>) {
    let stop = Arc::new(AtomicBool::new(false));
    let peaks: Arc<Vec<AtomicU64>> = Arc::new(pids.iter().map(|_| AtomicU64::new(0)).collect());
    let (s, p) = (stop.clone(), peaks.clone());
    spawn_named("rss-sampler", move || {
        while !s.load(Ordering::Relaxed) {
            for (pid, peak) in pids.iter().zip(p.iter()) {
                peak.fetch_max(proc_kib(*pid, "RssAnon:"), Ordering::Relaxed);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    });
    (stop, peaks)
}

#[test]
fn a_30_mb_png_crosses_both_ways_byte_exact_in_bounded_memory() {
    let s = Scratch::new("large");
    let server = NatsServer::start(&s.0, "n", &[]);
    let key = s.key();
    let mut a = Machine::new(&s, "large", "a");
    let mut b = Machine::new(&s, "large", "b");
    a.start(&[server.url()], &key, &[]);
    b.start(&[server.url()], &key, &[]);
    for m in [&a, &b] {
        m.wait_status("prefetching", |st| st.prefetch_live);
    }
    let (stop, peak) = sample(vec![a.bridge_pid(), b.bridge_pid()]);

    for (from, to, seed) in [(&a, &b, 1u8), (&b, &a, 2u8)] {
        let png = big_png(seed);
        let before = to.board.seq();
        from.board
            .copy(&Clip::new("image/png", png.clone()))
            .unwrap();
        // The receiving board's first change is the whole clip.
        wait_until("the big clip on the other board", CROSS * 2, || {
            to.board.seq() != before
        });
        let got = to.board.get(Selector::Current).unwrap();
        assert_eq!(got.reps.len(), 1);
        assert_eq!(got.reps[0].mime, "image/png");
        assert!(got.reps[0].data == png, "{}: byte-exact", to.name);
        // Kept while it was uploaded, not downloaded after its manifest;
        // the sender's prefetcher stood aside during its own upload.
        let st = to.wait_status("applied", |st| st.applied == 1);
        assert_eq!((st.blobs_prefetched, st.blobs_downloaded), (1, 0));
        let st = from.wait_status("stood aside", |st| st.prefetch_paused == 1);
        assert_eq!(st.prefetching, 0);
        // The board answers at once during and after the transfer.
        assert_eq!(
            from.board.get(Selector::Current).unwrap().reps[0]
                .data
                .len(),
            SIZE
        );
    }
    // The human status says the same as the counters above.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_shm-clip-bridge"));
    cmd.arg("status").env("XDG_RUNTIME_DIR", b.home.join("run"));
    let text = common::run_to_end(cmd, "status").lines.join("\n");
    assert!(
        text.contains(
            "large clips:    1 taken from what was kept while they uploaded, 0 downloaded after; 0 kept now (0.0 MiB)"
        ),
        "{text}"
    );
    stop.store(true, Ordering::Relaxed);
    for (m, peak) in [&a, &b].iter().zip(peak.iter()) {
        let peak = peak.load(Ordering::Relaxed);
        eprintln!("peak RssAnon of bridge {}: {peak} KiB", m.name);
        assert!(peak > 0, "the sampler saw bridge {}", m.name);
        assert!(
            peak < LIMIT_KIB,
            "bridge {} used {peak} KiB of private memory (limit {LIMIT_KIB} KiB)",
            m.name
        );
    }
}
