//! `archive export DIR`: one file per representation and an `index.json`
//! that says which clip, MIME type and times each file belongs to.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::to_ns;
use crate::{Archive, Error, Result};

/// The export's `index.json` format version.
pub const EXPORT_VERSION: u32 = 1;

/// What an export wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Exported {
    /// Clips exported.
    pub clips: u64,
    /// Files of content written (one per representation).
    pub files: u64,
    /// Bytes of content written.
    pub bytes: u64,
}

#[derive(Serialize)]
struct Index {
    version: u32,
    clips: Vec<IndexClip>,
}

#[derive(Serialize)]
struct IndexClip {
    id: i64,
    clip_id: Option<String>,
    board: String,
    first_seen_ns: i64,
    last_used_ns: i64,
    origin: String,
    pinned: bool,
    representations: Vec<IndexRep>,
}

#[derive(Serialize)]
struct IndexRep {
    mime: String,
    size: u64,
    file: String,
}

impl Archive {
    /// Writes every clip into `dir` (created 0700; files 0600, since they
    /// are clipboard history): `ID-N.EXT` per representation and
    /// `index.json`. Only into a new or empty directory: existing files are
    /// never overwritten, and an export is never mixed into another.
    pub fn export(&self, dir: &Path) -> Result<Exported> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| Error::Io { path, source }
        };
        let refuse = |why| Error::ExportTarget {
            path: dir.to_owned(),
            why,
        };
        match std::fs::symlink_metadata(dir) {
            Ok(meta) if !meta.is_dir() => return Err(refuse("it exists and is not a directory")),
            Ok(_) => {
                if std::fs::read_dir(dir).map_err(io(dir))?.next().is_some() {
                    return Err(refuse(
                        "the directory is not empty; export into a new or empty one (nothing is ever overwritten)",
                    ));
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(io(dir)(err)),
        }
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io(dir))?;
        let ids: Vec<i64> = self
            .conn
            .prepare("SELECT id FROM clips ORDER BY last_used, id")
            .and_then(|mut s| {
                s.query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()
            })
            .map_err(|e| self.err(e))?;
        let mut report = Exported::default();
        let mut index = Index {
            version: EXPORT_VERSION,
            clips: Vec::new(),
        };
        for id in ids {
            let (info, clip) = self.get(id)?;
            let mut reps = Vec::new();
            for (n, rep) in clip.reps.iter().enumerate() {
                let name = format!("{id}-{n}.{}", extension(&rep.mime));
                write_new(&dir.join(&name), &rep.data).map_err(io(&dir.join(&name)))?;
                report.files += 1;
                report.bytes += rep.data.len() as u64;
                reps.push(IndexRep {
                    mime: rep.mime.clone(),
                    size: rep.data.len() as u64,
                    file: name,
                });
            }
            report.clips += 1;
            index.clips.push(IndexClip {
                id,
                clip_id: info.clip_id.map(hex),
                board: info.board,
                first_seen_ns: to_ns(info.first_seen),
                last_used_ns: to_ns(info.last_used),
                origin: info.origin.to_string(),
                pinned: info.pinned,
                representations: reps,
            });
        }
        let json = serde_json::to_vec_pretty(&index).unwrap_or_default();
        let path: PathBuf = dir.join("index.json");
        write_new(&path, &json).map_err(io(&path))?;
        Ok(report)
    }
}

/// 32 lowercase hex digits, as the board prints clip ids.
#[must_use]
pub fn hex(id: [u8; 16]) -> String {
    use std::fmt::Write;
    id.iter().fold(String::with_capacity(32), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn write_new(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// A file name extension for a MIME type, so exported files open in the
/// right program.
fn extension(mime: &str) -> &'static str {
    let base = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match base.as_str() {
        "text/html" => "html",
        "text/uri-list" => "uris",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/svg+xml" => "svg",
        "application/json" => "json",
        _ if shm_clip::is_text(mime) => "txt",
        _ => "bin",
    }
}
