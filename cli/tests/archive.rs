//! The archive through the real `shm-clip` binary: `archive run` in the
//! foreground against real CLI copies, `search`, `history --archive`,
//! `select --archive`, `rm --archive`, `archive stats | prune | export`, one
//! archiver per board, and refused archive files that leave the board working.

use shm_clip_test_kit::{SmallDisk, TestBoard};

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// The longest any wait may take.
const TIMEOUT: Duration = Duration::from_secs(30);

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_shm-clip")
}

/// A board plus a private archive file and runtime directory.
struct Setup {
    tb: TestBoard,
    db: PathBuf,
}

impl Setup {
    fn new(test: &str) -> Setup {
        let tb = TestBoard::new(test);
        for d in ["data", "run"] {
            std::fs::create_dir_all(tb.file(d)).unwrap();
            std::fs::set_permissions(tb.file(d), std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let db = tb.file("data").join("archive.sqlite3");
        Setup { tb, db }
    }

    /// Another board whose commands use `first`'s archive, as every board
    /// of a user does.
    fn sharing_the_archive_of(test: &str, first: &Setup) -> Setup {
        let mut setup = Setup::new(test);
        setup.db = first.db();
        setup
    }

    fn db(&self) -> PathBuf {
        self.db.clone()
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.env_remove("SHM_CLIP_BOARD")
            .env("SHM_CLIP_CONFIG", self.tb.file("config.toml"))
            .env("SHM_CLIP_ARCHIVE", self.db())
            .env("XDG_RUNTIME_DIR", self.tb.file("run"))
            .env("RUST_LOG", "warn")
            .arg("--board")
            .arg(self.tb.name.as_str())
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = self.cmd(args).output().unwrap();
        assert!(
            out.status.success(),
            "shm-clip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn stdout(&self, args: &[&str]) -> String {
        String::from_utf8(self.run(args).stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.stdout(args)).unwrap()
    }

    /// `json` against the archive file `db` instead of the test's own.
    fn json_with(&self, db: &Path, args: &[&str]) -> Value {
        let out = self.cmd(args).env("SHM_CLIP_ARCHIVE", db).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// `archive run -v`, with its stderr lines delivered to the test.
    fn archiver(&self) -> Archiver {
        let mut child = self
            .cmd(&["archive", "run", "-v"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::Builder::new()
            .name("archiver-stderr".into())
            .spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            })
            .unwrap();
        let mut a = Archiver { child, lines: rx };
        a.expect("archiving board");
        a
    }
}

/// A running `archive run`, killed on drop.
struct Archiver {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Archiver {
    /// Waits for a stderr line containing `what`; returns it.
    fn expect(&mut self, what: &str) -> String {
        loop {
            match self.lines.recv_timeout(TIMEOUT) {
                Ok(line) if line.contains(what) => return line,
                Ok(_) => {}
                Err(e) => panic!("archive run printed no line with {what:?}: {e}"),
            }
        }
    }

    /// Waits for "archiving resumed", and fails if a line with `warning`
    /// came again before it: a stalled archiver warns once.
    fn resumed_without_another(&mut self, warning: &str) {
        let mut later = Vec::new();
        loop {
            let line = self.lines.recv_timeout(TIMEOUT).expect("archiving resumes");
            let done = line.contains("archiving resumed");
            later.push(line);
            if done {
                break;
            }
        }
        assert!(
            !later.iter().any(|l| l.contains(warning)),
            "a second warning: {later:?}"
        );
    }
}

impl Drop for Archiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // What it said after the test stopped listening: the failure's context.
        for line in self.lines.try_iter() {
            eprintln!("archive run: {line}");
        }
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = self.cmd(&["destroy", "--force"]).output();
    }
}

fn unchanged_after(path: &Path, f: impl FnOnce()) {
    let before = std::fs::read(path).unwrap();
    f();
    assert_eq!(
        std::fs::read(path).unwrap(),
        before,
        "{} was changed",
        path.display()
    );
}

#[test]
fn the_archiver_keeps_evicted_clips_and_search_finds_them() {
    let s = Setup::new("arc-run");
    s.run(&["copy", "--depth", "2", "alpha invoice march"]);
    let mut a = s.archiver();
    for text in ["beta notes", "gamma invoice april", "delta"] {
        s.run(&["copy", text]);
        a.expect("1 archived");
    }
    // alpha and beta are evicted from the board (depth 2), not from the archive.
    let hits = s.json(&["search", "--json", "invoice"]);
    let hits = hits.as_array().unwrap();
    assert_eq!(hits.len(), 2, "{hits:?}");
    let by_preview = |p: &str| {
        hits.iter()
            .find(|h| h["preview"].as_str().unwrap().starts_with(p))
            .unwrap()
    };
    let gamma = by_preview("gamma");
    assert_eq!(
        (gamma["location"].as_str(), gamma["index"].as_u64()),
        (Some("board"), Some(1))
    );
    let alpha = by_preview("alpha");
    assert_eq!(alpha["location"], "archive");
    assert_eq!(alpha["index"], Value::Null);
    let id = alpha["archive_id"].as_i64().unwrap();
    // The text list says where each hit lives.
    let text = s.stdout(&["search", "invoice"]);
    assert!(
        text.contains(&format!("archive {id}")) && text.contains("board 1"),
        "{text}"
    );
    // history --archive lists all four, newest first.
    let listed = s.json(&["history", "--archive", "--json"]);
    let previews: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["preview"].as_str().unwrap())
        .collect();
    assert_eq!(
        previews,
        [
            "delta",
            "gamma invoice april",
            "beta notes",
            "alpha invoice march"
        ]
    );
    // select --archive brings it back as the current clip; the archiver sees it
    // as the same archived clip.
    s.run(&["select", "--archive", &id.to_string()]);
    assert_eq!(s.stdout(&["paste"]), "alpha invoice march");
    let stats = s.json(&["archive", "stats", "--json"]);
    assert_eq!(stats["clips"], 4);
    assert_eq!(stats["schema"], 2);
    // A second archiver of the board says which one runs.
    let second = s.cmd(&["archive", "run"]).output().unwrap();
    assert_eq!(
        second.status.code(),
        Some(3),
        "the unit's RestartPreventExitStatus"
    );
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains(&format!("pid {}", a.child.id())), "{err}");
}

#[test]
fn search_reads_a_board_entry_s_html_and_uris_as_the_archive_does() {
    let s = Setup::new("arc-html");
    s.run(&[
        "copy",
        "--type",
        "text/html",
        "<span class=\"quokka\">Fish &amp; chips</span>",
    ]);
    s.run(&["copy", "--type", "text/uri-list", "file:///srv/wombat.txt"]);
    let previews = |query: &str| -> Vec<String> {
        s.json(&["search", "--json", query])
            .as_array()
            .unwrap()
            .iter()
            .map(|h| format!("{} {}", h["location"], h["preview"].as_str().unwrap()))
            .collect()
    };
    assert_eq!(previews("fish & chips"), ["\"board\" Fish & chips"]);
    // The markup is not text.
    assert_eq!(previews("quokka"), Vec::<String>::new());
    assert_eq!(previews("wombat"), ["\"board\" file:///srv/wombat.txt"]);
}

#[test]
fn destroy_deletes_the_boards_evicted_clips_from_the_archive_but_not_another_boards() {
    let s = Setup::new("arc-destroy");
    let other = Setup::sharing_the_archive_of("arc-destroy-b", &s);
    other.run(&["copy", "shared walrus"]);
    other.run(&["copy", "other board's own"]);
    // Each archiver's catch-up is done when it says it is archiving.
    let b = other.archiver();
    s.run(&["copy", "--depth", "2", "evicted quokka7731"]);
    let mut a = s.archiver();
    for text in ["second", "shared walrus"] {
        s.run(&["copy", text]);
        a.expect("archived");
    }
    // The quokka has left the board (depth 2), not the archive.
    let on_board: Vec<Value> = s.json(&["history", "--json"]).as_array().unwrap().clone();
    assert!(on_board.iter().all(|e| e["text"] != "evicted quokka7731"));
    assert_eq!(
        s.json(&["search", "--json", "quokka7731"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    drop(a);
    let out = s.stdout(&["destroy"]);
    assert!(out.contains("deleted its 2 archived clips"), "{out}");
    // The evicted clip is gone from the archive and its files, and so is
    // "second"; what the other board holds stays archived.
    let listed: Vec<String> = s
        .json(&["history", "--archive", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["preview"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, ["shared walrus", "other board's own"]);
    for file in [s.db(), PathBuf::from(format!("{}-wal", s.db().display()))] {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !bytes.windows(10).any(|w| w == b"quokka7731"),
            "{} still holds the destroyed clip",
            file.display()
        );
    }
    drop(b);
}

#[test]
fn rm_and_clear_on_the_board_leave_the_archive() {
    let s = Setup::new("arc-rm");
    s.run(&["copy", "keep this"]);
    s.run(&["copy", "Wombat5512 private"]);
    s.run(&["copy", "newest"]);
    let mut a = s.archiver();
    s.run(&["rm", "1"]);
    a.expect("1 deleted");
    // Applied: the deferred scrub finished.
    a.expect("scrubbed");
    assert!(
        s.json(&["search", "--json", "wombat5512"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    for f in [s.db(), PathBuf::from(format!("{}-wal", s.db().display()))] {
        let bytes = std::fs::read(&f).unwrap_or_default().to_ascii_lowercase();
        assert!(
            !bytes.windows(10).any(|w| w == b"wombat5512"),
            "{} holds the marker",
            f.display()
        );
    }
    s.run(&["clear"]);
    a.expect("2 deleted");
    assert_eq!(s.json(&["archive", "stats", "--json"])["clips"], 0);
}

#[test]
fn archive_commands_prune_export_and_rm_by_id() {
    let s = Setup::new("arc-cmds");
    s.run(&["copy", "small"]);
    s.run(&["copy", &"x".repeat(3000)]);
    s.run(&["copy", "pinned one"]);
    s.run(&["pin", "0"]);
    // Started after the copies: its catch-up archives all three.
    let _a = s.archiver();
    let listed = s.json(&["history", "--archive", "--json"]);
    let pinned_id = listed[0]["id"].as_i64().unwrap();
    assert_eq!(listed[0]["pinned"], true);
    // pin/unpin --archive act on the board entry too, as rm --archive does.
    let small_id = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["preview"] == "small")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let board_pin = |text: &str| {
        s.json(&["history", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["text"] == text)
            .unwrap()["pinned"]
            .clone()
    };
    s.run(&["pin", "--archive", &small_id.to_string()]);
    assert_eq!(board_pin("small"), true);
    s.run(&["unpin", "--archive", &small_id.to_string()]);
    assert_eq!(board_pin("small"), false);
    let out = s.stdout(&["archive", "prune", "--larger-than", "2K"]);
    assert!(out.contains("removed 1 clip"), "{out}");
    // A bare number is refused, not taken as seconds: `30` is too easily meant as days.
    let bare = s
        .cmd(&["archive", "prune", "--older-than", "30"])
        .output()
        .unwrap();
    assert_eq!(bare.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bare.stderr)
            .contains("\"30\" has no unit; write it with s, m, h, d or w, like 30d"),
        "{}",
        String::from_utf8_lossy(&bare.stderr)
    );
    assert_eq!(s.json(&["archive", "stats", "--json"])["clips"], 2);
    let out = s.stdout(&["archive", "prune", "--older-than", "0s"]);
    assert!(
        out.contains("removed 1 clip"),
        "{out}: the small one; the pinned one stays"
    );
    let export = s.tb.file("export");
    let out = s.stdout(&["archive", "export", export.to_str().unwrap()]);
    assert!(out.contains("exported 1 clip"), "{out}");
    let index: Value =
        serde_json::from_slice(&std::fs::read(export.join("index.json")).unwrap()).unwrap();
    // Never into another export, nor onto a file: refused before a write.
    for (target, why) in [
        (export.clone(), "the directory is not empty"),
        (
            export.join("index.json"),
            "it exists and is not a directory",
        ),
    ] {
        let out = s
            .cmd(&["archive", "export", target.to_str().unwrap()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            err.contains(&format!("cannot export into {}: {why}", target.display())),
            "{err}"
        );
    }
    assert_eq!(
        std::fs::read_dir(&export).unwrap().count(),
        2,
        "nothing added"
    );
    assert_eq!(index["clips"][0]["id"], pinned_id);
    // rm --archive of a pinned clip wants --force, and takes it off the board too.
    let refused = s
        .cmd(&["rm", "--archive", &pinned_id.to_string()])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    s.run(&["rm", "--archive", &pinned_id.to_string(), "--force"]);
    assert_eq!(s.json(&["archive", "stats", "--json"])["clips"], 0);
    let text = s.stdout(&["archive", "stats"]);
    assert!(text.contains("\nused:     no clips yet\n"), "{text}");
    assert!(
        s.json(&["history", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["pinned"] == false)
    );
    s.run(&["archive", "vacuum"]);
}

#[test]
fn a_bad_archive_file_stops_the_archiver_and_not_the_board() {
    let s = Setup::new("arc-bad");
    std::fs::write(
        s.db(),
        b"this is not a database, but someone's file\n".repeat(100),
    )
    .unwrap();
    std::fs::set_permissions(s.db(), std::fs::Permissions::from_mode(0o600)).unwrap();
    unchanged_after(&s.db(), || {
        let out = s.cmd(&["archive", "run"]).output().unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&s.db().display().to_string()) && err.contains("not an SQLite database"),
            "{err}"
        );
        let out = s.cmd(&["search", "x"]).output().unwrap();
        assert!(!out.status.success(), "search reports the bad archive too");
    });
    std::fs::set_permissions(s.db(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = s.cmd(&["archive", "run"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("chmod 600"), "{err}");
    // The board works all the same.
    s.run(&["copy", "still fine"]);
    assert_eq!(s.stdout(&["paste"]), "still fine");
}

#[test]
fn archive_run_refuses_when_turned_off() {
    let s = Setup::new("arc-off");
    std::fs::write(s.tb.file("config.toml"), "[archive]\nenabled = false\n").unwrap();
    let out = s.cmd(&["archive", "run"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("archive.enabled = false") && err.contains("config.toml"),
        "{err}"
    );
    assert!(!s.db().exists(), "nothing was created");
}

#[test]
fn a_full_disk_warns_once_and_archiving_resumes() {
    let s = Setup::new("arc-full");
    let disk = SmallDisk::mount(s.tb.file("small"), "2m");
    // A filler takes most of the disk; removing it gives the space back.
    let filler = disk.path().join("filler");
    std::fs::write(&filler, vec![0u8; 1200 << 10]).unwrap();
    let db = disk.path().join("archive.sqlite3");
    let cmd = |args: &[&str]| {
        let mut c = s.cmd(args);
        c.env("SHM_CLIP_ARCHIVE", &db);
        c
    };
    let mut child = cmd(&["archive", "run", "-v"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::Builder::new()
        .name("archiver-stderr".into())
        .spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        })
        .unwrap();
    let mut a = Archiver { child, lines: rx };
    a.expect("archiving board");
    // Incompressible 100 KiB clips until the disk is full.
    let mut n = 0u32;
    let copy = |n: u32| {
        let data: Vec<u8> = (0..100 << 10)
            .map(|i: u32| (i.wrapping_mul(2_654_435_761).wrapping_add(n) >> 13) as u8)
            .collect();
        let file = s.tb.file("clip.bin");
        std::fs::write(&file, data).unwrap();
        s.run(&["copy", "--file", file.to_str().unwrap()]);
    };
    let warning = loop {
        n += 1;
        assert!(n < 40, "the 2 MiB disk never filled");
        copy(n);
        let line = loop {
            let line = a.lines.recv_timeout(TIMEOUT).expect("a line per copy");
            if line.contains("archived") || line.contains("disk is full") {
                break line;
            }
        };
        if line.contains("disk is full") {
            break line;
        }
    };
    assert!(
        warning.contains(&db.display().to_string()) && warning.contains("board keeps working"),
        "{warning}"
    );
    // The board keeps working, and more copies bring no second warning.
    for _ in 0..3 {
        n += 1;
        copy(n);
    }
    s.run(&["copy", "after the full disk"]);
    assert_eq!(s.stdout(&["paste"]), "after the full disk");
    std::fs::remove_file(&filler).unwrap();
    // Space is back: the next try (a copy, or the retry timer) succeeds.
    s.run(&["copy", "space again"]);
    a.resumed_without_another("disk is full");
    a.expect("archived");
    let hits = s.json_with(&db, &["search", "--json", "space again"]);
    assert_eq!(hits.as_array().unwrap().len(), 1, "{hits}");
    drop(a);
    shm_clip_archive::Archive::open(&db)
        .unwrap()
        .integrity_check()
        .unwrap();
}

/// Another program holds the archive's write lock past the busy timeout
/// while clips are copied: the archiver warns once, keeps running, and
/// archives them once the lock is let go. (It used to end its run.)
#[test]
fn a_busy_archive_warns_once_and_archiving_resumes() {
    let s = Setup::new("arc-busy");
    let mut a = s.archiver();
    s.run(&["copy", "before the lock"]);
    a.expect("archived");
    let other = rusqlite::Connection::open(s.db()).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    s.run(&["copy", "while busy"]);
    let warning = a.expect("holds the archive busy");
    assert!(
        warning.contains(&s.db().display().to_string()) && warning.contains("board keeps working"),
        "{warning}"
    );
    // The board keeps working, and further looks bring no second warning.
    s.run(&["copy", "still busy"]);
    assert_eq!(s.stdout(&["paste"]), "still busy");
    other.execute_batch("ROLLBACK").unwrap();
    a.resumed_without_another("holds the archive busy");
    a.expect("archived");
    // All three are archived: none was lost to the busy looks.
    let stats = s.json(&["archive", "stats", "--json"]);
    assert_eq!(stats["clips"], 3, "{stats}");
    assert!(
        a.child.try_wait().unwrap().is_none(),
        "the archiver ended its run"
    );
}

/// `rm --archive` on a disk without room for the scrub (it needs about
/// twice the live data free): the clip is deleted and the command succeeds,
/// with a warning that names the room it needs and the fix.
#[test]
fn rm_archive_succeeds_when_the_disk_has_no_room_to_scrub() {
    use shm_clip::{Origin, OriginKind, Representation};
    use shm_clip_archive::{Archive, NewClip};
    let s = Setup::new("arc-rm-noroom");
    let disk = SmallDisk::mount(s.tb.file("small"), "16m");
    let db = disk.path().join("archive.sqlite3");
    let mut a = Archive::open(&db).unwrap();
    let origin = Origin::this_process(OriginKind::Cli);
    let mut add = |mime: &str, data: Vec<u8>| {
        let at = std::time::SystemTime::now();
        a.insert(&NewClip {
            board: "b",
            clip_id: None,
            created: at,
            touched: at,
            origin: &origin,
            pinned: false,
            reps: &[Representation {
                mime: mime.into(),
                data,
            }],
        })
        .unwrap()
        .id
    };
    for n in 0..4u32 {
        let data = (0..1u32 << 20)
            .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(n) >> 13) as u8)
            .collect();
        add("image/png", data);
    }
    let id = add("text/plain", b"the Bilby9090 secret".to_vec());
    a.checkpoint().unwrap();
    drop(a);
    // 4 MiB live: the scrub needs about 9; 3 are left.
    let filler = disk.path().join("filler");
    let fs = nix::sys::statvfs::statvfs(disk.path()).unwrap();
    let avail = fs.blocks_available() * fs.fragment_size();
    std::fs::write(&filler, vec![0u8; (avail - (3 << 20)) as usize]).unwrap();
    let out = s
        .cmd(&["rm", "--archive", &id.to_string()])
        .env("SHM_CLIP_ARCHIVE", &db)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "rm --archive failed: {err}");
    assert!(
        err.contains("MiB free beside the archive") && err.contains(&db.display().to_string()),
        "no warning that the scrub was left: {err}"
    );
    let a = Archive::open(&db).unwrap();
    assert!(a.scrub_pending(), "the scrub is not left due");
    assert!(a.search("bilby9090", 5).unwrap().is_empty(), "not deleted");
    assert_eq!(a.stats().unwrap().clips, 4);
    drop(a);
    std::fs::remove_file(&filler).unwrap();
}
