//! Two real `shm-clip-app` windows under X, driven with xdotool as a person
//! would: type in one window and copy, cut in the other, and check the board
//! with the `shm-clip` command.
//!
//! It needs `DISPLAY` (`scripts/test` starts a private Xvfb and exports it),
//! `xdotool` and `ImageMagick`'s `import`. Without them it fails: it never
//! skips. The screenshot of both windows is saved under
//! `target/test-artifacts/`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long any single wait may take before the test fails.
const WATCHDOG: Duration = Duration::from_secs(30);

/// `target/<profile>`, from this test's executable (`target/<profile>/deps/NAME`),
/// as ripgrep's `tests/util.rs` finds its binary.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .to_owned()
}

/// A workspace binary: see `shm_clip_test_kit::workspace_bin`.
fn bin(name: &str) -> PathBuf {
    shm_clip_test_kit::workspace_bin(name)
}

/// Polls `check` every 20 ms until it gives `Some`, failing after the watchdog.
fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WATCHDOG;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "watchdog: timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run(cmd: &mut Command) -> Output {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "{cmd:?} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn xdotool(args: &[&str]) -> String {
    let out = run(Command::new("xdotool").args(args));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The windows, board and files of one test; everything goes on drop.
struct Session {
    board: String,
    home: PathBuf,
    windows: Vec<Child>,
}

impl Session {
    fn new(test: &str) -> Self {
        let display = std::env::var("DISPLAY").unwrap_or_default();
        assert!(
            !display.is_empty(),
            "DISPLAY is not set. This test needs an X server: run it through \
             scripts/test, which starts a private Xvfb (it never skips)"
        );
        for tool in ["xdotool", "import"] {
            let found = Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            assert!(found, "{tool} is missing: scripts/test installs it");
        }
        let board = format!("e2e-{test}-{}", std::process::id());
        // Preferences go to a private XDG dir, not the user's.
        let home = target_dir().join("tmp").join(&board);
        std::fs::create_dir_all(&home).unwrap();
        Session {
            board,
            home,
            windows: Vec::new(),
        }
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = run(Command::new(bin("shm-clip"))
            .arg("--board")
            .arg(&self.board)
            .args(args));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The board's seq, from `shm-clip status --json`.
    fn seq(&self) -> u64 {
        let status = self.cli(&["status", "--json"]);
        let at = status.find("\"seq\":").expect("seq in status --json") + "\"seq\":".len();
        status[at..]
            .trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .expect("a number after \"seq\":")
    }

    /// Starts a window and waits until it is mapped and subscribed. Its
    /// stderr goes to the returned log, where it says which changes its UI
    /// has applied.
    fn open_window(&mut self) -> (u32, String, PathBuf) {
        self.open_window_logging(Some(
            "warn,winit=error,shm_clip_app::latency=debug,shm_clip_app::inspector=debug",
        ))
    }

    /// [`Session::open_window`] with this `RUST_LOG` (`None`: the default).
    fn open_window_logging(&mut self, rust_log: Option<&str>) -> (u32, String, PathBuf) {
        let log = self.home.join(format!("window-{}.log", self.windows.len()));
        let mut cmd = Command::new(bin("shm-clip-app"));
        match rust_log {
            Some(filter) => cmd.env("RUST_LOG", filter),
            None => cmd.env_remove("RUST_LOG"),
        };
        let child = cmd
            .arg("--board")
            .arg(&self.board)
            .env("XDG_DATA_HOME", self.home.join("data"))
            .env("XDG_CONFIG_HOME", self.home.join("config"))
            .env("NO_AT_BRIDGE", "1")
            .stdin(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("the window's log"))
            .spawn()
            .expect("starting shm-clip-app");
        let pid = child.id();
        self.windows.push(child);
        let started = self.windows.last_mut().expect("just pushed");
        let window = wait_for("the window to be mapped", || {
            // A window that died before it mapped would otherwise only time
            // out: say how it ended, and what it logged.
            if let Some(status) = started.try_wait().expect("try_wait on the window") {
                panic!(
                    "the window exited ({status}) before it was mapped; its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            let out = Command::new("xdotool")
                .args(["search", "--onlyvisible", "--pid", &pid.to_string()])
                .output()
                .ok()?;
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .map(str::to_owned)
        });
        wait_for("the window to subscribe to the board", || {
            self.cli(&["status", "--json"])
                .contains(&format!("\"pid\": {pid},"))
                .then_some(())
        });
        (pid, window, log)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for child in &mut self.windows {
            // SIGTERM: the window closes cleanly and unlinks its mailbox.
            let _ = Command::new("kill").arg(child.id().to_string()).status();
        }
        for child in &mut self.windows {
            let deadline = Instant::now() + Duration::from_secs(5);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = Command::new(bin("shm-clip"))
            .args(["--board", &self.board, "destroy"])
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

/// Waits until the window that logs to `log` has applied change `seq` to
/// what it shows (it logs each notification as its UI applies it).
fn wait_applied(log: &Path, seq: u64, what: &str) {
    let needle = format!("applied seq={seq} ");
    wait_for(what, || {
        std::fs::read_to_string(log)
            .is_ok_and(|l| l.contains(&needle))
            .then_some(())
    });
}

/// Presses `keys` in window `window` after giving it the keyboard focus.
fn press(window: &str, keys: &[&str]) {
    xdotool(&["windowfocus", "--sync", window]);
    xdotool(&[&["key", "--clearmodifiers", "--delay", "60"], keys].concat());
}

/// The pid in the first `"origin"` of `shm-clip history --json`.
fn first_origin_pid(history_json: &str) -> Option<u32> {
    let origin = history_json.find("\"origin\"")?;
    let rest = &history_json[origin..];
    let pid = rest.find("\"pid\":")? + "\"pid\":".len();
    rest[pid..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[test]
fn two_windows_cut_copy_and_paste_through_the_board() {
    let mut s = Session::new("windows");
    let (_pid_a, window_a, log_a) = s.open_window();
    let (pid_b, window_b, log_b) = s.open_window();
    // Side by side on the screen, for the screenshot (there is no window manager).
    xdotool(&["windowsize", &window_a, "640", "780"]);
    xdotool(&["windowmove", &window_a, "0", "0"]);
    xdotool(&["windowsize", &window_b, "640", "780"]);
    xdotool(&["windowmove", &window_b, "640", "0"]);

    // Window A: type alpha, select all, Ctrl+C.
    xdotool(&["windowfocus", "--sync", &window_a]);
    xdotool(&["type", "--delay", "40", "alpha"]);
    press(&window_a, &["ctrl+a", "ctrl+c"]);
    wait_for("`shm-clip paste` to print alpha", || {
        (s.cli(&["paste"]) == "alpha").then_some(())
    });

    // The CLI copies beta; window B pastes it, selects all and cuts.
    s.cli(&["copy", "beta"]);
    // B pastes the clip it knows of: let the change reach its screen first
    // (a person, too, sees beta before pasting it).
    wait_applied(&log_b, s.seq(), "window B to show beta");
    press(&window_b, &["ctrl+v", "ctrl+a", "ctrl+x"]);
    let history = wait_for("the cut from window B", || {
        let history = s.cli(&["history", "--json"]);
        (first_origin_pid(&history) == Some(pid_b)).then_some(history)
    });
    assert_eq!(s.cli(&["paste"]), "beta");
    assert!(history.contains("\"preview\": \"beta\""), "{history}");

    // Window A shows B's cut too (B made it), then keep a screenshot.
    wait_applied(&log_a, s.seq(), "window A to show the cut");
    let dir = target_dir().join("..").join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    let shot = dir.join("window_e2e.png");
    run(Command::new("import").args(["-window", "root"]).arg(&shot));
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "empty screenshot"
    );
}

/// The pending counts in the inspector's log lines (`shown ... pending=PID:N,...`),
/// oldest first, for subscriber `pid`.
fn shown_pending(log: &Path, pid: u32) -> Vec<String> {
    let needle = format!("{pid}:");
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("shm_clip_app::inspector") && l.contains(" shown "))
        .filter_map(|l| {
            let list = &l[l.find("pending=")? + "pending=".len()..];
            let list = list.split_whitespace().next()?;
            list.split(',')
                .find_map(|p| p.strip_prefix(&needle).map(str::to_owned))
        })
        .collect()
}

/// The Inspector re-reads the board by itself: a mailbox's pending count
/// changes when its owner reads it, which is no commit and sends no
/// notification. Once this test's own mailbox is drained, the window shows
/// 0 within about a second, with no input at all (it showed "pending 1"
/// until the mouse moved).
#[test]
fn the_inspector_follows_pending_counts_without_input() {
    let mut s = Session::new("inspector");
    // Open on the Inspector, from the saved preferences: no click needed.
    let prefs = s.home.join("data").join("shm-clip");
    std::fs::create_dir_all(&prefs).unwrap();
    std::fs::write(prefs.join("window.ron"), r#"{"app": "(view:Inspector)"}"#).unwrap();
    let (_pid, _window, log) = s.open_window();

    // A subscriber of our own, whose mailbox we read when we choose.
    let me = std::process::id();
    let board = shm_clip::Board::open(
        &shm_clip::BoardName::new(&s.board).unwrap(),
        shm_clip::OriginKind::Cli,
    )
    .unwrap();
    let mut mailbox = board.subscribe().unwrap();
    // Subscribing commits nothing: only a re-read shows us.
    wait_for("the inspector to list this test's mailbox", || {
        (shown_pending(&log, me).first().map(String::as_str) == Some("0")).then_some(())
    });

    s.cli(&["copy", "one for every mailbox"]);
    wait_for("the inspector to show 1 pending for us", || {
        shown_pending(&log, me)
            .contains(&"1".to_owned())
            .then_some(())
    });
    while mailbox.try_recv().unwrap().is_some() {}
    let status = s.cli(&["status"]);
    let line = status
        .lines()
        .find(|l| l.contains(&me.to_string()) && l.contains("mailbox"))
        .unwrap_or_else(|| panic!("no line for pid {me} in:\n{status}"));
    assert!(line.ends_with("pending 0"), "{line}");
    let drained = Instant::now();
    wait_for(
        "the inspector to show 0 pending again, without input",
        || {
            let shown = shown_pending(&log, me);
            let after = shown.iter().position(|n| n == "1")?;
            shown[after..].contains(&"0".to_owned()).then_some(())
        },
    );
    let took = drained.elapsed();
    eprintln!("the inspector showed the drained mailbox after {took:?}");
    // The inspector re-reads every second; the rest is frame time, which a
    // loaded machine's software renderer stretches. Before, it never did.
    assert!(
        took < Duration::from_secs(3),
        "the inspector took {took:?} to follow `shm-clip status`"
    );
}

/// SIGTERM closes the window cleanly (its mailbox is unlinked) within 0.5 s.
#[test]
fn a_window_exits_within_half_a_second_of_sigterm() {
    let mut s = Session::new("sigterm");
    let mut worst = Duration::ZERO;
    for round in 0..3 {
        let (pid, _window, log) = s.open_window();
        s.cli(&["copy", &format!("round {round}")]);
        wait_applied(&log, s.seq(), "the window to show the copy");
        let sent = Instant::now();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let child = s.windows.last_mut().unwrap();
        let status = wait_for("the window to exit after SIGTERM", || {
            child.try_wait().unwrap()
        });
        let took = sent.elapsed();
        worst = worst.max(took);
        eprintln!("round {round}: exited {status} {took:?} after SIGTERM");
        assert!(status.success(), "{status}");
        assert!(
            took < Duration::from_millis(500),
            "the window took {took:?} to exit after SIGTERM"
        );
        assert!(
            !s.cli(&["status", "--json"])
                .contains(&format!("\"pid\": {pid},")),
            "the window's mailbox is left behind"
        );
    }
    eprintln!("slowest exit after SIGTERM: {worst:?}");
}

/// At the default log level the window says nothing of winit's X11 chatter
/// (XSETTINGS, "0mm in size, which is certifiably insane"), and still logs
/// its own news (the signal that closed it).
#[test]
fn the_default_log_level_filters_winit() {
    let mut s = Session::new("quiet");
    let (pid, _window, log) = s.open_window_logging(None);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let child = s.windows.last_mut().unwrap();
    wait_for("the window to exit", || child.try_wait().unwrap());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("closing the window"), "{text}");
    assert!(!text.contains("winit"), "{text}");
}

/// `shm-clip-app --help` is worded as `shm-clip --help` is: the same
/// description of --board, an Examples section whose lines do not wrap, and
/// the same closing line about `RUST_LOG`.
#[test]
fn app_help_matches_the_cli_wording() {
    let help = |bin_name: &str| {
        let out = run(Command::new(bin(bin_name))
            .env_remove("SHM_CLIP_BOARD")
            .arg("--help"));
        String::from_utf8(out.stdout).unwrap()
    };
    let (cli, app) = (help("shm-clip"), help("shm-clip-app"));
    let board = "The board to use: 1-64 characters from A-Z a-z 0-9 . _ -";
    for (name, text) in [("shm-clip", &cli), ("shm-clip-app", &app)] {
        assert!(text.contains("--board <NAME>"), "{name}: {text}");
        assert!(text.contains(board), "{name}: {text}");
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains("[default: default; SHM_CLIP_BOARD sets another]"),
            "{name}: {text}"
        );
        let examples = &text[text.find("\nExamples:\n").expect("Examples") + 11..];
        let closing =
            format!("Set RUST_LOG=debug to see what {name} does; clip contents are never logged.");
        assert!(text.trim_end().ends_with(&closing), "{name}: {text}");
        for line in examples.lines().take_while(|l| !l.is_empty()) {
            assert!(
                line.starts_with("  "),
                "{name}: a wrapped example: {line:?}"
            );
        }
    }
}

#[test]
fn history_json_origin_parsing() {
    let json = r#"[{"index": 0, "origin": {"pid": 4242, "kind": "app"}}, {"origin": {"pid": 1}}]"#;
    assert_eq!(first_origin_pid(json), Some(4242));
    assert_eq!(first_origin_pid("[]"), None);
}
