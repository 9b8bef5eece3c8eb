//! Segments that someone else prepared at a board's path, and board names
//! that are not names.
//!
//! A hostile or broken segment must be refused with a specific error that
//! names the path and says what to do, and it must be left exactly as it was:
//! the same bytes, size, mode, owner, inode, mtime and ctime.

mod common;

use std::fs::{OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{Proc, Rng, Snapshot, TestBoard, snapshot};
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

/// A hostile file: what it is, its bytes, and the error it must produce.
type Case = (&'static str, Vec<u8>, fn(&Error) -> bool);

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
/// accepts, names the path and has a hint; the file stays as it was.
fn assert_refused(tb: &TestBoard, what: &str, expect: impl Fn(&Error) -> bool) {
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
        ("destroy", Board::destroy(&tb.name, false)),
    ];
    for (how, result) in attempts {
        let err = result.expect_err(&format!("{what}: {how} must be refused"));
        assert!(expect(&err), "{what}: {how}: unexpected error {err:?}");
        let shown = err.to_string();
        assert!(
            shown.contains(path.to_str().unwrap()),
            "{what}: {how}: {shown:?} does not name the path"
        );
        assert!(err.hint().is_some(), "{what}: {how}: no hint for {err:?}");
    }
    assert_untouched(what, &before, &snapshot(&path));
}

#[test]
fn world_or_group_accessible_segments_are_refused() {
    let tb = TestBoard::new("hostile-mode");
    let image = real_image(&tb);
    for mode in [0o666, 0o644, 0o640, 0o604, 0o660, 0o602] {
        plant(&tb.path(), &image, mode);
        assert_refused(&tb, &format!("mode {mode:04o}"), |e| {
            matches!(e, Error::UnsafeSegment { owner, mode: m, expected_uid, .. }
                if *owner == common::euid() && *m == mode && *expected_uid == common::euid())
        });
    }
}

#[test]
fn garbage_and_foreign_headers_are_refused() {
    let tb = TestBoard::new("hostile-header");
    let image = real_image(&tb);
    let mut rng = Rng::new(99);
    let mut garbage: Vec<u8> = (0..image.len()).map(|_| rng.next_u64() as u8).collect();
    garbage[8] |= 1; // a non-zero version, so the opener does not wait for one
    let mut abi = image.clone();
    abi[16..48].copy_from_slice(b"sparc64/plan9/mutex99\0\0\0\0\0\0\0\0\0\0\0");
    let mut magic = image.clone();
    magic[..8].copy_from_slice(b"NOTCLIP\0");
    let cases: Vec<Case> = vec![
        ("garbage", garbage, |e| matches!(e, Error::BadMagic { .. })),
        ("wrong magic", magic, |e| {
            matches!(e, Error::BadMagic { .. })
        }),
        (
            "version 99",
            with_u32(image.clone(), 8, 99),
            |e| matches!(e, Error::IncompatibleLayout { found: 99, expected, .. } if *expected == LAYOUT_VERSION),
        ),
        (
            "other ABI",
            abi,
            |e| matches!(e, Error::AbiMismatch { found, .. } if found == "sparc64/plan9/mutex99"),
        ),
        (
            "other pid namespace",
            with_u64(image.clone(), 56, u64_at(&image, 56) ^ 1),
            |e| matches!(e, Error::PidNamespace { .. }),
        ),
        ("header size", with_u32(image.clone(), 12, 128), |e| {
            matches!(e, Error::CorruptHeader { .. })
        }),
        ("zero depth", with_u32(image.clone(), 104, 0), |e| {
            matches!(e, Error::CorruptHeader { .. })
        }),
    ];
    for (what, bytes, expect) in cases {
        plant(&tb.path(), &bytes, 0o600);
        assert_refused(&tb, what, expect);
    }
}

#[test]
fn truncated_and_oversized_claims_are_refused() {
    let tb = TestBoard::new("hostile-size");
    let image = real_image(&tb);
    let len = image.len() as u64;
    let bad_size = |e: &Error| matches!(e, Error::BadSize { .. });
    // The arena claims more than the file holds...
    let arena = with_u64(image.clone(), 120, 2 * len);
    // ...and also with a segment size that agrees with that claim.
    let both = with_u64(arena.clone(), 72, u64_at(&image, 112) + 2 * len);
    let cases: Vec<Case> = vec![
        ("17 bytes", image[..17].to_vec(), bad_size),
        ("truncated to 100 bytes", image[..100].to_vec(), bad_size),
        (
            "truncated to half",
            image[..image.len() / 2].to_vec(),
            bad_size,
        ),
        (
            "one byte short",
            image[..image.len() - 1].to_vec(),
            bad_size,
        ),
        ("one byte extra", [&image[..], &[0]].concat(), bad_size),
        ("arena larger than the file", arena, |e| {
            matches!(e, Error::CorruptHeader { .. })
        }),
        ("arena and size larger than the file", both, bad_size),
    ];
    for (what, bytes, expect) in cases {
        plant(&tb.path(), &bytes, 0o600);
        assert_refused(&tb, what, expect);
    }
}

#[test]
fn a_segment_whose_creator_never_finished_is_refused() {
    let tb = TestBoard::new("hostile-uninit");
    let image = with_u32(real_image(&tb), 8, 0);
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

#[test]
fn segments_of_another_user_are_refused_when_root() {
    if common::euid() != 0 {
        println!("not root: the other-uid cases did not run");
        return;
    }
    let tb = TestBoard::new("hostile-uid");
    let image = real_image(&tb);
    let src = tb.file("image");
    plant(&src, &image, 0o644);
    let path = tb.path();
    for mode in [0o600, 0o666] {
        let _ = std::fs::remove_file(&path);
        plant_as_nobody(&src, &path, mode);
        let planted = snapshot(&path);
        assert_eq!((planted.uid, planted.mode & 0o7777), (65534, mode));
        assert_refused(
            &tb,
            &format!("uid 65534 mode {mode:04o}"),
            |e| matches!(e, Error::UnsafeSegment { owner: 65534, mode: m, expected_uid: 0, .. } if *m == mode),
        );
        // Even a forced destroy leaves another user's segment alone.
        let err = Board::destroy(&tb.name, true).expect_err("not ours to remove");
        assert!(
            matches!(err, Error::UnsafeSegment { owner: 65534, .. }),
            "{err:?}"
        );
        assert_untouched("forced destroy", &planted, &snapshot(&path));
        println!("root refused a segment of uid 65534 with mode {mode:04o}");
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
