//! Saving the board's history to disk, and restoring it into a new board.
//!
//! One file per board, `history-NAME.bin` in the XDG data directory, mode
//! 0600 in a 0700 directory, written atomically: a temporary file in the same
//! directory, fsynced, then renamed over the old one. Entries are stored
//! oldest first, so restoring them in file order rebuilds the history with
//! the same current clip.
//!
//! Format (integers little-endian):
//! `MAGIC`, u32 entry count, then per entry: u8 flags (1 = pinned), u32
//! representation count, and per representation: u32 MIME length, the MIME
//! type, u64 data length, the data.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use shm_clip::{Board, BoardName, Clip, Selector};

const MAGIC: &[u8; 16] = b"shm-clip-hist-1\n";
const FLAG_PINNED: u8 = 1;
/// Sanity bounds for a file we read back.
const MAX_ENTRIES: u32 = 1_000_000;
const MAX_REPS: u32 = 1024;

/// One saved entry.
#[derive(Debug, PartialEq, Eq)]
pub struct Saved {
    /// Pinned entries are saved even with persistence off.
    pub pinned: bool,
    /// Its content.
    pub clip: Clip,
}

/// The history file of one board.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
}

/// What a save wrote.
#[derive(Debug, Clone, Copy)]
pub struct SaveReport {
    /// Entries written.
    pub entries: usize,
    /// Bytes of content written.
    pub bytes: u64,
}

impl Store {
    /// The store of `board` in directory `dir`.
    #[must_use]
    pub fn new(dir: &Path, board: &BoardName) -> Store {
        Store {
            path: dir.join(format!("history-{board}.bin")),
        }
    }

    /// The file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Saves the board's pinned entries, and every entry with `everything`.
    pub fn save(&self, board: &Board, everything: bool) -> io::Result<SaveReport> {
        let history = board.history().map_err(io::Error::other)?;
        let mut entries = Vec::new();
        // Oldest first, so that restoring in order rebuilds the same history.
        for info in history.iter().rev() {
            if !(everything || info.pinned) {
                continue;
            }
            match board.get(Selector::Seq(info.seq)) {
                Ok(clip) => entries.push(Saved {
                    pinned: info.pinned,
                    clip,
                }),
                // Deleted since history() or corrupt: skip it.
                Err(err) => tracing::debug!(seq = info.seq, %err, "not saving an entry"),
            }
        }
        self.write(&entries)
    }

    /// Writes `entries` atomically.
    pub fn write(&self, entries: &[Saved]) -> io::Result<SaveReport> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            self.path.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        let _ = std::fs::remove_file(&tmp);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        let result = (|| {
            let mut out = BufWriter::new(file);
            let report = encode(&mut out, entries)?;
            let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            // The rename itself survives a crash once the directory is synced.
            File::open(dir)?.sync_all()?;
            Ok(report)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// The saved entries, oldest first; `None` if there is no file.
    pub fn load(&self) -> io::Result<Option<Vec<Saved>>> {
        match File::open(&self.path) {
            Ok(file) => decode(&mut BufReader::new(file)).map(Some),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Copies the saved entries into `board`; returns how many.
    pub fn restore(&self, board: &Board) -> io::Result<usize> {
        let Some(entries) = self.load()? else {
            return Ok(0);
        };
        let mut restored = 0;
        for entry in &entries {
            match board.copy(&entry.clip) {
                Ok(outcome) => {
                    restored += 1;
                    if entry.pinned {
                        let seq = board
                            .history()
                            .ok()
                            .and_then(|h| h.first().map(|e| e.seq))
                            .unwrap_or(outcome.seq);
                        let _ = board.set_pinned(Selector::Seq(seq), true);
                    }
                }
                Err(err) => tracing::warn!(%err, "could not restore a saved entry"),
            }
        }
        Ok(restored)
    }
}

fn encode(out: &mut impl Write, entries: &[Saved]) -> io::Result<SaveReport> {
    out.write_all(MAGIC)?;
    let count = u32::try_from(entries.len()).map_err(io::Error::other)?;
    out.write_all(&count.to_le_bytes())?;
    let mut bytes = 0;
    for entry in entries {
        out.write_all(&[if entry.pinned { FLAG_PINNED } else { 0 }])?;
        let reps = u32::try_from(entry.clip.reps.len()).map_err(io::Error::other)?;
        out.write_all(&reps.to_le_bytes())?;
        for rep in &entry.clip.reps {
            let mime = u32::try_from(rep.mime.len()).map_err(io::Error::other)?;
            out.write_all(&mime.to_le_bytes())?;
            out.write_all(rep.mime.as_bytes())?;
            out.write_all(&(rep.data.len() as u64).to_le_bytes())?;
            out.write_all(&rep.data)?;
            bytes += rep.data.len() as u64;
        }
    }
    out.flush()?;
    Ok(SaveReport {
        entries: entries.len(),
        bytes,
    })
}

fn decode(input: &mut impl Read) -> io::Result<Vec<Saved>> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let mut magic = [0u8; 16];
    input.read_exact(&mut magic)?;
    if &magic != MAGIC {
        return Err(bad("not an shm-clip history file"));
    }
    let count = read_u32(input)?;
    if count > MAX_ENTRIES {
        return Err(bad("too many entries"));
    }
    let mut entries = Vec::new();
    for _ in 0..count {
        let mut flags = [0u8; 1];
        input.read_exact(&mut flags)?;
        let reps = read_u32(input)?;
        if reps > MAX_REPS {
            return Err(bad("too many representations"));
        }
        let mut clip = Clip::default();
        for _ in 0..reps {
            let mime_len = read_u32(input)?;
            if mime_len > 255 {
                return Err(bad("MIME type too long"));
            }
            let mime = read_bytes(input, u64::from(mime_len))?;
            let mime = String::from_utf8(mime).map_err(|_| bad("MIME type is not UTF-8"))?;
            let mut len = [0u8; 8];
            input.read_exact(&mut len)?;
            let data = read_bytes(input, u64::from_le_bytes(len))?;
            clip = clip.with(mime, data);
        }
        entries.push(Saved {
            pinned: flags[0] & FLAG_PINNED != 0,
            clip,
        });
    }
    Ok(entries)
}

fn read_u32(input: &mut impl Read) -> io::Result<u32> {
    let mut b = [0u8; 4];
    input.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

/// Reads exactly `len` bytes without trusting `len` for the allocation.
fn read_bytes(input: &mut impl Read, len: u64) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    input.take(len).read_to_end(&mut data)?;
    if data.len() as u64 != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "truncated history file",
        ));
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let entries = vec![
            Saved {
                pinned: true,
                clip: Clip::text("a"),
            },
            Saved {
                pinned: false,
                clip: Clip::new("image/png", vec![0u8; 100]).with("text/html", "<img>"),
            },
        ];
        let mut buf = Vec::new();
        encode(&mut buf, &entries).unwrap();
        assert_eq!(decode(&mut buf.as_slice()).unwrap(), entries);
        for cut in [0, 10, 20, buf.len() - 1] {
            assert!(decode(&mut &buf[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn written_atomically_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("shm-clip-persist-{}", std::process::id()));
        let store = Store::new(&dir, &BoardName::new("t").unwrap());
        store
            .write(&[Saved {
                pinned: false,
                clip: Clip::text("x"),
            }])
            .unwrap();
        let mode = std::fs::metadata(store.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(store.load().unwrap().unwrap().len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
