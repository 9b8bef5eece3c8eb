//! Crash safety: the archiver, a real process, is killed with SIGKILL at
//! random moments while another process copies as fast as it can, 200
//! times. After every kill the database passes `PRAGMA integrity_check`,
//! holds each content once, and still holds every clip it held before the
//! kill; at the end a restarted archiver has every clip of the run.

use std::collections::BTreeSet;
use std::time::Duration;

use shm_clip::{BoardName, Clip, CreateOptions};
use shm_clip_archive::{Archive, Archiver, Policy};
use shm_clip_test_kit::{self as common, TestBoard};

const TEST: &str = "the_archiver_survives_sigkill_during_heavy_copying";
const KILLS: usize = 200;

/// A small deterministic generator (xorshift64*), seeded by the pid, so a
/// failing run can be told apart and the test needs no `rand`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// The child: archive the board until killed, saying when it is running.
fn archiver_child() {
    let name = BoardName::new(&std::env::var(common::BOARD_VAR).unwrap()).unwrap();
    let db =
        std::path::Path::new(&std::env::var(common::DIR_VAR).unwrap()).join("db/archive.sqlite3");
    let board = shm_clip::Board::open(&name, shm_clip::OriginKind::Cli).unwrap();
    let mut archiver = Archiver::new(board, Archive::open(&db).unwrap(), Policy::default());
    let (_control, wakeup) = shm_clip_archive::control().unwrap();
    let mut told = false;
    let _ = shm_clip_archive::run(
        &mut archiver,
        &wakeup,
        shm_clip_archive::ScrubTiming::default(),
        &mut |_| {
            if !told {
                common::report("running", "");
                told = true;
            }
        },
    );
}

/// Every archived text, after checking the file and that each content is
/// there once (one query: the check runs 200 times on a growing file).
fn archived(db: &std::path::Path) -> BTreeSet<String> {
    Archive::open(db).unwrap().integrity_check().unwrap();
    // One query of schema 3's two places for content (a clip's own row, or
    // representations over blobs): through `Archive::get` per clip, the
    // check would cost a query per clip per round.
    let conn = rusqlite::Connection::open(db).unwrap();
    let texts: Vec<String> = conn
        .prepare(
            "SELECT codec, data FROM clips WHERE mime IS NOT NULL
             UNION ALL SELECT b.codec, b.data FROM representations r JOIN blobs b ON b.id = r.blob",
        )
        .unwrap()
        .query_map([], |r| {
            let (codec, data): (i64, Vec<u8>) = (r.get(0)?, r.get(1)?);
            let data = match codec {
                0 => data,
                1 => zstd::decode_all(data.as_slice()).unwrap(),
                other => panic!("unknown codec {other}"),
            };
            Ok(String::from_utf8(data).unwrap())
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let set: BTreeSet<String> = texts.iter().cloned().collect();
    assert_eq!(set.len(), texts.len(), "a content archived twice");
    set
}

#[test]
fn the_archiver_survives_sigkill_during_heavy_copying() {
    if common::role().as_deref() == Some("archiver") {
        archiver_child();
        return;
    }
    let tb = TestBoard::new("arch-kill");
    let dbdir = tb.file("db");
    std::fs::create_dir_all(&dbdir).unwrap();
    std::fs::set_permissions(&dbdir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let db = dbdir.join("archive.sqlite3");
    let board = tb.open(CreateOptions {
        depth: 40,
        ..CreateOptions::default()
    });
    let mut rng = Rng(u64::from(std::process::id()) | 1);
    let mut copied = 0u64;
    let mut before = BTreeSet::new();
    for round in 0..KILLS {
        let mut child = tb.spawn(TEST, "archiver", &[]);
        child.expect_report("running", Duration::from_secs(30));
        // Copies land while the archiver writes; the kill comes after a
        // random number of them, often inside a transaction.
        let burst = rng.next() % 40;
        for _ in 0..burst {
            copied += 1;
            let text = format!(
                "clip {copied} of round {round} {}",
                "words ".repeat((copied % 50) as usize)
            );
            board.copy(&Clip::text(text)).unwrap();
        }
        child.kill();
        let now = archived(&db);
        let lost: Vec<&String> = before.difference(&now).collect();
        assert!(
            lost.is_empty(),
            "round {round}: committed clips lost: {lost:?}"
        );
        before = now;
    }
    // A last archiver catches up: every clip the board still holds, plus
    // everything archived before, and nothing twice.
    let mut last = Archiver::new(
        tb.open(CreateOptions::default()),
        Archive::open(&db).unwrap(),
        Policy::default(),
    );
    last.sync().unwrap();
    drop(last);
    let end = archived(&db);
    assert!(before.is_subset(&end));
    for e in board.history().unwrap() {
        let text = board.get(shm_clip::Selector::Seq(e.seq)).unwrap();
        assert!(
            end.contains(text.text_str().unwrap()),
            "a clip on the board is not archived"
        );
    }
    assert!(
        end.len() as u64 > 40,
        "the archive outgrew the board: {} clips of {copied}",
        end.len()
    );
    let out = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("PRAGMA integrity_check;")
        .output()
        .expect("sqlite3 (Debian package sqlite3) must be installed");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
}
