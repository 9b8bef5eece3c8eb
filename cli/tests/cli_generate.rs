//! `shm-clip completions SHELL`, and the man pages and completions that
//! build.rs writes for the Debian package next to the binary
//! (`target/<profile>/packaging/shm-clip-cli/`): all come from the same clap
//! definitions, and none touches a board.

use std::path::PathBuf;
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
    }
}

/// What bash offers for the words typed so far (the last one being
/// completed), through the script that `completions bash` prints.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let script = Command::new(bin())
        .args(["completions", "bash"])
        .output()
        .unwrap()
        .stdout;
    let path =
        std::env::temp_dir().join(format!("shm-clip-completion-{}.bash", std::process::id()));
    std::fs::write(&path, script).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let n = words.len();
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; _shm__clip shm-clip '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path.display(),
        quoted.join(" "),
        n - 1,
        words[n - 1],
        words[n - 2],
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(program)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_subcommands_and_their_options() {
    let top = bash_completes(&["shm-clip", "pa"]);
    assert_eq!(top, ["paste"]);
    let paste = bash_completes(&["shm-clip", "paste", "--"]);
    for option in ["--type", "--no-newline", "--list-types", "--board"] {
        assert!(
            paste.iter().any(|o| o == option),
            "{option} not in {paste:?}"
        );
    }
    let archive = bash_completes(&["shm-clip", "archive", ""]);
    for sub in ["prune", "stats", "export", "vacuum", "run"] {
        assert!(archive.iter().any(|o| o == sub), "{sub} not in {archive:?}");
    }
    let prune = bash_completes(&["shm-clip", "archive", "prune", "--"]);
    assert!(prune.iter().any(|o| o == "--older-than"), "{prune:?}");
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

/// What build.rs wrote for this build of the binary.
fn packaging_dir() -> PathBuf {
    let profile_dir = std::path::Path::new(bin()).parent().unwrap();
    profile_dir.join("packaging").join("shm-clip-cli")
}

#[test]
fn packaged_completions_are_what_the_binary_prints() {
    for (shell, file) in [
        ("bash", "shm-clip.bash"),
        ("zsh", "_shm-clip"),
        ("fish", "shm-clip.fish"),
    ] {
        let path = packaging_dir().join("completions").join(file);
        let packaged = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let out = Command::new(bin())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}: {out:?}");
        assert!(
            packaged == out.stdout,
            "{} differs from `shm-clip completions {shell}`",
            path.display()
        );
    }
}

#[test]
fn a_gzipped_man_page_is_written_per_visible_subcommand() {
    // The subcommands as `--help` lists them (`help` itself gets no page).
    let help = Command::new(bin()).arg("--help").output().unwrap();
    assert!(help.status.success(), "{help:?}");
    let help = String::from_utf8(help.stdout).unwrap();
    let commands: Vec<&str> = help
        .split("Commands:\n")
        .nth(1)
        .expect("--help lists the commands")
        .lines()
        .take_while(|line| line.starts_with("  "))
        // `  copy, -i     Copy TEXT ...`
        .filter_map(|line| line.split_whitespace().next())
        .map(|name| name.trim_end_matches(','))
        .filter(|name| *name != "help")
        .collect();
    assert!(
        commands.contains(&"copy") && commands.contains(&"completions"),
        "{commands:?}"
    );
    let man = packaging_dir().join("man");
    let mut pages = vec!["shm-clip.1.gz".to_owned()];
    pages.extend(commands.iter().map(|c| format!("shm-clip-{c}.1.gz")));
    for page in &pages {
        let path = man.join(page);
        // gzip itself, as man-db reads the page.
        let out = Command::new("gzip").arg("-dc").arg(&path).output().unwrap();
        assert!(out.status.success(), "{}: {out:?}", path.display());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.starts_with(".ie"), "{page} is not roff: {text:.40}");
    }
}
