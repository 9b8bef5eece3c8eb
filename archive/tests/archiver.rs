//! The archiver against a real board and a real archive file: catch-up,
//! pins, removals (which delete) against evictions (which keep), restarts
//! without duplicates, one archiver per board, and the run loop.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use shm_clip::{Board, Clip, CreateOptions, Selector};
use shm_clip_archive::{Archive, Archiver, Error, Policy, Synced, side_file};
use shm_clip_test_kit::TestBoard;

fn db_in(tb: &TestBoard) -> PathBuf {
    let dir = tb.file("data");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir.join("archive.sqlite3")
}

fn archiver(tb: &TestBoard, db: &Path, depth: u32) -> Archiver {
    let board = tb.open(CreateOptions {
        depth,
        ..CreateOptions::default()
    });
    Archiver::new(board, Archive::open(db).unwrap(), Policy::default())
}

fn texts(a: &Archive) -> Vec<String> {
    let mut t: Vec<String> = a
        .list(1000, 0)
        .unwrap()
        .into_iter()
        .map(|i| i.preview)
        .collect();
    t.sort();
    t
}

fn file_contains(path: &Path, needle: &str) -> bool {
    let needle = needle.to_ascii_lowercase().into_bytes();
    std::fs::read(path).is_ok_and(|b| {
        b.to_ascii_lowercase()
            .windows(needle.len())
            .any(|w| w == needle.as_slice())
    })
}

#[test]
fn catch_up_archives_what_the_board_holds_once() {
    let tb = TestBoard::new("arch-catchup");
    let db = db_in(&tb);
    let board = tb.open(CreateOptions::default());
    for t in ["one", "two", "three"] {
        board.copy(&Clip::text(t)).unwrap();
    }
    let mut a = archiver(&tb, &db, 200);
    let done = a.sync().unwrap();
    assert_eq!(done.archived, 3);
    assert_eq!(texts(a.archive()), ["one", "three", "two"]);
    // A restarted archiver finds everything archived already.
    drop(a);
    board.copy(&Clip::text("four")).unwrap();
    let mut a = archiver(&tb, &db, 200);
    let done = a.sync().unwrap();
    assert_eq!((done.archived, done.deleted), (1, 0));
    assert_eq!(a.archive().stats().unwrap().clips, 4);
    // Nothing changed: nothing written.
    assert_eq!(
        a.sync().unwrap(),
        Synced {
            seq: done.seq,
            ..Synced::default()
        }
    );
}

#[test]
fn pins_and_selections_follow_the_board() {
    let tb = TestBoard::new("arch-pin");
    let db = db_in(&tb);
    let mut a = archiver(&tb, &db, 200);
    let board = a.board();
    board.copy(&Clip::text("keep me")).unwrap();
    board.copy(&Clip::text("newer")).unwrap();
    a.sync().unwrap();
    a.board().set_pinned(Selector::Index(1), true).unwrap();
    assert_eq!(a.sync().unwrap().updated, 1);
    let hit = &a.archive().search("keep", 5).unwrap()[0];
    assert!(hit.info.pinned);
    let before = hit.info.last_used;
    a.board().select(Selector::Index(1)).unwrap();
    a.sync().unwrap();
    let hit = &a.archive().search("keep", 5).unwrap()[0];
    assert!(hit.info.last_used > before, "a select is a use");
    a.board().set_pinned(Selector::Current, false).unwrap();
    a.sync().unwrap();
    assert!(!a.archive().search("keep", 5).unwrap()[0].info.pinned);
}

#[test]
fn rm_and_clear_delete_from_the_archive_and_its_files() {
    let tb = TestBoard::new("arch-rm");
    let db = db_in(&tb);
    let mut a = archiver(&tb, &db, 200);
    for i in 0..20 {
        a.board().copy(&Clip::text(format!("filler {i}"))).unwrap();
    }
    a.board()
        .copy(&Clip::text("the Quokka4471 secret"))
        .unwrap();
    a.board().copy(&Clip::text("after")).unwrap();
    a.sync().unwrap();
    assert_eq!(a.archive().search("quokka4471", 5).unwrap().len(), 1);
    a.board().delete(Selector::Index(1)).unwrap();
    let done = a.sync().unwrap();
    assert_eq!(done.deleted, 1, "{done:?}");
    assert!(a.archive().search("quokka4471", 5).unwrap().is_empty());
    assert!(!file_contains(&db, "quokka4471"), "marker in the database");
    assert!(
        !file_contains(&side_file(&db, "-wal"), "quokka4471"),
        "marker in the WAL"
    );
    // clear: the unpinned entries go, from the board and the archive.
    a.board().set_pinned(Selector::Index(3), true).unwrap();
    a.sync().unwrap();
    a.board().clear(false).unwrap();
    let done = a.sync().unwrap();
    assert_eq!(done.deleted, 20, "{done:?}");
    assert_eq!(texts(a.archive()), ["filler 17"]);
    a.archive().integrity_check().unwrap();
}

#[test]
fn eviction_keeps_clips_and_clear_all_empties_the_archive() {
    let tb = TestBoard::new("arch-evict");
    let db = db_in(&tb);
    let mut a = archiver(&tb, &db, 3);
    for i in 0..8 {
        a.board().copy(&Clip::text(format!("clip {i}"))).unwrap();
        a.sync().unwrap();
    }
    assert_eq!(a.board().history().unwrap().len(), 3);
    assert_eq!(
        a.archive().stats().unwrap().clips,
        8,
        "evicted clips stay archived"
    );
    // Several copies between two looks evict too: still kept.
    for i in 8..14 {
        a.board().copy(&Clip::text(format!("clip {i}"))).unwrap();
    }
    let done = a.sync().unwrap();
    assert_eq!(
        (done.archived, done.deleted, done.kept),
        (3, 0, 3),
        "{done:?}"
    );
    assert_eq!(a.archive().stats().unwrap().clips, 11);
    // clear --all: pinned entries too, and everything archived.
    a.board().set_pinned(Selector::Current, true).unwrap();
    a.sync().unwrap();
    a.board().clear(true).unwrap();
    a.sync().unwrap();
    assert_eq!(a.archive().stats().unwrap().clips, 0);
}

#[test]
fn a_removal_mixed_with_copies_between_two_looks_is_kept() {
    // The limit of what notes alone can tell: a copy that may have evicted
    // and an rm between two looks; the archive keeps the entry rather than
    // risk deleting an evicted one.
    let tb = TestBoard::new("arch-mixed");
    let db = db_in(&tb);
    let mut a = archiver(&tb, &db, 200);
    a.board().copy(&Clip::text("first")).unwrap();
    a.board().copy(&Clip::text("second")).unwrap();
    a.sync().unwrap();
    a.board().delete(Selector::Index(1)).unwrap();
    a.board().copy(&Clip::text("third")).unwrap();
    let done = a.sync().unwrap();
    assert_eq!(
        (done.archived, done.deleted, done.kept),
        (1, 0, 1),
        "{done:?}"
    );
}

#[test]
fn the_policy_skips_images_and_large_clips() {
    let tb = TestBoard::new("arch-policy");
    let db = db_in(&tb);
    let board = tb.open(CreateOptions::default());
    board
        .copy(&Clip::new("image/png", vec![0x89, b'P', b'N', b'G', 1, 2]))
        .unwrap();
    board.copy(&Clip::text("x".repeat(5000))).unwrap();
    board.copy(&Clip::text("small")).unwrap();
    let policy = Policy {
        images: false,
        max_clip_size: 4096,
        ..Policy::default()
    };
    let mut a = Archiver::new(board, Archive::open(&db).unwrap(), policy);
    let done = a.sync().unwrap();
    assert_eq!((done.archived, done.skipped), (1, 2));
    assert_eq!(texts(a.archive()), ["small"]);
}

#[test]
fn a_second_archiver_of_a_board_names_the_first() {
    let tb = TestBoard::new("arch-lock");
    let _first = shm_clip_archive::acquire(&tb.name).unwrap();
    let err = shm_clip_archive::acquire(&tb.name).unwrap_err();
    let Error::Running { pid, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(*pid, std::process::id().to_string());
    assert!(err.to_string().contains("already running"), "{err}");
    let _ = std::fs::remove_file(shm_clip_archive::lock_path(&tb.name));
}

#[test]
fn the_run_loop_archives_after_each_wake_and_stops() {
    let tb = TestBoard::new("arch-run");
    let db = db_in(&tb);
    let mut a = archiver(&tb, &db, 200);
    let board: Board = tb.open(CreateOptions::default());
    let (control, wakeup) = shm_clip_archive::control().unwrap();
    let (tx, rx) = mpsc::channel();
    let runner = std::thread::Builder::new()
        .name("archiver".into())
        .spawn(move || {
            shm_clip_archive::run(&mut a, &wakeup, &mut |s| {
                let _ = tx.send(*s);
            })
        })
        .unwrap();
    let first = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(first.archived, 0);
    // This process's own copies are not announced to it: the control wakes it.
    board.copy(&Clip::text("woken")).unwrap();
    control.wake();
    let next = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(next.archived, 1);
    control.stop();
    let ended = runner.join().unwrap().unwrap();
    assert_eq!(ended, shm_clip_archive::Ended::Stopped);
    assert_eq!(texts(&Archive::open(&db).unwrap()), ["woken"]);
}

#[test]
fn clips_keep_their_board_id_and_a_new_board_of_the_name_is_a_new_board() {
    let tb = TestBoard::new("arch-ids");
    let db = db_in(&tb);
    let mut a = archiver(&tb, &db, 200);
    a.board().copy(&Clip::text("first board")).unwrap();
    a.sync().unwrap();
    let entry = a.board().history().unwrap()[0].clone();
    let archived = a.archive().search("first", 5).unwrap()[0].info.clone();
    assert_eq!(archived.clip_id, Some(entry.clip_id.0));
    drop(a);
    Board::destroy(&tb.name, false).unwrap();
    // The same name and the same seq, but another board (another node id):
    // its seq 1 is not the archived seq 1.
    let mut a = archiver(&tb, &db, 200);
    a.board().copy(&Clip::text("second board")).unwrap();
    assert_eq!(a.board().history().unwrap()[0].seq, entry.seq);
    assert_eq!(a.sync().unwrap().archived, 1);
    assert_eq!(texts(a.archive()), ["first board", "second board"]);
}
