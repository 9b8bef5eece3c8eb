//! Measurements of the tray, run by `scripts/bench-tray` (ignored by the
//! normal test run because the idle measurement takes a minute):
//!
//! - latency from a system-clipboard change to the board's commit, p50/p99,
//!   measured from an in-process X11 owner (the change itself) and from
//!   `xclip -i` (including xclip's own start-up);
//! - the tray's CPU time while idle, and its resident memory.

mod tray_support;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use shm_clip::{Board, BoardName, Origin, OriginKind};
use tray_support::{World, png};
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{
    AtomEnum, ConnectionExt as _, CreateWindowAux, EventMask, PropMode, SelectionNotifyEvent,
    WindowClass,
};
use x11rb::wrapper::ConnectionExt as _;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(name: &str, mut samples: Vec<f64>) {
    samples.sort_by(f64::total_cmp);
    println!(
        "BENCH {name}: n={} p50={:.2} ms p99={:.2} ms min={:.2} ms max={:.2} ms",
        samples.len(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        samples[0],
        samples[samples.len() - 1]
    );
}

/// `(utime + stime)` in clock ticks, and `VmRSS` in KiB, of `pid`.
fn cpu_and_rss(pid: u32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the command: state is field 3, utime 14, stime 15 (1-based).
    let ticks = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    (ticks, rss)
}

#[test]
#[ignore = "a benchmark: run it with scripts/bench-tray"]
#[expect(clippy::too_many_lines, reason = "one benchmark, read top to bottom")]
fn tray_latency_cpu_and_rss() {
    let rounds: usize = std::env::var("SHM_CLIP_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let idle_secs: u64 = std::env::var("SHM_CLIP_BENCH_IDLE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let w = World::new("bench");
    let tray = w.tray(&["--no-icon"]);
    let (_, rss_start) = cpu_and_rss(tray.pid());

    // This process: a board subscriber and an X11 clipboard owner.
    let board = Board::open_with(
        &BoardName::new(&w.board).unwrap(),
        Origin::this_process(OriginKind::Cli),
        None,
    )
    .unwrap();
    let mut sub = board.subscribe().unwrap();
    let (conn, screen) = x11rb::connect(Some(&w.x.display)).unwrap();
    let conn = Arc::new(conn);
    let root = conn.setup().roots[screen].root;
    let atom = |name: &str| {
        conn.intern_atom(false, name.as_bytes())
            .unwrap()
            .reply()
            .unwrap()
            .atom
    };
    let (clipboard, targets, utf8) = (atom("CLIPBOARD"), atom("TARGETS"), atom("UTF8_STRING"));
    let win = conn.generate_id().unwrap();
    conn.create_window(
        0,
        win,
        root,
        0,
        0,
        1,
        1,
        0,
        WindowClass::INPUT_ONLY,
        0,
        &CreateWindowAux::new(),
    )
    .unwrap();
    let text = Arc::new(Mutex::new(Vec::new()));
    let server = {
        let (conn, text) = (Arc::clone(&conn), Arc::clone(&text));
        std::thread::Builder::new()
            .name("bench-owner".into())
            .spawn(move || {
                while let Ok(ev) = conn.wait_for_event() {
                    let Event::SelectionRequest(req) = ev else {
                        continue;
                    };
                    let ok = if req.target == targets {
                        conn.change_property32(
                            PropMode::REPLACE,
                            req.requestor,
                            req.property,
                            AtomEnum::ATOM,
                            &[targets, utf8],
                        )
                        .unwrap();
                        true
                    } else if req.target == utf8 {
                        let data = text.lock().unwrap().clone();
                        conn.change_property8(
                            PropMode::REPLACE,
                            req.requestor,
                            req.property,
                            utf8,
                            &data,
                        )
                        .unwrap();
                        true
                    } else {
                        false
                    };
                    let notify = SelectionNotifyEvent {
                        response_type: x11rb::protocol::xproto::SELECTION_NOTIFY_EVENT,
                        sequence: 0,
                        time: req.time,
                        requestor: req.requestor,
                        selection: req.selection,
                        target: req.target,
                        property: if ok { req.property } else { x11rb::NONE },
                    };
                    let _ = conn.send_event(false, req.requestor, EventMask::NO_EVENT, notify);
                    let _ = conn.flush();
                }
            })
            .unwrap()
    };

    // 1. The owner change itself -> the board's commit.
    let mut samples = Vec::new();
    for i in 0..rounds {
        *text.lock().unwrap() = format!("bench clip {i}").into_bytes();
        // The clock starts before the change: the tray may commit before
        // our own round trip returns.
        let t0 = SystemTime::now();
        conn.set_selection_owner(win, clipboard, x11rb::CURRENT_TIME)
            .unwrap();
        conn.get_selection_owner(clipboard)
            .unwrap()
            .reply()
            .unwrap();
        let note = sub
            .recv_timeout(Duration::from_secs(5))
            .unwrap()
            .expect("watchdog: the tray did not commit within 5 s");
        let ms = note
            .committed_at
            .duration_since(t0)
            .unwrap_or_default()
            .as_secs_f64()
            * 1e3;
        samples.push(ms);
        // The next change may start only once the tray is idle again.
        std::thread::sleep(Duration::from_millis(5));
    }
    report("owner change -> board commit", samples);

    // 2. `xclip -i` (process start included) -> the board's commit.
    let mut samples = Vec::new();
    for i in 0..rounds / 5 {
        let t0 = SystemTime::now();
        let mut src = w.xclip_in(format!("xclip clip {i}").as_bytes(), None);
        let note = sub
            .recv_timeout(Duration::from_secs(5))
            .unwrap()
            .expect("watchdog: the tray did not commit within 5 s");
        samples.push(
            note.committed_at
                .duration_since(t0)
                .unwrap_or_default()
                .as_secs_f64()
                * 1e3,
        );
        let _ = src.kill();
        let _ = src.wait();
        // Keep-alive re-owns the clipboard after xclip dies: let it settle.
        std::thread::sleep(Duration::from_millis(20));
    }
    report("xclip -i -> board commit", samples);

    // 3. Idle CPU and RSS.
    let (_, rss_busy) = cpu_and_rss(tray.pid());
    std::thread::sleep(Duration::from_secs(1));
    let (t0, _) = cpu_and_rss(tray.pid());
    std::thread::sleep(Duration::from_secs(idle_secs));
    let (t1, rss_idle) = cpu_and_rss(tray.pid());
    let hz = String::from_utf8(
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .parse::<f64>()
    .unwrap_or(100.0);
    let cpu_secs = (t1 - t0) as f64 / hz;
    println!(
        "BENCH idle CPU: {cpu_secs:.3} s over {idle_secs} s ({:.4} %)",
        cpu_secs / idle_secs as f64 * 100.0
    );
    // 4. RSS while it serves a 30 MB PNG.
    let big = png(30 << 20);
    let file = w.dir.join("big.png");
    std::fs::write(&file, &big).unwrap();
    assert!(
        w.cli(&["copy", "--file", file.to_str().unwrap()], b"")
            .status
            .success()
    );
    tray_support::wait_for("the tray to serve the PNG", || {
        (w.xclip_out(Some("image/png"))?.len() == big.len()).then_some(())
    });
    let (_, rss_png) = cpu_and_rss(tray.pid());
    println!(
        "BENCH tray RSS: {rss_start} KiB at start, {rss_busy} KiB after the latency runs, {rss_idle} KiB idle, {rss_png} KiB serving a 30 MB PNG"
    );
    drop(tray);
    // The owner thread blocks in wait_for_event until the process exits.
    drop(server);
}
