//! Auto-paste on Wayland: the paste keys through the virtual-keyboard
//! protocol (`zwp_virtual_keyboard_manager_v1`), which wlroots compositors
//! (sway, river, labwc, Hyprland) offer. GNOME and KDE do not; there the
//! picker shows "Copied — press Ctrl+V" instead.
//!
//! A virtual keyboard must upload its keymap before it sends a key, and the
//! compositor hands that keymap to the focused client together with the
//! keys. The tray uploads a small keymap of its own (as `wtype` does) that
//! holds exactly the keys it may type: the four modifiers and every key of
//! `picker.paste_keys` and `picker.paste_rules`. The keycodes it sends are
//! looked up in that keymap, so they agree with it by construction whatever
//! the user's layout; nothing else relies on a keycode. The compositor (and
//! the client) compile the text with their xkbcommon, as for any keyboard.
//!
//! The connection and the keyboard are made once, when the tray starts, so
//! the seat has a keyboard that clients already know about when the first
//! paste comes; after an error the next paste connects again.

use std::io::Write as _;
use std::os::fd::AsFd;
use std::time::Instant;

use wayland_client::globals::{GlobalListContents, registry_queue_init};
use wayland_client::protocol::{wl_registry, wl_seat};
use wayland_client::{Connection, Dispatch, EventQueue, QueueHandle};
use wayland_protocols_misc::zwp_virtual_keyboard_v1::client::{
    zwp_virtual_keyboard_manager_v1::ZwpVirtualKeyboardManagerV1,
    zwp_virtual_keyboard_v1::ZwpVirtualKeyboardV1,
};

use super::hotkey::{Combo, keysym};

/// `wl_keyboard.keymap_format.xkb_v1`.
const XKB_V1: u32 = 1;
/// `wl_keyboard.key_state`: released, pressed.
const RELEASED: u32 = 0;
const PRESSED: u32 = 1;
/// XKB keycodes are evdev codes + 8; the protocol carries evdev codes.
const EVDEV_OFFSET: u32 = 8;
/// The first XKB keycode the tray's keymap uses (8 is the protocol's zero).
const FIRST_KEYCODE: u32 = 9;

/// A modifier key of the keymap: its keysym, the real modifier it is mapped
/// to (`modifier_map`), and that modifier's bit. XKB numbers the eight real
/// modifiers Shift, Lock, Control, Mod1..Mod5 in every keymap, so the bit
/// follows from the name the keymap text gives it.
struct Modifier {
    keysym: u32,
    real: &'static str,
    bit: u32,
}

const MODIFIERS: [Modifier; 4] = [
    Modifier {
        keysym: keysym::SHIFT_L,
        real: "Shift",
        bit: 1 << 0,
    },
    Modifier {
        keysym: keysym::CONTROL_L,
        real: "Control",
        bit: 1 << 2,
    },
    Modifier {
        keysym: keysym::ALT_L,
        real: "Mod1",
        bit: 1 << 3,
    },
    Modifier {
        keysym: keysym::SUPER_L,
        real: "Mod4",
        bit: 1 << 6,
    },
];

/// The keymap the tray uploads, and where each of its keysyms sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    /// XKB text (`xkb_v1`), as a compositor reads it.
    pub text: String,
    /// (keysym, XKB keycode).
    keys: Vec<(u32, u32)>,
}

impl Keymap {
    /// A keymap with the modifier keys and the keys of `combos`, one
    /// keycode each.
    #[must_use]
    pub fn for_combos<'a>(combos: impl IntoIterator<Item = &'a Combo>) -> Keymap {
        let mut syms: Vec<u32> = MODIFIERS.iter().map(|m| m.keysym).collect();
        for combo in combos {
            if !syms.contains(&combo.keysym) {
                syms.push(combo.keysym);
            }
        }
        let keys: Vec<(u32, u32)> = syms
            .iter()
            .zip(FIRST_KEYCODE..)
            .map(|(&sym, code)| (sym, code))
            .collect();
        let last = keys.last().map_or(FIRST_KEYCODE, |&(_, code)| code);
        let mut lines = vec![
            "xkb_keymap {".to_owned(),
            "xkb_keycodes \"shm-clip\" {".to_owned(),
            format!("    minimum = {EVDEV_OFFSET};"),
            format!("    maximum = {};", last.max(255)),
        ];
        lines.extend(
            keys.iter()
                .map(|&(_, code)| format!("    <K{code}> = {code};")),
        );
        lines.extend([
            "};".to_owned(),
            "xkb_types \"shm-clip\" { include \"complete\" };".to_owned(),
            "xkb_compatibility \"shm-clip\" { include \"complete\" };".to_owned(),
            "xkb_symbols \"shm-clip\" {".to_owned(),
        ]);
        for &(sym, code) in &keys {
            lines.push(format!("    key <K{code}> {{ [ {} ] }};", keysym_name(sym)));
            if let Some(m) = MODIFIERS.iter().find(|m| m.keysym == sym) {
                lines.push(format!("    modifier_map {} {{ <K{code}> }};", m.real));
            }
        }
        lines.extend(["};".to_owned(), "};".to_owned(), String::new()]);
        let text = lines.join("\n");
        Keymap { text, keys }
    }

    /// The evdev code (what the protocol carries) of `sym` in this keymap.
    fn code(&self, sym: u32) -> Option<u32> {
        self.keys
            .iter()
            .find(|&&(s, _)| s == sym)
            .map(|&(_, code)| code - EVDEV_OFFSET)
    }
}

/// A keysym as XKB's text names it (`Insert`, `v`); one without a name as
/// its number, which XKB also reads.
fn keysym_name(sym: u32) -> String {
    xkeysym::Keysym::new(sym)
        .name()
        .and_then(|n| n.strip_prefix("XK_"))
        .map_or_else(|| format!("{sym:#x}"), str::to_owned)
}

/// The connection's dispatch state: the tray reads no event of these
/// objects, it only needs the round trips.
struct Quiet;

impl Dispatch<wl_registry::WlRegistry, GlobalListContents> for Quiet {
    fn event(
        _: &mut Self,
        _: &wl_registry::WlRegistry,
        _: wl_registry::Event,
        _: &GlobalListContents,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

impl Dispatch<wl_seat::WlSeat, ()> for Quiet {
    fn event(
        _: &mut Self,
        _: &wl_seat::WlSeat,
        _: wl_seat::Event,
        (): &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

impl Dispatch<ZwpVirtualKeyboardManagerV1, ()> for Quiet {
    fn event(
        _: &mut Self,
        _: &ZwpVirtualKeyboardManagerV1,
        _: <ZwpVirtualKeyboardManagerV1 as wayland_client::Proxy>::Event,
        (): &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

impl Dispatch<ZwpVirtualKeyboardV1, ()> for Quiet {
    fn event(
        _: &mut Self,
        _: &ZwpVirtualKeyboardV1,
        _: <ZwpVirtualKeyboardV1 as wayland_client::Proxy>::Event,
        (): &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

/// The tray's virtual keyboard on the compositor's first seat.
pub struct VirtualKeyboard {
    queue: EventQueue<Quiet>,
    keyboard: ZwpVirtualKeyboardV1,
    keymap: Keymap,
    /// The keys' timestamps count milliseconds from here.
    since: Instant,
}

impl std::fmt::Debug for VirtualKeyboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualKeyboard").finish_non_exhaustive()
    }
}

impl VirtualKeyboard {
    /// Connects to `$WAYLAND_DISPLAY`, creates a virtual keyboard on the
    /// first seat and uploads `keymap`. `Err` says why auto-paste cannot
    /// send keys here (no compositor, no such protocol).
    pub fn connect(keymap: Keymap) -> Result<VirtualKeyboard, String> {
        let conn = Connection::connect_to_env()
            .map_err(|e| format!("cannot connect to the Wayland compositor: {e}"))?;
        let (globals, mut queue) = registry_queue_init::<Quiet>(&conn)
            .map_err(|e| format!("reading the Wayland globals: {e}"))?;
        let qh = queue.handle();
        let manager: ZwpVirtualKeyboardManagerV1 = globals.bind(&qh, 1..=1, ()).map_err(|e| {
            format!(
                "the compositor offers no virtual keyboard (zwp_virtual_keyboard_manager_v1: {e}); \
                 wlroots compositors such as sway do, GNOME and KDE do not"
            )
        })?;
        let seat: wl_seat::WlSeat = globals
            .bind(&qh, 1..=1, ())
            .map_err(|e| format!("the compositor has no seat (wl_seat: {e})"))?;
        let keyboard = manager.create_virtual_keyboard(&seat, &qh, ());
        let file = keymap_file(&keymap.text)?;
        let size = u32::try_from(keymap.text.len() + 1)
            .map_err(|_| "the keymap is larger than 4 GiB".to_owned())?;
        keyboard.keymap(XKB_V1, file.as_fd(), size);
        queue
            .roundtrip(&mut Quiet)
            .map_err(|e| format!("the compositor refused the virtual keyboard: {e}"))?;
        Ok(VirtualKeyboard {
            queue,
            keyboard,
            keymap,
            since: Instant::now(),
        })
    }

    /// Presses the combination's modifiers (keys and modifier state), taps
    /// its key and releases the modifiers in reverse; returns once the
    /// compositor has taken them all (a round trip).
    pub fn type_combo(&mut self, combo: &Combo) -> Result<(), String> {
        let missing = |name: &str| format!("the virtual keyboard's keymap has no {name} key");
        let key = self
            .keymap
            .code(combo.keysym)
            .ok_or_else(|| missing(&combo.text))?;
        let mut held = Vec::new();
        for (on, modifier) in [
            (combo.mods.ctrl, &MODIFIERS[1]),
            (combo.mods.shift, &MODIFIERS[0]),
            (combo.mods.alt, &MODIFIERS[2]),
            (combo.mods.super_, &MODIFIERS[3]),
        ] {
            if on {
                let code = self
                    .keymap
                    .code(modifier.keysym)
                    .ok_or_else(|| missing(modifier.real))?;
                held.push((code, modifier.bit));
            }
        }
        let mut mask = 0;
        for &(code, bit) in &held {
            self.keyboard.key(self.now(), code, PRESSED);
            mask |= bit;
            self.keyboard.modifiers(mask, 0, 0, 0);
        }
        self.keyboard.key(self.now(), key, PRESSED);
        self.keyboard.key(self.now(), key, RELEASED);
        for &(code, bit) in held.iter().rev() {
            self.keyboard.key(self.now(), code, RELEASED);
            mask &= !bit;
            self.keyboard.modifiers(mask, 0, 0, 0);
        }
        self.queue
            .roundtrip(&mut Quiet)
            .map(|_| ())
            .map_err(|e| format!("the Wayland connection failed while typing: {e}"))
    }

    fn now(&self) -> u32 {
        // The protocol's time wraps at 2^32 ms, as wl_keyboard's does.
        #[expect(
            clippy::cast_possible_truncation,
            reason = "a wrapping millisecond clock"
        )]
        let ms = self.since.elapsed().as_millis() as u32;
        ms
    }
}

/// The keymap as the protocol wants it: a NUL-terminated string in a file
/// the compositor can map (a sealed-size memfd).
fn keymap_file(text: &str) -> Result<std::fs::File, String> {
    use nix::sys::memfd::{MFdFlags, memfd_create};
    let fd = memfd_create(c"shm-clip-keymap", MFdFlags::MFD_CLOEXEC)
        .map_err(|e| format!("memfd_create for the keymap: {e}"))?;
    let mut file = std::fs::File::from(fd);
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(&[0]))
        .map_err(|e| format!("writing the keymap: {e}"))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tray::hotkey::parse;

    #[test]
    fn the_keymap_holds_the_modifiers_and_each_key_once_and_codes_agree_with_it() {
        let a = parse("Shift+Insert").unwrap();
        let b = parse("Ctrl+V").unwrap();
        let c = parse("Ctrl+Shift+V").unwrap();
        let keymap = Keymap::for_combos([&a, &b, &c]);
        // Four modifiers, Insert and v: six keys, each defined and given a symbol once.
        assert_eq!(keymap.keys.len(), 6);
        for &(sym, code) in &keymap.keys {
            assert_eq!(
                keymap.text.matches(&format!("<K{code}> = {code};")).count(),
                1
            );
            let line = format!("key <K{code}> {{ [ {} ] }};", keysym_name(sym));
            assert_eq!(
                keymap.text.matches(&line).count(),
                1,
                "{line} in\n{}",
                keymap.text
            );
            assert_eq!(keymap.code(sym), Some(code - 8));
        }
        assert!(keymap.text.contains("key <K") && keymap.text.contains("[ Insert ]"));
        assert!(keymap.text.contains("[ v ]"));
        assert!(keymap.text.contains("modifier_map Control { <K10> };"));
        assert!(keymap.text.contains("modifier_map Shift { <K9> };"));
        assert_eq!(keymap.code(keysym::NUM_LOCK), None);
        assert_eq!(
            keymap.text.matches('{').count(),
            keymap.text.matches('}').count()
        );
    }
}
