//! Measurements of the picker, run by `scripts/bench-picker` (ignored by the
//! normal test run: it takes about a minute):
//!
//! - hotkey → picker on screen: from the key event (sent with `XTest` from
//!   this process) to the picker's first frame with the entries painted
//!   (its own log line, stamped in microseconds since the epoch), and to
//!   the X `MapNotify` of its window; cold (no resident picker: the tray
//!   starts one) and warm (the resident picker shows again);
//! - the anchor, in the same run: `rofi -dmenu` fed the same 200 entries,
//!   from its start to the `MapNotify` of its window;
//! - the resident picker while hidden: CPU time, context switches (wake-ups)
//!   and resident memory over an idle period.

mod tray_support;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use tray_support::{World, wait_for};
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{
    ChangeWindowAttributesAux, ConnectionExt as _, EventMask, KEY_PRESS_EVENT, KEY_RELEASE_EVENT,
};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::rust_connection::RustConnection;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(name: &str, mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    let p50 = percentile(&samples, 0.5);
    println!(
        "BENCH {name}: n={} p50={p50:.1} ms p99={:.1} ms min={:.1} ms max={:.1} ms",
        samples.len(),
        percentile(&samples, 0.99),
        samples[0],
        samples[samples.len() - 1]
    );
    p50
}

fn unix_us(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64
}

/// `(utime + stime)` in clock ticks, context switches of every thread, and
/// `VmRSS` in KiB, of `pid`.
fn cpu_switches_rss(pid: u32) -> (u64, u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let mut switches = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let status =
            std::fs::read_to_string(task.unwrap().path().join("status")).unwrap_or_default();
        for line in status.lines() {
            if let Some(v) = line
                .strip_prefix("voluntary_ctxt_switches:")
                .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
            {
                switches += v.trim().parse::<u64>().unwrap_or(0);
            }
        }
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    (ticks, switches, rss)
}

/// This process's X connection: `XTest` keys, and map events on the root.
struct X {
    conn: RustConnection,
    root: u32,
    keycodes: Vec<(u32, u8)>,
}

impl X {
    fn connect(display: &str) -> X {
        let (conn, screen) = x11rb::connect(Some(display)).unwrap();
        let root = conn.setup().roots[screen].root;
        conn.change_window_attributes(
            root,
            &ChangeWindowAttributesAux::new().event_mask(EventMask::SUBSTRUCTURE_NOTIFY),
        )
        .unwrap();
        let (min, max) = (conn.setup().min_keycode, conn.setup().max_keycode);
        let map = conn
            .get_keyboard_mapping(min, max - min + 1)
            .unwrap()
            .reply()
            .unwrap();
        let per = usize::from(map.keysyms_per_keycode);
        let mut keycodes = Vec::new();
        for (i, syms) in map.keysyms.chunks(per).enumerate() {
            for &s in syms {
                keycodes.push((s, min + i as u8));
            }
        }
        X {
            conn,
            root,
            keycodes,
        }
    }

    fn code(&self, keysym: u32) -> u8 {
        self.keycodes.iter().find(|(s, _)| *s == keysym).unwrap().1
    }

    /// Presses `keysyms` together (`XTest`) and returns when the server has them.
    fn keys(&self, keysyms: &[u32]) -> SystemTime {
        let codes: Vec<u8> = keysyms.iter().map(|k| self.code(*k)).collect();
        let sent = SystemTime::now();
        for &c in &codes {
            self.conn
                .xtest_fake_input(KEY_PRESS_EVENT, c, 0, self.root, 0, 0, 0)
                .unwrap();
        }
        for &c in codes.iter().rev() {
            self.conn
                .xtest_fake_input(KEY_RELEASE_EVENT, c, 0, self.root, 0, 0, 0)
                .unwrap();
        }
        self.conn.get_input_focus().unwrap().reply().unwrap();
        sent
    }

    fn hotkey(&self) -> SystemTime {
        // Super_L, Shift_L, v
        self.keys(&[0xffeb, 0xffe1, u32::from('v')])
    }

    /// Closes the picker with Escape once it has the focus, and waits
    /// until it is unmapped.
    fn close(&self, window: u32) {
        wait_for("the picker to take the focus", || {
            let focus = self.conn.get_input_focus().ok()?.reply().ok()?.focus;
            (focus == window).then_some(())
        });
        self.keys(&[0xff1b]);
        self.wait_map(true);
    }

    /// Waits for the next `MapNotify` (or `UnmapNotify` when `unmap`) on the
    /// root's children; its arrival time and window.
    fn wait_map(&self, unmap: bool) -> (SystemTime, u32) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            assert!(Instant::now() < deadline, "watchdog: no (un)map event");
            if let Some(event) = self.conn.poll_for_event().unwrap() {
                match event {
                    Event::MapNotify(e) if !unmap => return (SystemTime::now(), e.window),
                    Event::UnmapNotify(e) if unmap => return (SystemTime::now(), e.window),
                    _ => {}
                }
            } else {
                let fd = std::os::fd::AsFd::as_fd(self.conn.stream());
                let mut fds = [nix::poll::PollFd::new(fd, nix::poll::PollFlags::POLLIN)];
                let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(100u16));
            }
        }
    }
}

/// The `painted_unix_us` of every "painted" line in `log` after `skip` of them.
fn painted(log: &str) -> Vec<u64> {
    log.lines()
        .filter(|l| l.contains(" painted "))
        .filter_map(|l| {
            let at = l.find("painted_unix_us=")? + "painted_unix_us=".len();
            l[at..].split_whitespace().next()?.parse().ok()
        })
        .collect()
}

fn spawn_tray(w: &World) -> Child {
    let log = std::fs::File::create(w.dir.join("tray.log")).unwrap();
    let mut cmd = Command::new(tray_support::bin("shm-clip-app"));
    cmd.args(["--tray", "--no-icon"]);
    w.env(&mut cmd);
    cmd.env("RUST_LOG", "info,shm_clip_app::picker=debug")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn tray_log(w: &World) -> String {
    std::fs::read_to_string(w.dir.join("tray.log")).unwrap_or_default()
}

fn picker_pid(w: &World) -> Option<u32> {
    let log = tray_log(w);
    let at = log.rfind("picker running pid=")? + "picker running pid=".len();
    log[at..].split_whitespace().next()?.parse().ok()
}

#[test]
#[ignore = "a benchmark: run it with scripts/bench-picker"]
#[expect(clippy::too_many_lines, reason = "one benchmark, read top to bottom")]
fn picker_hotkey_to_screen_beside_rofi() {
    let rounds: usize = std::env::var("SHM_CLIP_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let idle_secs: u64 = std::env::var("SHM_CLIP_BENCH_IDLE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let w = World::new("bench-picker");
    let entries: Vec<String> = (0..200)
        .map(|i| format!("entry {i:03}: the quick brown fox jumps over the lazy dog"))
        .collect();
    for e in &entries {
        assert!(w.cli(&["copy", e], b"").status.success());
    }
    let mut tray = spawn_tray(&w);
    wait_for("the tray's hotkey", || {
        tray_log(&w).contains("picker hotkey grabbed").then_some(())
    });
    let x = X::connect(&w.x.display);

    let mut cold_painted = Vec::new();
    let mut cold_mapped = Vec::new();
    let mut warm_painted = Vec::new();
    let mut warm_mapped = Vec::new();
    for round in 0..rounds {
        // Cold: no picker runs; the tray starts one.
        if let Some(pid) = picker_pid(&w) {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            wait_for("the old picker to exit", || {
                (!std::path::Path::new(&format!("/proc/{pid}")).exists()).then_some(())
            });
        }
        let before = painted(&tray_log(&w)).len();
        let sent = x.hotkey();
        let (mapped, window) = x.wait_map(false);
        let at = wait_for("the cold picker's first painted frame", || {
            painted(&tray_log(&w)).get(before).copied()
        });
        cold_painted.push((at - unix_us(sent)) as f64 / 1000.0);
        cold_mapped.push(mapped.duration_since(sent).unwrap().as_secs_f64() * 1000.0);
        x.close(window);
        // Warm: the resident picker shows again, `rounds` times per cold one
        // in the last round only (the warm figure wants many samples).
        let warm_rounds = if round + 1 == rounds { rounds } else { 1 };
        for _ in 0..warm_rounds {
            let before = painted(&tray_log(&w)).len();
            let sent = x.hotkey();
            let (mapped, window) = x.wait_map(false);
            let at = wait_for("the warm picker's painted frame", || {
                painted(&tray_log(&w)).get(before).copied()
            });
            warm_painted.push((at - unix_us(sent)) as f64 / 1000.0);
            warm_mapped.push(mapped.duration_since(sent).unwrap().as_secs_f64() * 1000.0);
            x.close(window);
        }
    }

    // The anchor: rofi -dmenu with the same 200 lines, start to mapped.
    let mut rofi = Vec::new();
    let input = entries.join("\n") + "\n";
    for _ in 0..rounds {
        let mut cmd = Command::new("rofi");
        cmd.arg("-dmenu");
        w.env(&mut cmd);
        let start = SystemTime::now();
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("rofi (install rofi; scripts/test does)");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let (mapped, _) = x.wait_map(false);
        rofi.push(mapped.duration_since(start).unwrap().as_secs_f64() * 1000.0);
        let _ = child.kill();
        let _ = child.wait();
        x.wait_map(true);
    }

    let cold = report(
        "picker cold: hotkey -> first frame with entries",
        cold_painted,
    );
    report("picker cold: hotkey -> window mapped", cold_mapped);
    let warm = report(
        "picker warm: hotkey -> first frame with entries",
        warm_painted,
    );
    let warm_map = report("picker warm: hotkey -> window mapped", warm_mapped);
    let anchor = report("rofi -dmenu (200 lines): start -> window mapped", rofi);
    println!(
        "BENCH ratio warm painted / rofi mapped: {:.2}; warm mapped / rofi mapped: {:.2}; cold painted / rofi: {:.2}",
        warm / anchor,
        warm_map / anchor,
        cold / anchor
    );

    // Idle: the resident picker, hidden, for idle_secs.
    let pid = picker_pid(&w).unwrap();
    let (t0, s0, _) = cpu_switches_rss(pid);
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(idle_secs));
    let (t1, s1, rss) = cpu_switches_rss(pid);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "BENCH picker idle (hidden) over {secs:.0} s: cpu {} ticks ({:.3} % of a core), {} context switches, RSS {} KiB",
        t1 - t0,
        (t1 - t0) as f64 / 100.0 / secs * 100.0,
        s1 - s0,
        rss
    );
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let _ = tray.kill();
    let _ = tray.wait();
}
