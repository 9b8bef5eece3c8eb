//! End-to-end tests of the `shm-clip` binary: real processes on real boards.
//!
//! Every test works on its own board, named after this process and the test,
//! and a guard destroys it at the end, so the tests run in parallel and leave
//! nothing behind. Every wait has a deadline: a hang fails the test, and the
//! hung process is killed.

use shm_clip_test_kit as common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

/// The longest any single command may take.
const TIMEOUT: Duration = Duration::from_secs(60);

const TEXT_MIME: &str = "text/plain;charset=utf-8";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_shm-clip")
}

/// A board for one test; destroyed on drop, even when the test fails.
struct TestBoard {
    name: String,
}

impl TestBoard {
    fn new(test: &str) -> Self {
        let name = format!("t-cli-{}-{test}", std::process::id());
        assert!(name.len() <= 64, "board name {name} is too long");
        TestBoard { name }
    }

    /// `shm-clip --board NAME`, with a clean environment for it.
    fn cmd(&self) -> Command {
        let mut cmd = Command::new(bin());
        cmd.env_remove("SHM_CLIP_BOARD")
            .env("RUST_LOG", "warn")
            .arg("--board")
            .arg(&self.name);
        cmd
    }

    /// Runs a subcommand with empty stdin.
    fn run(&self, args: &[&str]) -> Output {
        run(self.cmd().args(args), None)
    }

    /// Runs a subcommand with `input` on stdin.
    fn run_with(&self, args: &[&str], input: &[u8]) -> Output {
        run(self.cmd().args(args), Some(input.to_vec()))
    }

    /// Runs a subcommand that must succeed, returning its stdout.
    fn ok(&self, args: &[&str]) -> Vec<u8> {
        let out = self.run(args);
        assert_success(&out, args);
        out.stdout
    }

    /// Copies `text` as arguments.
    fn copy(&self, text: &str) {
        self.ok(&["copy", text]);
    }

    fn paste(&self) -> Vec<u8> {
        self.ok(&["paste"])
    }

    fn history(&self) -> Vec<Value> {
        let out = self.ok(&["history", "--json"]);
        match serde_json::from_slice(&out).expect("history --json is JSON") {
            Value::Array(entries) => entries,
            other => panic!("history --json is not an array: {other}"),
        }
    }

    fn status(&self) -> Value {
        serde_json::from_slice(&self.ok(&["status", "--json"])).expect("status --json is JSON")
    }

    /// The pids of the board's live subscribers, or nothing if it cannot be read.
    fn subscriber_pids(&self) -> Vec<u64> {
        let out = self.run(&["status", "--json"]);
        if !out.status.success() {
            return Vec::new();
        }
        let status: Value = serde_json::from_slice(&out.stdout).expect("status --json is JSON");
        status["subscribers"]
            .as_array()
            .expect("subscribers is an array")
            .iter()
            .map(|s| s["origin"]["pid"].as_u64().expect("subscriber pid"))
            .collect()
    }
}

impl Drop for TestBoard {
    fn drop(&mut self) {
        let Ok(mut child) = Command::new(bin())
            .args(["--board", &self.name, "destroy", "--force"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        else {
            return;
        };
        // No panic here: this may run while a failed test unwinds.
        if wait_until_deadline(&mut child, TIMEOUT).is_none() {
            eprintln!("destroying board {} timed out", self.name);
        }
    }
}

/// Waits for `child` until `timeout`; kills and reaps it if it is still running.
fn wait_until_deadline(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    common::wait_or_kill(child, timeout, |c| {
        let _ = c.kill();
    })
}

/// Waits for `child`, failing the test if it overruns `timeout`.
fn wait(child: &mut Child, timeout: Duration, what: &str) -> ExitStatus {
    wait_until_deadline(child, timeout)
        .unwrap_or_else(|| panic!("{what}: timed out after {timeout:?}; killed"))
}

fn spawn_named<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .expect("spawn thread")
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    spawn_named("drain", move || {
        let mut data = Vec::new();
        let _ = pipe.read_to_end(&mut data);
        data
    })
}

/// Runs `cmd` to completion with a watchdog, feeding `input` (or nothing).
fn run(cmd: &mut Command, input: Option<Vec<u8>>) -> Output {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn shm-clip");
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        spawn_named("feed", move || {
            let _ = stdin.write_all(&input);
        });
    }
    let stdout = drain(child.stdout.take().expect("stdout"));
    let stderr = drain(child.stderr.take().expect("stderr"));
    let status = wait(&mut child, TIMEOUT, &format!("{cmd:?}"));
    Output {
        status,
        stdout: stdout.join().expect("stdout"),
        stderr: stderr.join().expect("stderr"),
    }
}

fn assert_success(out: &Output, what: &[&str]) {
    assert!(
        out.status.success(),
        "shm-clip {what:?} failed with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Asserts exit status 1 and a `shm-clip: ...` message containing `needle`.
fn assert_fails_with(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1; stderr: {stderr}"
    );
    assert!(stderr.starts_with("shm-clip: "), "stderr: {stderr}");
    assert!(stderr.contains(needle), "stderr lacks {needle:?}: {stderr}");
}

/// Polls `cond` every 20 ms until it holds, failing after `TIMEOUT`.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Reproducible pseudo-random bytes (xorshift64*), so no dependency is needed.
fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut data = Vec::with_capacity(len + 8);
    while data.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        data.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    data.truncate(len);
    data
}

/// A temporary file removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, data: &[u8]) -> Self {
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("cli-{}-{name}", std::process::id()));
        std::fs::write(&path, data).expect("write temp file");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Lines of a child's stdout, read by a thread so that reads can time out.
fn line_reader(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    spawn_named("lines", move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn entry_with_preview<'a>(history: &'a [Value], preview: &str) -> &'a Value {
    history
        .iter()
        .find(|e| e["preview"] == preview)
        .unwrap_or_else(|| panic!("no entry {preview:?} in {history:?}"))
}

#[test]
fn text_copied_by_one_process_is_pasted_by_another() {
    let board = TestBoard::new("text");
    board.copy("placeholder");
    // Arguments are joined by single spaces, with no newline added.
    board.ok(&["copy", "hello", "shared", "world"]);
    assert_eq!(board.paste(), b"hello shared world");
    assert_eq!(
        board.ok(&["paste", "--list-types"]),
        format!("{TEXT_MIME}\n").as_bytes()
    );
    // -n is accepted for wl-paste compatibility and changes nothing.
    assert_eq!(board.ok(&["paste", "-n"]), b"hello shared world");

    // Stdin is copied byte for byte, trailing newline included.
    assert_success(
        &board.run_with(&["copy"], b"line one\nline two\n"),
        &["copy"],
    );
    assert_eq!(board.paste(), b"line one\nline two\n");

    // Copy is silent unless asked; -v says what it did, never the content.
    assert_eq!(board.ok(&["copy", "quiet"]), b"");
    let said = String::from_utf8(board.ok(&["copy", "-v", "loud"])).unwrap();
    assert!(
        said.starts_with("copied 4 B as text/plain") && !said.contains("loud"),
        "{said}"
    );

    // SHM_CLIP_BOARD names the board too.
    let out = run(
        Command::new(bin())
            .env("SHM_CLIP_BOARD", &board.name)
            .arg("paste"),
        None,
    );
    assert_success(&out, &["paste"]);
    assert_eq!(out.stdout, b"loud");
}

#[test]
fn binary_copied_by_one_process_is_pasted_by_another() {
    let board = TestBoard::new("binary");
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(random_bytes(10_000, 7));
    let out = board.run_with(&["copy"], &png);
    assert_success(&out, &["copy"]);
    assert_eq!(board.ok(&["paste", "--list-types"]), b"image/png\n");
    assert_eq!(board.paste(), png);
    assert_eq!(board.ok(&["paste", "-t", "image/png"]), png);
    assert_fails_with(
        &board.run(&["paste", "-t", "text/plain"]),
        "no text/plain representation",
    );
}

#[test]
fn all_byte_values_round_trip() {
    let board = TestBoard::new("bytes");
    let all: Vec<u8> = (0..=255).collect();
    let out = board.run_with(&["copy"], &all);
    assert_success(&out, &["copy"]);
    assert_eq!(board.paste(), all);
    assert_eq!(
        board.ok(&["paste", "--list-types"]),
        b"application/octet-stream\n"
    );

    let reversed: Vec<u8> = (0..=255).rev().collect();
    let file = TempFile::new("bytes", &reversed);
    board.ok(&["copy", "--file", file.0.to_str().unwrap()]);
    assert_eq!(board.paste(), reversed);
}

#[test]
fn fifty_mib_round_trips_via_file_and_stdin() {
    let board = TestBoard::new("big");
    let size = 50 << 20;
    let from_file = random_bytes(size, 1);
    let file = TempFile::new("big", &from_file);
    board.ok(&[
        "--capacity",
        "128M",
        "copy",
        "--file",
        file.0.to_str().unwrap(),
    ]);
    assert!(
        board.paste() == from_file,
        "50 MiB from --file differ after paste"
    );

    let from_stdin = random_bytes(size, 2);
    let out = board.run_with(&["copy"], &from_stdin);
    assert_success(&out, &["copy"]);
    assert!(
        board.paste() == from_stdin,
        "50 MiB from stdin differ after paste"
    );
    assert_eq!(board.history()[0]["total_size"], size);
}

#[test]
fn type_is_chosen_with_dash_t() {
    let board = TestBoard::new("mime");
    board.ok(&["copy", "-t", "text/html", "<b>bold</b>"]);
    assert_eq!(board.ok(&["paste", "--list-types"]), b"text/html\n");
    assert_eq!(board.ok(&["paste", "-t", "text/html"]), b"<b>bold</b>");
    assert_eq!(board.paste(), b"<b>bold</b>");
    assert_fails_with(
        &board.run(&["paste", "--type", "image/png"]),
        "no image/png representation",
    );

    // Sniffing would say text; -t wins, also for files.
    let file = TempFile::new("mime", b"{\"a\": 1}");
    board.ok(&[
        "copy",
        "-t",
        "application/json",
        "--file",
        file.0.to_str().unwrap(),
    ]);
    assert_eq!(board.ok(&["paste", "-l"]), b"application/json\n");
    // Plain-text aliases match any text type.
    board.copy("plain");
    assert_eq!(board.ok(&["paste", "-t", "text"]), b"plain");
    assert_eq!(board.ok(&["paste", "-t", "UTF8_STRING"]), b"plain");
}

#[test]
fn paste_on_an_empty_or_missing_board_fails() {
    let board = TestBoard::new("empty");
    // Read-only commands never create a board.
    assert_fails_with(&board.run(&["paste"]), "does not exist");
    assert_fails_with(&board.run(&["paste", "--list-types"]), "does not exist");
    assert_fails_with(&board.run(&["status"]), "does not exist");
    assert!(
        !String::from_utf8(board.ok(&["boards"]))
            .unwrap()
            .lines()
            .any(|l| l == board.name)
    );

    board.copy("soon gone");
    board.ok(&["clear", "--all"]);
    let out = board.run(&["paste"]);
    assert_fails_with(&out, "empty");
    assert!(out.stdout.is_empty());
    assert_fails_with(&board.run(&["paste", "--list-types"]), "empty");
}

#[test]
fn empty_stdin_copies_an_empty_clip() {
    // Decision: like xclip and wl-copy, stdin from /dev/null copies an empty
    // (text) clip; pasting it writes nothing and succeeds.
    let board = TestBoard::new("devnull");
    board.copy("before");
    let out = run(board.cmd().arg("copy"), None); // stdin is /dev/null
    assert_success(&out, &["copy"]);
    let out = board.run(&["paste"]);
    assert_success(&out, &["paste"]);
    assert!(out.stdout.is_empty());
    assert_eq!(board.history()[0]["total_size"], 0);
}

#[test]
fn history_select_pin_rm_and_clear() {
    let board = TestBoard::new("history");
    for text in ["one", "two", "three"] {
        board.copy(text);
    }
    let history = board.history();
    assert_eq!(history.len(), 3);
    let previews: Vec<&str> = history
        .iter()
        .map(|e| e["preview"].as_str().unwrap())
        .collect();
    assert_eq!(previews, ["three", "two", "one"]);
    for (i, entry) in history.iter().enumerate() {
        assert_eq!(entry["index"], i);
        assert_eq!(entry["origin"]["kind"], "cli");
        assert_eq!(entry["pinned"], false);
    }

    // The table has a header and one row per entry.
    let table = String::from_utf8(board.ok(&["history"])).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(
        lines[0].contains("SEQ") && lines[0].contains("PREVIEW"),
        "{table}"
    );
    assert!(
        lines[1].contains("three") && lines[3].contains("one"),
        "{table}"
    );

    // select by index, then by seq.
    board.ok(&["select", "2"]);
    assert_eq!(board.paste(), b"one");
    let two_seq = entry_with_preview(&board.history(), "two")["seq"]
        .as_u64()
        .unwrap()
        .to_string();
    board.ok(&["select", "--seq", &two_seq]);
    assert_eq!(board.paste(), b"two");
    // paste --entry / --seq read history without selecting.
    let history = board.history();
    let three = entry_with_preview(&history, "three");
    let three_index = three["index"].as_u64().unwrap().to_string();
    let three_seq = three["seq"].as_u64().unwrap().to_string();
    assert_eq!(board.ok(&["paste", "--entry", &three_index]), b"three");
    assert_eq!(board.ok(&["paste", "--seq", &three_seq]), b"three");
    assert_eq!(board.paste(), b"two");

    // pin and unpin.
    let one_index = entry_with_preview(&board.history(), "one")["index"]
        .as_u64()
        .unwrap()
        .to_string();
    board.ok(&["pin", &one_index]);
    assert_eq!(entry_with_preview(&board.history(), "one")["pinned"], true);
    assert!(
        String::from_utf8(board.ok(&["history"]))
            .unwrap()
            .lines()
            .any(|l| l.contains("one") && l.contains('*'))
    );

    // rm by seq, and a missing entry is a clear error.
    board.ok(&["rm", "--seq", &three_seq]);
    assert!(board.history().iter().all(|e| e["preview"] != "three"));
    assert_fails_with(&board.run(&["rm", "--seq", &three_seq]), "no such entry");
    assert_fails_with(&board.run(&["select", "99"]), "no such entry");

    // clear keeps pinned entries; clear --all does not.
    assert_eq!(board.ok(&["clear"]), b"removed 1 entry\n");
    let history = board.history();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["preview"], "one");
    board.ok(&["unpin", "0"]);
    assert_eq!(board.history()[0]["pinned"], false);
    board.ok(&["pin", "0"]);
    assert_eq!(board.ok(&["clear", "--all"]), b"removed 1 entry\n");
    assert!(board.history().is_empty());
    assert_eq!(board.ok(&["history"]), b"");
}

#[test]
fn status_boards_and_destroy() {
    let board = TestBoard::new("status");
    board.ok(&["--capacity", "1M", "--depth", "7", "copy", "x"]);
    let status = board.status();
    assert_eq!(status["name"], board.name.as_str());
    assert_eq!(status["max_entries"], 7);
    assert_eq!(status["entries"], 1);
    let capacity = status["capacity"].as_u64().unwrap();
    assert!(
        capacity > 512 << 10 && capacity <= 1 << 20,
        "capacity {capacity}"
    );
    assert_eq!(status["mode"], "0600");

    let text = String::from_utf8(board.ok(&["status"])).unwrap();
    for label in [
        "board:",
        "segment:",
        "owner:",
        "mode 0600",
        "capacity:",
        "used:",
        "seq:",
        "entries:",
        "lock:",
        "subscribers:",
        "last change:",
    ] {
        assert!(text.contains(label), "status lacks {label:?}:\n{text}");
    }

    // An existing board keeps its sizes.
    board.ok(&["--capacity", "8M", "copy", "y"]);
    assert_eq!(board.status()["capacity"].as_u64(), Some(capacity));

    let listed = |board: &TestBoard| {
        String::from_utf8(board.ok(&["boards"]))
            .unwrap()
            .lines()
            .any(|l| l == board.name)
    };
    assert!(listed(&board));
    board.ok(&["destroy"]);
    assert!(!listed(&board));
    assert_fails_with(&board.run(&["paste"]), "does not exist");
}

#[test]
fn watch_reports_a_copy_by_another_process_and_stops_on_sigterm() {
    let board = TestBoard::new("watch");
    let mut watch = board
        .cmd()
        .args(["watch", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn watch");
    let pid = u64::from(watch.id());
    let lines = line_reader(watch.stdout.take().unwrap());
    let stderr = drain(watch.stderr.take().unwrap());
    wait_for("the watch to subscribe", || {
        board.subscriber_pids().contains(&pid)
    });

    board.copy("hello watch");
    let line = lines
        .recv_timeout(TIMEOUT)
        .expect("a line from watch --json");
    let event: Value = serde_json::from_str(&line).expect("watch --json prints JSON lines");
    assert!(event["seq"].as_u64().unwrap() > 0, "{event}");
    assert_eq!(event["event"], "copy", "{event}");
    assert_eq!(
        event["entry"]["types"],
        serde_json::json!([{ "mime": TEXT_MIME, "size": 11 }]),
        "{event}"
    );
    assert_eq!(event["entry"]["total_size"], 11, "{event}");
    assert_eq!(event["origin"]["kind"], "cli", "{event}");
    assert_ne!(event["origin"]["pid"].as_u64(), Some(pid), "{event}");

    // Another change gives another line with a larger seq.
    board.ok(&["rm", "0"]);
    let line = lines
        .recv_timeout(TIMEOUT)
        .expect("a second line from watch --json");
    let second: Value = serde_json::from_str(&line).unwrap();
    assert!(second["seq"].as_u64() > event["seq"].as_u64(), "{second}");
    assert_eq!(second["event"], "delete", "{second}");
    assert!(second["entry"].is_null(), "{second}");
    assert_eq!(
        second["removed"],
        serde_json::json!([event["entry"]["seq"]]),
        "{second}"
    );

    kill(Pid::from_raw(watch.id() as i32), Signal::SIGTERM).unwrap();
    let status = wait(&mut watch, TIMEOUT, "watch after SIGTERM");
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert!(
        status.success() || status.signal() == Some(Signal::SIGTERM as i32),
        "watch ended with {status}: {stderr}"
    );
    assert!(stderr.is_empty(), "watch wrote to stderr: {stderr}");
    assert!(
        !board.subscriber_pids().contains(&pid),
        "watch left its subscription behind"
    );
}

#[test]
fn watch_prints_text_lines_and_stops_on_sigint() {
    let board = TestBoard::new("watch-int");
    board.copy("created");
    let mut watch = board
        .cmd()
        .arg("watch")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = u64::from(watch.id());
    let lines = line_reader(watch.stdout.take().unwrap());
    wait_for("the watch to subscribe", || {
        board.subscriber_pids().contains(&pid)
    });
    board.copy("abc");
    let line = lines.recv_timeout(TIMEOUT).expect("a line from watch");
    assert!(
        line.starts_with("seq ") && line.contains(TEXT_MIME) && line.contains("3 B"),
        "{line}"
    );
    assert!(
        !line.contains("abc"),
        "watch must not print contents: {line}"
    );

    kill(Pid::from_raw(watch.id() as i32), Signal::SIGINT).unwrap();
    let status = wait(&mut watch, TIMEOUT, "watch after SIGINT");
    assert!(
        status.success() || status.signal() == Some(Signal::SIGINT as i32),
        "watch ended with {status}"
    );
    assert!(!board.subscriber_pids().contains(&pid));
}

#[test]
fn watch_exits_0_when_its_stdout_is_closed() {
    let board = TestBoard::new("watch-pipe");
    let mut watch = board
        .cmd()
        .arg("watch")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = u64::from(watch.id());
    let stderr = drain(watch.stderr.take().unwrap());
    drop(watch.stdout.take());
    // Copies give it something to write, should it not notice the closed pipe by itself.
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = watch.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = watch.kill();
            let _ = watch.wait();
            panic!("watch kept running with a closed stdout");
        }
        board.copy("nudge");
        thread::sleep(Duration::from_millis(50));
    };
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert_eq!(
        status.code(),
        Some(0),
        "watch ended with {status}: {stderr}"
    );
    assert!(stderr.is_empty(), "a closed pipe is not an error: {stderr}");
    assert!(!board.subscriber_pids().contains(&pid));
}

#[test]
fn watch_exec_runs_the_command_with_the_clip_on_stdin() {
    let board = TestBoard::new("watch-exec");
    let file = TempFile::new("exec", b"");
    let target = file.0.to_str().unwrap().to_owned();
    // The command also checks that it did not inherit blocked signals.
    let script = format!(
        "{{ cat; echo; echo \"$SHM_CLIP_MIME $SHM_CLIP_SEQ\"; grep SigBlk /proc/self/status; }} >> '{target}'"
    );
    let mut watch = board
        .cmd()
        .args(["watch", "--exec", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = u64::from(watch.id());
    wait_for("the watch to subscribe", || {
        board.subscriber_pids().contains(&pid)
    });
    board.copy("exec me");
    wait_for("the command to run", || {
        std::fs::read_to_string(&target).is_ok_and(|text| text.contains("SigBlk"))
    });
    let text = std::fs::read_to_string(&target).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "exec me", "{text}");
    assert!(lines[1].starts_with(TEXT_MIME), "{text}");
    assert!(
        lines[2].ends_with("0000000000000000"),
        "the command inherited blocked signals: {text}"
    );

    kill(Pid::from_raw(watch.id() as i32), Signal::SIGTERM).unwrap();
    let status = wait(&mut watch, TIMEOUT, "watch --exec after SIGTERM");
    assert!(
        status.success() || status.signal() == Some(Signal::SIGTERM as i32),
        "{status}"
    );
    assert!(!board.subscriber_pids().contains(&pid));
}

#[test]
fn one_gib_into_a_one_mib_board_fails_fast_with_bounded_memory() {
    let board = TestBoard::new("huge");
    board.ok(&["--capacity", "1M", "copy", "small"]);
    let mut zeros = Command::new("head")
        .args(["-c", "1073741824", "/dev/zero"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn head");
    // 256 MiB of address space: buffering the gigabyte would abort, not fail cleanly.
    let mut copy = Command::new("sh");
    copy.args([
        "-c",
        "ulimit -v 262144 && exec \"$0\" \"$@\"",
        bin(),
        "--board",
        &board.name,
        "copy",
    ])
    .env_remove("SHM_CLIP_BOARD")
    .stdin(zeros.stdout.take().unwrap())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = copy.spawn().expect("spawn shm-clip copy");
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let started = Instant::now();
    let status = wait(&mut child, TIMEOUT, "copy of 1 GiB");
    let elapsed = started.elapsed();
    let out = Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    // head dies of SIGPIPE once its reader is gone.
    let _ = zeros.kill();
    wait(&mut zeros, TIMEOUT, "head");

    assert_fails_with(&out, "larger than this board can hold");
    assert!(out.stdout.is_empty());
    assert!(
        elapsed < Duration::from_secs(20),
        "refusing 1 GiB took {elapsed:?}: it read too much"
    );
    // The board is untouched.
    assert_eq!(board.paste(), b"small");
}

#[test]
fn unreadable_input_is_reported_with_its_path() {
    let board = TestBoard::new("noinput");
    let out = board.run(&["copy", "--file", "/nonexistent/shm-clip-input"]);
    assert_fails_with(&out, "reading /nonexistent/shm-clip-input: ");
}

#[test]
fn invalid_board_names_are_refused() {
    let long = "x".repeat(65);
    for name in ["../x", "", long.as_str(), "a/b", "sp ace"] {
        let out = run(Command::new(bin()).args(["--board", name, "status"]), None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name:?} was accepted");
        assert!(
            stderr.contains("for '--board <NAME>': "),
            "{name:?}: {stderr}"
        );
        // One level of parentheses at most: no "(use ... (for example ...))".
        assert!(!stderr.contains("(for example"), "{name:?}: {stderr}");
        if name.is_empty() {
            continue; // an empty SHM_CLIP_BOARD means unset
        }
        let out = run(
            Command::new(bin())
                .env("SHM_CLIP_BOARD", name)
                .args(["copy", "x"]),
            None,
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "SHM_CLIP_BOARD={name:?} was accepted"
        );
        // The variable is blamed, not an option that was never given.
        assert!(
            stderr.starts_with(&format!(
                "shm-clip: SHM_CLIP_BOARD={name:?} is not a board name: "
            )),
            "{name:?}: {stderr}"
        );
        assert!(!stderr.contains("--board <NAME>"), "{name:?}: {stderr}");
    }
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    let top = run(Command::new(bin()).arg("--help"), None);
    assert_success(&top, &["--help"]);
    let top = String::from_utf8(top.stdout).unwrap();
    for example in [
        "echo hi | shm-clip copy",
        "shm-clip paste > file",
        "shm-clip watch --exec 'notify-send \"$(cat)\"'",
    ] {
        assert!(top.contains(example), "top-level help lacks {example:?}");
    }
    let subcommands = [
        "copy", "paste", "watch", "history", "select", "pin", "unpin", "rm", "clear", "status",
        "boards", "destroy",
    ];
    for sub in subcommands {
        assert!(
            top.contains(&format!("  {sub} ")),
            "top-level help does not list {sub}"
        );
        let out = run(Command::new(bin()).args([sub, "--help"]), None);
        assert_success(&out, &[sub, "--help"]);
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(help.contains("Example:"), "{sub} --help has no example");
        assert!(
            help.contains(&format!("shm-clip {sub}")),
            "{sub} --help example does not use it"
        );
        assert!(
            run(Command::new(bin()).args([sub, "-h"]), None)
                .status
                .success()
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["frobnicate"][..],
        &["--capacity", "12X", "copy"],
        &["select"],
        &["paste", "--entry", "1", "--seq", "2"],
    ] {
        let out = run(Command::new(bin()).args(args), None);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Sizes a board cannot have are refused when parsed, naming the option,
/// the value and the range: never as a "refusing segment" that suggests
/// someone else made it.
#[test]
fn board_sizes_are_checked_where_they_are_typed() {
    let board = TestBoard::new("limits");
    for (args, option, value, range) in [
        (
            &["--depth", "200000"][..],
            "--depth <N>",
            "200000",
            "between 1 and 100000",
        ),
        (
            &["--depth", "0"],
            "--depth <N>",
            "0",
            "between 1 and 100000",
        ),
        (
            &["--capacity", "1"],
            "--capacity <SIZE>",
            "1",
            "between 4K (4096 bytes) and 1T",
        ),
        (
            &["--capacity", "5T"],
            "--capacity <SIZE>",
            "5T",
            "between 4K (4096 bytes) and 1T",
        ),
        // A negative number is a value out of range, not an unknown flag.
        (
            &["--depth", "-1"],
            "--depth <N>",
            "-1",
            "between 1 and 100000",
        ),
        (
            &["--capacity", "-5M"],
            "--capacity <SIZE>",
            "-5M",
            "is not a size",
        ),
        (
            &["--capacity", "0.1K"],
            "--capacity <SIZE>",
            "0.1K",
            "not a whole number of bytes",
        ),
    ] {
        let mut all = args.to_vec();
        all.extend(["copy", "x"]);
        let out = board.run(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("invalid value '{value}' for '{option}'"))
                && stderr.contains(range),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("refusing segment"), "{stderr}");
        assert!(!stderr.contains("spy"), "{stderr}");
    }
    // Nothing was created.
    assert_fails_with(&board.run(&["paste"]), "does not exist");
    // A fraction that comes to whole bytes is a size.
    assert!(
        board
            .run(&["--capacity", "1.5M", "copy", "x"])
            .status
            .success()
    );
    let status = board.run(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["capacity"], 1536 << 10, "{status}");
}

/// A config path that is a directory is named as such; the hint is not to
/// remove it (it may be /tmp).
#[test]
fn a_config_path_that_is_a_directory_says_so() {
    let board = TestBoard::new("config-dir");
    let dir = std::env::temp_dir();
    let out = run(
        board.cmd().env("SHM_CLIP_CONFIG", &dir).args(["copy", "x"]),
        None,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{} is a directory; the config is a file",
            dir.display()
        )) && !stderr.contains("fix or remove"),
        "{stderr}"
    );
}

/// config.toml's sizes use the same ranges, and name the file, line and key.
#[test]
fn config_sizes_use_the_same_ranges() {
    let board = TestBoard::new("limits-config");
    let dir = std::env::temp_dir().join(format!("shm-clip-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(&config, "[board]\ndepth = 200000\n").unwrap();
    let out = run(
        board
            .cmd()
            .env("SHM_CLIP_CONFIG", &config)
            .args(["copy", "x"]),
        None,
    );
    assert_fails_with(
        &out,
        &format!(
            "invalid config {}, line 2, key `board.depth`: must be between 1 and 100000, not 200000",
            config.display()
        ),
    );
    std::fs::write(&config, "[board]\ncapacity = \"5T\"\n").unwrap();
    let out = run(
        board
            .cmd()
            .env("SHM_CLIP_CONFIG", &config)
            .args(["copy", "x"]),
        None,
    );
    assert_fails_with(
        &out,
        "key `board.capacity`: must be between 4K and 1T, not 5T",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
