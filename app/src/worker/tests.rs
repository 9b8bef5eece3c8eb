//! The worker against real boards, with a second process as the other writer.

use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use shm_clip::{Board, Origin, OriginKind, Selector, TEXT_MIME};

use super::*;
use crate::testing::{TestBoard, copy_from_another_process};

/// The next event matching `want`, failing after a watchdog timeout.
fn expect<T>(events: &Receiver<Event>, mut want: impl FnMut(Event) -> Option<T>) -> T {
    loop {
        let event = events
            .recv_timeout(Duration::from_secs(10))
            .expect("no matching event from the worker within 10 s");
        if let Some(found) = want(event) {
            return found;
        }
    }
}

fn snapshot_at(events: &Receiver<Event>, seq: u64) -> Snapshot {
    expect(events, |e| match e {
        Event::Snapshot(s) if s.seq() >= seq => Some(*s),
        _ => None,
    })
}

fn start(board: &TestBoard) -> (Worker, Receiver<Event>) {
    let (tx, events) = mpsc::channel();
    let worker = Worker::spawn(board.0.clone(), tx, || {}).unwrap();
    let mailbox = expect(&events, |e| match e {
        Event::Opened { mailbox } => Some(mailbox),
        Event::OpenFailed(p) => panic!("open failed: {p:?}"),
        _ => None,
    });
    assert_eq!(mailbox, None, "the worker should have a mailbox");
    (worker, events)
}

#[test]
fn copies_pastes_and_sees_other_writers() {
    let board = TestBoard::new("worker");
    let (worker, events) = start(&board);

    worker.send(Command::Copy {
        text: "from the window".into(),
        cut: None,
    });
    let seq = expect(&events, |e| match e {
        Event::Copied { seq, .. } => Some(seq),
        Event::Failed { problem, .. } => panic!("copy failed: {problem:?}"),
        _ => None,
    });
    let snap = snapshot_at(&events, seq);
    assert_eq!(snap.entries[0].preview, "from the window");
    assert_eq!(
        snap.entries[0].origin.label,
        format!("window {}", std::process::id())
    );
    assert_eq!(snap.status.subscribers.len(), 1);
    assert_eq!(
        snap.current_text.as_ref().map(|c| &*c.text),
        Some("from the window"),
        "the current text is read ahead"
    );

    // Another process writes: the mailbox alone must bring the change.
    // (Writers skip their own process's mailboxes, so it must be another.)
    copy_from_another_process(&board.0, TEXT_MIME, b"from elsewhere");
    let snap = snapshot_at(&events, seq + 1);
    assert_eq!(snap.entries[0].preview, "from elsewhere");
    assert_eq!(snap.entries[0].origin.kind, OriginKind::Cli);
    assert_eq!(snap.entries[1].preview, "from the window");
    let note = snap
        .received
        .last()
        .expect("the snapshot names its notification");
    assert_eq!(note.seq, seq + 1);
    assert_eq!(note.origin_kind, OriginKind::Cli);
    assert!(note.receipt_latency().is_some());

    worker.send(Command::Paste(Which::Current));
    let text = expect(&events, |e| match e {
        Event::Pasted(Pasted::Text(text)) => Some(text),
        Event::Failed { problem, .. } => panic!("paste failed: {problem:?}"),
        _ => None,
    });
    assert_eq!(text, "from elsewhere");

    // Dropping the handle stops the thread and unregisters the mailbox.
    drop(worker);
    let other = Board::open_with(&board.0, Origin::this_process(OriginKind::Cli), None).unwrap();
    assert!(other.status().unwrap().subscribers.is_empty());
}

#[test]
fn history_operations_and_images() {
    let board = TestBoard::new("ops");
    let (worker, events) = start(&board);
    let other = board.open();
    other.copy(&shm_clip::Clip::text("one")).unwrap();
    let png = crate::worker::picture::tests::png(120, 60);
    other.copy(&shm_clip::Clip::new("image/png", png)).unwrap();
    worker.send(Command::Refresh);
    // The thumbnail follows the first snapshot that lists the image, and
    // that one may carry seq 1: its status was read before the image's
    // commit, its history after. Take both, in whichever order they come.
    let (mut snap, mut thumb) = (None, None);
    while snap.is_none() || thumb.is_none() {
        match events.recv_timeout(Duration::from_secs(10)) {
            Ok(Event::Snapshot(s)) if s.seq() >= 2 => snap = Some(*s),
            Ok(Event::Thumbnail(p)) => thumb = Some(p),
            Ok(_) => {}
            Err(err) => panic!("no snapshot at seq 2 and thumbnail within 10 s: {err}"),
        }
    }
    let (snap, thumb) = (snap.unwrap(), thumb.unwrap());
    let image_seq = snap.entries[0].seq;
    assert_eq!((thumb.seq, thumb.width, thumb.height), (image_seq, 120, 60));
    assert_eq!(thumb.pixels_size, [96, 48]);

    worker.send(Command::Paste(Which::Seq(image_seq)));
    let picture = expect(&events, |e| match e {
        Event::Pasted(Pasted::Image(p)) => Some(p),
        Event::Failed { problem, .. } => panic!("paste failed: {problem:?}"),
        _ => None,
    });
    assert_eq!(picture.pixels_size, [120, 60]);

    let text_seq = snap.entries[1].seq;
    worker.send(Command::SetPinned(text_seq, true));
    worker.send(Command::Select(text_seq));
    worker.send(Command::Clear);
    let snap = snapshot_at(&events, 5);
    assert_eq!(snap.entries.len(), 1, "clear keeps only the pinned entry");
    assert!(snap.entries[0].pinned);
    worker.send(Command::Delete(text_seq));
    let snap = snapshot_at(&events, 6);
    assert!(snap.entries.is_empty());
    assert!(other.get(Selector::Current).is_err());
}

#[test]
fn paste_of_an_empty_board_is_an_error_with_a_hint() {
    let board = TestBoard::new("empty");
    let (worker, events) = start(&board);
    worker.send(Command::Paste(Which::Current));
    let problem = expect(&events, |e| match e {
        Event::Failed { problem, .. } => Some(problem),
        Event::Pasted(_) => panic!("an empty board has nothing to paste"),
        _ => None,
    });
    assert!(problem.message.contains("empty"), "{problem:?}");
    assert!(problem.hint.is_some());
}

#[test]
fn dropped_files_become_uri_lists_and_images() {
    let board = TestBoard::new("drop");
    let (worker, events) = start(&board);
    let dir = std::env::temp_dir().join(format!("shm-clip-drop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("notes file.txt");
    std::fs::write(&text, "hello").unwrap();
    let image = dir.join("shot.png");
    std::fs::write(&image, crate::worker::picture::tests::png(8, 8)).unwrap();
    let dropped = |path: &std::path::Path| path.to_owned();

    worker.send(Command::CopyFiles(vec![dropped(&text)]));
    snapshot_at(&events, 1);
    let clip = board.open().paste().unwrap();
    let uris = String::from_utf8(clip.get("text/uri-list").unwrap().data.clone()).unwrap();
    assert_eq!(
        uris,
        format!("file://{}/notes%20file.txt\r\n", dir.display())
    );

    worker.send(Command::CopyFiles(vec![dropped(&image)]));
    snapshot_at(&events, 2);
    let clip = board.open().paste().unwrap();
    assert_eq!(clip.types(), ["image/png", "text/uri-list"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_started_process_that_fails_is_reported() {
    // In a test, current_exe is this test binary: it rejects `--board`, so
    // this exercises the reaper's report of a failed child.
    let board = TestBoard::new("spawn");
    let (worker, events) = start(&board);
    worker.send(Command::Spawn(Spawn::Window));
    let started = expect(&events, |e| match e {
        Event::Info(message) if message.starts_with("Started a new window") => Some(message),
        Event::Failed { problem, .. } => panic!("spawn failed: {problem:?}"),
        _ => None,
    });
    let problem = expect(&events, |e| match e {
        Event::Failed { problem, .. } => Some(problem),
        _ => None,
    });
    assert!(
        problem.message.contains("exited"),
        "{started} / {problem:?}"
    );
    assert!(problem.hint.unwrap().contains("shm-clip-app --board"));
}
