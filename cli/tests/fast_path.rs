//! The fast path (cli/src/fast.rs) against clap, as real processes on real
//! boards: every command line it takes must give the same stdout, stderr,
//! exit status and board as the same command line given to clap
//! (`SHM_CLIP_FAST_PATH=0`), and every other one must reach clap unchanged.
//! With `RUST_LOG=debug` the CLI says which parser it used, so each case
//! also checks that it took the path it is meant to test.
//!
//! Also logging without `RUST_LOG` (cli/src/logging.rs): a warning is still
//! printed, as with `RUST_LOG=warn`.

use shm_clip_test_kit as common;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{CHILD_TIMEOUT, PARK_AT_VAR, PARK_VAR, TestBoard};
use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
use shm_clip::{Board, Clip, CreateOptions, Origin, OriginKind};

/// The longest any single command may take.
const TIMEOUT: Duration = Duration::from_secs(60);

const OPTS: CreateOptions = CreateOptions {
    capacity: 64 << 10,
    depth: 8,
};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_shm-clip")
}

/// Which parser a run is meant to use.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Parser {
    /// The fast path, which must take the command line.
    Fast,
    /// clap: the fast path is turned off.
    Clap,
    /// The fast path is on but must leave the command line to clap.
    FallsThrough,
}

/// Where a command's stdin comes from.
#[derive(Clone, Copy, Debug)]
enum Stdin<'a> {
    Null,
    /// A pipe already holding these bytes, its writing end closed.
    Pipe(&'a [u8]),
}

/// `shm-clip ARGS` with a clean environment: `SHM_CLIP_BOARD` as given, the
/// test's own (missing unless written) config file, no `RUST_LOG`.
fn command(tb: &TestBoard, args: &[&[u8]], board_env: Option<&str>, parser: Parser) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args.iter().map(|a| std::ffi::OsStr::from_bytes(a)))
        .env_remove("SHM_CLIP_BOARD")
        .env_remove("RUST_LOG")
        .env_remove(PARK_VAR)
        .env("SHM_CLIP_CONFIG", tb.file("config.toml"));
    if let Some(board) = board_env {
        cmd.env("SHM_CLIP_BOARD", board);
    }
    match parser {
        Parser::Clap => cmd.env("SHM_CLIP_FAST_PATH", "0"),
        Parser::Fast | Parser::FallsThrough => cmd.env_remove("SHM_CLIP_FAST_PATH"),
    };
    cmd
}

fn output(mut cmd: Command, stdin: Stdin<'_>) -> Output {
    match stdin {
        Stdin::Null => cmd.stdin(Stdio::null()),
        Stdin::Pipe(bytes) => cmd.stdin(closed_pipe(bytes)),
    };
    common::within("shm-clip", TIMEOUT, move || {
        cmd.output().expect("run shm-clip")
    })
}

/// A pipe already holding `input`, its writing end closed.
fn closed_pipe(input: &[u8]) -> OwnedFd {
    let (read, write) = nix::unistd::pipe().unwrap();
    assert!(input.len() <= 4096, "more than a pipe buffer");
    File::from(write).write_all(input).unwrap();
    read
}

/// What a run leaves to compare: exit status, stdout, stderr, and the
/// board's current clip afterwards (type and bytes), if any.
#[derive(Debug, PartialEq)]
struct Outcome {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
    current: Option<(String, Vec<u8>)>,
}

/// The board's current clip, read with the library.
fn current(tb: &TestBoard) -> Option<(String, Vec<u8>)> {
    let board = Board::open_with(&tb.name, Origin::this_process(OriginKind::Cli), None).ok()?;
    let clip = board.paste().ok()?;
    let rep = clip.reps.into_iter().next()?;
    Some((rep.mime, rep.data))
}

/// Checks with `RUST_LOG=debug` that `args` takes the parser `parser`.
fn assert_parser(tb: &TestBoard, args: &[&[u8]], board_env: Option<&str>, parser: Parser) {
    let mut cmd = command(tb, args, board_env, parser);
    cmd.env("RUST_LOG", "shm_clip=debug");
    let out = output(cmd, Stdin::Null);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let (want, not) = match parser {
        Parser::Fast => (Some("parser=\"fast path\""), "parser=\"clap\""),
        // clap may end the process before logging starts (an error, --help).
        Parser::Clap | Parser::FallsThrough => (None, "parser=\"fast path\""),
    };
    assert!(
        !stderr.contains(not) && want.is_none_or(|want| stderr.contains(want)),
        "{:?} with {parser:?}: stderr {stderr}",
        printable(args)
    );
}

/// Runs `args` the way `parser` says, each time on the board as `setup`
/// leaves it, and returns what it did.
fn run(
    tb: &TestBoard,
    setup: &dyn Fn(&TestBoard),
    args: &[&[u8]],
    board_env: Option<&str>,
    stdin: Stdin<'_>,
    parser: Parser,
) -> Outcome {
    setup(tb);
    assert_parser(tb, args, board_env, parser);
    setup(tb);
    let out = output(command(tb, args, board_env, parser), stdin);
    Outcome {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        current: current(tb),
    }
}

fn printable(args: &[&[u8]]) -> Vec<String> {
    args.iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// `args` on the fast path and through clap, each time on the board as
/// `setup` leaves it: the same outcome both ways, which is returned.
fn same_both_ways(
    tb: &TestBoard,
    setup: &dyn Fn(&TestBoard),
    args: &[&[u8]],
    board_env: Option<&str>,
    stdin: Stdin<'_>,
    fast: Parser,
) -> Outcome {
    let fast_outcome = run(tb, setup, args, board_env, stdin, fast);
    let clap_outcome = run(tb, setup, args, board_env, stdin, Parser::Clap);
    assert_eq!(
        fast_outcome,
        clap_outcome,
        "shm-clip {:?}: the fast path ({fast:?}) and clap differ",
        printable(args)
    );
    fast_outcome
}

/// The board holds one clip, `abc` (no trailing newline).
fn holding_abc(tb: &TestBoard) {
    let _ = Board::destroy(&tb.name, true);
    tb.open(OPTS).copy(&Clip::text("abc")).unwrap();
}

/// The board exists and is empty.
fn empty(tb: &TestBoard) {
    let _ = Board::destroy(&tb.name, true);
    drop(tb.open(OPTS));
}

/// There is no board.
fn missing(tb: &TestBoard) {
    let _ = Board::destroy(&tb.name, true);
}

#[test]
fn paste_in_every_fast_shape_is_what_clap_makes_of_it() {
    let tb = TestBoard::new("fast-paste");
    let name = tb.name.as_str().as_bytes();
    let eq = [b"--board=".as_slice(), name].concat();
    let shapes: Vec<(Vec<&[u8]>, Option<&str>)> = vec![
        (vec![b"--board", name, b"paste"], None),
        (vec![eq.as_slice(), b"paste"], None),
        (vec![b"paste", b"--board", name], None),
        (vec![b"paste", b"-n", b"--board", name], None),
        (vec![b"paste", b"--no-newline"], Some(tb.name.as_str())),
        (vec![b"-o"], Some(tb.name.as_str())),
        (vec![b"--board", name, b"-o", b"-n"], None),
        (
            vec![b"--board", b"elsewhere", b"paste", b"--board", name],
            None,
        ),
    ];
    for (args, env) in &shapes {
        let out = same_both_ways(&tb, &holding_abc, args, *env, Stdin::Null, Parser::Fast);
        assert_eq!(out.code, Some(0), "{:?}: {}", printable(args), out.stderr);
        assert_eq!(out.stdout, b"abc", "{:?}", printable(args));
        assert_eq!(out.stderr, "");
    }
}

#[test]
fn paste_errors_on_the_fast_path_are_clap_paths_errors() {
    let tb = TestBoard::new("fast-paste-err");
    let name = tb.name.as_str().as_bytes();
    let paste: &[&[u8]] = &[b"--board", name, b"paste"];
    // No board.
    let out = same_both_ways(&tb, &missing, paste, None, Stdin::Null, Parser::Fast);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.starts_with("shm-clip: "), "{}", out.stderr);
    assert!(out.stderr.contains(tb.name.as_str()), "{}", out.stderr);
    // An empty board.
    let out = same_both_ways(&tb, &empty, paste, None, Stdin::Null, Parser::Fast);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.starts_with("shm-clip: "), "{}", out.stderr);
    assert!(out.stdout.is_empty());
    // SHM_CLIP_BOARD that is not a board name is blamed on the variable.
    let out = same_both_ways(
        &tb,
        &holding_abc,
        &[b"paste"],
        Some("no/slash"),
        Stdin::Null,
        Parser::Fast,
    );
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("SHM_CLIP_BOARD=\"no/slash\""),
        "{}",
        out.stderr
    );
    // An invalid config file stops the command before it touches the board.
    std::fs::write(tb.file("config.toml"), "[board]\ncapacity = \"lots\"\n").unwrap();
    let out = same_both_ways(&tb, &holding_abc, paste, None, Stdin::Null, Parser::Fast);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("config.toml"), "{}", out.stderr);
    std::fs::remove_file(tb.file("config.toml")).unwrap();
}

#[test]
fn command_lines_the_fast_path_does_not_take_get_claps_answer() {
    let tb = TestBoard::new("fast-fallthrough");
    let name = tb.name.as_str().as_bytes();
    let cases: &[(&[&[u8]], i32, &str)] = &[
        // A bad flag after paste: clap's error, exit status 2.
        (
            &[b"--board", name, b"paste", b"--bogus"],
            2,
            "unexpected argument '--bogus'",
        ),
        (
            &[b"--board", name, b"paste", b"-n", b"-n"],
            2,
            "cannot be used multiple times",
        ),
        (
            &[b"--board", name, b"paste", b"extra"],
            2,
            "unexpected argument 'extra'",
        ),
        (&[b"--board", b"no/slash", b"paste"], 2, "only A-Z a-z 0-9"),
        (
            &[b"paste", b"--board"],
            2,
            "a value is required for '--board <NAME>'",
        ),
        // Shapes it leaves alone on purpose, which clap runs.
        (&[b"--board", name, b"paste", b"--list-types"], 0, ""),
        (&[b"--board", name, b"paste", b"-t", b"text"], 0, ""),
        (&[b"--board", name, b"-o", b"--entry", b"0"], 0, ""),
        (&[b"--board", name, b"paste", b"--help"], 0, ""),
    ];
    for (args, code, says) in cases {
        let out = same_both_ways(
            &tb,
            &holding_abc,
            args,
            None,
            Stdin::Null,
            Parser::FallsThrough,
        );
        assert_eq!(
            out.code,
            Some(*code),
            "{:?}: {}",
            printable(args),
            out.stderr
        );
        assert!(
            out.stderr.contains(says),
            "{:?}: {}",
            printable(args),
            out.stderr
        );
        assert_eq!(
            out.current,
            Some(("text/plain;charset=utf-8".into(), b"abc".to_vec()))
        );
    }
}

/// A copy case: the command line, `SHM_CLIP_BOARD`, stdin, and the clip it
/// must leave current.
type Shape<'a> = (
    Vec<&'a [u8]>,
    Option<&'a str>,
    Stdin<'a>,
    Option<(String, Vec<u8>)>,
);

#[test]
fn copy_in_every_fast_shape_is_what_clap_makes_of_it() {
    let tb = TestBoard::new("fast-copy");
    let name = tb.name.as_str().as_bytes();
    let env = Some(tb.name.as_str());
    let text = |data: &[u8]| Some(("text/plain;charset=utf-8".to_owned(), data.to_vec()));
    let shapes: Vec<Shape<'_>> = vec![
        (
            vec![b"--board", name, b"copy", b"hello"],
            None,
            Stdin::Null,
            text(b"hello"),
        ),
        (
            vec![b"copy", b"hello", b"world"],
            env,
            Stdin::Null,
            text(b"hello world"),
        ),
        (
            vec![b"copy", b"", b"two  spaces", b""],
            env,
            Stdin::Null,
            text(b" two  spaces "),
        ),
        (
            vec![b"copy", b"a", b"-n", b"b\n"],
            env,
            Stdin::Null,
            text(b"a b"),
        ),
        (
            vec![b"-i", b"paste", b"--board", name],
            None,
            Stdin::Null,
            text(b"paste"),
        ),
        (vec![b"copy", b"help"], env, Stdin::Null, text(b"help")),
        (
            vec![b"copy", "日本".as_bytes()],
            env,
            Stdin::Null,
            text("日本".as_bytes()),
        ),
        (
            vec![b"copy", b"a\xffb"],
            env,
            Stdin::Null,
            Some(("application/octet-stream".into(), b"a\xffb".to_vec())),
        ),
        (
            vec![b"copy"],
            env,
            Stdin::Pipe(b"from stdin\n"),
            text(b"from stdin\n"),
        ),
        (
            vec![b"copy", b"-n"],
            env,
            Stdin::Pipe(b"from stdin\n"),
            text(b"from stdin"),
        ),
        (
            vec![b"--board", name, b"copy", b"--trim-newline"],
            None,
            Stdin::Pipe(b"x\n\n"),
            text(b"x\n"),
        ),
        (vec![b"copy"], env, Stdin::Null, text(b"")),
    ];
    for (args, env, stdin, want) in &shapes {
        let out = same_both_ways(&tb, &holding_abc, args, *env, *stdin, Parser::Fast);
        assert_eq!(out.code, Some(0), "{:?}: {}", printable(args), out.stderr);
        assert_eq!(
            (out.stdout.as_slice(), out.stderr.as_str()),
            (b"".as_slice(), "")
        );
        assert_eq!(&out.current, want, "{:?}", printable(args));
    }
}

#[test]
fn copy_errors_on_the_fast_path_are_clap_paths_errors() {
    let tb = TestBoard::new("fast-copy-err");
    let name = tb.name.as_str().as_bytes();
    // TEXT and data on stdin: which one was meant?
    let out = same_both_ways(
        &tb,
        &holding_abc,
        &[b"--board", name, b"copy", b"text"],
        None,
        Stdin::Pipe(b"stdin too"),
        Parser::Fast,
    );
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("unclear which to copy"),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.current,
        Some(("text/plain;charset=utf-8".into(), b"abc".to_vec()))
    );
    // Larger than the board: refused with the sizes.
    let big = vec![b'x'; 70 << 10];
    let big_file = tb.file("big");
    std::fs::write(&big_file, &big).unwrap();
    let run_big = |parser: Parser| {
        holding_abc(&tb);
        let mut cmd = command(&tb, &[b"--board", name, b"copy"], None, parser);
        cmd.stdin(File::open(&big_file).unwrap());
        let out = common::within("shm-clip", TIMEOUT, move || cmd.output().unwrap());
        (out.status.code(), out.stderr)
    };
    let (fast, clap) = (run_big(Parser::Fast), run_big(Parser::Clap));
    assert_eq!(fast, clap);
    assert_eq!(fast.0, Some(1));
    assert!(String::from_utf8_lossy(&fast.1).contains("larger than this board can hold"));
    // Options the fast path leaves to clap.
    let cases: &[(&[&[u8]], i32, &str)] = &[
        (
            &[b"--board", name, b"copy", b"-x"],
            2,
            "unexpected argument '-x'",
        ),
        (
            &[b"--board", name, b"copy", b"--file", b"f", b"t"],
            2,
            "cannot be used with",
        ),
        (
            &[b"--board", name, b"copy", b"-v", b"said"],
            0,
            "copied 4 B",
        ),
    ];
    for (args, code, says) in cases {
        let out = same_both_ways(
            &tb,
            &holding_abc,
            args,
            None,
            Stdin::Null,
            Parser::FallsThrough,
        );
        assert_eq!(
            out.code,
            Some(*code),
            "{:?}: {}",
            printable(args),
            out.stderr
        );
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), out.stderr);
        assert!(all.contains(says), "{:?}: {all}", printable(args));
    }
}

/// Runs `cmd` with stdout on a fresh pseudo-terminal in raw mode; returns
/// the exit status and what the terminal received.
fn on_tty(mut cmd: Command) -> (Option<i32>, Vec<u8>) {
    let pty = nix::pty::openpty(None, None).unwrap();
    let mut termios = tcgetattr(&pty.slave).unwrap();
    cfmakeraw(&mut termios);
    tcsetattr(&pty.slave, SetArg::TCSANOW, &termios).unwrap();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(pty.slave))
        .stderr(Stdio::null());
    let mut master = File::from(pty.master);
    common::within("shm-clip on a tty", TIMEOUT, move || {
        let mut child = cmd.spawn().unwrap();
        // Our copy of the slave goes with `cmd`, so the master reads EIO
        // once the child has exited.
        drop(cmd);
        let status = child.wait().unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match master.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
                Err(err) if err.raw_os_error() == Some(nix::errno::Errno::EIO as i32) => break,
                Err(err) => panic!("reading the pty: {err}"),
            }
        }
        (status.code(), seen)
    })
}

#[test]
fn paste_on_a_terminal_adds_the_newline_unless_n_on_both_paths() {
    let tb = TestBoard::new("fast-tty");
    holding_abc(&tb);
    let name = tb.name.as_str().as_bytes();
    let cases: &[(&[&[u8]], &[u8])] = &[
        (&[b"--board", name, b"paste"], b"abc\n"),
        (&[b"--board", name, b"paste", b"-n"], b"abc"),
        (&[b"paste", b"--no-newline", b"--board", name], b"abc"),
        (&[b"--board", name, b"-o", b"-n"], b"abc"),
    ];
    for (args, want) in cases {
        assert_parser(&tb, args, None, Parser::Fast);
        let fast = on_tty(command(&tb, args, None, Parser::Fast));
        let clap = on_tty(command(&tb, args, None, Parser::Clap));
        assert_eq!(fast, (Some(0), want.to_vec()), "{:?}", printable(args));
        assert_eq!(fast, clap, "{:?}", printable(args));
    }
}

/// The test's children: a writer that parks inside the lock, to be killed.
fn child() -> bool {
    let Some(role) = common::role() else {
        return false;
    };
    assert_eq!(role, "park");
    let board = common::child_open(None);
    let out = board.copy(&Clip::text("never committed"));
    // Returns only if the test hook is missing.
    common::report("UNPARKED", format!("{out:?}"));
    std::process::exit(2);
}

/// The first line of stderr with its timestamp cut off.
fn without_timestamp(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().next().unwrap_or_default();
    line.split_once(' ')
        .map_or(line, |(_, rest)| rest)
        .trim_start()
        .to_owned()
}

#[test]
fn a_warning_is_printed_without_rust_log_as_with_rust_log_warn() {
    const TEST: &str = "a_warning_is_printed_without_rust_log_as_with_rust_log_warn";
    if child() {
        return;
    }
    let tb = TestBoard::new("fast-warn");
    let name = tb.name.as_str().as_bytes();
    // A writer killed inside the lock: the next paste repairs and warns.
    let paste_after_a_killed_writer = |rust_log: Option<&str>, round: usize| {
        holding_abc(&tb);
        let marker = tb.file(&format!("parked-{round}"));
        let marker_str = marker.to_str().unwrap().to_owned();
        let mut writer = tb.spawn(
            TEST,
            "park",
            &[(PARK_VAR, &marker_str), (PARK_AT_VAR, "copy")],
        );
        writer.wait_for_file(&marker, CHILD_TIMEOUT);
        writer.kill();
        let mut cmd = command(&tb, &[b"--board", name, b"paste"], None, Parser::Fast);
        if let Some(filter) = rust_log {
            cmd.env("RUST_LOG", filter);
        }
        output(cmd, Stdin::Null)
    };
    let default = paste_after_a_killed_writer(None, 0);
    let warn = paste_after_a_killed_writer(Some("warn"), 1);
    for out in [&default, &warn] {
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(out.stdout, b"abc");
    }
    let line = without_timestamp(&default.stderr);
    assert!(
        line.starts_with("WARN shm_clip::lock: previous lock holder died; board repaired"),
        "{}",
        String::from_utf8_lossy(&default.stderr)
    );
    assert_eq!(line, without_timestamp(&warn.stderr));
}
