//! The tables of `config.toml` other than the whole: `[board]`, `[sync]`,
//! `[persistence]`, `[archive]`, `[picker]`, and the foreign `[bridge]`,
//! each with its defaults.

use serde::{Deserialize, Serialize};

use super::{Age, Size};
use crate::CreateOptions;

/// key lets it through.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ForeignTable(pub toml::Table);

// Compared only as configuration files are: a NaN in a foreign table is not
// a case anyone relies on.
impl Eq for ForeignTable {}

/// `[archive]`: what the archiver keeps in `archive.sqlite3`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArchiveConfig {
    /// Run an archiver (in the tray) that keeps every clip on disk.
    pub enabled: bool,
    /// Over this many bytes of content, the least recently used unpinned
    /// clips are removed.
    pub max_bytes: Size,
    /// Unpinned clips not used for this long are removed; none: kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<Age>,
    /// Archive clips that carry an image.
    pub images: bool,
    /// Clips larger than this (all representations together) are not archived.
    pub max_clip_size: Size,
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        ArchiveConfig {
            enabled: true,
            max_bytes: Size(1 << 30),
            max_age: None,
            images: true,
            max_clip_size: Size(64 << 20),
        }
    }
}

/// `[picker]`: the keyboard popup, its global hotkey and auto-paste. Key
/// names are checked by the program that uses them (the tray), which knows
/// the keyboard's layout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PickerConfig {
    /// The global key combination that shows the picker, such as
    /// `Super+Shift+V`; empty for none.
    pub hotkey: String,
    /// Enter also pastes the pick into the window that had the focus
    /// (Shift+Enter always does).
    pub paste: bool,
    /// The keys that paste, for applications without a rule.
    pub paste_keys: String,
    /// Paste keys per application, by X11 `WM_CLASS` (instance or class,
    /// case-insensitive), such as `kitty = "Ctrl+Shift+V"`.
    pub paste_rules: std::collections::BTreeMap<String, String>,
}

impl Default for PickerConfig {
    fn default() -> Self {
        PickerConfig {
            hotkey: "Super+Shift+V".into(),
            paste: false,
            paste_keys: "Shift+Insert".into(),
            paste_rules: std::collections::BTreeMap::new(),
        }
    }
}

/// `[board]`: sizes used when a board is created; an existing board keeps its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BoardConfig {
    /// History depth: how many entries a board keeps.
    pub depth: u32,
    /// Bytes in the data arena.
    pub capacity: Size,
}

/// `[sync]`: the tray's bridge to the desktop clipboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncConfig {
    /// Copy what other applications put on the system clipboard into the board.
    pub to_board: bool,
    /// Put what lands in the board (from a window, the CLI) on the system
    /// clipboard, and keep it there after its source exits.
    pub to_system: bool,
    /// Also copy the PRIMARY selection (the mouse selection) into the board.
    pub primary: bool,
    /// Clips larger than this (all representations together) are not synced.
    pub max_size: Size,
    /// MIME types never copied into the board (matched without parameters,
    /// case-insensitively; `text` matches every plain-text type).
    pub ignore_types: Vec<String>,
}

/// `[persistence]`: what the tray saves to the XDG data directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PersistenceConfig {
    /// Save the whole history; when false, only pinned entries are saved.
    pub enabled: bool,
}

impl Default for BoardConfig {
    fn default() -> Self {
        let create = CreateOptions::default();
        BoardConfig {
            depth: create.depth,
            capacity: Size(create.capacity),
        }
    }
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            to_board: true,
            to_system: true,
            primary: false,
            max_size: Size(32 << 20),
            ignore_types: Vec::new(),
        }
    }
}

impl Default for PersistenceConfig {
    fn default() -> Self {
        PersistenceConfig { enabled: true }
    }
}

impl SyncConfig {
    /// Whether representations of type `mime` are never copied into the board.
    #[must_use]
    pub fn ignores(&self, mime: &str) -> bool {
        self.ignore_types
            .iter()
            .any(|ignored| crate::mime_matches(ignored.trim(), mime))
    }
}
