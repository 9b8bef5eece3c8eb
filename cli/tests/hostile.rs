//! Segments that someone else prepared at a board's path, and board names
//! that are not names.
//!
//! A hostile or broken segment must be refused with a specific error that
//! names the path and says what to do, and it must be left exactly as it was:
//! the same bytes, size, mode, owner, inode, mtime and ctime. The CLI says so
//! in one line, `shm-clip: refusing segment PATH: why (what to do)`.
//!
//! The cases with another user's files setuid a child to `nobody`, so they
//! need root (as CI has) and fail without it.

use shm_clip_test_kit as common;

use std::fs::{OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Proc, Rng, Snapshot, TestBoard, snapshot};
use shm_clip::format::off;
use shm_clip::{Board, BoardName, Clip, CreateOptions, Error, LAYOUT_VERSION, Origin, OriginKind};

const OPTS: CreateOptions = CreateOptions {
    capacity: 64 << 10,
    depth: 8,
};

/// The bytes of a real board of ours, with one clip in it. The board is
/// destroyed again, so its path is free for the cases.
fn real_image(tb: &TestBoard) -> Vec<u8> {
    let board = tb.open(OPTS);
    board
        .copy(&Clip::text("a secret of the real board"))
        .unwrap();
    drop(board);
    let bytes = std::fs::read(tb.path()).unwrap();
    Board::destroy(&tb.name, false).unwrap();
    assert!(!tb.path().exists());
    bytes
}

/// Puts `bytes` at `path` with exactly `mode`, replacing whatever was there.
fn plant(path: &Path, bytes: &[u8], mode: u32) {
    let _ = std::fs::remove_file(path);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .unwrap();
    f.write_all(bytes).unwrap();
    drop(f);
    std::fs::set_permissions(path, Permissions::from_mode(mode)).unwrap();
}

/// A hostile file: what it is, its bytes, the error it must produce, and
/// what that error's message must say.
type Case = (&'static str, Vec<u8>, fn(&Error) -> bool, Vec<String>);

fn says(needles: &[&str]) -> Vec<String> {
    needles.iter().map(|n| (*n).to_owned()).collect()
}

fn with_u32(mut image: Vec<u8>, at: usize, v: u32) -> Vec<u8> {
    image[at..at + 4].copy_from_slice(&v.to_ne_bytes());
    image
}

fn with_u64(mut image: Vec<u8>, at: usize, v: u64) -> Vec<u8> {
    image[at..at + 8].copy_from_slice(&v.to_ne_bytes());
    image
}

fn u64_at(image: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(image[at..at + 8].try_into().unwrap())
}

fn assert_untouched(what: &str, before: &Snapshot, after: &Snapshot) {
    if before.bytes != after.bytes {
        let first = before
            .bytes
            .iter()
            .zip(&after.bytes)
            .position(|(a, b)| a != b);
        panic!(
            "{what}: the refused segment was modified (first difference at {first:?}, lengths {} -> {})",
            before.bytes.len(),
            after.bytes.len()
        );
    }
    assert_eq!(
        (before.len, before.mode, before.uid, before.ino),
        (after.len, after.mode, after.uid, after.ino),
        "{what}: size, mode, owner or inode changed"
    );
    assert_eq!(before.mtime, after.mtime, "{what}: mtime changed");
    assert_eq!(before.ctime, after.ctime, "{what}: ctime changed");
}

/// Every way of opening the board is refused with an error that `expect`
/// accepts, that names the path and says why (every one of `needles`), and
/// that has a hint saying what to do; the file stays as it was.
fn assert_refused(tb: &TestBoard, what: &str, expect: impl Fn(&Error) -> bool, needles: &[&str]) {
    let path = tb.path();
    let before = snapshot(&path);
    let origin = || Origin::this_process(OriginKind::Cli);
    let attempts = [
        (
            "open with create",
            Board::open_with(&tb.name, origin(), Some(OPTS)).map(drop),
        ),
        (
            "open existing",
            Board::open_with(&tb.name, origin(), None).map(drop),
        ),
        (
            "open default",
            Board::open(&tb.name, OriginKind::Cli).map(drop),
        ),
        ("destroy", Board::destroy(&tb.name, false).map(|_| ())),
    ];
    for (how, result) in attempts {
        let err = result.expect_err(&format!("{what}: {how} must be refused"));
        assert!(expect(&err), "{what}: {how}: unexpected error {err:?}");
        let shown = err.to_string();
        assert!(
            shown.contains(path.to_str().unwrap()),
            "{what}: {how}: {shown:?} does not name the path"
        );
        for needle in needles {
            assert!(
                shown.contains(needle),
                "{what}: {how}: {shown:?} does not say {needle:?}"
            );
        }
        let hint = err
            .hint()
            .unwrap_or_else(|| panic!("{what}: {how}: no hint for {err:?}"));
        // A hint is an action: a command to run or an option to use.
        assert!(
            ["rm ", "shm-clip ", "--board"]
                .iter()
                .any(|action| hint.contains(action)),
            "{what}: {how}: the hint {hint:?} says nothing to do"
        );
    }
    assert_untouched(what, &before, &snapshot(&path));
}

#[test]
fn world_or_group_accessible_segments_are_refused() {
    let tb = TestBoard::new("hostile-mode");
    let image = real_image(&tb);
    for mode in [0o666, 0o644, 0o640, 0o604, 0o660, 0o602] {
        plant(&tb.path(), &image, mode);
        let shown_mode = format!("mode {mode:04o}");
        assert_refused(
            &tb,
            &shown_mode,
            |e| {
                matches!(e, Error::UnsafeSegment { owner, mode: m, expected_uid, .. }
                if *owner == common::euid() && *m == mode && *expected_uid == common::euid())
            },
            &["refusing segment", &shown_mode, "mode 0600"],
        );
    }
    // Our own file is no spy's trap: the hint names the command that
    // removes it, and that command works.
    let hint = Board::open(&tb.name, OriginKind::Cli)
        .unwrap_err()
        .hint()
        .unwrap();
    assert!(
        hint.contains(&format!("shm-clip --board {} destroy --force", tb.name))
            && !hint.contains("spy"),
        "{hint}"
    );
    Board::destroy(&tb.name, true).unwrap();
    assert!(!tb.path().exists(), "destroy --force removed it");
}

#[test]
fn garbage_and_foreign_headers_are_refused() {
    let tb = TestBoard::new("hostile-header");
    let image = real_image(&tb);
    let mut rng = Rng::new(99);
    let mut garbage: Vec<u8> = (0..image.len()).map(|_| rng.next_u64() as u8).collect();
    garbage[8] |= 1; // a non-zero version, so the opener does not wait for one
    let mut abi = image.clone();
    abi[off::ABI_TAG..off::ABI_TAG + 32]
        .copy_from_slice(b"sparc64/plan9/mutex99\0\0\0\0\0\0\0\0\0\0\0");
    let mut magic = image.clone();
    magic[..8].copy_from_slice(b"NOTCLIP\0");
    let version = format!("layout version 99, this build speaks version {LAYOUT_VERSION}");
    let magic_says = says(&["refusing segment", "not an shm-clip board", "bad magic"]);
    let cases: Vec<Case> = vec![
        (
            "garbage",
            garbage,
            |e| matches!(e, Error::BadMagic { .. }),
            magic_says.clone(),
        ),
        (
            "wrong magic",
            magic,
            |e| matches!(e, Error::BadMagic { .. }),
            magic_says,
        ),
        (
            "version 99",
            with_u32(image.clone(), off::VERSION, 99),
            |e| matches!(e, Error::IncompatibleLayout { found: 99, expected, .. } if *expected == LAYOUT_VERSION),
            vec![version],
        ),
        (
            "other ABI",
            abi,
            |e| matches!(e, Error::AbiMismatch { found, .. } if found == "sparc64/plan9/mutex99"),
            says(&["created by ABI \"sparc64/plan9/mutex99\"", "this build is"]),
        ),
        (
            "other pid namespace",
            with_u64(
                image.clone(),
                off::PIDNS_INO,
                u64_at(&image, off::PIDNS_INO) ^ 1,
            ),
            |e| matches!(e, Error::PidNamespace { .. }),
            says(&["pid namespace", "this process is in"]),
        ),
        (
            "header size",
            with_u32(image.clone(), off::HEADER_SIZE, 128),
            |e| matches!(e, Error::CorruptHeader { .. }),
            says(&["corrupt header"]),
        ),
        (
            "zero depth",
            with_u32(image.clone(), off::INDEX_SLOTS, 0),
            |e| matches!(e, Error::CorruptHeader { .. }),
            says(&["corrupt header"]),
        ),
    ];
    for (what, bytes, expect, needles) in cases {
        plant(&tb.path(), &bytes, 0o600);
        let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
        assert_refused(&tb, what, expect, &needles);
    }
}

#[test]
fn truncated_and_oversized_claims_are_refused() {
    let tb = TestBoard::new("hostile-size");
    let image = real_image(&tb);
    let len = image.len() as u64;
    let bad_size = |e: &Error| matches!(e, Error::BadSize { .. });
    let size_says = |n: usize| {
        vec![
            format!("size {n} bytes"),
            "not a valid board size".to_owned(),
        ]
    };
    let corrupt = |e: &Error| matches!(e, Error::CorruptHeader { .. });
    let corrupt_says = || says(&["corrupt header"]);
    // The arena (the capacity field) claims more than the file holds...
    let arena = with_u64(image.clone(), off::ARENA_SIZE, 2 * len);
    // ...and also with a segment size that agrees with that claim.
    let both = with_u64(
        arena.clone(),
        off::SEGMENT_SIZE,
        u64_at(&image, off::ARENA_OFFSET) + 2 * len,
    );
    let cases: Vec<Case> = vec![
        ("17 bytes", image[..17].to_vec(), bad_size, size_says(17)),
        (
            "truncated to 100 bytes",
            image[..100].to_vec(),
            bad_size,
            size_says(100),
        ),
        (
            "truncated to half",
            image[..image.len() / 2].to_vec(),
            bad_size,
            size_says(image.len() / 2),
        ),
        (
            "one byte short",
            image[..image.len() - 1].to_vec(),
            bad_size,
            size_says(image.len() - 1),
        ),
        (
            "one byte extra",
            [&image[..], &[0]].concat(),
            bad_size,
            size_says(image.len() + 1),
        ),
        ("arena larger than the file", arena, corrupt, corrupt_says()),
        (
            "arena and size larger than the file",
            both,
            bad_size,
            says(&["not a valid board size"]),
        ),
        // Sizes whose sums overflow 64 bits must not wrap into "fits".
        (
            "arena of u64::MAX bytes",
            with_u64(image.clone(), off::ARENA_SIZE, u64::MAX),
            corrupt,
            corrupt_says(),
        ),
        (
            "arena at offset u64::MAX",
            with_u64(image.clone(), off::ARENA_OFFSET, u64::MAX),
            corrupt,
            corrupt_says(),
        ),
        (
            "index at offset u64::MAX",
            with_u64(image.clone(), off::INDEX_OFFSET, u64::MAX),
            corrupt,
            corrupt_says(),
        ),
        (
            "u32::MAX index slots",
            with_u32(image.clone(), off::INDEX_SLOTS, u32::MAX),
            corrupt,
            corrupt_says(),
        ),
        (
            "u32::MAX subscriber slots",
            with_u32(image.clone(), off::SUB_SLOTS, u32::MAX),
            corrupt,
            corrupt_says(),
        ),
        (
            "subscriber slots of u32::MAX bytes",
            with_u32(image.clone(), off::SUB_SLOT_SIZE, u32::MAX),
            corrupt,
            corrupt_says(),
        ),
        (
            "segment size field twice the file",
            with_u64(image.clone(), off::SEGMENT_SIZE, 2 * len),
            |e| matches!(e, Error::BadSize { .. } | Error::CorruptHeader { .. }),
            says(&["refusing segment"]),
        ),
    ];
    for (what, bytes, expect, needles) in cases {
        plant(&tb.path(), &bytes, 0o600);
        let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
        assert_refused(&tb, what, expect, &needles);
    }
}

#[test]
fn a_segment_whose_creator_never_finished_is_refused() {
    let tb = TestBoard::new("hostile-uninit");
    let image = with_u32(real_image(&tb), off::VERSION, 0);
    plant(&tb.path(), &image, 0o600);
    let before = snapshot(&tb.path());
    let err = Board::open_with(&tb.name, Origin::this_process(OriginKind::Cli), Some(OPTS))
        .expect_err("an unpublished segment must be refused");
    assert!(matches!(err, Error::InitTimeout { .. }), "{err:?}");
    assert!(err.to_string().contains(tb.path().to_str().unwrap()));
    assert!(err.hint().is_some());
    assert_untouched("version 0", &before, &snapshot(&tb.path()));
    // Saves the guard's forced destroy another two seconds of waiting.
    std::fs::remove_file(tb.path()).unwrap();
}

#[test]
fn fifos_symlinks_and_directories_are_refused() {
    let tb = TestBoard::new("hostile-kind");
    let image = real_image(&tb);
    let path = tb.path();
    let origin = || Origin::this_process(OriginKind::Cli);

    // A FIFO: opening it read-write does not block, and it is not a file.
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    assert_refused(
        &tb,
        "fifo",
        |e| matches!(e, Error::UnsafeSegment { reason, .. } if reason.contains("regular")),
        &["refusing segment", "regular"],
    );
    std::fs::remove_file(&path).unwrap();

    // A symlink to a valid board image of ours: never followed.
    let victim = tb.file("victim");
    plant(&victim, &image, 0o600);
    std::os::unix::fs::symlink(&victim, &path).unwrap();
    let (link_before, victim_before) = (snapshot(&path), snapshot(&victim));
    for create in [Some(OPTS), None] {
        let err = Board::open_with(&tb.name, origin(), create).expect_err("symlink refused");
        assert!(err.to_string().contains(path.to_str().unwrap()), "{err}");
    }
    assert_untouched("symlink", &link_before, &snapshot(&path));
    assert_untouched("symlink target", &victim_before, &snapshot(&victim));
    std::fs::remove_file(&path).unwrap();

    // A directory.
    std::fs::create_dir(&path).unwrap();
    for create in [Some(OPTS), None] {
        let err = Board::open_with(&tb.name, origin(), create).expect_err("directory refused");
        assert!(err.to_string().contains(path.to_str().unwrap()), "{err}");
    }
    assert!(path.is_dir());
    std::fs::remove_dir(&path).unwrap();
}

/// As user `nobody`, copies `src` to `dst` with `mode`, through the shell.
fn plant_as_nobody(src: &Path, dst: &Path, mode: u32) {
    let mut cmd = Command::new("/bin/sh");
    std::os::unix::process::CommandExt::uid(&mut cmd, 65534);
    std::os::unix::process::CommandExt::gid(&mut cmd, 65534);
    // Not our working directory, which may be in a 0700 home.
    cmd.current_dir("/");
    cmd.args([
        "-c",
        "umask 077 && cat -- \"$1\" > \"$2\" && chmod \"$3\" \"$2\"",
    ])
    .arg("sh")
    .arg(src)
    .arg(dst)
    .arg(format!("{mode:o}"));
    Proc::spawn(cmd, "plant as nobody").finish_ok(Duration::from_secs(10));
}

/// As user `nobody`, creates an empty `dst` with `mode`: a squatter who
/// got there first and waits for the victim to fill the file in.
fn squat_as_nobody(dst: &Path, mode: u32) {
    let mut cmd = Command::new("/bin/sh");
    std::os::unix::process::CommandExt::uid(&mut cmd, 65534);
    std::os::unix::process::CommandExt::gid(&mut cmd, 65534);
    // Not our working directory, which may be in a 0700 home.
    cmd.current_dir("/");
    cmd.args(["-c", "umask 077 && : > \"$1\" && chmod \"$2\" \"$1\""])
        .arg("sh")
        .arg(dst)
        .arg(format!("{mode:o}"));
    Proc::spawn(cmd, "squat as nobody").finish_ok(Duration::from_secs(10));
}

/// These cases setuid a child to `nobody`: CI runs them as root, and they
/// fail rather than pass quietly elsewhere.
fn require_root() {
    assert_eq!(
        common::euid(),
        0,
        "this test plants files as another user (setuid nobody) and must run as root, as CI does"
    );
}

/// `shm-clip --board NAME ARGS...`, under a watchdog.
fn cli(name: &str, args: &[&str]) -> common::Finished {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shm-clip"));
    cmd.env_remove("SHM_CLIP_BOARD")
        .env("RUST_LOG", "warn")
        .arg("--board")
        .arg(name)
        .args(args);
    Proc::spawn(cmd, &format!("shm-clip --board {name} {args:?}")).finish(Duration::from_secs(10))
}

/// A clip the CLI tries to put into a hostile segment.
const CLI_SECRET: &str = "cli-secret-9d2f7a";

/// Every CLI command that opens the board fails with status 1 and one line
/// `shm-clip: refusing segment PATH: why (hint)` that says each of
/// `needles`; nothing reaches stdout, and the file stays as it was.
fn assert_cli_refused(tb: &TestBoard, what: &str, needles: &[&str]) {
    let path = tb.path();
    let before = snapshot(&path);
    for args in [
        &["copy", CLI_SECRET][..],
        &["--capacity", "1M", "copy", CLI_SECRET],
        &["paste"],
        &["history"],
        &["status"],
        &["watch"],
        &["destroy"],
    ] {
        let out = cli(tb.name.as_str(), args);
        let how = format!("{what}: shm-clip {args:?}");
        assert_eq!(out.status.code(), Some(1), "{how}: {}", out.stderr);
        assert!(out.lines.is_empty(), "{how}: stdout {:?}", out.lines);
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{how}: {}", out.stderr);
        let line = lines[0];
        assert!(
            line.starts_with(&format!("shm-clip: refusing segment {}", path.display())),
            "{how}: {line}"
        );
        for needle in needles {
            assert!(line.contains(needle), "{how}: {needle:?} not in {line:?}");
        }
        assert!(
            line.ends_with(')') && line.contains(" ("),
            "{how}: no hint: {line}"
        );
    }
    let after = snapshot(&path);
    assert!(
        !String::from_utf8_lossy(&after.bytes).contains(CLI_SECRET),
        "{what}: the clip was written into the hostile segment"
    );
    assert_untouched(what, &before, &after);
}

#[test]
fn segments_of_another_user_are_refused_when_root() {
    require_root();
    let tb = TestBoard::new("hostile-uid");
    let image = real_image(&tb);
    let src = tb.file("image");
    plant(&src, &image, 0o644);
    let path = tb.path();
    for mode in [0o600, 0o644, 0o666] {
        let _ = std::fs::remove_file(&path);
        plant_as_nobody(&src, &path, mode);
        let planted = snapshot(&path);
        assert_eq!((planted.uid, planted.mode & 0o7777), (65534, mode));
        let what = format!("uid 65534 mode {mode:04o}");
        let shown = format!("owned by uid 65534 with mode {mode:04o}, expected uid 0");
        assert_refused(
            &tb,
            &what,
            |e| matches!(e, Error::UnsafeSegment { owner: 65534, mode: m, expected_uid: 0, .. } if *m == mode),
            &[&shown],
        );
        assert_cli_refused(&tb, &what, &[&shown]);
        // Named for us, but not ours: no board of ours to list.
        assert!(
            !Board::list().unwrap().contains(&tb.name),
            "{what}: listed by Board::list"
        );
        // Even a forced destroy leaves another user's segment alone.
        let err = Board::destroy(&tb.name, true).expect_err("not ours to remove");
        assert!(
            matches!(err, Error::UnsafeSegment { owner: 65534, .. }),
            "{err:?}"
        );
        assert_untouched("forced destroy", &planted, &snapshot(&path));
        let out = cli(tb.name.as_str(), &["destroy", "--force"]);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", out.stderr);
        assert_untouched("shm-clip destroy --force", &planted, &snapshot(&path));
    }
}

/// The squatting attack proper: another user (or we, with a loose mode)
/// creates the board's path *empty* before the first copy, and waits for
/// the victim to initialise it and copy secrets into it. The creator must
/// see the file is not its own and refuse, without growing or writing it.
#[test]
fn an_empty_segment_squatted_before_the_first_copy_is_never_filled() {
    require_root();
    let tb = TestBoard::new("hostile-squat");
    let path = tb.path();
    let cases: [(Option<u32>, u32); 4] = [
        (Some(65534), 0o666),
        (Some(65534), 0o644),
        (None, 0o644),
        (None, 0o666),
    ];
    for (uid, mode) in cases {
        let _ = std::fs::remove_file(&path);
        match uid {
            Some(_) => squat_as_nobody(&path, mode),
            None => plant(&path, b"", mode),
        }
        let owner = uid.unwrap_or_else(common::euid);
        let planted = snapshot(&path);
        assert_eq!(
            (planted.uid, planted.mode & 0o7777, planted.len),
            (owner, mode, 0)
        );
        let what = format!("empty, uid {owner}, mode {mode:04o}");
        let shown = format!("owned by uid {owner} with mode {mode:04o}");
        let t = std::time::Instant::now();
        assert_refused(
            &tb,
            &what,
            |e| matches!(e, Error::UnsafeSegment { owner: o, mode: m, .. } if *o == owner && *m == mode),
            &[&shown],
        );
        // Refused on sight, not after waiting for someone to initialise it.
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "{what}: refusing took {:?}",
            t.elapsed()
        );
        assert_cli_refused(&tb, &what, &[&shown]);
        assert_eq!(snapshot(&path).len, 0, "{what}: the squatted file grew");
    }
    std::fs::remove_file(&path).unwrap();
}

/// The CLI on our own broken segments: the same clear one-line refusal, and
/// the segment is not written to.
#[test]
fn the_cli_refuses_broken_segments_clearly_and_writes_nothing() {
    let tb = TestBoard::new("hostile-cli");
    let image = real_image(&tb);
    let version = format!("layout version 99, this build speaks version {LAYOUT_VERSION}");
    let mut magic = image.clone();
    magic[..8].copy_from_slice(b"NOTCLIP\0");
    let mut abi = image.clone();
    abi[off::ABI_TAG..off::ABI_TAG + 32]
        .copy_from_slice(b"sparc64/plan9/mutex99\0\0\0\0\0\0\0\0\0\0\0");
    let half = image.len() / 2;
    let half_says = format!("size {half} bytes is not a valid board size");
    let cases: Vec<(&str, Vec<u8>, u32, Vec<&str>)> = vec![
        ("mode 0666", image.clone(), 0o666, vec!["with mode 0666"]),
        ("mode 0644", image.clone(), 0o644, vec!["with mode 0644"]),
        ("wrong magic", magic, 0o600, vec!["bad magic"]),
        (
            "version 99",
            with_u32(image.clone(), off::VERSION, 99),
            0o600,
            vec![&version],
        ),
        ("other ABI", abi, 0o600, vec!["sparc64/plan9/mutex99"]),
        ("truncated", image[..half].to_vec(), 0o600, vec![&half_says]),
        (
            "capacity larger than the file",
            with_u64(image.clone(), off::ARENA_SIZE, 2 * image.len() as u64),
            0o600,
            vec!["corrupt header"],
        ),
    ];
    for (what, bytes, mode, needles) in cases {
        plant(&tb.path(), &bytes, mode);
        assert_cli_refused(&tb, what, &needles);
    }
}

#[test]
fn names_that_are_not_board_names_are_rejected() {
    let long = "x".repeat(65);
    for name in [
        "../x", "", &long, "a/b", "/abs", ".", "..", "a b", "tab\t", "é", "a@b", "nul\0",
    ] {
        let err = BoardName::new(name).expect_err(name);
        assert!(
            matches!(&err, Error::InvalidName { name: n, .. } if n == name),
            "{name:?}: {err:?}"
        );
        assert!(err.hint().is_some());
        assert!(name.parse::<BoardName>().is_err());
    }
    for name in ["a", "default", "Work-2.x_y", "...", &"x".repeat(64)] {
        assert_eq!(BoardName::new(name).unwrap().as_str(), name);
    }
}

#[test]
fn the_cli_refuses_names_that_are_not_board_names_and_creates_nothing() {
    let uid = common::euid();
    // Tagged with our pid so that no other test's file can be mistaken for ours.
    let tag = format!("hostile-name-{}", std::process::id());
    let long = format!("{tag}-{}", "x".repeat(65));
    let traversal = format!("../{tag}");
    let slash = format!("{tag}/x");
    for name in [traversal.as_str(), "", long.as_str(), slash.as_str()] {
        // Every path such a name could have reached, were it not refused.
        let reachable = [
            PathBuf::from(format!("/dev/shm/shm-clip.{uid}.{name}")),
            PathBuf::from(format!("/dev/shm/{tag}")),
            PathBuf::from(format!("/dev/{tag}")),
            PathBuf::from(format!("/dev/shm/shm-clip.{uid}.{tag}")),
            PathBuf::from(format!("/dev/shm/shm-clip.{uid}.")),
        ];
        for args in [
            &["copy", CLI_SECRET][..],
            &["paste"],
            &["watch"],
            &["destroy", "--force"],
        ] {
            let out = cli(name, args);
            let how = format!("--board {name:?} {args:?}");
            assert_eq!(out.status.code(), Some(2), "{how}: {}", out.stderr);
            assert!(out.lines.is_empty(), "{how}: {:?}", out.lines);
            assert!(
                out.stderr.contains(&format!("invalid board name {name:?}")),
                "{how}: {}",
                out.stderr
            );
            // The hint says what a name may be.
            assert!(out.stderr.contains("A-Z a-z 0-9"), "{how}: {}", out.stderr);
            for path in &reachable {
                assert!(
                    std::fs::symlink_metadata(path).is_err(),
                    "{how}: created {}",
                    path.display()
                );
            }
        }
    }
}
