//! The picker for the tray: summoning it when its hotkey is pressed, and
//! the bindings to write by hand where the tray cannot own a global key
//! (a Wayland compositor without the `GlobalShortcuts` portal, such as sway).

use shm_clip::BoardName;

use super::hotkey::Combo;

/// Shows the resident picker, or starts one; never blocks the tray's loop.
pub fn summon_picker(board: &BoardName) {
    let board = board.clone();
    let spawned = std::thread::Builder::new()
        .name("shm-clip-picker-summoner".into())
        .spawn(move || {
            if crate::picker::summon(&board).is_ok() {
                return;
            }
            let exe = std::env::current_exe().unwrap_or_else(|_| "shm-clip-app".into());
            match std::process::Command::new(exe)
                .args(["--picker", "--board", board.as_str()])
                .stdin(std::process::Stdio::null())
                .spawn()
            {
                Ok(mut child) => {
                    tracing::info!(pid = child.id(), "started the picker");
                    let _ = child.wait();
                }
                Err(err) => tracing::warn!(%err, "cannot start shm-clip-app --picker"),
            }
        });
    if let Err(err) = spawned {
        tracing::warn!(%err, "cannot start the picker's summoner thread");
    }
}

/// The command a desktop binding runs.
fn command(board: &BoardName) -> String {
    if board.as_str() == shm_clip::DEFAULT_BOARD {
        "shm-clip-app --picker".into()
    } else {
        format!("shm-clip-app --picker --board {board}")
    }
}

fn key_name(combo: &Combo) -> String {
    let key = combo.text.rsplit('+').next().unwrap_or("V").trim();
    key.to_owned()
}

/// What to add to each desktop's settings to show the picker with `hotkey`
/// (`shm-clip-app --print-shortcut-setup`).
#[must_use]
pub fn setup_text(board: &BoardName, hotkey: Option<&Combo>) -> String {
    let command = command(board);
    let default = super::hotkey::parse("Super+Shift+V").ok();
    let Some(combo) = hotkey.or(default.as_ref()) else {
        return String::new();
    };
    let m = combo.mods;
    let key = key_name(combo);
    let mut sway = Vec::new();
    let mut hypr = Vec::new();
    let mut gnome = String::new();
    for (on, s, h, g) in [
        (m.super_, "Mod4", "SUPER", "<Super>"),
        (m.ctrl, "Ctrl", "CTRL", "<Control>"),
        (m.alt, "Mod1", "ALT", "<Alt>"),
        (m.shift, "Shift", "SHIFT", "<Shift>"),
    ] {
        if on {
            sway.push(s.to_owned());
            hypr.push(h);
            gnome.push_str(g);
        }
    }
    sway.push(key.to_lowercase());
    let path = "/org/gnome/settings-daemon/plugins/media-keys/custom-keybindings/shm-clip-picker/";
    let schema = "org.gnome.settings-daemon.plugins.media-keys.custom-keybinding";
    format!(
        "\
To show the shm-clip picker with {hotkey}, bind this command: {command}

sway (~/.config/sway/config), and i3:
  bindsym {sway} exec {command}
  for_window [app_id=\"shm-clip-picker\"] floating enable

Hyprland (~/.config/hypr/hyprland.conf):
  bind = {hypr}, {key}, exec, {command}
  windowrulev2 = float, class:^(shm-clip-picker)$

GNOME (this replaces your list of custom shortcuts; add the path to it instead if you have some):
  gsettings set org.gnome.settings-daemon.plugins.media-keys custom-keybindings \"['{path}']\"
  gsettings set {schema}:{path} name 'shm-clip picker'
  gsettings set {schema}:{path} command '{command}'
  gsettings set {schema}:{path} binding '{gnome}{key_lower}'

KDE Plasma and GNOME 48+: the tray asks for the key itself through the
GlobalShortcuts portal; change it in the desktop's shortcut settings.
X11: the tray grabs picker.hotkey (config.toml) itself.
",
        hotkey = combo.text,
        sway = sway.join("+"),
        hypr = hypr.join(" "),
        key_lower = key.to_lowercase(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setup_names_each_desktops_binding() {
        let board = BoardName::new("default").unwrap();
        let text = setup_text(&board, None);
        assert!(
            text.contains("bindsym Mod4+Shift+v exec shm-clip-app --picker\n"),
            "{text}"
        );
        assert!(
            text.contains("bind = SUPER SHIFT, V, exec, shm-clip-app --picker\n"),
            "{text}"
        );
        assert!(text.contains("binding '<Super><Shift>v'"), "{text}");
        let work = BoardName::new("work").unwrap();
        let combo = super::super::hotkey::parse("Ctrl+Alt+H").unwrap();
        let text = setup_text(&work, Some(&combo));
        assert!(
            text.contains("bindsym Ctrl+Mod1+h exec shm-clip-app --picker --board work"),
            "{text}"
        );
    }
}
