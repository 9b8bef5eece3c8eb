//! The picker's global shortcut on Wayland, where no program may grab a
//! key: the xdg-desktop-portal `GlobalShortcuts` interface (KDE Plasma,
//! GNOME 48+, Hyprland), through `ashpd` on the session bus.
//!
//! A named thread registers the app id of the installed desktop file
//! (`org.freedesktop.host.portal.Registry`, for a program outside a
//! sandbox), creates a session, binds one shortcut ("picker", with
//! `picker.hotkey` as the preferred trigger; the desktop may ask the user
//! and has the last word), and turns every `Activated` signal into a
//! [`Command::ShowPicker`] for the tray's loop.

use std::os::unix::net::UnixDatagram;
use std::sync::Arc;
use std::sync::mpsc::{self, Sender};
use std::time::Duration;

use ashpd::desktop::CreateSessionOptions;
use ashpd::desktop::global_shortcuts::{BindShortcutsOptions, GlobalShortcuts, NewShortcut};
use futures_util::StreamExt as _;

use super::hotkey::Combo;
use super::menu::Command;

/// The app id the portal knows the tray by: the `AppStream` id, which the
/// desktop file's name must match for desktops that look it up.
pub const APP_ID: &str = "io.github.shm_clip.shm_clip";
/// The shortcut's id in the portal's session.
pub const SHORTCUT_ID: &str = "picker";
/// How long the tray waits for the portal to create a session before it
/// decides that there is none.
const SESSION_WITHIN: Duration = Duration::from_secs(5);

/// The trigger as the XDG shortcuts specification writes it: `LOGO+SHIFT+v`.
#[must_use]
pub fn trigger(combo: &Combo) -> String {
    let mut parts = Vec::new();
    for (on, name) in [
        (combo.mods.ctrl, "CTRL"),
        (combo.mods.alt, "ALT"),
        (combo.mods.shift, "SHIFT"),
        (combo.mods.super_, "LOGO"),
    ] {
        if on {
            parts.push(name.to_owned());
        }
    }
    let key = combo.text.rsplit('+').next().unwrap_or("v").trim();
    parts.push(if key.chars().count() == 1 {
        key.to_lowercase()
    } else {
        key.to_owned()
    });
    parts.join("+")
}

/// Starts the portal thread. `Ok` once the portal created a session (the
/// binding then goes on in the background); `Err` says why there is no
/// portal, and the tray prints the bindings to add by hand instead.
pub fn start(
    hotkey: Option<&Combo>,
    commands: Sender<Command>,
    waker: Arc<UnixDatagram>,
) -> Result<(), String> {
    let preferred = hotkey.map(trigger);
    let (ready_tx, ready) = mpsc::channel::<Result<(), String>>();
    std::thread::Builder::new()
        .name("shm-clip-portal".into())
        .spawn(move || {
            let result = zbus::block_on(serve(preferred, &ready_tx, &commands, &waker));
            if let Err(err) = result {
                // Before the session: `ready` carries it. After: the log.
                if ready_tx.send(Err(err.clone())).is_err() {
                    tracing::warn!(%err, "the GlobalShortcuts portal went away: no picker shortcut");
                }
            }
        })
        .map_err(|e| format!("cannot start the portal thread: {e}"))?;
    match ready.recv_timeout(SESSION_WITHIN) {
        Ok(result) => result,
        Err(_) => Err(format!(
            "the portal did not create a session within {SESSION_WITHIN:?}"
        )),
    }
}

async fn serve(
    preferred: Option<String>,
    ready: &mpsc::Sender<Result<(), String>>,
    commands: &Sender<Command>,
    waker: &UnixDatagram,
) -> Result<(), String> {
    let bus = zbus::Connection::session()
        .await
        .map_err(|e| format!("no session bus: {e}"))?;
    // Older portals have no registry; they find the app id themselves.
    match APP_ID.parse() {
        Ok(id) => {
            if let Err(err) = ashpd::register_host_app_with_connection(bus.clone(), id).await {
                tracing::debug!(%err, "the portal's host registry did not take the app id");
            }
        }
        Err(err) => tracing::warn!(%err, "invalid app id {APP_ID}"),
    }
    let portal = GlobalShortcuts::with_connection(bus)
        .await
        .map_err(|e| format!("no GlobalShortcuts portal: {e}"))?;
    let session = portal
        .create_session(CreateSessionOptions::default())
        .await
        .map_err(|e| format!("the GlobalShortcuts portal refused a session: {e}"))?;
    let _ = ready.send(Ok(()));
    let mut activated = portal
        .receive_activated()
        .await
        .map_err(|e| format!("cannot listen to the portal: {e}"))?;
    let shortcut = NewShortcut::new(SHORTCUT_ID, "Show the shm-clip picker")
        .preferred_trigger(preferred.as_deref());
    let bound = portal
        .bind_shortcuts(&session, &[shortcut], None, BindShortcutsOptions::default())
        .await
        .and_then(|request| request.response())
        .map_err(|e| format!("the portal did not bind the picker shortcut: {e}"))?;
    for s in bound.shortcuts() {
        tracing::info!(
            id = s.id(),
            trigger = s.trigger_description(),
            "GlobalShortcuts portal: the picker shortcut is bound"
        );
    }
    while let Some(event) = activated.next().await {
        if event.shortcut_id() != SHORTCUT_ID {
            continue;
        }
        tracing::info!("picker shortcut activated (GlobalShortcuts portal)");
        if commands.send(Command::ShowPicker).is_err() {
            return Ok(()); // the tray is stopping
        }
        let _ = waker.send(&[1]);
    }
    Err("the portal's signal stream ended".into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn triggers_follow_the_shortcuts_specification() {
        let combo = super::super::hotkey::parse("Super+Shift+V").unwrap();
        assert_eq!(super::trigger(&combo), "SHIFT+LOGO+v");
        let combo = super::super::hotkey::parse("Ctrl+Alt+F12").unwrap();
        assert_eq!(super::trigger(&combo), "CTRL+ALT+F12");
    }
}
