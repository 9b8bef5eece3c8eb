//! Faults: a server restarted mid-stream (nats.rs#1596 must not bite), a
//! server stopped with SIGSTOP for 10 s, a bad network (a TCP proxy of our
//! own: 50 ms each way and at least 10 cuts), and a server that is down
//! while the local board is used.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use common::{CROSS, Machine, Scratch};
use shm_clip::Clip;
use shm_clip_test_kit::nats::NatsServer;
use shm_clip_test_kit::{spawn_named, within};

fn numbered(prefix: &str, n: std::ops::Range<usize>) -> Vec<String> {
    n.map(|i| format!("{prefix} {i:02}")).collect()
}

#[test]
fn a_server_restart_mid_stream_loses_nothing_and_both_directions_resume() {
    let s = Scratch::new("restart");
    let mut server = NatsServer::start(&s.0, "n", &[]);
    let key = s.key();
    let mut a = Machine::new(&s, "restart", "a");
    let mut b = Machine::new(&s, "restart", "b");
    a.start(&[server.url()], &key, &[]);
    b.start(&[server.url()], &key, &[]);
    let want = numbered("clip", 0..20);
    for t in &want[..10] {
        a.copy(t);
    }
    b.wait_for(&want[2]);
    // Mid-stream: B may be anywhere in the first ten.
    server.kill();
    for t in &want[10..] {
        a.copy(t);
    }
    server.restart();
    b.wait_for(&want[19]);
    b.wait_status("caught up", |st| st.applied_seq == 20 && st.connected);
    assert_eq!(b.texts(), want, "all twenty, once each, in order");
    // B's consumer lives again, not only A's publisher.
    b.copy("after the restart");
    a.wait_current("after the restart");
}

#[test]
fn a_server_stopped_for_ten_seconds_catches_up() {
    let s = Scratch::new("sigstop");
    let server = NatsServer::start(&s.0, "n", &[]);
    let key = s.key();
    let mut a = Machine::new(&s, "sigstop", "a");
    let mut b = Machine::new(&s, "sigstop", "b");
    a.start(&[server.url()], &key, &[]);
    b.start(&[server.url()], &key, &[]);
    a.copy("before");
    b.wait_for("before");
    server.pause();
    let t0 = Instant::now();
    let during = numbered("during", 0..3);
    for t in &during {
        a.copy(t);
    }
    b.copy("from b during");
    // The fault lasts 10 s; this is its length, not a wait for an event.
    thread::sleep(Duration::from_secs(10).saturating_sub(t0.elapsed()));
    server.resume();
    b.wait_for(&during[2]);
    a.wait_for("from b during");
    for m in [&a, &b] {
        m.wait_status("caught up", |st| {
            st.applied_seq == 5 && st.stream_last_seq == 5
        });
    }
    assert_eq!(a.texts().len(), 5);
    assert_eq!(b.texts().len(), 5);
    common::wait_until("one current clip", CROSS, || a.current() == b.current());
}

/// A TCP proxy that delays every byte by `delay` each way and cuts every
/// connection at random moments.
struct FlakyProxy {
    port: u16,
    cuts: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl FlakyProxy {
    fn start(upstream: u16, delay: Duration) -> FlakyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let live: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let cuts = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let accept_live = live.clone();
        spawn_named("proxy-accept", move || {
            for client in listener.incoming() {
                let Ok(client) = client else { break };
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let mut l = accept_live.lock().unwrap();
                l.push(client.try_clone().unwrap());
                l.push(server.try_clone().unwrap());
                drop(l);
                pump(
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    delay,
                );
                pump(server, client, delay);
            }
        });
        let (cut_live, cut_count, cut_stop) = (live, cuts.clone(), stop.clone());
        spawn_named("proxy-cutter", move || {
            while !cut_stop.load(Ordering::Relaxed) {
                let mut r = [0u8; 2];
                getrandom::fill(&mut r).unwrap();
                // A cut every 0.6-2.1 s: the fault's schedule (each
                // reconnect takes several 100 ms round trips through the delay).
                thread::sleep(Duration::from_millis(
                    600 + u64::from(u16::from_le_bytes(r) % 1500),
                ));
                let mut l = cut_live.lock().unwrap();
                if !l.is_empty() {
                    for s in l.drain(..) {
                        let _ = s.shutdown(Shutdown::Both);
                    }
                    cut_count.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        FlakyProxy { port, cuts, stop }
    }
}

impl Drop for FlakyProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Copies `from` to `to`, each chunk `delay` later than it was read.
fn pump(mut from: TcpStream, to: TcpStream, delay: Duration) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    spawn_named("proxy-read", move || {
        let mut buf = vec![0; 64 << 10];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx
                        .send((Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    });
    spawn_named("proxy-write", move || {
        let mut to = to;
        for (due, bytes) in rx {
            thread::sleep(due.saturating_duration_since(Instant::now()));
            if to.write_all(&bytes).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

#[test]
fn behind_a_slow_cut_network_the_boards_converge_without_dups_or_gaps() {
    let s = Scratch::new("flaky");
    let server = NatsServer::start(&s.0, "n", &[]);
    let proxy = FlakyProxy::start(server.port, Duration::from_millis(50));
    let key = s.key();
    let mut a = Machine::new(&s, "flaky", "a");
    let mut b = Machine::new(&s, "flaky", "b");
    a.start(&[format!("nats://127.0.0.1:{}", proxy.port)], &key, &[]);
    b.start(&[server.url()], &key, &[]);
    let mut sent_a = Vec::new();
    let mut sent_b = Vec::new();
    let mut i = 0;
    while proxy.cuts.load(Ordering::Relaxed) < 10 || i < 10 {
        let (ta, tb) = (format!("a {i:03}"), format!("b {i:03}"));
        a.copy(&ta);
        b.copy(&tb);
        sent_a.push(ta);
        sent_b.push(tb);
        // Both ways through the bad link before the next pair.
        b.wait_for(sent_a.last().unwrap());
        a.wait_for(sent_b.last().unwrap());
        i += 1;
        assert!(i < 500, "the proxy never cut 10 times");
    }
    let total = (2 * i) as u64;
    for m in [&a, &b] {
        m.wait_status("caught up", |st| {
            st.applied_seq == total && st.stream_last_seq == total
        });
    }
    for m in [&a, &b] {
        let texts = m.texts();
        let mut unique = texts.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            texts.len(),
            "{}: duplicates in {texts:?}",
            m.name
        );
        assert_eq!(texts.len() as u64, total, "{}: gaps in {texts:?}", m.name);
        let mine: Vec<&String> = texts.iter().filter(|t| t.starts_with("a ")).collect();
        assert_eq!(
            mine,
            sent_a.iter().collect::<Vec<_>>(),
            "{}: a's commits in order",
            m.name
        );
    }
    common::wait_until("one current clip", CROSS, || a.current() == b.current());
    assert!(proxy.cuts.load(Ordering::Relaxed) >= 10);
}

#[test]
fn the_local_board_does_not_wait_for_a_server_that_is_down() {
    let s = Scratch::new("down");
    let mut server = NatsServer::start(&s.0, "n", &[]);
    let key = s.key();
    let mut a = Machine::new(&s, "down", "a");
    let mut b = Machine::new(&s, "down", "b");
    a.start(&[server.url()], &key, &[]);
    b.start(&[server.url()], &key, &[]);
    server.kill();
    a.wait_status("disconnected", |st| !st.connected);
    // 150 copies and pastes while the bridge cannot reach anything (fewer
    // than the depth: the board is the outbox): under a watchdog, so a board
    // that waited for the network fails the test.
    let board = a.tb.name.clone();
    within(
        "copies with the server down",
        Duration::from_secs(20),
        move || {
            let board = shm_clip::Board::open(&board, shm_clip::OriginKind::Cli).unwrap();
            for i in 0..150 {
                let text = format!("offline {i:03}");
                board.copy(&Clip::text(text.as_str())).unwrap();
                assert_eq!(board.paste().unwrap().text_str(), Some(text.as_str()));
            }
        },
    );
    assert!(!a.status().unwrap().connected);
    server.restart();
    // The outbox goes out in order once the server is back.
    b.wait_for("offline 149");
    b.wait_status("caught up", |st| st.applied_seq == 150);
    let want: Vec<String> = (0..150).map(|i| format!("offline {i:03}")).collect();
    assert_eq!(b.texts(), want, "all, in order");
}
