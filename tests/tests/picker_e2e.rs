//! The picker end to end: a real Xvfb, the built `shm-clip-app --picker`
//! and `--tray`, the hotkey pressed with `xdotool key` (which triggers the
//! tray's passive grab, as a keyboard would), xclip reading the clipboard,
//! and zenity as the third-party application that receives an auto-paste
//! (xev where the test needs to see which keys arrived).
//!
//! Every test has its own board, X server and runtime directory (see
//! `tray_support`). There is no window manager: the picker and the tray
//! must take and give back the focus themselves. A missing tool fails the
//! test.

mod tray_support;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use tray_support::{World, bin, run, wait_for};

/// The role that holds the picker's hotkey before the tray starts.
const ROLE_ENV: &str = "SHM_CLIP_PICKER_TEST_ROLE";

/// Runs xdotool in `w`'s display and returns its trimmed stdout.
fn xdotool(w: &World, args: &[&str]) -> Result<String, String> {
    let mut cmd = Command::new("xdotool");
    cmd.args(args);
    w.env(&mut cmd);
    let out = run(cmd, b"", "xdotool");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Waits until a picker window is mapped (`search --sync` blocks until
/// one is, under the watchdog), then until it has the keyboard focus.
fn wait_for_picker(w: &World) -> String {
    let found = xdotool(
        w,
        &[
            "search",
            "--sync",
            "--onlyvisible",
            "--classname",
            "shm-clip-picker",
        ],
    )
    .expect("xdotool search for the picker");
    let window = found.lines().next().expect("a window id").to_owned();
    wait_for("the picker to take the keyboard focus", || {
        (xdotool(w, &["getwindowfocus"]).ok()? == window).then_some(())
    });
    window
}

/// Waits until no picker window is mapped.
fn wait_for_hidden(w: &World) {
    wait_for("the picker to hide", || {
        xdotool(
            w,
            &["search", "--onlyvisible", "--classname", "shm-clip-picker"],
        )
        .is_err()
        .then_some(())
    });
}

/// A process of the test, killed on drop, its stderr in a log file.
struct Logged {
    child: Child,
    log: PathBuf,
}

impl Logged {
    fn spawn(w: &World, name: &str, args: &[&str], env: &[(&str, &str)]) -> Logged {
        let log = w.dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let mut cmd = Command::new(bin("shm-clip-app"));
        cmd.args(args);
        w.env(&mut cmd);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("starting shm-clip-app");
        Logged { child, log }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_log(&mut self, what: &str) {
        wait_for(&format!("{what:?} in {}", self.log.display()), || {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!("exited with {status}: {}", self.log_text());
            }
            self.log_text().contains(what).then_some(())
        });
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- {} ---\n{}", self.log.display(), self.log_text());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn copy(w: &World, texts: &[&str]) {
    for text in texts {
        let out = w.cli(&["copy", text], b"");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Waits until both the board and the desktop clipboard hold `want`.
fn wait_chosen(w: &World, want: &str) {
    wait_for(&format!("the board's current clip to be {want:?}"), || {
        (w.paste(None).as_deref() == Some(want.as_bytes())).then_some(())
    });
    wait_for(&format!("xclip to read {want:?}"), || {
        (w.xclip_out(None).as_deref() == Some(want.as_bytes())).then_some(())
    });
}

#[test]
fn the_picker_filters_chooses_and_a_second_run_summons_the_resident_one() {
    let w = World::new("pick-run");
    let _tray = w.tray(&["--no-icon"]);
    copy(&w, &["alpha one", "beta two", "gamma three"]);
    let mut picker = Logged::spawn(
        &w,
        "picker",
        &["--picker"],
        &[("RUST_LOG", "info,shm_clip_app::picker=debug")],
    );
    picker.wait_log("picker running");
    let window = wait_for_picker(&w);
    // Found by its WM_CLASS instance; its class is the same, for float rules.
    let by_class = xdotool(
        &w,
        &["search", "--onlyvisible", "--class", "^shm-clip-picker$"],
    )
    .unwrap_or_default();
    assert_eq!(by_class, window, "WM_CLASS for window-manager rules");
    xdotool(&w, &["type", "alph"]).unwrap();
    xdotool(&w, &["key", "Return"]).unwrap();
    wait_chosen(&w, "alpha one");
    wait_for_hidden(&w);

    // A second --picker only summons the resident one, and exits.
    let mut cmd = Command::new(bin("shm-clip-app"));
    cmd.arg("--picker");
    w.env(&mut cmd);
    let out = run(cmd, b"", "the second shm-clip-app --picker");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&format!(
            "summoned the resident picker pid={}",
            picker.child.id()
        )),
        "{said}"
    );
    assert_eq!(wait_for_picker(&w), window, "the same window shows again");
    xdotool(&w, &["type", "beta"]).unwrap();
    xdotool(&w, &["key", "Return"]).unwrap();
    wait_chosen(&w, "beta two");
    assert!(
        picker.child.try_wait().unwrap().is_none(),
        "the picker stays resident"
    );
}

#[test]
fn the_hotkey_shows_the_picker_also_with_numlock_on() {
    let w = World::new("pick-hotkey");
    let mut tray = Logged::spawn(&w, "tray", &["--tray", "--no-icon"], &[]);
    tray.wait_log("picker hotkey grabbed");
    copy(&w, &["first entry", "second entry", "third entry"]);
    xdotool(&w, &["key", "super+shift+v"]).unwrap();
    wait_for_picker(&w);
    xdotool(&w, &["type", "first"]).unwrap();
    xdotool(&w, &["key", "Return"]).unwrap();
    wait_chosen(&w, "first entry");
    wait_for_hidden(&w);

    // With NumLock on the key still works: the grab covers its mask.
    xdotool(&w, &["key", "Num_Lock"]).unwrap();
    xdotool(&w, &["key", "super+shift+v"]).unwrap();
    wait_for_picker(&w);
    xdotool(&w, &["type", "second"]).unwrap();
    xdotool(&w, &["key", "Return"]).unwrap();
    wait_chosen(&w, "second entry");
    xdotool(&w, &["key", "Num_Lock"]).unwrap();
    assert!(tray.log_text().contains("picker hotkey pressed"));
}

#[test]
fn a_hotkey_taken_by_another_program_is_one_warning_and_the_tray_runs_on() {
    let w = World::new("pick-taken");
    // Another client grabs Super+Shift+V first.
    let mut holder = Command::new(std::env::current_exe().unwrap());
    holder
        .args([
            "--exact",
            "role_hold_the_hotkey",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE_ENV, "hold");
    w.env(&mut holder);
    let mut holder = holder
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the holder role");
    let mut out = BufReader::new(holder.stdout.take().unwrap());
    let held = wait_for("the other client to grab the key", || {
        let mut line = String::new();
        out.read_line(&mut line).ok()?;
        (line.contains("grabbed") || line.contains("failed")).then_some(line)
    });
    assert!(held.contains("grabbed"), "{held}");

    let mut tray = Logged::spawn(&w, "tray", &["--tray", "--no-icon"], &[]);
    tray.wait_log("tray running");
    tray.wait_log("already taken by another program");
    let log = tray.log_text();
    assert_eq!(
        log.matches("already taken by another program").count(),
        1,
        "{log}"
    );
    assert!(
        log.contains("Super+Shift+V"),
        "the warning names the key: {log}"
    );
    // The tray keeps running and syncing.
    copy(&w, &["still syncing"]);
    wait_chosen(&w, "still syncing");
    assert!(tray.child.try_wait().unwrap().is_none());
    drop(holder.stdin.take());
    let _ = holder.kill();
    let _ = holder.wait();
}

/// Holds Super+Shift+V on the root window until stdin closes (run by
/// `a_hotkey_taken_by_another_program_...`); does nothing otherwise.
#[test]
fn role_hold_the_hotkey() {
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{ConnectionExt as _, GrabMode, ModMask};
    if std::env::var(ROLE_ENV).as_deref() != Ok("hold") {
        return;
    }
    let (conn, screen) = x11rb::connect(None).expect("DISPLAY");
    let root = conn.setup().roots[screen].root;
    let (min, max) = (conn.setup().min_keycode, conn.setup().max_keycode);
    let map = conn
        .get_keyboard_mapping(min, max - min + 1)
        .unwrap()
        .reply()
        .unwrap();
    let per = usize::from(map.keysyms_per_keycode);
    let v = map
        .keysyms
        .chunks(per)
        .position(|syms| syms.contains(&u32::from('v')))
        .expect("a key for v") as u8
        + min;
    let super_l = map
        .keysyms
        .chunks(per)
        .position(|syms| syms.contains(&0xffeb))
        .expect("a Super_L key") as u8
        + min;
    let modmap = conn.get_modifier_mapping().unwrap().reply().unwrap();
    let per_mod = usize::from(modmap.keycodes_per_modifier());
    let super_bit = modmap
        .keycodes
        .chunks(per_mod)
        .position(|codes| codes.contains(&super_l))
        .expect("Super_L is a modifier");
    let mask = u16::from(ModMask::SHIFT) | (1 << super_bit);
    let grabbed = conn
        .grab_key(
            false,
            root,
            ModMask::from(mask),
            v,
            GrabMode::ASYNC,
            GrabMode::ASYNC,
        )
        .unwrap()
        .check();
    println!("{}", if grabbed.is_ok() { "grabbed" } else { "failed" });
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
}

#[test]
fn auto_paste_types_the_pick_into_a_gtk_text_field() {
    let w = World::new("pick-paste");
    w.write_config("[picker]\npaste = true\n");
    let mut tray = Logged::spawn(
        &w,
        "tray",
        &["--tray", "--no-icon"],
        &[("RUST_LOG", "info,shm_clip_app::sync=debug")],
    );
    tray.wait_log("picker hotkey grabbed");
    copy(&w, &["pasted by the picker", "not this one"]);

    let mut zenity = Command::new("zenity");
    zenity.args(["--entry", "--title=paste-target", "--text=paste here"]);
    w.env(&mut zenity);
    let mut zenity = zenity
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting zenity (install the zenity package; scripts/test does)");
    let target = xdotool(
        &w,
        &[
            "search",
            "--sync",
            "--onlyvisible",
            "--name",
            "paste-target",
        ],
    )
    .expect("the zenity window");
    let target = target.lines().next().unwrap().to_owned();
    xdotool(&w, &["windowfocus", "--sync", &target]).unwrap();
    xdotool(&w, &["key", "super+shift+v"]).unwrap();
    wait_for_picker(&w);
    xdotool(&w, &["type", "pasted by"]).unwrap();
    xdotool(&w, &["key", "Return"]).unwrap();
    tray.wait_log("pasted the picker's choice");
    // The paste lands when zenity has read CLIPBOARD as text from the tray.
    wait_for("zenity to read the clipboard", || {
        tray.log_text()
            .lines()
            .any(|l| {
                l.contains("answered a selection request")
                    && l.contains("ok=true")
                    && (l.contains("UTF8_STRING") || l.contains("text/plain"))
            })
            .then_some(())
    });
    // The tray gave the focus back to zenity before it pasted.
    assert_eq!(xdotool(&w, &["getwindowfocus"]).unwrap(), target);
    xdotool(&w, &["key", "Return"]).unwrap();
    let status = tray_support::wait_child(&mut zenity, "zenity");
    let mut text = String::new();
    zenity
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert!(status.success(), "zenity exited with {status}");
    assert_eq!(text.trim_end_matches('\n'), "pasted by the picker");
    assert!(
        tray.log_text().contains("keys=Shift+Insert"),
        "{}",
        tray.log_text()
    );
}

/// A helper process of the test (not shm-clip), killed on drop.
struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The keysym names of the `KeyPress` events in xev's output `log`, in order.
fn key_presses(log: &str) -> Vec<String> {
    log.split("\n\n")
        .filter(|event| event.trim_start().starts_with("KeyPress event"))
        .filter_map(|event| {
            // "... keycode 55 (keysym 0x76, v), same_screen YES,"
            let after = &event[event.find("(keysym ")?..];
            let name = after.split(", ").nth(1)?;
            Some(name.split(')').next()?.to_owned())
        })
        .collect()
}

#[test]
fn a_paste_rule_for_the_focused_windows_class_sends_its_keys_instead_of_shift_insert() {
    let w = World::new("pick-rule");
    // The rule names the class in another case: rules match in any case.
    w.write_config("[picker]\npaste = true\npaste_rules = { pastetarget = \"Ctrl+V\" }\n");
    let mut tray = Logged::spawn(&w, "tray", &["--tray", "--no-icon"], &[]);
    tray.wait_log("picker hotkey grabbed");
    copy(&w, &["pasted with the rule", "not this one"]);

    // xev is the application: a real X client that logs every key it gets.
    let xev_log = w.dir.join("xev.log");
    let mut xev = Command::new("xev");
    xev.args(["-event", "keyboard", "-name", "paste-target"]);
    w.env(&mut xev);
    let _xev = Peer(
        xev.stdin(Stdio::null())
            .stdout(std::fs::File::create(&xev_log).expect("xev log"))
            .stderr(Stdio::null())
            .spawn()
            .expect("starting xev (install x11-utils; scripts/test does)"),
    );
    let target = xdotool(
        &w,
        &[
            "search",
            "--sync",
            "--onlyvisible",
            "--name",
            "^paste-target$",
        ],
    )
    .expect("the xev window");
    let target = target.lines().next().unwrap().to_owned();
    // xev sets no WM_CLASS; give its window one, as toolkits do.
    xdotool(
        &w,
        &[
            "set_window",
            "--classname",
            "paste-target",
            "--class",
            "PasteTarget",
            &target,
        ],
    )
    .unwrap();
    xdotool(&w, &["windowfocus", "--sync", &target]).unwrap();
    xdotool(&w, &["key", "super+shift+v"]).unwrap();
    wait_for_picker(&w);
    // From here until the picker closes, keys go to the picker, not to xev.
    let before = std::fs::read_to_string(&xev_log).unwrap_or_default().len();
    xdotool(&w, &["type", "with the rule"]).unwrap();
    xdotool(&w, &["key", "Return"]).unwrap();
    wait_chosen(&w, "pasted with the rule");
    tray.wait_log("pasted the picker's choice");
    let pressed = wait_for("xev to get the paste keys", || {
        let log = std::fs::read_to_string(&xev_log).ok()?;
        let pressed = key_presses(log.get(before..)?);
        (pressed.len() >= 2).then_some(pressed)
    });
    assert_eq!(
        pressed,
        ["Control_L", "v"],
        "the rule's Ctrl+V, not the default Shift+Insert, in {}",
        xev_log.display()
    );
    assert!(
        !pressed
            .iter()
            .any(|k| k == "Insert" || k.starts_with("Shift")),
        "{pressed:?}"
    );
}

/// The X server's current modifier and lock state (`QueryPointer`'s mask).
fn modifier_state(w: &World) -> u16 {
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::ConnectionExt as _;
    let (conn, screen) = x11rb::connect(Some(&w.x.display)).expect("connecting to the test's X");
    let root = conn.setup().roots[screen].root;
    u16::from(conn.query_pointer(root).unwrap().reply().unwrap().mask)
}

#[test]
fn the_hotkey_shows_the_picker_also_with_capslock_on() {
    use x11rb::protocol::xproto::KeyButMask;
    let lock = u16::from(KeyButMask::LOCK);
    let w = World::new("pick-caps");
    let mut tray = Logged::spawn(&w, "tray", &["--tray", "--no-icon"], &[]);
    tray.wait_log("picker hotkey grabbed");
    copy(&w, &["first entry", "second entry", "third entry"]);

    xdotool(&w, &["key", "Caps_Lock"]).unwrap();
    assert_ne!(modifier_state(&w) & lock, 0, "CapsLock is on");
    xdotool(&w, &["key", "super+shift+v"]).unwrap();
    wait_for_picker(&w);
    xdotool(&w, &["key", "Escape"]).unwrap();
    wait_for_hidden(&w);

    // CapsLock and NumLock together: the fourth grab.
    xdotool(&w, &["key", "Num_Lock"]).unwrap();
    xdotool(&w, &["key", "super+shift+v"]).unwrap();
    wait_for_picker(&w);
    xdotool(&w, &["key", "Escape"]).unwrap();
    wait_for_hidden(&w);
    xdotool(&w, &["key", "Num_Lock"]).unwrap();
    xdotool(&w, &["key", "Caps_Lock"]).unwrap();
    assert_eq!(modifier_state(&w) & lock, 0, "CapsLock is off again");
    assert_eq!(
        tray.log_text().matches("picker hotkey pressed").count(),
        2,
        "{}",
        tray.log_text()
    );
}

/// The stand-in notification daemon; its own module so that the lint
/// exceptions zbus's generated code needs stay here.
mod notification_daemon {
    #![allow(
        clippy::too_many_arguments,
        clippy::needless_pass_by_value,
        clippy::unused_self,
        clippy::used_underscore_binding,
        reason = "zbus interface methods take every argument of the D-Bus signature"
    )]

    use std::collections::HashMap;

    /// What a `Notify` call carried: app name, summary and body.
    pub type Notice = (String, String, String);

    /// Stands in for the desktop's notification daemon (there is none headless):
    /// a real `org.freedesktop.Notifications` service on the test's private
    /// session bus, served with zbus, that hands every `Notify` to the test.
    pub struct NotificationDaemon {
        pub notices: std::sync::Mutex<std::sync::mpsc::Sender<Notice>>,
    }

    #[zbus::interface(name = "org.freedesktop.Notifications")]
    impl NotificationDaemon {
        fn notify(
            &self,
            app_name: String,
            _replaces_id: u32,
            _app_icon: String,
            summary: String,
            body: String,
            _actions: Vec<String>,
            _hints: HashMap<String, zbus::zvariant::OwnedValue>,
            _expire_timeout: i32,
        ) -> u32 {
            let _ = self.notices.lock().unwrap().send((app_name, summary, body));
            1
        }
    }
}

/// Serves the stand-in notification daemon on `w`'s bus; returns its
/// connection (served while it lives) and the notices it receives.
fn serve_notifications(
    w: &World,
) -> (
    zbus::blocking::Connection,
    std::sync::mpsc::Receiver<notification_daemon::Notice>,
) {
    let (tx, notices) = std::sync::mpsc::channel();
    let address = &w.bus.as_ref().expect("a session bus").address;
    let daemon = zbus::blocking::connection::Builder::address(address.as_str())
        .unwrap()
        .name("org.freedesktop.Notifications")
        .unwrap()
        .serve_at(
            "/org/freedesktop/Notifications",
            notification_daemon::NotificationDaemon {
                notices: std::sync::Mutex::new(tx),
            },
        )
        .unwrap()
        .build()
        .expect("serving org.freedesktop.Notifications on the test's bus");
    (daemon, notices)
}

/// Waits for the one "Copied — press Ctrl+V" notification of a pick.
fn expect_copied_notice(
    notices: &std::sync::mpsc::Receiver<notification_daemon::Notice>,
    picker: &mut Logged,
) {
    let (app, summary, body) = notices
        .recv_timeout(tray_support::WATCHDOG)
        .expect("watchdog: no Notify call reached the notification daemon");
    assert_eq!(app, "shm-clip");
    // The notice's whole text is its summary line; the body is empty.
    assert_eq!(summary, "Copied \u{2014} press Ctrl+V", "body {body:?}");
    assert_eq!(body, "");
    picker.wait_log("auto-paste did not happen");
    assert!(
        notices.try_recv().is_err(),
        "one notice per pick: {}",
        picker.log_text()
    );
}

#[test]
fn without_a_tray_an_auto_paste_is_a_copied_press_ctrl_v_notification() {
    let mut w = World::new("pick-notice");
    w.bus = Some(tray_support::Dbus::start());
    w.write_config("[picker]\npaste = true\n");
    let (_daemon, notices) = serve_notifications(&w);
    copy(&w, &["copied, not pasted", "not this one"]);

    // No tray runs on this board: nobody can send the paste keys.
    let mut picker = Logged::spawn(&w, "picker", &["--picker"], &[]);
    picker.wait_log("picker running");
    wait_for_picker(&w);
    xdotool(&w, &["type", "not pasted"]).unwrap();
    xdotool(&w, &["key", "Return"]).unwrap();
    // Only the board: with no tray, nobody serves the desktop clipboard.
    wait_for("the board's current clip to be the pick", || {
        (w.paste(None).as_deref() == Some(&b"copied, not pasted"[..])).then_some(())
    });
    expect_copied_notice(&notices, &mut picker);
    assert!(picker.log_text().contains("no tray answers"));
}

#[test]
fn a_tray_that_answers_err_to_the_paste_gives_the_copied_notification() {
    let mut w = World::new("pick-notice-err");
    w.bus = Some(tray_support::Dbus::start());
    // The tray does not own CLIPBOARD, so it refuses to send paste keys.
    w.write_config("[sync]\nto_system = false\n[picker]\npaste = true\n");
    let (_daemon, notices) = serve_notifications(&w);
    let mut tray = Logged::spawn(&w, "tray", &["--tray", "--no-icon"], &[]);
    tray.wait_log("picker hotkey grabbed");
    copy(&w, &["copied, not pasted", "not this one"]);
    // A focused application, so that the tray's only reason to refuse is
    // that it does not serve the clipboard.
    let mut xev = Command::new("xev");
    xev.args(["-event", "keyboard", "-name", "paste-target"]);
    w.env(&mut xev);
    let _xev = Peer(
        xev.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting xev (install x11-utils; scripts/test does)"),
    );
    let target = xdotool(
        &w,
        &[
            "search",
            "--sync",
            "--onlyvisible",
            "--name",
            "^paste-target$",
        ],
    )
    .expect("the xev window");
    let target = target.lines().next().unwrap().to_owned();
    xdotool(&w, &["windowfocus", "--sync", &target]).unwrap();
    let mut picker = Logged::spawn(&w, "picker", &["--picker"], &[]);
    picker.wait_log("picker running");
    wait_for_picker(&w);
    xdotool(&w, &["type", "not pasted"]).unwrap();
    xdotool(&w, &["key", "Return"]).unwrap();
    wait_for("the board's current clip to be the pick", || {
        (w.paste(None).as_deref() == Some(&b"copied, not pasted"[..])).then_some(())
    });
    expect_copied_notice(&notices, &mut picker);
    let log = picker.log_text();
    assert!(
        log.contains("sync.to_system is off"),
        "the tray's ERR: {log}"
    );
    assert!(!tray.log_text().contains("pasted the picker's choice"));
}
