//! Machines for the bridge's tests: each is a board of its own (its own
//! node id) with a real `shm-clip-bridge` process, its own state and runtime
//! directories, talking to real nats-server processes on loopback ports
//! (`shm_clip_test_kit::nats`). Every wait has a deadline and waits for an
//! observable event: a clip on a board, a line in a status file, a process
//! exit.
#![allow(dead_code, reason = "each test file uses a part of the kit")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use shm_clip::{Board, Clip, CreateOptions, Selector};
use shm_clip_bridge::key::BoardKey;
use shm_clip_bridge::naming::Names;
use shm_clip_bridge::status::BridgeStatus;
use shm_clip_test_kit::{Finished, Proc, TestBoard};

/// How long a clip may take to cross in a test (CI is loaded).
pub const CROSS: Duration = Duration::from_secs(30);

/// A scratch directory for a test, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "shm-clip-bridge-test.{}.{test}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// A fresh 0600 board key in this directory.
    pub fn key(&self) -> PathBuf {
        let path = self.0.join("board.key");
        if !path.exists() {
            BoardKey::generate().write_new(&path).unwrap();
        }
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One "machine": a board and (while running) its bridge.
pub struct Machine {
    pub name: String,
    /// The board name the machines share (each has its own local board).
    pub shared: String,
    pub tb: TestBoard,
    pub board: Board,
    pub home: PathBuf,
    pub bridge: Option<Proc>,
    pub args: Vec<String>,
    /// More environment for the bridge (a test hook's variables).
    pub env: Vec<(String, std::ffi::OsString)>,
}

impl Machine {
    /// A machine called `name` (its display name too) with a fresh board.
    pub fn new(scratch: &Scratch, test: &str, name: &str) -> Machine {
        let tb = TestBoard::new(&format!("{test}-{name}"));
        let board = tb.open(CreateOptions {
            capacity: 96 << 20,
            depth: 200,
        });
        let home = scratch.0.join(name);
        for sub in ["state", "run"] {
            std::fs::create_dir_all(home.join(sub)).unwrap();
        }
        std::fs::set_permissions(
            home.join("run"),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        Machine {
            name: name.into(),
            shared: test.into(),
            tb,
            board,
            home,
            bridge: None,
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// The bridge's command for `servers`, with `extra` flags.
    pub fn command(&self, servers: &[String], key: &Path, extra: &[String]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_shm-clip-bridge"));
        cmd.arg("run");
        for s in servers {
            cmd.args(["--server", s]);
        }
        cmd.arg("--key-file")
            .arg(key)
            .arg("--board")
            .arg(format!("{}={}", self.tb.name, self.shared))
            .args(["--name", &self.name])
            .args(extra)
            .env("XDG_STATE_HOME", self.home.join("state"))
            .env("XDG_RUNTIME_DIR", self.home.join("run"))
            .env("SHM_CLIP_CONFIG", self.home.join("config.toml"))
            .env("RUST_LOG", "info,async_nats=warn")
            .env_remove("SHM_CLIP_BRIDGE_PASSWORD")
            // Only a note or a removal wakes the watcher: a wake-up that
            // failed would otherwise be covered by its look every second.
            .env(shm_clip_bridge::test_hooks::QUIET_WATCH_VAR, "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Starts the bridge; returns once its status file says it is connected.
    pub fn start(&mut self, servers: &[String], key: &Path, extra: &[String]) {
        self.start_unconnected(servers, key, extra);
        self.wait_status("connected", |s| s.connected);
    }

    /// Starts the bridge without waiting for a connection (server down).
    pub fn start_unconnected(&mut self, servers: &[String], key: &Path, extra: &[String]) {
        assert!(
            self.bridge.is_none(),
            "{}: bridge already running",
            self.name
        );
        let _ = std::fs::remove_file(self.status_path());
        let cmd = self.command(servers, key, extra);
        let mut proc = Proc::spawn(cmd, &format!("bridge {}", self.name));
        proc.wait_for_file(&self.status_path(), CROSS);
        self.bridge = Some(proc);
    }

    /// SIGKILLs the bridge (no clean shutdown).
    pub fn kill_bridge(&mut self) -> Finished {
        let mut proc = self.bridge.take().expect("a running bridge");
        proc.kill();
        proc.finish(CROSS)
    }

    /// SIGTERMs the bridge and returns what it logged.
    pub fn stop_bridge(&mut self) -> Finished {
        let proc = self.bridge.take().expect("a running bridge");
        kill(Pid::from_raw(proc.pid() as i32), Signal::SIGTERM).unwrap();
        proc.finish(CROSS)
    }

    pub fn bridge_pid(&self) -> u32 {
        self.bridge.as_ref().expect("a running bridge").pid()
    }

    pub fn status_path(&self) -> PathBuf {
        self.home
            .join("run/shm-clip")
            .join(format!("bridge-{}.json", self.tb.name))
    }

    pub fn state_path(&self) -> PathBuf {
        self.home
            .join("state/shm-clip")
            .join(format!("bridge-{}.state", self.tb.name))
    }

    /// The bridge's status file (the last complete one).
    pub fn status(&self) -> Option<BridgeStatus> {
        BridgeStatus::load(&self.status_path()).ok()
    }

    /// Waits until the status file satisfies `f`.
    pub fn wait_status(&self, what: &str, f: impl Fn(&BridgeStatus) -> bool) -> BridgeStatus {
        let deadline = Instant::now() + CROSS;
        loop {
            let status = self.status();
            if let Some(s) = status.as_ref().filter(|s| f(s)) {
                return s.clone();
            }
            assert!(
                Instant::now() < deadline,
                "{}: status {what} within {CROSS:?}; last: {status:#?}",
                self.name
            );
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Copies `text` as a local commit.
    pub fn copy(&self, text: &str) {
        self.board.copy(&Clip::text(text)).unwrap();
    }

    /// The texts of the board's history, oldest first.
    pub fn texts(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .board
            .history()
            .unwrap()
            .iter()
            .filter_map(|e| self.board.get(Selector::Seq(e.seq)).ok())
            .filter_map(|c| c.text_str().map(str::to_owned))
            .collect();
        out.reverse();
        out
    }

    /// The current clip's text.
    pub fn current(&self) -> Option<String> {
        self.board
            .paste()
            .ok()
            .and_then(|c| c.text_str().map(str::to_owned))
    }

    /// Waits until the board holds `text`.
    pub fn wait_for(&self, text: &str) {
        wait_until(
            &format!("{}: {text:?} on the board", self.name),
            CROSS,
            || self.texts().iter().any(|t| t == text),
        );
    }

    /// Waits until the current clip is `text`.
    pub fn wait_current(&self, text: &str) {
        wait_until(&format!("{}: {text:?} current", self.name), CROSS, || {
            self.current().as_deref() == Some(text)
        });
    }

    /// The server-side names of this machine's board under `key`.
    pub fn names(&self, key: &Path) -> Names {
        Names::new(
            &BoardKey::load(key).unwrap(),
            &shm_clip::BoardName::new(&self.shared).unwrap(),
        )
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        if let Some(mut p) = self.bridge.take() {
            p.kill();
            if thread::panicking() {
                // The bridge's log is the best clue to a failed test.
                let log = p.finish(CROSS).stderr;
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                eprintln!("--- bridge {} log (last lines) ---", self.name);
                for line in tail.iter().rev() {
                    eprintln!("{line}");
                }
            }
        }
    }
}

/// A bridge's pause points (`src/test_hooks.rs`): it stops at each named
/// point once, and goes on when the test releases it.
pub struct Pause {
    fifo: PathBuf,
    marker: PathBuf,
}

impl Pause {
    /// Arms `m`'s next bridge to stop at `points`, comma-separated.
    pub fn arm(scratch: &Scratch, m: &mut Machine, points: &str) -> Pause {
        use shm_clip_bridge::test_hooks::{PAUSE_AT_VAR, PAUSE_VAR};
        let fifo = scratch.0.join(format!("pause-{}", m.name));
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        m.env = vec![
            (PAUSE_VAR.into(), fifo.clone().into()),
            (PAUSE_AT_VAR.into(), points.into()),
        ];
        let mut marker = fifo.clone().into_os_string();
        marker.push(".at");
        Pause {
            fifo,
            marker: marker.into(),
        }
    }

    /// Waits until the bridge stands at `point`.
    pub fn wait_at(&self, point: &str) {
        wait_until(&format!("the bridge at {point}"), CROSS, || {
            std::fs::read_to_string(&self.marker).is_ok_and(|at| at == point)
        });
    }

    /// Lets it go on: opening the FIFO for writing meets the bridge's open
    /// for reading, and closing it ends the bridge's read.
    pub fn release(&self) {
        let fifo = self.fifo.clone();
        shm_clip_test_kit::within("releasing the bridge", CROSS, move || {
            drop(std::fs::OpenOptions::new().write(true).open(&fifo).unwrap());
        });
    }
}

/// Runs `cmd` to its end under the watchdog (a hang fails the test).
pub fn run_to_end(cmd: Command, label: &str) -> Finished {
    Proc::spawn(cmd, label).finish(CROSS)
}

/// Polls `f` until it is true; fails the test after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// A tokio runtime for talking to the server directly (the rogue
/// publisher, stream counts).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// How many messages the stream `names` holds.
pub fn stream_messages(url: &str, names: &Names) -> u64 {
    runtime().block_on(async {
        let client = async_nats::connect(url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let stream = js.get_stream(&names.stream).await.unwrap();
        stream.get_info().await.unwrap().state.messages
    })
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
