//! Menu integration end to end: `history --menu`, `select`/`paste
//! --menu-line` and `pick`, with real menu programs (fzf --filter; dmenu and
//! rofi under a private Xvfb, driven with xdotool) and the terminal picker
//! in a real tmux, driven with send-keys and read back with capture-pane.
//!
//! Every test has its own board, cache directory, X server or tmux server.
//! Waits are for events (a window that appears, a tmux wait-for channel, a
//! screen that shows something) under a watchdog; nothing sleeps to
//! synchronise. scripts/lib/deps.sh installs fzf, suckless-tools (dmenu),
//! rofi, tmux, xvfb and xdotool.

use shm_clip_test_kit as common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

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
fn an_html_or_uri_list_entry_is_shown_by_its_text_and_pasted_as_it_is() {
    let board = Board::new("html");
    let html = b"<meta charset='utf-8'><span style=\"color: red\">Fish &amp; chips</span>";
    board.ok(&["copy", "--type", "text/html"], html);
    board.ok(
        &["copy", "--type", "text/uri-list"],
        b"# two files\r\nfile:///a\r\nfile:///b\r\n",
    );
    let previews: Vec<String> = board
        .menu(&[])
        .iter()
        .map(|l| l.split_once('\t').unwrap().1.to_owned())
        .collect();
    assert_eq!(
        previews,
        ["file:///a file:///b … (2 lines)", "Fish & chips"]
    );
    // Only the preview is text: the chosen line pastes the HTML's bytes.
    let line = board.line_with("Fish & chips");
    assert_eq!(board.ok(&["paste", "--menu-line"], line.as_bytes()), html);
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
                // No reset when the last client leaves: a client connecting
                // during one gets ECONNRESET (scripts/lib/desktop.sh).
                "-noreset",
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
    // `--icons` for a rofi that shows them, to check that the row options
    // rofi strips leave the answer intact.
    cmd.args(["pick", "--menu", menu]);
    if menu.contains("-show-icons") {
        cmd.arg("--icons");
    }
    cmd.env("DISPLAY", &x.display)
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
        // Debian 12's rofi 1.7.3 draws -display-columns rows empty, so the
        // README's recipe for it shows the seq column; with icons.
        ("rofi -dmenu -i -show-icons", "rofi"),
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

/// A private tmux server with one `sh` pane on the board; killed on drop.
struct Tmux {
    dir: PathBuf,
    socket: PathBuf,
    runs: u32,
}

/// What one command run in the pane left behind.
struct Ran {
    status: i32,
    stty: String,
}

impl Tmux {
    fn start(board: &Board) -> Tmux {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("tmux-{}", board.name));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let tmux = Tmux {
            socket: dir.join("socket"),
            dir,
            runs: 0,
        };
        tmux.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "110",
            "-y",
            "30",
            "-e",
            &format!("SHM_CLIP_BOARD={}", board.name),
            "-e",
            &format!("XDG_CACHE_HOME={}", board.cache.display()),
            "-e",
            "RUST_LOG=warn",
            "sh",
        ]);
        tmux
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = run(
            Command::new("tmux").arg("-S").arg(&self.socket).args(args),
            b"",
        );
        assert!(out.status.success(), "tmux {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "t"])
    }

    fn format(&self, format: &str) -> String {
        self.tmux(&["display-message", "-p", "-t", "t", format])
            .trim()
            .to_owned()
    }

    /// Polls the screen until `cond` holds: the pane's output is the event.
    fn wait_screen(&self, what: &str, cond: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let screen = self.screen();
            if cond(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend(keys);
        self.tmux(&args);
    }

    /// Types `cmd` into the shell; it records its status and `stty -a`
    /// afterwards, then signals a wait-for channel.
    fn start_command(&mut self, cmd: &str) -> String {
        self.runs += 1;
        let channel = format!("done-{}", self.runs);
        let line = format!(
            "{cmd}; echo $? > '{dir}/status'; stty -a > '{dir}/stty'; tmux wait-for -S {channel}",
            dir = self.dir.display()
        );
        self.tmux(&["send-keys", "-t", "t", "-l", &line]);
        self.keys(&["Enter"]);
        channel
    }

    fn finish(&self, channel: &str) -> Ran {
        self.tmux(&["wait-for", channel]);
        let read = |name| std::fs::read_to_string(self.dir.join(name)).expect("the pane wrote it");
        Ran {
            status: read("status").trim().parse().expect("a status"),
            stty: read("stty"),
        }
    }

    /// The terminal settings of the pane's tty, read from outside.
    fn stty_now(&self) -> String {
        let tty = self.format("#{pane_tty}");
        let out = run(Command::new("stty").args(["-a", "-F", &tty]), b"");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The pid of the program the pane's shell is running.
    fn foreground_child(&self) -> u32 {
        let shell = self.format("#{pane_pid}");
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .expect("the shell's children");
        children
            .split_whitespace()
            .next()
            .expect("a child")
            .parse()
            .unwrap()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `stty -a` says the terminal is cooked again: canonical input and echo.
fn assert_cooked(stty: &str, what: &str) {
    let flags: Vec<&str> = stty.split([' ', '\n', ';']).collect();
    for flag in ["icanon", "echo", "isig"] {
        assert!(flags.contains(&flag), "{what}: {flag} is off: {stty}");
    }
}

fn assert_raw(stty: &str) {
    let flags: Vec<&str> = stty.split([' ', '\n', ';']).collect();
    assert!(
        flags.contains(&"-icanon") && flags.contains(&"-echo"),
        "not raw: {stty}"
    );
}

/// A tmux pane on a board of three fruits, newest first: cherry, banana, apple.
fn fruit_pane(test: &str) -> (Board, Tmux) {
    let board = Board::new(test);
    for fruit in ["apple pie", "banana split", "cherry tart"] {
        board.copy(fruit.as_bytes());
    }
    let tmux = Tmux::start(&board);
    // dash's prompt ("$ ", or "# " as root) means the shell is reading.
    tmux.wait_screen("the shell's prompt", |s| !s.trim().is_empty());
    assert_cooked(&tmux.stty_now(), "before");
    (board, tmux)
}

/// Starts `pick` in the pane and waits until it has drawn every entry.
fn start_picker(tmux: &mut Tmux, env: &str) -> String {
    let channel = tmux.start_command(&format!("{env}'{}' pick", bin()));
    tmux.wait_screen("the picker", |s| s.contains("filter>") && s.contains("3/3"));
    assert_eq!(
        tmux.format("#{alternate_on}"),
        "1",
        "on the alternate screen"
    );
    assert_raw(&tmux.stty_now());
    channel
}

/// After the picker: cooked terminal, main screen, cursor shown.
fn assert_restored(tmux: &Tmux, ran: &Ran, what: &str) {
    assert_cooked(&ran.stty, what);
    assert_cooked(&tmux.stty_now(), what);
    assert_eq!(
        tmux.format("#{alternate_on}"),
        "0",
        "{what}: alternate screen left"
    );
    assert_eq!(tmux.format("#{cursor_flag}"), "1", "{what}: cursor shown");
}

#[test]
fn terminal_picker_filters_and_enter_selects() {
    let (board, mut tmux) = fruit_pane("tui-filter");
    let channel = start_picker(&mut tmux, "");
    tmux.keys(&["-l", "BAN"]);
    let screen = tmux.wait_screen("the filtered list", |s| {
        s.contains("filter> BAN") && s.contains("1/3")
    });
    assert!(screen.contains("banana split"), "{screen}");
    assert!(
        !screen.contains("apple") && !screen.contains("cherry"),
        "{screen}"
    );
    tmux.keys(&["Enter"]);
    let ran = tmux.finish(&channel);
    assert_eq!(ran.status, 0);
    assert_restored(&tmux, &ran, "Enter");
    assert_eq!(board.paste(), b"banana split");

    // Type and origin are searched too: "image/png" matches nothing here,
    // "cli" (every entry's origin) matches everything.
    let channel = start_picker(&mut tmux, "");
    tmux.keys(&["-l", "image/png"]);
    tmux.wait_screen("no match", |s| s.contains("0/3") && s.contains("no match"));
    tmux.keys(&["C-u"]);
    tmux.keys(&["-l", "cli"]);
    tmux.wait_screen("all by origin", |s| {
        s.contains("filter> cli") && s.contains("3/3")
    });
    tmux.keys(&["Escape"]);
    assert_eq!(tmux.finish(&channel).status, 1);
}

#[test]
fn terminal_picker_arrows_move_and_the_preview_follows() {
    let (board, mut tmux) = fruit_pane("tui-arrows");
    let channel = start_picker(&mut tmux, "");
    tmux.keys(&["Down", "Down"]);
    // The preview pane shows the highlighted entry's text and its seq line.
    tmux.wait_screen("apple highlighted", |s| {
        s.lines()
            .any(|l| l.starts_with('>') && l.contains("apple pie"))
    });
    tmux.keys(&["Up"]);
    tmux.wait_screen("banana highlighted", |s| {
        s.lines()
            .any(|l| l.starts_with('>') && l.contains("banana split"))
    });
    tmux.keys(&["Enter"]);
    let ran = tmux.finish(&channel);
    assert_eq!(ran.status, 0);
    assert_restored(&tmux, &ran, "arrows");
    assert_eq!(board.paste(), b"banana split");
}

#[test]
fn terminal_picker_esc_sigint_and_panic_change_nothing_and_restore_the_terminal() {
    let (board, mut tmux) = fruit_pane("tui-cancel");
    let before = board.seq();

    let channel = start_picker(&mut tmux, "");
    tmux.keys(&["Down", "Escape"]);
    let ran = tmux.finish(&channel);
    assert_eq!(ran.status, 1, "Esc exits 1");
    assert_restored(&tmux, &ran, "Esc");

    let channel = start_picker(&mut tmux, "");
    let pid = tmux.foreground_child();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("kill -INT");
    let ran = tmux.finish(&channel);
    assert_eq!(ran.status, 130, "SIGINT exits 128 + 2");
    assert_restored(&tmux, &ran, "SIGINT");

    let channel = start_picker(&mut tmux, "SHM_CLIP_TEST_PICK_PANIC=boom ");
    tmux.keys(&["-l", "boom"]);
    let ran = tmux.finish(&channel);
    assert_eq!(ran.status, 101, "a panic exits 101");
    assert_restored(&tmux, &ran, "panic");
    // The message went to the normal screen, where it can be read.
    let screen = tmux.screen();
    assert!(screen.contains("test panic requested"), "{screen}");

    assert_eq!(board.seq(), before, "nothing was selected");
    assert_eq!(board.paste(), b"cherry tart");
    // Then a pick that must change the board, in the same pane.
    let channel = start_picker(&mut tmux, "");
    tmux.keys(&["End", "Enter"]);
    assert_eq!(tmux.finish(&channel).status, 0);
    assert_eq!(board.paste(), b"apple pie");
}
