//! Writing to a board: copy and restore, select, pin, delete and clear, and
//! the removal log. Each is constant work whatever the depth (LAYOUT.md,
//! "Rules"), but for delete of the current clip and clear, which scan.
//!
//! Over 400 lines, yet one concept: every write goes through the same
//! place/commit/notify path (`commit_clip`, `mutate`), which splitting would scatter.

use super::{Board, Failure, Provenance, Selector, now_ns, ns_of};
use crate::format::{
    Change, FLAG_PINNED, IndexRecord, Label, MAX_REPS, RemovalKind, SLOT_COMMITTED, SLOT_WRITING,
    off,
};
use crate::history::aligned;
use crate::ids::ClipId;
use crate::lock::LockGuard;
use crate::record::{Encoded, SHORT_DIRECTORY};
use crate::ring::{Fault, Ring, Room, Slot};
use crate::{Clip, CopyOutcome, Error, Origin, Result};

/// Bytes copied (and hashed) per piece: well inside the L2 cache, so the
/// hash reads what the copy just brought in.
const COPY_PIECE: usize = 64 << 10;

/// What a new record is made from: a clip, or an entry's record moved whole.
enum Source<'a> {
    Clip(&'a Encoded<'a>),
    Record {
        bytes: &'a [u8],
        content_hash: u64,
        total_size: u64,
        rep_count: u32,
    },
}

impl Source<'_> {
    fn len(&self) -> u64 {
        match self {
            Source::Clip(enc) => enc.len,
            Source::Record { bytes, .. } => bytes.len() as u64,
        }
    }

    /// Known before the copy for a moved record; a clip's comes out of it.
    fn content_hash(&self) -> u64 {
        match self {
            Source::Clip(_) => 0,
            Source::Record { content_hash, .. } => *content_hash,
        }
    }

    fn total_size(&self) -> u64 {
        match self {
            Source::Clip(enc) => enc.total_size(),
            Source::Record { total_size, .. } => *total_size,
        }
    }

    fn rep_count(&self) -> u32 {
        match self {
            Source::Clip(enc) => enc.rep_count(),
            Source::Record { rep_count, .. } => *rep_count,
        }
    }
}

/// A clip encoded and given its identity, ready to be placed under the lock.
pub(super) struct Prepared<'a> {
    enc: Encoded<'a>,
    ident: Identity<'a>,
    /// The clip id of a restore: an entry holding it already is moved.
    held_id: Option<ClipId>,
    size: u64,
    now: u64,
}

impl<'a> Prepared<'a> {
    /// If an entry whose clip id is in `kept` holds the same content, the
    /// new one replaces it in place, with its identity, instead of moving.
    pub(super) fn keeping(mut self, kept: &'a [ClipId]) -> Self {
        self.ident.kept = kept;
        self
    }
}

/// Who a new entry is and who wrote it.
struct Identity<'a> {
    /// The entry's seq (`paste --seq`); `None`: the commit's.
    entry_seq: Option<u64>,
    clip_id: [u8; 16],
    origin_node: [u8; 16],
    origin: &'a Origin,
    created_ns: u64,
    touched_ns: u64,
    flags: u32,
    /// Identical content already on the board lends the new entry its
    /// identity and is removed: a plain copy. A restore with its own clip id
    /// keeps that id.
    dedup_takes_identity: bool,
    /// Clip ids whose entries an identical new one replaces in place
    /// (restore below): it takes their identity and their order, so the
    /// kept entry stays where it was instead of the restore moving it.
    kept: &'a [ClipId],
}

/// The removal log from a given removal number on: what `delete` and
/// `clear` took off the board (never evictions).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemovalLog {
    /// Oldest first.
    pub removals: Vec<Removal>,
    /// The number to ask from next time.
    pub next: u64,
    /// Removals that were logged but are gone from the log (it keeps 64):
    /// the caller must compare the whole board instead.
    pub missed: u64,
}

/// One removal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Removal {
    /// The seq that published it.
    pub seq: u64,
    pub kind: RemovalKind,
    /// The deleted clip, for [`RemovalKind::Deleted`].
    pub clip_id: Option<ClipId>,
}

impl Board {
    /// Commits `clip` as the new current clip, then notifies every mailbox.
    pub fn copy(&self, clip: &Clip) -> Result<CopyOutcome> {
        self.commit_clip(clip, None)
    }

    /// Commits `clip` as the new current clip with the identity, origin,
    /// times and pin it had before, for a restore from disk or another
    /// machine: a restored entry must not look as if this process had just
    /// copied it. A clip id the board already holds is only made current.
    pub fn restore(&self, clip: &Clip, provenance: &Provenance) -> Result<CopyOutcome> {
        self.commit_clip(clip, Some(provenance))
    }

    fn commit_clip(&self, clip: &Clip, provenance: Option<&Provenance>) -> Result<CopyOutcome> {
        let prepared = self.prepare(clip, provenance)?;
        let guard = self.seg.lock()?;
        self.commit_prepared(guard, &prepared, |_, _| Ok(()))
            .map(|(outcome, ())| outcome)
    }

    /// Everything slower than memcpy, before the lock: the encoding and
    /// the new entry's identity.
    pub(super) fn prepare<'a>(
        &'a self,
        clip: &'a Clip,
        provenance: Option<&'a Provenance>,
    ) -> Result<Prepared<'a>> {
        let enc = Encoded::new(clip)?;
        let arena = self.capacity();
        if aligned(enc.len) > arena {
            return Err(too_large(&Source::Clip(&enc), arena));
        }
        let now = now_ns();
        let ident = match provenance {
            None => Identity {
                entry_seq: None,
                clip_id: ClipId::random().0,
                origin_node: self.seg.node_id(),
                origin: &self.origin,
                created_ns: now,
                touched_ns: now,
                flags: 0,
                dedup_takes_identity: true,
                kept: &[],
            },
            Some(p) => Identity {
                entry_seq: None,
                clip_id: p.clip_id.unwrap_or_else(ClipId::random).0,
                origin_node: p.origin_node.map_or(self.seg.node_id(), |n| n.0),
                origin: &p.origin,
                created_ns: ns_of(p.created),
                touched_ns: ns_of(p.touched),
                flags: if p.pinned { FLAG_PINNED } else { 0 },
                dedup_takes_identity: p.clip_id.is_none(),
                kept: &[],
            },
        };
        Ok(Prepared {
            enc,
            ident,
            held_id: provenance.and_then(|p| p.clip_id),
            size: clip.total_size(),
            now,
        })
    }

    /// Commits a prepared clip as current (or, if the board holds its clip
    /// id, makes that entry current), then lets `rank` move it in the
    /// history, under the same lock, before the commit is published and
    /// the mailboxes are notified. What `rank` returns is passed on.
    pub(super) fn commit_prepared<T>(
        &self,
        guard: LockGuard<'_>,
        p: &Prepared<'_>,
        rank: impl Fn(&Ring<'_>, u64) -> std::result::Result<T, Failure>,
    ) -> Result<(CopyOutcome, T)> {
        let now = p.now;
        let (seq, outcome) = {
            let seq = self.next_seq()?;
            let held = match p.held_id {
                Some(id) => self.find(&guard, Selector::Clip(id)).ok(),
                None => None,
            };
            let outcome = match held {
                Some(s) => self
                    .with_ring(&guard, |ring| self.bring_to_front(ring, &s, seq, now))
                    .map(|()| CopyOutcome {
                        seq,
                        entry_seq: s.rec.seq,
                        deduplicated: true,
                        clip_id: ClipId(s.rec.clip_id),
                    }),
                None => self.with_ring(&guard, |ring| {
                    self.place(ring, &Source::Clip(&p.enc), &p.ident, seq)
                }),
            };
            let outcome = outcome.and_then(|outcome| {
                let below = self.with_ring(&guard, |ring| rank(ring, seq))?;
                Ok((outcome, below))
            });
            // Published even if it failed half-way: LAYOUT.md's rules.
            self.commit(&guard, seq, now);
            drop(guard);
            (seq, outcome)
        };
        self.notify(seq, now, Change::Copy);
        let outcome = outcome?;
        tracing::debug!(
            seq = outcome.0.seq,
            size = p.size,
            dedup = outcome.0.deduplicated,
            "copied"
        );
        Ok(outcome)
    }

    /// Places a new record at the ring's end and commits it as current.
    fn place(
        &self,
        ring: &Ring<'_>,
        source: &Source<'_>,
        ident: &Identity<'_>,
        seq: u64,
    ) -> std::result::Result<CopyOutcome, Failure> {
        let len = source.len();
        let park_evict = || {
            // A victim freed (its bytes zeroed once the room is found, but
            // for those the new record covers), the new record not yet placed.
            #[cfg(feature = "test-hooks")]
            crate::test_hooks::park_if_asked("evict");
        };
        let (room, first) = ring.make_room(len, park_evict)?;
        let (offset, first) = match room {
            Room::At(offset) => (offset, first),
            Room::NeedsCompaction => (self.compact(ring, source)?, None),
        };
        // Before the range is claimed: a full /dev/shm stops the copy here,
        // with nothing written.
        self.seg.back_arena(offset, aligned(len))?;
        let slot = if let Some(slot) = ring.take_free()? {
            slot
        } else {
            let victim = ring.oldest_unpinned(first)?.ok_or(Error::HistoryFull)?;
            ring.remove(&victim)?;
            park_evict();
            ring.take_free()?
                .ok_or(Fault("no free slot after an eviction"))?
        };
        let mut s = Slot {
            slot,
            rec: IndexRecord {
                state: SLOT_WRITING,
                flags: ident.flags,
                seq: ident.entry_seq.unwrap_or(seq),
                order: seq,
                created_ns: ident.created_ns,
                touched_ns: ident.touched_ns,
                offset,
                len,
                content_hash: source.content_hash(),
                total_size: source.total_size(),
                origin_pid: ident.origin.pid,
                origin_kind: ident.origin.kind.to_raw(),
                rep_count: source.rep_count(),
                label: Label::new(&ident.origin.label),
                clip_id: ident.clip_id,
                origin_node: ident.origin_node,
                meta_ok: true,
                ..IndexRecord::default()
            },
        };
        // Claim the range first: a writer killed past this point leaves a
        // slot in state 1, which repair discards.
        ring.append(&mut s)?;
        self.seg
            .set_header_u64(off::RING_HEAD, offset + aligned(len));
        s.rec.content_hash = self.write_source(offset, source)?;
        let mut outcome = CopyOutcome {
            seq,
            entry_seq: s.rec.seq,
            deduplicated: false,
            clip_id: ClipId(s.rec.clip_id),
        };
        if let Some(dup) = ring.find_duplicate(s.rec.content_hash, len, slot)? {
            let kept = ident.kept.contains(&ClipId(dup.rec.clip_id));
            if kept {
                // Its place too: it was ranked by what the caller keeps.
                s.rec.order = dup.rec.order;
            }
            if ident.dedup_takes_identity || kept {
                s.rec.clip_id = dup.rec.clip_id;
                s.rec.origin_node = dup.rec.origin_node;
                s.rec.created_ns = dup.rec.created_ns;
                s.rec.seq = dup.rec.seq;
                outcome.entry_seq = dup.rec.seq;
                outcome.clip_id = ClipId(dup.rec.clip_id);
                outcome.deduplicated = true;
            }
            s.rec.flags |= dup.rec.flags & FLAG_PINNED;
            ring.remove(&dup)?;
            // The old copy gone, the new one not yet committed.
            #[cfg(feature = "test-hooks")]
            crate::test_hooks::park_if_asked("dedup");
        }
        ring.commit(&mut s)?;
        Ok(outcome)
    }

    /// Copies the record in and returns its content hash. A clip's bytes
    /// go straight from the caller's buffers into the arena, in pieces
    /// small enough to stay in the cache, and each piece is hashed right
    /// after it is copied: every payload byte is read once. The directory,
    /// which holds the checksums, is written last.
    fn write_source(&self, offset: u64, source: &Source<'_>) -> Result<u64> {
        let enc = match source {
            Source::Clip(enc) => enc,
            Source::Record {
                bytes,
                content_hash,
                ..
            } => {
                self.seg.arena_write(offset, bytes)?;
                return Ok(*content_hash);
            }
        };
        let mut at = offset + enc.dir_len as u64;
        // On the stack: a Vec here was an allocation (and a free) in every
        // copy, about 140 of a small copy's 4 700 instructions (callgrind).
        let mut checksums = [0u64; MAX_REPS as usize];
        let reps = enc.reps();
        for ((i, rep), sum) in reps.iter().enumerate().zip(&mut checksums) {
            let mut hasher = crate::record::rep_hasher(rep.mime.as_bytes(), rep.data.len() as u64);
            let (first, second) = rep.data.split_at(rep.data.len() / 2);
            for (k, part) in [first, second].into_iter().enumerate() {
                for piece in part.chunks(COPY_PIECE) {
                    self.seg.arena_write(at, piece)?;
                    hasher.update(piece);
                    at += piece.len() as u64;
                }
                // Half a representation copied, the directory not written.
                #[cfg(feature = "test-hooks")]
                if i == 0 && k == 0 {
                    crate::test_hooks::park_if_asked("copy");
                }
                let _ = (i, k);
            }
            *sum = hasher.digest();
        }
        // `Encoded::new` refused more than MAX_REPS representations. A
        // directory of a few types fits on the stack; a longer one (up to
        // 64 types of 255 bytes) goes into a Vec.
        let checksums = &checksums[..reps.len()];
        let mut small = [0u8; SHORT_DIRECTORY];
        let mut large = Vec::new();
        let directory = if enc.dir_len <= SHORT_DIRECTORY {
            &mut small[..enc.dir_len]
        } else {
            large.resize(enc.dir_len, 0);
            &mut large[..]
        };
        enc.write_directory(checksums, directory);
        self.seg.arena_write(offset, directory)?;
        Ok(crate::format::xxh3_64(directory))
    }

    /// The rare fallback when pinned records break the ring up so that no
    /// gap fits: evicts every unpinned entry, packs the pinned ones from
    /// offset 0 (each move towards lower offsets, re-indexed before the
    /// next), and returns the offset after them. O(depth + bytes).
    fn compact(&self, ring: &Ring<'_>, source: &Source<'_>) -> std::result::Result<u64, Failure> {
        let arena = self.capacity();
        let mut live: Vec<Slot> = (0..self.seg.index_slots() as u32)
            .filter_map(|slot| ring.live(slot).ok())
            .filter(|s| s.rec.state == SLOT_COMMITTED)
            .collect();
        let pinned: u64 = live
            .iter()
            .filter(|s| s.rec.pinned())
            .map(|s| aligned(s.rec.len))
            .sum();
        if aligned(source.len()) > arena.saturating_sub(pinned) {
            return Err(too_large(source, arena.saturating_sub(pinned)).into());
        }
        for s in live.iter().filter(|s| !s.rec.pinned()) {
            ring.remove(s)?;
        }
        live.retain(|s| s.rec.pinned());
        live.sort_by_key(|s| s.rec.offset);
        let mut to = 0;
        for s in &mut live {
            if s.rec.offset != to {
                self.seg.arena_move(s.rec.offset, to, s.rec.len)?;
                // The bytes moved, the slot still names the old offset.
                #[cfg(feature = "test-hooks")]
                crate::test_hooks::park_if_asked("compact");
                s.rec.offset = to;
                self.seg.write_index(s.slot as usize, &s.rec)?;
            }
            to += aligned(s.rec.len);
        }
        self.seg.set_header_u64(off::RING_HEAD, to);
        crate::ring::rebuild(&self.seg);
        Ok(to)
    }

    /// Makes committed entry `s` current: in place if its record is the
    /// ring's newest already, else by copying the record to the ring's end
    /// (keeping its identity) and freeing the old place, so that eviction
    /// keeps taking the least recently used first.
    pub(super) fn bring_to_front(
        &self,
        ring: &Ring<'_>,
        s: &Slot,
        seq: u64,
        now: u64,
    ) -> std::result::Result<(), Failure> {
        let mut s = ring.live(s.slot)?;
        if s.rec.state != SLOT_COMMITTED {
            return Err(Fault("selected entry not committed").into());
        }
        if self.seg.header_u32(off::RING_LAST) == s.slot {
            s.rec.order = seq;
            s.rec.touched_ns = now;
            self.seg.write_index(s.slot as usize, &s.rec)?;
            ring.set_current(&s);
            return Ok(());
        }
        let mut bytes = vec![0u8; usize::try_from(s.rec.len).map_err(|_| Fault("length"))?];
        self.seg.arena_read(s.rec.offset, &mut bytes)?;
        let origin = Origin {
            pid: s.rec.origin_pid,
            kind: crate::OriginKind::from_raw(s.rec.origin_kind),
            label: s.rec.label.text().into_owned(),
        };
        let ident = Identity {
            entry_seq: Some(s.rec.seq),
            clip_id: s.rec.clip_id,
            origin_node: s.rec.origin_node,
            origin: &origin,
            created_ns: s.rec.created_ns,
            touched_ns: now,
            flags: s.rec.flags,
            dedup_takes_identity: false,
            kept: &[],
        };
        let source = Source::Record {
            bytes: &bytes,
            content_hash: s.rec.content_hash,
            total_size: s.rec.total_size,
            rep_count: s.rec.rep_count,
        };
        // Making room may evict the old place (we hold its bytes), and the
        // new copy may reuse its slot; else the dedup step removed it.
        self.place(ring, &source, &ident, seq)?;
        Ok(())
    }

    /// Runs `change` on one entry under the lock, then commits and notifies.
    fn mutate(
        &self,
        which: Selector,
        change: Change,
        op: impl Fn(&Self, &Ring<'_>, &Slot, u64, u64) -> std::result::Result<(), Failure>,
    ) -> Result<u64> {
        let guard = self.seg.lock()?;
        self.mutate_locked(guard, which, change, op)
    }

    /// [`Board::mutate`], but only if the board's seq is still `seen`:
    /// `None`, and nothing done, if another commit came.
    pub(super) fn mutate_if(
        &self,
        which: Selector,
        seen: u64,
        change: Change,
        op: impl Fn(&Self, &Ring<'_>, &Slot, u64, u64) -> std::result::Result<(), Failure>,
    ) -> Result<Option<u64>> {
        let guard = self.seg.lock()?;
        // Every commit stores the seq under the lock: it cannot move now.
        if self.seq() != seen {
            return Ok(None);
        }
        self.mutate_locked(guard, which, change, op).map(Some)
    }

    /// The body of [`Board::mutate`], with the lock held: it is released
    /// before the notes go out.
    fn mutate_locked(
        &self,
        guard: LockGuard<'_>,
        which: Selector,
        change: Change,
        op: impl Fn(&Self, &Ring<'_>, &Slot, u64, u64) -> std::result::Result<(), Failure>,
    ) -> Result<u64> {
        let now = now_ns();
        let (seq, changed) = {
            let s = self.find(&guard, which)?;
            let seq = self.next_seq()?;
            let changed = self.with_ring(&guard, |ring| op(self, ring, &s, seq, now));
            self.commit(&guard, seq, now);
            drop(guard);
            (seq, changed)
        };
        self.notify(seq, now, change);
        changed.map(|()| seq)
    }

    /// Makes an entry current. Returns the commit seq.
    pub fn select(&self, which: Selector) -> Result<u64> {
        self.mutate(which, Change::Select, |b, ring, s, seq, now| {
            b.bring_to_front(ring, s, seq, now)
        })
    }

    /// Makes an entry current if nothing was committed since the board's
    /// seq was `seen`; returns the commit seq, or `None` (and changes
    /// nothing) if something was. A process that decided from what it read
    /// at `seen` (the bridge: "no newer local copy, so this clip is
    /// current") can then never select over a copy made after its look;
    /// it reads again and decides again.
    pub fn select_if_unchanged(&self, which: Selector, seen: u64) -> Result<Option<u64>> {
        self.mutate_if(which, seen, Change::Select, |b, ring, s, seq, now| {
            b.bring_to_front(ring, s, seq, now)
        })
    }

    /// Pins or unpins an entry. Returns the commit seq.
    pub fn set_pinned(&self, which: Selector, pinned: bool) -> Result<u64> {
        self.mutate(which, Change::Pin, |b, ring, s, _, _| {
            let mut s = ring.live(s.slot)?;
            if pinned {
                s.rec.flags |= FLAG_PINNED;
            } else {
                s.rec.flags &= !FLAG_PINNED;
            }
            b.seg.write_index(s.slot as usize, &s.rec)?;
            Ok(())
        })
    }

    /// Deletes an entry and overwrites its bytes. Returns the commit seq.
    pub fn delete(&self, which: Selector) -> Result<u64> {
        self.mutate(which, Change::Delete, |_, ring, s, seq, _| {
            let s = ring.live(s.slot)?;
            ring.remove(&s)?;
            ring.log_removal(seq, RemovalKind::Deleted, s.rec.clip_id);
            if ring.current()?.is_none() {
                ring.recompute_current();
            }
            Ok(())
        })
    }

    /// Deletes every unpinned entry (every entry with `all`) and overwrites
    /// their bytes. Returns how many were removed.
    pub fn clear(&self, all: bool) -> Result<usize> {
        let now = now_ns();
        let (removed, seq) = {
            let guard = self.seg.lock()?;
            let seq = self.next_seq()?;
            let removed = self.remove_all(&guard, all);
            if removed.is_ok() {
                let kind = if all {
                    RemovalKind::ClearedAll
                } else {
                    RemovalKind::Cleared
                };
                Ring::new(&self.seg).log_removal(seq, kind, [0; 16]);
            }
            self.commit(&guard, seq, now);
            (removed, seq)
        };
        self.notify(seq, now, Change::Clear);
        removed
    }

    /// Removes every unpinned entry (every entry with `all`). Under the lock.
    pub(super) fn remove_all(&self, guard: &LockGuard<'_>, all: bool) -> Result<usize> {
        self.with_ring(guard, |ring| {
            let mut removed = 0;
            for slot in 0..self.seg.index_slots() as u32 {
                let Ok(s) = ring.live(slot) else { continue };
                if s.rec.state == SLOT_COMMITTED && (all || !s.rec.pinned()) {
                    ring.remove(&s)?;
                    removed += 1;
                }
            }
            ring.recompute_current();
            Ok(removed)
        })
    }

    /// The removal log from removal number `from` on (0 for all it holds).
    pub fn removals_since(&self, from: u64) -> Result<RemovalLog> {
        let guard = self.seg.lock()?;
        Ok(self.removal_log(&guard, from))
    }
}

/// `ClipTooLarge` for `source` on a board with `room` bytes for it.
fn too_large(source: &Source<'_>, room: u64) -> Error {
    let framing = source.len() - source.total_size();
    Error::ClipTooLarge {
        size: source.total_size(),
        capacity: (room & !7).saturating_sub(framing),
    }
}
