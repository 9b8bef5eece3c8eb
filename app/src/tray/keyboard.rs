//! The tray's keyboard on X11, on a connection of its own: the picker's
//! global hotkey (a passive `GrabKey` on the root window) and auto-paste's
//! synthetic keys (`XTest`).
//!
//! Keycodes and modifier masks come from the server's keyboard and modifier
//! mappings, never from constants, and are read again on `MappingNotify`
//! (a layout switch, `xmodmap`), when the grab is renewed. The grab is made
//! four times, with and without `NumLock` (whichever modifier holds it) and
//! `CapsLock`, so the key works whatever the lock keys' state.

use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use x11rb::connection::{Connection, RequestConnection as _};
use x11rb::errors::ReplyError;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{
    AtomEnum, ChangeWindowAttributesAux, ConnectionExt as _, EventMask, GrabMode, InputFocus,
    KEY_PRESS_EVENT, KEY_RELEASE_EVENT, Keycode, ModMask, Window,
};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::rust_connection::RustConnection;

use super::hotkey::{Combo, Mods, keysym};
use crate::sync::{Result, SyncError};

/// How long auto-paste waits for the focus to come back to its window.
const FOCUS_WITHIN: Duration = Duration::from_millis(1500);
/// After this long with nobody focused (no window manager gives it back),
/// the tray gives the focus back itself.
const NOBODY_FOCUSED_FOR: Duration = Duration::from_millis(100);
/// How long auto-paste waits for the user to let go of the modifiers.
const RELEASE_WITHIN: Duration = Duration::from_secs(2);

/// The server's keyboard layout, as far as the tray needs it.
#[derive(Debug, Default)]
struct Layout {
    min_keycode: u8,
    per_keycode: usize,
    keysyms: Vec<u32>,
    /// The keycodes of each of the 8 modifiers (Shift, Lock, Control, Mod1-5).
    modifiers: [Vec<Keycode>; 8],
}

impl Layout {
    fn read(conn: &RustConnection) -> Result<Layout> {
        let setup = conn.setup();
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let map = conn
            .get_keyboard_mapping(min, max.saturating_sub(min).saturating_add(1))?
            .reply()?;
        let modmap = conn.get_modifier_mapping()?.reply()?;
        let per = usize::from(modmap.keycodes_per_modifier());
        let mut modifiers: [Vec<Keycode>; 8] = Default::default();
        for (i, codes) in modmap.keycodes.chunks(per.max(1)).take(8).enumerate() {
            modifiers[i] = codes.iter().copied().filter(|&c| c != 0).collect();
        }
        Ok(Layout {
            min_keycode: min,
            per_keycode: usize::from(map.keysyms_per_keycode),
            keysyms: map.keysyms,
            modifiers,
        })
    }

    /// Every keycode that produces `sym` (in any column).
    fn keycodes(&self, sym: u32) -> Vec<Keycode> {
        if self.per_keycode == 0 {
            return Vec::new();
        }
        self.keysyms
            .chunks(self.per_keycode)
            .enumerate()
            .filter(|(_, syms)| syms.contains(&sym))
            .filter_map(|(i, _)| u8::try_from(usize::from(self.min_keycode) + i).ok())
            .collect()
    }

    /// The mask of the modifier that one of `syms` is mapped to, if any.
    fn mask_of(&self, syms: &[u32]) -> Option<u16> {
        let codes: Vec<Keycode> = syms.iter().flat_map(|s| self.keycodes(*s)).collect();
        self.modifiers
            .iter()
            .position(|m| m.iter().any(|c| codes.contains(c)))
            .map(|i| 1 << i)
    }

    /// The modifier mask of `mods`, or which modifier is not on the keyboard.
    fn mask(&self, mods: Mods) -> std::result::Result<u16, &'static str> {
        let mut mask = 0;
        if mods.shift {
            mask |= u16::from(ModMask::SHIFT);
        }
        if mods.ctrl {
            mask |= u16::from(ModMask::CONTROL);
        }
        if mods.alt {
            mask |= self
                .mask_of(&[keysym::ALT_L, keysym::ALT_R, keysym::META_L, keysym::META_R])
                .ok_or("Alt")?;
        }
        if mods.super_ {
            mask |= self
                .mask_of(&[keysym::SUPER_L, keysym::SUPER_R])
                .ok_or("Super")?;
        }
        Ok(mask)
    }
}

/// The tray's keyboard connection.
#[derive(Debug)]
pub struct Keyboard {
    conn: RustConnection,
    root: Window,
    layout: Layout,
    hotkey: Option<Combo>,
    /// The (keycode, mask) pairs grabbed now.
    grabbed: Vec<(Keycode, u16)>,
    /// The hotkey's base mask, to recognise its presses.
    hotkey_mask: u16,
}

impl Keyboard {
    /// Connects to `$DISPLAY`, and grabs `hotkey` if there is one.
    pub fn connect(hotkey: Option<Combo>) -> Result<Keyboard> {
        let (conn, screen) = crate::sync::connect()?;
        let root = conn
            .setup()
            .roots
            .get(screen)
            .ok_or_else(|| SyncError::Connection("no such screen".into()))?
            .root;
        if conn
            .extension_information(x11rb::protocol::xtest::X11_EXTENSION_NAME)?
            .is_none()
        {
            tracing::warn!("the X server has no XTest extension: auto-paste cannot send keys");
        }
        let layout = Layout::read(&conn)?;
        let mut keyboard = Keyboard {
            conn,
            root,
            layout,
            hotkey,
            grabbed: Vec::new(),
            hotkey_mask: 0,
        };
        keyboard.grab();
        Ok(keyboard)
    }

    /// The connection's descriptor, for the tray's poll.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.conn.stream().as_fd()
    }

    /// (Re-)grabs the hotkey on the root window with every lock-key
    /// combination; a key another program holds is one clear warning.
    fn grab(&mut self) {
        for (code, mask) in std::mem::take(&mut self.grabbed) {
            let _ = self
                .conn
                .ungrab_key(code, self.root, ModMask::from(mask))
                .map(x11rb::cookie::VoidCookie::ignore_error);
        }
        let Some(hotkey) = self.hotkey.clone() else {
            return;
        };
        let mask = match self.layout.mask(hotkey.mods) {
            Ok(mask) => mask,
            Err(missing) => {
                tracing::warn!(
                    hotkey = %hotkey.text,
                    "picker.hotkey {:?} needs the {missing} modifier, which this keyboard mapping lacks; no hotkey",
                    hotkey.text
                );
                return;
            }
        };
        let codes = self.layout.keycodes(hotkey.keysym);
        let Some(&code) = codes.first() else {
            tracing::warn!(
                hotkey = %hotkey.text,
                "picker.hotkey {:?}: no key of this keyboard mapping types it; no hotkey",
                hotkey.text
            );
            return;
        };
        let num_lock = self.layout.mask_of(&[keysym::NUM_LOCK]).unwrap_or(0);
        let caps_lock = u16::from(ModMask::LOCK);
        let mut masks = vec![mask, mask | caps_lock];
        if num_lock != 0 {
            masks.extend([mask | num_lock, mask | num_lock | caps_lock]);
        }
        self.hotkey_mask = mask;
        let mut refused = false;
        for m in masks {
            let checked = self
                .conn
                .grab_key(
                    false,
                    self.root,
                    ModMask::from(m),
                    code,
                    GrabMode::ASYNC,
                    GrabMode::ASYNC,
                )
                .map_err(ReplyError::from)
                .and_then(x11rb::cookie::VoidCookie::check);
            match checked {
                Ok(()) => self.grabbed.push((code, m)),
                Err(ReplyError::X11Error(e))
                    if e.error_kind == x11rb::protocol::ErrorKind::Access =>
                {
                    refused = true;
                }
                Err(err) => {
                    tracing::warn!(%err, hotkey = %hotkey.text, "cannot grab the picker's hotkey");
                    refused = true;
                }
            }
        }
        if refused {
            tracing::warn!(
                hotkey = %hotkey.text,
                "the picker's hotkey {} is already taken by another program (X11 BadAccess); \
                 the tray goes on without it: set another picker.hotkey in config.toml, \
                 or bind shm-clip-app --picker in your desktop's keyboard settings",
                hotkey.text
            );
        } else {
            tracing::info!(
                hotkey = %hotkey.text,
                keycode = code,
                mask,
                num_lock,
                "picker hotkey grabbed"
            );
        }
    }

    /// Handles the pending events: true if the hotkey was pressed.
    pub fn dispatch(&mut self) -> Result<bool> {
        let mut pressed = false;
        let mut remap = false;
        while let Some(event) = self.conn.poll_for_event()? {
            match event {
                Event::KeyPress(key) => {
                    let locks = u16::from(ModMask::LOCK)
                        | self.layout.mask_of(&[keysym::NUM_LOCK]).unwrap_or(0);
                    let state = u16::from(key.state) & 0xff & !locks;
                    if state == self.hotkey_mask
                        && self.grabbed.iter().any(|(c, _)| *c == key.detail)
                    {
                        tracing::info!(
                            pressed_unix_us = crate::picker::window::unix_micros(),
                            "picker hotkey pressed"
                        );
                        pressed = true;
                    }
                }
                Event::MappingNotify(_) => remap = true,
                _ => {}
            }
        }
        if remap {
            tracing::info!("the keyboard mapping changed; grabbing the hotkey again");
            self.layout = Layout::read(&self.conn)?;
            self.grab();
        }
        Ok(pressed)
    }

    /// Auto-paste: waits until `target` has the focus again (giving it back
    /// when nobody has it) and every modifier is released, then types
    /// `keys` with `XTest`. `Ok` says which keys were sent.
    pub fn paste(
        &mut self,
        target: Option<Window>,
        keys_for: impl Fn(&[String]) -> Combo,
    ) -> std::result::Result<String, String> {
        let focus = self.wait_for_focus(target)?;
        self.wait_for_release()?;
        let classes = self.classes_of(focus);
        let combo = keys_for(&classes);
        self.type_combo(&combo)?;
        Ok(combo.text)
    }

    fn focused(&self) -> std::result::Result<Window, String> {
        let x = |e: ReplyError| format!("X11: {e}");
        Ok(self
            .conn
            .get_input_focus()
            .map_err(|e| x(e.into()))?
            .reply()
            .map_err(x)?
            .focus)
    }

    fn nobody(&self, window: Window) -> bool {
        window == x11rb::NONE
            || window == u32::from(InputFocus::POINTER_ROOT)
            || window == self.root
    }

    /// Waits (bounded) until the focus is on `target`; returns the focused window.
    fn wait_for_focus(&mut self, target: Option<Window>) -> std::result::Result<Window, String> {
        let Some(target) = target else {
            let focus = self.focused()?;
            return if self.nobody(focus) {
                Err("no window had the focus when the picker was summoned".into())
            } else {
                Ok(focus)
            };
        };
        // FocusIn on the target wakes us; the reads of the focus decide.
        let _ = self.conn.change_window_attributes(
            target,
            &ChangeWindowAttributesAux::new().event_mask(EventMask::FOCUS_CHANGE),
        );
        let start = Instant::now();
        let mut nobody_since: Option<Instant> = None;
        let mut gave_back = false;
        let result = loop {
            let focus = self.focused()?;
            if focus == target {
                break Ok(focus);
            }
            if self.nobody(focus) {
                let since = *nobody_since.get_or_insert_with(Instant::now);
                if !gave_back && since.elapsed() >= NOBODY_FOCUSED_FOR {
                    // No window manager gave the focus back: do it ourselves.
                    tracing::debug!(target, "nobody has the focus; giving it back");
                    let _ =
                        self.conn
                            .set_input_focus(InputFocus::PARENT, target, x11rb::CURRENT_TIME);
                    let _ = self.conn.flush();
                    gave_back = true;
                    continue;
                }
            } else {
                nobody_since = None;
            }
            let elapsed = start.elapsed();
            if elapsed >= FOCUS_WITHIN {
                break Err(format!(
                    "the focus did not return to the window the picker was summoned over within {FOCUS_WITHIN:?}"
                ));
            }
            // Sleep until an event (FocusIn) or the next check.
            let next = if nobody_since.is_some() && !gave_back {
                NOBODY_FOCUSED_FOR
            } else {
                Duration::from_millis(50)
            };
            self.wait_readable(next.min(FOCUS_WITHIN.saturating_sub(elapsed)));
            while let Ok(Some(_)) = self.conn.poll_for_event() {}
        };
        let _ = self.conn.change_window_attributes(
            target,
            &ChangeWindowAttributesAux::new().event_mask(EventMask::NO_EVENT),
        );
        result
    }

    /// Waits (bounded) until no modifier key is held down.
    fn wait_for_release(&self) -> std::result::Result<(), String> {
        let held: Vec<Keycode> = self.layout.modifiers.iter().flatten().copied().collect();
        let start = Instant::now();
        loop {
            let keys = self
                .conn
                .query_keymap()
                .map_err(|e| format!("X11: {e}"))?
                .reply()
                .map_err(|e| format!("X11: {e}"))?
                .keys;
            let down = |code: Keycode| keys[usize::from(code / 8)] & (1 << (code % 8)) != 0;
            if !held.iter().any(|&c| down(c)) {
                return Ok(());
            }
            if start.elapsed() > RELEASE_WITHIN {
                return Err(format!(
                    "a modifier key was still held after {RELEASE_WITHIN:?}"
                ));
            }
            // No event reports key releases outside a grab: check again shortly.
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn wait_readable(&self, within: Duration) {
        let mut fds = [PollFd::new(self.fd(), PollFlags::POLLIN)];
        let ms = i32::try_from(within.as_millis()).unwrap_or(i32::MAX);
        let _ = poll(
            &mut fds,
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
        );
    }

    /// `WM_CLASS` (instance and class) of `window` or its nearest ancestor that has one.
    fn classes_of(&self, window: Window) -> Vec<String> {
        let mut at = window;
        for _ in 0..32 {
            if let Ok(reply) = self
                .conn
                .get_property(false, at, AtomEnum::WM_CLASS, AtomEnum::STRING, 0, 256)
                .map_err(ReplyError::from)
                .and_then(x11rb::cookie::Cookie::reply)
                && !reply.value.is_empty()
            {
                return reply
                    .value
                    .split(|&b| b == 0)
                    .filter(|s| !s.is_empty())
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect();
            }
            match self
                .conn
                .query_tree(at)
                .map_err(ReplyError::from)
                .and_then(x11rb::cookie::Cookie::reply)
            {
                Ok(tree) if tree.parent != x11rb::NONE && tree.parent != tree.root => {
                    at = tree.parent;
                }
                _ => break,
            }
        }
        Vec::new()
    }

    /// Presses the combination's modifiers and key, and releases them in reverse.
    fn type_combo(&self, combo: &Combo) -> std::result::Result<(), String> {
        let code = |sym: u32, name: &str| {
            self.layout
                .keycodes(sym)
                .first()
                .copied()
                .ok_or_else(|| format!("no key of this keyboard mapping types {name}"))
        };
        let mut codes = Vec::new();
        for (on, sym, name) in [
            (combo.mods.ctrl, keysym::CONTROL_L, "Control"),
            (combo.mods.shift, keysym::SHIFT_L, "Shift"),
            (combo.mods.alt, keysym::ALT_L, "Alt"),
            (combo.mods.super_, keysym::SUPER_L, "Super"),
        ] {
            if on {
                codes.push(code(sym, name)?);
            }
        }
        codes.push(code(combo.keysym, &combo.text)?);
        let x = |e: x11rb::errors::ConnectionError| format!("XTest: {e}");
        for &c in &codes {
            self.conn
                .xtest_fake_input(KEY_PRESS_EVENT, c, x11rb::CURRENT_TIME, self.root, 0, 0, 0)
                .map_err(x)?;
        }
        for &c in codes.iter().rev() {
            self.conn
                .xtest_fake_input(
                    KEY_RELEASE_EVENT,
                    c,
                    x11rb::CURRENT_TIME,
                    self.root,
                    0,
                    0,
                    0,
                )
                .map_err(x)?;
        }
        // A round trip: the server has taken the keys when it answers.
        self.conn
            .get_input_focus()
            .map_err(x)?
            .reply()
            .map_err(|e| format!("XTest: {e}"))?;
        Ok(())
    }
}
