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
