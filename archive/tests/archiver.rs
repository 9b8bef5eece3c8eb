//! The archiver against a real board and a real archive file: catch-up,
//! pins, removals (which delete) against evictions (which keep), restarts
//! without duplicates, one archiver per board, and the run loop.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use shm_clip::{Board, Clip, ClipId, CreateOptions, Origin, OriginKind, Provenance, Selector};
use shm_clip_archive::{Archive, Archiver, Error, Policy, Synced, side_file};
use shm_clip_test_kit::TestBoard;
use shm_clip_test_kit::file_contains_folded;

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
fn a_clip_pruned_while_on_the_board_is_archived_again_once_it_is_used_again() {
    let tb = TestBoard::new("arch-reuse");
    let db = db_in(&tb);
    let mut a = archiver(&tb, &db, 200);
    a.board()
        .copy(&Clip::text("a long clip the user prunes"))
        .unwrap();
    a.board().copy(&Clip::text("short")).unwrap();
    a.sync().unwrap();
    // `shm-clip archive prune --larger-than 10`, from another connection.
    let mut other = Archive::open(&db).unwrap();
    assert_eq!(other.prune_larger_than(10).unwrap().clips, 1);
    // Still on the board, but not used since: it stays out.
    a.sync().unwrap();
    assert_eq!(texts(a.archive()), ["short"]);
    // Copied again (the board moves its entry to the front, same seq): a use.
    a.board()
        .copy(&Clip::text("a long clip the user prunes"))
        .unwrap();
    assert_eq!(a.sync().unwrap().archived, 1);
    assert_eq!(texts(a.archive()), ["a long clip the user prunes", "short"]);
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
    assert!(
        !file_contains_folded(&db, "quokka4471"),
        "marker in the database"
    );
    assert!(
        !file_contains_folded(&side_file(&db, "-wal"), "quokka4471"),
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

/// A reader inside a read transaction keeps the scrub after a delete from
/// finishing (the TRUNCATE checkpoint waits for it, up to the busy
/// timeout): the clip is deleted, the scrub stays pending, and the next
/// look after the reader is gone finishes it, so the bytes do not stay.
/// The pending scrub is on disk too (`archive.sqlite3-unscrubbed`): an
/// archiver that exits (or is killed) with one pending leaves it to the
/// next archiver's first look.
#[test]
fn a_scrub_that_a_reader_kept_from_finishing_is_finished_at_the_next_look() {
    let tb = TestBoard::new("arch-scrub-busy");
    let db = db_in(&tb);
    let wal = side_file(&db, "-wal");
    let flag = side_file(&db, "-unscrubbed");
    let mut a = archiver(&tb, &db, 200);
    for i in 0..20 {
        a.board().copy(&Clip::text(format!("filler {i}"))).unwrap();
    }
    for marker in ["Wombat5123", "Numbat7741"] {
        a.board()
            .copy(&Clip::text(format!("the {marker} secret")))
            .unwrap();
    }
    a.sync().unwrap();
    assert!(!flag.exists(), "a look without a removal marks no scrub");
    // Deletes `marker` (the current entry) while a reader holds a snapshot
    // from before: the look deletes it, the scrub cannot finish.
    let blocked_delete = |a: &mut Archiver, marker: &str| {
        let reader = rusqlite::Connection::open(&db).unwrap();
        reader
            .execute_batch("BEGIN; SELECT count(*) FROM clips;")
            .unwrap();
        a.board().delete(Selector::Current).unwrap();
        let done = a.sync().unwrap();
        assert_eq!(done.deleted, 1, "{done:?}");
        let lower = marker.to_ascii_lowercase();
        assert!(a.archive().search(&lower, 5).unwrap().is_empty());
        assert!(a.archive().scrub_pending(), "the reader did not stop it");
        assert!(flag.exists(), "the pending scrub is not on disk");
        assert!(
            file_contains_folded(&wal, marker) || file_contains_folded(&db, marker),
            "the marker left without the scrub, so this test proves nothing"
        );
        reader.execute_batch("COMMIT").unwrap();
    };
    blocked_delete(&mut a, "Numbat7741");
    // No change on the board: the look only finishes the scrub.
    assert_eq!(a.sync().unwrap().deleted, 0);
    assert!(!a.archive().scrub_pending() && !flag.exists());
    assert_gone(a.archive(), &db, "Numbat7741");
    assert_eq!(std::fs::metadata(&wal).map_or(0, |m| m.len()), 0);
    // Again, and this archiver ends with the scrub pending: the next one's
    // first look does it.
    blocked_delete(&mut a, "Wombat5123");
    drop(a);
    let mut next = archiver(&tb, &db, 200);
    assert!(next.archive().scrub_pending(), "the pending scrub was lost");
    next.sync().unwrap();
    assert!(!next.archive().scrub_pending() && !flag.exists());
    assert_gone(next.archive(), &db, "Wombat5123");
    assert_eq!(std::fs::metadata(&wal).map_or(0, |m| m.len()), 0);
}

/// The scrub another process left due (a CLI `rm --archive` whose scrub a
/// reader kept from finishing) is the running archiver's to finish: it
/// reads the due scrub from the disk at each look, and a look whose removals
/// delete nothing archived must not take that process's mark away.
#[test]
fn a_scrub_another_process_left_due_is_finished_by_the_running_archiver() {
    let tb = TestBoard::new("arch-scrub-other");
    let db = db_in(&tb);
    let flag = side_file(&db, "-unscrubbed");
    let mut a = archiver(&tb, &db, 200);
    for i in 0..20 {
        a.board().copy(&Clip::text(format!("filler {i}"))).unwrap();
    }
    a.board()
        .copy(&Clip::text("the Quokka3388 secret"))
        .unwrap();
    a.board().copy(&Clip::text("after it")).unwrap();
    a.sync().unwrap();
    assert!(!a.archive().scrub_pending());
    // Another process deletes it from the archive, and a reader keeps its
    // scrub from finishing; then both go away.
    {
        let reader = rusqlite::Connection::open(&db).unwrap();
        reader
            .execute_batch("BEGIN; SELECT count(*) FROM clips;")
            .unwrap();
        let mut cli = Archive::open(&db).unwrap();
        let hit = cli.search("quokka3388", 5).unwrap();
        assert_eq!(hit.len(), 1);
        assert_eq!(cli.delete(&[hit[0].info.id]).unwrap(), 1);
        assert!(cli.scrub_pending(), "the reader did not stop its scrub");
        reader.execute_batch("COMMIT").unwrap();
    }
    assert!(flag.exists(), "the due scrub is not on disk");
    assert!(
        file_contains_folded(&db, "Quokka3388")
            || file_contains_folded(&side_file(&db, "-wal"), "Quokka3388"),
        "the marker left without the scrub, so this test proves nothing"
    );
    assert!(a.archive().scrub_pending(), "the archiver does not see it");
    // A removal on the board of a clip never archived: the look deletes
    // nothing, and must still scrub rather than forget the other's mark.
    a.board().copy(&Clip::text("gone before a look")).unwrap();
    a.board().delete(Selector::Current).unwrap();
    let done = a.sync().unwrap();
    assert_eq!(done.deleted, 0, "{done:?}");
    assert!(!a.archive().scrub_pending() && !flag.exists());
    assert_gone(a.archive(), &db, "quokka3388");
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

/// Whether `marker` is gone from the archive: from its search, its
/// database file and its WAL.
fn assert_gone(a: &Archive, db: &Path, marker: &str) {
    assert!(a.search(marker, 5).unwrap().is_empty(), "{marker} found");
    assert!(
        !file_contains_folded(db, marker),
        "{marker} in the database"
    );
    assert!(
        !file_contains_folded(&side_file(db, "-wal"), marker),
        "{marker} in the WAL"
    );
}

#[test]
fn a_removal_mixed_with_copies_between_two_looks_is_deleted_and_an_eviction_kept() {
    // Between two looks: an rm, and copies that evict. The board's removal
    // log names the removed entry, so only it leaves the archive.
    let tb = TestBoard::new("arch-mixed");
    let db = db_in(&tb);
    let mut a = archiver(&tb, &db, 3);
    for t in ["oldest, evicted", "the Wombat5813 secret", "third"] {
        a.board().copy(&Clip::text(t)).unwrap();
    }
    a.sync().unwrap();
    assert_eq!(a.archive().search("wombat5813", 5).unwrap().len(), 1);
    a.board().delete(Selector::Index(1)).unwrap();
    a.board().copy(&Clip::text("fourth")).unwrap();
    a.board().copy(&Clip::text("fifth")).unwrap();
    let on_board: Vec<String> = a
        .board()
        .history()
        .unwrap()
        .into_iter()
        .map(|e| e.preview)
        .collect();
    assert_eq!(
        on_board,
        ["fifth", "fourth", "third"],
        "the oldest was evicted"
    );
    let done = a.sync().unwrap();
    assert_eq!(
        (done.archived, done.deleted, done.kept, done.removals_lost),
        (2, 1, 1, false),
        "{done:?}"
    );
    assert_gone(a.archive(), &db, "wombat5813");
    assert_eq!(
        texts(a.archive()),
        ["fifth", "fourth", "oldest, evicted", "third"]
    );
    a.archive().integrity_check().unwrap();
}

#[test]
fn a_clear_mixed_with_copies_deletes_the_unpinned_and_keeps_the_pinned() {
    let tb = TestBoard::new("arch-clear-mixed");
    let db = db_in(&tb);
    let mut a = archiver(&tb, &db, 4);
    for t in [
        "pinned, stays",
        "pinned, later evicted",
        "Bilby2291 one",
        "Bilby2291 two",
    ] {
        a.board().copy(&Clip::text(t)).unwrap();
    }
    a.board().set_pinned(Selector::Index(3), true).unwrap();
    a.board().set_pinned(Selector::Index(2), true).unwrap();
    a.sync().unwrap();
    // Between two looks: clear (the pinned two survive it), copies, an
    // unpin, and a copy that evicts the entry that was pinned at the clear.
    assert_eq!(a.board().clear(false).unwrap(), 2);
    a.board().copy(&Clip::text("after one")).unwrap();
    a.board().copy(&Clip::text("after two")).unwrap();
    let later = a
        .board()
        .history()
        .unwrap()
        .into_iter()
        .find(|e| e.preview == "pinned, later evicted")
        .unwrap();
    a.board()
        .set_pinned(Selector::Seq(later.seq), false)
        .unwrap();
    a.board().copy(&Clip::text("after three")).unwrap();
    assert!(a.board().get(Selector::Seq(later.seq)).is_err(), "evicted");
    let done = a.sync().unwrap();
    assert_eq!(
        (done.archived, done.deleted, done.kept),
        (3, 2, 1),
        "{done:?}"
    );
    assert_gone(a.archive(), &db, "bilby2291");
    assert_eq!(
        texts(a.archive()),
        [
            "after one",
            "after three",
            "after two",
            "pinned, later evicted",
            "pinned, stays"
        ]
    );
}

#[test]
fn a_clear_keeps_the_archived_clip_of_an_entry_that_arrived_again_pinned() {
    // The same content restored under another clip id (from another board,
    // say) replaces the older entry without a removal; the clear that
    // follows takes unpinned entries only, and the pinned newcomer is still
    // that archived clip.
    let tb = TestBoard::new("arch-again");
    let db = db_in(&tb);
    let mut a = archiver(&tb, &db, 200);
    for t in ["arrives twice", "Potoroo7106 other"] {
        a.board().copy(&Clip::text(t)).unwrap();
    }
    a.sync().unwrap();
    let now = std::time::SystemTime::now();
    let mut again = Provenance::new(Origin::this_process(OriginKind::Bridge), now, now, true);
    again.clip_id = Some(ClipId::random());
    a.board()
        .restore(&Clip::text("arrives twice"), &again)
        .unwrap();
    assert_eq!(a.board().history().unwrap().len(), 2, "the older one went");
    a.board().clear(false).unwrap();
    let done = a.sync().unwrap();
    assert_eq!(
        (done.archived, done.deleted, done.kept),
        (1, 1, 1),
        "{done:?}"
    );
    assert_eq!(texts(a.archive()), ["arrives twice"]);
    assert!(a.archive().search("arrives", 5).unwrap()[0].info.pinned);
    assert_gone(a.archive(), &db, "potoroo7106");
}

#[test]
fn a_removal_while_no_archiver_ran_is_applied_at_catch_up() {
    let tb = TestBoard::new("arch-rm-offline");
    let db = db_in(&tb);
    let mut a = archiver(&tb, &db, 200);
    for t in ["the Echidna3307 secret", "other"] {
        a.board().copy(&Clip::text(t)).unwrap();
    }
    a.sync().unwrap();
    drop(a);
    // No archiver runs: an rm, then a copy.
    let board = tb.open(CreateOptions::default());
    board.delete(Selector::Index(1)).unwrap();
    board.copy(&Clip::text("later")).unwrap();
    let mut a = archiver(&tb, &db, 200);
    let done = a.sync().unwrap();
    assert_eq!(
        (done.archived, done.deleted, done.kept),
        (1, 1, 0),
        "{done:?}"
    );
    assert_gone(a.archive(), &db, "echidna3307");
    assert_eq!(texts(a.archive()), ["later", "other"]);
}

#[test]
fn clear_all_mixed_with_copies_empties_the_archive() {
    let tb = TestBoard::new("arch-clear-all-mixed");
    let db = db_in(&tb);
    let mut a = archiver(&tb, &db, 3);
    for i in 0..5 {
        a.board()
            .copy(&Clip::text(format!("Dunnart{i}48 clip")))
            .unwrap();
        a.sync().unwrap();
    }
    a.board().set_pinned(Selector::Current, true).unwrap();
    a.sync().unwrap();
    assert_eq!(a.archive().stats().unwrap().clips, 5, "evicted ones kept");
    a.board().clear(true).unwrap();
    a.board().copy(&Clip::text("after the clear")).unwrap();
    a.board().copy(&Clip::text("and another")).unwrap();
    let done = a.sync().unwrap();
    assert_eq!((done.archived, done.deleted), (2, 5), "{done:?}");
    assert_eq!(texts(a.archive()), ["after the clear", "and another"]);
    for i in 0..5 {
        assert_gone(a.archive(), &db, &format!("dunnart{i}48"));
    }
}

#[test]
fn removals_lost_from_the_log_keep_what_it_cannot_explain() {
    // 70 removals and a copy between two looks: the log keeps the last 64
    // (those are deleted); the 6 before them cannot be told from evictions.
    let tb = TestBoard::new("arch-overrun");
    let db = db_in(&tb);
    let mut a = archiver(&tb, &db, 200);
    for i in 0..80 {
        a.board().copy(&Clip::text(format!("clip {i}"))).unwrap();
    }
    a.sync().unwrap();
    // The oldest first: clip 0 .. clip 69.
    for i in 0..70 {
        a.board().delete(Selector::Index(79 - i)).unwrap();
    }
    a.board().copy(&Clip::text("new")).unwrap();
    let done = a.sync().unwrap();
    assert_eq!(
        (done.archived, done.deleted, done.kept, done.removals_lost),
        (1, 64, 6, true),
        "{done:?}"
    );
    let t = texts(a.archive());
    for i in 0..6 {
        assert!(t.contains(&format!("clip {i}")), "clip {i} kept: {t:?}");
    }
    for i in 6..70 {
        assert!(!t.contains(&format!("clip {i}")), "clip {i} deleted");
    }
    assert_eq!(t.len(), 6 + 10 + 1);
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
            shm_clip_archive::run(
                &mut a,
                &wakeup,
                shm_clip_archive::ScrubTiming::default(),
                &mut |s| {
                    let _ = tx.send(*s);
                },
            )
        })
        .unwrap();
    let first = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(first.archived, 0);
    // The removal watch covers all of /dev/shm: another board's removal
    // wakes the loop, which must not count as a look (CI lost this race).
    let other = TestBoard::new("arch-run-other");
    drop(other.open(CreateOptions::default()));
    Board::destroy(&other.name, false).unwrap();
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

const BURST_TEST: &str = "a_burst_of_copies_is_archived_whole_in_a_few_syncs";
const COPIES: usize = 100;

#[test]
fn a_burst_of_copies_is_archived_whole_in_a_few_syncs() {
    if shm_clip_test_kit::role().as_deref() == Some("burst-archiver") {
        // The archiver in a process of its own: the board announces only
        // other processes' copies. Each sync is reported.
        let board = Board::open(&shm_clip_test_kit::child_board_name(), OriginKind::Cli).unwrap();
        let db = shm_clip_test_kit::child_dir().join("data/archive.sqlite3");
        let mut a = Archiver::new(board, Archive::open(&db).unwrap(), Policy::default());
        let (_control, wakeup) = shm_clip_archive::control().unwrap();
        let _ = shm_clip_archive::run(
            &mut a,
            &wakeup,
            shm_clip_archive::ScrubTiming::default(),
            &mut |s| {
                shm_clip_test_kit::report("synced", s.archived);
            },
        );
        return;
    }
    let tb = TestBoard::new("arch-burst");
    let db = db_in(&tb);
    drop(Archive::open(&db).unwrap());
    let board = tb.open(CreateOptions::default());
    let mut child = tb.spawn(BURST_TEST, "burst-archiver", &[]);
    let mut synced: Vec<usize> = vec![
        child
            .expect_report("synced", Duration::from_secs(30))
            .parse()
            .unwrap(),
    ];
    assert_eq!(synced, [0]);
    for i in 0..COPIES {
        board.copy(&Clip::text(format!("burst clip {i}"))).unwrap();
        // Paces the burst as a user's fast copies come (not a wait for
        // anything): each copy is slower to come than a sync of one clip
        // takes, so an archiver that looked at every note would sync about
        // once per copy.
        std::thread::sleep(Duration::from_millis(1));
    }
    // Every clip archived, as the archiver's own reports tell: the file can
    // hold the last ones before their report is read, and a kill then would
    // lose it (CI saw 96 of 100 that way).
    while synced.iter().sum::<usize>() < COPIES {
        let n = child
            .expect_report("synced", Duration::from_secs(30))
            .parse()
            .unwrap();
        synced.push(n);
    }
    child.kill();
    assert_eq!(synced.iter().sum::<usize>(), COPIES, "{synced:?}");
    // The first report is the look at start. The notes of the burst pile
    // up while the archiver lets a sync settle: a few syncs answer them.
    assert!(
        synced.len() - 1 <= COPIES / 4,
        "{} syncs for {COPIES} copies: {synced:?}",
        synced.len() - 1
    );
    assert_eq!(
        texts(&Archive::open(&db).unwrap()).len(),
        COPIES,
        "each clip once"
    );
}
