//! `shm_clip_archive`: every clip that reached a board, kept on disk in
//! SQLite and searchable, while the board stays the small hot end in shared
//! memory.
//!
//! - [`Archive`]: the database (`$XDG_DATA_HOME/shm-clip/archive.sqlite3`,
//!   0600 in a 0700 directory, WAL, `secure_delete`), with a versioned schema
//!   (`schema.rs`), deduplicated content and an FTS5 index over the text of
//!   text/plain, text/html (tags stripped) and text/uri-list.
//! - The archiver (`archiver.rs`): one per board, it follows the board's
//!   notifications and writes new entries, pins and removals off the copy
//!   path; the board's removal log tells a removal (followed) from an
//!   eviction (not followed).
//!
//! No GUI and no async: the tray, the CLI and the window all use it.
#![forbid(unsafe_code)]

mod archive;
mod archiver;
mod codec;
mod error;
mod export;
mod files;
mod ids;
mod instance;
mod model;
mod policy;
mod prune;
mod read;
mod removals;
mod reps;
mod rewrite;
mod runner;
mod schema;
mod text;
mod tracking;
mod write;

pub use archive::{Archive, Marked};
pub use archiver::{Archiver, Synced};
pub use error::{Error, Result};
pub use export::{EXPORT_VERSION, Exported, hex};
pub use files::{ARCHIVE_ENV, default_path, side_file};
pub use instance::{Instance, acquire, lock_path};
pub use model::{ArchivedInfo, Hit, Inserted, NewClip, Pruned, Stats};
pub use policy::Policy;
pub use read::SEARCH_WINDOW;
pub use runner::{Control, Ended, ScrubTiming, Wakeup, control, run};
pub use schema::VERSION as SCHEMA_VERSION;
pub use text::{MAX_INDEXED, fts_query};
pub use tracking::BoardState;
pub use write::Batch;
