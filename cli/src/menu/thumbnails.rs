//! Thumbnails for rofi's icon column, cached under
//! `$XDG_CACHE_HOME/shm-clip/thumbnails/<board>/`.
//!
//! A thumbnail is the image itself: rofi scales icons as it loads them, and
//! decoding and re-encoding PNG would pull an image crate into a CLI that
//! must start quickly. The file is named `<seq>-<xxh3 of the bytes>.<ext>`,
//! so it is written once and never goes stale, even when a recreated board
//! reuses a seq. Every `--icons` listing removes the files of entries that
//! have left the history, and `rm`, `clear` and `destroy` prune too, so no
//! image outlives its entry for long.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use shm_clip::BoardName;

/// The cache directory of `board`'s thumbnails, if a home is known.
pub fn dir(board: &BoardName) -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(
        cache
            .join("shm-clip")
            .join("thumbnails")
            .join(board.as_str()),
    )
}

/// The thumbnail of entry `seq`, written if it is not cached yet. `None`
/// (and a warning) if the cache cannot be written: the line then simply has
/// no icon.
pub fn ensure(board: &BoardName, seq: u64, mime: &str, data: &[u8]) -> Option<PathBuf> {
    let dir = dir(board)?;
    let ext = match crate::human::mime_base(mime) {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/bmp" => "bmp",
        "image/svg+xml" => "svg",
        _ => "img",
    };
    let hash = twox_hash::XxHash3_64::oneshot(data);
    let path = dir.join(format!("{seq}-{hash:016x}.{ext}"));
    if path.exists() {
        return Some(path);
    }
    match write_new(&dir, &path, data) {
        Ok(()) => Some(path),
        Err(err) => {
            tracing::warn!(path = %path.display(), %err, "cannot cache a thumbnail");
            None
        }
    }
}

/// Writes `data` to `path` through a temporary file, so that a reader never
/// sees half an image. Private: the directories are 0700, the file 0600.
fn write_new(dir: &Path, path: &Path, data: &[u8]) -> std::io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let tmp = dir.join(format!(".tmp-{}", std::process::id()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(data)?;
    drop(file);
    fs::rename(&tmp, path)
}

/// Removes every file of `board`'s cache that is not in `keep`.
pub fn prune(board: &BoardName, keep: &[PathBuf]) {
    let Some(dir) = dir(board) else { return };
    let Ok(read) = fs::read_dir(&dir) else { return };
    for entry in read.flatten() {
        let path = entry.path();
        if !keep.contains(&path)
            && let Err(err) = fs::remove_file(&path)
        {
            tracing::debug!(path = %path.display(), %err, "cannot prune a thumbnail");
        }
    }
}

/// Prunes against the board's current history (after `rm`, `clear`).
pub fn prune_to_history(board: &shm_clip::Board) {
    let Some(dir) = dir(board.name()) else { return };
    if !dir.exists() {
        return;
    }
    let Ok(entries) = board.history() else { return };
    let seqs: Vec<String> = entries.iter().map(|e| format!("{}-", e.seq)).collect();
    let Ok(read) = fs::read_dir(&dir) else { return };
    for entry in read.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !seqs.iter().any(|seq| name.starts_with(seq.as_str())) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Removes the whole cache of a destroyed board.
pub fn remove_all(board: &BoardName) {
    if let Some(dir) = dir(board) {
        let _ = fs::remove_dir_all(dir);
    }
}
