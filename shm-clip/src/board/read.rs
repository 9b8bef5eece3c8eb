//! Reading a board: paste and get (one entry, verified), its types, the
//! history listing and the status report.

use std::borrow::Cow;
use std::sync::atomic::Ordering;

use super::{Board, Selector, corrupt, time_of, with_seq};
use crate::format::{IndexRecord, off};
use crate::ids::{ClipId, NodeId};
use crate::lock::LockGuard;
use crate::record::{self, Directory, RepInfo};
use crate::segment::Segment;
use crate::text::{TextKind, best_text_type, strip_tags, uri_lines};
use crate::{
    Clip, EntryInfo, Error, LastChange, LockStats, Origin, OriginKind, Representation, Result,
    Status,
};

/// Bytes copied out (and hashed) per piece, as a copy writes them in.
const READ_PIECE: usize = 64 << 10;

/// The length of the directory of `n` representations whose descriptors
/// `descs` starts with: the descriptors and the MIME types they announce,
/// each capped at the longest a type may be (a descriptor missing from
/// `descs` announces none; parsing then refuses the directory).
fn announced_len(descs: &[u8], n: usize) -> usize {
    let mime_total: usize = (0..n)
        .filter_map(|i| crate::format::Desc::at(descs, i))
        .map(|d| d.mime_len.min(crate::format::MAX_MIME_LEN) as usize)
        .sum();
    record::descs_len(n) + mime_total
}

/// A clip of at most this many representations and bytes is copied out
/// under the lock and verified after it: its bytes are still in the cache
/// then, so the hash costs the same, and the lock is held for the copy
/// alone, which readers queued behind it (a fan-out) wait for. A larger
/// clip is hashed piece by piece as it lands, so each byte is read from
/// memory once.
const VERIFY_LATER_BYTES: u64 = 256 << 10;
pub(super) const VERIFY_LATER_REPS: usize = 8;

/// The `i`-th representation of `reps`, for a read to fill again: reads
/// write each representation of an entry into the buffer and MIME string
/// that the same position held before (a clip's earlier paste), and then
/// cut `reps` to the entry's count. Filling them in place, where taking
/// them out and collecting them again was an allocation on every paste.
/// `i` is at most `reps.len()`: reads fill in order.
pub(super) fn nth_buffer(reps: &mut Vec<Representation>, i: usize) -> &mut Representation {
    if reps.len() <= i {
        reps.push(Representation {
            mime: String::new(),
            data: Vec::new(),
        });
    }
    &mut reps[i]
}

/// Room for a record's directory as it is copied out of the arena: the
/// first [`record::SHORT_DIRECTORY`] bytes go on the stack, where the
/// directory of a clip of a few types is found whole; a longer one goes to
/// the heap.
pub(super) struct DirectoryBuf {
    short: [u8; record::SHORT_DIRECTORY],
    long: Vec<u8>,
}

impl DirectoryBuf {
    pub(super) fn new() -> Self {
        DirectoryBuf {
            short: [0; record::SHORT_DIRECTORY],
            long: Vec::new(),
        }
    }
}

/// How much text of each entry `history` reads for its preview.
const PREVIEW_BYTES: u64 = 512;

/// As much for an entry whose only text is HTML: its markup comes before
/// its words (a browser's copy opens with a `<meta>` and styled `<span>`s).
const PREVIEW_HTML_BYTES: u64 = 4096;

impl Board {
    /// The current clip; `Error::Empty` on an empty board.
    pub fn paste(&self) -> Result<Clip> {
        self.get(Selector::Current)
    }

    /// The clip of an entry, with every representation verified.
    pub fn get(&self, which: Selector) -> Result<Clip> {
        let mut clip = Clip::default();
        self.get_into(which, &mut clip)?;
        Ok(clip)
    }

    /// [`Board::paste`] into `clip`, reusing its buffers (see
    /// [`Board::get_into`]).
    pub fn paste_into(&self, clip: &mut Clip) -> Result<()> {
        self.get_into(Selector::Current, clip)
    }

    /// [`Board::get`] into `clip`, whose representations' buffers are
    /// filled again where they have the room: a reader that pastes clip
    /// after clip, as a bridge or a viewer does, then pays no allocation
    /// and no page faults for them. A fresh 32 MiB buffer costs the kernel
    /// a pass that zeroes it, as long as the copy itself (BENCHMARKS.md,
    /// "where the time goes"). On an error, `clip` is left empty.
    pub fn get_into(&self, which: Selector, clip: &mut Clip) -> Result<()> {
        let read = self.get_reps(which, &mut clip.reps);
        if read.is_err() {
            clip.reps.clear();
        }
        read
    }

    fn get_reps(&self, which: Selector, reps: &mut Vec<Representation>) -> Result<()> {
        if matches!(which, Selector::Current) && self.current_unlocked(reps) {
            return Ok(());
        }
        let guard = self.seg.lock()?;
        let rec = self.find(&guard, which)?.rec;
        let mut buf = DirectoryBuf::new();
        let dir = self.read_directory(&rec, &mut buf)?;
        if !verify_later(dir.count(), dir.data_len()) {
            // Each representation goes straight into its own buffer: one
            // copy, verified as it is made.
            return self.read_reps(&rec, dir.reps(), reps, None);
        }
        let mut sums = [0u64; VERIFY_LATER_REPS];
        self.read_reps(&rec, dir.reps(), reps, Some(&mut sums))?;
        drop(guard);
        if let Some(bad) = first_mismatch(reps, &sums) {
            return Err(mismatch(rec.seq, &bad.mime));
        }
        Ok(())
    }

    /// Copies the representations `infos` of `rec` out into `reps` (see
    /// [`nth_buffer`]). Each is verified as it lands, unless `sums` is
    /// given: each checksum then goes there, for the caller to verify the
    /// copy once it has released the lock.
    pub(super) fn read_reps<'a>(
        &self,
        rec: &IndexRecord,
        infos: impl ExactSizeIterator<Item = RepInfo<'a>>,
        reps: &mut Vec<Representation>,
        mut sums: Option<&mut [u64; VERIFY_LATER_REPS]>,
    ) -> Result<()> {
        if reps.capacity() == 0 {
            // A fresh clip's first paste: one allocation of the right size.
            *reps = Vec::with_capacity(infos.len());
        }
        let mut count = 0;
        for (i, info) in infos.enumerate() {
            if let Some(sums) = sums.as_deref_mut() {
                *sums
                    .get_mut(i)
                    .ok_or_else(|| corrupt(rec.seq, "too many types to verify later"))? =
                    info.checksum;
            }
            self.read_rep(rec, info, sums.is_none(), nth_buffer(reps, i))?;
            count = i + 1;
        }
        reps.truncate(count);
        Ok(())
    }

    /// One representation of an entry, copying only that one out.
    pub fn get_type(&self, which: Selector, mime: &str) -> Result<Representation> {
        let mut reps = Vec::new();
        if matches!(which, Selector::Current)
            && self.current_type_unlocked(mime, &mut reps)
            && let Some(rep) = reps.pop()
        {
            return Ok(rep);
        }
        let guard = self.seg.lock()?;
        let rec = self.find(&guard, which)?.rec;
        let mut buf = DirectoryBuf::new();
        let dir = self.read_directory(&rec, &mut buf)?;
        let info = pick_type(&dir, mime).ok_or_else(|| Error::NoSuchType {
            mime: mime.to_owned(),
            available: dir.reps().map(|i| i.mime.to_owned()).collect(),
        })?;
        let rep = nth_buffer(&mut reps, 0);
        self.read_rep(&rec, info, true, rep)?;
        drop(guard);
        Ok(reps.swap_remove(0))
    }

    /// The MIME types of an entry, in order.
    pub fn types(&self, which: Selector) -> Result<Vec<String>> {
        let guard = self.seg.lock()?;
        let rec = self.find(&guard, which)?.rec;
        let mut buf = DirectoryBuf::new();
        let dir = self.read_directory(&rec, &mut buf)?;
        Ok(dir.reps().map(|i| i.mime.to_owned()).collect())
    }

    /// One entry's description; for the current clip, however it is named,
    /// constant work.
    pub fn info(&self, which: Selector) -> Result<EntryInfo> {
        let guard = self.seg.lock()?;
        let found = self.find(&guard, which)?;
        let rec = found.rec;
        let index = match which {
            Selector::Current => 0,
            Selector::Index(i) => i,
            // The current clip is index 0, which needs no look at the
            // index: a watcher asking by id for what was just copied would
            // otherwise copy the whole index out, stale since that commit.
            // `find` validated the slot; under the lock, the current slot
            // number cannot change.
            _ if self.seg.header_u32(off::CURRENT) == found.slot => 0,
            _ => self
                .index(&guard)?
                .live()
                .position(|l| l.rec.clip_id == rec.clip_id)
                .unwrap_or(0),
        };
        let mut buf = DirectoryBuf::new();
        let dir = self.read_directory(&rec, &mut buf)?;
        let text = self.preview_bytes(&rec, &dir);
        let types = types_of(&dir);
        drop(guard);
        Ok(entry_info(index, &rec, types, text.as_ref()))
    }

    /// Copies one representation's bytes out, in pieces that stay in the
    /// cache. With `verify`, each piece is hashed as it lands and a mismatch
    /// is an error, never data: every byte is read once. Without, the caller
    /// verifies the copy once it has released the lock. Under the lock, or
    /// optimistically (`unlocked.rs`), which verifies after its copy too.
    /// The bytes go into `out`'s buffer if it has the room, else into a new
    /// one, and the type into its `mime`.
    pub(super) fn read_rep(
        &self,
        rec: &IndexRecord,
        info: RepInfo<'_>,
        verify: bool,
        out: &mut Representation,
    ) -> Result<()> {
        let len = usize::try_from(info.data_len).map_err(|_| corrupt(rec.seq, "length"))?;
        let start = rec
            .offset
            .checked_add(info.data_offset)
            .ok_or_else(|| corrupt(rec.seq, "range"))?;
        let data = &mut out.data;
        if data.capacity() >= len {
            data.clear();
        } else {
            *data = Segment::arena_out_buffer(len);
        }
        let mut hasher = verify.then(|| record::rep_hasher(info.mime.as_bytes(), info.data_len));
        let mut at = start;
        while data.len() < len {
            let from = data.len();
            let piece = READ_PIECE.min(len - from);
            self.seg
                .arena_read_append(at, piece, data)
                .map_err(|_| corrupt(rec.seq, "range"))?;
            if let Some(hasher) = &mut hasher {
                hasher.update(&data[from..]);
            }
            at += piece as u64;
        }
        if hasher.is_some_and(|h| h.digest() != info.checksum) {
            return Err(mismatch(rec.seq, info.mime));
        }
        if out.mime.capacity() == 0 {
            // A fresh clip: one allocation of the right size, where
            // growing an empty string takes the longer way.
            out.mime = String::from(info.mime);
        } else {
            info.mime.clone_into(&mut out.mime);
        }
        Ok(())
    }

    /// Copies an entry's directory out and parses it. Under the lock, or
    /// optimistically (`unlocked.rs`): every length is checked as it is read.
    ///
    /// The first [`record::SHORT_DIRECTORY`] bytes (or the whole record, if shorter)
    /// are copied at once: they hold the directory of any clip of a few
    /// types, which is then parsed from that one copy. A longer directory is
    /// read in the three steps its lengths take (header, descriptors, MIME
    /// types); three copies into three allocations were half a small
    /// paste's instructions.
    pub(super) fn read_directory<'b>(
        &self,
        rec: &IndexRecord,
        buf: &'b mut DirectoryBuf,
    ) -> Result<Directory<'b>> {
        let seq = rec.seq;
        if rec.len > self.seg.geometry().arena_size {
            return Err(corrupt(seq, "length exceeds the arena"));
        }
        let record_len = usize::try_from(rec.len).map_err(|_| corrupt(seq, "length"))?;
        let first_len = record_len.min(record::SHORT_DIRECTORY);
        self.seg
            .arena_read(rec.offset, &mut buf.short[..first_len])
            .map_err(|_| corrupt(seq, "range"))?;
        let first = &buf.short[..first_len];
        let n = record::rep_count(first).map_err(|e| with_seq(e, seq))?;
        if first.len() >= record::descs_len(n) {
            let dir_len = announced_len(first, n).min(record_len);
            if dir_len <= first.len() {
                return record::parse_directory(&first[..dir_len], rec.len)
                    .map_err(|e| with_seq(e, seq));
            }
        }
        let long = &mut buf.long;
        long.clear();
        long.resize(record::descs_len(n), 0);
        self.seg
            .arena_read(rec.offset, long)
            .map_err(|_| corrupt(seq, "range"))?;
        let dir_len = announced_len(long, n).min(record_len);
        long.resize(dir_len, 0);
        self.seg
            .arena_read(rec.offset, long)
            .map_err(|_| corrupt(seq, "range"))?;
        record::parse_directory(long, rec.len).map_err(|e| with_seq(e, seq))
    }

    /// The first bytes of an entry's text, for its preview. Under the lock.
    /// Of its readable text ([`TextKind`]), the kind that reads best:
    /// plain text, else HTML, else a URI list.
    fn preview_bytes(&self, rec: &IndexRecord, dir: &Directory<'_>) -> Option<PreviewHead> {
        let (kind, mime) = best_text_type(dir.reps().map(|i| i.mime))?;
        let i = dir.reps().find(|i| i.mime == mime)?;
        let most = match kind {
            TextKind::Html => PREVIEW_HTML_BYTES,
            TextKind::Plain | TextKind::UriList => PREVIEW_BYTES,
        };
        let mut bytes = vec![0u8; i.data_len.min(most) as usize];
        let at = rec.offset.checked_add(i.data_offset)?;
        self.seg.arena_read(at, &mut bytes).ok()?;
        Some(PreviewHead { kind, bytes })
    }

    /// The entries, current first.
    pub fn history(&self) -> Result<Vec<EntryInfo>> {
        let mut rows = Vec::new();
        {
            let guard = self.seg.lock()?;
            let live: Vec<IndexRecord> = self.index(&guard)?.live().map(|l| l.rec).collect();
            let mut buf = DirectoryBuf::new();
            for rec in live {
                let Ok(dir) = self.read_directory(&rec, &mut buf) else {
                    tracing::warn!(seq = rec.seq, "skipping a corrupt entry");
                    continue;
                };
                let text = self.preview_bytes(&rec, &dir);
                rows.push((rec, types_of(&dir), text));
            }
        }
        Ok(rows
            .into_iter()
            .enumerate()
            .map(|(index, (rec, types, text))| entry_info(index, &rec, types, text.as_ref()))
            .collect())
    }

    /// The board's status, after reaping dead subscribers.
    pub fn status(&self) -> Result<Status> {
        let subscribers = crate::mailbox::subscribers(&self.seg)?;
        let geo = *self.seg.geometry();
        let guard = self.seg.lock()?;
        let status = self.status_locked(&guard, subscribers, geo.segment_size)?;
        drop(guard);
        Ok(status)
    }

    fn status_locked(
        &self,
        guard: &LockGuard<'_>,
        subscribers: Vec<crate::SubscriberInfo>,
        segment_size: u64,
    ) -> Result<Status> {
        let index = self.index(guard)?;
        let h = |o| self.seg.header_u64(o);
        let last_ns = h(off::LAST_NS);
        Ok(Status {
            name: self.seg.name().to_string(),
            path: self.seg.path().to_owned(),
            owner_uid: self.seg.owner(),
            mode: self.seg.mode(),
            layout_version: crate::LAYOUT_VERSION,
            segment_size,
            capacity: self.capacity(),
            used: index.live().map(|l| l.entry.len).sum(),
            seq: self.seg.seq_cell().load(Ordering::Acquire),
            entries: index.live().len(),
            max_entries: self.seg.index_slots(),
            node_id: self.node_id(),
            lock: LockStats {
                acquisitions: h(off::LOCK_ACQUISITIONS),
                contended: h(off::LOCK_CONTENDED),
                recoveries: h(off::LOCK_RECOVERIES),
            },
            subscribers,
            max_subscribers: self.seg.subscriber_slots(),
            last_change: (last_ns != 0).then(|| LastChange {
                origin: Origin {
                    pid: self.seg.header_u32(off::LAST_PID),
                    kind: OriginKind::from_raw(self.seg.header_u32(off::LAST_KIND)),
                    label: String::new(),
                },
                at: time_of(last_ns),
            }),
        })
    }
}

/// Whether `count` representations of `data_len` bytes in all are copied
/// out first and verified afterwards (see [`VERIFY_LATER_BYTES`]).
pub(super) fn verify_later(count: usize, data_len: u64) -> bool {
    count <= VERIFY_LATER_REPS && data_len <= VERIFY_LATER_BYTES
}

/// The first representation whose bytes fail the checksum in `sums`.
pub(super) fn first_mismatch<'a>(
    reps: &'a [Representation],
    sums: &[u64],
) -> Option<&'a Representation> {
    reps.iter()
        .zip(sums)
        .find(|(rep, sum)| record::checksum(rep.mime.as_bytes(), &rep.data) != **sum)
        .map(|(rep, _)| rep)
}

/// The representation that `get_type(_, mime)` returns: the exact type,
/// else the first that `mime` matches ([`crate::mime_matches`]).
pub(super) fn pick_type<'a>(dir: &Directory<'a>, mime: &str) -> Option<RepInfo<'a>> {
    dir.reps()
        .find(|i| i.mime == mime)
        .or_else(|| dir.reps().find(|i| crate::mime_matches(mime, i.mime)))
}

fn mismatch(seq: u64, mime: &str) -> Error {
    corrupt(seq, &format!("checksum mismatch in {mime}"))
}

/// An entry's types and their sizes, for [`EntryInfo::types`].
fn types_of(dir: &Directory<'_>) -> Vec<(String, u64)> {
    dir.reps()
        .map(|i| (i.mime.to_owned(), i.data_len))
        .collect()
}

/// The first bytes of an entry's readable text, and what kind of text.
struct PreviewHead {
    kind: TextKind,
    bytes: Vec<u8>,
}

fn entry_info(
    index: usize,
    rec: &IndexRecord,
    types: Vec<(String, u64)>,
    text: Option<&PreviewHead>,
) -> EntryInfo {
    EntryInfo {
        index,
        seq: rec.seq,
        created: time_of(rec.created_ns),
        touched: time_of(rec.touched_ns),
        origin: Origin {
            pid: rec.origin_pid,
            kind: OriginKind::from_raw(rec.origin_kind),
            label: rec.label.text().into_owned(),
        },
        pinned: rec.pinned(),
        total_size: rec.total_size,
        types,
        preview: text.map(preview).unwrap_or_default(),
        clip_id: ClipId(rec.clip_id),
        origin_node: NodeId(rec.origin_node),
    }
}

/// At most 80 characters, with newlines and other controls made visible;
/// HTML without its tags and its whitespace runs, a URI list without its
/// comments.
fn preview(head: &PreviewHead) -> String {
    let text = String::from_utf8_lossy(&head.bytes);
    let text = match head.kind {
        TextKind::Plain => text,
        TextKind::Html => Cow::Owned(
            strip_tags(&text)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        ),
        TextKind::UriList => Cow::Owned(uri_lines(&text)),
    };
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == 80 {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push('⏎'),
            '\t' => out.push(' '),
            '\u{fffd}' if i + 1 == text.chars().count() => {}
            c if c.is_control() => out.push('·'),
            c => out.push(c),
        }
    }
    out
}
