//! The sizes a board is created with, and their one set of limits.

use crate::format::{MAX_ARENA, MAX_DEPTH, MIN_ARENA, MIN_DEPTH};
use crate::{Error, Result};

/// Sizes used when a board is created; an existing board keeps its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateOptions {
    /// Bytes in the data arena. The largest single clip is the arena less a
    /// few hundred bytes of framing.
    pub capacity: u64,
    /// History depth: how many entries are kept.
    pub depth: u32,
}

impl CreateOptions {
    /// The capacities a board can be created with, in bytes: 4 KiB to 1 TiB.
    /// The one definition that the CLI's `--capacity`, config.toml's
    /// `board.capacity` and the segment's validation all use.
    pub const CAPACITY: std::ops::RangeInclusive<u64> = MIN_ARENA..=MAX_ARENA;
    /// The history depths a board can be created with: 1 to 100 000 entries.
    pub const DEPTH: std::ops::RangeInclusive<u32> = MIN_DEPTH..=MAX_DEPTH;

    /// Checks both values against [`Self::CAPACITY`] and [`Self::DEPTH`].
    pub fn validate(&self) -> Result<()> {
        if !Self::CAPACITY.contains(&self.capacity) {
            return Err(Error::InvalidCreateOptions {
                what: "capacity",
                value: self.capacity,
                range: "4096 bytes (4K) to 1 TiB (1T)",
            });
        }
        if !Self::DEPTH.contains(&self.depth) {
            return Err(Error::InvalidCreateOptions {
                what: "depth",
                value: u64::from(self.depth),
                range: "1 to 100000 entries",
            });
        }
        Ok(())
    }
}

impl Default for CreateOptions {
    /// 64 MiB: a 3840×2160 RGBA screenshot (31.6 MiB) plus plenty of text.
    /// tmpfs pages cost memory only once touched, so an idle board costs little.
    fn default() -> Self {
        CreateOptions {
            capacity: 64 << 20,
            depth: 200,
        }
    }
}
