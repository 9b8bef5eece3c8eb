//! Hostile surroundings that `shm-clip/tests/hostile.rs` does not cover:
//! another pid namespace, squatted and full mailboxes, no message-queue
//! budget, a subscriber table full of dead processes, and clip contents in
//! logs (the CLI, and the window and tray under a private Xvfb). Each case is
//! refused or survives with a clear error, and nothing is written to the
//! hostile object.
//!
//! Cases that need root (another uid, another pid namespace) assert that
//! they run as root, as hostile.rs does: they fail rather than skip; CI runs
//! as root. A helper that runs as another user execs a copy of this binary
//! that it can reach ([`common::SharedExe`]), so the suite also passes from
//! a clone in a 0700 home such as `/root/project`.

use shm_clip_test_kit as common;
// Only its private X server is used here.
mod tray_support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{CHILD_TIMEOUT, TestBoard, report, snapshot};
use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, MqAttr, mq_getattr, mq_open, mq_receive, mq_send, mq_unlink};
use nix::sys::resource::{Resource, setrlimit};
use nix::sys::stat::{Mode, umask};
use shm_clip::{Board, Clip, CreateOptions, Error, Origin, OriginKind};

const OPTS: CreateOptions = CreateOptions {
    capacity: 64 << 10,
    depth: 8,
};

/// A copy or paste that takes longer than this is treated as blocked.
const NEVER_BLOCKS: Duration = Duration::from_secs(2);

/// The `shm-clip` binary (`shm_clip_test_kit::workspace_bin`).
fn bin() -> PathBuf {
    tray_support::bin("shm-clip")
}

/// `shm-clip --board NAME ARGS...` with a clean environment.
fn cli(board: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.env_remove("SHM_CLIP_BOARD")
        .env("RUST_LOG", "warn")
        .args(["--board", board])
        .args(args);
    cmd
}

/// Runs `cmd` with `input` on stdin under a watchdog.
fn run(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let feeder = common::spawn_named("stdin", move || {
        let _ = stdin.write_all(&input);
    });
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    common::spawn_named("wait", move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            panic!("{cmd:?} still running after 60 s")
        })
        .unwrap();
    let _ = feeder.join();
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {}\nstderr: {}",
        out.status,
        stderr(out)
    );
}

/// Every error the CLI prints reads `shm-clip: what: why (hint)`, on the
/// last line of stderr (logs, when enabled, come before it).
fn assert_cli_refuses(out: &Output, what: &str, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{what}: {err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(last.starts_with("shm-clip: "), "{what}: {err}");
    for needle in needles {
        assert!(last.contains(needle), "{what}: {needle:?} not in {last:?}");
    }
}

fn origin() -> Origin {
    Origin::this_process(OriginKind::Cli)
}

/// Fails unless root: `what` needs it, and CI runs as root.
fn require_root(what: &str) {
    assert_eq!(
        common::euid(),
        0,
        "this test needs root for {what} and must run as root, as CI does"
    );
}

// ---------------------------------------------------------------------------
// Another pid namespace.

/// `unshare --pid --fork --mount-proc shm-clip ...`: a process in a fresh pid
/// namespace (and, for /proc, a fresh mount namespace; /dev/shm is shared).
fn in_new_pid_namespace(board: &str, args: &[&str], input: &[u8]) -> Output {
    let mut cmd = Command::new("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc"])
        .arg(bin())
        .env_remove("SHM_CLIP_BOARD")
        .env("RUST_LOG", "warn")
        .args(["--board", board])
        .args(args);
    run(&mut cmd, input)
}

#[test]
fn a_board_from_another_pid_namespace_is_refused_both_ways() {
    require_root("a process in a new pid namespace (unshare --pid)");
    let tb = TestBoard::new("sec-pidns");
    let name = tb.name.as_str();

    // Created inside a new pid namespace, opened from here.
    let out = in_new_pid_namespace(name, &["copy", "made in a sandbox"], b"");
    assert_ok(&out, "copy inside the new pid namespace");
    let before = snapshot(&tb.path());
    for create in [Some(OPTS), None] {
        let err = Board::open_with(&tb.name, origin(), create).expect_err("refused");
        assert!(matches!(err, Error::PidNamespace { .. }), "{err:?}");
        assert!(
            err.to_string().contains(tb.path().to_str().unwrap()),
            "{err}"
        );
        assert!(err.hint().unwrap().contains("pid namespace"), "{err:?}");
    }
    for args in [
        &["paste"][..],
        &["copy", "from outside"],
        &["history"],
        &["status"],
    ] {
        let out = run(&mut cli(name, args), b"");
        assert_cli_refuses(&out, &format!("{args:?}"), &["pid namespace", "--board"]);
    }
    assert_eq!(before, snapshot(&tb.path()), "the refused segment changed");
    Board::destroy(&tb.name, true).unwrap();

    // Created here, opened from inside a new pid namespace.
    let board = tb.open(OPTS);
    board.copy(&Clip::text("made outside")).unwrap();
    drop(board);
    let before = snapshot(&tb.path());
    for args in [&["paste"][..], &["copy", "from the sandbox"], &["watch"]] {
        let out = in_new_pid_namespace(name, args, b"");
        assert_cli_refuses(&out, &format!("{args:?} inside"), &["pid namespace"]);
    }
    assert_eq!(before, snapshot(&tb.path()), "the refused segment changed");
    let board = Board::open_with(&tb.name, origin(), None).unwrap();
    assert_eq!(board.paste().unwrap().text_str(), Some("made outside"));
}

// ---------------------------------------------------------------------------
// Mailboxes: squatted by another user, world-writable, kept full.

const SUBSCRIBER_TEST: &str = "squatted_and_full_mailboxes_never_block_or_receive_writes";

/// The hostile queue's messages: one that is not a notification.
const HOSTILE_MSG: &[u8; 24] = b"not yours, hostile queue";

fn mailbox_child(role: &str) {
    match role {
        // Registers a mailbox, never reads it, and waits to be killed.
        "subscriber" => {
            let board = common::child_open(None);
            let sub = board.subscribe().unwrap();
            report("MAILBOX", sub.mailbox_name());
            common::linger_until_killed();
        }
        // Runs as another user (or as us): creates the queue at the name it
        // is given with mode 0666, fills it, and leaves it behind.
        "squatter" => {
            let name = common::child_var("SQUAT_NAME");
            umask(Mode::empty());
            let attr = MqAttr::new(0, 4, 32, 0);
            let mq = mq_open(
                name.as_str(),
                MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_WRONLY | MQ_OFlag::O_NONBLOCK,
                Mode::from_bits_truncate(0o666),
                Some(&attr),
            )
            .unwrap_or_else(|e| panic!("squatting {name}: {e}"));
            let fill: usize = common::child_var("SQUAT_FILL").parse().unwrap();
            for _ in 0..fill {
                mq_send(&mq, HOSTILE_MSG, 0).unwrap();
            }
            report("SQUATTED", &name);
        }
        other => panic!("unknown role {other}"),
    }
}

/// Replaces a live subscriber's queue with one made by `uid` with mode 0666
/// holding `fill` messages of its own. The squatter execs `exe`, a copy of
/// this binary that `uid` can reach.
fn squat(tb: &TestBoard, exe: &common::SharedExe, name: &str, uid: Option<u32>, fill: usize) {
    match mq_unlink(name) {
        Ok(()) | Err(Errno::ENOENT) => {}
        Err(e) => panic!("mq_unlink {name}: {e}"),
    }
    let mut cmd = tb.foreign_child_command(exe, SUBSCRIBER_TEST, "squatter");
    cmd.env("SQUAT_NAME", name)
        .env("SQUAT_FILL", fill.to_string());
    if let Some(uid) = uid {
        std::os::unix::process::CommandExt::uid(&mut cmd, uid);
        std::os::unix::process::CommandExt::gid(&mut cmd, uid);
    }
    let done = common::Proc::spawn(cmd, "squatter").finish_ok(CHILD_TIMEOUT);
    assert_eq!(done.report("SQUATTED"), name);
}

/// The messages waiting in queue `name` (read destructively, at the end).
fn drain(name: &str) -> Vec<Vec<u8>> {
    let mq = mq_open(
        name,
        MQ_OFlag::O_RDONLY | MQ_OFlag::O_NONBLOCK,
        Mode::empty(),
        None,
    )
    .unwrap();
    let mut msgs = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let mut prio = 0;
        match mq_receive(&mq, &mut buf, &mut prio) {
            Ok(n) => msgs.push(buf[..n].to_vec()),
            Err(Errno::EAGAIN) => return msgs,
            Err(e) => panic!("mq_receive {name}: {e}"),
        }
    }
}

fn pending(name: &str) -> i64 {
    let mq = mq_open(
        name,
        MQ_OFlag::O_RDONLY | MQ_OFlag::O_NONBLOCK,
        Mode::empty(),
        None,
    )
    .unwrap();
    mq_getattr(&mq).unwrap().curmsgs()
}

/// Copies `n` times; every copy must finish within [`NEVER_BLOCKS`].
fn copies_never_block(board: &Board, n: usize, what: &str) {
    for i in 0..n {
        let t = Instant::now();
        board.copy(&Clip::text(format!("{what} {i}"))).unwrap();
        assert!(
            t.elapsed() < NEVER_BLOCKS,
            "{what}: copy {i} took {:?}",
            t.elapsed()
        );
    }
}

#[test]
fn squatted_and_full_mailboxes_never_block_or_receive_writes() {
    if let Some(role) = common::role() {
        return mailbox_child(&role);
    }
    require_root("a mailbox squatted by uid 65534 (setuid nobody)");
    let tb = TestBoard::new("sec-mailbox");
    let board = tb.open(OPTS);

    // A subscriber that never reads: its queue fills up, then stays full.
    let mut full = tb.spawn(SUBSCRIBER_TEST, "subscriber", &[]);
    let full_name = full.expect_report("MAILBOX", CHILD_TIMEOUT);
    copies_never_block(&board, 50, "full mailbox");
    // So does the CLI, which sends from a fresh process every time.
    for i in 0..3 {
        let t = Instant::now();
        let out = run(
            &mut cli(tb.name.as_str(), &["copy", &format!("cli {i}")]),
            b"",
        );
        assert_ok(&out, "copy with a full mailbox");
        assert!(
            t.elapsed() < NEVER_BLOCKS,
            "CLI copy {i} took {:?}",
            t.elapsed()
        );
    }
    assert_eq!(pending(&full_name), 4, "the queue is full, not overfull");
    let status = board.status().unwrap();
    assert_eq!(status.subscribers.len(), 1);
    assert_eq!(status.subscribers[0].pending, Some(4));
    full.kill();

    // Live subscribers whose queues were swapped for hostile ones.
    let exe = common::SharedExe::new();
    for (what, uid) in [
        ("our uid, mode 0666", None),
        ("uid 65534, mode 0666", Some(65534)),
    ] {
        let mut sub = tb.spawn(SUBSCRIBER_TEST, "subscriber", &[]);
        let name = sub.expect_report("MAILBOX", CHILD_TIMEOUT);
        // One message short of full, so that a write would be visible;
        // then full, so that a blocking write would hang.
        for fill in [3, 4] {
            squat(&tb, &exe, &name, uid, fill);
            // A fresh handle reads the table anew and meets the hostile queue.
            for handle in [&board, &tb.open(OPTS)] {
                copies_never_block(handle, 10, what);
            }
            // The CLI says why it skipped the queue.
            let out = run(&mut cli(tb.name.as_str(), &["copy", what]), b"");
            assert_ok(&out, what);
            assert!(
                stderr(&out).contains("refusing a mailbox that is not ours alone"),
                "{what}: {}",
                stderr(&out)
            );
            assert_eq!(
                pending(&name),
                fill as i64,
                "{what}: the hostile queue was written to"
            );
            let msgs = drain(&name);
            assert_eq!(msgs.len(), fill, "{what}");
            assert!(
                msgs.iter().all(|m| m == HOSTILE_MSG),
                "{what}: foreign messages in the hostile queue: {msgs:?}"
            );
        }
        sub.kill();
        board.reap();
    }
    assert!(board.status().unwrap().subscribers.is_empty());
}

// ---------------------------------------------------------------------------
// No message-queue budget at all.

const QUEUE_LIMIT_TEST: &str = "without_a_message_queue_budget_copy_and_paste_still_work";

#[test]
fn without_a_message_queue_budget_copy_and_paste_still_work() {
    if common::role().as_deref() == Some("no-mq") {
        setrlimit(Resource::RLIMIT_MSGQUEUE, 0, 0).unwrap();
        let board = common::child_open(None);
        board.copy(&Clip::text("copied without a mailbox")).unwrap();
        assert_eq!(
            board.paste().unwrap().text_str(),
            Some("copied without a mailbox")
        );
        let err = board.subscribe().expect_err("no budget for a mailbox");
        assert!(matches!(err, Error::QueueLimit { .. }), "{err:?}");
        // The warning says what is lost, and that copy and paste are not.
        assert!(
            err.to_string().starts_with("cannot create mailbox "),
            "{err}"
        );
        let hint = err.hint().unwrap();
        assert!(
            hint.contains("ulimit -q")
                && hint.contains("copy and paste still work without live updates"),
            "{hint}"
        );
        // Copy and paste still work after the failed subscribe.
        board.copy(&Clip::text("copied without a mailbox")).unwrap();
        report("ERROR", &err);
        report("HINT", err.hint().unwrap());
        return;
    }
    let tb = TestBoard::new("sec-nomq");
    let board = tb.open(OPTS);
    let done = tb
        .spawn(QUEUE_LIMIT_TEST, "no-mq", &[])
        .finish_ok(CHILD_TIMEOUT);
    assert!(done.report("HINT").contains("RLIMIT_MSGQUEUE"));
    assert_eq!(
        board.paste().unwrap().text_str(),
        Some("copied without a mailbox")
    );

    // The CLI: copy and paste work, watch stops at once with the rlimit named.
    let limited = |args: &[&str], input: &[u8]| {
        let mut cmd = Command::new("prlimit");
        cmd.args(["--msgqueue=0", "--"])
            .arg(bin())
            .env_remove("SHM_CLIP_BOARD")
            .env("RUST_LOG", "warn")
            .args(["--board", tb.name.as_str()])
            .args(args);
        run(&mut cmd, input)
    };
    let out = limited(&["copy"], b"piped without a mailbox");
    assert_ok(&out, "copy under RLIMIT_MSGQUEUE=0");
    let out = limited(&["paste"], b"");
    assert_ok(&out, "paste under RLIMIT_MSGQUEUE=0");
    assert_eq!(out.stdout, b"piped without a mailbox");
    let t = Instant::now();
    let out = limited(&["watch"], b"");
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "watch took {:?}",
        t.elapsed()
    );
    assert_cli_refuses(
        &out,
        "watch under RLIMIT_MSGQUEUE=0",
        &["mailbox", "RLIMIT_MSGQUEUE", "ulimit -q"],
    );
    assert!(board.status().unwrap().subscribers.is_empty());
}

#[test]
fn without_a_message_queue_budget_the_window_warns_and_still_works() {
    let tb = TestBoard::new("sec-nomq-win");
    let name = tb.name.as_str();
    let x = tray_support::Xvfb::start();
    let log = tb.file("window.log");
    let mut cmd = Command::new("prlimit");
    cmd.args(["--msgqueue=0", "--"]).arg(app_bin());
    let window = spawn_logged(cmd, &tb, &x.display, Some("warn,winit=error"), &log);
    wait_for_log("the window's warning", &log, "live updates off");
    // prlimit execs the app: the window belongs to the pid we started.
    wait_for_window(&x.display, window.id());
    let warning = std::fs::read_to_string(&log).unwrap();
    assert!(
        warning.contains("WARN") && warning.contains("cannot create mailbox"),
        "{warning}"
    );
    // The window opened (and created) the board without a mailbox; copy and
    // paste around it still work, and it keeps running.
    let board = Board::open_with(&tb.name, origin(), None).unwrap();
    assert!(board.status().unwrap().subscribers.is_empty());
    assert_ok(
        &run(
            &mut cli(name, &["copy", "beside a window without a mailbox"]),
            b"",
        ),
        "copy",
    );
    let out = run(&mut cli(name, &["paste"]), b"");
    assert_eq!(out.stdout, b"beside a window without a mailbox");
    // Still running: it handles SIGTERM and exits cleanly.
    let text = terminate_and_read(window, &log, "the window without a mailbox");
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn without_a_message_queue_budget_the_tray_still_brings_desktop_clips_in() {
    let tb = TestBoard::new("sec-nomq-tray");
    let x = tray_support::Xvfb::start();
    let log = tb.file("tray.log");
    let mut cmd = Command::new("prlimit");
    cmd.args(["--msgqueue=0", "--"])
        .arg(app_bin())
        .args(["--tray", "--no-icon"]);
    let tray = spawn_logged(cmd, &tb, &x.display, Some("warn,shm_clip_app=info"), &log);
    wait_for_log("the tray to start", &log, "tray running");
    let warning = std::fs::read_to_string(&log).unwrap();
    assert!(
        warning.contains("WARN")
            && warning.contains("no mailbox")
            && warning.contains("cannot create mailbox"),
        "{warning}"
    );
    // It runs without a subscriber slot, and desktop -> board still works.
    let board = Board::open_with(&tb.name, origin(), None).unwrap();
    assert!(board.status().unwrap().subscribers.is_empty());
    let marker = format!("desktop clip {}", std::process::id());
    desktop_copy_reaches_board(&tb, &x.display, &marker);
    let text = terminate_and_read(tray, &log, "the tray without a mailbox");
    assert!(!text.contains("panicked"), "{text}");
}

// ---------------------------------------------------------------------------
// A subscriber table full of dead processes.

const TABLE_TEST: &str = "a_subscriber_table_full_of_dead_pids_is_reaped";
const CHILDREN: usize = 4;
const SLOTS: usize = 128;

#[test]
fn a_subscriber_table_full_of_dead_pids_is_reaped() {
    if common::role().as_deref() == Some("hoarder") {
        // Takes its share of the slots and dies without cleaning up: by
        // exit() (no destructors run) or, for some, by the parent's SIGKILL.
        let board = common::child_open(None);
        let subs: Vec<_> = (0..SLOTS / CHILDREN)
            .map(|_| board.subscribe().unwrap())
            .collect();
        for sub in &subs {
            report("MAILBOX", sub.mailbox_name());
        }
        report("FULL", subs.len());
        common::child_barrier(&std::process::id().to_string());
        // Leaves without dropping a single subscription.
        std::process::exit(0);
    }
    let tb = TestBoard::new("sec-table");
    let board = tb.open(OPTS);
    let mut hoarders: Vec<_> = (0..CHILDREN)
        .map(|_| tb.spawn(TABLE_TEST, "hoarder", &[]))
        .collect();
    for h in &mut hoarders {
        h.expect_report("FULL", CHILD_TIMEOUT);
    }
    // All alive: the table is full, and a new subscriber gets a clear error.
    assert_eq!(board.status().unwrap().subscribers.len(), SLOTS);
    let err = board
        .subscribe()
        .expect_err("the table is full of live processes");
    assert!(
        matches!(err, Error::SubscriberTableFull { slots } if slots == SLOTS),
        "{err:?}"
    );
    assert!(err.hint().is_some());
    board
        .copy(&Clip::text("copy works with a full table"))
        .unwrap();

    // Half die by exit(), half by SIGKILL; none cleans up.
    for h in hoarders.iter_mut().step_by(2) {
        h.kill();
    }
    tb.release(CHILDREN / 2, CHILD_TIMEOUT);
    let names: Vec<String> = hoarders
        .into_iter()
        .flat_map(|h| h.finish(CHILD_TIMEOUT).reports("MAILBOX"))
        .collect();
    assert_eq!(names.len(), SLOTS);
    assert!(
        names.iter().all(|n| common::mq_exists(n)),
        "no one has reaped yet"
    );

    // A new subscriber reaps them, fits, and their queues are gone.
    let sub = board.subscribe().unwrap();
    let status = board.status().unwrap();
    assert_eq!(status.subscribers.len(), 1);
    assert_eq!(status.subscribers[0].mailbox, sub.mailbox_name());
    let left: Vec<_> = names.iter().filter(|n| common::mq_exists(n)).collect();
    assert!(left.is_empty(), "queues of dead subscribers left: {left:?}");
    drop(sub);
    assert!(board.status().unwrap().subscribers.is_empty());
}

// ---------------------------------------------------------------------------
// Clip contents never reach the logs.

#[test]
fn clip_contents_never_reach_logs_even_at_trace() {
    let tb = TestBoard::new("sec-logs");
    let name = tb.name.to_string();
    let marker = format!("SECRET-MARKER-{}-b9f3", std::process::id());
    let traced = |args: &[&str]| traced_cli(&name, args);
    // (command, stdin, whether its stdout may carry clip content by design)
    let html = format!("<b>{marker}</b>");
    let big = marker.repeat(70_000 / marker.len() + 1);
    let runs: Vec<(Vec<&str>, Vec<u8>, bool)> = vec![
        (vec!["--capacity", "64K", "copy", &marker], vec![], false),
        (vec!["copy", "-v"], marker.clone().into_bytes(), false),
        (
            vec!["copy", "-t", "text/html"],
            html.clone().into_bytes(),
            false,
        ),
        (vec!["copy"], big.clone().into_bytes(), false), // ClipTooLarge
        (vec!["paste"], vec![], true),
        (vec!["paste", "-t", "text/html"], vec![], true),
        (vec!["paste", "-t", "image/png"], vec![], false), // NoSuchType
        (vec!["paste", "--list-types"], vec![], false),
        (vec!["paste", "--entry", "1"], vec![], true),
        (vec!["history"], vec![], true), // a preview by design
        (vec!["history", "--json"], vec![], true),
        (vec!["status"], vec![], false),
        (vec!["status", "--json"], vec![], false),
        (vec!["select", "1"], vec![], false),
        (vec!["pin", "0"], vec![], false),
        (vec!["unpin", "0"], vec![], false),
        (vec!["rm", "1"], vec![], false),
    ];
    let mut logged = 0;
    for (args, input, content_on_stdout) in &runs {
        let out = run(&mut traced(args), input);
        let err = stderr(&out);
        logged += err.lines().count();
        assert!(
            !err.contains(&marker),
            "{args:?}: the clip is in the log:\n{err}"
        );
        if input.len() > 64 << 10 {
            assert_cli_refuses(&out, "a clip too large for the board", &["larger than"]);
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        if args[0] == "paste" && args.len() == 1 {
            // The scan would see the marker: here it must be.
            assert!(stdout.contains(&marker), "paste: {stdout}");
        }
        if !content_on_stdout {
            assert!(
                !stdout.contains(&marker),
                "{args:?}: the clip is on stdout:\n{stdout}"
            );
        }
    }
    assert!(logged > runs.len(), "trace logging produced almost nothing");
}

/// The window and tray binary (`shm_clip_test_kit::workspace_bin`).
fn app_bin() -> PathBuf {
    tray_support::bin("shm-clip-app")
}

/// Starts `cmd` (the app, or a wrapper around it) in `desktop_env`, with
/// `RUST_LOG` set to `rust_log` instead of trace if given, and its stderr in
/// `log`.
fn spawn_logged(
    mut cmd: Command,
    tb: &TestBoard,
    display: &str,
    rust_log: Option<&str>,
    log: &Path,
) -> std::process::Child {
    desktop_env(&mut cmd, tb, display);
    if let Some(filter) = rust_log {
        cmd.env("RUST_LOG", filter);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

/// Waits until `log` contains `needle`.
fn wait_for_log(what: &str, log: &Path, needle: &str) {
    wait_until(what, || {
        std::fs::read_to_string(log).is_ok_and(|l| l.contains(needle))
    });
}

/// `cmd` on board `tb`, on X display `display`, at `RUST_LOG=trace`, with
/// private config, data and runtime directories and no session bus.
fn desktop_env(cmd: &mut Command, tb: &TestBoard, display: &str) {
    for sub in ["config", "data", "runtime"] {
        std::fs::create_dir_all(tb.file(sub)).unwrap();
    }
    std::fs::set_permissions(
        tb.file("runtime"),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    cmd.env("DISPLAY", display)
        .env("SHM_CLIP_BOARD", tb.name.as_str())
        .env("SHM_CLIP_CONFIG", tb.file("config/config.toml"))
        .env("XDG_CONFIG_HOME", tb.file("config"))
        .env("XDG_DATA_HOME", tb.file("data"))
        .env("XDG_RUNTIME_DIR", tb.file("runtime"))
        .env("RUST_LOG", "trace")
        .env("NO_AT_BRIDGE", "1")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("DBUS_SESSION_BUS_ADDRESS");
}

/// Waits until process `pid` has a visible window on `display`.
fn wait_for_window(display: &str, pid: u32) {
    wait_until("the window to be mapped", || {
        let mut cmd = Command::new("xdotool");
        cmd.args(["search", "--onlyvisible", "--pid", &pid.to_string()])
            .env("DISPLAY", display);
        !run(&mut cmd, b"").stdout.trim_ascii().is_empty()
    });
}

/// Polls `check` every 20 ms; fails after [`CHILD_TIMEOUT`].
fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + CHILD_TIMEOUT;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Stops `child` with SIGTERM and returns its stderr log (a file).
fn terminate_and_read(mut child: std::process::Child, log: &Path, what: &str) -> String {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} ignored SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = std::fs::read_to_string(log).unwrap();
    assert!(status.success(), "{what} exited with {status}:\n{text}");
    text
}

/// Fails if `log` holds any of `markers`, and unless trace logging was on.
fn assert_log_is_clean(what: &str, log: &str, markers: &[&str]) {
    for marker in markers {
        if let Some(at) = log.find(marker) {
            let line = log[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = log[at..].find('\n').map_or(log.len(), |i| at + i);
            panic!(
                "{what}: clip content in the log at RUST_LOG=trace: {}",
                &log[line..end]
            );
        }
    }
    assert!(
        log.contains("TRACE") || log.contains("DEBUG"),
        "{what}: RUST_LOG=trace logged no trace or debug line:\n{log}"
    );
}

/// Has xclip own CLIPBOARD with `text` and waits until the running tray has
/// copied it into the board.
fn desktop_copy_reaches_board(tb: &TestBoard, display: &str, text: &str) {
    let mut xclip = Command::new("xclip");
    xclip.args(["-selection", "clipboard", "-quiet", "-i"]);
    desktop_env(&mut xclip, tb, display);
    let mut owner = xclip
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("xclip (install the xclip package)");
    owner
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    wait_until("the desktop clip in the board", || {
        run(&mut cli(tb.name.as_str(), &["paste"]), b"").stdout == text.as_bytes()
    });
    let _ = owner.kill();
    let _ = owner.wait();
}

#[test]
fn the_tray_never_logs_clip_contents_even_at_trace() {
    let tb = TestBoard::new("sec-traylog");
    let name = tb.name.as_str();
    let x = tray_support::Xvfb::start();
    let from_desktop = format!("SECRET-DESKTOP-{}-4e1a", std::process::id());
    let from_board = format!("SECRET-BOARD-{}-0b7c", std::process::id());

    let log = tb.file("tray.log");
    let mut cmd = Command::new(app_bin());
    cmd.args(["--tray", "--no-icon"]);
    let tray = spawn_logged(cmd, &tb, &x.display, None, &log);
    wait_for_log("the tray to start", &log, "tray running");

    // Desktop -> board: xclip owns CLIPBOARD, the tray copies it in.
    desktop_copy_reaches_board(&tb, &x.display, &from_desktop);

    // Board -> desktop: the tray takes CLIPBOARD and serves the clip.
    assert_ok(&run(&mut cli(name, &["copy", &from_board]), b""), "copy");
    wait_until("the board's clip on the desktop", || {
        let mut out = Command::new("xclip");
        out.args(["-selection", "clipboard", "-o"]);
        desktop_env(&mut out, &tb, &x.display);
        run(&mut out, b"").stdout == from_board.as_bytes()
    });

    let text = terminate_and_read(tray, &log, "the tray");
    assert_log_is_clean("the tray", &text, &[&from_desktop, &from_board]);
}

#[test]
fn the_window_never_logs_clip_contents_even_at_trace() {
    let tb = TestBoard::new("sec-winlog");
    let name = tb.name.as_str();
    let x = tray_support::Xvfb::start();
    let marker = format!("SECRET-WINDOW-{}-58d3", std::process::id());

    let log = tb.file("window.log");
    let window = spawn_logged(Command::new(app_bin()), &tb, &x.display, None, &log);
    let pid = window.id();
    // The window's mailbox: how many notifications it has not read yet.
    let pending = || {
        Board::open_with(&tb.name, origin(), None)
            .and_then(|b| b.status())
            .ok()
            .and_then(|s| {
                s.subscribers
                    .into_iter()
                    .find(|sub| sub.origin.pid == pid)
                    .and_then(|sub| sub.pending)
            })
    };
    wait_until("the window to subscribe", || pending().is_some());
    // Live updates: the window reads each clip to show it in its history.
    let html = format!("<b>{marker}</b>");
    assert_ok(&run(&mut cli(name, &["copy", &marker]), b""), "copy");
    assert_ok(
        &run(
            &mut cli(name, &["copy", "-t", "text/html"]),
            html.as_bytes(),
        ),
        "copy html",
    );
    let last = Board::open_with(&tb.name, origin(), None).unwrap().seq();
    // It has read both notifications, re-read the board and shown the last
    // change: the UI logs each notification it applies.
    wait_until("the window to read its mailbox", || pending() == Some(0));
    wait_for_log(
        "the window to apply the last change",
        &log,
        &format!("applied seq={last} "),
    );

    let text = terminate_and_read(window, &log, "the window");
    assert_log_is_clean("the window", &text, &[&marker]);
}

/// `shm-clip` at `RUST_LOG=trace` on board `name`.
fn traced_cli(name: &str, args: &[&str]) -> Command {
    let mut cmd = cli(name, args);
    cmd.env("RUST_LOG", "trace");
    cmd
}

#[test]
fn watch_never_logs_clip_contents_even_at_trace() {
    let tb = TestBoard::new("sec-watchlog");
    let name = tb.name.to_string();
    let marker = format!("SECRET-MARKER-{}-7c1e", std::process::id());
    let traced = |args: &[&str]| traced_cli(&name, args);
    // watch (text, JSON and --exec) while another process copies, then SIGTERM.
    // The --exec command leaves a file behind: the sign that it ran.
    let ran = tb.file("exec-ran");
    let exec = format!("cat >/dev/null && : >'{}'", ran.display());
    for variant in ["text", "json", "exec"] {
        let args = match variant {
            "text" => vec!["watch"],
            "json" => vec!["watch", "--json"],
            _ => vec!["watch", "--exec", &exec],
        };
        let mut watch = traced(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Its stdout, line by line as it comes, and all of its stderr.
        let (line_tx, lines) = std::sync::mpsc::channel();
        let out = watch.stdout.take().unwrap();
        let stdout = common::spawn_named("watch-stdout", move || {
            let mut all = String::new();
            for line in std::io::BufRead::lines(std::io::BufReader::new(out)) {
                let Ok(line) = line else { break };
                all.push_str(&line);
                all.push('\n');
                let _ = line_tx.send(());
            }
            all
        });
        let mut err = watch.stderr.take().unwrap();
        let err = common::spawn_named("watch-stderr", move || {
            let mut all = String::new();
            let _ = std::io::Read::read_to_string(&mut err, &mut all);
            all
        });
        let deadline = Instant::now() + CHILD_TIMEOUT;
        while board_subscribers(&tb) == 0 {
            assert!(Instant::now() < deadline, "watch never subscribed");
            std::thread::sleep(Duration::from_millis(5));
        }
        let copy = format!("{marker} watched {variant}");
        assert_ok(
            &run(&mut traced(&["copy", &copy]), b""),
            "copy while watching",
        );
        // Watch has handled the change: printed its line, or run the command.
        if variant == "exec" {
            wait_until("watch --exec to run its command", || ran.exists());
        } else {
            lines
                .recv_timeout(CHILD_TIMEOUT)
                .unwrap_or_else(|_| panic!("{variant}: watch printed no line for the copy"));
        }
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(watch.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        common::wait_or_kill(&mut watch, CHILD_TIMEOUT, |c| {
            let _ = c.kill();
        })
        .expect("watch stops on SIGTERM");
        let (stdout, err) = (stdout.join().unwrap(), err.join().unwrap());
        assert_eq!(
            stdout.trim().is_empty(),
            variant == "exec",
            "{variant}: {stdout}"
        );
        assert!(
            !err.contains(&marker),
            "watch: the clip is in the log:\n{err}"
        );
        assert!(
            !stdout.contains(&marker),
            "watch: the clip is on stdout:\n{stdout}"
        );
    }
}

fn board_subscribers(tb: &TestBoard) -> usize {
    Board::open_with(&tb.name, origin(), None)
        .and_then(|b| b.status())
        .map_or(0, |s| s.subscribers.len())
}

// ---------------------------------------------------------------------------
// Pipes that close under the CLI (cli.rs covers `watch` with a closed stdout
// and a 1 GiB stdin into a small board).

#[test]
fn paste_into_a_closed_pipe_and_copy_from_a_dying_writer() {
    let tb = TestBoard::new("sec-pipes");
    let name = tb.name.as_str();
    let big: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    assert_ok(&run(&mut cli(name, &["copy"]), &big), "copy 1 MiB");

    // The reader is gone before paste writes a byte, or leaves after 10 bytes:
    // like cat, paste stops quietly with status 0.
    for keep in [0usize, 10] {
        let mut paste = cli(name, &["paste"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = paste.stdout.take().unwrap();
        let mut head = vec![0u8; keep];
        std::io::Read::read_exact(&mut out, &mut head).unwrap();
        drop(out);
        let (tx, rx) = std::sync::mpsc::channel();
        common::spawn_named("paste", move || {
            let _ = tx.send(paste.wait_with_output());
        });
        let done = rx
            .recv_timeout(CHILD_TIMEOUT)
            .expect("paste stops when its reader leaves")
            .unwrap();
        assert!(
            done.status.success(),
            "reader kept {keep}: {}",
            stderr(&done)
        );
        assert!(
            done.stderr.is_empty(),
            "reader kept {keep}: {}",
            stderr(&done)
        );
        assert_eq!(head, big[..keep]);
    }

    // The writer feeding copy dies half-way: copy takes what arrived, at EOF.
    let mut copy = cli(name, &["copy"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = copy.stdin.take().unwrap();
    stdin.write_all(&big[..100_000]).unwrap();
    drop(stdin); // what a killed writer's pipe end looks like to copy
    let (tx, rx) = std::sync::mpsc::channel();
    common::spawn_named("copy", move || {
        let _ = tx.send(copy.wait_with_output());
    });
    let done = rx
        .recv_timeout(CHILD_TIMEOUT)
        .expect("copy ends at EOF")
        .unwrap();
    assert_ok(&done, "copy from a writer that died");
    let pasted = run(&mut cli(name, &["paste"]), b"");
    assert_eq!(pasted.stdout, big[..100_000]);

    // stdin closed altogether: the Rust runtime reopens fd 0 as /dev/null,
    // so this copies an empty clip, as `copy </dev/null` does (cli.rs).
    let mut cmd = Command::new("sh");
    cmd.args(["-c", r#"exec "$0" --board "$1" copy <&-"#])
        .arg(bin())
        .arg(name)
        .env("RUST_LOG", "warn");
    assert_ok(&run(&mut cmd, b""), "copy with stdin closed");
    let pasted = run(&mut cli(name, &["paste"]), b"");
    assert_ok(&pasted, "paste the empty clip");
    assert!(pasted.stdout.is_empty());
}

// ---------------------------------------------------------------------------
// The fuzz target's committed seeds, and its regressions.

fn seed(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds/validate")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_fuzz_seeds_are_current_boards_and_records() {
    // The board seed carries the x86_64/gnu ABI tag: there it must be a
    // current board (a stale seed would waste the fuzzer's time on the
    // version check); on any other target it must be refused for its ABI.
    let board = shm_clip::fuzzing::validate_image(&seed("board-v4"));
    if cfg!(all(target_arch = "x86_64", target_env = "gnu")) {
        board.unwrap_or_else(|e| {
            panic!(
                "fuzz/seeds/validate/board-v4 is stale ({e}); regenerate it as fuzz/README.md says"
            )
        });
    } else {
        assert!(
            matches!(board, Err(Error::AbiMismatch { .. })),
            "the x86_64/gnu board seed on another target: {board:?}"
        );
    }
    // The records carry no ABI tag (little-endian, as the seeds were made).
    for record in ["record-text", "record-html"] {
        let clip = shm_clip::fuzzing::decode_record(&seed(record))
            .unwrap_or_else(|e| panic!("fuzz/seeds/validate/{record}: {e}"));
        assert!(clip.reps[0].data.ends_with(b"hello") || clip.reps[0].data.ends_with(b"</b>"));
    }
    // Every single-byte corruption of a record is refused or harmless.
    // Every single-byte corruption of a record is refused, or (in a
    // reserved field) decodes to the very same clip.
    for record in ["record-text", "record-html"] {
        let bytes = seed(record);
        let clip = shm_clip::fuzzing::decode_record(&bytes).unwrap();
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x5a;
            if let Ok(other) = shm_clip::fuzzing::decode_record(&bad) {
                assert_eq!(
                    other, clip,
                    "{record}: byte {i} flipped and decoded differently"
                );
            }
        }
    }
}
