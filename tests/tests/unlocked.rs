//! Paste (of a clip, or of one of its types) without the lock (LAYOUT.md, "The write generation" and
//! "Optimistic reads"): it takes no lock while nobody writes, it leaves the
//! board to the locked path (and its repair) while a holder is at work or
//! dead, and racing copies never make it return a torn clip.

use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};

use shm_clip::format::off;
use shm_clip::{Board, Clip, CreateOptions, Error, Selector};
use shm_clip_test_kit::TestBoard;

/// The write generation as another process sees it: read from the file.
fn write_gen(tb: &TestBoard) -> u64 {
    let file = std::fs::File::open(tb.path()).unwrap();
    let mut b = [0u8; 8];
    file.read_exact_at(&mut b, off::WRITE_GEN as u64).unwrap();
    u64::from_ne_bytes(b)
}

fn acquisitions(board: &Board) -> u64 {
    board.status().unwrap().lock.acquisitions
}

/// How many locks one `status` call counts, between two of them.
fn status_locks(board: &Board) -> u64 {
    let first = acquisitions(board);
    acquisitions(board) - first
}

#[test]
fn pastes_take_no_lock_while_nobody_writes() {
    let tb = TestBoard::new("unlocked-quiet");
    let board = tb.open(CreateOptions::default());
    board.copy(&Clip::text("quiet")).unwrap();
    let status_locks = status_locks(&board);
    let before = acquisitions(&board);
    for _ in 0..10 {
        assert_eq!(board.paste().unwrap().text_str().unwrap(), "quiet");
    }
    // The second `status` took the only locks since the first.
    assert_eq!(acquisitions(&board), before + status_locks);
    assert!(write_gen(&tb).is_multiple_of(2), "even between holders");
}

#[test]
fn a_paste_of_one_type_takes_no_lock_and_a_missing_type_is_named_under_it() {
    let tb = TestBoard::new("unlocked-type");
    let board = tb.open(CreateOptions::default());
    board
        .copy(&Clip::new("text/html", "<b>two</b>").with("text/plain", "two"))
        .unwrap();
    let status_locks = status_locks(&board);
    let before = acquisitions(&board);
    let html = board.get_type(Selector::Current, "text/html").unwrap();
    assert_eq!(
        (html.mime.as_str(), &html.data[..]),
        ("text/html", &b"<b>two</b>"[..])
    );
    // The exact type first, then the first that the request matches
    // (`UTF8_STRING` asks for any plain text).
    let plain = board.get_type(Selector::Current, "text/plain").unwrap();
    assert_eq!(plain.data, b"two");
    let utf8 = board.get_type(Selector::Current, "UTF8_STRING").unwrap();
    assert_eq!(
        (utf8.mime.as_str(), &utf8.data[..]),
        ("text/plain", &b"two"[..])
    );
    assert_eq!(acquisitions(&board), before + status_locks);
    // No such type: the locked path decides, and names what there is.
    let before = acquisitions(&board);
    let err = board.get_type(Selector::Current, "image/png").unwrap_err();
    let Error::NoSuchType { available, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(available, &["text/html", "text/plain"]);
    assert_eq!(acquisitions(&board), before + 1 + status_locks);
}

#[test]
fn a_dead_holder_leaves_the_generation_odd_and_paste_takes_the_lock_and_repairs() {
    let tb = TestBoard::new("unlocked-dead");
    let board = tb.open(CreateOptions::default());
    board.copy(&Clip::text("kept")).unwrap();
    let status_locks = status_locks(&board);
    let quiet = write_gen(&tb);
    board.abandon_lock().unwrap();
    let dead = write_gen(&tb);
    assert!(dead % 2 == 1 && dead > quiet, "{quiet} then {dead}");
    let before = board.status().unwrap().lock;
    // `status` itself took the lock and repaired; abandon it once more, so
    // that this paste is the one that meets the dead holder.
    board.abandon_lock().unwrap();
    assert_eq!(board.paste().unwrap().text_str().unwrap(), "kept");
    let after = board.status().unwrap().lock;
    assert_eq!(
        after.recoveries,
        before.recoveries + 1,
        "the paste repaired"
    );
    // The abandoned lock, the paste and this status.
    assert_eq!(after.acquisitions, before.acquisitions + 2 + status_locks);
    let now = write_gen(&tb);
    assert!(now.is_multiple_of(2) && now > dead, "{dead} then {now}");
}

#[test]
fn pastes_racing_copies_over_the_same_bytes_are_never_torn() {
    // Depth 1 and the smallest arena: every copy evicts the current clip and
    // writes its record over the bytes a reader may be copying.
    let tb = TestBoard::new("unlocked-race");
    let board = tb.open(CreateOptions {
        capacity: 4096,
        depth: 1,
    });
    board.copy(&Clip::text("a".repeat(1000))).unwrap();
    let status_locks = status_locks(&board);
    let start = acquisitions(&board);
    let done = AtomicBool::new(false);
    let copies = 3000u64;
    let pastes = std::thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let reader = tb.open(CreateOptions::default());
                    let mut n = 0u64;
                    while !done.load(Ordering::Relaxed) {
                        let data = reader.paste().unwrap().reps.remove(0).data;
                        let first = data[0];
                        assert!(
                            data.iter().all(|&b| b == first) && (900..=1000).contains(&data.len()),
                            "a torn clip: {} bytes starting {:?}",
                            data.len(),
                            String::from_utf8_lossy(&data[..data.len().min(40)])
                        );
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let writer = tb.open(CreateOptions::default());
        for i in 0..copies {
            let byte = b'a' + (i % 26) as u8;
            let len = 900 + (i as usize * 37) % 101;
            writer
                .copy(&Clip::text(String::from_utf8(vec![byte; len]).unwrap()))
                .unwrap();
        }
        done.store(true, Ordering::Relaxed);
        readers.into_iter().map(|r| r.join().unwrap()).sum::<u64>()
    });
    // Every lock since `start`: the copies, the locked pastes, this status.
    let locked_pastes = acquisitions(&board) - start - copies - status_locks;
    assert!(pastes > 0);
    assert!(
        locked_pastes < pastes,
        "all {pastes} pastes took the lock: the optimistic path never succeeded"
    );
    eprintln!("{pastes} pastes racing {copies} copies, {locked_pastes} of them under the lock");
}
