//! The tray's Wayland shortcut path: the xdg-desktop-portal
//! `GlobalShortcuts` interface. The desktop's real portal (KDE's, GNOME's)
//! cannot run headless, so this test serves a small stand-in for the
//! *portal* on a private session bus (the role below, a real D-Bus service
//! built with zbus): it answers the registry, creates a session, binds the
//! shortcut and, when the test says so, emits `Activated`. The thing under
//! test, the tray, runs unchanged on a headless sway, talks to it through
//! ashpd, and must summon the picker.

#![allow(
    clippy::unused_self,
    clippy::used_underscore_binding,
    reason = "zbus interface methods take self and every argument the portal's signature has"
)]

mod tray_support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use tray_support::{Dbus, Sway, World, bin, wait_for};
use zbus::zvariant::{ObjectPath, OwnedValue, Value};

const ROLE_ENV: &str = "SHM_CLIP_PORTAL_TEST_ROLE";
const PATH: &str = "/org/freedesktop/portal/desktop";

/// `:1.42` → `1_42`, as portals name request and session objects.
fn escaped(sender: &str) -> String {
    sender.trim_start_matches(':').replace('.', "_")
}

fn token(options: &HashMap<String, OwnedValue>, key: &str) -> String {
    options
        .get(key)
        .and_then(|v| String::try_from(v.clone()).ok())
        .unwrap_or_else(|| "t".into())
}

/// Emits `org.freedesktop.portal.Request.Response(0, results)` on the
/// request object of `sender`'s `handle_token`.
async fn respond(
    conn: &zbus::Connection,
    sender: &str,
    handle: &str,
    results: HashMap<&str, Value<'_>>,
) -> zbus::fdo::Result<zbus::zvariant::OwnedObjectPath> {
    let path = format!("{PATH}/request/{}/{handle}", escaped(sender));
    let object =
        ObjectPath::try_from(path.as_str()).map_err(|e| zbus::fdo::Error::Failed(e.to_string()))?;
    conn.emit_signal(
        None::<()>,
        &object,
        "org.freedesktop.portal.Request",
        "Response",
        &(0u32, results),
    )
    .await
    .map_err(|e| zbus::fdo::Error::Failed(e.to_string()))?;
    Ok(object.into())
}

struct Shortcuts {
    session: std::sync::Arc<std::sync::Mutex<String>>,
}

#[zbus::interface(name = "org.freedesktop.portal.GlobalShortcuts")]
impl Shortcuts {
    #[zbus(property, name = "version")]
    fn version(&self) -> u32 {
        1
    }

    async fn create_session(
        &self,
        options: HashMap<String, OwnedValue>,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] conn: &zbus::Connection,
    ) -> zbus::fdo::Result<zbus::zvariant::OwnedObjectPath> {
        let sender = header.sender().map(ToString::to_string).unwrap_or_default();
        let session = format!(
            "{PATH}/session/{}/{}",
            escaped(&sender),
            token(&options, "session_handle_token")
        );
        self.session.lock().unwrap().clone_from(&session);
        println!("session {session}");
        let results = HashMap::from([("session_handle", Value::from(session))]);
        respond(conn, &sender, &token(&options, "handle_token"), results).await
    }

    async fn bind_shortcuts(
        &self,
        _session: ObjectPath<'_>,
        shortcuts: Vec<(String, HashMap<String, OwnedValue>)>,
        _parent_window: String,
        options: HashMap<String, OwnedValue>,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] conn: &zbus::Connection,
    ) -> zbus::fdo::Result<zbus::zvariant::OwnedObjectPath> {
        let sender = header.sender().map(ToString::to_string).unwrap_or_default();
        let mut bound = Vec::new();
        for (id, info) in &shortcuts {
            let trigger = token(info, "preferred_trigger");
            println!("bind {id} {trigger}");
            let info = HashMap::from([
                ("description", Value::from("Show the picker")),
                ("trigger_description", Value::from(trigger)),
            ]);
            bound.push((id.clone(), info));
        }
        let results = HashMap::from([("shortcuts", Value::from(bound))]);
        respond(conn, &sender, &token(&options, "handle_token"), results).await
    }
}

struct Registry;

#[zbus::interface(name = "org.freedesktop.host.portal.Registry")]
impl Registry {
    #[zbus(property, name = "version")]
    fn version(&self) -> u32 {
        1
    }

    fn register(&self, app_id: &str, _options: HashMap<String, OwnedValue>) {
        println!("registered {app_id}");
    }
}

/// The stand-in portal (run by the test below, on its private bus): prints
/// what it is asked, and emits `Activated` for every line on stdin.
#[test]
fn role_portal() {
    if std::env::var(ROLE_ENV).as_deref() != Ok("portal") {
        return;
    }
    let session = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let conn = zbus::blocking::connection::Builder::session()
        .unwrap()
        .name("org.freedesktop.portal.Desktop")
        .unwrap()
        .serve_at(
            PATH,
            Shortcuts {
                session: std::sync::Arc::clone(&session),
            },
        )
        .unwrap()
        .serve_at(PATH, Registry)
        .unwrap()
        .build()
        .unwrap();
    println!("ready");
    for line in std::io::stdin().lines() {
        if line.is_err() {
            break;
        }
        let handle = session.lock().unwrap().clone();
        let handle = ObjectPath::try_from(handle.as_str()).unwrap();
        conn.emit_signal(
            None::<()>,
            PATH,
            "org.freedesktop.portal.GlobalShortcuts",
            "Activated",
            &(handle, "picker", 0u64, HashMap::<&str, Value<'_>>::new()),
        )
        .unwrap();
        println!("activated");
    }
}

#[test]
fn the_portal_binds_the_shortcut_and_its_activation_summons_the_picker() {
    let mut w = World::new("pick-portal");
    w.bus = Some(Dbus::start());
    let sway = Sway::start(&w.dir);
    w.wayland = Some(sway.socket.clone());

    let mut portal = Command::new(std::env::current_exe().unwrap());
    portal
        .args(["--exact", "role_portal", "--nocapture", "--test-threads=1"])
        .env(ROLE_ENV, "portal");
    w.env(&mut portal);
    let mut portal = portal
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the portal role");
    // A reader thread, so that every wait has a deadline.
    let (lines_tx, lines) = std::sync::mpsc::channel();
    let said = BufReader::new(portal.stdout.take().unwrap());
    std::thread::Builder::new()
        .name("portal-stdout".into())
        .spawn(move || {
            for line in said.lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        })
        .unwrap();
    let mut heard = String::new();
    let expect = |what: &str, heard: &mut String| -> String {
        loop {
            let line = lines
                .recv_timeout(tray_support::WATCHDOG)
                .unwrap_or_else(|_| {
                    panic!("watchdog: the portal never said {what:?}; it said:\n{heard}")
                });
            heard.push_str(&line);
            heard.push('\n');
            // libtest may print "test role_portal ... " before the first line.
            if let Some(at) = line.find(what) {
                return line[at..].to_owned();
            }
        }
    };
    expect("ready", &mut heard);

    let log = w.dir.join("tray.log");
    let mut tray = Command::new(bin("shm-clip-app"));
    tray.args(["--tray", "--no-icon"]);
    w.env(&mut tray);
    let mut tray = tray
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let log_text = || std::fs::read_to_string(&log).unwrap_or_default();
    expect("registered io.github.shm_clip.shm_clip", &mut heard);
    expect("session ", &mut heard);
    let bind = expect("bind picker", &mut heard);
    assert_eq!(
        bind.trim(),
        "bind picker SHIFT+LOGO+v",
        "the preferred trigger is picker.hotkey"
    );
    wait_for("the tray to report the binding", || {
        log_text()
            .contains("the picker shortcut is bound")
            .then_some(())
    });
    assert!(
        !log_text().contains("bind the picker in your compositor"),
        "with a portal, no hand-made binding is asked for: {}",
        log_text()
    );

    writeln!(portal.stdin.as_mut().unwrap(), "activate").unwrap();
    expect("activated", &mut heard);
    let picker = wait_for("the activation to start the picker", || {
        let text = log_text();
        if !text.contains("picker shortcut activated") {
            return None;
        }
        let (_, rest) = text.split_once("started the picker pid=")?;
        rest.split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse::<u32>()
            .ok()
    });
    let _ = tray.kill();
    let _ = tray.wait();
    // The picker is the tray's child, not ours, and outlives it: left
    // running, it opened the board again after the world destroyed it.
    shm_clip_test_kit::stop::terminate(picker, tray_support::WATCHDOG);
    drop(portal.stdin.take());
    let _ = portal.kill();
    let _ = portal.wait();
}

/// Without a portal (sway alone), the tray prints the binding to add once.
#[test]
fn without_a_portal_the_tray_prints_the_binding_once() {
    let mut w = World::new("pick-noportal");
    w.bus = Some(Dbus::start());
    let sway = Sway::start(&w.dir);
    w.wayland = Some(sway.socket.clone());
    let tray = w.tray(&["--no-icon"]);
    let text = tray.log_text();
    assert_eq!(
        text.matches("bind the picker in your compositor").count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("bindsym Mod4+Shift+v exec shm-clip-app --picker"),
        "{text}"
    );
}
