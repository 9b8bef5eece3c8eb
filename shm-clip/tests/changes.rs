//! `Board::changes`: what a follower of the board (the archiver) reads on
//! each wake-up instead of the whole history, checked against `history`
//! and `removals_since` on real boards.

use shm_clip::{Board, Clip, CreateOptions, Origin, OriginKind, RemovalKind, Selector};
use shm_clip_test_kit::TestBoard;

/// A writer handle (labelled, as the app's are) and a second handle that
/// follows, as the archiver's own does.
fn boards(test: &str) -> (Board, Board, TestBoard) {
    let tb = TestBoard::new(&format!("changes-{test}"));
    let follower = tb.open(CreateOptions {
        capacity: 1 << 20,
        depth: 4,
    });
    let writer = Board::open_with(
        &tb.name,
        Origin::this_process(OriginKind::App).labelled("window 2"),
        None,
    )
    .unwrap();
    (writer, follower, tb)
}

#[test]
fn entries_match_the_history_and_only_new_ones_carry_their_origin() {
    let (w, f, _tb) = boards("entries");
    let first = w.copy(&Clip::text("first")).unwrap();
    let start = f.changes(0, 0).unwrap();
    assert_eq!(start.entries.len(), 1);
    assert_eq!(start.entries[0].origin.as_ref().unwrap().label, "window 2");
    let second = w
        .copy(&Clip::text("second").with("text/html", "<b>second</b>"))
        .unwrap();
    w.set_pinned(Selector::Seq(first.entry_seq), true).unwrap();
    let c = f.changes(start.seq, 0).unwrap();
    assert_eq!(c.seq, w.seq());
    let hist = f.history().unwrap();
    assert_eq!(c.entries.len(), hist.len());
    for (e, h) in c.entries.iter().zip(&hist) {
        assert_eq!(
            (e.seq, e.created, e.touched, e.pinned, e.total_size),
            (h.seq, h.created, h.touched, h.pinned, h.total_size)
        );
        assert_eq!((e.clip_id, e.origin_node), (h.clip_id, h.origin_node));
        assert_eq!(e.rep_count as usize, h.types.len());
    }
    // The pin made by the other handle is seen.
    assert!(c.entries[1].pinned);
    // Created after `since`: the second copy only, with its origin.
    let with_origin: Vec<u64> = c
        .entries
        .iter()
        .filter(|e| e.origin.is_some())
        .map(|e| e.seq)
        .collect();
    assert_eq!(with_origin, [second.entry_seq]);
    assert_eq!(c.entries[0].origin.as_ref(), Some(&hist[0].origin));
    // A select moves an entry to the front with a new last use.
    w.select(Selector::Seq(first.entry_seq)).unwrap();
    let c2 = f.changes(c.seq, 0).unwrap();
    assert_eq!(c2.entries[0].seq, first.entry_seq);
    assert!(c2.entries[0].touched > c.entries[1].touched);
    assert!(c2.entries.iter().all(|e| e.origin.is_none()));
}

#[test]
fn removals_come_from_the_number_asked_for_and_say_what_was_missed() {
    let (w, f, _tb) = boards("removals");
    let a = w.copy(&Clip::text("a")).unwrap();
    w.copy(&Clip::text("b")).unwrap();
    let start = f.changes(0, 0).unwrap();
    assert!(start.removals.removals.is_empty());
    w.delete(Selector::Seq(a.entry_seq)).unwrap();
    let after = f.changes(start.seq, start.removals.next).unwrap();
    assert_eq!(after.removals.missed, 0);
    assert_eq!(after.removals.removals.len(), 1);
    let r = after.removals.removals[0];
    assert_eq!((r.kind, r.clip_id), (RemovalKind::Deleted, Some(a.clip_id)));
    // Read at one seq: the removal's, and the entry is gone in the same look.
    assert_eq!(r.seq, after.seq);
    assert!(after.entries.iter().all(|e| e.seq != a.entry_seq));
    // Nothing since: an empty log that starts where the last one ended.
    let again = f.changes(after.seq, after.removals.next).unwrap();
    assert!(again.removals.removals.is_empty());
    assert_eq!(again.removals.next, after.removals.next);
    // The log keeps 64: from the last look's number after 70 more, 70 - 64
    // are missed; from 0, 71 - 64.
    for i in 0..70 {
        w.copy(&Clip::text(format!("x{i}"))).unwrap();
        w.delete(Selector::Current).unwrap();
    }
    let since = f.changes(again.seq, again.removals.next).unwrap();
    assert_eq!(since.removals.removals.len(), 64);
    assert_eq!(since.removals.missed, 6);
    let all = f.changes(0, 0).unwrap();
    assert_eq!(all.removals.missed, 7);
    assert_eq!(all.removals, f.removals_since(0).unwrap());
    w.clear(false).unwrap();
    let cleared = f.changes(all.seq, all.removals.next).unwrap();
    assert_eq!(cleared.removals.removals.len(), 1);
    assert_eq!(cleared.removals.removals[0].kind, RemovalKind::Cleared);
    assert_eq!(cleared.removals.removals[0].seq, cleared.seq);
}
