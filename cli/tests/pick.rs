//! Menu integration end to end: `history --menu`, `select`/`paste
//! --menu-line` and `pick`, with real menu programs (fzf --filter; dmenu and
//! rofi under a private Xvfb, driven with xdotool).
//!
//! Every test has its own board, cache directory, X server.
//! Waits are for events (a window that appears) under a watchdog; nothing sleeps to
//! synchronise. scripts/lib/deps.sh installs fzf, suckless-tools (dmenu),
//! rofi, xvfb and xdotool.

use shm_clip_test_kit as common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// The longest any single command or wait may take.
const TIMEOUT: Duration = Duration::from_secs(60);

const TEXT: &[u8] = b"alpha bravo charlie";
const MULTI: &[u8] = b"first line of delta\n\tsecond line\nthird\n";
const IMAGE: &[u8] = include_bytes!("../../assets/icons/16x16/shm-clip.png");

fn binary() -> Vec<u8> {
    (0..=255).collect()
}

/// Each fixture and a query that finds it (in the preview column only).
fn fixtures() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    vec![
        ("text", TEXT.to_vec(), "alpha bravo"),
        ("multi-line text", MULTI.to_vec(), "delta"),
        ("all 256 byte values", binary(), "octet-stream"),
        ("image", IMAGE.to_vec(), "image/png"),
    ]
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_shm-clip")
}

/// A board and a cache directory for one test; both removed on drop.
struct Board {
    name: String,
    cache: PathBuf,
}

impl Board {
    fn new(test: &str) -> Board {
        let name = format!("t-pick-{}-{test}", std::process::id());
        assert!(name.len() <= 64, "board name {name} is too long");
        let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cache-{name}"));
        let _ = std::fs::remove_dir_all(&cache);
        Board { name, cache }
    }

    /// `shm-clip --board NAME` with its own cache and a clean environment.
    fn cmd(&self) -> Command {
        let mut cmd = Command::new(bin());
        cmd.env_remove("SHM_CLIP_BOARD")
            .env("RUST_LOG", "warn")
            .env("XDG_CACHE_HOME", &self.cache)
            .arg("--board")
            .arg(&self.name);
        cmd
    }

    fn run(&self, args: &[&str], input: &[u8]) -> Output {
        run(self.cmd().args(args), input)
    }

    fn ok(&self, args: &[&str], input: &[u8]) -> Vec<u8> {
        let out = self.run(args, input);
        assert!(
            out.status.success(),
            "shm-clip {args:?} failed with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    fn copy(&self, data: &[u8]) {
        self.ok(&["copy"], data);
    }

    fn paste(&self) -> Vec<u8> {
        self.ok(&["paste"], b"")
    }

    /// The board's commit seq: it moves on every change.
    fn seq(&self) -> u64 {
        let status = String::from_utf8(self.ok(&["status", "--json"], b"")).expect("utf-8");
        let at = status.find("\"seq\":").expect("seq in status") + 6;
        status[at..]
            .trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .expect("a number")
    }

    /// `history --menu` as lines (without their newlines).
    fn menu(&self, extra: &[&str]) -> Vec<String> {
        let mut args = vec!["history", "--menu"];
        args.extend(extra);
        let out = String::from_utf8(self.ok(&args, b"")).expect("menu lines are UTF-8");
        out.lines().map(str::to_owned).collect()
    }

    /// The menu line whose preview contains `needle`.
    fn line_with(&self, needle: &str) -> String {
        self.menu(&[])
            .into_iter()
            .find(|l| l.split_once('\t').expect("a tab").1.contains(needle))
            .unwrap_or_else(|| panic!("no menu line shows {needle:?}"))
    }

    fn thumbnails(&self) -> PathBuf {
        self.cache.join("shm-clip/thumbnails").join(&self.name)
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        let _ = run(self.cmd().args(["destroy", "--force"]), b"");
        let _ = std::fs::remove_dir_all(&self.cache);
    }
}

fn spawn_named<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .expect("spawn thread")
}

/// Waits for `child`, killing it and failing the test after `TIMEOUT`.
fn wait(child: &mut Child, what: &str) -> ExitStatus {
    common::wait_or_kill(child, TIMEOUT, |c| {
        let _ = c.kill();
    })
    .unwrap_or_else(|| panic!("{what}: timed out after {TIMEOUT:?}; killed"))
}

/// Runs `cmd` to completion under the watchdog with `input` on stdin.
fn run(cmd: &mut Command, input: &[u8]) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let feeder = spawn_named("feed", move || {
        let _ = stdin.write_all(&input);
    });
    let out = drain(child.stdout.take().expect("stdout"));
    let err = drain(child.stderr.take().expect("stderr"));
    let status = wait(&mut child, &format!("{cmd:?}"));
    let _ = feeder.join();
    Output {
        status,
        stdout: out.join().expect("stdout"),
        stderr: err.join().expect("stderr"),
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    spawn_named("drain", move || {
        let mut data = Vec::new();
        let _ = pipe.read_to_end(&mut data);
        data
    })
}

/// A board holding the four fixtures, newest last.
fn board_with_fixtures(test: &str) -> Board {
    let board = Board::new(test);
    for (_, data, _) in fixtures() {
        board.copy(&data);
    }
    board
}

#[test]
fn menu_lines_are_seq_tab_one_line_preview_newest_first() {
    let board = board_with_fixtures("lines");
    let lines = board.menu(&[]);
    assert_eq!(lines.len(), 4, "{lines:?}");
    let seqs: Vec<u64> = lines
        .iter()
        .map(|l| l.split_once('\t').expect("a tab").0.parse().expect("a seq"))
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seqs:?}"
    );
    let previews: Vec<&str> = lines
        .iter()
        .map(|l| l.split_once('\t').unwrap().1)
        .collect();
    assert_eq!(
        previews,
        [
            format!("[[ image/png 16×16 {} B ]]", IMAGE.len()).as_str(),
            "[[ application/octet-stream 256 B ]]",
            "first line of delta second line third … (3 lines)",
            "alpha bravo charlie",
        ]
    );

    // The id is a seq, not a position: selecting an old entry moves it to
    // the top, with the same id.
    board.ok(&["select", "--seq", &seqs[3].to_string()], b"");
    let moved = board.menu(&[]);
    assert_eq!(moved[0], lines[3]);

    // --width cuts by grapheme; -0 ends records with NUL.
    board.copy("é".repeat(300).as_bytes());
    let narrow = board.menu(&["--width", "20"]);
    let preview = narrow[0].split_once('\t').unwrap().1;
    assert_eq!(preview, format!("{}…", "é".repeat(19)));
    assert!(
        narrow
            .iter()
            .all(|l| l.split_once('\t').unwrap().1.chars().count() <= 20)
    );
    let nul = board.ok(&["history", "--menu", "-0"], b"");
    let records: Vec<&[u8]> = nul.split(|&b| b == 0).filter(|r| !r.is_empty()).collect();
    assert_eq!(records.len(), 5);
    assert!(!nul.contains(&b'\n'));
}

#[test]
fn icons_are_cached_thumbnails_pruned_with_the_history() {
    let board = board_with_fixtures("icons");
    let out = board.ok(&["history", "--menu", "--icons"], b"");
    let image_line = out
        .split(|&b| b == b'\n')
        .find(|l| l.windows(9).any(|w| w == b"image/png"))
        .expect("an image line");
    let at = image_line
        .windows(6)
        .position(|w| w == b"\0icon\x1f")
        .expect("rofi's icon hint");
    let path = PathBuf::from(String::from_utf8(image_line[at + 6..].to_vec()).unwrap());
    assert!(path.starts_with(board.thumbnails()), "{}", path.display());
    assert_eq!(std::fs::read(&path).expect("the thumbnail"), IMAGE);
    // Only image lines get an icon.
    assert_eq!(out.windows(6).filter(|w| w == b"\0icon\x1f").count(), 1);

    // Removing the entry removes its thumbnail; so does destroying the board.
    let seq = String::from_utf8_lossy(
        &image_line[..image_line.iter().position(|&b| b == b'\t').unwrap()],
    )
    .into_owned();
    board.ok(&["rm", "--seq", &seq], b"");
    assert!(!path.exists(), "pruned with its entry");
    board.copy(IMAGE);
    board.ok(&["history", "--menu", "--icons"], b"");
    assert_eq!(std::fs::read_dir(board.thumbnails()).unwrap().count(), 1);
    board.ok(&["destroy"], b"");
    assert!(!board.thumbnails().exists(), "removed with the board");
}

#[test]
fn fzf_filter_round_trip_is_exact_for_text_binary_and_images() {
    let board = board_with_fixtures("fzf");
    for (what, data, query) in fixtures() {
        // The pipeline form: list, filter, paste the chosen line's bytes.
        let listed = board.ok(&["history", "--menu"], b"");
        let chosen = run(
            Command::new("fzf").args(["--filter", query, "-d", "\t", "--with-nth", "2"]),
            &listed,
        );
        assert!(chosen.status.success(), "fzf found no {what}");
        assert_eq!(
            board.ok(&["paste", "--menu-line"], &chosen.stdout),
            data,
            "{what}"
        );

        // The one-command form makes it current.
        let cmd = format!("fzf --filter '{query}' -d '\\t' --with-nth 2 | head -n 1");
        board.ok(&["pick", "--menu", &cmd], b"");
        assert_eq!(board.paste(), data, "pick {what}");
        // And select --menu-line does the same from a pipe.
        board.ok(&["select", "--menu-line"], &chosen.stdout);
        assert_eq!(board.paste(), data, "select {what}");
    }
}

#[test]
fn a_chosen_line_names_the_same_entry_after_the_history_changed() {
    let board = board_with_fixtures("moved");
    let text_line = board.line_with("alpha bravo");
    let image_line = board.line_with("image/png");
    // Between listing and choosing: new copies, a select and a removal
    // move every position.
    board.copy(b"newer one");
    board.copy(b"newer two");
    let binary_line = board.line_with("octet-stream");
    board.ok(&["select", "--menu-line"], binary_line.as_bytes());
    board.ok(&["rm", "1"], b"");

    board.ok(
        &["select", "--menu-line"],
        format!("{text_line}\n").as_bytes(),
    );
    assert_eq!(board.paste(), TEXT);
    assert_eq!(
        board.ok(&["paste", "--menu-line"], image_line.as_bytes()),
        IMAGE
    );
    // The one-command form, with the stale line standing in for the menu's answer.
    let menu = format!("cat > /dev/null; printf '%s\\n' '{image_line}'");
    board.ok(&["pick", "--menu", &menu], b"");
    assert_eq!(board.paste(), IMAGE);

    // A line whose entry is gone selects nothing and says so.
    let newer = board.line_with("newer one");
    board.ok(&["rm", "--menu-line"], newer.as_bytes());
    let before = board.seq();
    let out = board.run(&["select", "--menu-line"], newer.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no such entry"),
        "{out:?}"
    );
    assert_eq!(board.seq(), before);
}

#[test]
fn a_cancelled_menu_changes_nothing_and_exits_1() {
    let board = board_with_fixtures("cancel");
    let before = (board.seq(), board.paste());
    for (menu, silent) in [
        ("cat > /dev/null; exit 1", true),   // Esc in rofi, dmenu, fzf
        ("cat > /dev/null", true),           // empty answer
        ("cat > /dev/null; echo 12", false), // typed text: no tab
    ] {
        let out = board.run(&["pick", "--menu", menu], b"");
        assert_eq!(out.status.code(), Some(1), "{menu}: {out:?}");
        assert_eq!(out.stderr.is_empty(), silent, "{menu}: {out:?}");
        assert_eq!((board.seq(), board.paste()), before, "{menu}");
    }
    let out = board.run(&["select", "--menu-line"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!((board.seq(), board.paste()), before);
    // The same path with an answer does change the board.
    board.ok(&["pick", "--menu", "grep alpha"], b"");
    assert_eq!(board.paste(), TEXT);
    assert!(board.seq() > before.0);
}

/// A private X server on a display it picks itself; killed on drop.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Xvfb {
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-nolisten",
                "tcp",
                "-screen",
                "0",
                "1024x768x24",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting Xvfb (scripts/test installs xvfb)");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let (tx, rx) = std::sync::mpsc::channel();
        spawn_named("displayfd", move || {
            let mut line = String::new();
            let _ = out.read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(TIMEOUT)
            .expect("watchdog: Xvfb did not start");
        assert!(!line.trim().is_empty(), "Xvfb exited before it was ready");
        Xvfb {
            child,
            display: format!(":{}", line.trim()),
        }
    }

    fn xdotool(&self, args: &[&str]) -> String {
        let out = run(
            Command::new("xdotool")
                .args(args)
                .env("DISPLAY", &self.display),
            b"",
        );
        assert!(out.status.success(), "xdotool {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `pick --menu MENU` on `x`'s display, waits for the menu's window
/// (of `WM_CLASS` `class`), types `typed`, presses `key` and returns how pick ended.
fn pick_on_x(
    board: &Board,
    x: &Xvfb,
    menu: &str,
    class: &str,
    typed: Option<&str>,
    key: &str,
) -> Output {
    let mut cmd = board.cmd();
    cmd.args(["pick", "--menu", menu])
        .env("DISPLAY", &x.display)
        .env("NO_AT_BRIDGE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn pick");
    let out = drain(child.stdout.take().expect("stdout"));
    let err = drain(child.stderr.take().expect("stderr"));
    // --sync waits until such a window exists: the menu is up and has
    // grabbed the keyboard (both grab before they map).
    x.xdotool(&["search", "--sync", "--onlyvisible", "--class", class]);
    if let Some(text) = typed {
        x.xdotool(&["type", text]);
    }
    x.xdotool(&["key", key]);
    let status = wait(&mut child, menu);
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

#[test]
fn dmenu_and_rofi_round_trips_under_xvfb() {
    let x = Xvfb::start();
    let board = board_with_fixtures("xmenus");
    for (menu, class) in [
        ("dmenu -l 10", "dmenu"),
        ("rofi -dmenu -display-columns 2", "rofi"),
    ] {
        for (what, data, query) in fixtures() {
            // Something else is current first, so that the pick must change it.
            board.copy(b"placeholder");
            let out = pick_on_x(&board, &x, menu, class, Some(query), "Return");
            assert!(out.status.success(), "{menu} {what}: {out:?}");
            assert_eq!(board.paste(), data, "{menu} {what}");
        }
        let before = (board.seq(), board.paste());
        let out = pick_on_x(&board, &x, menu, class, Some("alpha"), "Escape");
        assert_eq!(out.status.code(), Some(1), "{menu} Escape: {out:?}");
        assert_eq!((board.seq(), board.paste()), before, "{menu} Escape");
    }
}
