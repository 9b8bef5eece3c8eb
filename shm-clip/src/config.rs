//! The user's settings: `config.toml` in the XDG config directory.
//!
//! Every program (the CLI, the window, the tray) reads it through this module,
//! so whichever process creates a board creates it with the same sizes. A
//! missing file means the defaults. An invalid file is an error that names its
//! line and key; nothing starts with a half-read config.
//!
//! ```toml
//! [board]
//! depth = 200          # history entries kept
//! capacity = "64M"     # data arena of a new board
//!
//! [sync]
//! to_board = true      # system clipboard -> board
//! to_system = true     # board -> system clipboard
//! primary = false      # also copy the PRIMARY selection into the board
//! max_size = "32M"     # larger clips are not synced
//! ignore_types = []    # MIME types never copied into the board
//!
//! [persistence]
//! enabled = true       # save the whole history (pinned entries always are)
//!
//! [archive]
//! enabled = true       # keep every clip in the on-disk archive (archive.sqlite3)
//! max_bytes = "1G"     # over this, the least recently used unpinned clips go
//! # max_age = "90d"    # clips unused for longer go (default: kept forever)
//! images = true        # archive image clips too
//! max_clip_size = "64M" # larger clips are not archived
//!
//! [picker]
//! hotkey = "Super+Shift+V"    # the tray's global key for the picker ("" = none)
//! paste = false               # Enter also pastes into the window that had the focus
//! paste_keys = "Shift+Insert" # the keys that paste, unless a rule says otherwise
//! paste_rules = { kitty = "Ctrl+Shift+V" }  # per application, by WM_CLASS
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{CreateOptions, Error, Result};

/// The environment variable that names another config file (for tests and
/// for users who keep several set-ups).
pub const CONFIG_ENV: &str = "SHM_CLIP_CONFIG";

/// Every setting, with its default where the file does not give one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Sizes of a board when a program creates it.
    pub board: BoardConfig,
    /// What the tray mirrors between the system clipboard and the board.
    pub sync: SyncConfig,
    /// What the tray saves to disk.
    pub persistence: PersistenceConfig,
    /// The on-disk archive of every clip (crate `shm-clip-archive`).
    pub archive: ArchiveConfig,
    /// The picker (`shm-clip-app --picker`) and its hotkey.
    pub picker: PickerConfig,
    /// `[bridge]`: read by `shm-clip-bridge` itself, which checks every key;
    /// here it is only let through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bridge: Option<ForeignTable>,
}

/// A table that another program of the suite reads and checks itself
/// (`[bridge]`): kept as raw TOML, so that the strict check of every other
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

impl Config {
    /// Loads the config from [`Config::path`]; a missing file gives the defaults.
    pub fn load() -> Result<Config> {
        let path = Self::path()?;
        Self::load_from(&path)
    }

    /// Loads the config from `path`; a missing file gives the defaults.
    pub fn load_from(path: &Path) -> Result<Config> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(err) => Err(Error::Config {
                path: path.to_owned(),
                line: None,
                key: None,
                message: format!("cannot read it: {err}"),
            }),
        }
    }

    /// Parses and validates the text of a config file read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|err| {
            let span = err.span();
            let (line, key) = span.map_or((None, None), |s| locate(text, s.start));
            Error::Config {
                path: path.to_owned(),
                line,
                key,
                message: err.message().trim().to_owned(),
            }
        })?;
        config.validate(text, path)?;
        Ok(config)
    }

    /// Range checks that the types alone do not express.
    fn validate(&self, text: &str, path: &Path) -> Result<()> {
        let fail = |key: &str, message: String| {
            let line = find_key(text, key);
            Err(Error::Config {
                path: path.to_owned(),
                line,
                key: Some(key.to_owned()),
                message,
            })
        };
        let (depths, capacities) = (CreateOptions::DEPTH, CreateOptions::CAPACITY);
        if !depths.contains(&self.board.depth) {
            return fail(
                "board.depth",
                format!(
                    "must be between {} and {}, not {}",
                    depths.start(),
                    depths.end(),
                    self.board.depth
                ),
            );
        }
        if !capacities.contains(&self.board.capacity.0) {
            return fail(
                "board.capacity",
                format!(
                    "must be between {} and {}, not {}",
                    Size(*capacities.start()),
                    Size(*capacities.end()),
                    self.board.capacity
                ),
            );
        }
        if self.sync.max_size.0 == 0 {
            return fail("sync.max_size", "must be more than 0".into());
        }
        if let Some(bad) = self.sync.ignore_types.iter().find(|t| t.trim().is_empty()) {
            return fail("sync.ignore_types", format!("{bad:?} is not a MIME type"));
        }
        if self.archive.max_bytes.0 < 1 << 20 {
            return fail(
                "archive.max_bytes",
                format!("must be at least 1M, not {}", self.archive.max_bytes),
            );
        }
        if self.archive.max_clip_size.0 == 0 {
            return fail("archive.max_clip_size", "must be more than 0".into());
        }
        if self.archive.max_age.is_some_and(|a| a.0.is_zero()) {
            return fail(
                "archive.max_age",
                "must be more than 0; leave it out to keep clips forever".into(),
            );
        }
        if self.picker.paste_keys.trim().is_empty() {
            return fail(
                "picker.paste_keys",
                "must name the keys that paste, such as \"Shift+Insert\"".into(),
            );
        }
        Ok(())
    }

    /// The config file: `$SHM_CLIP_CONFIG` if set, else `config.toml` in the
    /// XDG config directory (`~/.config/shm-clip/config.toml`).
    pub fn path() -> Result<PathBuf> {
        if let Some(path) = std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
            return Ok(PathBuf::from(path));
        }
        Ok(project_dirs()?.config_dir().join("config.toml"))
    }

    /// Where the tray saves history: the XDG data directory
    /// (`~/.local/share/shm-clip`).
    pub fn data_dir() -> Result<PathBuf> {
        Ok(project_dirs()?.data_dir().to_owned())
    }

    /// The file in `data_dir` where the tray saves `board`'s history; what
    /// `destroy` removes with the board.
    #[must_use]
    pub fn history_file(data_dir: &std::path::Path, board: &crate::BoardName) -> PathBuf {
        data_dir.join(format!("history-{board}.bin"))
    }

    /// The sizes a board is created with.
    #[must_use]
    pub fn create_options(&self) -> CreateOptions {
        CreateOptions {
            capacity: self.board.capacity.0,
            depth: self.board.depth,
        }
    }

    /// The effective values as TOML, for `shm-clip config show`.
    #[must_use]
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|err| format!("# cannot render: {err}\n"))
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

fn project_dirs() -> Result<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "shm-clip").ok_or_else(|| Error::Config {
        path: PathBuf::from("config.toml"),
        line: None,
        key: None,
        message: "no home directory: set HOME, or SHM_CLIP_CONFIG to a file".into(),
    })
}

/// The 1-based line of byte `at` in `text`, and the dotted key defined there
/// (the `[table]` above it plus the key before `=` on that line).
fn locate(text: &str, at: usize) -> (Option<usize>, Option<String>) {
    let at = at.min(text.len());
    let line_no = text[..at].matches('\n').count();
    let mut table = String::new();
    let mut key = None;
    for (i, line) in text.lines().enumerate().take(line_no + 1) {
        let trimmed = line.trim();
        if let Some(header) = trimmed.strip_prefix('[') {
            header
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .clone_into(&mut table);
            if i == line_no {
                key = Some(table.clone());
            }
        } else if i == line_no
            && let Some((name, _)) = trimmed.split_once('=')
        {
            let name = name.trim().trim_matches('"');
            key = Some(if table.is_empty() {
                name.to_owned()
            } else {
                format!("{table}.{name}")
            });
        }
    }
    (Some(line_no + 1), key.filter(|k| !k.is_empty()))
}

/// The 1-based line where dotted `key` is set, if it is set in `text`.
fn find_key(text: &str, key: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.contains('=')
            && let (_, Some(found)) = locate(text, offset)
            && found == key
        {
            return Some(text[..offset].matches('\n').count() + 1);
        }
        offset += line.len();
    }
    None
}

/// A byte size: an integer, or a string with a binary unit such as `"64M"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Size(pub u64);

impl Size {
    /// Parses `4096`, `64K`, `64M`, `1G`, `1GiB`, `2T`, `512mb`: binary units
    /// (1K = 1024). The one size parser of config.toml and the CLI.
    pub fn parse(text: &str) -> std::result::Result<Size, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: u64 = number.parse().map_err(|_| {
            format!("{text:?} is not a size; use a number with an optional K, M, G or T, like 64M")
        })?;
        let shift = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 0,
            "k" | "kb" | "kib" => 10,
            "m" | "mb" | "mib" => 20,
            "g" | "gb" | "gib" => 30,
            "t" | "tb" | "tib" => 40,
            _ => {
                return Err(format!(
                    "unknown unit {unit:?} in {text:?}; use K, M, G or T (binary: 1K = 1024)"
                ));
            }
        };
        number
            .checked_mul(1 << shift)
            .map(Size)
            .ok_or_else(|| format!("{text} is too large"))
    }
}

impl fmt::Display for Size {
    /// The shortest exact spelling: `64M`, `1536K`, `1000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] {
            if n != 0 && n.is_multiple_of(1 << shift) {
                return write!(f, "{}{unit}", n >> shift);
            }
        }
        write!(f, "{n}")
    }
}

impl Serialize for Size {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Size, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Size;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size in bytes, or a string like \"64M\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Size, E> {
                Ok(Size(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Size, E> {
                u64::try_from(v)
                    .map(Size)
                    .map_err(|_| E::custom(format!("a size cannot be negative ({v})")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Size, E> {
                Size::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// A length of time: an integer of seconds, or a string with a unit such as
/// `"30d"` (s, m, h, d, w).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Age(pub std::time::Duration);

impl Age {
    /// Parses `90s`, `45m`, `12h`, `30d`, `2w` or plain seconds. The one
    /// parser of config.toml's `archive.max_age` and `archive prune --older-than`.
    pub fn parse(text: &str) -> std::result::Result<Age, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: u64 = number.parse().map_err(|_| {
            format!("{text:?} is not a length of time; use a number with s, m, h, d or w, like 30d")
        })?;
        let secs = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "s" => 1,
            "m" | "min" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 7 * 86_400,
            _ => {
                return Err(format!(
                    "unknown unit {unit:?} in {text:?}; use s, m, h, d or w (30d is 30 days)"
                ));
            }
        };
        number
            .checked_mul(secs)
            .map(|s| Age(std::time::Duration::from_secs(s)))
            .ok_or_else(|| format!("{text} is too long"))
    }
}

impl fmt::Display for Age {
    /// The shortest exact spelling: `30d`, `2w`, `90s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.as_secs();
        for (secs, unit) in [(7 * 86_400, "w"), (86_400, "d"), (3600, "h"), (60, "m")] {
            if n != 0 && n.is_multiple_of(secs) {
                return write!(f, "{}{unit}", n / secs);
            }
        }
        write!(f, "{n}s")
    }
}

impl Serialize for Age {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Age {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Age, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Age;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("seconds, or a string like \"30d\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Age, E> {
                Ok(Age(std::time::Duration::from_secs(v)))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Age, E> {
                u64::try_from(v)
                    .map(|v| Age(std::time::Duration::from_secs(v)))
                    .map_err(|_| E::custom(format!("a length of time cannot be negative ({v})")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Age, E> {
                Age::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("/cfg/config.toml"))
    }

    #[test]
    fn empty_file_gives_defaults() {
        assert_eq!(parse("").unwrap(), Config::default());
        let d = Config::default();
        assert_eq!(d.board.depth, 200);
        assert_eq!(d.board.capacity, Size(64 << 20));
        assert!(d.sync.to_board && d.sync.to_system && !d.sync.primary);
        assert!(d.persistence.enabled);
        assert_eq!(d.picker.hotkey, "Super+Shift+V");
        assert!(!d.picker.paste);
    }

    #[test]
    fn reads_the_picker_table() {
        let c = parse(
            "[picker]\nhotkey = \"Ctrl+Alt+H\"\npaste = true\n\
             paste_rules = { kitty = \"Ctrl+Shift+V\" }\n",
        )
        .unwrap();
        assert_eq!(c.picker.hotkey, "Ctrl+Alt+H");
        assert!(c.picker.paste);
        assert_eq!(c.picker.paste_keys, "Shift+Insert");
        assert_eq!(c.picker.paste_rules["kitty"], "Ctrl+Shift+V");
        let err = parse("[picker]\npaste_keys = \" \"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("picker.paste_keys"), "{err}");
    }

    #[test]
    fn reads_every_setting() {
        let c = parse(
            "[board]\ndepth = 10\ncapacity = \"1M\"\n\n[sync]\nto_board = false\nto_system = false\n\
             primary = true\nmax_size = 4096\nignore_types = [\"image/png\"]\n\n\
             [persistence]\nenabled = false\n",
        )
        .unwrap();
        assert_eq!(c.board.depth, 10);
        assert_eq!(c.create_options().capacity, 1 << 20);
        assert!(!c.sync.to_board && !c.sync.to_system && c.sync.primary);
        assert_eq!(c.sync.max_size, Size(4096));
        assert!(c.sync.ignores("image/png") && !c.sync.ignores("text/html"));
        assert!(!c.persistence.enabled);
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let err = parse("[board]\ndepth = 10\n\n[sync]\nprimry = true\n").unwrap_err();
        let Error::Config {
            line, key, message, ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(*line, Some(5), "{err}");
        assert_eq!(key.as_deref(), Some("sync.primry"), "{err}");
        assert!(message.contains("primry"), "{err}");
        let shown = err.to_string();
        assert!(
            shown.contains("line 5") && shown.contains("sync.primry"),
            "{shown}"
        );
    }

    #[test]
    fn wrong_type_names_line_and_key() {
        let err = parse("[board]\ndepth = \"many\"\n").unwrap_err();
        let Error::Config { line, key, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(
            (*line, key.as_deref()),
            (Some(2), Some("board.depth")),
            "{err}"
        );
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let err = parse("# sizes\n[board]\ncapacity = \"1K\"\n").unwrap_err();
        let Error::Config { line, key, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(
            (*line, key.as_deref()),
            (Some(3), Some("board.capacity")),
            "{err}"
        );
        assert!(parse("[board]\ndepth = 0\n").is_err());
        assert!(parse("[sync]\nmax_size = \"12X\"\n").is_err());
        assert!(parse("[sync]\nmax_size = -1\n").is_err());
    }

    #[test]
    fn shown_config_parses_back() {
        let c = Config::default();
        assert_eq!(parse(&c.to_toml()).unwrap(), c);
    }

    #[test]
    fn the_archive_section_is_read_and_checked() {
        let d = Config::default().archive;
        assert!(d.enabled && d.images && d.max_age.is_none());
        assert_eq!(
            (d.max_bytes, d.max_clip_size),
            (Size(1 << 30), Size(64 << 20))
        );
        let c = parse(
            "[archive]\nenabled = false\nmax_bytes = \"2G\"\nmax_age = \"30d\"\n\
             images = false\nmax_clip_size = \"1M\"\n",
        )
        .unwrap();
        assert!(!c.archive.enabled && !c.archive.images);
        assert_eq!(
            c.archive.max_age,
            Some(Age(std::time::Duration::from_secs(30 * 86_400)))
        );
        assert_eq!(c.archive.max_bytes, Size(2 << 30));
        assert_eq!(parse(&c.to_toml()).unwrap(), c);
        let err = parse("[archive]\nmax_age = \"30 parsecs\"\n").unwrap_err();
        let Error::Config { line, key, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(
            (*line, key.as_deref()),
            (Some(2), Some("archive.max_age")),
            "{err}"
        );
        assert!(err.to_string().contains("30d"), "{err}");
        let err = parse("[archive]\n\nmax_bytes = 10\n").unwrap_err();
        assert!(err.to_string().contains("archive.max_bytes"), "{err}");
        assert_eq!(Age::parse("2w").unwrap().to_string(), "2w");
        assert_eq!(Age::parse("90").unwrap().to_string(), "90s");
    }

    #[test]
    fn sizes_display_exactly() {
        assert_eq!(Size(64 << 20).to_string(), "64M");
        assert_eq!(Size(1536 << 10).to_string(), "1536K");
        assert_eq!(Size(1000).to_string(), "1000");
        assert_eq!(Size::parse("2G"), Ok(Size(2 << 30)));
    }
}
