//! `Board::restore_below`: a restored entry ranked below the newest entries
//! instead of on top, on real shared memory, seen by other handles and by
//! other processes. (A writer killed half-way through the re-ranking needs
//! the `test-hooks` feature: `tests/tests/recovery.rs`.)

use shm_clip_test_kit as common;

use std::time::SystemTime;

use common::{CHILD_TIMEOUT, TestBoard, report};
use shm_clip::{
    Board, Clip, ClipId, CreateOptions, NodeId, Origin, OriginKind, Provenance, Restored, Selector,
};

fn board(test: &str, depth: u32) -> (Board, TestBoard) {
    let tb = TestBoard::new(&format!("below-{test}"));
    let b = tb.open(CreateOptions {
        capacity: 1 << 20,
        depth,
    });
    (b, tb)
}

/// A remote clip's provenance, as the bridge gives it.
fn remote(id: u8) -> Provenance {
    Provenance {
        clip_id: Some(ClipId([id; 16])),
        origin_node: Some(NodeId([9; 16])),
        ..Provenance::new(
            Origin::this_process(OriginKind::Bridge).labelled("bridge: laptop"),
            SystemTime::now(),
            SystemTime::now(),
            false,
        )
    }
}

/// The history's texts, current first.
fn texts(board: &Board) -> Vec<String> {
    board
        .history()
        .unwrap()
        .iter()
        .map(|e| {
            board
                .get(Selector::Seq(e.seq))
                .unwrap()
                .text_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn below(board: &Board, text: &str, id: u8, keep: &[ClipId]) -> Restored {
    board
        .restore_below(&Clip::text(text), &remote(id), keep, board.seq())
        .unwrap()
        .expect("nothing came between")
}

#[test]
fn a_restored_clip_goes_below_the_kept_entries_and_the_current_clip_stays() {
    let (board, tb) = board("rank", 8);
    let user = Board::open(&tb.name, OriginKind::Cli).unwrap();
    board.copy(&Clip::text("old")).unwrap();
    let l1 = user.copy(&Clip::text("l1")).unwrap().clip_id;
    let l2 = user.copy(&Clip::text("l2")).unwrap().clip_id;
    let before = board.seq();

    let r1 = below(&board, "r1", 1, &[l1, l2]);
    assert_eq!(r1.below, Some(l1), "directly below the lowest kept entry");
    assert_eq!(r1.outcome.seq, before + 1, "one commit");
    assert_eq!(board.seq(), before + 1);
    assert_eq!(r1.outcome.clip_id, ClipId([1; 16]));
    assert_eq!(texts(&user), ["l2", "l1", "r1", "old"]);
    assert_eq!(user.paste().unwrap().text_str(), Some("l2"));

    // The next one goes above it, still below the kept ones; an id the
    // board does not hold keeps nothing.
    below(&board, "r2", 2, &[l1, ClipId([7; 16])]);
    assert_eq!(texts(&user), ["l2", "l1", "r2", "r1", "old"]);
    // Keeping only the current clip.
    below(&board, "r3", 3, &[l2]);
    assert_eq!(texts(&user), ["l2", "r3", "l1", "r2", "r1", "old"]);
    // Nothing of `keep` on the board, or nothing to keep: a plain restore.
    let top = below(&board, "r4", 4, &[ClipId([8; 16])]);
    assert_eq!(top.below, None);
    below(&board, "r5", 5, &[]);
    assert_eq!(
        texts(&user),
        ["r5", "r4", "l2", "r3", "l1", "r2", "r1", "old"]
    );
    // The ranking is what the slots say: a fresh handle (its own cache)
    // and the history agree, and the board's structures hold.
    let fresh = Board::open(&tb.name, OriginKind::Cli).unwrap();
    assert_eq!(texts(&fresh), texts(&board));
    let image = std::fs::read(tb.path()).unwrap();
    shm_clip::fuzzing::validate_image(&image).unwrap();
}

#[test]
fn a_commit_after_the_look_makes_it_do_nothing() {
    let (board, tb) = board("seen", 8);
    let user = Board::open(&tb.name, OriginKind::Cli).unwrap();
    let l1 = user.copy(&Clip::text("l1")).unwrap().clip_id;
    let seen = board.seq();
    user.copy(&Clip::text("l2")).unwrap();
    let after = board.seq();
    assert_eq!(
        board
            .restore_below(&Clip::text("r"), &remote(1), &[l1], seen)
            .unwrap(),
        None
    );
    assert_eq!(board.seq(), after, "nothing committed");
    assert_eq!(texts(&board), ["l2", "l1"]);
}

/// Identical content is stored once, as in every write; a clip id the
/// board holds already is moved, not copied; the board's depth holds, and
/// eviction takes the oldest unpinned record.
#[test]
fn dedup_held_ids_pins_and_eviction_keep_their_rules() {
    let (board, tb) = board("rules", 4);
    let user = Board::open(&tb.name, OriginKind::Cli).unwrap();
    let dup = user.copy(&Clip::text("same")).unwrap();
    user.set_pinned(Selector::Clip(dup.clip_id), true).unwrap();
    user.copy(&Clip::text("x")).unwrap();
    let l = user.copy(&Clip::text("l")).unwrap().clip_id;
    // The same content as an older entry: that one goes, lending its pin.
    let r = below(&board, "same", 1, &[l]);
    assert!(!r.outcome.deduplicated, "a restore keeps its own id");
    assert_eq!(texts(&user), ["l", "same", "x"]);
    let info = user.info(Selector::Index(1)).unwrap();
    assert_eq!((info.clip_id, info.pinned), (ClipId([1; 16]), true));

    // A held clip id: moved below the kept entry, not stored twice.
    user.copy(&Clip::text("y")).unwrap();
    let held = below(&board, "x again", 9, &[]);
    assert_eq!(held.below, None);
    // Depth 4: "x", the oldest unpinned record, made room.
    assert_eq!(texts(&user), ["x again", "y", "l", "same"]);
    let m = user.copy(&Clip::text("m")).unwrap().clip_id;
    let moved = below(&board, "x again", 9, &[m]);
    assert!(moved.outcome.deduplicated, "the entry it held");
    assert_eq!(moved.outcome.clip_id, ClipId([9; 16]));
    // (Moving a record on a full board takes a slot first, as a select
    // does: the oldest unpinned record made room.)
    let listed = texts(&user);
    assert_eq!(listed[..2], ["m", "x again"], "{listed:?}");
    assert_eq!(
        listed.iter().filter(|t| *t == "x again").count(),
        1,
        "not stored twice: {listed:?}"
    );

    // Full (depth 4): the oldest unpinned record goes, here "l", and the
    // pinned "same" stays though it ranks lowest.
    user.copy(&Clip::text("z")).unwrap();
    user.select(Selector::Clip(m)).unwrap();
    let before: Vec<String> = texts(&user);
    assert_eq!(before.len(), 4, "{before:?}");
    below(&board, "n", 3, &[m]);
    let after = texts(&user);
    assert_eq!(after.len(), 4, "depth holds: {after:?}");
    assert_eq!(after[..2], ["m", "n"]);
    assert!(after.contains(&"same".to_owned()), "pinned: {after:?}");
}

/// A user's copy in another process, then the restore below it: a third
/// process is told of the commit and pastes the user's copy, not the
/// restored clip.
#[test]
fn another_process_is_told_and_pastes_the_kept_clip() {
    const TEST: &str = "another_process_is_told_and_pastes_the_kept_clip";
    if let Some(role) = common::role() {
        let board = common::child_open(None);
        match role.as_str() {
            "copy" => report("CLIP", board.copy(&Clip::text("mine")).unwrap().clip_id),
            "watch" => {
                let mut sub = board.subscribe().unwrap();
                report("READY", board.seq());
                // Under the kit's watchdog: a note that never comes fails.
                let note = sub.recv().unwrap();
                report("SEQ", note.seq);
                report("TEXT", board.paste().unwrap().text_str().unwrap());
            }
            other => panic!("unknown role {other}"),
        }
        return;
    }
    let (board, tb) = board("procs", 8);
    board.copy(&Clip::text("old")).unwrap();
    let copied = tb.spawn(TEST, "copy", &[]).finish_ok(CHILD_TIMEOUT);
    let mine = board.info(Selector::Current).unwrap().clip_id;
    assert_eq!(copied.report("CLIP"), mine.to_string());
    let mut watch = tb.spawn(TEST, "watch", &[]);
    watch.expect_report("READY", CHILD_TIMEOUT);
    let restored = below(&board, "remote", 1, &[mine]);
    let told = watch.finish_ok(CHILD_TIMEOUT);
    assert_eq!(told.report("SEQ"), restored.outcome.seq.to_string());
    assert_eq!(told.report("TEXT"), "mine");
    assert_eq!(texts(&board), ["mine", "remote", "old"]);
}

/// The current clip is the top of the history, as every reader ranks it.
fn assert_current_is_top(board: &Board) {
    let current = board.info(Selector::Current).unwrap();
    let top = board.history().unwrap().remove(0);
    assert_eq!(
        current.clip_id, top.clip_id,
        "info(Current) is history()[0]"
    );
}

/// A remote clip with the same bytes as a kept entry: the kept entry stays
/// where it was, under its own id (its message is on the way, and every
/// other board will replace the remote clip with it by the same dedup),
/// instead of dedup removing it and the user's older kept copy becoming
/// current.
#[test]
fn a_restored_clip_with_a_kept_entrys_content_replaces_it_in_place() {
    let (board, tb) = board("kept-dup", 8);
    let user = Board::open(&tb.name, OriginKind::Cli).unwrap();
    user.copy(&Clip::text("old")).unwrap();
    let l1 = user.copy(&Clip::text("l1")).unwrap();
    let x = user.copy(&Clip::text("x")).unwrap();

    // The kept entry is current.
    let r = below(&board, "x", 1, &[l1.clip_id, x.clip_id]);
    assert_eq!(texts(&user), ["x", "l1", "old"]);
    assert_eq!(user.paste().unwrap().text_str(), Some("x"));
    assert_eq!(r.below, None, "it is the current clip");
    assert_eq!(r.outcome.clip_id, x.clip_id, "the kept entry's id");
    let current = user.info(Selector::Current).unwrap();
    assert_eq!((current.clip_id, current.seq), (x.clip_id, x.entry_seq));
    assert_eq!(current.touched, r.touched, "the touched it reports");
    assert!(user.get(Selector::Clip(ClipId([1; 16]))).is_err());
    assert_current_is_top(&user);

    // The kept entry is below another kept one: it stays there.
    let r = below(&board, "l1", 2, &[l1.clip_id, x.clip_id]);
    assert_eq!(texts(&user), ["x", "l1", "old"]);
    assert_eq!(r.below, Some(x.clip_id));
    assert_eq!(r.outcome.clip_id, l1.clip_id);
    assert_eq!(user.info(Selector::Index(1)).unwrap().clip_id, l1.clip_id);
    assert_current_is_top(&user);
    let fresh = Board::open(&tb.name, OriginKind::Cli).unwrap();
    assert_eq!(texts(&fresh), ["x", "l1", "old"]);

    // Content of an entry not kept is removed as before.
    let r = below(&board, "old", 3, &[x.clip_id]);
    assert_eq!(r.outcome.clip_id, ClipId([3; 16]));
    assert_eq!(texts(&user), ["x", "old", "l1"]);
    assert_current_is_top(&user);
}

/// A held entry moved below: the `touched` it reports is the one the move
/// gave it (what the bridge must count as its own).
#[test]
fn a_moved_entry_reports_the_touched_the_move_gave_it() {
    let (board, tb) = board("touched", 8);
    let user = Board::open(&tb.name, OriginKind::Cli).unwrap();
    below(&board, "r", 1, &[]);
    let l = user.copy(&Clip::text("l")).unwrap().clip_id;
    let moved = below(&board, "r", 1, &[l]);
    assert_eq!(moved.below, Some(l));
    let info = user.info(Selector::Clip(ClipId([1; 16]))).unwrap();
    assert_eq!(info.touched, moved.touched);
    assert_current_is_top(&user);
}

/// `select_below`: an older entry made current below the kept ones, so
/// they stay together at the top; a commit after the look makes it do
/// nothing.
#[test]
fn a_selected_entry_goes_below_the_kept_entries() {
    let (board, tb) = board("select", 8);
    let user = Board::open(&tb.name, OriginKind::Cli).unwrap();
    let x = user.copy(&Clip::text("x")).unwrap().clip_id;
    user.copy(&Clip::text("y")).unwrap();
    let l1 = user.copy(&Clip::text("l1")).unwrap().clip_id;
    let l2 = user.copy(&Clip::text("l2")).unwrap().clip_id;
    let before = board.seq();
    let s = board
        .select_below(Selector::Clip(x), &[l1, l2], before)
        .unwrap()
        .expect("nothing came between");
    assert_eq!(board.seq(), before + 1, "one commit");
    assert_eq!(s.below, Some(l1));
    assert_eq!(s.outcome.clip_id, x);
    assert_eq!(texts(&user), ["l2", "l1", "x", "y"]);
    assert_eq!(user.info(Selector::Clip(x)).unwrap().touched, s.touched);
    assert_current_is_top(&user);

    // None of `keep` held: on top, as a select.
    let s = board
        .select_below(Selector::Index(3), &[ClipId([7; 16])], board.seq())
        .unwrap()
        .unwrap();
    assert_eq!(s.below, None);
    assert_eq!(texts(&user), ["y", "l2", "l1", "x"]);
    assert_current_is_top(&user);

    let stale = board.seq();
    user.copy(&Clip::text("new")).unwrap();
    assert_eq!(
        board.select_below(Selector::Clip(x), &[l1], stale).unwrap(),
        None
    );
    assert_eq!(texts(&user)[0], "new");
}
