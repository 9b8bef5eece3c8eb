//! The one JSON schema of every `--json` output, as Rust types.
//!
//! `history --json`, `status --json` and `watch --json` serialise these types
//! and nothing else, so the field names and JSON types that `docs/json.md`
//! documents live here and only here. Each top-level object carries
//! `"schema": SCHEMA`; nested objects do not. The library's own types have no
//! serde derives: a renamed library field must not silently change this
//! contract.
//!
//! Changing a field's name or JSON type means bumping [`SCHEMA`], updating
//! `docs/json.md` (its tables and changelog), and the fingerprint that
//! `cli/tests/json_schema.rs` keeps per schema version.

mod archive;
mod entry;
mod event;
mod status;
mod time;

pub use archive::{ArchiveStats, Archived, Hit};
pub use entry::{Entry, EntryMeta};
pub use event::{Event, EventKind};
pub use status::Status;
pub use time::{epoch_ms, rfc3339};

use serde::Serialize;

/// The version of the JSON schema, in every top-level object's `schema`.
pub const SCHEMA: u32 = 2;

/// A top-level object: `value`'s fields with `"schema": SCHEMA` first.
#[derive(Debug, Serialize)]
pub struct Versioned<T> {
    schema: u32,
    #[serde(flatten)]
    value: T,
}

impl<T> Versioned<T> {
    pub fn new(value: T) -> Self {
        Versioned {
            schema: SCHEMA,
            value,
        }
    }
}

/// Who made a change or wrote an entry.
#[derive(Debug, Serialize)]
pub struct Origin {
    pub pid: u32,
    /// `cli`, `app`, `tray` or `unknown`.
    pub kind: &'static str,
    /// The label the program gave itself (`window 4242` for a window,
    /// `tray` for the tray), else its kind: never empty.
    pub label: String,
}

impl From<&shm_clip::Origin> for Origin {
    fn from(origin: &shm_clip::Origin) -> Self {
        let label = if origin.label.is_empty() {
            origin.kind.as_str().to_owned()
        } else {
            origin.label.clone()
        };
        Origin {
            pid: origin.pid,
            kind: origin.kind.as_str(),
            label,
        }
    }
}

/// One MIME type of a clip and its size in bytes.
#[derive(Debug, Serialize)]
pub struct Type {
    pub mime: String,
    pub size: u64,
}

#[cfg(test)]
mod tests {
    use shm_clip::OriginKind;

    use super::*;

    #[test]
    fn an_origin_label_is_never_empty() {
        let cli = shm_clip::Origin::this_process(OriginKind::Cli);
        assert_eq!(Origin::from(&cli).label, "cli");
        let window = shm_clip::Origin::this_process(OriginKind::App).labelled("window 7");
        assert_eq!(Origin::from(&window).label, "window 7");
        assert_eq!(Origin::from(&window).kind, "app");
    }
}
