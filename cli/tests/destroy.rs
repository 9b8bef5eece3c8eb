//! `destroy` means destroyed: live handles are told, their mapping holds no
//! clip any more, `watch` exits, and the saved history goes with the board.
//! Also a plain `rm` of the segment file, which nobody announces.

use shm_clip_test_kit as common;

use std::os::fd::AsFd;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::TestBoard;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use shm_clip::{Board, Clip, CreateOptions, Error, Subscription};

const OPTS: CreateOptions = CreateOptions {
    capacity: 1 << 20,
    depth: 16,
};

/// Waits (at most 10 s) until `sub`'s descriptor is readable, then receives.
fn next(sub: &mut Subscription) -> shm_clip::Result<Option<shm_clip::Notification>> {
    let mut fds = [PollFd::new(sub.as_fd(), PollFlags::POLLIN)];
    let n = poll(&mut fds, PollTimeout::from(10_000u16)).expect("poll");
    assert_eq!(n, 1, "the subscription's descriptor never became readable");
    sub.try_recv()
}

/// Receives until the board is reported destroyed; anything else than
/// notifications before that fails.
fn expect_destroyed(sub: &mut Subscription, board: &str) {
    for _ in 0..16 {
        match next(sub) {
            Ok(_) => {}
            Err(Error::BoardDestroyed { name }) => {
                assert_eq!(name, board);
                // It stays destroyed.
                assert!(matches!(sub.try_recv(), Err(Error::BoardDestroyed { .. })));
                return;
            }
            Err(err) => panic!("expected BoardDestroyed, got {err}"),
        }
    }
    panic!("16 wake-ups and still not destroyed");
}

#[test]
fn destroy_wipes_the_clips_and_tells_every_subscriber() {
    let tb = TestBoard::new("destroy-tells");
    let board = tb.open(OPTS);
    let mut sub = board.subscribe().unwrap();
    board.copy(&Clip::text("secret-before-destroy")).unwrap();
    board.copy(&Clip::text("second")).unwrap();
    board
        .set_pinned(shm_clip::Selector::Index(1), true)
        .unwrap();
    assert!(!board.is_destroyed());

    let report = Board::destroy(&tb.name, false).unwrap();
    assert_eq!(report.entries, 2, "both entries wiped, the pinned one too");
    assert_eq!(report.notified, 1);
    assert!(board.is_destroyed());
    expect_destroyed(&mut sub, tb.name.as_str());
    // The old handle still maps the segment, but no clip is left in it.
    assert!(board.history().unwrap().is_empty());
    assert!(matches!(board.paste(), Err(Error::Empty)));

    // The name now opens a fresh, empty board, which is not destroyed.
    let fresh = tb.open(OPTS);
    assert!(!fresh.is_destroyed());
    assert!(matches!(fresh.paste(), Err(Error::Empty)));
}

#[test]
fn removing_the_segment_file_is_noticed_without_any_note() {
    let tb = TestBoard::new("destroy-rm");
    let board = tb.open(OPTS);
    let mut sub = board.subscribe().unwrap();
    board.copy(&Clip::text("x")).unwrap();
    std::fs::remove_file(tb.path()).unwrap();
    assert!(board.is_destroyed());
    // Nobody sends a note: the removal watch alone wakes the subscription.
    expect_destroyed(&mut sub, tb.name.as_str());
}

/// Runs `recv()` in a thread of its own until it fails, and returns the
/// thread's id, once that thread is asleep (state `S` in /proc), with the
/// results it will send.
fn blocked_receiver(
    mut sub: Subscription,
) -> std::sync::mpsc::Receiver<shm_clip::Result<shm_clip::Notification>> {
    let (tx, rx) = std::sync::mpsc::channel();
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("blocked-in-recv".into())
        .spawn(move || {
            tid_tx.send(nix::unistd::gettid().as_raw()).unwrap();
            loop {
                let got = sub.recv();
                let failed = got.is_err();
                if tx.send(got).is_err() || failed {
                    return;
                }
            }
        });
    spawned.unwrap();
    let tid = tid_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let stat = format!("/proc/self/task/{tid}/stat");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&stat).unwrap();
        // The state follows the parenthesised name.
        if text
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('S'))
        {
            return rx;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the receiver never blocked: {text}"
        );
        std::thread::yield_now();
    }
}

#[test]
fn a_reader_blocked_in_recv_is_woken_by_a_copy_and_then_by_destroy() {
    let tb = TestBoard::new("destroy-recv");
    let board = tb.open(OPTS);
    let rx = blocked_receiver(board.subscribe().unwrap());
    // Another process's copy: a process's own commits wake none of its
    // own mailboxes.
    let data = tb.file("data");
    let mut copy = cli(&tb, &data);
    copy.args(["copy", "wakes the reader"]);
    ok(copy);
    let note = rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
    assert_eq!(note.seq, board.seq());
    Board::destroy(&tb.name, false).unwrap();
    // destroy's own note says it: the very next result is the error, not a
    // notification of the note (the removal watch would say it only later).
    match rx.recv_timeout(Duration::from_secs(10)).unwrap() {
        Err(Error::BoardDestroyed { name }) => assert_eq!(name, tb.name.as_str()),
        other => panic!("expected BoardDestroyed, got {other:?}"),
    }
}

#[test]
fn a_reader_blocked_in_recv_notices_a_plain_rm_of_the_segment() {
    let tb = TestBoard::new("destroy-recv-rm");
    let board = tb.open(OPTS);
    board.copy(&Clip::text("x")).unwrap();
    let rx = blocked_receiver(board.subscribe().unwrap());
    std::fs::remove_file(tb.path()).unwrap();
    // No note at all: the removal watch, read once a second by recv.
    match rx.recv_timeout(Duration::from_secs(10)).unwrap() {
        Err(Error::BoardDestroyed { name }) => assert_eq!(name, tb.name.as_str()),
        other => panic!("expected BoardDestroyed, got {other:?}"),
    }
}

fn cli(tb: &TestBoard, data: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shm-clip"));
    cmd.env_remove("SHM_CLIP_BOARD")
        .env("RUST_LOG", "warn")
        .env("XDG_DATA_HOME", data)
        .env("SHM_CLIP_CONFIG", data.join("no-config.toml"))
        .args(["--board", tb.name.as_str()]);
    cmd
}

fn ok(mut cmd: Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn cli_destroy_deletes_the_saved_history_and_says_what_it_did() {
    let tb = TestBoard::new("destroy-cli");
    let data = tb.file("data");
    let saved = data.join(format!("shm-clip/history-{}.bin", tb.name));
    std::fs::create_dir_all(saved.parent().unwrap()).unwrap();

    // --keep-history keeps the file.
    std::fs::write(&saved, b"saved by a tray").unwrap();
    let mut copy = cli(&tb, &data);
    copy.args(["copy", "one"]);
    ok(copy);
    let mut keep = cli(&tb, &data);
    keep.args(["destroy", "--keep-history"]);
    assert_eq!(
        ok(keep),
        format!(
            "destroyed board {}: wiped 1 entry, told 0 running programs\n",
            tb.name
        )
    );
    assert!(saved.exists());

    // Without it the file goes, and the message says so.
    let mut copy = cli(&tb, &data);
    copy.args(["copy", "two"]);
    ok(copy);
    let mut destroy = cli(&tb, &data);
    destroy.arg("destroy");
    assert_eq!(
        ok(destroy),
        format!(
            "destroyed board {}: wiped 1 entry, told 0 running programs; deleted its saved history {}\n",
            tb.name,
            saved.display()
        )
    );
    assert!(!saved.exists());
}

#[test]
fn watch_exits_with_a_clear_message_when_the_board_is_destroyed() {
    let tb = TestBoard::new("destroy-watch");
    let data = tb.file("data");
    let board = tb.open(OPTS);
    board.copy(&Clip::text("before")).unwrap();
    let mut watch = cli(&tb, &data);
    let child = watch
        .args(["watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Destroy only once `watch` is subscribed: its mailbox is in the table.
    let pid = child.id();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !board
        .status()
        .unwrap()
        .subscribers
        .iter()
        .any(|s| s.origin.pid == pid)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "watch never subscribed"
        );
        std::thread::yield_now();
    }
    Board::destroy(&tb.name, false).unwrap();
    let out = common::within("watch to exit", Duration::from_secs(10), move || {
        child.wait_with_output().unwrap()
    });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.starts_with(&format!("shm-clip: board \"{}\" was destroyed", tb.name)),
        "stderr: {stderr}"
    );
}
