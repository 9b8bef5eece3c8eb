//! The tray end to end: a real Xvfb, a private D-Bus session, real xclip as
//! the peer application, and the built `shm-clip` and `shm-clip-app`.
//!
//! Every test has its own board, X server and directories (see
//! `tray_support`), so they run in parallel. A missing tool fails the test.

mod tray_support;

use std::process::Command;

use shm_clip_test_kit::file_contains;
use tray_support::{Dbus, World, menu_id, png, wait_child, wait_for};

/// The role that stands in for a password manager: see [`role_offer_secret`].
const ROLE_ENV: &str = "SHM_CLIP_TEST_ROLE";

/// Waits until the board's current clip (of `mime`) is `want`.
fn wait_board(w: &World, mime: Option<&str>, want: &[u8], what: &str) {
    wait_for(what, || {
        (w.paste(mime).as_deref() == Some(want)).then_some(())
    });
}

/// Waits until xclip reads `want` from CLIPBOARD.
fn wait_xclip(w: &World, target: Option<&str>, want: &[u8], what: &str) {
    wait_for(what, || {
        (w.xclip_out(target).as_deref() == Some(want)).then_some(())
    });
}

#[test]
fn xclip_text_reaches_the_board() {
    let w = World::new("xclip-in");
    let _tray = w.tray(&["--no-icon"]);
    let mut src = w.xclip_in("héllo from xclip".as_bytes(), None);
    wait_board(
        &w,
        None,
        "héllo from xclip".as_bytes(),
        "the text in the board",
    );
    let history = w.history();
    assert!(
        history.contains("tray"),
        "the origin is the tray: {history}"
    );
    let _ = src.kill();
    let _ = src.wait();
}

#[test]
fn cli_copy_reaches_xclip() {
    let w = World::new("cli-out");
    let _tray = w.tray(&["--no-icon"]);
    let out = w.cli(&["copy", "copied by the cli"], b"");
    assert!(out.status.success());
    wait_xclip(&w, None, b"copied by the cli", "xclip -o to read the clip");
    // Every text alias is served.
    for target in ["UTF8_STRING", "STRING", "TEXT", "text/plain"] {
        assert_eq!(
            w.xclip_out(Some(target)).as_deref(),
            Some(&b"copied by the cli"[..]),
            "{target}"
        );
    }
    let targets = String::from_utf8(w.xclip_out(Some("TARGETS")).unwrap()).unwrap();
    assert!(
        targets.contains("text/plain;charset=utf-8") && targets.contains("TIMESTAMP"),
        "{targets}"
    );
}

/// Both directions are logged alike, with the size and a hash (the same
/// hash for the same clip), never the content.
#[test]
fn both_directions_log_sizes_and_hashes_never_content() {
    let w = World::new("log-both");
    let tray = w.tray(&["--no-icon"]);
    assert!(w.cli(&["copy", "board secret 1"], b"").status.success());
    wait_xclip(&w, None, b"board secret 1", "xclip -o to read the clip");
    let mut src = w.xclip_in(b"desktop secret 2", None);
    wait_board(
        &w,
        None,
        b"desktop secret 2",
        "the desktop clip in the board",
    );
    let log = tray.stop();
    let _ = src.kill();
    let _ = src.wait();
    let line = |what: &str| {
        log.lines()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("no {what:?} line in:\n{log}"))
            .to_owned()
    };
    let out = line("board clip put on the system clipboard");
    let into = line("system clipboard copied into the board");
    for l in [&out, &into] {
        assert!(l.contains(" size=14 ") || l.contains(" size=16 "), "{l}");
        let hash = &l[l.find(" hash=").expect("a hash") + 6..];
        assert!(hash.split_whitespace().next().unwrap().len() == 16, "{l}");
    }
    assert!(
        !log.contains("secret 1") && !log.contains("secret 2"),
        "{log}"
    );
    // The icon's visibility is the watcher's to report; no `icon=` guess.
    assert!(!log.contains("icon="), "{log}");
}

#[test]
fn png_round_trips_both_ways_with_incr() {
    let w = World::new("png");
    let _tray = w.tray(&["--no-icon"]);
    // Board -> X: 30 MB needs INCR.
    let big = png(30 << 20);
    let file = w.dir.join("big.png");
    std::fs::write(&file, &big).unwrap();
    let out = w.cli(&["copy", "--file", file.to_str().unwrap()], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for("xclip to paste the 30 MB PNG", || {
        let got = w.xclip_out(Some("image/png"))?;
        (got.len() == big.len()).then_some(())
    });
    assert!(
        w.xclip_out(Some("image/png")).unwrap() == big,
        "the PNG came back changed"
    );
    // X -> board: a different 30 MB PNG from xclip, read with INCR.
    let other = png((30 << 20) + 1);
    let mut src = w.xclip_in(&other, Some("image/png"));
    wait_for("the PNG in the board", || {
        let got = w.paste(Some("image/png"))?;
        (got.len() == other.len()).then_some(())
    });
    assert!(w.paste(Some("image/png")).unwrap() == other);
    let _ = src.kill();
    let _ = src.wait();
}

#[test]
fn killed_source_stays_pasteable() {
    let w = World::new("keepalive");
    let _tray = w.tray(&["--no-icon"]);
    let mut src = w.xclip_in(b"outlives its source", None);
    wait_board(&w, None, b"outlives its source", "the clip in the board");
    src.kill().unwrap();
    wait_child(&mut src, "xclip");
    wait_xclip(
        &w,
        None,
        b"outlives its source",
        "the clip to stay pasteable",
    );
    // Re-owning never duplicated the entry.
    let history = w.history();
    assert_eq!(
        history.matches("outlives its source").count(),
        1,
        "{history}"
    );
}

#[test]
fn password_manager_clip_never_reaches_the_history() {
    let w = World::new("secret");
    let tray = w.tray(&["--no-icon"]);
    let mut src = w.xclip_in(b"ordinary", None);
    wait_board(&w, None, b"ordinary", "an ordinary clip first");
    let _ = src.kill();
    let _ = src.wait();
    let mut secret = offer_secret(&w, "hunter2-secret");
    wait_for("the tray to skip the secret", || {
        tray.log_text()
            .contains("skipped a clip marked secret")
            .then_some(())
    });
    let history = w.history();
    assert!(!history.contains("hunter2"), "{history}");
    assert_eq!(w.paste(None).as_deref(), Some(&b"ordinary"[..]));
    assert!(
        !tray.log_text().contains("hunter2"),
        "the secret reached the log"
    );
    let _ = secret.kill();
    let _ = secret.wait();
}

/// The race of a user who copies again right after the last owner exited:
/// the tray must answer the exit by putting the board's clip back only if
/// nobody took CLIPBOARD since, and must read the newer owner, not steal
/// from it (and then ask itself for the content, which it cannot answer).
/// The tray is stopped while both changes happen, so it sees them in that
/// order every time.
#[test]
fn a_clipboard_taken_right_after_its_owner_exited_is_read_not_stolen() {
    let w = World::new("takeover");
    let tray = w.tray(&["--no-icon"]);
    let mut src = w.xclip_in(b"ordinary", None);
    wait_board(&w, None, b"ordinary", "an ordinary clip first");
    let stopped = shm_clip_test_kit::Stopped::new(tray.pid());
    let _ = src.kill();
    let _ = src.wait();
    wait_for("CLIPBOARD to lose its owner", || {
        clipboard_owner(&w.x.display).is_none().then_some(())
    });
    let mut secret = offer_secret(&w, "hunter2-secret");
    drop(stopped);
    wait_for("the tray to read the new owner and skip its secret", || {
        tray.log_text()
            .contains("skipped a clip marked secret")
            .then_some(())
    });
    let log = tray.log_text();
    assert!(
        log.contains("another application took the clipboard since"),
        "the tray should have seen that it may not take CLIPBOARD back: {log}"
    );
    assert!(!log.contains("cannot read the clipboard"), "{log}");
    assert_eq!(
        w.xclip_out(None).as_deref(),
        Some(&b"hunter2-secret"[..]),
        "the password manager must still own CLIPBOARD"
    );
    assert_eq!(w.paste(None).as_deref(), Some(&b"ordinary"[..]));
    let _ = secret.kill();
    let _ = secret.wait();
}

/// The window that owns CLIPBOARD on `display`, if any.
fn clipboard_owner(display: &str) -> Option<u32> {
    use x11rb::protocol::xproto::ConnectionExt as _;
    let (conn, _) = x11rb::connect(Some(display)).expect("connecting to Xvfb");
    let clipboard = conn
        .intern_atom(false, b"CLIPBOARD")
        .unwrap()
        .reply()
        .unwrap()
        .atom;
    let owner = conn
        .get_selection_owner(clipboard)
        .unwrap()
        .reply()
        .unwrap()
        .owner;
    (owner != x11rb::NONE).then_some(owner)
}

#[test]
fn tray_menu_over_dbus() {
    let mut w = World::new("menu");
    w.bus = Some(Dbus::start().with_tray_host());
    let tray = w.tray(&[]);
    for text in ["first clip", "second clip", "third clip"] {
        assert!(w.cli(&["copy", text], b"").status.success());
    }
    let bus = w.bus.as_ref().unwrap();
    // The last copy listed means all three are (the menu is redrawn whole).
    let layout = wait_for("the menu to list three clips", || {
        let layout = bus.menu_layout(&tray.item());
        layout.contains("third clip").then_some(layout)
    });
    for label in [
        "second clip",
        "Open window",
        "Pause syncing",
        "Clear history",
        "Quit",
    ] {
        assert!(
            menu_id(&layout, label).is_some(),
            "{label} missing: {layout}"
        );
    }
    assert!(
        layout.contains("{'label': <'third clip'>, 'toggle-state': <1>"),
        "current is checked: {layout}"
    );
    let id = menu_id(&layout, "first clip").unwrap();
    bus.click(&tray.item(), id);
    wait_board(
        &w,
        None,
        b"first clip",
        "the clicked entry to become current",
    );
    wait_xclip(
        &w,
        None,
        b"first clip",
        "the clicked entry on the system clipboard",
    );
    wait_for("the menu to check it", || {
        bus.menu_layout(&tray.item())
            .contains("{'label': <'first clip'>, 'toggle-state': <1>")
            .then_some(())
    });
    let tooltip = bus.gdbus(&[
        "call",
        "--session",
        "--dest",
        &tray.item(),
        "--object-path",
        "/StatusNotifierItem",
        "--method",
        "org.freedesktop.DBus.Properties.Get",
        "org.kde.StatusNotifierItem",
        "ToolTip",
    ]);
    assert!(String::from_utf8_lossy(&tooltip.stdout).contains("first clip"));
    // Quit from the menu.
    let quit = menu_id(&bus.menu_layout(&tray.item()), "Quit").unwrap();
    // The tray may exit before it answers; its exit status is what counts.
    let _ = bus.send_click(&tray.item(), quit);
    let mut tray = tray;
    let status = wait_child(&mut tray.child, "the tray after Quit");
    assert!(status.success());
}

#[test]
fn no_tray_host_warns_once_and_keeps_syncing() {
    let mut w = World::new("nohost");
    w.bus = Some(Dbus::start());
    let tray = w.tray(&[]);
    let mut src = w.xclip_in(b"synced without a host", None);
    wait_board(
        &w,
        None,
        b"synced without a host",
        "syncing without a tray host",
    );
    let log = tray.stop();
    // One warning of ours (zbus may add one of its own while the icon's
    // connection closes at exit).
    let ours = log
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("shm_clip"))
        .count();
    assert_eq!(ours, 1, "{log}");
    assert!(
        log.contains("no system tray is showing status icons"),
        "{log}"
    );
    assert!(!log.contains("icon=true"), "contradicts the warning: {log}");
    let _ = src.kill();
    let _ = src.wait();
}

#[test]
fn pause_stops_sync_and_resume_restarts_it() {
    let mut w = World::new("pause");
    w.bus = Some(Dbus::start().with_tray_host());
    let tray = w.tray(&[]);
    let bus = w.bus.as_ref().unwrap();
    let pause = wait_for("the menu", || {
        menu_id(&bus.menu_layout(&tray.item()), "Pause syncing")
    });
    bus.click(&tray.item(), pause);
    wait_for("the pause", || {
        tray.log_text().contains("syncing paused").then_some(())
    });
    let mut src = w.xclip_in(b"desktop while paused", None);
    // xclip owns CLIPBOARD, so the change is on the tray's X connection.
    wait_xclip(&w, None, b"desktop while paused", "xclip to own CLIPBOARD");
    assert!(w.cli(&["copy", "cli while paused"], b"").status.success());
    // Sentinels: even paused, the tray lists each board change in its menu.
    // It handles waiting X events at the top of each turn of its loop, and
    // one notification per turn after them. So once a second board change,
    // made after the first was listed, is listed too, the tray has handled
    // the desktop change and the first board change: seen them, and (as
    // checked below) ignored them.
    let listed = |text: &str| {
        wait_for(&format!("{text:?} in the tray's menu"), || {
            bus.menu_layout(&tray.item())
                .contains(&format!("{{'label': <'{text}'>"))
                .then_some(())
        });
    };
    listed("cli while paused");
    assert!(
        w.cli(&["copy", "sentinel while paused"], b"")
            .status
            .success()
    );
    listed("sentinel while paused");
    assert!(
        !w.history().contains("desktop while paused"),
        "synced to the board while paused: {}",
        w.history()
    );
    assert_eq!(
        w.xclip_out(None).as_deref(),
        Some(&b"desktop while paused"[..]),
        "board synced to X while paused"
    );
    let _ = src.kill();
    let _ = src.wait();
    // The menu now lists more clips, so its items have new ids.
    let pause = wait_for("the menu", || {
        menu_id(&bus.menu_layout(&tray.item()), "Pause syncing")
    });
    bus.click(&tray.item(), pause);
    wait_for("the resume", || {
        tray.log_text().contains("syncing resumed").then_some(())
    });
    let mut src = w.xclip_in(b"after resume", None);
    wait_board(&w, None, b"after resume", "syncing after resume");
    let _ = src.kill();
    let _ = src.wait();
}

#[test]
fn persistence_round_trip_without_the_secret() {
    let w = World::new("persist");
    let tray = w.tray(&["--no-icon"]);
    assert!(w.cli(&["copy", "kept one"], b"").status.success());
    assert!(w.cli(&["copy", "kept two"], b"").status.success());
    assert!(w.cli(&["pin", "1"], b"").status.success());
    let mut secret = offer_secret(&w, "persisted-secret");
    wait_for("the tray to skip the secret", || {
        tray.log_text()
            .contains("skipped a clip marked secret")
            .then_some(())
    });
    tray.stop();
    let _ = secret.kill();
    let _ = secret.wait();
    // The archive keeps the history; no history file is written beside it.
    let data = w.dir.join("data/shm-clip");
    let db = data.join("archive.sqlite3");
    let meta = std::fs::metadata(&db).expect("the archive");
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        0o600
    );
    assert!(!data.join(format!("history-{}.bin", w.board)).exists());
    assert!(
        file_contains(&db, b"kept two")
            || file_contains(&data.join("archive.sqlite3-wal"), b"kept two")
    );
    for file in [
        "archive.sqlite3",
        "archive.sqlite3-wal",
        "archive.sqlite3-shm",
    ] {
        assert!(
            !file_contains(&data.join(file), b"persisted-secret"),
            "the secret was written to {file}"
        );
    }
    // A reboot: the board is gone, the archive is not; the next tray
    // refills the new board from it.
    assert!(w.cli(&["destroy", "--keep-history"], b"").status.success());
    let tray = w.tray(&["--no-icon"]);
    assert!(
        tray.log_text().contains("history restored"),
        "{}",
        tray.log_text()
    );
    restored_as_saved(&w);
}

/// The history after a restart holds both kept clips, the pin and the
/// origins, and not the secret.
fn restored_as_saved(w: &World) {
    let history = w.history();
    assert!(
        history.contains("kept one") && history.contains("kept two"),
        "{history}"
    );
    assert!(!history.contains("persisted-secret"), "{history}");
    assert_eq!(w.paste(None).as_deref(), Some(&b"kept two"[..]));
    let json = String::from_utf8(w.cli(&["history", "--json"], b"").stdout).unwrap();
    assert!(
        json.contains("\"pinned\": true"),
        "the pin survived: {json}"
    );
    // Restores are honest: the entries keep the CLI as their origin, not
    // the tray that put them back.
    assert!(
        json.contains("\"kind\": \"cli\"") && !json.contains("\"kind\": \"tray\""),
        "the origins survived: {json}"
    );
}

/// Without the archive the tray saves the history file, as before; a tray
/// with the archive imports that file once and removes it.
#[test]
fn the_history_file_is_imported_into_the_archive_once() {
    let w = World::new("import");
    w.write_config("[archive]\nenabled = false\n");
    let tray = w.tray(&["--no-icon"]);
    assert!(w.cli(&["copy", "kept one"], b"").status.success());
    assert!(w.cli(&["copy", "kept two"], b"").status.success());
    assert!(w.cli(&["pin", "1"], b"").status.success());
    tray.stop();
    let data = w.dir.join("data/shm-clip");
    let file = data.join(format!("history-{}.bin", w.board));
    assert!(
        file_contains(&file, b"kept two"),
        "the tray saved no history file"
    );
    assert!(!data.join("archive.sqlite3").exists());
    assert!(w.cli(&["destroy", "--keep-history"], b"").status.success());
    w.write_config("");
    let tray = w.tray(&["--no-icon"]);
    assert!(
        tray.log_text()
            .contains("imported into the archive and removed"),
        "{}",
        tray.log_text()
    );
    assert!(!file.exists(), "the history file is still there");
    restored_as_saved(&w);
}

#[test]
fn invalid_config_is_a_clear_error() {
    let w = World::new("badconfig");
    w.write_config("[board]\ndepth = 10\n\n[sync]\nprimry = true\n");
    let err = w.tray_fails(&["--no-icon"]);
    assert!(
        err.contains("line 5") && err.contains("sync.primry"),
        "{err}"
    );
    assert!(
        err.contains(&w.config_path().display().to_string()),
        "{err}"
    );
    // Nothing started: no board was created.
    assert!(
        !w.cli(&["boards"], b"")
            .stdout
            .windows(w.board.len())
            .any(|x| x == w.board.as_bytes())
    );
    let out = w.cli(&["copy", "x"], b"");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sync.primry"));
    let show = w.cli(&["config", "show"], b"");
    assert!(!show.status.success());
    let path = w.cli(&["config", "path"], b"");
    assert_eq!(
        String::from_utf8_lossy(&path.stdout).trim(),
        w.config_path().display().to_string()
    );
}

#[test]
fn config_sizes_apply_to_a_new_board() {
    let w = World::new("cfgsizes");
    w.write_config("[board]\ndepth = 3\ncapacity = \"1M\"\n");
    let _tray = w.tray(&["--no-icon"]);
    let status = String::from_utf8(w.cli(&["status", "--json"], b"").stdout).unwrap();
    assert!(status.contains("\"max_entries\": 3"), "{status}");
    let show = String::from_utf8(w.cli(&["config", "show"], b"").stdout).unwrap();
    assert!(
        show.contains("depth = 3") && show.contains("capacity = \"1M\""),
        "{show}"
    );
}

#[test]
fn primary_is_synced_only_when_configured() {
    let w = World::new("primary");
    let tray = w.tray(&["--no-icon"]);
    let mut sel = primary_in(&w, b"mouse selection, off");
    wait_for("xclip to own PRIMARY", || {
        (primary_out(&w).as_deref() == Some(&b"mouse selection, off"[..])).then_some(())
    });
    // Sentinel: a CLIPBOARD change made after it must arrive. The tray
    // handles X events in order, so by then it has seen the PRIMARY change.
    let mut src = w.xclip_in(b"clipboard sentinel", None);
    wait_board(&w, None, b"clipboard sentinel", "the CLIPBOARD sentinel");
    assert!(
        !w.history().contains("mouse selection, off"),
        "PRIMARY synced by default: {}",
        w.history()
    );
    for child in [&mut sel, &mut src] {
        let _ = child.kill();
        let _ = child.wait();
    }
    tray.stop();
    w.write_config("[sync]\nprimary = true\n");
    let _tray = w.tray(&["--no-icon"]);
    let mut sel = primary_in(&w, b"mouse selection, on");
    wait_board(&w, None, b"mouse selection, on", "PRIMARY in the board");
    let _ = sel.kill();
    let _ = sel.wait();
}

#[test]
fn oversized_and_ignored_clips_are_skipped_with_a_log_line() {
    let w = World::new("limits");
    w.write_config("[sync]\nmax_size = \"64K\"\nignore_types = [\"text/html\"]\n");
    let tray = w.tray(&["--no-icon"]);
    let mut src = w.xclip_in(&png(100 << 10), Some("image/png"));
    // The reader stops at the limit, so it knows a lower bound, and says so
    // exactly: never a size that looks like the clip's own.
    let png_len = png(100 << 10).len();
    wait_for("the skip to be logged", || {
        tray.log_text()
            .contains("skipped a clipboard change of at least")
            .then_some(())
    });
    let log = tray.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("skipped a clipboard change of at least"))
        .unwrap();
    assert!(line.contains("sync.max_size is 65536 bytes"), "{line}");
    let at_least: usize = line
        .split("at_least=")
        .nth(1)
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no at_least field: {line}"));
    assert!(at_least > 65536 && at_least <= png_len, "{line}");
    assert_eq!(w.paste(None), None, "an oversized clip reached the board");
    let _ = src.kill();
    let _ = src.wait();
    let mut src = w.xclip_in(b"<b>rich</b>", Some("text/html"));
    wait_for("the ignored type to be logged", || {
        tray.log_text()
            .contains("offers no type that is synced")
            .then_some(())
    });
    assert_eq!(w.paste(None), None, "an ignored type reached the board");
    let _ = src.kill();
    let _ = src.wait();
    // The tray is still alive and syncing.
    let mut src = w.xclip_in(b"small enough", None);
    wait_board(&w, None, b"small enough", "a small clip after the skips");
    let _ = src.kill();
    let _ = src.wait();
}

/// Offers `data` on PRIMARY with xclip in the foreground.
/// Reads PRIMARY through xclip; `None` if nothing is offered.
fn primary_out(w: &World) -> Option<Vec<u8>> {
    let mut cmd = Command::new("xclip");
    cmd.args(["-selection", "primary", "-o"]);
    w.env(&mut cmd);
    let out = tray_support::run(cmd, b"", "xclip -selection primary -o");
    out.status.success().then_some(out.stdout)
}

fn primary_in(w: &World, data: &[u8]) -> std::process::Child {
    let mut cmd = Command::new("xclip");
    cmd.args(["-selection", "primary", "-quiet", "-i"]);
    w.env(&mut cmd);
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("xclip");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), data).unwrap();
    child
}

#[test]
fn second_tray_refuses_naming_the_first() {
    let w = World::new("second");
    let first = w.tray(&["--no-icon"]);
    let err = w.tray_fails(&["--no-icon"]);
    assert!(
        err.contains("already running") && err.contains(&first.pid().to_string()),
        "{err}"
    );
}

/// Starts this test binary as a password manager offering `text` with the
/// `x-kde-passwordManagerHint: secret` target; returns once it owns CLIPBOARD.
fn offer_secret(w: &World, text: &str) -> std::process::Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "role_offer_secret",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(ROLE_ENV, "offer-secret")
    .env("SHM_CLIP_SECRET_TEXT", text)
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null());
    w.env(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    wait_for("the secret offer", || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut out, &mut line).ok()?;
        line.contains("OWNED").then_some(())
    });
    child
}

/// Not a test on its own: the password-manager role for [`offer_secret`].
#[test]
fn role_offer_secret() {
    if std::env::var(ROLE_ENV).as_deref() != Ok("offer-secret") {
        return;
    }
    let text = std::env::var("SHM_CLIP_SECRET_TEXT").unwrap();
    secret_owner::serve(text.as_bytes());
}

/// A tiny X11 selection owner that behaves like `KeePassXC`.
mod secret_owner {
    use x11rb::connection::Connection;
    use x11rb::protocol::Event;
    use x11rb::protocol::xproto::{
        AtomEnum, ConnectionExt as _, CreateWindowAux, EventMask, PropMode, SelectionNotifyEvent,
        WindowClass,
    };
    use x11rb::wrapper::ConnectionExt as _;

    pub fn serve(text: &[u8]) {
        let (conn, screen) = x11rb::connect(None).unwrap();
        let root = conn.setup().roots[screen].root;
        let atom = |name: &str| {
            conn.intern_atom(false, name.as_bytes())
                .unwrap()
                .reply()
                .unwrap()
                .atom
        };
        let (clipboard, targets, utf8, hint) = (
            atom("CLIPBOARD"),
            atom("TARGETS"),
            atom("UTF8_STRING"),
            atom("x-kde-passwordManagerHint"),
        );
        let win = conn.generate_id().unwrap();
        conn.create_window(
            0,
            win,
            root,
            0,
            0,
            1,
            1,
            0,
            WindowClass::INPUT_ONLY,
            0,
            &CreateWindowAux::new(),
        )
        .unwrap();
        conn.set_selection_owner(win, clipboard, x11rb::CURRENT_TIME)
            .unwrap();
        assert_eq!(
            conn.get_selection_owner(clipboard)
                .unwrap()
                .reply()
                .unwrap()
                .owner,
            win
        );
        println!("OWNED");
        loop {
            match conn.wait_for_event().unwrap() {
                Event::SelectionRequest(req) => {
                    let prop = req.property;
                    let ok = if req.target == targets {
                        conn.change_property32(
                            PropMode::REPLACE,
                            req.requestor,
                            prop,
                            AtomEnum::ATOM,
                            &[targets, utf8, hint],
                        )
                        .unwrap();
                        true
                    } else if req.target == utf8 {
                        conn.change_property8(PropMode::REPLACE, req.requestor, prop, utf8, text)
                            .unwrap();
                        true
                    } else if req.target == hint {
                        conn.change_property8(
                            PropMode::REPLACE,
                            req.requestor,
                            prop,
                            AtomEnum::STRING,
                            b"secret",
                        )
                        .unwrap();
                        true
                    } else {
                        false
                    };
                    let notify = SelectionNotifyEvent {
                        response_type: x11rb::protocol::xproto::SELECTION_NOTIFY_EVENT,
                        sequence: 0,
                        time: req.time,
                        requestor: req.requestor,
                        selection: req.selection,
                        target: req.target,
                        property: if ok { prop } else { x11rb::NONE },
                    };
                    conn.send_event(false, req.requestor, EventMask::NO_EVENT, notify)
                        .unwrap();
                    conn.flush().unwrap();
                }
                Event::SelectionClear(_) => return,
                _ => {}
            }
        }
    }
}

/// `--primary` goes through the tray to the X server's PRIMARY selection,
/// both ways, with xclip as the other application.
#[test]
fn primary_round_trips_through_the_tray() {
    let w = World::new("primary-cli");
    let _tray = w.tray(&["--no-icon"]);
    // Another application's selection reaches paste -p.
    let mut sel = primary_in(&w, "sélection by xclip".as_bytes());
    wait_for("paste -p to read xclip's PRIMARY", || {
        let out = w.cli(&["paste", "-p"], b"");
        (out.status.success() && out.stdout == "sélection by xclip".as_bytes()).then_some(())
    });
    let _ = sel.kill();
    let _ = sel.wait();
    // copy -p makes the tray own PRIMARY: xclip reads it, paste -p too
    // (answered from the tray's memory), and the board is not touched.
    let out = w.cli(&["copy", "-p", "primary from the cli"], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut cmd = Command::new("xclip");
    cmd.args(["-selection", "primary", "-o"]);
    w.env(&mut cmd);
    let out = cmd.output().unwrap();
    assert_eq!(out.stdout, b"primary from the cli");
    let out = w.cli(&["paste", "-p"], b"");
    assert_eq!(out.stdout, b"primary from the cli");
    assert_eq!(w.paste(None), None, "copy -p went into the board");
    // A type PRIMARY does not have is refused by the tray, saying so.
    let out = w.cli(&["paste", "-p", "-t", "image/png"], b"");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("PRIMARY has no image/png representation"),
        "{stderr}"
    );
}
