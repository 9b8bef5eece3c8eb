//! Several real processes on one board: copy in one and paste in another,
//! many processes creating the same board at once, writers and pasters
//! hammering one board, and notifications across processes.
//!
//! Each test re-runs this binary for its children (see `common`).

use shm_clip_test_kit as common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{CHILD_TIMEOUT, Rng, TestBoard, report};
use serde_json::{Value, json};
use shm_clip::format::off;
use shm_clip::{
    Board, Clip, CreateOptions, Error, LAYOUT_VERSION, Origin, OriginKind, Selector, TEXT_MIME,
};

// ---------------------------------------------------------------------------
// 1. Process A copies, process B pastes.

/// The clip of each kind, built the same way in every process.
fn kind_clip(kind: &str) -> Clip {
    match kind {
        "text" => Clip::text("héllo, wörld ✂\nsecond line\twith a tab and a NUL \0 inside"),
        "empty" => Clip::text(""),
        "binary" => {
            let mut data: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
            let mut rng = Rng::new(7);
            data.extend((0..300_000).map(|_| rng.next_u64() as u8));
            Clip::new("application/octet-stream", data)
        }
        "multi" => {
            let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
            let mut rng = Rng::new(8);
            png.extend((0..20_000).map(|_| rng.next_u64() as u8));
            Clip::text("multi ✓")
                .with("text/html", "<b>multi ✓</b>")
                .with("image/png", png)
        }
        other => panic!("unknown kind {other}"),
    }
}

fn copy_paste_child(role: &str) {
    let kind = common::child_var("SHM_CLIP_TEST_KIND");
    match role {
        "copy" => {
            let board = common::child_open(Some(CreateOptions {
                capacity: 1 << 20,
                depth: 8,
            }));
            let out = board.copy(&kind_clip(&kind)).unwrap();
            report("SEQ", out.seq);
        }
        "paste" => {
            // Without create options: the board must already exist.
            let board = common::child_open(None);
            let clip = board.paste().unwrap();
            for (i, rep) in clip.reps.iter().enumerate() {
                let file = common::child_dir().join(format!("pasted-{kind}-{i}"));
                std::fs::write(file, &rep.data).unwrap();
                report("REP", format!("{i} {} {}", rep.mime, rep.data.len()));
            }
            report("SEQ", board.seq());
        }
        other => panic!("unknown role {other}"),
    }
}

#[test]
fn copy_in_one_process_paste_in_another() {
    const TEST: &str = "copy_in_one_process_paste_in_another";
    if let Some(role) = common::role() {
        return copy_paste_child(&role);
    }
    let tb = TestBoard::new("copy-paste");
    for kind in ["text", "binary", "multi", "empty"] {
        let env = [("SHM_CLIP_TEST_KIND", kind)];
        let copier = tb.spawn(TEST, "copy", &env);
        let copier_pid = copier.pid();
        let seq: u64 = copier
            .finish_ok(CHILD_TIMEOUT)
            .report("SEQ")
            .parse()
            .unwrap();

        let pasted = tb.spawn(TEST, "paste", &env).finish_ok(CHILD_TIMEOUT);
        let expected = kind_clip(kind);
        let reps = pasted.reports("REP");
        assert_eq!(reps.len(), expected.reps.len(), "{kind}: {reps:?}");
        for (i, rep) in expected.reps.iter().enumerate() {
            assert_eq!(
                reps[i],
                format!("{i} {} {}", rep.mime, rep.data.len()),
                "{kind}"
            );
            let got = std::fs::read(tb.file(&format!("pasted-{kind}-{i}"))).unwrap();
            assert!(got == rep.data, "{kind}: representation {i} differs");
        }
        assert_eq!(pasted.report("SEQ"), seq.to_string(), "{kind}");

        // A third process (this one) agrees, and the board says who wrote it.
        let board = tb.open(CreateOptions::default());
        assert_eq!(board.paste().unwrap(), expected, "{kind}");
        let head = &board.history().unwrap()[0];
        assert_eq!((head.seq, head.origin.pid), (seq, copier_pid), "{kind}");
    }
}

// ---------------------------------------------------------------------------
// 2. Sixteen processes create the same board at once.

const RACERS: usize = 16;
const RACE_OPTS: CreateOptions = CreateOptions {
    capacity: 256 << 10,
    depth: 32,
};

fn racer_text(i: usize, pid: u32) -> String {
    format!("racer {i} pid {pid}")
}

fn racer_child() {
    let i: usize = common::child_var("SHM_CLIP_TEST_INDEX").parse().unwrap();
    common::child_barrier(&i.to_string());
    let board = common::child_open(Some(RACE_OPTS));
    let clip = Clip::text(racer_text(i, std::process::id()));
    let out = board.copy(&clip).unwrap();
    assert!(!out.deduplicated);
    assert_eq!(board.get(Selector::Seq(out.seq)).unwrap(), clip);
    let st = board.status().unwrap();
    let header = std::fs::read(&st.path).unwrap();
    let md = std::fs::metadata(&st.path).unwrap();
    report(
        "RESULT",
        json!({
            "path": st.path,
            "ino": std::os::unix::fs::MetadataExt::ino(&md),
            "seq": out.seq,
            "capacity": st.capacity,
            "depth": st.max_entries,
            "mode": st.mode,
            "owner": st.owner_uid,
            "magic": String::from_utf8_lossy(&header[..8]),
            "version": u32::from_ne_bytes(header[off::VERSION..off::VERSION + 4].try_into().unwrap()),
        }),
    );
}

#[test]
fn sixteen_processes_create_one_board_at_once() {
    const TEST: &str = "sixteen_processes_create_one_board_at_once";
    if common::role().is_some() {
        return racer_child();
    }
    for round in ["race-a", "race-b"] {
        let tb = TestBoard::new(round);
        let procs: Vec<_> = (0..RACERS)
            .map(|i| tb.spawn(TEST, "racer", &[("SHM_CLIP_TEST_INDEX", &i.to_string())]))
            .collect();
        let pids: Vec<u32> = procs.iter().map(common::Proc::pid).collect();
        tb.release(RACERS, CHILD_TIMEOUT);
        let results: Vec<Value> = common::finish_all(procs, CHILD_TIMEOUT)
            .iter()
            .map(|f| serde_json::from_str(&f.report("RESULT")).unwrap())
            .collect();

        let path = tb.path();
        let ino = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&path).unwrap());
        for r in &results {
            assert_eq!(r["path"], json!(path), "{r}");
            assert_eq!(
                r["ino"],
                json!(ino),
                "every racer saw the same segment: {r}"
            );
            assert_eq!(r["capacity"], json!(RACE_OPTS.capacity), "{r}");
            assert_eq!(r["depth"], json!(RACE_OPTS.depth), "{r}");
            assert_eq!(r["mode"], json!(0o600), "{r}");
            assert_eq!(r["owner"], json!(common::euid()), "{r}");
            assert_eq!(r["magic"], json!("SHMCLIP\0"), "{r}");
            assert_eq!(r["version"], json!(LAYOUT_VERSION), "{r}");
        }
        let seqs: BTreeSet<u64> = results.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs, (1..=RACERS as u64).collect(), "one seq per racer");

        let board = Board::open_with(&tb.name, Origin::this_process(OriginKind::Cli), None)
            .expect("the racers created the board");
        assert_eq!(board.seq(), RACERS as u64);
        let texts: BTreeSet<String> = board
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
            .collect();
        let expected: BTreeSet<String> = pids
            .iter()
            .enumerate()
            .map(|(i, &pid)| racer_text(i, pid))
            .collect();
        assert_eq!(texts, expected, "history holds every racer's clip");
        let st = board.status().unwrap();
        assert_eq!((st.entries, st.lock.recoveries), (RACERS, 0));
    }
}

// ---------------------------------------------------------------------------
// 3. Writers and pasters hammer one board.

const WRITERS: u32 = 8;
const COPIES: u32 = 1000;
const PASTERS: usize = 3;
const MAX_BODY: u64 = 64 << 10;
const STRESS_MIME: &str = "application/x-shm-clip-selfcheck";
const STRESS_OPTS: CreateOptions = CreateOptions {
    capacity: 1 << 20,
    depth: 32,
};

/// Sizes from 0 to 64 KiB: half uniform, half log-uniform (many small ones).
fn stress_size(rng: &mut Rng) -> usize {
    let n = if rng.below(2) == 0 {
        rng.below(MAX_BODY)
    } else {
        let bits = rng.below(17);
        rng.below(1 << bits)
    };
    n as usize
}

fn writer_child() {
    let w: u32 = common::child_var("SHM_CLIP_TEST_INDEX").parse().unwrap();
    let board = common::child_open(None);
    let mut rng = Rng::new(0x5eed_0000 + u64::from(w));
    common::child_barrier(&format!("writer-{w}"));
    let (mut first, mut last, mut bytes) = (None, 0, 0u64);
    for c in 0..COPIES {
        let data = common::self_verifying(w, c, stress_size(&mut rng));
        bytes += data.len() as u64;
        let out = board.copy(&Clip::new(STRESS_MIME, data)).unwrap();
        assert!(!out.deduplicated, "writer {w} copy {c} was deduplicated");
        assert!(out.seq > last, "writer {w}: seq {} after {last}", out.seq);
        first.get_or_insert(out.seq);
        last = out.seq;
    }
    report(
        "RESULT",
        json!({ "first": first, "last": last, "bytes": bytes }),
    );
}

#[derive(Default)]
struct PasteStats {
    pastes: u64,
    empties: u64,
    history_checks: u64,
    max_seq: u64,
    seen: BTreeSet<(u32, u32)>,
    last_counter: BTreeMap<u32, u32>,
    last_head: u64,
}

impl PasteStats {
    fn check_paste(&mut self, result: Result<Clip, Error>) {
        match result {
            Ok(clip) => {
                assert_eq!(clip.reps.len(), 1);
                assert_eq!(clip.reps[0].mime, STRESS_MIME);
                let (w, c) = common::verify_self_verifying(&clip.reps[0].data)
                    .unwrap_or_else(|e| panic!("corrupt paste: {e}"));
                assert!(w < WRITERS && c < COPIES, "writer {w} counter {c}");
                // The current clip only moves forward: never an older copy of a writer.
                let last = self.last_counter.entry(w).or_insert(c);
                assert!(c >= *last, "writer {w}: counter {c} after {last}");
                *last = c;
                self.seen.insert((w, c));
                self.pastes += 1;
            }
            Err(Error::Empty) if self.pastes == 0 => self.empties += 1,
            Err(e) => panic!("paste failed after {} pastes: {e}", self.pastes),
        }
    }

    fn check_history(&mut self, board: &Board) {
        let history = board.history().unwrap();
        let after = board.seq();
        assert!(history.len() <= STRESS_OPTS.depth as usize);
        // No re-copies or selects happen, so recency order is seq order.
        for pair in history.windows(2) {
            assert!(pair[0].seq > pair[1].seq, "history out of order");
        }
        if let Some(head) = history.first() {
            assert!(head.seq >= self.last_head, "head went back");
            assert!(head.seq <= after, "head {} beyond seq {after}", head.seq);
            assert!(head.total_size <= MAX_BODY + 32);
            self.last_head = head.seq;
        }
        self.history_checks += 1;
    }
}

fn paster_child() {
    let p = common::child_var("SHM_CLIP_TEST_INDEX");
    let board = common::child_open(None);
    let done = common::child_dir().join("done");
    common::child_barrier(&format!("paster-{p}"));
    let mut stats = PasteStats::default();
    for round in 0u64.. {
        let finished = done.exists();
        let before = board.seq();
        assert!(before >= stats.max_seq, "seq went back: {before}");
        stats.check_paste(board.paste());
        let after = board.seq();
        assert!(after >= before, "seq went back: {after} after {before}");
        stats.max_seq = after;
        if round % 8 == 0 {
            stats.check_history(&board);
        }
        if finished {
            break;
        }
    }
    report(
        "RESULT",
        json!({
            "pastes": stats.pastes,
            "empties": stats.empties,
            "distinct": stats.seen.len(),
            "history_checks": stats.history_checks,
            "max_seq": stats.max_seq,
        }),
    );
}

#[test]
fn writers_and_pasters_never_see_a_torn_clip() {
    const TEST: &str = "writers_and_pasters_never_see_a_torn_clip";
    match common::role().as_deref() {
        Some("writer") => return writer_child(),
        Some("paster") => return paster_child(),
        Some(other) => panic!("unknown role {other}"),
        None => {}
    }
    let tb = TestBoard::new("stress");
    let board = tb.open(STRESS_OPTS);
    let start = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| tb.spawn(TEST, "writer", &[("SHM_CLIP_TEST_INDEX", &w.to_string())]))
        .collect();
    let pasters: Vec<_> = (0..PASTERS)
        .map(|p| tb.spawn(TEST, "paster", &[("SHM_CLIP_TEST_INDEX", &p.to_string())]))
        .collect();
    tb.release(WRITERS as usize + PASTERS, CHILD_TIMEOUT);
    let timeout = Duration::from_secs(50);
    let writers = common::finish_all(writers, timeout);
    std::fs::write(tb.file("done"), b"").unwrap();
    let pasters = common::finish_all(pasters, CHILD_TIMEOUT);
    let elapsed = start.elapsed();

    let mut bytes = 0;
    for w in &writers {
        let r: Value = serde_json::from_str(&w.report("RESULT")).unwrap();
        bytes += r["bytes"].as_u64().unwrap();
    }
    let total = u64::from(WRITERS * COPIES);
    // Every copy was one commit, so the seq counts them exactly.
    assert_eq!(board.seq(), total);
    let mut stats = PasteStats::default();
    stats.check_paste(board.paste());
    for e in board.history().unwrap() {
        let clip = board.get(Selector::Seq(e.seq)).unwrap();
        common::verify_self_verifying(&clip.reps[0].data).unwrap();
    }
    let st = board.status().unwrap();
    assert_eq!(st.lock.recoveries, 0);
    for (i, p) in pasters.iter().enumerate() {
        let r: Value = serde_json::from_str(&p.report("RESULT")).unwrap();
        assert!(r["pastes"].as_u64().unwrap() > 0, "paster {i} never pasted");
        assert_eq!(r["max_seq"], json!(total), "paster {i} saw the last seq");
        println!("paster {i}: {r}");
    }
    println!(
        "{total} copies ({bytes} bytes) by {WRITERS} writers in {elapsed:?}; lock: {} acquisitions, {} contended",
        st.lock.acquisitions, st.lock.contended
    );
}

// ---------------------------------------------------------------------------
// 9. Notifications across processes.

fn listener_child(role: &str) {
    let board = common::child_open(None);
    let mut sub = board.subscribe().unwrap();
    report("READY", sub.mailbox_name());
    match role {
        // Waits for the first notification.
        "listen" => {
            let note = sub
                .recv_timeout(CHILD_TIMEOUT)
                .unwrap()
                .expect("a notification within the deadline");
            report("NOTE", format!("{} {}", note.seq, note.origin_pid));
        }
        // Lets notifications pile up, then reads once.
        "coalesce" => {
            common::wait_for_file(&common::child_dir().join("go"), CHILD_TIMEOUT);
            let note = sub
                .recv_timeout(CHILD_TIMEOUT)
                .unwrap()
                .expect("a notification within the deadline");
            report("NOTE", format!("{} {}", note.seq, note.coalesced));
            report("BOARD_SEQ", board.seq());
        }
        // Never reads; exits cleanly when told.
        "deaf" => {
            common::wait_for_file(&common::child_dir().join("done"), Duration::from_secs(60));
        }
        other => panic!("unknown role {other}"),
    }
}

const NOTIFY_OPTS: CreateOptions = CreateOptions {
    capacity: 64 << 10,
    depth: 8,
};

#[test]
fn subscriber_in_another_process_gets_the_copy_seq() {
    const TEST: &str = "subscriber_in_another_process_gets_the_copy_seq";
    if let Some(role) = common::role() {
        return listener_child(&role);
    }
    let tb = TestBoard::new("notify");
    let board = tb.open(NOTIFY_OPTS);
    let mut child = tb.spawn(TEST, "listen", &[]);
    child.expect_report("READY", CHILD_TIMEOUT);
    let out = board.copy(&Clip::text("ping")).unwrap();
    let done = child.finish_ok(CHILD_TIMEOUT);
    assert_eq!(
        done.report("NOTE"),
        format!("{} {}", out.seq, std::process::id())
    );
}

#[test]
fn ten_quick_copies_then_one_recv_gives_the_latest_seq() {
    const TEST: &str = "ten_quick_copies_then_one_recv_gives_the_latest_seq";
    if let Some(role) = common::role() {
        return listener_child(&role);
    }
    let tb = TestBoard::new("coalesce");
    let board = tb.open(NOTIFY_OPTS);
    let mut child = tb.spawn(TEST, "coalesce", &[]);
    child.expect_report("READY", CHILD_TIMEOUT);
    let mut last = 0;
    for i in 0..10 {
        last = board.copy(&Clip::text(format!("quick {i}"))).unwrap().seq;
    }
    std::fs::write(tb.file("go"), b"").unwrap();
    let done = child.finish_ok(CHILD_TIMEOUT);
    assert_eq!(done.report("BOARD_SEQ"), last.to_string());
    let note = done.report("NOTE");
    let seq: u64 = note.split(' ').next().unwrap().parse().unwrap();
    assert_eq!(
        seq, last,
        "one recv after 10 copies must carry the latest seq (got {note:?}: seq, coalesced)"
    );
}

#[test]
fn a_full_mailbox_never_blocks_writers() {
    const TEST: &str = "a_full_mailbox_never_blocks_writers";
    if let Some(role) = common::role() {
        return listener_child(&role);
    }
    let tb = TestBoard::new("full-mailbox");
    let board = Arc::new(tb.open(NOTIFY_OPTS));
    let mut child = tb.spawn(TEST, "deaf", &[]);
    let mailbox = child.expect_report("READY", CHILD_TIMEOUT);
    let writer = Arc::clone(&board);
    let elapsed = common::within("1000 copies", Duration::from_secs(30), move || {
        let start = Instant::now();
        for i in 0..1000 {
            writer.copy(&Clip::text(format!("copy {i}"))).unwrap();
        }
        start.elapsed()
    });
    let st = board.status().unwrap();
    assert_eq!(st.seq, 1000);
    assert_eq!(st.subscribers.len(), 1);
    assert_eq!(st.subscribers[0].mailbox, mailbox);
    let pending = st.subscribers[0].pending;
    assert!(pending.is_some_and(|n| n > 0), "pending {pending:?}");
    assert!(
        elapsed < Duration::from_secs(10),
        "1000 copies took {elapsed:?}"
    );
    println!("1000 copies with a full mailbox ({pending:?} pending) took {elapsed:?}");
    std::fs::write(tb.file("done"), b"").unwrap();
    child.finish_ok(CHILD_TIMEOUT);
    assert!(board.status().unwrap().subscribers.is_empty());
    assert_eq!(board.paste().unwrap().text_str(), Some("copy 999"));
    assert_eq!(board.paste().unwrap().reps[0].mime, TEXT_MIME);
}

/// A subscriber registers its mailbox's name before it creates the queue,
/// then moves the table's generation; a writer that sent in between found
/// no queue (ENOENT). It must try again after the new generation, not skip
/// that mailbox for good (the bridge's watcher, subscribing as a user
/// copies, then never heard of that user's copies). The window is made by
/// hand: the child's queue is unlinked, and this process creates it again
/// and moves the generation, as the subscriber would.
/// Unlinks a POSIX queue that a test made, when dropped.
struct UnlinkQueue<'a>(&'a str);

impl Drop for UnlinkQueue<'_> {
    fn drop(&mut self) {
        let _ = nix::mqueue::mq_unlink(self.0);
    }
}

#[test]
fn a_mailbox_that_was_missing_is_notified_once_it_exists() {
    const TEST: &str = "a_mailbox_that_was_missing_is_notified_once_it_exists";
    use nix::mqueue::{MQ_OFlag, MqAttr, mq_close, mq_open, mq_receive, mq_unlink};
    use nix::sys::stat::Mode;
    if let Some(role) = common::role() {
        return listener_child(&role);
    }
    let tb = TestBoard::new("late-mailbox");
    let board = tb.open(NOTIFY_OPTS);
    let mut child = tb.spawn(TEST, "deaf", &[]);
    let name = child.expect_report("READY", CHILD_TIMEOUT);
    mq_unlink(name.as_str()).unwrap();
    board
        .copy(&Clip::text("while the queue is missing"))
        .unwrap();
    // The queue made here goes with the test, even if it fails half-way.
    let _unlink = UnlinkQueue(name.as_str());
    let queue = mq_open(
        name.as_str(),
        MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_RDONLY | MQ_OFlag::O_NONBLOCK,
        Mode::S_IRUSR | Mode::S_IWUSR,
        Some(&MqAttr::new(0, 1, 32, 0)),
    )
    .unwrap();
    // Subscribing here moves the generation (writers skip their own
    // mailboxes); the membership notes it sends are read away.
    drop(board.subscribe().unwrap());
    let mut buf = [0u8; 32];
    while mq_receive(&queue, &mut buf, &mut 0).is_ok() {}
    board.copy(&Clip::text("once it exists")).unwrap();
    let got = mq_receive(&queue, &mut buf, &mut 0);
    mq_close(queue).unwrap();
    std::fs::write(tb.file("done"), b"").unwrap();
    child.finish_ok(CHILD_TIMEOUT);
    assert!(
        got.is_ok(),
        "the writer never notified the mailbox again: {got:?}"
    );
}

#[test]
fn subscribing_elsewhere_wakes_mailboxes_without_a_new_seq() {
    const TEST: &str = "subscribing_elsewhere_wakes_mailboxes_without_a_new_seq";
    if let Some(role) = common::role() {
        return listener_child(&role);
    }
    let tb = TestBoard::new("membership");
    let board = tb.open(NOTIFY_OPTS);
    board.copy(&Clip::text("before")).unwrap();
    let mut sub = board.subscribe().unwrap();
    let mut child = tb.spawn(TEST, "listen", &[]);
    child.expect_report("READY", CHILD_TIMEOUT);
    let note = sub
        .recv_timeout(CHILD_TIMEOUT)
        .unwrap()
        .expect("another process subscribing wakes this mailbox");
    assert_eq!(note.origin_pid, child.pid());
    assert_eq!(note.seq, board.seq(), "a membership change commits nothing");
    // Let the child finish: it waits for one copy.
    let out = board.copy(&Clip::text("ping")).unwrap();
    let done = child.finish_ok(CHILD_TIMEOUT);
    assert_eq!(
        done.report("NOTE"),
        format!("{} {}", out.seq, std::process::id())
    );
    let bye = sub
        .recv_timeout(CHILD_TIMEOUT)
        .unwrap()
        .expect("the child's unsubscribe wakes this mailbox too");
    assert_eq!(bye.seq, out.seq);
}
