//! `shm-clip completions SHELL` and the unlisted `shm-clip generate-man DIR`:
//! both come from the clap definitions and neither touches a board.

use std::process::Command;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_shm-clip")
}

#[test]
fn completions_cover_every_shell_and_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(bin())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}: {out:?}");
        let script = String::from_utf8(out.stdout).unwrap();
        for word in ["copy", "paste", "watch", "board", "completions"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
        // A packaging hook, not something to offer a user.
        assert!(
            !script.contains("generate-man"),
            "{shell} offers generate-man"
        );
    }
}

#[test]
fn unknown_shell_is_refused() {
    let out = Command::new(bin())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("tcsh"));
}

#[test]
fn man_pages_are_written_per_subcommand() {
    let dir = std::env::temp_dir().join(format!("shm-clip-man-{}", std::process::id()));
    let out = Command::new(bin())
        .arg("generate-man")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    for page in ["shm-clip.1", "shm-clip-copy.1", "shm-clip-completions.1"] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        assert!(text.starts_with(".ie"), "{page} is not roff: {text:.40}");
    }
    assert!(!dir.join("shm-clip-generate-man.1").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
