//! The archive on real files with the real (bundled) SQLite: what is stored,
//! what is found, what a delete leaves behind in the raw files, and which
//! files are refused.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use shm_clip::{Origin, OriginKind, Representation};
use shm_clip_archive::{Archive, Error, NewClip, side_file};
use shm_clip_test_kit::file_contains_folded;

/// A fresh 0700 directory for one test, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(test: &str) -> Dir {
        let dir =
            std::env::temp_dir().join(format!("shm-clip-archive-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        Dir(dir)
    }
    fn db(&self) -> PathBuf {
        self.0.join("data").join("archive.sqlite3")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn reps(list: &[(&str, &[u8])]) -> Vec<Representation> {
    list.iter()
        .map(|(m, d)| Representation {
            mime: (*m).to_owned(),
            data: d.to_vec(),
        })
        .collect()
}

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

fn put(a: &mut Archive, text: &str, secs: u64) -> i64 {
    let origin = Origin::this_process(OriginKind::Cli);
    let r = reps(&[("text/plain;charset=utf-8", text.as_bytes())]);
    a.insert(&NewClip {
        board: "test",
        clip_id: None,
        created: at(secs),
        touched: at(secs),
        origin: &origin,
        pinned: false,
        reps: &r,
    })
    .unwrap()
    .id
}

#[test]
fn a_new_archive_is_private_and_in_wal_mode() {
    let dir = Dir::new("private");
    let a = Archive::open(&dir.db()).unwrap();
    let file = std::fs::metadata(dir.db()).unwrap();
    let parent = std::fs::metadata(dir.db().parent().unwrap()).unwrap();
    assert_eq!(file.mode() & 0o777, 0o600);
    assert_eq!(parent.mode() & 0o777, 0o700);
    let mode: String = rusqlite_pragma(&dir.db(), "journal_mode");
    assert_eq!(mode, "wal");
    drop(a);
}

fn rusqlite_pragma(db: &Path, pragma: &str) -> String {
    let out = std::process::Command::new("sqlite3")
        .arg(db)
        .arg(format!("PRAGMA {pragma};"))
        .output()
        .expect("sqlite3 (Debian package sqlite3) must be installed");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn clips_round_trip_and_identical_content_is_stored_once() {
    let dir = Dir::new("roundtrip");
    let mut a = Archive::open(&dir.db()).unwrap();
    let origin = Origin::this_process(OriginKind::Tray).labelled("x");
    let png = [0x89u8, b'P', b'N', b'G', 0, 1, 2, 3];
    let r = reps(&[("text/plain", b"hello world"), ("image/png", &png)]);
    let clip = NewClip {
        board: "b",
        clip_id: Some([7; 16]),
        created: at(1),
        touched: at(2),
        origin: &origin,
        pinned: true,
        reps: &r,
    };
    let first = a.insert(&clip).unwrap();
    assert!(first.new);
    let again = a
        .insert(&NewClip {
            touched: at(9),
            pinned: false,
            clip_id: Some([8; 16]),
            ..clip.clone()
        })
        .unwrap();
    assert_eq!(again.id, first.id);
    assert!(!again.new);
    let (info, got) = a.get(first.id).unwrap();
    assert_eq!(got.reps, r);
    assert_eq!(info.last_used, at(9));
    assert_eq!(info.first_seen, at(1));
    assert!(!info.pinned, "the pin follows the newest board entry");
    assert_eq!(info.clip_id, Some([8; 16]));
    assert_eq!(info.origin, origin);
    assert_eq!(info.preview, "hello world");
    assert_eq!(
        info.types,
        vec![("text/plain".into(), 11), ("image/png".into(), 8)]
    );
    // A second clip sharing the image stores the image once.
    let r2 = reps(&[("text/plain", b"other"), ("image/png", &png)]);
    a.insert(&NewClip {
        reps: &r2,
        clip_id: None,
        ..clip
    })
    .unwrap();
    let stats = a.stats().unwrap();
    assert_eq!((stats.clips, stats.representations, stats.blobs), (2, 4, 3));
    assert_eq!(stats.stored_bytes, 11 + 8 + 5);
    assert!(matches!(a.get(999), Err(Error::NoSuchClip(999))));
}

#[test]
fn search_ranks_by_relevance_then_recency_and_strips_html() {
    let dir = Dir::new("search");
    let mut a = Archive::open(&dir.db()).unwrap();
    let old = put(&mut a, "the quarterly report draft", 1);
    let new = put(&mut a, "another quarterly report draft", 2);
    let best = put(&mut a, "report report report", 0);
    put(&mut a, "unrelated", 3);
    let hits: Vec<i64> = a
        .search("report", 10)
        .unwrap()
        .iter()
        .map(|h| h.info.id)
        .collect();
    assert_eq!(hits[0], best, "the most relevant first");
    assert_eq!(hits.len(), 3);
    // Equal relevance: the more recent first.
    let drafts: Vec<i64> = a
        .search("quarterly dra", 10)
        .unwrap()
        .iter()
        .map(|h| h.info.id)
        .collect();
    assert_eq!(drafts, vec![new, old]);
    let origin = Origin::this_process(OriginKind::Cli);
    let html = reps(&[(
        "text/html",
        b"<p class=\"bluefish\">Fish &amp; chips</p><script>var hiddenword</script>",
    )]);
    let uris = reps(&[("text/uri-list", b"file:///home/me/holiday.jpg\n")]);
    for r in [&html, &uris] {
        a.insert(&NewClip {
            board: "b",
            clip_id: None,
            created: at(5),
            touched: at(5),
            origin: &origin,
            pinned: false,
            reps: r,
        })
        .unwrap();
    }
    assert_eq!(a.search("chips", 10).unwrap().len(), 1);
    assert!(
        a.search("bluefish", 10).unwrap().is_empty(),
        "attributes are not text"
    );
    assert!(
        a.search("hiddenword", 10).unwrap().is_empty(),
        "scripts are not text"
    );
    assert_eq!(a.search("holiday.jpg", 10).unwrap().len(), 1);
    // FTS5 syntax in the input is only text.
    assert!(a.search("NOT OR AND \" * (", 10).unwrap().is_empty());
    assert_eq!(a.search("report", 1).unwrap().len(), 1);
}

#[test]
fn a_deleted_clip_leaves_neither_the_database_nor_the_wal() {
    let dir = Dir::new("delete");
    let mut a = Archive::open(&dir.db()).unwrap();
    for i in 0..50 {
        put(
            &mut a,
            &format!("filler clip number {i} with some words"),
            i,
        );
    }
    let marker = "ZebraMarker8842";
    let id = put(&mut a, &format!("secret {marker} text"), 100);
    let wal = side_file(&dir.db(), "-wal");
    assert!(file_contains_folded(&wal, marker) || file_contains_folded(&dir.db(), marker));
    assert_eq!(a.delete(&[id]).unwrap(), 1);
    assert!(
        !file_contains_folded(&dir.db(), marker),
        "marker in the database after delete"
    );
    assert!(
        !file_contains_folded(&wal, marker),
        "marker in the WAL after delete"
    );
    assert!(a.search("zebramarker8842", 5).unwrap().is_empty());
    assert_eq!(a.stats().unwrap().clips, 50);
    // Longer text is stored compressed, so its words are not in the file
    // as they are: the compressed bytes are, which this test makes as the
    // archive does (zstd level 3; if that changes, the first check fails).
    let long = format!("{marker} {}", "secret words of a long clip ".repeat(20));
    let frame = zstd::bulk::compress(long.as_bytes(), 3).unwrap();
    assert!(frame.len() < long.len() / 2);
    let in_files = |needle: &[u8]| {
        file_contains_folded(&wal, needle) || file_contains_folded(&dir.db(), needle)
    };
    assert!(!in_files(long.as_bytes()), "long text stored uncompressed");
    let id = put(&mut a, &long, 150);
    assert!(in_files(&frame), "the compressed clip is not in the files");
    assert_eq!(a.get(id).unwrap().1.reps[0].data, long.as_bytes());
    assert_eq!(a.search("zebramarker8842", 5).unwrap().len(), 1);
    assert_eq!(a.delete(&[id]).unwrap(), 1);
    assert!(!in_files(&frame), "compressed clip left after delete");
    assert!(a.search("zebramarker8842", 5).unwrap().is_empty());
    // clear empties it, again without a trace.
    let id = put(&mut a, &format!("again {marker}"), 200);
    assert!(id > 0);
    let id = put(&mut a, &long, 300);
    assert!(id > 0 && in_files(&frame));
    assert_eq!(a.clear().unwrap(), 52);
    assert!(!file_contains_folded(&dir.db(), marker));
    assert!(!file_contains_folded(&wal, marker));
    assert!(!in_files(&frame));
    assert_eq!(a.stats().unwrap().clips, 0);
    a.integrity_check().unwrap();
}

/// A word of `len` letters from a seeded xorshift generator: thousands of
/// them share no long prefix, so each one is stored nearly whole by the
/// index (whose leaves keep each term as the suffix it adds to the one
/// before) and can be looked for in the raw files.
fn word(state: &mut u64, len: usize) -> String {
    (0..len)
        .map(|_| {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            char::from(b'a' + (*state % 26) as u8)
        })
        .collect()
}

/// Issue 12's "deleted means gone" at a size where SQLite's b-trees move
/// cells between pages. A page that a balance rebuilds keeps the old bytes
/// of the cells it gave away in its unallocated gap, which `secure_delete`
/// never zeroes; a later delete of those cells, where they went, left the
/// copy in the gap. 4,096 clips of about 75 bytes with a marker word each;
/// six in eight are deleted (their pages merge), then one more in eight
/// (those that moved): none of the 3,584 deleted markers may be left in the
/// database or the WAL.
#[test]
fn deleted_clips_leave_no_copy_in_a_page_that_a_balance_rebuilt() {
    let dir = Dir::new("delete-at-scale");
    let mut a = Archive::open(&dir.db()).unwrap();
    let mut rng = 0x9E37_79B9_7F4A_7C15_u64;
    let markers: Vec<String> = (0..4096).map(|_| word(&mut rng, 14)).collect();
    // A fixed pid: this process's would change the rows' sizes, so where
    // they sit in the pages, from run to run.
    let origin = Origin {
        pid: 4242,
        kind: OriginKind::Cli,
        label: String::new(),
    };
    let mut ids = Vec::new();
    // In bursts of 16, as an archiver takes them from a board.
    let batch = 16;
    for (n, chunk) in markers.chunks(batch).enumerate() {
        let got = a
            .batch(|b| {
                chunk
                    .iter()
                    .enumerate()
                    .map(|(k, m)| {
                        let i = n * batch + k;
                        let text = format!("note {i}: the {m} was left at the station by someone");
                        let r = reps(&[("text/plain;charset=utf-8", text.as_bytes())]);
                        b.insert(&NewClip {
                            board: "test",
                            clip_id: None,
                            created: at(i as u64),
                            touched: at(i as u64),
                            origin: &origin,
                            pinned: false,
                            reps: &r,
                        })
                        .map(|d| d.id)
                    })
                    .collect::<rusqlite::Result<Vec<i64>>>()
            })
            .unwrap();
        ids.extend(got);
    }
    // The last 8 letters of each marker: the index may share the first few
    // with the term before it on a leaf, never these (26^8 choices).
    // The database, its WAL and its shared-memory index, end to end.
    let files = [
        dir.db(),
        side_file(&dir.db(), "-wal"),
        side_file(&dir.db(), "-shm"),
    ];
    let found = |which: &[usize]| -> Vec<(usize, usize)> {
        let mut bytes = std::fs::read(&files[0]).unwrap();
        for side in &files[1..] {
            bytes.extend(std::fs::read(side).unwrap_or_default());
        }
        let bytes = bytes.to_ascii_lowercase();
        let mut at: std::collections::HashMap<&[u8], usize> = which
            .iter()
            .map(|&i| (&markers[i].as_bytes()[6..], i))
            .collect();
        let mut hits = Vec::new();
        for (off, w) in bytes.windows(8).enumerate() {
            if let Some(i) = at.remove(w) {
                hits.push((i, off));
            }
        }
        hits.sort_unstable();
        hits
    };
    let all: Vec<usize> = (0..markers.len()).collect();
    assert_eq!(found(&all).len(), markers.len(), "every marker is stored");
    let first: Vec<usize> = all.iter().copied().filter(|i| i % 8 < 6).collect();
    let second: Vec<usize> = all.iter().copied().filter(|i| i % 8 == 6).collect();
    for round in [&first, &second] {
        let gone: Vec<i64> = round.iter().map(|&i| ids[i]).collect();
        assert_eq!(a.delete(&gone).unwrap(), gone.len());
    }
    let deleted: Vec<usize> = all.iter().copied().filter(|i| i % 8 < 7).collect();
    let left = found(&deleted);
    assert!(
        left.is_empty(),
        "{} of {} deleted markers are still in the database, its WAL or -shm: \
         (marker, byte offset in the three files end to end) {:?}",
        left.len(),
        deleted.len(),
        left.iter()
            .take(8)
            .map(|&(i, off)| (&markers[i], off))
            .collect::<Vec<_>>()
    );
    assert!(a.search(&markers[0], 5).unwrap().is_empty());
    assert_eq!(a.search(&markers[7], 5).unwrap().len(), 1);
    assert_eq!(a.stats().unwrap().clips, 512);
    a.integrity_check().unwrap();
}

#[test]
fn damaged_stored_content_is_an_error_that_says_so_not_a_panic() {
    let dir = Dir::new("damaged-content");
    let mut a = Archive::open(&dir.db()).unwrap();
    let long = "a long clip that is stored compressed, ".repeat(10);
    let (frame, short, negative) = (
        put(&mut a, &long, 1),
        put(&mut a, &long.replace("long", "wide"), 2),
        put(&mut a, &long.replace("long", "tall"), 3),
    );
    let conn = rusqlite::Connection::open(dir.db()).unwrap();
    // A frame cut short, a size that understates the content (a bomb), and
    // a negative size.
    conn.execute(
        "UPDATE clips SET data = substr(data, 1, 12) WHERE id = ?1",
        [frame],
    )
    .unwrap();
    conn.execute("UPDATE clips SET total_size = 7 WHERE id = ?1", [short])
        .unwrap();
    conn.execute("UPDATE clips SET total_size = -5 WHERE id = ?1", [negative])
        .unwrap();
    drop(conn);
    for id in [frame, short] {
        let err = a.get(id).unwrap_err().to_string();
        assert!(err.contains("damaged"), "{err}");
        assert!(err.contains(&dir.db().display().to_string()), "{err}");
    }
    assert!(a.get(negative).is_err());
    assert!(a.info(negative).is_err());
    // A search that finds them fails with the same error, and finds the rest.
    let other = put(&mut a, "an undamaged clip", 4);
    assert!(a.search("compressed", 10).is_err());
    assert_eq!(a.search("undamaged", 10).unwrap()[0].info.id, other);
}

#[test]
fn pins_restore_order_and_prunes() {
    let dir = Dir::new("prune");
    let mut a = Archive::open(&dir.db()).unwrap();
    let ids: Vec<i64> = (0..10)
        .map(|i| {
            put(
                &mut a,
                &format!("clip {i} {}", "x".repeat(i as usize * 10)),
                i,
            )
        })
        .collect();
    assert!(a.set_pinned(ids[0], true).unwrap());
    assert!(!a.set_pinned(12345, true).unwrap());
    // Depth 4: the pinned one, then the three newest; oldest first.
    assert_eq!(
        a.restore_order("test", 4, u64::MAX).unwrap(),
        vec![ids[0], ids[7], ids[8], ids[9]]
    );
    // Capacity: clip 9 (97 bytes) does not fit in 60 bytes; smaller ones do.
    let fit = a.restore_order("test", 3, 60).unwrap();
    assert_eq!(
        a.restore_order("another board", 4, u64::MAX).unwrap(),
        Vec::<i64>::new()
    );
    assert!(!fit.contains(&ids[9]) && fit.contains(&ids[0]), "{fit:?}");
    let gone = a.prune_older_than(at(3)).unwrap();
    assert_eq!(gone.clips, 2, "clips 1 and 2; the pinned clip 0 stays");
    let gone = a.prune_larger_than(70).unwrap();
    assert_eq!(gone.clips, 3, "clips 7, 8, 9");
    let before = a.stats().unwrap();
    assert_eq!(before.clips, 5);
    a.prune_to_bytes(100).unwrap();
    let after = a.stats().unwrap();
    assert!(after.stored_bytes <= 100, "{after:?}");
    assert!(
        a.info(ids[0]).unwrap().pinned,
        "pinned clips are never pruned"
    );
    a.vacuum().unwrap();
    a.integrity_check().unwrap();
}

#[test]
fn export_writes_a_file_per_representation_and_an_index() {
    let dir = Dir::new("export");
    let mut a = Archive::open(&dir.db()).unwrap();
    put(&mut a, "one", 1);
    put(&mut a, "two", 2);
    let out = dir.0.join("export");
    let report = a.export(&out).unwrap();
    assert_eq!((report.clips, report.files, report.bytes), (2, 2, 6));
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
    let first = &index["clips"][0]["representations"][0];
    assert_eq!(first["mime"], "text/plain;charset=utf-8");
    let file = out.join(first["file"].as_str().unwrap());
    assert_eq!(std::fs::read(&file).unwrap(), b"one");
    assert_eq!(std::fs::metadata(&file).unwrap().mode() & 0o777, 0o600);
    assert!(a.export(&out).is_err(), "an export never overwrites files");
}

/// Runs `open` on a file prepared by `make` and checks that it is refused
/// with `expect` and left byte for byte as it was.
fn refused(test: &str, make: impl FnOnce(&Path), expect: impl Fn(&Error) -> bool) {
    let dir = Dir::new(test);
    std::fs::create_dir_all(dir.db().parent().unwrap()).unwrap();
    std::fs::set_permissions(
        dir.db().parent().unwrap(),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    make(&dir.db());
    let before = std::fs::read(dir.db()).unwrap();
    let err = Archive::open(&dir.db()).unwrap_err();
    assert!(expect(&err), "unexpected error: {err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&dir.db().display().to_string()),
        "names the file: {msg}"
    );
    assert_eq!(
        std::fs::read(dir.db()).unwrap(),
        before,
        "the file was changed"
    );
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_kept() {
    refused(
        "notdb",
        |p| {
            std::fs::write(p, vec![b'x'; 8192]).unwrap();
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
        },
        |e| matches!(e, Error::NotADatabase { .. }) && e.to_string().contains("move it away"),
    );
}

#[test]
fn a_newer_schema_is_refused_and_kept() {
    refused(
        "newer",
        |p| {
            drop(Archive::open(p).unwrap());
            rusqlite_pragma(p, "user_version = 99");
        },
        |e| matches!(e, Error::NewerSchema { found: 99, .. }),
    );
}

#[test]
fn a_group_readable_file_is_refused_and_kept() {
    refused(
        "mode",
        |p| {
            drop(Archive::open(p).unwrap());
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o640)).unwrap();
        },
        |e| {
            matches!(e, Error::Permissions { mode: 0o640, .. })
                && e.to_string().contains("chmod 600")
        },
    );
}

#[test]
fn a_damaged_file_is_refused_and_kept() {
    let dir = Dir::new("corrupt");
    let mut a = Archive::open(&dir.db()).unwrap();
    for i in 0..400 {
        put(
            &mut a,
            &format!("{i} {}", "some text to fill pages ".repeat(20)),
            i,
        );
    }
    a.checkpoint().unwrap();
    drop(a);
    // Garbage over the pages after the first: the header still says SQLite.
    let mut bytes = std::fs::read(dir.db()).unwrap();
    assert!(bytes.len() > 40_000);
    for b in &mut bytes[8192..40_000] {
        *b = 0x5a;
    }
    std::fs::write(dir.db(), &bytes).unwrap();
    let err = Archive::open(&dir.db())
        .and_then(|a| a.integrity_check().map(|()| a))
        .unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains(".recover"), "{err}");
    assert_eq!(std::fs::read(dir.db()).unwrap(), bytes);
}

#[test]
fn a_file_of_another_user_is_refused() {
    let dir = Dir::new("owner");
    if nix::unistd::geteuid().is_root() {
        let db = dir.db();
        drop(Archive::open(&db).unwrap());
        std::os::unix::fs::chown(&db, Some(65534), Some(65534)).unwrap();
        let err = Archive::open(&db).unwrap_err();
        assert!(matches!(err, Error::NotOwner { uid: 65534, .. }), "{err}");
        assert!(err.to_string().contains("chown"));
    } else {
        // Not root: a directory of another user (root's /) stands in.
        let err = Archive::open(Path::new("/archive-test.sqlite3")).unwrap_err();
        assert!(matches!(err, Error::NotOwner { uid: 0, .. }), "{err}");
    }
}

#[test]
fn open_existing_creates_nothing() {
    let dir = Dir::new("existing");
    assert!(Archive::open_existing(&dir.db()).unwrap().is_none());
    assert!(!dir.db().exists());
}

#[test]
fn a_directory_others_may_write_is_refused_and_one_they_may_read_is_not() {
    let dir = Dir::new("dirmode");
    let data = dir.db().parent().unwrap().to_owned();
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o775)).unwrap();
    let err = Archive::open(&dir.db()).unwrap_err();
    assert!(
        matches!(err, Error::Permissions { mode: 0o775, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("chmod 755"), "{err}");
    assert!(!dir.db().exists(), "nothing is created in it");
    // 0755, as eframe makes the data directory: fine, the file is 0600.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    drop(Archive::open(&dir.db()).unwrap());
}
