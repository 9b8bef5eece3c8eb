//! The tray icon and its menu: a `StatusNotifierItem` served over D-Bus by
//! `ksni` (pure Rust on zbus; no GTK, no libappindicator).
//!
//! The icon is plain data ([`View`]) that the service replaces after every
//! board change. Menu clicks never touch the board here: they become
//! [`Command`]s sent to the service's thread, which a byte on the wake-up
//! socket makes `poll` notice.

use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, LazyLock};

use ksni::menu::{CheckmarkItem, StandardItem};
use ksni::{Icon, MenuItem, ToolTip};
use shm_clip::EntryInfo;

/// How many recent clips the menu lists.
pub const MENU_CLIPS: usize = 10;
/// Characters of a clip's preview shown in the menu.
const LABEL_CHARS: usize = 48;

/// What the user asked for through the menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Make the entry created at this seq current, on the board and on the
    /// system clipboard.
    Select(u64),
    /// Start an `shm-clip-app` window on the same board.
    OpenWindow,
    /// Pause or resume syncing.
    TogglePause,
    /// Delete every unpinned entry.
    ClearHistory,
    /// Show the picker (its global shortcut, from the portal).
    ShowPicker,
    /// Stop the tray.
    Quit,
}

/// One recent clip in the menu.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MenuClip {
    /// Its seq, stable while it lives.
    pub seq: u64,
    /// A short preview.
    pub label: String,
}

/// Everything the icon shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct View {
    /// The board's name.
    pub board: String,
    /// The most recent clips, current first.
    pub clips: Vec<MenuClip>,
    /// Syncing is paused.
    pub paused: bool,
    /// The board's bridge to other machines, in one line, if it ever ran.
    pub bridge: Option<String>,
}

impl View {
    /// The view of a board's history.
    #[must_use]
    pub fn new(board: &str, history: &[EntryInfo], paused: bool) -> View {
        View {
            board: board.to_owned(),
            clips: history
                .iter()
                .take(MENU_CLIPS)
                .map(|e| MenuClip {
                    seq: e.seq,
                    label: label(e),
                })
                .collect(),
            paused,
            bridge: crate::bridge::read(board).map(|b| b.summary()),
        }
    }
}

/// A short, single-line description of an entry: its text, or its type and size.
#[must_use]
pub fn label(entry: &EntryInfo) -> String {
    let pin = if entry.pinned { "📌 " } else { "" };
    if entry.preview.is_empty() {
        let mime = entry.types.first().map_or("empty", |(m, _)| m.as_str());
        return format!("{pin}[{mime}, {}]", human_size(entry.total_size));
    }
    let mut text: String = entry.preview.chars().take(LABEL_CHARS).collect();
    if entry.preview.chars().count() > LABEL_CHARS {
        text.push('…');
    }
    format!("{pin}{text}")
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} kB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// dbusmenu treats `_` as a mnemonic marker; `__` shows one underscore.
fn escape(label: &str) -> String {
    label.replace('_', "__")
}

/// The `ksni::Tray` implementation.
#[derive(Debug)]
pub struct TrayIcon {
    /// What to show.
    pub view: View,
    commands: Sender<Command>,
    waker: Arc<UnixDatagram>,
    warned: Arc<AtomicBool>,
}

impl TrayIcon {
    /// An icon that reports clicks through `commands` and `waker`.
    pub fn new(
        view: View,
        commands: Sender<Command>,
        waker: Arc<UnixDatagram>,
        warned: Arc<AtomicBool>,
    ) -> Self {
        TrayIcon {
            view,
            commands,
            waker,
            warned,
        }
    }

    fn send(&self, command: Command) {
        if self.commands.send(command).is_ok() {
            // A full socket already holds a wake-up, so an error is harmless.
            let _ = self.waker.send(&[1]);
        }
    }
}

impl ksni::Tray for TrayIcon {
    fn id(&self) -> String {
        "shm-clip".into()
    }

    fn title(&self) -> String {
        format!("shm-clip ({})", self.view.board)
    }

    fn icon_pixmap(&self) -> Vec<Icon> {
        ICON.clone()
    }

    fn tool_tip(&self) -> ToolTip {
        let description = match self.view.clips.first() {
            Some(clip) => clip.label.clone(),
            None => "the board is empty".into(),
        };
        let paused = if self.view.paused { " — paused" } else { "" };
        ToolTip {
            title: format!("shm-clip: board {}{paused}", self.view.board),
            description,
            ..ToolTip::default()
        }
    }

    fn menu(&self) -> Vec<MenuItem<Self>> {
        let mut items: Vec<MenuItem<Self>> = Vec::new();
        for (i, clip) in self.view.clips.iter().enumerate() {
            let seq = clip.seq;
            items.push(
                CheckmarkItem {
                    label: escape(&clip.label),
                    checked: i == 0,
                    activate: Box::new(move |t: &mut Self| t.send(Command::Select(seq))),
                    ..CheckmarkItem::default()
                }
                .into(),
            );
        }
        if self.view.clips.is_empty() {
            items.push(
                StandardItem {
                    label: "(the board is empty)".into(),
                    enabled: false,
                    ..StandardItem::default()
                }
                .into(),
            );
        }
        items.push(MenuItem::Separator);
        if let Some(bridge) = &self.view.bridge {
            items.push(
                StandardItem {
                    label: escape(&format!("Bridge: {bridge}")),
                    enabled: false,
                    ..StandardItem::default()
                }
                .into(),
            );
        }
        items.push(
            StandardItem {
                label: "Open window".into(),
                activate: Box::new(|t: &mut Self| t.send(Command::OpenWindow)),
                ..StandardItem::default()
            }
            .into(),
        );
        items.push(
            CheckmarkItem {
                label: "Pause syncing".into(),
                checked: self.view.paused,
                activate: Box::new(|t: &mut Self| t.send(Command::TogglePause)),
                ..CheckmarkItem::default()
            }
            .into(),
        );
        items.push(
            StandardItem {
                label: "Clear history".into(),
                activate: Box::new(|t: &mut Self| t.send(Command::ClearHistory)),
                ..StandardItem::default()
            }
            .into(),
        );
        items.push(MenuItem::Separator);
        items.push(
            StandardItem {
                label: "Quit".into(),
                activate: Box::new(|t: &mut Self| t.send(Command::Quit)),
                ..StandardItem::default()
            }
            .into(),
        );
        items
    }

    fn watcher_offline(&self, reason: ksni::OfflineReason) -> bool {
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                ?reason,
                "no system tray is showing status icons (no StatusNotifierWatcher or host on the session bus); syncing continues without a visible icon"
            );
        }
        true
    }

    fn watcher_online(&self) {
        tracing::info!("a system tray appeared; the icon is visible");
    }
}

/// The icon from `assets/`, as ksni's ARGB32 (network byte order).
static ICON: LazyLock<Vec<Icon>> = LazyLock::new(|| match decode_icon() {
    Ok(icon) => vec![icon],
    Err(err) => {
        tracing::warn!(%err, "cannot decode the built-in icon");
        Vec::new()
    }
});

fn decode_icon() -> Result<Icon, png::DecodingError> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(
        &include_bytes!("../../../assets/shm-clip.png")[..],
    ));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info()?;
    let mut rgba = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let info = reader.next_frame(&mut rgba)?;
    let channels = info.color_type.samples();
    let mut data = Vec::with_capacity(info.width as usize * info.height as usize * 4);
    for px in rgba[..info.buffer_size()].chunks_exact(channels) {
        let (rgb, a) = match channels {
            4 => (&px[..3], px[3]),
            3 => (px, 255),
            2 => (&[px[0], px[0], px[0]][..], px[1]),
            _ => (&[px[0], px[0], px[0]][..], 255),
        };
        data.extend_from_slice(&[a, rgb[0], rgb[1], rgb[2]]);
    }
    Ok(Icon {
        width: info.width as i32,
        height: info.height as i32,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icon_decodes() {
        let icon = decode_icon().unwrap();
        assert_eq!((icon.width, icon.height), (64, 64));
        assert_eq!(icon.data.len(), 64 * 64 * 4);
    }

    #[test]
    fn labels_are_short_and_escaped() {
        assert_eq!(escape("a_b"), "a__b");
        assert_eq!(human_size(3 << 20), "3.0 MB");
    }
}
