//! The public `Board`: copy, paste, history operations and subscriptions.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::format::IndexRecord;
use crate::format::{FLAG_PINNED, SLOT_COMMITTED, SLOT_WRITING, off};
use crate::history::{self, Entry, NoRoom};
use crate::index_cache::{IndexCache, Live};
use crate::lock::LockGuard;
use crate::mailbox::{self, Notifier};
use crate::record::{self, Encoded, RepInfo};
use crate::segment::Segment;
use crate::{
    BoardName, Clip, CreateOptions, EntryInfo, Error, LastChange, LockStats, Notification, Origin,
    OriginKind, Representation, Result, Status, Subscription,
};

/// Which history entry an operation acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selector {
    /// The current clip (index 0).
    Current,
    /// The entry at this history position; 0 is current.
    Index(usize),
    /// The entry created at this seq.
    Seq(u64),
}

/// What a copy did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopyOutcome {
    /// The commit seq of the copy.
    pub seq: u64,
    /// The seq that names the entry (what `Selector::Seq` and `history`
    /// use): `seq` for new content, the original entry's seq when
    /// `deduplicated`.
    pub entry_seq: u64,
    /// The same content was already in history and was moved to the front.
    pub deduplicated: bool,
}

/// An open board. Cheap to share between threads (`Send + Sync`).
pub struct Board {
    seg: Arc<Segment>,
    origin: Origin,
    notifier: Mutex<Notifier>,
    /// Locked only while holding the board lock, after it.
    index: Mutex<IndexCache>,
}

impl Board {
    /// Opens board `name`, creating it with the default sizes if it does
    /// not exist. Reads no file of the user's: to create boards with the
    /// sizes of config.toml, load it ([`Config::load`](crate::Config::load))
    /// and pass its [`Config::create_options`](crate::Config::create_options)
    /// to [`Board::open_with`], as the CLI and the app do.
    pub fn open(name: &BoardName, kind: OriginKind) -> Result<Board> {
        Self::open_with(
            name,
            Origin::this_process(kind),
            Some(CreateOptions::default()),
        )
    }

    /// Opens board `name` as `origin`. With `create`, a missing board is
    /// created with those sizes; without, a missing board is `NoSuchBoard`.
    pub fn open_with(
        name: &BoardName,
        origin: Origin,
        create: Option<CreateOptions>,
    ) -> Result<Board> {
        let seg = Segment::open(name, create, crate::repair::repair)?;
        Ok(Board {
            seg: Arc::new(seg),
            origin,
            notifier: Mutex::new(Notifier::default()),
            index: Mutex::new(IndexCache::default()),
        })
    }

    /// The board's name.
    #[must_use]
    pub fn name(&self) -> &BoardName {
        self.seg.name()
    }

    /// Who this handle writes as.
    #[must_use]
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The size of the board's data arena, fixed at creation. Read without the lock.
    #[must_use]
    pub fn capacity(&self) -> u64 {
        self.seg.geometry().arena_size
    }

    /// The largest single-representation clip of type `mime` that fits on an
    /// empty board: the arena less the record's framing.
    #[must_use]
    pub fn max_clip_size(&self, mime: &str) -> u64 {
        let framing = (record::descs_len(1) + mime.len()) as u64;
        // Records start 8-byte aligned, so only whole 8-byte units of the arena count.
        (self.capacity() & !7).saturating_sub(framing)
    }

    /// Commits `clip` as the new current clip, then notifies every mailbox.
    pub fn copy(&self, clip: &Clip) -> Result<CopyOutcome> {
        self.commit_clip(clip, None)
    }

    /// Commits `clip` as the new current clip with the origin, times and pin
    /// it had before, for a restore from disk: a restored entry must not
    /// look as if this process had just copied it. Identical content already
    /// on the board is only moved to the front.
    pub fn restore(&self, clip: &Clip, provenance: &Provenance) -> Result<CopyOutcome> {
        self.commit_clip(clip, Some(provenance))
    }

    fn commit_clip(&self, clip: &Clip, provenance: Option<&Provenance>) -> Result<CopyOutcome> {
        // Everything slower than memcpy happens here, before the lock.
        let enc = Encoded::new(clip)?;
        let arena = self.seg.geometry().arena_size;
        if history::aligned(enc.len) > arena {
            return Err(Error::ClipTooLarge {
                size: clip.total_size(),
                capacity: max_payload(arena, &enc),
            });
        }
        let now = now_ns();
        let meta = match provenance {
            None => EntryMeta {
                origin: &self.origin,
                created_ns: now,
                touched_ns: now,
                flags: 0,
            },
            Some(p) => EntryMeta {
                origin: &p.origin,
                created_ns: ns_of(p.created),
                touched_ns: ns_of(p.touched),
                flags: if p.pinned { FLAG_PINNED } else { 0 },
            },
        };
        let (seq, written, entry_seq) = {
            let guard = self.seg.lock()?;
            let mut index = self.index(&guard)?;
            let seq = self.next_seq()?;
            // By offset: what placement wants, so its sort finds one run.
            let entries: Vec<Entry> = index.by_offset().map(|l| l.entry.clone()).collect();
            let duplicate = history::find_duplicate(&entries, enc.content_hash, enc.len);
            let written = if let Some(dup) = duplicate {
                // Same content again: move it to the front instead of storing it twice.
                let rec = index.at(dup.slot).expect("duplicate is live").rec.clone();
                let moved = self.seg.write_index(
                    dup.slot,
                    &IndexRecord {
                        order: seq,
                        touched_ns: meta.touched_ns,
                        flags: rec.flags | meta.flags,
                        ..stamped(&rec, meta.origin)
                    },
                );
                // Moved to the front, not yet published.
                #[cfg(feature = "test-hooks")]
                crate::test_hooks::park_if_asked("dedup");
                moved.map(|()| vec![dup.slot])
            } else {
                // A plan that fails has written nothing: no commit.
                let plan = self.plan(&entries, &enc)?;
                self.insert(&index, &plan, &enc, seq, &meta)
                    .map(|()| plan.touched())
            };
            self.publish(&guard, &mut index, seq, now, written.as_deref().ok());
            (seq, written, duplicate.map_or(seq, |dup| dup.seq))
        };
        self.notify(seq, now);
        written?;
        let outcome = CopyOutcome {
            seq,
            entry_seq,
            deduplicated: entry_seq != seq,
        };
        tracing::debug!(
            seq = outcome.seq,
            size = clip.total_size(),
            hash = format_args!("{:016x}", enc.content_hash),
            dedup = outcome.deduplicated,
            "copied"
        );
        Ok(outcome)
    }

    /// Where a new record goes and what must make room for it.
    fn plan(&self, entries: &[Entry], enc: &Encoded<'_>) -> Result<history::Plan> {
        let arena = self.seg.geometry().arena_size;
        history::plan_insert(entries, self.seg.index_slots(), arena, enc.len).map_err(|e| match e {
            NoRoom::TooLarge { max } => Error::ClipTooLarge {
                size: enc.total_size(),
                capacity: max_payload(max, enc),
            },
            NoRoom::HistoryFull => Error::HistoryFull,
        })
    }

    /// Places a new record: evict, compact if needed, claim a slot, copy.
    fn insert(
        &self,
        index: &IndexCache,
        plan: &history::Plan,
        enc: &Encoded<'_>,
        seq: u64,
        meta: &EntryMeta<'_>,
    ) -> Result<()> {
        let find = |slot| index.at(slot).expect("planned slots are live");
        for &slot in &plan.evict {
            let l = find(slot);
            self.erase(slot, l.entry.offset, l.entry.len)?;
            // A victim freed and zeroed, the new record not yet placed.
            #[cfg(feature = "test-hooks")]
            crate::test_hooks::park_if_asked("evict");
        }
        for m in &plan.moves {
            self.seg.arena_move(m.from, m.to, m.len)?;
            // The bytes moved, the slot still names the old offset.
            #[cfg(feature = "test-hooks")]
            crate::test_hooks::park_if_asked("compact");
            self.seg.write_index(
                m.slot,
                &IndexRecord {
                    offset: m.to,
                    ..find(m.slot).rec.clone()
                },
            )?;
        }
        let rec = stamped(
            &IndexRecord {
                state: SLOT_WRITING,
                flags: meta.flags,
                seq,
                order: seq,
                created_ns: meta.created_ns,
                touched_ns: meta.touched_ns,
                offset: plan.offset,
                len: enc.len,
                content_hash: enc.content_hash,
                total_size: enc.total_size(),
                rep_count: enc.rep_count(),
                meta_ok: true,
                ..IndexRecord::default()
            },
            meta.origin,
        );
        // Claim the range first: a writer killed past this point leaves a
        // WRITING slot, which repair discards.
        self.seg.write_index(plan.slot, &rec)?;
        self.write_record(plan.offset, enc)?;
        self.seg.set_index_state(plan.slot, SLOT_COMMITTED)
    }

    fn write_record(&self, offset: u64, enc: &Encoded<'_>) -> Result<()> {
        self.seg.arena_write(offset, &enc.directory)?;
        let mut at = offset + enc.directory.len() as u64;
        for data in enc.payloads() {
            #[cfg(feature = "test-hooks")]
            if crate::test_hooks::armed()
                && let Some(half) = data.get(..data.len() / 2)
            {
                self.seg.arena_write(at, half)?;
                crate::test_hooks::park_if_asked("copy");
            }
            self.seg.arena_write(at, data)?;
            at += data.len() as u64;
        }
        Ok(())
    }

    /// Frees a slot, then overwrites its bytes so no deleted secret remains.
    fn erase(&self, slot: usize, offset: u64, len: u64) -> Result<()> {
        self.seg.clear_index(slot)?;
        self.seg.arena_zero(offset, len)
    }

    /// `erase` for `delete` and `clear`, with a park point between
    /// freeing the slot and zeroing its bytes.
    fn wipe_entry(&self, slot: usize, offset: u64, len: u64) -> Result<()> {
        self.seg.clear_index(slot)?;
        #[cfg(feature = "test-hooks")]
        crate::test_hooks::park_if_asked("wipe");
        self.seg.arena_zero(offset, len)
    }

    /// The seq the next commit publishes. Taken before any change: `seq`
    /// never goes back, so a forged `u64::MAX` leaves no commit possible,
    /// and a change that could not be published must not be made.
    fn next_seq(&self) -> Result<u64> {
        self.seg
            .seq_cell()
            .load(Ordering::Relaxed)
            .checked_add(1)
            .ok_or_else(|| Error::CorruptHeader {
                path: self.seg.path().to_owned(),
                what: "seq is at its maximum, so no change can be published".into(),
            })
    }

    /// Commits a change, or what a failed one may have written (`None`): a
    /// new seq tells every handle's cache that the index may have changed.
    /// Our own cache reads back the slots we wrote, or forgets everything.
    fn publish(
        &self,
        guard: &LockGuard<'_>,
        index: &mut IndexCache,
        seq: u64,
        now: u64,
        written: Option<&[usize]>,
    ) {
        self.commit(guard, seq, now);
        match written {
            Some(slots) if index.note_written(&self.seg, guard, slots).is_ok() => {}
            _ => index.invalidate(),
        }
    }

    /// Publishes a change under the lock: seq last, with release ordering.
    fn commit(&self, _guard: &LockGuard<'_>, seq: u64, now: u64) {
        self.seg.set_header_u32(off::LAST_PID, self.origin.pid);
        self.seg
            .set_header_u32(off::LAST_KIND, self.origin.kind.to_raw());
        self.seg.set_header_u64(off::LAST_NS, now);
        // The change is made, its seq not yet published.
        #[cfg(feature = "test-hooks")]
        crate::test_hooks::park_if_asked("commit");
        self.seg.seq_cell().store(seq, Ordering::Release);
        // Usually one header read: the table is re-read only when it changed.
        self.notifier
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .refresh(&self.seg);
    }

    /// After unlocking: one non-blocking send per mailbox.
    fn notify(&self, seq: u64, now: u64) {
        let mut notifier = self.notifier.lock().unwrap_or_else(PoisonError::into_inner);
        let note = Notification {
            seq,
            origin_pid: self.origin.pid,
            origin_kind: self.origin.kind,
            committed_at: UNIX_EPOCH + Duration::from_nanos(now),
            coalesced: 1,
        };
        if notifier.send(&note) {
            drop(notifier);
            mailbox::reap_dead(&self.seg);
        }
    }

    /// The index cache, brought up to date. Under the board lock.
    fn index(&self, guard: &LockGuard<'_>) -> Result<MutexGuard<'_, IndexCache>> {
        let mut index = self.index.lock().unwrap_or_else(PoisonError::into_inner);
        index.refresh(&self.seg, guard)?;
        Ok(index)
    }

    /// Every committed entry, current first.
    fn live_entries(&self, guard: &LockGuard<'_>) -> Result<Vec<Live>> {
        Ok(self.index(guard)?.live().cloned().collect())
    }

    fn find(&self, guard: &LockGuard<'_>, which: Selector) -> Result<Live> {
        let index = self.index(guard)?;
        let found = match which {
            Selector::Current => index.current(),
            Selector::Index(i) => index.live().nth(i),
            Selector::Seq(s) => index.live().find(|l| l.entry.seq == s),
        };
        if let Some(l) = found {
            return Ok(l.clone());
        }
        let entries = index.live().len();
        Err(match which {
            Selector::Current => Error::Empty,
            Selector::Index(i) => Error::NoSuchEntry {
                what: format!("index {i} (history has {entries} entries)"),
            },
            Selector::Seq(s) => Error::NoSuchEntry {
                what: format!("seq {s}"),
            },
        })
    }

    /// The current clip; `Error::Empty` on an empty board.
    pub fn paste(&self) -> Result<Clip> {
        self.get(Selector::Current)
    }

    /// The clip of an entry, with every representation verified.
    pub fn get(&self, which: Selector) -> Result<Clip> {
        let (seq, parts) = {
            let guard = self.seg.lock()?;
            let l = self.find(&guard, which)?;
            let (infos, _) = self.read_directory(&l)?;
            // Each representation goes straight into its own buffer: one copy.
            let mut parts = Vec::with_capacity(infos.len());
            for info in infos {
                let len =
                    usize::try_from(info.data_len).map_err(|_| corrupt(l.entry.seq, "length"))?;
                let mut data = vec![0u8; len];
                self.seg
                    .arena_read(l.entry.offset + info.data_offset, &mut data)
                    .map_err(|_| corrupt(l.entry.seq, "range"))?;
                parts.push((info, data));
            }
            (l.entry.seq, parts)
        };
        // Verification happens outside the lock, on our private copies.
        let reps = parts
            .into_iter()
            .map(|(info, data)| record::verify(&info, data).map_err(|e| with_seq(e, seq)))
            .collect::<Result<_>>()?;
        Ok(Clip { reps })
    }

    /// One representation of an entry, copying only that one out.
    pub fn get_type(&self, which: Selector, mime: &str) -> Result<Representation> {
        let (seq, info, data) = {
            let guard = self.seg.lock()?;
            let l = self.find(&guard, which)?;
            let (infos, _) = self.read_directory(&l)?;
            let info = infos
                .iter()
                .find(|i| i.mime == mime)
                .or_else(|| infos.iter().find(|i| crate::mime_matches(mime, &i.mime)))
                .cloned()
                .ok_or_else(|| Error::NoSuchType {
                    mime: mime.to_owned(),
                    available: infos.iter().map(|i| i.mime.clone()).collect(),
                })?;
            let mut data = vec![
                0u8;
                usize::try_from(info.data_len)
                    .map_err(|_| corrupt(l.entry.seq, "length"))?
            ];
            self.seg
                .arena_read(l.entry.offset + info.data_offset, &mut data)
                .map_err(|_| corrupt(l.entry.seq, "range"))?;
            (l.entry.seq, info, data)
        };
        record::verify(&info, data).map_err(|e| with_seq(e, seq))
    }

    /// The MIME types of an entry, in order.
    pub fn types(&self, which: Selector) -> Result<Vec<String>> {
        let guard = self.seg.lock()?;
        let l = self.find(&guard, which)?;
        Ok(self
            .read_directory(&l)?
            .0
            .into_iter()
            .map(|i| i.mime)
            .collect())
    }

    /// Copies an entry's directory out and parses it. Under the lock.
    fn read_directory(&self, l: &Live) -> Result<(Vec<RepInfo>, usize)> {
        let seq = l.entry.seq;
        if l.entry.len > self.seg.geometry().arena_size {
            return Err(corrupt(seq, "length exceeds the arena"));
        }
        let mut head = vec![0u8; record::header_len()];
        self.seg
            .arena_read(l.entry.offset, &mut head)
            .map_err(|_| corrupt(seq, "range"))?;
        let n = record::rep_count(&head).map_err(|e| with_seq(e, seq))?;
        let mut descs = vec![0u8; record::descs_len(n)];
        self.seg
            .arena_read(l.entry.offset, &mut descs)
            .map_err(|_| corrupt(seq, "range"))?;
        let mime_total: usize = (0..n)
            .filter_map(|i| crate::format::Desc::at(&descs, i))
            .map(|d| d.mime_len.min(crate::format::MAX_MIME_LEN) as usize)
            .sum();
        let dir_len = (descs.len() + mime_total).min(l.entry.len as usize);
        let mut dir = vec![0u8; dir_len];
        self.seg
            .arena_read(l.entry.offset, &mut dir)
            .map_err(|_| corrupt(seq, "range"))?;
        record::parse_directory(&dir, l.entry.len).map_err(|e| with_seq(e, seq))
    }

    /// The entries, current first.
    pub fn history(&self) -> Result<Vec<EntryInfo>> {
        let mut rows = Vec::new();
        {
            let guard = self.seg.lock()?;
            for l in self.live_entries(&guard)? {
                let Ok((infos, _)) = self.read_directory(&l) else {
                    tracing::warn!(seq = l.entry.seq, "skipping a corrupt entry");
                    continue;
                };
                let text = infos.iter().find(|i| crate::is_text(&i.mime)).map(|i| {
                    let mut head = vec![0u8; i.data_len.min(PREVIEW_BYTES) as usize];
                    let _ = self
                        .seg
                        .arena_read(l.entry.offset + i.data_offset, &mut head);
                    head
                });
                rows.push((l, infos, text));
            }
        }
        Ok(rows
            .into_iter()
            .enumerate()
            .map(|(index, (l, infos, text))| EntryInfo {
                index,
                seq: l.rec.seq,
                created: time_of(l.rec.created_ns),
                touched: time_of(l.rec.touched_ns),
                origin: Origin {
                    pid: l.rec.origin_pid,
                    kind: OriginKind::from_raw(l.rec.origin_kind),
                    label: l.rec.label.clone(),
                },
                pinned: l.rec.pinned(),
                total_size: l.rec.total_size,
                types: infos.into_iter().map(|i| (i.mime, i.data_len)).collect(),
                preview: text.map(|t| preview(&t)).unwrap_or_default(),
            })
            .collect())
    }

    /// Runs `change` on one entry under the lock, then commits and notifies.
    fn mutate(
        &self,
        which: Selector,
        change: impl FnOnce(&Self, Live, u64) -> Result<()>,
    ) -> Result<u64> {
        let now = now_ns();
        let (seq, changed) = {
            let guard = self.seg.lock()?;
            let l = self.find(&guard, which)?;
            let seq = self.next_seq()?;
            let slot = l.entry.slot;
            let changed = change(self, l, seq);
            let mut index = self.index.lock().unwrap_or_else(PoisonError::into_inner);
            let written = changed.as_ref().ok().map(|()| [slot]);
            self.publish(
                &guard,
                &mut index,
                seq,
                now,
                written.as_ref().map(|s| &s[..]),
            );
            (seq, changed)
        };
        self.notify(seq, now);
        changed.map(|()| seq)
    }

    /// Makes an entry current. Returns the commit seq.
    pub fn select(&self, which: Selector) -> Result<u64> {
        let now = now_ns();
        self.mutate(which, |b, l, seq| {
            b.seg.write_index(
                l.entry.slot,
                &IndexRecord {
                    order: seq,
                    touched_ns: now,
                    ..l.rec
                },
            )
        })
    }

    /// Pins or unpins an entry. Returns the commit seq.
    pub fn set_pinned(&self, which: Selector, pinned: bool) -> Result<u64> {
        self.mutate(which, |b, l, _| {
            let flags = if pinned {
                l.rec.flags | FLAG_PINNED
            } else {
                l.rec.flags & !FLAG_PINNED
            };
            b.seg
                .write_index(l.entry.slot, &IndexRecord { flags, ..l.rec })
        })
    }

    /// Deletes an entry and overwrites its bytes. Returns the commit seq.
    pub fn delete(&self, which: Selector) -> Result<u64> {
        self.mutate(which, |b, l, _| {
            b.wipe_entry(l.entry.slot, l.entry.offset, l.entry.len)
        })
    }

    /// Deletes every unpinned entry (every entry with `all`) and overwrites
    /// their bytes. Returns how many were removed.
    pub fn clear(&self, all: bool) -> Result<usize> {
        let now = now_ns();
        let (removed, seq) = {
            let guard = self.seg.lock()?;
            let seq = self.next_seq()?;
            let mut erased = Vec::new();
            let mut result = Ok(());
            for l in self.live_entries(&guard)? {
                if all || !l.entry.pinned {
                    result = self.wipe_entry(l.entry.slot, l.entry.offset, l.entry.len);
                    if result.is_err() {
                        break;
                    }
                    erased.push(l.entry.slot);
                }
            }
            let mut index = self.index.lock().unwrap_or_else(PoisonError::into_inner);
            let written = result.is_ok().then_some(&erased[..]);
            self.publish(&guard, &mut index, seq, now, written);
            (result.map(|()| erased.len()), seq)
        };
        self.notify(seq, now);
        removed
    }

    /// The board's status, after reaping dead subscribers.
    pub fn status(&self) -> Result<Status> {
        let subscribers = mailbox::subscribers(&self.seg)?;
        let geo = *self.seg.geometry();
        let guard = self.seg.lock()?;
        let index = self.index(&guard)?;
        let h = |o| self.seg.header_u64(o);
        let last_ns = h(off::LAST_NS);
        let status = Status {
            name: self.seg.name().to_string(),
            path: self.seg.path().to_owned(),
            owner_uid: self.seg.owner(),
            mode: self.seg.mode(),
            layout_version: crate::LAYOUT_VERSION,
            segment_size: geo.segment_size,
            capacity: geo.arena_size,
            used: index.live().map(|l| l.entry.len).sum(),
            seq: self.seg.seq_cell().load(Ordering::Acquire),
            entries: index.live().len(),
            max_entries: self.seg.index_slots(),
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
        };
        drop(index);
        drop(guard);
        Ok(status)
    }

    /// The commit seq, read without the lock.
    #[must_use]
    pub fn seq(&self) -> u64 {
        mailbox::current_seq(&self.seg)
    }

    /// Registers a mailbox for this process and returns it.
    ///
    /// Writers notify every mailbox except those of their own process: a
    /// process learns of its own commits from the calls it made. Subscribing
    /// and unsubscribing also wake the other mailboxes, with an unchanged seq,
    /// so that status displays can re-read the subscriber table.
    pub fn subscribe(&self) -> Result<Subscription> {
        mailbox::subscribe(&self.seg, &self.origin)
    }

    /// Frees the subscriber slots of dead processes and unlinks their
    /// mailboxes. Returns how many were reaped.
    pub fn reap(&self) -> usize {
        mailbox::reap_dead(&self.seg)
    }

    /// This user's boards, by name.
    pub fn list() -> Result<Vec<BoardName>> {
        let prefix = crate::name::segment_prefix(crate::segment::euid());
        let dir = std::fs::read_dir("/dev/shm").map_err(|e| {
            Error::os(
                "listing /dev/shm",
                nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)),
            )
        })?;
        let mut names: Vec<BoardName> = dir
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|f| BoardName::new(f.strip_prefix(&prefix)?).ok())
            .collect();
        names.sort();
        Ok(names)
    }

    /// Removes board `name` and its mailboxes, and makes its clips
    /// unreadable: every entry, pinned ones too, is wiped in place first, so
    /// a process that still maps the segment finds nothing. Then the name is
    /// unlinked, and only after that every mailbox gets a last note, so its
    /// owner wakes, sees the removal and reports [`Error::BoardDestroyed`].
    ///
    /// Without `force` the segment must pass validation; with it, any
    /// segment owned by this user goes (unwiped if it cannot be read).
    pub fn destroy(name: &BoardName, force: bool) -> Result<DestroyReport> {
        let board = match Segment::open(name, None, crate::repair::repair) {
            Ok(seg) => Some(Board {
                seg: Arc::new(seg),
                origin: Origin::this_process(OriginKind::Cli),
                notifier: Mutex::new(Notifier::default()),
                index: Mutex::new(IndexCache::default()),
            }),
            Err(Error::NoSuchBoard { .. }) => {
                return Err(Error::NoSuchBoard {
                    name: name.to_string(),
                });
            }
            Err(e) if !force => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "destroying an invalid segment");
                None
            }
        };
        let mut report = DestroyReport::default();
        let mut told = Vec::new();
        if let Some(board) = &board {
            report.entries = board.wipe()?;
            told = mailbox::registered(&board.seg);
        }
        Segment::unlink(name)?;
        if let Some(board) = &board {
            mailbox::farewell(&board.seg, &told);
        }
        report.notified = told.len();
        Ok(report)
    }

    /// Wipes every entry without notifying anyone: the farewell note follows.
    fn wipe(&self) -> Result<usize> {
        let guard = self.seg.lock()?;
        // The board goes next: a forged, exhausted seq must not keep its
        // clips from being wiped.
        let seq = self.next_seq().unwrap_or(u64::MAX);
        let live = self.live_entries(&guard)?;
        for l in &live {
            self.erase(l.entry.slot, l.entry.offset, l.entry.len)?;
        }
        let mut index = self.index(&guard)?;
        self.publish(&guard, &mut index, seq, now_ns(), None);
        Ok(live.len())
    }

    /// For tests and fuzzing: a thread of this process takes the board lock
    /// and ends holding it, as a process killed inside the critical section
    /// would; the next locker gets `EOWNERDEAD` and repairs the board.
    #[cfg(feature = "test-hooks")]
    #[doc(hidden)]
    pub fn abandon_lock(&self) -> Result<()> {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("shm-clip-abandons-lock".into())
                .spawn_scoped(scope, || {
                    // Never unlocked: the thread's end makes the robust
                    // mutex owner-dead, exactly what repair is for.
                    std::mem::forget(self.seg.lock()?);
                    Ok(())
                })
                .map_err(|e| {
                    let errno = nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0));
                    Error::os("spawning a thread", errno)
                })?
                .join()
                .unwrap_or(Ok(()))
        })
    }

    /// Whether this board was destroyed since it was opened (its segment's
    /// name removed): whatever it still holds is unreachable to everyone
    /// else, and opening the name again gives a fresh board. One `fstat`.
    #[must_use]
    pub fn is_destroyed(&self) -> bool {
        self.seg.unlinked()
    }
}

/// Where a restored entry came from, as it was saved: [`Board::restore`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provenance {
    /// The program that first copied it.
    pub origin: Origin,
    /// When it was first copied.
    pub created: SystemTime,
    /// When it was last copied or selected.
    pub touched: SystemTime,
    /// Whether it was pinned.
    pub pinned: bool,
}

/// Who wrote an entry, when, and its flags: the index fields that a plain
/// copy takes from this handle and the clock, and a restore from disk.
struct EntryMeta<'a> {
    origin: &'a Origin,
    created_ns: u64,
    touched_ns: u64,
    flags: u32,
}

/// `rec` with `origin` as its writer.
fn stamped(rec: &IndexRecord, origin: &Origin) -> IndexRecord {
    IndexRecord {
        origin_pid: origin.pid,
        origin_kind: origin.kind.to_raw(),
        label: origin.label.clone(),
        ..rec.clone()
    }
}

/// What [`Board::destroy`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DestroyReport {
    /// Entries wiped (0 for a segment that could not be read).
    pub entries: usize,
    /// Live mailboxes when the board went, each told that it is gone: by a
    /// last note, or by its own watch on the removal, whichever came first.
    pub notified: usize,
}

impl std::fmt::Debug for Board {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Board")
            .field("name", self.seg.name())
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// How much text of each entry `history` reads for its preview.
const PREVIEW_BYTES: u64 = 512;

/// At most 80 characters, with newlines and other controls made visible.
fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
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

/// The largest payload that fits in `room` arena bytes with `enc`'s framing.
fn max_payload(room: u64, enc: &Encoded<'_>) -> u64 {
    (room & !7).saturating_sub(enc.directory.len() as u64)
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

fn ns_of(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn time_of(ns: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(ns)
}

fn corrupt(seq: u64, what: &str) -> Error {
    Error::CorruptEntry {
        seq,
        what: what.into(),
    }
}

fn with_seq(e: Error, seq: u64) -> Error {
    match e {
        Error::CorruptEntry { what, .. } => Error::CorruptEntry { seq, what },
        other => other,
    }
}
