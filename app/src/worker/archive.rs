//! The window's use of the archive: the history search's "From the archive"
//! hits, and bringing one back to the board. The archive file is opened for
//! each search, never created: a window of a user without an archive finds
//! nothing there.

use std::time::SystemTime;

use shm_clip::{Board, Provenance};
use shm_clip_archive::Archive;

use super::{ArchiveHit, Problem};

/// How many archive hits the history shows.
const HITS: usize = 20;

fn problem(err: &shm_clip_archive::Error) -> Problem {
    Problem::new(format!("archive: {err}"))
}

/// Another archive file for this process's windows: set once by the tests
/// (they cannot change the environment of a multi-threaded process).
#[cfg(test)]
pub(crate) static TEST_PATH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

fn open() -> Result<Option<Archive>, shm_clip_archive::Error> {
    #[cfg(test)]
    if let Some(path) = TEST_PATH.get() {
        return Archive::open_existing(path);
    }
    Archive::open_existing(&shm_clip_archive::default_path()?)
}

/// The archive's hits for `query`: empty for an empty query, without an
/// archive, or when it cannot be read (logged).
pub(super) fn search(query: &str) -> Vec<ArchiveHit> {
    if query.trim().is_empty() {
        return Vec::new();
    }
    let found = open().and_then(|a| match a {
        Some(a) => a.search(query, HITS),
        None => Ok(Vec::new()),
    });
    match found {
        Ok(hits) => hits
            .into_iter()
            .map(|h| ArchiveHit {
                id: h.info.id,
                preview: h.info.preview,
                mime: h
                    .info
                    .types
                    .first()
                    .map(|t| t.0.clone())
                    .unwrap_or_default(),
                size: h.info.total_size,
            })
            .collect(),
        Err(err) => {
            tracing::warn!(%err, "cannot search the archive");
            Vec::new()
        }
    }
}

/// Restores archived clip `id` onto `board` as its current clip, with its
/// first origin and times, and marks it used.
pub(super) fn bring_back(board: &Board, id: i64) -> Result<String, Problem> {
    let mut archive = open()
        .map_err(|e| problem(&e))?
        .ok_or_else(|| Problem::new("there is no archive"))?;
    let (info, clip) = archive.get(id).map_err(|e| problem(&e))?;
    let now = SystemTime::now();
    board
        .restore(
            &clip,
            &Provenance {
                origin: info.origin,
                created: info.first_seen,
                touched: now,
                pinned: info.pinned,
                clip_id: info.clip_id.map(shm_clip::ClipId),
                origin_node: None,
            },
        )
        .map_err(|e| Problem::from(&e))?;
    archive.touch(id, now).map_err(|e| problem(&e))?;
    Ok("Brought it back from the archive".into())
}
