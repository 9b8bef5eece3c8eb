//! What the picker asks the X server itself, on a connection of its own:
//! the window that had the focus before it showed (auto-paste goes back
//! there), the monitor under the pointer (it opens centred on it), and its
//! own `WM_CLASS`, which winit derives from the program name.

use x11rb::connection::Connection;
use x11rb::protocol::randr::ConnectionExt as _;
use x11rb::protocol::xproto::{AtomEnum, ConnectionExt as _, InputFocus, PropMode, Window};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

/// The picker's class and instance name, for window-manager rules.
pub const CLASS: &str = "shm-clip-picker";

/// A rectangle in pixels of the root window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Area {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

/// The picker's connection to the X server.
#[derive(Debug)]
pub struct Display {
    conn: RustConnection,
    root: Window,
}

impl Display {
    /// Connects to `$DISPLAY`; `None` without one, and on Wayland, where
    /// winit opens a Wayland window and `XWayland` knows nothing of it.
    pub fn connect() -> Option<Display> {
        std::env::var_os("DISPLAY").filter(|d| !d.is_empty())?;
        if std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty()) {
            return None;
        }
        match x11rb::connect(None) {
            Ok((conn, screen)) => {
                let root = conn.setup().roots.get(screen)?.root;
                Some(Display { conn, root })
            }
            Err(err) => {
                tracing::warn!(%err, "the picker cannot reach the X server");
                None
            }
        }
    }

    /// The window with the keyboard focus, unless nobody has it.
    pub fn focused(&self) -> Option<Window> {
        let focus = self.conn.get_input_focus().ok()?.reply().ok()?.focus;
        let nobody = [x11rb::NONE, u32::from(InputFocus::POINTER_ROOT), self.root];
        (!nobody.contains(&focus)).then_some(focus)
    }

    /// The monitor under the pointer (`RandR`), or the whole root window.
    pub fn pointer_monitor(&self) -> Option<Area> {
        let pointer = self.conn.query_pointer(self.root).ok()?.reply().ok()?;
        let (px, py) = (i32::from(pointer.root_x), i32::from(pointer.root_y));
        let monitors = self
            .conn
            .randr_get_monitors(self.root, true)
            .ok()
            .and_then(|c| c.reply().ok())
            .map(|r| r.monitors)
            .unwrap_or_default();
        let areas = monitors.iter().map(|m| Area {
            x: i32::from(m.x),
            y: i32::from(m.y),
            width: u32::from(m.width),
            height: u32::from(m.height),
        });
        let inside = |a: &Area| {
            px >= a.x
                && py >= a.y
                && i64::from(px) < i64::from(a.x) + i64::from(a.width)
                && i64::from(py) < i64::from(a.y) + i64::from(a.height)
        };
        if let Some(area) = areas.clone().find(inside) {
            return Some(area);
        }
        let root = self.conn.get_geometry(self.root).ok()?.reply().ok()?;
        Some(Area {
            x: 0,
            y: 0,
            width: u32::from(root.width),
            height: u32::from(root.height),
        })
    }

    /// Gives `window` the keyboard focus (an error while it is not mapped
    /// yet is ignored: the picker asks again next frame).
    pub fn focus(&self, window: Window) {
        let _ = self
            .conn
            .set_input_focus(InputFocus::PARENT, window, x11rb::CURRENT_TIME)
            .map(x11rb::cookie::VoidCookie::ignore_error)
            .and_then(|()| self.conn.flush());
    }

    /// Names `window` [`CLASS`] (instance and class), before it is mapped.
    pub fn set_class(&self, window: Window) {
        let value = format!("{CLASS}\0{CLASS}\0");
        let done = self
            .conn
            .change_property8(
                PropMode::REPLACE,
                window,
                AtomEnum::WM_CLASS,
                AtomEnum::STRING,
                value.as_bytes(),
            )
            .map(x11rb::cookie::VoidCookie::ignore_error)
            .and_then(|()| self.conn.flush());
        if let Err(err) = done {
            tracing::warn!(%err, "cannot set the picker's WM_CLASS");
        }
    }
}

/// The X11 window behind eframe's handle, if it is an X11 one.
pub fn window_of(handle: &impl raw_window_handle::HasWindowHandle) -> Option<Window> {
    match handle.window_handle().ok()?.as_raw() {
        raw_window_handle::RawWindowHandle::Xlib(h) => u32::try_from(h.window).ok(),
        raw_window_handle::RawWindowHandle::Xcb(h) => Some(h.window.get()),
        _ => None,
    }
}

/// Where a `size` (pixels) window goes to be centred on `area`.
#[must_use]
pub fn centred(area: Area, size: [u32; 2]) -> [i32; 2] {
    let offset = |outer: u32, inner: u32| (i64::from(outer) - i64::from(inner)) / 2;
    [
        (i64::from(area.x) + offset(area.width, size[0])) as i32,
        (i64::from(area.y) + offset(area.height, size[1])) as i32,
    ]
}
