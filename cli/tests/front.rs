//! `shm-clip` and `shm-clip-full` (cli/src/front.rs): `shm-clip` runs the
//! fast path's copy and paste itself and execs `shm-clip-full`, beside it,
//! for everything else. Every other test of this package runs `shm-clip`,
//! so all the other subcommands are tested through that exec; these check
//! the hand-over itself, with real processes on a real board.

use shm_clip_test_kit as common;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::TestBoard;
use shm_clip::{Clip, CreateOptions};

const TIMEOUT: Duration = Duration::from_secs(60);

const OPTS: CreateOptions = CreateOptions {
    capacity: 64 << 10,
    depth: 8,
};

fn front() -> &'static str {
    env!("CARGO_BIN_EXE_shm-clip")
}

fn full() -> &'static str {
    env!("CARGO_BIN_EXE_shm-clip-full")
}

/// `exe ARGS` (with `argv[0]` `shm-clip`, as a shell gives it) with a clean
/// environment and the test's own config file.
fn run(tb: &TestBoard, exe: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(exe);
    cmd.arg0("shm-clip")
        .args(args)
        .env_remove("SHM_CLIP_BOARD")
        .env_remove("SHM_CLIP_FAST_PATH")
        .env_remove("RUST_LOG")
        .env("SHM_CLIP_CONFIG", tb.file("config.toml"))
        .stdin(Stdio::null());
    common::within("shm-clip", TIMEOUT, move || cmd.output().unwrap())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_command_but_copy_and_paste_runs_the_full_cli_under_the_name_shm_clip() {
    let tb = TestBoard::new("front-exec");
    tb.open(OPTS).copy(&Clip::text("one")).unwrap();
    tb.open(OPTS).copy(&Clip::text("two")).unwrap();
    let board = tb.name.as_str();
    let (front, full) = (Path::new(front()), Path::new(full()));
    for args in [
        &["--version"][..],
        &["--help"],
        &["copy", "--help"],
        &["--board", board, "history", "--json"],
        &["--board", board, "paste", "--entry", "1"],
        &["config", "show"],
        &["--board", board, "rm", "--seq", "999"],
    ] {
        let (a, b) = (run(&tb, front, args), run(&tb, full, args));
        assert_eq!(
            a.status.code(),
            b.status.code(),
            "{args:?}: {}",
            text(&a.stderr)
        );
        assert_eq!(text(&a.stdout), text(&b.stdout), "{args:?}");
        assert_eq!(text(&a.stderr), text(&b.stderr), "{args:?}");
    }
    // clap names the program after argv[0], which the exec keeps.
    let mut cmd = Command::new(front);
    cmd.args(["--board", board, "paste", "--bogus"]);
    let out = common::within("shm-clip", TIMEOUT, move || cmd.output().unwrap());
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("Usage: shm-clip {paste|-o}"), "{stderr}");
    assert!(!stderr.contains("shm-clip-full"), "{stderr}");
    // The exit status is the full CLI's own: a missing entry is 1.
    assert_eq!(
        run(&tb, front, &["--board", board, "select", "7"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn a_lone_shm_clip_copies_and_pastes_and_names_what_is_missing_for_the_rest() {
    let tb = TestBoard::new("front-lone");
    let lone = tb.file("shm-clip");
    std::fs::copy(front(), &lone).unwrap();
    let board = tb.name.as_str();
    let out = run(&tb, &lone, &["--board", board, "copy", "alone"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&tb, &lone, &["--board", board, "paste"]);
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(0), "alone".into())
    );
    // Everything else, and copy or paste with RUST_LOG, needs the full CLI.
    let missing = tb.file("shm-clip-full");
    let mut logged = Command::new(&lone);
    logged
        .args(["--board", board, "paste"])
        .env("RUST_LOG", "debug")
        .stdin(Stdio::null());
    let logged = common::within("shm-clip", TIMEOUT, move || logged.output().unwrap());
    for out in [run(&tb, &lone, &["--board", board, "history"]), logged] {
        assert_eq!(out.status.code(), Some(1));
        let stderr = text(&out.stderr);
        assert!(
            stderr.starts_with(&format!("shm-clip: cannot run {}: ", missing.display()))
                && stderr.contains("reinstall shm-clip"),
            "{stderr}"
        );
    }
}
