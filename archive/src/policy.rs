//! Which board entries the archiver keeps, and the archive's limits: the
//! `[archive]` section of config.toml.

use std::time::Duration;

use shm_clip::EntryInfo;
use shm_clip::config::ArchiveConfig;

/// What to archive and how much to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Archive clips that carry an image.
    pub images: bool,
    /// Larger clips are not archived.
    pub max_clip_size: u64,
    /// Over this many stored bytes the least recently used unpinned clips go.
    pub max_bytes: u64,
    /// Unpinned clips unused for longer go.
    pub max_age: Option<Duration>,
}

impl Policy {
    /// The policy of config.toml's `[archive]`.
    #[must_use]
    pub fn from_config(c: &ArchiveConfig) -> Policy {
        Policy {
            images: c.images,
            max_clip_size: c.max_clip_size.0,
            max_bytes: c.max_bytes.0,
            max_age: c.max_age.map(|a| a.0),
        }
    }

    /// Whether `entry` is to be archived.
    #[must_use]
    pub fn accepts(&self, entry: &EntryInfo) -> bool {
        self.accepts_size(entry.total_size)
            && self.accepts_types(entry.types.iter().map(|(m, _)| m.as_str()))
    }

    /// Whether a clip of `total_size` bytes may be archived (by size alone).
    #[must_use]
    pub fn accepts_size(&self, total_size: u64) -> bool {
        total_size <= self.max_clip_size
    }

    /// Whether a clip with representations of these MIME types may be
    /// archived (by its types alone: images only when they are on).
    #[must_use]
    pub fn accepts_types<'a>(&self, mut mimes: impl Iterator<Item = &'a str>) -> bool {
        self.images || !mimes.any(|m| m.trim().to_ascii_lowercase().starts_with("image/"))
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::from_config(&ArchiveConfig::default())
    }
}
