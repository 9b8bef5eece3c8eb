//! Saving the board's history to disk, and restoring it into a new board.
//!
//! One file per board, `history-NAME.bin` in the XDG data directory, mode
//! 0600 in a 0700 directory, written atomically: a temporary file in the same
//! directory, fsynced, then renamed over the old one. Entries are stored
//! oldest first, so restoring them in file order rebuilds the history with
//! the same current clip.
//!
//! Format 2 (integers little-endian):
//! `MAGIC`, u32 entry count, then per entry: u8 flags (1 = pinned), the
//! provenance (u32 origin pid, u32 origin kind, u32 label length and the
//! label, u64 created and u64 touched, ns since the epoch), u32
//! representation count, and per representation: u32 MIME length, the MIME
//! type, u64 data length, the data.
//!
//! Format 1 (`MAGIC_V1`, written until 2026-12) is the same without the
//! provenance. It is still read: its entries restore with an unknown origin
//! labelled "restored" and the file's modification time, which is when they
//! were last saved, rather than pretending the tray just copied them.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use shm_clip::{Board, BoardName, Clip, Origin, OriginKind, Provenance, Selector};

const MAGIC: &[u8; 16] = b"shm-clip-hist-2\n";
const MAGIC_V1: &[u8; 16] = b"shm-clip-hist-1\n";
const FLAG_PINNED: u8 = 1;
/// Sanity bounds for a file we read back.
const MAX_ENTRIES: u32 = 1_000_000;
const MAX_REPS: u32 = 1024;
const MAX_LABEL: u32 = 255;

/// One saved entry.
#[derive(Debug, PartialEq, Eq)]
pub struct Saved {
    /// Who copied it, when, and whether it is pinned (pinned entries are
    /// saved even with persistence off).
    pub provenance: Provenance,
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
            path: shm_clip::Config::history_file(dir, board),
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
                    provenance: Provenance {
                        origin: info.origin.clone(),
                        created: info.created,
                        touched: info.touched,
                        pinned: info.pinned,
                        clip_id: None,
                        origin_node: None,
                    },
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
            Ok(file) => {
                let saved_at = file.metadata()?.modified().unwrap_or(UNIX_EPOCH);
                decode(&mut BufReader::new(file), saved_at).map(Some)
            }
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
            match board.restore(&entry.clip, &entry.provenance) {
                Ok(_) => restored += 1,
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
        let p = &entry.provenance;
        out.write_all(&[if p.pinned { FLAG_PINNED } else { 0 }])?;
        out.write_all(&p.origin.pid.to_le_bytes())?;
        out.write_all(&p.origin.kind.to_raw().to_le_bytes())?;
        let label = truncate(&p.origin.label, MAX_LABEL as usize);
        out.write_all(&(label.len() as u32).to_le_bytes())?;
        out.write_all(label.as_bytes())?;
        out.write_all(&ns_of(p.created).to_le_bytes())?;
        out.write_all(&ns_of(p.touched).to_le_bytes())?;
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

/// Reads either format; `saved_at` stands in for format 1's missing times.
fn decode(input: &mut impl Read, saved_at: SystemTime) -> io::Result<Vec<Saved>> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let mut magic = [0u8; 16];
    input.read_exact(&mut magic)?;
    let v1 = match &magic {
        m if m == MAGIC => false,
        m if m == MAGIC_V1 => true,
        _ => return Err(bad("not an shm-clip history file")),
    };
    let count = read_u32(input)?;
    if count > MAX_ENTRIES {
        return Err(bad("too many entries"));
    }
    let mut entries = Vec::new();
    for _ in 0..count {
        let mut flags = [0u8; 1];
        input.read_exact(&mut flags)?;
        let pinned = flags[0] & FLAG_PINNED != 0;
        let provenance = if v1 {
            Provenance {
                origin: Origin {
                    pid: 0,
                    kind: OriginKind::Unknown,
                    label: "restored".into(),
                },
                created: saved_at,
                touched: saved_at,
                pinned,
                clip_id: None,
                origin_node: None,
            }
        } else {
            let pid = read_u32(input)?;
            let kind = OriginKind::from_raw(read_u32(input)?);
            let label_len = read_u32(input)?;
            if label_len > MAX_LABEL {
                return Err(bad("origin label too long"));
            }
            let label = String::from_utf8(read_bytes(input, u64::from(label_len))?)
                .map_err(|_| bad("origin label is not UTF-8"))?;
            let created = time_of(read_u64(input)?);
            let touched = time_of(read_u64(input)?);
            Provenance {
                origin: Origin { pid, kind, label },
                created,
                touched,
                pinned,
                clip_id: None,
                origin_node: None,
            }
        };
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
            let len = read_u64(input)?;
            let data = read_bytes(input, len)?;
            clip = clip.with(mime, data);
        }
        entries.push(Saved { provenance, clip });
    }
    Ok(entries)
}

fn read_u64(input: &mut impl Read) -> io::Result<u64> {
    let mut b = [0u8; 8];
    input.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

fn ns_of(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn time_of(ns: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(ns)
}

/// At most `max` bytes of `s`, cut at a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
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

    fn provenance(pinned: bool, label: &str, secs: u64) -> Provenance {
        Provenance {
            origin: Origin {
                pid: 4242,
                kind: OriginKind::Cli,
                label: label.into(),
            },
            created: UNIX_EPOCH + Duration::from_secs(secs),
            touched: UNIX_EPOCH + Duration::from_secs(secs + 60),
            pinned,
            clip_id: None,
            origin_node: None,
        }
    }

    #[test]
    fn round_trips_and_rejects_garbage() {
        let entries = vec![
            Saved {
                provenance: provenance(true, "", 1_700_000_000),
                clip: Clip::text("a"),
            },
            Saved {
                provenance: provenance(false, "window 7", 1_700_000_100),
                clip: Clip::new("image/png", vec![0u8; 100]).with("text/html", "<img>"),
            },
        ];
        let mut buf = Vec::new();
        encode(&mut buf, &entries).unwrap();
        assert_eq!(decode(&mut buf.as_slice(), UNIX_EPOCH).unwrap(), entries);
        for cut in [0, 10, 20, 40, buf.len() - 1] {
            assert!(
                decode(&mut &buf[..cut], UNIX_EPOCH).is_err(),
                "cut at {cut}"
            );
        }
    }

    /// A file in format 1, as the release before this one wrote it, reads
    /// back with its content and pins, an unknown origin and the save time.
    #[test]
    fn reads_format_1_files() {
        let bytes = include_bytes!("../../tests/fixtures/history-v1.bin");
        let saved_at = UNIX_EPOCH + Duration::from_secs(1_764_000_000);
        let entries = decode(&mut bytes.as_slice(), saved_at).unwrap();
        let texts: Vec<Option<&str>> = entries.iter().map(|e| e.clip.text_str()).collect();
        assert_eq!(entries.len(), 4);
        assert_eq!(texts[0], Some("pinned note from release 0.1"));
        assert_eq!(texts[3], Some("newest: caf\u{e9} \u{2603}"));
        assert_eq!(
            entries[1].clip.types(),
            ["text/html", "text/plain;charset=utf-8"]
        );
        assert_eq!(entries[2].clip.reps[0].data.len(), 1024);
        assert!(entries[0].provenance.pinned);
        assert!(!entries[1].provenance.pinned);
        for e in &entries {
            assert_eq!(e.provenance.origin.kind, OriginKind::Unknown);
            assert_eq!(e.provenance.origin.label, "restored");
            assert_eq!(e.provenance.created, saved_at);
        }
    }

    #[test]
    fn written_atomically_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("shm-clip-persist-{}", std::process::id()));
        let store = Store::new(&dir, &BoardName::new("t").unwrap());
        store
            .write(&[Saved {
                provenance: provenance(false, "", 1),
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

    /// A file in format 2, as the release before layout 3 wrote it (kept as
    /// a fixture), restores into a layout 3 board: content, pins, origins
    /// and times as saved, each entry with a fresh clip id and this board's
    /// node id, in the saved order.
    #[test]
    fn format_2_files_restore_into_a_layout_3_board() {
        use shm_clip::{CreateOptions, Selector};
        let dir = std::env::temp_dir().join(format!("shm-clip-fixture-{}", std::process::id()));
        let name = BoardName::new(&format!("t-fixture-{}", std::process::id())).unwrap();
        let store = Store::new(&dir, &name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            store.path(),
            include_bytes!("../../tests/fixtures/history-v2.bin"),
        )
        .unwrap();
        let _ = Board::destroy(&name, true);
        let board = Board::open_with(
            &name,
            Origin::this_process(OriginKind::Tray),
            Some(CreateOptions::default()),
        )
        .unwrap();
        assert_eq!(store.restore(&board).unwrap(), 4);
        let history = board.history().unwrap();
        let texts: Vec<String> = history
            .iter()
            .map(|e| {
                board
                    .get(Selector::Seq(e.seq))
                    .unwrap()
                    .text_str()
                    .unwrap_or("<binary>")
                    .to_owned()
            })
            .collect();
        assert_eq!(
            texts,
            [
                "newest: caf\u{e9} \u{2603}",
                "<binary>",
                "<b>bold</b> as text",
                "pinned note from release 0.2"
            ]
        );
        assert!(history[3].pinned && !history[0].pinned);
        assert_eq!(history[2].origin.kind, OriginKind::Tray);
        assert_eq!(history[2].origin.label, "xclip");
        assert_eq!(history[2].origin.pid, 1002);
        assert_eq!(
            history[3].created,
            UNIX_EPOCH + Duration::from_secs(1_764_500_000)
        );
        assert_eq!(
            board.get(Selector::Index(1)).unwrap().reps[0].data.len(),
            1024
        );
        let mut ids: Vec<_> = history.iter().map(|e| e.clip_id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 4, "a fresh clip id for each entry");
        assert!(history.iter().all(|e| e.origin_node == board.node_id()));
        Board::destroy(&name, true).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
