//! Helpers for the tray's end-to-end tests: a private X server and session
//! bus per test, the built binaries, and watchdogs on every wait.
//!
//! Each test starts its own Xvfb (and dbus-daemon where it needs one), so the
//! tests run in parallel and own their clipboards. They run the binaries
//! that `cargo build --workspace --bins` built (scripts/test does, first),
//! and never build them. A missing tool fails the test; nothing is skipped.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long any single wait may take before the test fails.
pub const WATCHDOG: Duration = Duration::from_secs(20);

/// `target/<profile>`, found from this test's own executable
/// (`target/<profile>/deps/NAME-HASH`), as ripgrep's `tests/util.rs` does.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("deps dir");
    deps.parent().expect("profile dir").to_owned()
}

/// The path of a workspace binary: see `shm_clip_test_kit::workspace_bin`.
pub fn bin(name: &str) -> PathBuf {
    shm_clip_test_kit::workspace_bin(name)
}

/// Polls `check` every 10 ms until it returns `Some`, failing after `WATCHDOG`.
pub fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WATCHDOG;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "watchdog: timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits for `child` to exit, killing it and failing after `WATCHDOG`.
pub fn wait_child(child: &mut Child, what: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + WATCHDOG;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("watchdog: {what} did not exit in time");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `cmd` to completion under the watchdog, with `input` on its stdin.
pub fn run(mut cmd: Command, input: &[u8], what: &str) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {what}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::Builder::new()
        .name("stdin-writer".into())
        .spawn(move || {
            let _ = stdin.write_all(&input);
        })
        .expect("thread");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let reader = std::thread::Builder::new()
        .name("stdout-reader".into())
        .spawn(move || {
            let mut buf = Vec::new();
            let _ = out.read_to_end(&mut buf);
            buf
        })
        .expect("thread");
    let mut stderr = Vec::new();
    let status = wait_child(&mut child, what);
    let _ = err.read_to_end(&mut stderr);
    let _ = writer.join();
    Output {
        status,
        stdout: reader.join().expect("reader"),
        stderr,
    }
}

/// Sends SIGTERM to `pid`.
pub fn terminate(pid: u32) {
    let _ = Command::new("kill").arg(pid.to_string()).status();
}

/// A private X server on a display it picks itself.
pub struct Xvfb {
    child: Child,
    /// `:N`.
    pub display: String,
}

impl Xvfb {
    /// Starts Xvfb with `-displayfd` and waits until it is ready.
    pub fn start() -> Xvfb {
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                // No reset when the last client leaves: a client connecting
                // during one gets ECONNRESET (scripts/lib/desktop.sh).
                "-noreset",
                "-nolisten",
                "tcp",
                "-screen",
                "0",
                "640x480x24",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting Xvfb (install the xvfb package; scripts/test does)");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("xvfb-displayfd".into())
            .spawn(move || {
                let mut line = String::new();
                let _ = out.read_line(&mut line);
                let _ = tx.send(line);
            })
            .expect("thread");
        let line = rx
            .recv_timeout(WATCHDOG)
            .expect("watchdog: Xvfb did not start");
        let number = line.trim();
        assert!(!number.is_empty(), "Xvfb exited before it was ready");
        Xvfb {
            child,
            display: format!(":{number}"),
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private session bus, optionally with a headless tray watcher and host.
pub struct Dbus {
    daemon: Child,
    watcher: Option<Child>,
    /// `DBUS_SESSION_BUS_ADDRESS`.
    pub address: String,
}

impl Dbus {
    /// Starts `dbus-daemon --session` and reads its address.
    pub fn start() -> Dbus {
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting dbus-daemon (install dbus-daemon; scripts/test does)");
        let mut out = BufReader::new(daemon.stdout.take().expect("stdout"));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("dbus-address".into())
            .spawn(move || {
                let mut line = String::new();
                let _ = out.read_line(&mut line);
                let _ = tx.send(line);
            })
            .expect("thread");
        let address = rx
            .recv_timeout(WATCHDOG)
            .expect("watchdog: dbus-daemon did not start")
            .trim()
            .to_owned();
        assert!(
            !address.is_empty(),
            "dbus-daemon exited before it was ready"
        );
        Dbus {
            daemon,
            watcher: None,
            address,
        }
    }

    /// Adds `status-notifier-watcher` and registers a fake host, so that
    /// ksni's items are shown (TESTING-ENV.md).
    pub fn with_tray_host(mut self) -> Dbus {
        let watcher = Command::new("status-notifier-watcher")
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting status-notifier-watcher (haskell-status-notifier-item-utils)");
        self.watcher = Some(watcher);
        wait_for("the StatusNotifierWatcher to register a host", || {
            let out = self.gdbus(&[
                "call",
                "--session",
                "--dest",
                "org.kde.StatusNotifierWatcher",
                "--object-path",
                "/StatusNotifierWatcher",
                "--method",
                "org.kde.StatusNotifierWatcher.RegisterStatusNotifierHost",
                "org.kde.StatusNotifierHost-test",
            ]);
            out.status.success().then_some(())
        });
        self
    }

    /// Runs gdbus on this bus.
    pub fn gdbus(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("gdbus");
        cmd.args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address);
        run(cmd, b"", "gdbus")
    }

    /// The tray's menu layout (`com.canonical.dbusmenu.GetLayout`), as gdbus prints it.
    pub fn menu_layout(&self, item: &str) -> String {
        let out = self.gdbus(&[
            "call",
            "--session",
            "--dest",
            item,
            "--object-path",
            "/MenuBar",
            "--method",
            "com.canonical.dbusmenu.GetLayout",
            "--",
            "0",
            "-1",
            "[]",
        ]);
        assert!(
            out.status.success(),
            "GetLayout: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sends a click to menu item `id` and checks that it was delivered.
    pub fn click(&self, item: &str, id: u32) {
        let out = self.send_click(item, id);
        assert!(
            out.status.success(),
            "Event: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Sends a click to menu item `id`; the reply may never come (Quit).
    pub fn send_click(&self, item: &str, id: u32) -> Output {
        let id = id.to_string();
        self.gdbus(&[
            "call",
            "--session",
            "--dest",
            item,
            "--object-path",
            "/MenuBar",
            "--method",
            "com.canonical.dbusmenu.Event",
            &id,
            "clicked",
            "<\"\">",
            "0",
        ])
    }
}

impl Drop for Dbus {
    fn drop(&mut self) {
        if let Some(w) = self.watcher.as_mut() {
            let _ = w.kill();
            let _ = w.wait();
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// The id of the menu item labelled exactly `label` in a `GetLayout` reply.
pub fn menu_id(layout: &str, label: &str) -> Option<u32> {
    let needle = format!("{{'label': <'{label}'>");
    let at = layout.find(&needle)?;
    let open = layout[..at].rfind("<(")?;
    layout[open + 2..at]
        .trim()
        .trim_end_matches(',')
        .trim()
        .parse()
        .ok()
}

/// One test's world: its board, display, config, data and runtime directories.
pub struct World {
    pub board: String,
    pub dir: PathBuf,
    pub x: Xvfb,
    pub bus: Option<Dbus>,
    /// With a compositor, programs get its socket and no `DISPLAY`.
    pub wayland: Option<PathBuf>,
}

impl World {
    /// A fresh world for test `name`, without a session bus.
    pub fn new(name: &str) -> World {
        let board = format!("tray-{}-{name}", std::process::id());
        let dir = std::env::temp_dir().join(format!("shm-clip-{board}"));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["config", "data", "runtime"] {
            std::fs::create_dir_all(dir.join(sub)).expect("temp dir");
        }
        let _ = Command::new("chmod")
            .arg("700")
            .arg(dir.join("runtime"))
            .status();
        World {
            board,
            dir,
            x: Xvfb::start(),
            bus: None,
            wayland: None,
        }
    }

    /// The config file the programs read (it need not exist).
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("config/config.toml")
    }

    /// Writes the config file.
    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).expect("writing config");
    }

    /// The environment every program of this world runs with.
    pub fn env(&self, cmd: &mut Command) {
        cmd.env("DISPLAY", &self.x.display)
            .env("SHM_CLIP_BOARD", &self.board)
            .env("SHM_CLIP_CONFIG", self.config_path())
            .env("XDG_DATA_HOME", self.dir.join("data"))
            .env("XDG_RUNTIME_DIR", self.dir.join("runtime"))
            .env("RUST_LOG", "info")
            .env("NO_AT_BRIDGE", "1")
            .env_remove("WAYLAND_DISPLAY");
        if let Some(socket) = &self.wayland {
            cmd.env_remove("DISPLAY").env("WAYLAND_DISPLAY", socket);
        }
        match &self.bus {
            Some(bus) => cmd.env("DBUS_SESSION_BUS_ADDRESS", &bus.address),
            None => cmd.env_remove("DBUS_SESSION_BUS_ADDRESS"),
        };
    }

    /// Runs the CLI with `args` and `input`.
    pub fn cli(&self, args: &[&str], input: &[u8]) -> Output {
        let mut cmd = Command::new(bin("shm-clip"));
        cmd.args(args);
        self.env(&mut cmd);
        run(cmd, input, "shm-clip")
    }

    /// The board's current clip (of type `mime`), or `None` when empty or missing.
    pub fn paste(&self, mime: Option<&str>) -> Option<Vec<u8>> {
        let mut args = vec!["paste"];
        if let Some(m) = mime {
            args.extend(["-t", m]);
        }
        let out = self.cli(&args, b"");
        out.status.success().then_some(out.stdout)
    }

    /// `shm-clip history` as text.
    pub fn history(&self) -> String {
        let out = self.cli(&["history"], b"");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Reads the system clipboard through xclip; `None` if nothing is offered.
    pub fn xclip_out(&self, target: Option<&str>) -> Option<Vec<u8>> {
        let mut cmd = Command::new("xclip");
        cmd.args(["-selection", "clipboard", "-o"]);
        if let Some(t) = target {
            cmd.args(["-t", t]);
        }
        self.env(&mut cmd);
        let out = run(cmd, b"", "xclip -o");
        out.status.success().then_some(out.stdout)
    }

    /// Offers `data` on CLIPBOARD with xclip in the foreground (`-quiet`
    /// does not fork, so the returned process is the owner and can be killed).
    pub fn xclip_in(&self, data: &[u8], target: Option<&str>) -> Child {
        let mut cmd = Command::new("xclip");
        cmd.args(["-selection", "clipboard", "-quiet", "-i"]);
        if let Some(t) = target {
            cmd.args(["-t", t]);
        }
        self.env(&mut cmd);
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting xclip (install the xclip package; scripts/test does)");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(data).expect("feeding xclip");
        drop(stdin);
        child
    }

    /// Starts the tray (with `extra` arguments) and waits until it runs.
    pub fn tray(&self, extra: &[&str]) -> Tray {
        let log = unique(&self.dir.join("tray"));
        let file = std::fs::File::create(&log).expect("log file");
        let mut cmd = Command::new(bin("shm-clip-app"));
        cmd.arg("--tray").args(extra);
        self.env(&mut cmd);
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("starting shm-clip-app --tray");
        let mut tray = Tray { child, log };
        wait_for("the tray to start", || {
            if let Some(status) = tray.child.try_wait().expect("try_wait") {
                panic!("the tray exited with {status}: {}", tray.log_text());
            }
            tray.log_text().contains("tray running").then_some(())
        });
        tray
    }

    /// Starts the tray and expects it to fail; returns its stderr.
    pub fn tray_fails(&self, extra: &[&str]) -> String {
        let mut cmd = Command::new(bin("shm-clip-app"));
        cmd.arg("--tray").args(extra);
        self.env(&mut cmd);
        let out = run(cmd, b"", "shm-clip-app --tray");
        assert!(
            !out.status.success(),
            "the tray started but should have refused"
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let mut cmd = Command::new(bin("shm-clip"));
        cmd.args(["destroy", "--force"]);
        self.env(&mut cmd);
        let _ = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn unique(path: &Path) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    path.with_extension(format!("{n}.log"))
}

/// A running tray; stopped with SIGTERM on drop.
pub struct Tray {
    pub child: Child,
    pub log: PathBuf,
}

impl Tray {
    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its D-Bus item name.
    pub fn item(&self) -> String {
        format!("org.kde.StatusNotifierItem-{}-1", self.pid())
    }

    /// What it logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops it with SIGTERM (it saves the history first) and waits.
    pub fn stop(mut self) -> String {
        self.stop_inner();
        self.log_text()
    }

    fn stop_inner(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            terminate(self.child.id());
            let status = wait_child(&mut self.child, "the tray");
            assert!(
                status.success(),
                "the tray exited with {status}: {}",
                self.log_text()
            );
        }
    }
}

impl Drop for Tray {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- tray log ---\n{}", self.log_text());
            let _ = self.child.kill();
            let _ = self.child.wait();
        } else {
            self.stop_inner();
        }
    }
}

/// A PNG of about `size` bytes with random (incompressible) content.
pub fn png(size: usize) -> Vec<u8> {
    let mut data = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ size as u64;
    while data.len() < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.extend_from_slice(&x.to_le_bytes());
    }
    data.truncate(size);
    data
}

/// A headless sway (wlroots, with the data-control protocol) for Wayland tests.
///
/// sway refuses to run as root, so as root it runs as `nobody` through
/// `setpriv`, in a runtime directory of its own; clients reach it through the
/// socket's absolute path in `WAYLAND_DISPLAY`.
pub struct Sway {
    child: Child,
    /// The compositor's socket.
    pub socket: PathBuf,
}

impl Sway {
    /// Starts sway in `dir` and waits for its socket.
    pub fn start(dir: &Path) -> Sway {
        let runtime = dir.join("sway-runtime");
        std::fs::create_dir_all(&runtime).expect("sway runtime dir");
        let root = nix_euid_is_root();
        if root {
            let ok = Command::new("chown")
                .args(["65534:65534", runtime.to_str().unwrap()])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown of the sway runtime dir failed");
        }
        let _ = Command::new("chmod").arg("700").arg(&runtime).status();
        let mut cmd = if root {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "sway"]);
            c
        } else {
            Command::new("sway")
        };
        let child = cmd
            .args(["-c", "/dev/null"])
            .env("HOME", &runtime)
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("WLR_BACKENDS", "headless")
            .env("WLR_LIBINPUT_NO_DEVICES", "1")
            .env("WLR_RENDERER", "pixman")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting sway (install the sway package; scripts/test does)");
        let mut sway = Sway {
            child,
            socket: PathBuf::new(),
        };
        sway.socket = wait_for("sway's Wayland socket", || {
            if let Some(status) = sway.child.try_wait().expect("try_wait") {
                panic!("sway exited with {status}");
            }
            std::fs::read_dir(&runtime).ok()?.find_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                (name.starts_with("wayland-")
                    && Path::new(&name).extension().is_none_or(|e| e != "lock"))
                .then(|| runtime.join(name))
            })
        });
        sway
    }
}

impl Drop for Sway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nix_euid_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
