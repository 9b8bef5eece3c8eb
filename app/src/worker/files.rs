//! Files and images dropped onto the window, turned into one clip.
//!
//! A single image file becomes an image clip (its bytes under their sniffed
//! type) that also carries the file's URI. Anything else becomes a
//! `text/uri-list` of `file://` URIs, as file managers copy files, with the
//! plain paths as a text alternative.

use std::fmt::Write as _;
use std::path::PathBuf;

use shm_clip::{Board, Clip, TEXT_MIME};

use super::Problem;
use crate::state::{human_size, plural};

/// The clip for the dropped files, and a few words that describe it.
pub fn clip_of(paths: &[PathBuf], board: &Board) -> Result<(Clip, String), Problem> {
    if let [one] = paths
        && is_image_name(one)
    {
        let bytes = read_limited(one, board)?;
        let mime = shm_clip::sniff_mime(&bytes);
        if mime.starts_with("image/") {
            let what = format!(
                "the image {} ({mime}, {})",
                one.file_name().unwrap_or_default().to_string_lossy(),
                human_size(bytes.len() as u64)
            );
            let clip = Clip::new(mime, bytes).with("text/uri-list", uri_list(paths));
            return Ok((clip, what));
        }
    }
    if paths.is_empty() {
        return Err(Problem::new("nothing was dropped"));
    }
    let plain = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let clip = Clip::new("text/uri-list", uri_list(paths)).with(TEXT_MIME, plain);
    Ok((clip, plural(paths.len(), "file URI")))
}

fn is_image_name(path: &std::path::Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        ["png", "jpg", "jpeg", "gif", "bmp", "webp"]
            .iter()
            .any(|x| e.eq_ignore_ascii_case(x))
    })
}

/// Reads a file that must fit on the board.
fn read_limited(path: &std::path::Path, board: &Board) -> Result<Vec<u8>, Problem> {
    let cannot =
        |err: std::io::Error| Problem::new(format!("cannot read {}: {err}", path.display()));
    let len = std::fs::metadata(path).map_err(cannot)?.len();
    let max = board.max_clip_size("image/png");
    if len > max {
        return Err(Problem::new(format!(
            "{} is {}, more than the board can hold ({})",
            path.display(),
            human_size(len),
            human_size(max)
        ))
        .with_hint("create a larger board: shm-clip --board NAME --capacity 512M copy ..."));
    }
    std::fs::read(path).map_err(cannot)
}

/// `file://` URIs, one per line with CRLF endings as RFC 2483 asks.
pub fn uri_list(paths: &[PathBuf]) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for path in paths {
        out.push_str("file://");
        for &b in path.as_os_str().as_bytes() {
            if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
                out.push(char::from(b));
            } else {
                let _ = write!(out, "%{b:02X}");
            }
        }
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded() {
        let list = uri_list(&[PathBuf::from("/tmp/a b/ü.txt"), PathBuf::from("/x")]);
        assert_eq!(list, "file:///tmp/a%20b/%C3%BC.txt\r\nfile:///x\r\n");
    }
}
