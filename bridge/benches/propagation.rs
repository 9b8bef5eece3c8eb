//! Propagation latency of the bridge over loopback: a commit on board A to
//! the commit on board B (two bridges, one nats-server), for 16 B, 4 KiB,
//! 1 MiB and 30 MB clips, beside the floor measured in the same run, round
//! for round (a floor round and a bridge round of the same size, in
//! alternating order, each from an idle machine):
//! a raw async-nats JetStream publish → ordered-consumer receive of the same
//! bytes, and a core NATS publish → subscriber receive.
//!
//! ```text
//!   cargo bench -p shm-clip-bridge                # everything
//!   SHM_CLIP_BENCH_QUICK=1 cargo bench -p shm-clip-bridge   # fewer rounds
//!   SHM_CLIP_BENCH_SIZE=30000000 cargo bench -p shm-clip-bridge  # one size (bytes)
//! ```
//!
//! Needs nats-server >= 2.10 (`$SHM_CLIP_NATS_SERVER` or `PATH`; scripts/test
//! installs one). The server runs with `max_payload` 64 MB so that the floor
//! can send 30 MB as one message; the bridge still sends large clips as
//! sealed 512 KiB Object Store chunks.

use std::process::Command;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use shm_clip::{Clip, CreateOptions, Selector, Subscription};
use shm_clip_bridge::key::BoardKey;
use shm_clip_test_kit::nats::NatsServer;
use shm_clip_test_kit::{Proc, TestBoard};

/// The bridged boards' size: the library's default depth.
const BOARD_CAPACITY: u64 = 128 << 20;
const BOARD_DEPTH: u32 = 200;

/// The pause after each round (see the main loop): longer than the
/// bridges' `PERSIST_DELAY` (20 ms).
const ROUND_GAP: Duration = Duration::from_millis(50);

struct Sizes {
    label: &'static str,
    bytes: usize,
    rounds: usize,
}

fn sizes(quick: bool) -> Vec<Sizes> {
    let r = |full: usize| {
        if quick {
            full.div_ceil(10).max(3)
        } else {
            full
        }
    };
    vec![
        Sizes {
            label: "16 B",
            bytes: 16,
            rounds: r(300),
        },
        Sizes {
            label: "4 KiB",
            bytes: 4096,
            rounds: r(300),
        },
        Sizes {
            label: "1 MiB",
            bytes: 1 << 20,
            rounds: r(60),
        },
        Sizes {
            label: "30 MB",
            bytes: 30_000_000,
            // 8 were too few: the floor's own p50 moved by 2× between runs.
            rounds: r(24),
        },
    ]
}

/// Content that differs per round (the board would deduplicate equal clips).
fn payload(size: usize, round: usize) -> Vec<u8> {
    let mut data = vec![b'x'; size];
    let tag = format!("{round:08}");
    let n = tag.len().min(size);
    data[..n].copy_from_slice(&tag.as_bytes()[..n]);
    if size > 64 {
        let mut x = round as u32 | 1;
        for chunk in data[16..].chunks_mut(4096) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            chunk[0] = x as u8;
        }
    }
    data
}

fn stats(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    v.sort();
    let p = |q: usize| v[(v.len() * q / 100).min(v.len() - 1)];
    (p(50), p(99), *v.last().unwrap())
}

/// Copies `clip` on board A and returns once board B's subscriber sees it
/// current there.
fn cross(a: &shm_clip::Board, b: &shm_clip::Board, sub: &mut Subscription, clip: &Clip) {
    let id = a.copy(clip).unwrap().clip_id;
    loop {
        sub.recv_timeout(Duration::from_secs(60))
            .unwrap()
            .expect("B commits within 60 s");
        if b.info(Selector::Current).is_ok_and(|e| e.clip_id == id) {
            return;
        }
    }
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

#[allow(
    clippy::too_many_lines,
    reason = "one straight script: set up, measure, print"
)]
fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let quick = std::env::var_os("SHM_CLIP_BENCH_QUICK").is_some();
    let dir = std::env::temp_dir().join(format!("shm-clip-bridge-bench.{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("server.conf");
    std::fs::write(&conf, "max_payload: 64MB\n").unwrap();
    let mut server = NatsServer::start(&dir, "bench", &["-c".into(), conf.display().to_string()]);
    let key = dir.join("key");
    BoardKey::generate().write_new(&key).unwrap();

    let boards: Vec<TestBoard> = ["bench-a", "bench-b"]
        .iter()
        .map(|n| TestBoard::new(n))
        .collect();
    let opened: Vec<shm_clip::Board> = boards
        .iter()
        .map(|b| {
            b.open(CreateOptions {
                capacity: BOARD_CAPACITY,
                depth: BOARD_DEPTH,
            })
        })
        .collect();
    let mut bridges: Vec<Proc> = boards
        .iter()
        .zip(["a", "b"])
        .map(|(tb, name)| {
            let home = dir.join(name);
            std::fs::create_dir_all(home.join("run")).unwrap();
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_shm-clip-bridge"));
            cmd.args(["run", "--server", &server.url(), "--key-file"])
                .arg(&key)
                .arg("--board")
                .arg(format!("{}=bench", tb.name))
                .args(["--name", name])
                .env("XDG_STATE_HOME", home.join("state"))
                .env("XDG_RUNTIME_DIR", home.join("run"))
                .env("SHM_CLIP_CONFIG", home.join("none.toml"))
                .env("RUST_LOG", "warn");
            Proc::spawn(cmd, name)
        })
        .collect();
    for (i, tb) in boards.iter().enumerate() {
        let status = dir
            .join(["a", "b"][i])
            .join("run/shm-clip")
            .join(format!("bridge-{}.json", tb.name));
        bridges[i].wait_for_file(&status, Duration::from_secs(30));
    }
    let (a, b) = (&opened[0], &opened[1]);
    let mut sub = b.subscribe().unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "bridge propagation over loopback ({} rounds per size{})",
        if quick { "few" } else { "full" },
        if quick { ", SHM_CLIP_BENCH_QUICK" } else { "" }
    );
    println!(
        "{:>6} | {:>27} | {:>27} | {:>27} | {:>7} | {:>9}",
        "size",
        "bridge A→B p50/p99/max ms",
        "JetStream floor p50/p99/max",
        "core NATS p50/p99/max",
        "p50 ×JS",
        "paired ×JS"
    );
    // One size only, e.g. to profile the 30 MB rounds by themselves.
    let only: Option<usize> = std::env::var("SHM_CLIP_BENCH_SIZE").ok().map(|s| {
        s.parse().unwrap_or_else(|_| {
            panic!(
                "SHM_CLIP_BENCH_SIZE={s:?}: give a size in bytes, e.g. 16, 4096, 1048576, 30000000"
            )
        })
    });
    for size in sizes(quick)
        .into_iter()
        .filter(|s| only.is_none_or(|o| o == s.bytes))
    {
        // The rounds take turns, each from an idle machine: a floor round
        // (JetStream, then core NATS) and a bridge round, in turns of
        // floor-bridge and bridge-floor, with a pause after each. This
        // box's speed changes from one second to the next (floor runs a
        // few seconds apart differed by up to 4×, BENCHMARKS.md, "Bridge",
        // session 10), so each ratio is of figures measured under the same
        // conditions. The pause is longer than the bridges' persist delay,
        // so a round's trailing work (A's follower meeting its own message,
        // the state and status files) is done before the next round, as
        // for a user's copies seconds apart; it spaces the rounds and
        // synchronises nothing.
        let mut floor = rt.block_on(Floor::new(&server.url(), size.bytes));
        let (mut bridge, mut js, mut core) = (Vec::new(), Vec::new(), Vec::new());
        // A lap of both boards' rings first, unmeasured and without pauses:
        // a long-lived board has every page of its ring mapped in each
        // process, and the measured rounds should not pay first-touch page
        // faults that the floor's reused buffer never pays (as the
        // library's latency bench warms up, BENCHMARKS.md, "Layout v3").
        let lap = (BOARD_CAPACITY / size.bytes as u64 + 1).min(u64::from(BOARD_DEPTH));
        for w in 0..lap {
            let clip = Clip::new(
                "application/octet-stream",
                // Tags apart from the measured rounds' (at most 8 digits).
                payload(size.bytes, 10_000_000 + w as usize),
            );
            cross(a, b, &mut sub, &clip);
        }
        // Round 0 warms up, not measured (first stream/bucket creation).
        for round in 0..=size.rounds {
            let clip = Clip::new(
                "application/octet-stream",
                payload(size.bytes, round + size.bytes),
            );
            let data = payload(size.bytes, round);
            let floor_first = round % 2 == 0;
            let mut floor_round = |data: Vec<u8>| {
                let js_took = rt.block_on(floor.jetstream(data.clone()));
                let core_took = rt.block_on(floor.core(data));
                std::thread::sleep(ROUND_GAP);
                (js_took, core_took)
            };
            let floor_took = floor_first.then(|| floor_round(data.clone()));
            let t0 = Instant::now();
            cross(a, b, &mut sub, &clip);
            let took = t0.elapsed();
            std::thread::sleep(ROUND_GAP);
            let (js_took, core_took) = floor_took.unwrap_or_else(|| floor_round(data));
            if round > 0 {
                bridge.push(took);
                js.push(js_took);
                core.push(core_took);
            }
        }
        rt.block_on(floor.remove());
        // The median of each round's bridge ÷ the floor round beside it:
        // the pairing's own estimate, steadier where the floor itself
        // spreads (30 MB). The target is the column before it.
        let paired = median(
            bridge
                .iter()
                .zip(&js)
                .map(|(b, j)| b.as_secs_f64() / j.as_secs_f64()),
        );
        let (bp50, bp99, bmax) = stats(bridge);
        let (jp50, jp99, jmax) = stats(js);
        let (cp50, cp99, cmax) = stats(core);
        println!(
            "{:>6} | {:>27} | {:>27} | {:>27} | {:>7.2} | {:>9.2}",
            size.label,
            format!("{} / {} / {}", ms(bp50), ms(bp99), ms(bmax)),
            format!("{} / {} / {}", ms(jp50), ms(jp99), ms(jmax)),
            format!("{} / {} / {}", ms(cp50), ms(cp99), ms(cmax)),
            bp50.as_secs_f64() / jp50.as_secs_f64(),
            paired
        );
    }
    local_speed(a, &mut server);
    drop(server);
    drop(bridges);
    let _ = std::fs::remove_dir_all(&dir);
}

/// One 16 B copy and its paste on board A, `n` times: p50/p99/max.
fn copy_paste(board: &shm_clip::Board, n: usize, tag: &str) -> (Duration, Duration, Duration) {
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let text = format!("{tag} {i:08}");
        let t0 = Instant::now();
        board.copy(&Clip::text(text.as_str())).unwrap();
        let got = board.paste().unwrap();
        times.push(t0.elapsed());
        assert_eq!(got.text_str(), Some(text.as_str()));
    }
    stats(times)
}

/// The local board's speed with its bridge connected, with the server
/// killed (the bridge reconnecting in the background), and for a board that
/// no bridge watches, in the same run.
fn local_speed(a: &shm_clip::Board, server: &mut NatsServer) {
    let alone = TestBoard::new("bench-alone");
    let lone = alone.open(CreateOptions {
        capacity: 128 << 20,
        depth: 200,
    });
    let n = 2000;
    let row = |what: &str, (p50, p99, max): (Duration, Duration, Duration), floor: Duration| {
        println!(
            "{what:>28} | {:>9} | {:>9} | {:>9} | {:>6.2}",
            ms(p50),
            ms(p99),
            ms(max),
            p50.as_secs_f64() / floor.as_secs_f64()
        );
    };
    println!();
    println!("local 16 B copy + paste on board A (ms) | p50 | p99 | max | p50 ×unbridged");
    let floor = copy_paste(&lone, n, "alone");
    row("unbridged board", floor, floor.0);
    row("bridged, server up", copy_paste(a, n, "up"), floor.0);
    server.kill();
    row("bridged, server down", copy_paste(a, n, "down"), floor.0);
}

/// The floors for one size, on the bench's server: a JetStream publish →
/// ordered-consumer receive, and a core publish → subscriber receive, one
/// message in flight.
struct Floor {
    client: async_nats::Client,
    js: async_nats::jetstream::Context,
    stream: String,
    messages: async_nats::jetstream::consumer::pull::Ordered,
    sub: async_nats::Subscriber,
    size: usize,
}

impl Floor {
    async fn new(url: &str, size: usize) -> Floor {
        let client = async_nats::connect(url).await.unwrap();
        let js = async_nats::jetstream::new(client.clone());
        let stream = format!("FLOOR{size}");
        let handle = js
            .get_or_create_stream(async_nats::jetstream::stream::Config {
                name: stream.clone(),
                subjects: vec![format!("floor.{size}")],
                max_messages: 200,
                ..Default::default()
            })
            .await
            .unwrap();
        let messages = handle
            .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig {
                deliver_policy: async_nats::jetstream::consumer::DeliverPolicy::New,
                ..Default::default()
            })
            .await
            .unwrap()
            .messages()
            .await
            .unwrap();
        let sub = client.subscribe(format!("core.{size}")).await.unwrap();
        client.flush().await.unwrap();
        Floor {
            client,
            js,
            stream,
            messages,
            sub,
            size,
        }
    }

    /// Publish, its ack, and the consumer's receipt of the message.
    async fn jetstream(&mut self, data: Vec<u8>) -> Duration {
        let t0 = Instant::now();
        self.js
            .publish(format!("floor.{}", self.size), data.into())
            .await
            .unwrap()
            .await
            .unwrap();
        self.messages.next().await.unwrap().unwrap();
        t0.elapsed()
    }

    /// Publish and the subscriber's receipt.
    async fn core(&mut self, data: Vec<u8>) -> Duration {
        let t0 = Instant::now();
        self.client
            .publish(format!("core.{}", self.size), data.into())
            .await
            .unwrap();
        self.sub.next().await.unwrap();
        t0.elapsed()
    }

    async fn remove(self) {
        let _ = self.js.delete_stream(&self.stream).await;
    }
}
