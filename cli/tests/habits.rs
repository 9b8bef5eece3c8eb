//! The habits users bring from wl-copy, wl-paste and xclip, and messages
//! that say what happened (issue 13, sections 2 and 4), held against the
//! real binary.
//!
//! Terminal behaviour runs on a real pseudo-terminal (openpty in raw mode,
//! so the bytes arrive as written). Every test has its own board, destroyed
//! at the end, and every command runs under a watchdog.

use shm_clip_test_kit as common;

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
use serde_json::Value;
use shm_clip::{Board, BoardName};

/// The longest any single command may take.
const TIMEOUT: Duration = Duration::from_secs(60);

const TEXT_MIME: &str = "text/plain;charset=utf-8";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_shm-clip")
}

/// A board for one test, destroyed on drop.
struct TestBoard {
    name: String,
    dir: PathBuf,
}

impl TestBoard {
    fn new(test: &str) -> Self {
        let name = format!("t-habit-{}-{test}", std::process::id());
        assert!(name.len() <= 64, "board name {name} is too long");
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        TestBoard { name, dir }
    }

    /// `shm-clip` with a clean environment: no `SHM_CLIP_BOARD`, a config
    /// file of this test's own (missing unless written), no tray.
    fn bare(&self) -> Command {
        let mut cmd = Command::new(bin());
        cmd.env_remove("SHM_CLIP_BOARD")
            .env("SHM_CLIP_CONFIG", self.dir.join("config.toml"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null());
        cmd
    }

    /// `shm-clip --board NAME ARGS`.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.bare();
        cmd.arg("--board").arg(&self.name).args(args);
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        output(self.cmd(args))
    }

    fn ok(&self, args: &[&str]) -> Vec<u8> {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "shm-clip {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Runs with `input` on stdin from a pipe that is written and closed first.
    fn run_piped(&self, args: &[&str], input: &[u8]) -> Output {
        let mut cmd = self.cmd(args);
        cmd.stdin(closed_pipe(input));
        output(cmd)
    }

    /// Runs with stdin redirected from a regular file holding `input`.
    fn run_from_file(&self, args: &[&str], input: &[u8]) -> Output {
        let path = self.file("stdin", input);
        let mut cmd = self.cmd(args);
        cmd.stdin(File::open(path).unwrap());
        output(cmd)
    }

    /// Runs with stdout on a pseudo-terminal; returns the status, what the
    /// terminal received and stderr.
    fn run_on_tty(&self, args: &[&str]) -> (ExitStatus, Vec<u8>, String) {
        on_tty(self.cmd(args))
    }

    fn file(&self, name: &str, data: &[u8]) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, data).unwrap();
        path
    }

    fn history(&self) -> Vec<Value> {
        match serde_json::from_slice(&self.ok(&["history", "--json"])).unwrap() {
            Value::Array(entries) => entries,
            other => panic!("history --json is not an array: {other}"),
        }
    }

    fn name(&self) -> BoardName {
        BoardName::new(&self.name).unwrap()
    }
}

impl Drop for TestBoard {
    fn drop(&mut self) {
        let _ = Board::destroy(&self.name(), true);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `cmd` to completion under the watchdog.
fn output(mut cmd: Command) -> Output {
    common::within("shm-clip", TIMEOUT, move || {
        cmd.output().expect("run shm-clip")
    })
}

/// A pipe already holding `input`, its writing end closed: deterministic,
/// unlike a writer racing the command.
fn closed_pipe(input: &[u8]) -> OwnedFd {
    let (read, write) = nix::unistd::pipe().unwrap();
    assert!(input.len() <= 4096, "more than a pipe buffer");
    File::from(write).write_all(input).unwrap();
    read
}

/// Runs `cmd` with stdout on a fresh pseudo-terminal in raw mode.
fn on_tty(mut cmd: Command) -> (ExitStatus, Vec<u8>, String) {
    let pty = nix::pty::openpty(None, None).unwrap();
    let mut termios = tcgetattr(&pty.slave).unwrap();
    cfmakeraw(&mut termios);
    tcsetattr(&pty.slave, SetArg::TCSANOW, &termios).unwrap();
    cmd.stdout(Stdio::from(pty.slave)).stderr(Stdio::piped());
    let mut master = File::from(pty.master);
    common::within("shm-clip on a tty", TIMEOUT, move || {
        let mut child = cmd.spawn().unwrap();
        // Our copy of the slave goes with `cmd`, so the master reads EIO
        // once the child has exited.
        drop(cmd);
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match master.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
                Err(err) if err.raw_os_error() == Some(libc_eio()) => break,
                Err(err) => panic!("reading the pty: {err}"),
            }
        }
        (status, seen, stderr)
    })
}

fn libc_eio() -> i32 {
    nix::errno::Errno::EIO as i32
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The command failed, and its stderr contains every one of `parts`.
fn assert_fails_saying(out: &Output, parts: &[&str]) -> String {
    let stderr = stderr_of(out);
    assert!(!out.status.success(), "succeeded; stderr: {stderr}");
    for part in parts {
        assert!(stderr.contains(part), "stderr lacks {part:?}: {stderr}");
    }
    stderr
}

// ---- Section 2: habits ----

#[test]
fn paste_ends_text_with_a_newline_on_a_terminal_only() {
    let board = TestBoard::new("newline");
    board.ok(&["copy", "abc"]);
    let (status, tty, _) = board.run_on_tty(&["paste"]);
    assert!(status.success());
    assert_eq!(tty, b"abc\n", "a terminal gets the prompt on its own line");
    assert_eq!(
        board.ok(&["paste"]),
        b"abc",
        "a pipe gets the bytes exactly"
    );
    let (_, tty, _) = board.run_on_tty(&["paste", "-n"]);
    assert_eq!(tty, b"abc", "-n leaves the newline out");
    let (_, tty, _) = board.run_on_tty(&["paste", "--no-newline"]);
    assert_eq!(tty, b"abc");
    // Text that already ends in a newline does not get a second one.
    assert!(board.run_piped(&["copy"], b"line\n").status.success());
    let (_, tty, _) = board.run_on_tty(&["paste"]);
    assert_eq!(tty, b"line\n");
}

#[test]
fn copy_n_trims_one_trailing_newline() {
    let board = TestBoard::new("trim");
    assert!(
        board
            .run_piped(&["copy", "-n"], b"/home/me\n")
            .status
            .success()
    );
    assert_eq!(board.ok(&["paste"]), b"/home/me");
    assert!(
        board
            .run_piped(&["copy", "--trim-newline"], b"two\n\n")
            .status
            .success()
    );
    assert_eq!(board.ok(&["paste"]), b"two\n", "only one newline goes");
    // Without -n, stdin is copied byte for byte.
    assert!(board.run_piped(&["copy"], b"kept\n").status.success());
    assert_eq!(board.ok(&["paste"]), b"kept\n");
}

#[test]
fn copy_clear_is_clear() {
    let board = TestBoard::new("clear");
    board.ok(&["copy", "one"]);
    board.ok(&["copy", "two"]);
    board.ok(&["pin", "1"]);
    assert_eq!(board.ok(&["copy", "--clear"]), b"removed 1 entry\n");
    let history = board.history();
    assert_eq!(history.len(), 1, "the pinned entry stays, as with clear");
    let out = board.run(&["copy", "--clear", "text"]);
    assert_fails_saying(&out, &["--clear"]);
}

#[test]
fn primary_without_a_tray_names_the_fix() {
    let board = TestBoard::new("primary");
    // No board yet, and then a board without a tray: the same answer.
    for _ in 0..2 {
        for args in [&["copy", "-p", "x"][..], &["paste", "--primary"]] {
            let out = board.run(args);
            let stderr = assert_fails_saying(
                &out,
                &[
                    &format!("--primary: no tray is running on board {}", board.name),
                    &format!("(start one: shm-clip-app --tray --board {})", board.name),
                ],
            );
            assert!(stderr.starts_with("shm-clip: "), "{stderr}");
        }
        board.ok(&["copy", "now the board exists"]);
    }
    assert_eq!(board.ok(&["paste"]), b"now the board exists");
}

/// A tray that died left its socket behind: nobody answers, and that is
/// "no tray", not a hang or a confusing I/O error. (The real round trip
/// through a tray and an X server is in `tests/tests/tray_e2e.rs`.)
#[test]
fn primary_with_a_dead_trays_socket_names_the_fix() {
    let board = TestBoard::new("primdead");
    let runtime = std::env::temp_dir().join(format!("shm-clip-primdead-{}", std::process::id()));
    std::fs::create_dir_all(&runtime).unwrap();
    let name = shm_clip::BoardName::new(&board.name).unwrap();
    // Where the CLI and the tray look, given this XDG_RUNTIME_DIR.
    let uid = nix::unistd::geteuid().as_raw();
    let path = runtime.join(format!("shm-clip-tray-{uid}-{name}.sock"));
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists(), "the dead tray's socket file stays");
    let mut cmd = board.bare();
    cmd.env("XDG_RUNTIME_DIR", &runtime)
        .args(["--board", &board.name, "paste", "-p"]);
    let out = output(cmd);
    assert_fails_saying(
        &out,
        &[&format!(
            "--primary: no tray is running on board {}",
            board.name
        )],
    );
    std::fs::remove_dir_all(&runtime).unwrap();
}

#[test]
fn text_arguments_and_stdin_at_once_are_refused() {
    let board = TestBoard::new("twoinputs");
    let before = b"before";
    board.ok(&["copy", "before"]);
    let out = board.run_piped(&["copy", "b"], b"a\n");
    assert_fails_saying(
        &out,
        &["copy: got TEXT arguments and data on stdin", "< /dev/null"],
    );
    let out = board.run_from_file(&["copy", "b"], b"a\n");
    assert_fails_saying(&out, &["copy: got TEXT arguments and data on stdin"]);
    let file = board.file("input", b"file contents");
    let out = board.run_piped(&["copy", "--file", file.to_str().unwrap()], b"a\n");
    assert_fails_saying(&out, &["copy: got --file and data on stdin"]);
    assert_eq!(board.ok(&["paste"]), before, "nothing was copied");
    // An empty stdin, a closed pipe and /dev/null are no second input.
    assert!(board.run_piped(&["copy", "b"], b"").status.success());
    assert_eq!(board.ok(&["paste"]), b"b");
    assert!(board.run_from_file(&["copy", "c"], b"").status.success());
    assert_eq!(board.ok(&["paste"]), b"c");
}

#[test]
fn a_refused_copy_reads_nothing_of_the_stdin_it_shares() {
    let board = TestBoard::new("shared-stdin");
    board.ok(&["copy", "before"]);
    // A pipe and a socket, each holding data and closed by its writer: the
    // refusal must leave every byte for whoever reads stdin next.
    let (read, write) = nix::unistd::pipe().unwrap();
    File::from(write).write_all(b"line 2\nline 3\n").unwrap();
    let mut cmd = board.cmd(&["copy", "line 1"]);
    cmd.stdin(read.try_clone().unwrap());
    assert_fails_saying(
        &output(cmd),
        &["copy: got TEXT arguments and data on stdin"],
    );
    let mut left = String::new();
    File::from(read).read_to_string(&mut left).unwrap();
    assert_eq!(left, "line 2\nline 3\n", "the pipe kept its data");

    let (mut ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    ours.write_all(b"socket data").unwrap();
    ours.shutdown(std::net::Shutdown::Write).unwrap();
    let mut cmd = board.cmd(&["copy", "x"]);
    cmd.stdin(OwnedFd::from(theirs.try_clone().unwrap()));
    assert_fails_saying(
        &output(cmd),
        &["copy: got TEXT arguments and data on stdin"],
    );
    let mut left = String::new();
    (&theirs).read_to_string(&mut left).unwrap();
    assert_eq!(left, "socket data", "the socket kept its data");
    assert_eq!(board.ok(&["paste"]), b"before", "nothing was copied");

    // The shell habit: every line reaches the loop (the last copy, with
    // nothing left on stdin, is no longer refused), and the hint's form
    // copies each.
    let script = r#"printf 'l1\nl2\nl3\n' | while read -r l; do "$BIN" --board "$B" copy "$l"; echo "rc=$? after $l"; done 2>/dev/null
printf 'm1\nm2\n' | while read -r l; do "$BIN" --board "$B" copy "$l" < /dev/null; done"#;
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("BIN", bin())
        .env("B", &board.name)
        .env_remove("SHM_CLIP_BOARD")
        .env("SHM_CLIP_CONFIG", board.dir.join("config.toml"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "rc=1 after l1\nrc=1 after l2\nrc=0 after l3\n"
    );
    let texts: Vec<String> = board
        .history()
        .iter()
        .map(|e| e["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, ["m2", "m1", "l3", "before"]);
}

#[test]
fn a_clip_that_is_not_text_is_not_written_to_a_terminal() {
    let board = TestBoard::new("binary");
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";
    let path = board.file("shot.png", png);
    board.ok(&["copy", "--file", path.to_str().unwrap()]);
    let (status, tty, stderr) = board.run_on_tty(&["paste"]);
    assert!(!status.success());
    assert!(tty.is_empty(), "nothing reached the terminal: {tty:?}");
    assert!(
        stderr.starts_with(
            "shm-clip: paste: not writing the clip to the terminal: it is image/png (20 B), not text"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("shm-clip paste > file"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    let (status, tty, _) = board.run_on_tty(&["paste", "--force"]);
    assert!(status.success());
    assert_eq!(tty, png, "--force writes the bytes, with no newline added");
    assert_eq!(board.ok(&["paste"]), png, "a pipe gets it as always");
}

#[test]
fn types_are_detected_honestly() {
    let board = TestBoard::new("sniff");
    let zeros = vec![0u8; 64 << 10];
    let cases: [(&[u8], &str); 5] = [
        (&zeros, "application/octet-stream"),
        (b"BMW is a car maker", TEXT_MIME),
        (
            b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
            "application/gzip",
        ),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "application/zip"),
        ("héllo\n".as_bytes(), TEXT_MIME),
    ];
    for (i, (data, mime)) in cases.iter().enumerate() {
        let path = board.file(&format!("input{i}"), data);
        board.ok(&["copy", "--file", path.to_str().unwrap()]);
        let types = board.ok(&["paste", "--list-types"]);
        assert_eq!(
            String::from_utf8(types).unwrap(),
            format!("{mime}\n"),
            "case {i}"
        );
    }
}

#[test]
fn xclip_i_and_o_copy_and_paste() {
    let board = TestBoard::new("xclip");
    let mut cmd = board.bare();
    cmd.args(["--board", &board.name, "-i"])
        .stdin(closed_pipe(b"from -i"));
    assert!(output(cmd).status.success());
    let mut cmd = board.bare();
    cmd.args(["--board", &board.name, "-o"]);
    assert_eq!(output(cmd).stdout, b"from -i");
    let mut cmd = board.bare();
    cmd.args(["-o", "--board", &board.name, "-t", "text"]);
    assert_eq!(output(cmd).stdout, b"from -i");
}

// ---- Section 4: messages ----

#[test]
fn an_empty_type_is_invalid_input_naming_the_option() {
    let board = TestBoard::new("badtype");
    let out = board.run(&["copy", "-t", "", "x"]);
    let stderr = assert_fails_saying(
        &out,
        &["invalid value '' for '--type <MIME>'", "1-255 bytes"],
    );
    assert!(!stderr.contains("corrupt"), "{stderr}");
    let long = "x".repeat(256);
    let out = board.run(&["copy", "-t", &long, "x"]);
    assert_fails_saying(&out, &["'--type <MIME>'"]);
}

#[test]
fn too_large_input_reports_exact_sizes() {
    let board = TestBoard::new("toolarge");
    board.ok(&["--capacity", "64K", "copy", "small"]);
    let ten_mib = vec![b'a'; 10 << 20];
    let exact = "clip of 10485760 bytes (10.0 MiB) from ";
    let limit = "is larger than this board can hold (65464 bytes free for one text/plain;charset=utf-8 clip)";
    // A regular file's size is known without reading it: exact.
    let path = board.file("big.txt", &ten_mib);
    let out = board.run(&["copy", "--file", path.to_str().unwrap()]);
    let stderr = assert_fails_saying(&out, &[exact, limit]);
    assert!(stderr.contains(&path.display().to_string()), "{stderr}");
    let out = board.run_from_file(&["copy"], &ten_mib);
    assert_fails_saying(&out, &[&format!("{exact}stdin {limit}")]);
    // A pipe is read only just past the limit: "at least".
    let mut cmd = board.cmd(&["copy"]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let out = common::within("copy from a pipe", TIMEOUT, move || {
        let mut child = cmd.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // The copy stops reading and exits: the rest meets a broken pipe.
        let _ = stdin.write_all(&ten_mib);
        drop(stdin);
        child.wait_with_output().unwrap()
    });
    assert_fails_saying(
        &out,
        &[
            &format!(
                "clip of at least 65489 bytes (64.0 KiB) from stdin {limit}; stopped reading there"
            ),
            "--capacity",
        ],
    );
    // A clip one byte over the exact limit is refused with its exact size;
    // one at the limit fits.
    let out = board.run_from_file(&["copy"], &vec![b'a'; 65465]);
    assert_fails_saying(
        &out,
        &["clip of 65465 bytes", "(65464 bytes free for one clip)"],
    );
    assert!(
        board
            .run_from_file(&["copy"], &vec![b'a'; 65464])
            .status
            .success()
    );
    assert_eq!(board.ok(&["paste"]).len(), 65464);
}

#[test]
fn copy_verbose_names_the_seq_the_entry_really_has() {
    let board = TestBoard::new("dedupseq");
    board.ok(&["copy", "alpha"]);
    board.ok(&["copy", "beta"]);
    let said = String::from_utf8(board.ok(&["copy", "-v", "alpha"])).unwrap();
    assert!(said.contains("already in history"), "{said}");
    let seq = board.history()[0]["seq"].as_u64().unwrap();
    assert!(
        said.contains(&format!("(seq {seq}, already in history")),
        "history lists seq {seq}, copy -v said: {said}"
    );
    assert_eq!(board.ok(&["paste", "--seq", &seq.to_string()]), b"alpha");
    // A new clip's seq is the entry's seq too.
    let said = String::from_utf8(board.ok(&["copy", "-v", "gamma"])).unwrap();
    let seq = board.history()[0]["seq"].as_u64().unwrap();
    assert!(said.contains(&format!("(seq {seq})")), "{said}");
}

#[test]
fn board_options_are_listed_only_where_they_are_used() {
    let board = TestBoard::new("helpopts");
    let help = |args: &[&str]| {
        let mut cmd = board.bare();
        cmd.args(args);
        let out = output(cmd);
        assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    for sub in ["completions", "config", "boards"] {
        let text = help(&[sub, "--help"]);
        assert!(
            !text.contains("--board"),
            "{sub} --help lists --board:\n{text}"
        );
        assert!(
            !text.contains("--capacity"),
            "{sub} --help lists --capacity"
        );
    }
    for sub in ["paste", "history", "rm", "status", "destroy"] {
        let text = help(&[sub, "--help"]);
        assert!(
            text.contains("--board <NAME>"),
            "{sub} --help lacks --board"
        );
        assert!(
            !text.contains("--capacity"),
            "{sub} never creates a board but lists --capacity"
        );
    }
    for sub in ["copy", "watch"] {
        let text = help(&[sub, "--help"]);
        assert!(
            text.contains("--capacity <SIZE>"),
            "{sub} --help lacks --capacity"
        );
    }
    // The options still work before the subcommand, and after it.
    board.ok(&["copy", "placed before"]);
    let mut cmd = board.bare();
    cmd.args(["paste", "--board", &board.name]);
    assert_eq!(output(cmd).stdout, b"placed before");
}

#[test]
fn help_shows_the_defaults_in_effect() {
    let board = TestBoard::new("helpdefaults");
    let help = |env: &[(&str, &str)]| {
        let mut cmd = board.bare();
        cmd.envs(env.iter().copied()).args(["copy", "--help"]);
        // Unwrapped: clap breaks lines anywhere between words.
        let text = String::from_utf8(output(cmd).stdout).unwrap();
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let text = help(&[]);
    assert!(text.contains("[default: 64M]"), "{text}");
    assert!(text.contains("[default: 200]"), "{text}");
    board.file("config.toml", b"[board]\ncapacity = \"1G\"\ndepth = 50\n");
    let text = help(&[("SHM_CLIP_BOARD", "work")]);
    assert!(text.contains("[default: 1G, from config.toml]"), "{text}");
    assert!(text.contains("[default: 50, from config.toml]"), "{text}");
    assert!(
        text.contains("[default: work, from SHM_CLIP_BOARD]"),
        "{text}"
    );
}

#[test]
fn usage_lines_do_not_make_board_look_required() {
    let board = TestBoard::new("usage");
    let mut cmd = board.bare();
    cmd.env("SHM_CLIP_BOARD", &board.name).arg("rm");
    let stderr = stderr_of(&output(cmd));
    let usage = stderr
        .lines()
        .find(|l| l.starts_with("Usage:"))
        .unwrap_or_else(|| panic!("no usage line: {stderr}"));
    assert_eq!(
        usage,
        "Usage: shm-clip rm <N|--seq <S>|--menu-line|--archive <ID>>"
    );
}

#[test]
fn rm_of_a_negative_index_explains_indexes() {
    let board = TestBoard::new("rmneg");
    board.ok(&["copy", "x"]);
    let out = board.run(&["rm", "-1"]);
    let stderr = assert_fails_saying(
        &out,
        &["invalid value '-1'", "count up from 0", "shm-clip history"],
    );
    // clap's own tip, `-- -1`, only leads to another error.
    assert!(!stderr.contains("-- -1"), "{stderr}");
    assert_eq!(board.history().len(), 1);
}

#[test]
fn a_broken_config_is_not_sent_to_config_show() {
    let board = TestBoard::new("badconfig");
    board.file("config.toml", b"[board]\ncapacity = \"lots\"\n");
    for args in [&["config", "show"][..], &["status"]] {
        let mut cmd = board.bare();
        cmd.args(args);
        let out = output(cmd);
        let stderr = assert_fails_saying(&out, &["invalid config ", "fix or remove "]);
        assert!(!stderr.contains("config show"), "{args:?}: {stderr}");
    }
}

#[test]
fn destroying_a_missing_board_does_not_suggest_copying() {
    let board = TestBoard::new("nodestroy");
    let out = board.run(&["destroy"]);
    let stderr = assert_fails_saying(
        &out,
        &[
            "does not exist, so there is nothing to destroy",
            "shm-clip boards",
        ],
    );
    assert!(!stderr.contains("copy"), "{stderr}");
}

#[test]
fn watch_exec_failures_name_the_command_and_the_seq() {
    let board = TestBoard::new("execfail");
    board.ok(&["copy", "first"]);
    let mut cmd = board.cmd(&["watch", "--exec", "cat >/dev/null; exit 3"]);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut watch = cmd.spawn().unwrap();
    let stderr = watch.stderr.take().unwrap();
    let lines = common::spawn_named("watch stderr", move || {
        let mut first = String::new();
        let _ = BufReader::new(stderr).read_line(&mut first);
        first
    });
    // The watch is subscribed once it is listed; then a copy must reach it.
    let deadline = Instant::now() + TIMEOUT;
    let pid = u64::from(watch.id());
    loop {
        let status: Value = serde_json::from_slice(&board.ok(&["status", "--json"])).unwrap();
        let listed = status["subscribers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["origin"]["pid"].as_u64() == Some(pid));
        if listed {
            break;
        }
        assert!(Instant::now() < deadline, "the watch never subscribed");
        std::thread::yield_now();
    }
    board.ok(&["copy", "second"]);
    let seq = board.history()[0]["seq"].as_u64().unwrap();
    let line = common::within("the failure line", TIMEOUT, move || lines.join().unwrap());
    let _ = watch.kill();
    let _ = watch.wait();
    assert_eq!(
        line,
        format!(
            "shm-clip: watch --exec: sh -c 'cat >/dev/null; exit 3' failed for seq {seq}: exit status 3\n"
        )
    );
}

#[test]
fn rm_of_a_pinned_entry_needs_force() {
    let board = TestBoard::new("rm-pinned");
    board.ok(&["copy", "kept on purpose"]);
    board.ok(&["copy", "newer"]);
    board.ok(&["pin", "1"]);
    let out = board.run(&["rm", "1"]);
    assert_fails_saying(
        &out,
        &[
            "entry seq 1 is pinned; not deleting it",
            "shm-clip rm --seq 1 --force",
        ],
    );
    assert_eq!(board.ok(&["paste", "--seq", "1"]), b"kept on purpose");
    // Unpinned entries go as before; --force takes a pinned one.
    board.ok(&["rm", "0"]);
    board.ok(&["rm", "0", "--force"]);
    assert_fails_saying(&board.run(&["paste", "--seq", "1"]), &["no such entry"]);
}
