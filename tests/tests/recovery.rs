//! Processes that die at the worst moment: a writer killed (SIGKILL) while it holds
//! the lock half-way through an entry, and subscribers that die without
//! cleaning up their mailboxes.
//!
//! The kill inside the critical section uses the library's `test-hooks`
//! feature: with `SHM_CLIP_TEST_PARK=<marker>` and
//! `SHM_CLIP_TEST_PARK_AT=copy`, `copy` writes half of the payload, writes
//! the marker file and sleeps forever, still holding the lock (the other
//! park points, such as "evict" or "compact", come before it in a copy).

use shm_clip_test_kit as common;

use common::{CHILD_TIMEOUT, PARK_AT_VAR, PARK_VAR, Rng, TestBoard, report};
use shm_clip::{Board, Clip, CreateOptions, Selector};
use shm_clip_test_kit::contains;

// ---------------------------------------------------------------------------
// 4. SIGKILL inside the critical section.

const PARKED_MIME: &str = "application/x-parked";
const ROUNDS: usize = 50;
const RECOVERY_OPTS: CreateOptions = CreateOptions {
    capacity: 64 << 10,
    depth: 4,
};

/// A secret that must not survive the parked writer: it sits at the start of
/// the payload, inside the half that is written before the park.
fn parked_token(round: usize, parent: u32) -> String {
    format!("PARKED-SECRET-{parent}-{round:04}-")
}

fn parked_clip(round: usize, parent: u32, size: usize) -> Clip {
    let token = parked_token(round, parent);
    let mut data = token.clone().into_bytes();
    while data.len() < size {
        data.extend_from_slice(token.as_bytes());
    }
    data.truncate(size.max(2 * token.len()));
    Clip::new(PARKED_MIME, data)
}

fn recovery_child(role: &str) {
    let board = common::child_open(None);
    match role {
        "park" => {
            let round: usize = common::child_var("SHM_CLIP_TEST_ROUND").parse().unwrap();
            let size: usize = common::child_var("SHM_CLIP_TEST_SIZE").parse().unwrap();
            let parent: u32 = common::child_var("SHM_CLIP_TEST_PARENT").parse().unwrap();
            // Parks inside; returns only if the test hook is missing.
            let out = board.copy(&parked_clip(round, parent, size));
            report("UNPARKED", format!("{out:?}"));
            std::process::exit(2);
        }
        "compact" => {
            // Parks after moving the first record; returns only without the hook.
            let out = board.copy(&Clip::new("text/plain", vec![b'd'; 30_000]));
            report("UNPARKED", format!("{out:?}"));
            std::process::exit(2);
        }
        "paste" => {
            let clip = board.paste().unwrap();
            std::fs::write(common::child_dir().join("pasted"), &clip.reps[0].data).unwrap();
            report("MIME", &clip.reps[0].mime);
        }
        other => panic!("unknown role {other}"),
    }
}

/// One round: park a writer inside the lock, kill it, and check the repair.
fn kill_one_parked_writer(tb: &TestBoard, board: &Board, round: usize, rng: &mut Rng) {
    const TEST: &str = "sigkill_inside_the_lock_is_repaired_50_times";
    let prev = board.paste().unwrap();
    let before = board.status().unwrap();
    let size = 64 + rng.below(16 << 10) as usize;
    let marker = tb.file(&format!("parked-{round}"));
    let marker_str = marker.to_str().unwrap();
    let (round_s, size_s, parent_s) = (
        round.to_string(),
        size.to_string(),
        std::process::id().to_string(),
    );
    let mut child = tb.spawn(
        TEST,
        "park",
        &[
            (PARK_VAR, marker_str),
            (PARK_AT_VAR, "copy"),
            ("SHM_CLIP_TEST_ROUND", &round_s),
            ("SHM_CLIP_TEST_SIZE", &size_s),
            ("SHM_CLIP_TEST_PARENT", &parent_s),
        ],
    );
    child.wait_for_file(&marker, CHILD_TIMEOUT);
    child.kill();

    // The next lock finds the owner dead and repairs the board.
    let after = board.status().unwrap();
    assert_eq!(
        after.lock.recoveries,
        before.lock.recoveries + 1,
        "round {round}: exactly one recovery"
    );
    assert_eq!(
        after.seq, before.seq,
        "round {round}: nothing was committed"
    );
    assert_eq!(board.paste().unwrap(), prev, "round {round}: previous clip");
    let history = board.history().unwrap();
    assert!(
        history
            .iter()
            .all(|e| e.types.iter().all(|(mime, _)| mime != PARKED_MIME)),
        "round {round}: the half-written entry is gone"
    );
    for e in &history {
        board.get(Selector::Seq(e.seq)).unwrap();
    }
    // Its bytes were wiped, and the repaired image validates.
    let image = std::fs::read(tb.path()).unwrap();
    let token = parked_token(round, std::process::id());
    assert!(
        !contains(&image, token.as_bytes()),
        "round {round}: the half-written secret is still in the segment"
    );
    shm_clip::fuzzing::validate_image(&image)
        .unwrap_or_else(|e| panic!("round {round}: repaired image: {e}"));

    // The board works: copy and paste.
    let mut data = format!("after round {round}: ").into_bytes();
    data.extend((0..rng.below(16 << 10)).map(|_| rng.next_u64() as u8));
    let next = Clip::new("application/octet-stream", data);
    let out = board.copy(&next).unwrap();
    assert_eq!(out.seq, before.seq + 1);
    assert_eq!(board.paste().unwrap(), next);
    // Pins fragment the arena, so that later parked writers first compact it.
    match round % 10 {
        3 => {
            board.set_pinned(Selector::Current, true).unwrap();
        }
        8 => {
            if let Some(p) = board.history().unwrap().iter().find(|e| e.pinned) {
                board.set_pinned(Selector::Seq(p.seq), false).unwrap();
            }
        }
        _ => {}
    }
}

#[test]
fn sigkill_inside_the_lock_is_repaired_50_times() {
    const TEST: &str = "sigkill_inside_the_lock_is_repaired_50_times";
    if let Some(role) = common::role() {
        return recovery_child(&role);
    }
    let tb = TestBoard::new("sigkill");
    let board = tb.open(RECOVERY_OPTS);
    board.copy(&Clip::text("before the first kill")).unwrap();
    let start = board.status().unwrap().lock.recoveries;
    let mut rng = Rng::new(42);
    for round in 0..ROUNDS {
        kill_one_parked_writer(&tb, &board, round, &mut rng);
    }
    assert_eq!(
        board.status().unwrap().lock.recoveries,
        start + ROUNDS as u64
    );
    // Another process sees the same, intact current clip.
    let expected = board.paste().unwrap();
    let pasted = tb.spawn(TEST, "paste", &[]).finish_ok(CHILD_TIMEOUT);
    assert_eq!(pasted.report("MIME"), expected.reps[0].mime);
    assert_eq!(
        std::fs::read(tb.file("pasted")).unwrap(),
        expected.reps[0].data
    );
}

// ---------------------------------------------------------------------------
// 5. Subscribers that die are reaped; their queues are unlinked.

fn subscriber_child(role: &str) {
    let board = common::child_open(None);
    let sub = board.subscribe().unwrap();
    report("MAILBOX", sub.mailbox_name());
    match role {
        // Killed by the parent while subscribed.
        "linger" => common::linger_until_killed(),
        // Exits without running any destructor.
        "exit" => std::process::exit(0),
        // Unsubscribes properly.
        "drop" => {
            drop(sub);
            report("DROPPED", "");
        }
        other => panic!("unknown role {other}"),
    }
}

fn expected_prefix(tb: &TestBoard, pid: u32) -> String {
    format!("/shm-clip.{}.{}@{pid}.", common::euid(), tb.name)
}

#[test]
fn dead_subscribers_are_reaped_and_their_queues_unlinked() {
    const TEST: &str = "dead_subscribers_are_reaped_and_their_queues_unlinked";
    if let Some(role) = common::role() {
        return subscriber_child(&role);
    }
    let tb = TestBoard::new("reap");
    let board = tb.open(RECOVERY_OPTS);

    // SIGKILLed while subscribed.
    let mut child = tb.spawn(TEST, "linger", &[]);
    let pid = child.pid();
    let name = child.expect_report("MAILBOX", CHILD_TIMEOUT);
    assert!(name.starts_with(&expected_prefix(&tb, pid)), "{name}");
    assert!(
        common::mq_exists(&name),
        "{name} exists while its owner lives"
    );
    let st = board.status().unwrap();
    assert_eq!(st.subscribers.len(), 1, "a live subscriber is not reaped");
    assert_eq!(
        (
            st.subscribers[0].origin.pid,
            st.subscribers[0].mailbox.as_str()
        ),
        (pid, name.as_str())
    );
    child.kill();
    assert!(common::mq_exists(&name), "a killed owner cannot unlink");
    assert_eq!(board.reap(), 1);
    assert!(board.status().unwrap().subscribers.is_empty());
    assert!(
        !common::mq_exists(&name),
        "{name} was unlinked by the reaper"
    );
    assert_eq!(board.reap(), 0);

    // Exits without destructors: the same, found by status() this time.
    let child = tb.spawn(TEST, "exit", &[]);
    let pid = child.pid();
    let done = child.finish_ok(CHILD_TIMEOUT);
    let name = done.report("MAILBOX");
    assert!(name.starts_with(&expected_prefix(&tb, pid)), "{name}");
    assert!(common::mq_exists(&name));
    assert!(board.status().unwrap().subscribers.is_empty());
    assert!(!common::mq_exists(&name), "{name} was unlinked by status()");
    assert_eq!(board.reap(), 0);
}

#[test]
fn a_clean_unsubscribe_unlinks_its_queue() {
    const TEST: &str = "a_clean_unsubscribe_unlinks_its_queue";
    if let Some(role) = common::role() {
        return subscriber_child(&role);
    }
    let tb = TestBoard::new("unsubscribe");
    let board = tb.open(RECOVERY_OPTS);
    let child = tb.spawn(TEST, "drop", &[]);
    let pid = child.pid();
    let done = child.finish_ok(CHILD_TIMEOUT);
    let name = done.report("MAILBOX");
    assert_eq!(done.reports("DROPPED").len(), 1);
    assert!(name.starts_with(&expected_prefix(&tb, pid)), "{name}");
    assert!(!common::mq_exists(&name), "{name} was unlinked on drop");
    assert_eq!(board.reap(), 0, "nothing left to reap");
    assert!(board.status().unwrap().subscribers.is_empty());
}

/// A closing program does not wait out a stuck lock holder: dropping a
/// subscription gives up on the lock after a short wait, unlinks its queue
/// anyway, and leaves its slot to be reaped once the process is gone.
#[test]
fn unsubscribing_under_a_stuck_lock_returns_soon() {
    const TEST: &str = "unsubscribing_under_a_stuck_lock_returns_soon";
    if let Some(role) = common::role() {
        return recovery_child(&role);
    }
    let tb = TestBoard::new("stuck-unsub");
    let board = tb.open(RECOVERY_OPTS);
    board.copy(&Clip::text("before the park")).unwrap();
    let sub = board.subscribe().unwrap();
    let name = sub.mailbox_name().to_owned();
    let marker = tb.file("parked");
    let parent = std::process::id().to_string();
    let mut child = tb.spawn(
        TEST,
        "park",
        &[
            (PARK_VAR, marker.to_str().unwrap()),
            (PARK_AT_VAR, "copy"),
            ("SHM_CLIP_TEST_ROUND", "0"),
            ("SHM_CLIP_TEST_SIZE", "4096"),
            ("SHM_CLIP_TEST_PARENT", &parent),
        ],
    );
    // The child now holds the lock, parked half-way through its copy.
    child.wait_for_file(&marker, CHILD_TIMEOUT);
    let began = std::time::Instant::now();
    drop(sub);
    let took = began.elapsed();
    assert!(
        took < std::time::Duration::from_secs(5),
        "drop waited {took:?} (a plain lock waits 10 s)"
    );
    assert!(!common::mq_exists(&name), "{name} was unlinked anyway");
    child.kill();
    // The board recovers, and our slot is still registered (we are alive).
    let status = board.status().unwrap();
    assert_eq!(status.subscribers.len(), 1);
    assert_eq!(board.paste().unwrap().text_str(), Some("before the park"));
}

// ---------------------------------------------------------------------------
// A holder killed half-way through a compaction.

/// Compaction (the fallback when pinned records break the arena ring up so
/// that no gap fits) slides each record down, then re-indexes it. A holder
/// killed in between, when the two ranges overlap, leaves the old offset
/// torn: the record is whole only at its destination, and repair must find
/// it there instead of discarding a committed (here: pinned) entry.
#[test]
fn a_holder_killed_mid_compaction_loses_no_entry() {
    const TEST: &str = "a_holder_killed_mid_compaction_loses_no_entry";
    if let Some(role) = common::role() {
        return recovery_child(&role);
    }
    let tb = TestBoard::new("mid-compact");
    let board = tb.open(CreateOptions {
        capacity: 64 << 10,
        depth: 8,
    });
    // A, B, C at 0, 10 064 and 40 128 (records of 10 058, 30 058 and 10 058
    // bytes, 8-aligned); the ring's head at 50 192, 15 344 bytes before the end.
    let seqs: Vec<u64> = [(b'a', 10_000), (b'b', 30_000), (b'c', 10_000)]
        .into_iter()
        .map(|(fill, len)| {
            let clip = Clip::new("text/plain", vec![fill; len]);
            board.copy(&clip).unwrap().seq
        })
        .collect();
    let b = board.get(Selector::Seq(seqs[1])).unwrap();
    board.set_pinned(Selector::Seq(seqs[1]), true).unwrap();
    let before = board.status().unwrap();
    // D (30 058 bytes): the ring wraps, evicts A and C, passes over B, and
    // finds 10 064 and 25 408 bytes on either side of B: no gap fits. So B
    // moves from 10 064 to 0, over its own first 20 000 bytes.
    let marker = tb.file("parked");
    let mut child = tb.spawn(
        TEST,
        "compact",
        &[
            (PARK_VAR, marker.to_str().unwrap()),
            (PARK_AT_VAR, "compact"),
        ],
    );
    child.wait_for_file(&marker, CHILD_TIMEOUT);
    child.kill();

    let after = board.status().unwrap();
    assert_eq!(after.lock.recoveries, before.lock.recoveries + 1);
    let history = board.history().unwrap();
    let listed: Vec<(u64, bool)> = history.iter().map(|e| (e.seq, e.pinned)).collect();
    assert_eq!(
        listed,
        [(seqs[1], true)],
        "B (pinned) survives the kill; A and C were evicted, D never committed"
    );
    assert_eq!(board.get(Selector::Seq(seqs[1])).unwrap(), b);
    shm_clip::fuzzing::validate_image(&std::fs::read(tb.path()).unwrap())
        .unwrap_or_else(|e| panic!("repaired image: {e}"));
    // The board works: D fits now, after a compaction that runs to the end.
    let d = Clip::new("text/plain", vec![b'd'; 30_000]);
    board.copy(&d).unwrap();
    assert_eq!(board.paste().unwrap(), d);
    assert_eq!(board.get(Selector::Seq(seqs[1])).unwrap(), b);
}

// ---------------------------------------------------------------------------
// A restore below the newest entries, killed while it re-ranks them.

/// The history's texts, current first.
fn texts(board: &Board) -> Vec<String> {
    board
        .history()
        .unwrap()
        .iter()
        .map(|e| {
            let clip = board.get(Selector::Seq(e.seq)).unwrap();
            clip.text_str().unwrap().to_owned()
        })
        .collect()
}

/// A remote clip's provenance, as the bridge gives it.
fn remote(id: u8) -> shm_clip::Provenance {
    shm_clip::Provenance {
        clip_id: Some(shm_clip::ClipId([id; 16])),
        origin_node: Some(shm_clip::NodeId([9; 16])),
        ..shm_clip::Provenance::new(
            shm_clip::Origin::this_process(shm_clip::OriginKind::Bridge).labelled("bridge: laptop"),
            std::time::SystemTime::now(),
            std::time::SystemTime::now(),
            false,
        )
    }
}

/// A writer killed (SIGKILL) after re-ranking the first of the entries
/// above: the next lock repairs the board, every entry is there once, the
/// kept entries are in their order, and the board works on.
#[test]
fn a_writer_killed_while_ranking_leaves_a_sound_board() {
    const TEST: &str = "a_writer_killed_while_ranking_leaves_a_sound_board";
    if let Some(role) = common::role() {
        assert_eq!(role, "rank");
        let board = common::child_open(None);
        let keep: Vec<shm_clip::ClipId> = common::child_var("SHM_CLIP_TEST_KEEP")
            .split(',')
            .map(|hex| {
                board
                    .history()
                    .unwrap()
                    .iter()
                    .find(|e| e.clip_id.to_string() == hex)
                    .unwrap()
                    .clip_id
            })
            .collect();
        // Parks inside; returns only if the test hook is missing.
        let out = board.restore_below(&Clip::text("r"), &remote(1), &keep, board.seq());
        report("UNPARKED", format!("{out:?}"));
        std::process::exit(2);
    }
    let tb = TestBoard::new("below-kill");
    let board = tb.open(CreateOptions {
        capacity: 1 << 20,
        depth: 8,
    });
    board.copy(&Clip::text("old")).unwrap();
    let l1 = board.copy(&Clip::text("l1")).unwrap().clip_id;
    let l2 = board.copy(&Clip::text("l2")).unwrap().clip_id;
    let before = board.status().unwrap();
    let marker = tb.file("parked");
    let keep = format!("{l1},{l2}");
    let mut child = tb.spawn(
        TEST,
        "rank",
        &[
            (PARK_VAR, marker.to_str().unwrap()),
            (PARK_AT_VAR, "rank"),
            ("SHM_CLIP_TEST_KEEP", &keep),
        ],
    );
    child.wait_for_file(&marker, CHILD_TIMEOUT);
    child.kill();

    let after = board.status().unwrap();
    assert_eq!(after.lock.recoveries, before.lock.recoveries + 1);
    let listed = texts(&board);
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, ["l1", "l2", "old", "r"], "each once: {listed:?}");
    let kept: Vec<&String> = listed.iter().filter(|t| t.starts_with('l')).collect();
    assert_eq!(kept, ["l2", "l1"], "in their order: {listed:?}");
    assert_eq!(listed.last().map(String::as_str), Some("old"));
    let top = |b: &Board| {
        assert_eq!(
            b.info(Selector::Current).unwrap().clip_id,
            b.history().unwrap()[0].clip_id,
            "info(Current) is the top of history()"
        );
    };
    top(&board);
    shm_clip::fuzzing::validate_image(&std::fs::read(tb.path()).unwrap())
        .unwrap_or_else(|e| panic!("repaired image: {e}"));
    // It works on: the same call, unkilled, ranks as it should.
    let r = board
        .restore_below(&Clip::text("r2"), &remote(2), &[l1, l2], board.seq())
        .unwrap()
        .expect("nothing came between");
    assert_eq!(r.below, Some(l1));
    let listed = texts(&board);
    let at = |t: &str| listed.iter().position(|x| x == t).unwrap();
    assert!(at("l2") < at("l1") && at("l1") < at("r2"), "{listed:?}");
    assert!(board.seq() > before.seq);
    top(&board);
}
