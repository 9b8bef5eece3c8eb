//! A full /dev/shm is an error, not a crash.
//!
//! /dev/shm is a tmpfs, and a board's segment is a sparse file whose pages
//! are allocated when first touched. On a full tmpfs that touch raises
//! `SIGBUS`: a copy used to die half-way with the lock held, and every
//! later command (`status`, `destroy --force`) died repairing after it.
//! The test gives a private mount namespace a small tmpfs on /dev/shm, as a
//! container's 64 MiB /dev/shm would be, fills most of it, and copies.
//!
//! It needs root for the mount, as the suite's other full-disk tests do.

use shm_clip_test_kit as common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_shm-clip")
}

/// Runs `script` with `sh` in a mount namespace of its own whose /dev/shm
/// is an 8 MiB tmpfs. `unshare --propagation private` fails in a chroot
/// whose `/` is not a mount point; then /dev (or /dev/shm) is made private
/// instead, and without either the script does not run (exit 97), so that
/// the mount can never reach another namespace.
fn in_small_shm(script: &str, dir: &Path) -> Output {
    let wrapped =
        format!("mount -t tmpfs -o size=8m,mode=1777 shm-clip-test /dev/shm || exit 96\n{script}");
    let run = |propagation: &str, prefix: &str| {
        Command::new("unshare")
            .args(["--mount", "--propagation", propagation, "sh", "-c"])
            .arg(format!("{prefix}{wrapped}"))
            .env("BIN", bin())
            .env("DIR", dir)
            .env_remove("SHM_CLIP_BOARD")
            .env("SHM_CLIP_CONFIG", dir.join("config.toml"))
            .env("SHM_CLIP_ARCHIVE", dir.join("archive.sqlite3"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .expect("run unshare")
    };
    let out = run("private", "");
    if out.status.success() || out.status.code() != Some(1) {
        return out;
    }
    run(
        "unchanged",
        "mount --make-rprivate /dev 2>/dev/null || mount --make-private /dev/shm || exit 97\n",
    )
}

#[test]
fn a_copy_that_does_not_fit_in_dev_shm_is_refused_and_the_board_works_on() {
    assert_eq!(
        common::euid(),
        0,
        "this test mounts a small tmpfs on /dev/shm in a mount namespace of its own, which needs root (CI has it): run it with sudo -E"
    );
    let dir = std::env::temp_dir().join(format!("shm-clip-full-shm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("big"), vec![b'x'; 6 << 20]).unwrap();
    // Another program holds 4 of the 8 MiB; the 6 MiB clip cannot fit.
    let script = r#"
head -c 4194304 /dev/zero > /dev/shm/another-program
B="--board full-shm"
"$BIN" $B copy before;                echo "rc=$? first copy"
"$BIN" $B copy --file "$DIR/big" 2>"$DIR/err"; echo "rc=$? big copy"
"$BIN" $B paste;                      echo "rc=$? paste"
"$BIN" $B copy after;                 echo "rc=$? small copy"
"$BIN" $B history --json > "$DIR/history.json"; echo "rc=$? history"
"$BIN" $B status > /dev/null;         echo "rc=$? status"
"$BIN" $B destroy > /dev/null;        echo "rc=$? destroy"
"#;
    let out = in_small_shm(script, &dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}: {stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout,
        "rc=0 first copy\nrc=1 big copy\nbeforerc=0 paste\nrc=0 small copy\nrc=0 history\nrc=0 status\nrc=0 destroy\n"
    );
    let err = std::fs::read_to_string(dir.join("err")).unwrap();
    assert!(
        err.starts_with("shm-clip: no room in /dev/shm for ")
            && err.contains("/dev/shm/shm-clip.0.full-shm: it is full")
            && err.contains("df -h /dev/shm"),
        "{err}"
    );
    let history = std::fs::read_to_string(dir.join("history.json")).unwrap();
    let texts: Vec<String> = serde_json::from_str::<serde_json::Value>(&history)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        texts,
        ["after", "before"],
        "nothing was lost, nothing half-written"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
