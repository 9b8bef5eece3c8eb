//! The tray on Wayland: a headless sway (wlroots, which offers the
//! data-control protocol), with `wl-copy` and `wl-paste` as the peers.

mod tray_support;

use std::io::Write;
use std::process::{Command, Stdio};

use tray_support::{Sway, World, png, run, wait_child, wait_for};

fn wl_copy(w: &World, data: &[u8], mime: Option<&str>) -> std::process::Child {
    let mut cmd = Command::new("wl-copy");
    cmd.arg("--foreground");
    if let Some(m) = mime {
        cmd.args(["--type", m]);
    }
    w.env(&mut cmd);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting wl-copy (install wl-clipboard; scripts/test does)");
    child.stdin.take().unwrap().write_all(data).unwrap();
    child
}

fn wl_paste(w: &World, mime: Option<&str>) -> Option<Vec<u8>> {
    let mut cmd = Command::new("wl-paste");
    cmd.arg("--no-newline");
    if let Some(m) = mime {
        cmd.args(["--type", m]);
    }
    w.env(&mut cmd);
    let out = run(cmd, b"", "wl-paste");
    out.status.success().then_some(out.stdout)
}

#[test]
fn wayland_data_control_both_ways_and_keep_alive() {
    let mut w = World::new("wayland");
    let sway = Sway::start(&w.dir);
    w.wayland = Some(sway.socket.clone());
    let tray = w.tray(&["--no-icon"]);
    assert!(
        tray.log_text().contains("Wayland data-control"),
        "{}",
        tray.log_text()
    );

    // Wayland -> board, as one clip.
    let mut src = wl_copy(&w, b"copied on wayland", None);
    wait_for("the Wayland clip in the board", || {
        (w.paste(None).as_deref() == Some(&b"copied on wayland"[..])).then_some(())
    });
    // The source exits: the clip stays pasteable.
    src.kill().unwrap();
    wait_child(&mut src, "wl-copy");
    wait_for("keep-alive on Wayland", || {
        (wl_paste(&w, None).as_deref() == Some(&b"copied on wayland"[..])).then_some(())
    });

    // Board -> Wayland, a PNG included.
    let image = png(2 << 20);
    let file = w.dir.join("shot.png");
    std::fs::write(&file, &image).unwrap();
    assert!(
        w.cli(&["copy", "--file", file.to_str().unwrap()], b"")
            .status
            .success()
    );
    wait_for("the PNG on the Wayland clipboard", || {
        (wl_paste(&w, Some("image/png"))? == image).then_some(())
    });
    // Our own selection was never echoed into the board.
    let history = w.history();
    assert_eq!(
        history.lines().count(),
        3,
        "header + two entries: {history}"
    );
    drop(tray);
    drop(sway);
}

/// `--primary` on Wayland: the tray reads and owns the primary selection
/// through data-control (sway offers it), with wl-copy/wl-paste --primary as
/// the other application.
#[test]
fn primary_round_trips_through_the_tray_on_wayland() {
    let mut w = World::new("wayland-primary");
    let sway = Sway::start(&w.dir);
    w.wayland = Some(sway.socket.clone());
    let _tray = w.tray(&["--no-icon"]);
    let mut cmd = Command::new("wl-copy");
    cmd.args(["--primary", "--foreground"]);
    w.env(&mut cmd);
    let mut src = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("wl-copy");
    src.stdin
        .take()
        .unwrap()
        .write_all(b"wayland primary")
        .unwrap();
    wait_for("paste -p to read wl-copy's primary", || {
        let out = w.cli(&["paste", "-p"], b"");
        (out.status.success() && out.stdout == b"wayland primary").then_some(())
    });
    src.kill().unwrap();
    wait_child(&mut src, "wl-copy");
    let out = w.cli(&["copy", "-p", "primary from the cli"], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for("wl-paste --primary to read the tray's", || {
        let mut cmd = Command::new("wl-paste");
        cmd.args(["--primary", "--no-newline"]);
        w.env(&mut cmd);
        let out = run(cmd, b"", "wl-paste --primary");
        (out.stdout == b"primary from the cli").then_some(())
    });
    assert_eq!(w.paste(None), None, "copy -p went into the board");
}

/// `wev` (a real Wayland client that prints every input event it gets) in
/// a window of the headless sway, its output line-buffered into a file.
struct Wev {
    child: std::process::Child,
    log: std::path::PathBuf,
}

impl Wev {
    fn start(w: &World) -> Wev {
        let log = w.dir.join("wev.log");
        let file = std::fs::File::create(&log).expect("wev log");
        let mut cmd = Command::new("stdbuf");
        cmd.args(["-oL", "wev"]);
        w.env(&mut cmd);
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .expect("starting wev (install the wev package; scripts/test does)");
        Wev { child, log }
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Wev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asks the tray for the picker's auto-paste, as the picker does after a
/// pick on Wayland (`PASTE -`: no window id); returns its answer line.
fn ask_paste(w: &World) -> String {
    use std::io::{BufRead, BufReader};
    let name = shm_clip::BoardName::new(&w.board).expect("board name");
    let path = {
        // The tray's socket lives in the world's runtime dir.
        let runtime = w.dir.join("runtime");
        let file = name
            .tray_socket_path()
            .file_name()
            .expect("socket name")
            .to_owned();
        runtime.join(file)
    };
    let mut stream = std::os::unix::net::UnixStream::connect(&path)
        .unwrap_or_else(|e| panic!("connecting to {}: {e}", path.display()));
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    stream.write_all(b"PASTE -\n").unwrap();
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer).unwrap();
    answer
}

/// Auto-paste on Wayland: after a pick, the tray types the paste keys
/// (Shift+Insert by default) through the virtual-keyboard protocol that
/// sway offers, and the focused window, a real client (`wev`), gets Shift
/// held, Insert pressed and released, and Shift released again, decoded
/// with the keymap the tray uploaded. Fails if no key arrives.
#[test]
fn auto_paste_types_the_paste_keys_into_the_focused_wayland_window() {
    let mut w = World::new("wayland-paste");
    let sway = Sway::start(&w.dir);
    w.wayland = Some(sway.socket.clone());
    let tray = w.tray(&["--no-icon"]);
    assert!(
        tray.log_text()
            .contains("auto-paste types through the Wayland virtual keyboard"),
        "{}",
        tray.log_text()
    );
    // sway focuses the new window; wev says so once the seat's keyboard
    // (the tray's virtual one) enters its surface.
    let wev = Wev::start(&w);
    wait_for("wev to have the keyboard focus", || {
        wev.text().contains("wl_keyboard] enter").then_some(())
    });
    assert!(
        !wev.text().contains("sym: Insert"),
        "keys before any paste: {}",
        wev.text()
    );

    // The pick: two clips, then the older one made current, as Enter does.
    for text in ["first", "second"] {
        assert!(w.cli(&["copy", text], b"").status.success());
    }
    assert!(w.cli(&["select", "1"], b"").status.success());
    wait_for("the pick on the Wayland clipboard", || {
        tray.log_text()
            .contains("board clip put on the system clipboard")
            .then_some(())
    });
    let answer = ask_paste(&w);
    assert!(
        answer.starts_with("OK"),
        "the tray answered {answer:?}: {}",
        tray.log_text()
    );

    let text = wait_for("wev to get Shift+Insert", || {
        let text = wev.text();
        let released = text.rfind("sym: Shift_L")?;
        (text.contains("sym: Insert") && released > text.find("sym: Insert")?).then_some(text)
    });
    // Order as typed: Shift down, Insert down and up, Shift up.
    let events: Vec<(String, &str)> = text
        .lines()
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|pair| pair[0].contains("wl_keyboard] key:"))
        .filter_map(|pair| {
            let state = if pair[0].contains("(pressed)") {
                "down"
            } else {
                "up"
            };
            let sym = pair[1].split("sym:").nth(1)?.split_whitespace().next()?;
            Some((sym.to_owned(), state))
        })
        .collect();
    let expected: Vec<(String, &str)> = [
        ("Shift_L", "down"),
        ("Insert", "down"),
        ("Insert", "up"),
        ("Shift_L", "up"),
    ]
    .into_iter()
    .map(|(s, st)| (s.to_owned(), st))
    .collect();
    assert_eq!(events, expected, "wev saw:\n{text}");
    // The modifier state came with the keys: Shift was depressed for Insert.
    assert!(text.contains("depressed: 00000001"), "{text}");
    assert!(
        tray.log_text()
            .contains("pasted the picker's choice through the virtual keyboard"),
        "{}",
        tray.log_text()
    );
    drop(wev);
    drop(tray);
    drop(sway);
}

/// sway's IPC socket (beside its Wayland socket), for `swaymsg -s`.
fn sway_ipc(sway: &Sway) -> std::path::PathBuf {
    let dir = sway.socket.parent().expect("sway runtime dir");
    wait_for("sway's IPC socket", || {
        std::fs::read_dir(dir).ok()?.find_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            (name.starts_with("sway-ipc.")
                && std::path::Path::new(&name)
                    .extension()
                    .is_some_and(|e| e == "sock"))
            .then(|| dir.join(name))
        })
    })
}

/// `swaymsg -s IPC ARGS`; its stdout.
fn swaymsg(ipc: &std::path::Path, args: &[&str]) -> String {
    let mut cmd = Command::new("swaymsg");
    cmd.arg("-s").arg(ipc).args(args);
    let out = run(cmd, b"", "swaymsg");
    assert!(out.status.success(), "swaymsg {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether sway's tree holds a window with the picker's app id.
fn picker_window_shown(ipc: &std::path::Path) -> bool {
    swaymsg(ipc, &["-t", "get_tree"]).contains("\"app_id\": \"shm-clip-picker\"")
}

/// The resident picker on Wayland: a window cannot be hidden there, so
/// when its window goes (here sway closes it, as a click elsewhere or Esc
/// would) the process stays, and the next `--picker` summons it: the same
/// process makes a new window on its event loop. Real sway, real picker
/// windows (glow on llvmpipe), sway's own tree as the witness.
#[test]
fn the_wayland_picker_stays_resident_and_makes_a_new_window_at_the_next_summon() {
    let mut w = World::new("wayland-resident");
    let sway = Sway::start(&w.dir);
    w.wayland = Some(sway.socket.clone());
    let ipc = sway_ipc(&sway);
    assert!(w.cli(&["copy", "an entry"], b"").status.success());

    let log = w.dir.join("picker.log");
    let mut cmd = Command::new(tray_support::bin("shm-clip-app"));
    cmd.arg("--picker");
    w.env(&mut cmd);
    let mut picker = cmd
        .env("RUST_LOG", "shm_clip_app=info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("starting shm-clip-app --picker");
    let text = || std::fs::read_to_string(&log).unwrap_or_default();
    wait_for("the picker's window in sway's tree", || {
        if let Some(status) = picker.try_wait().unwrap() {
            panic!("the picker exited with {status}: {}", text());
        }
        picker_window_shown(&ipc).then_some(())
    });
    assert!(text().contains("resident=true"), "{}", text());

    // The window goes; the process stays.
    swaymsg(&ipc, &["[app_id=\"shm-clip-picker\"] kill"]);
    wait_for("the picker's window to close", || {
        text()
            .contains("picker window closed; resident until the next summon")
            .then_some(())
    });
    assert!(!picker_window_shown(&ipc), "the window is still there");
    assert!(
        picker.try_wait().unwrap().is_none(),
        "the picker exited: {}",
        text()
    );

    // A second --picker summons the same process, which shows a new window.
    let mut again = Command::new(tray_support::bin("shm-clip-app"));
    again.arg("--picker");
    w.env(&mut again);
    let out = run(again, b"", "the second shm-clip-app --picker");
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("summoned the resident picker")
            && said.contains(&format!("pid={}", picker.id())),
        "{said}"
    );
    wait_for("a new picker window in sway's tree", || {
        picker_window_shown(&ipc).then_some(())
    });
    assert!(
        text().contains("summoned: a new picker window"),
        "{}",
        text()
    );

    tray_support::terminate(picker.id());
    let status = wait_child(&mut picker, "the picker after SIGTERM");
    assert!(status.success(), "{status}: {}", text());
    drop(sway);
}
