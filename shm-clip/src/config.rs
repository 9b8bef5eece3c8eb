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
//!
//! `config.rs` holds [`Config`]: finding, reading and checking the file;
//! `tables.rs` the types of its tables (`[board]`, `[sync]`, …); `units.rs`
//! the [`Size`] and [`Age`] values and their parsers; `locate.rs` maps an
//! error's position in the text to its line and key.

mod locate;
mod tables;
mod units;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{CreateOptions, Error, Result};
use locate::{find_key, locate};
pub use tables::{
    ArchiveConfig, BoardConfig, ForeignTable, PersistenceConfig, PickerConfig, SyncConfig,
};
pub use units::{Age, Size};

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

fn project_dirs() -> Result<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "shm-clip").ok_or_else(|| Error::Config {
        path: PathBuf::from("config.toml"),
        line: None,
        key: None,
        message: "no home directory: set HOME, or SHM_CLIP_CONFIG to a file".into(),
    })
}

/// The 1-based line of byte `at` in `text`, and the dotted key defined there
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
}
