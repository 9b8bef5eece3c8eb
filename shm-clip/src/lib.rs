//! `shm_clip`: a clipboard that many processes share through POSIX shared memory.
//!
//! A [`Board`] is one named shared-memory segment per user. A robust,
//! process-shared mutex inside it guards the current clip and its history.
//! Each process that wants live updates [`Board::subscribe`]s: it owns a POSIX
//! message queue (its mailbox), and writers send every mailbox a tiny hint
//! after each commit. Shared memory is the truth; the hint only says "look".
//!
//! ```no_run
//! use shm_clip::{Board, BoardName, Clip, OriginKind};
//! let board = Board::open(&BoardName::new("default")?, OriginKind::Cli)?;
//! board.copy(&Clip::text("hello"))?;
//! assert_eq!(board.paste()?.text_str(), Some("hello"));
//! # Ok::<(), shm_clip::Error>(())
//! ```
//!
//! The segment layout is documented in `LAYOUT.md`; the layers in
//! `ARCHITECTURE.md`.

mod board;
mod clip;
pub mod config;
mod error;
pub mod format;
mod history;
mod ids;
mod image;
mod index_cache;
mod info;
mod lock;
mod mailbox;
mod name;
mod options;
mod origin;
#[doc(hidden)]
pub mod raw;
mod record;
mod removal;
mod repair;
mod ring;
mod segment;
mod sys;
#[cfg(feature = "test-hooks")]
mod test_hooks;
mod text;

pub use board::{
    Board, Changes, CopyOutcome, DestroyReport, EntryState, Provenance, Removal, RemovalLog,
    Restored, Selector,
};
pub use clip::{
    Clip, MAX_MIME_LEN, Representation, TEXT_MIME, is_text, looks_like_text, mime_matches,
    sniff_mime,
};
pub use config::Config;
pub use error::{Error, Result};
pub use format::{Change, LAYOUT_VERSION, RemovalKind};
pub use ids::{ClipId, NodeId};
pub use info::{EntryInfo, LastChange, LockStats, Status, SubscriberInfo};
pub use mailbox::{Notification, Subscription};
pub use name::{BoardName, DEFAULT_BOARD};
pub use options::CreateOptions;
pub use origin::{Origin, OriginKind};
pub use text::{TextKind, best_text_type, readable_text, strip_tags, text_kind, uri_lines};

/// Validation entry points for fuzzing and property tests: they take
/// arbitrary bytes and must only ever return errors, never panic.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::image::validate_image;
    pub use crate::record::decode_record;
}
