//! The archiver: brings the archive up to date with one board.
//!
//! Each [`Archiver::sync`] looks at the board once and, in one transaction:
//! - archives entries newer than the last seq it saw (at start that is the
//!   catch-up of what the board still holds; on a new board, all of it);
//! - follows pins and selections (last use) of entries it has seen;
//! - for entries that left the board since the previous look, asks the
//!   board's removal log why (`removals.rs`): one that `rm` or `clear` took
//!   is deleted from the archive, and a `clear --all` empties the archive;
//!   one that nothing removed was evicted, and eviction is what the archive
//!   is for: it stays. This holds however many commits came between two
//!   looks, and for removals made while no archiver ran.
//! - Only when more than 64 removals came between two looks, so that some
//!   have left the log, is an unexplained entry judged by the look alone:
//!   deleted if the board moved by one commit that made no new entry (it
//!   evicted nothing), kept otherwise, with a warning and
//!   [`Synced::removals_lost`].
//!
//! - The bytes of what it deleted leave the files in a scrub
//!   ([`Archive::scrub`], a rewrite of the whole file): [`Archiver::sync`]
//!   scrubs at once, one scrub per look however many removals it applied;
//!   the run loop applies with [`Archiver::apply`] and scrubs once after
//!   removals stop coming (`runner.rs`), so that a burst of `rm`s costs one
//!   rewrite. A delete is *applied* when a report with [`Synced::scrubbed`]
//!   follows the look that deleted it (and the side file
//!   `archive.sqlite3-unscrubbed` is gone).
//!
//! Nothing here runs on the copy path: the board's writers only send their
//! usual note, and the archiver reads the board afterwards. What it reads
//! is small, because it holds the board's lock meanwhile and copies and
//! pastes wait for it: a look is [`Board::changes`] (the live entries from
//! their index slots, who wrote the new ones, the removals logged since the
//! previous look, all at one seq, no record read), then the content of each
//! new entry it archives. A sync when the board's seq has not moved since
//! the last one reads nothing: every change publishes a new seq.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use rusqlite::params;
use shm_clip::{Board, Changes, EntryState, Selector};

use crate::model::to_ns;
use crate::removals::{Gone, Removals, Verdict};
use crate::{Archive, BoardState, Error, Marked, NewClip, Policy, Result, ids};

/// How often, at most, the limits (max bytes, max age) are enforced while
/// clips arrive.
const LIMITS_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// One board's archiver.
#[derive(Debug)]
pub struct Archiver {
    board: Board,
    archive: Archive,
    policy: Policy,
    /// What each archived board entry was at the last look, by seq: so that
    /// only changes are written, and to tell why an entry left.
    known: HashMap<u64, Known>,
    /// Entries the policy refused (too large, images off), by seq.
    skipped: HashSet<u64>,
    /// Bytes archived and time since the limits were last enforced.
    since_limits: (u64, Option<Instant>),
    /// Where the last successful sync left this board: the seq it saw and
    /// the removal log's next number. `None` before the first.
    last: Option<Seen>,
    /// Whether the warning that another program keeps a scrub from
    /// finishing was given (once until a scrub finishes).
    scrub_warned: bool,
    /// After a scrub failed for another reason than a busy file (no room
    /// on the disk: a rewrite needs about twice the live data beside the
    /// file), when to try again, and the wait after the next failure.
    scrub_backoff: Option<(Instant, Duration)>,
}

/// The first wait after a failed scrub; it doubles up to [`SCRUB_BACKOFF_MAX`].
const SCRUB_BACKOFF: Duration = Duration::from_secs(60);
/// The longest wait between two scrubs that failed.
const SCRUB_BACKOFF_MAX: Duration = Duration::from_secs(3600);

/// What the last successful sync saw of the board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seen {
    seq: u64,
    removals_next: u64,
}

/// An archived board entry as the last look saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Known {
    pinned: bool,
    touched: SystemTime,
    clip_id: Option<[u8; 16]>,
}

/// What one sync did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Synced {
    /// The board's seq that was looked at.
    pub seq: u64,
    /// Entries newly archived (or found already archived by content).
    pub archived: usize,
    /// Archived entries whose pin or last use changed.
    pub updated: usize,
    /// Archived clips deleted because `rm` or `clear` took them off the
    /// board (every archived clip, after `clear --all`).
    pub deleted: usize,
    /// Entries that left the board and stay archived: evicted, or left
    /// unexplained when [`Synced::removals_lost`].
    pub kept: usize,
    /// Entries the policy does not archive.
    pub skipped: usize,
    /// More than 64 removals came since the previous look, so some had left
    /// the board's removal log: entries it did not explain were judged by
    /// the look alone (kept unless that proved a removal).
    pub removals_lost: bool,
    /// This call finished a scrub: the bytes of every delete applied so far
    /// (by this archiver or another process) have left the database file
    /// and its WAL. This is the point at which a delete is *applied*.
    pub scrubbed: bool,
    /// A scrub is still due when this call returned: deferred by
    /// [`Archiver::apply`] for the run loop, kept from finishing by another
    /// program, or backing off after a failure. The deleted clips are gone
    /// from every query, but their bytes may still be in the files.
    pub scrub_pending: bool,
}

impl Archiver {
    /// An archiver of `board` into `archive`.
    #[must_use]
    pub fn new(board: Board, archive: Archive, policy: Policy) -> Archiver {
        Archiver {
            board,
            archive,
            policy,
            known: HashMap::new(),
            skipped: HashSet::new(),
            since_limits: (0, None),
            last: None,
            scrub_warned: false,
            scrub_backoff: None,
        }
    }

    /// The board.
    #[must_use]
    pub fn board(&self) -> &Board {
        &self.board
    }

    /// The archive.
    #[must_use]
    pub fn archive(&self) -> &Archive {
        &self.archive
    }

    /// Brings the archive up to date with the board (see the module docs),
    /// and scrubs at once if a scrub is due (this look deleted, or one was
    /// left due): when it returns with [`Synced::scrub_pending`] false,
    /// every delete it applied has left the files.
    pub fn sync(&mut self) -> Result<Synced> {
        let mut done = self.apply()?;
        if done.deleted > 0 || self.archive.scrub_pending() {
            // The deleted bytes leave the files now: the copies a balance
            // left in pages' free space, and the WAL. One scrub per look,
            // however many removals it applied; while it runs, new
            // notifications wait in the mailbox (the board never waits).
            done.scrubbed = self.scrub();
        }
        done.scrub_pending = self.archive.scrub_pending();
        Ok(done)
    }

    /// [`Archiver::sync`] without the scrub: the look's deletes are
    /// committed, and a scrub is left due ([`Synced::scrub_pending`], and on
    /// disk), for [`Archiver::scrub_now`] to do once for several looks (the
    /// run loop's coalescing, `runner.rs`).
    pub fn apply(&mut self) -> Result<Synced> {
        if let Some(last) = self.last
            && self.board.seq() == last.seq
            && !self.board.is_destroyed()
        {
            // Nothing was committed since (a subscriber came or went): no
            // lock taken, nothing read.
            return Ok(Synced {
                seq: last.seq,
                scrub_pending: self.archive.scrub_pending(),
                ..Synced::default()
            });
        }
        let snap = self.look()?;
        if self.board.is_destroyed() {
            // A destroyed board's wipe is not the user removing clips.
            return Err(Error::Board(shm_clip::Error::BoardDestroyed {
                name: self.board.name().to_string(),
            }));
        }
        let marked = self.mark_scrub_for(&snap.removals)?;
        let name = self.board.name().to_string();
        let node = ids::board_node(&self.board);
        let mut report = Synced {
            seq: snap.seq,
            ..Synced::default()
        };
        // One hold of the lock: everything up to its seq was seen.
        let seen_seq = snap.seq;
        let board = &self.board;
        let policy = self.policy;
        let known = &mut self.known;
        let skipped = &mut self.skipped;
        let mut new_bytes = 0u64;
        let mut fresh = Vec::new();
        self.archive.batch(|b| {
            let state = b.board_state(&name)?;
            let prev = match state {
                Some(s) if s.node == node && s.seen_seq <= snap.seq => Some(s.seen_seq),
                Some(_) => {
                    // Another board under this name (re-created, or after a
                    // reboot): its seqs mean other entries.
                    b.forget_board(&name)?;
                    known.clear();
                    skipped.clear();
                    None
                }
                None => None,
            };
            // Only a board seen before has removals since: a new one's log
            // is about clips this archive never took from it.
            let removals = prev.map(|p| Removals::since(&snap.removals, p, seen_seq));
            let mut linked: HashMap<u64, i64> = b.linked(&name)?.into_iter().collect();
            if removals.as_ref().is_some_and(Removals::empties_archive) {
                // `clear --all` since the previous look: everything archived
                // goes, first, so that what was copied after it (all this
                // look holds) is archived anew below.
                report.deleted += b.clear_all()?;
                linked.clear();
            }
            let look = Look {
                board,
                name: &name,
                policy,
                prev,
            };
            let created_since = look.follow(
                b,
                &snap.entries,
                &mut linked,
                known,
                skipped,
                &mut report,
                (&mut new_bytes, &mut fresh),
            )?;
            // What the look alone proves, for when the log cannot tell: one
            // commit that made no entry evicted nothing.
            let proven = prev.is_some_and(|p| snap.seq == p + 1) && !created_since;
            look.depart(
                b,
                &snap.entries,
                &linked,
                known,
                (removals.as_ref(), proven),
                &mut report,
            )?;
            b.set_board_state(&name, BoardState { node, seen_seq })
        })?;
        if self.board.is_destroyed() {
            // Destroyed while this sync read it: what it just archived came
            // off a board that `destroy` wiped, after `destroy` deleted that
            // board's clips from the archive. It goes too.
            self.archive.delete(&fresh)?;
            return Err(Error::Board(shm_clip::Error::BoardDestroyed {
                name: self.board.name().to_string(),
            }));
        }
        if report.removals_lost {
            tracing::warn!(
                board = %name,
                kept = report.kept,
                "more than 64 removals since the archiver last looked: entries that left \
                 the board without a logged removal were kept unless the look proved one"
            );
        }
        self.remember(&snap.entries);
        self.last = Some(Seen {
            seq: snap.seq,
            removals_next: snap.removals.next,
        });
        self.unmark_unneeded(report.deleted, marked)?;
        self.since_limits.0 += new_bytes;
        self.enforce_limits_if_due()?;
        report.scrub_pending = self.archive.scrub_pending();
        Ok(report)
    }

    /// Records a scrub as due before a look whose removals may delete
    /// commits (the board's log has removals since the last look). Returns
    /// the mark made, if any.
    fn mark_scrub_for(&mut self, removals: &shm_clip::RemovalLog) -> Result<Option<Marked>> {
        if removals.removals.is_empty() && removals.missed == 0 {
            Ok(None)
        } else {
            self.archive.mark_unscrubbed().map(Some)
        }
    }

    /// After a look: forgets the mark this look made for removals that
    /// deleted nothing archived, unless a scrub was due before it or
    /// another mark replaced it.
    fn unmark_unneeded(&mut self, deleted: usize, marked: Option<Marked>) -> Result<()> {
        if deleted == 0
            && let Some(m) = marked
            && !m.was_pending
        {
            self.archive.unmark_if_unchanged(m.at)?;
        }
        Ok(())
    }

    /// Does the due scrub now, if there is one (left by [`Archiver::apply`],
    /// or by another process): the report of the run loop's deferred scrub,
    /// with the seq of the last look.
    pub fn scrub_now(&mut self) -> Synced {
        let pending = self.archive.scrub_pending();
        let scrubbed = pending && self.scrub();
        Synced {
            seq: self.last.map_or(0, |l| l.seq),
            scrubbed,
            scrub_pending: self.archive.scrub_pending(),
            ..Synced::default()
        }
    }

    /// Until when a failed scrub is not tried again (the backoff after a
    /// scrub that found no room or was starved by other writers): the run
    /// loop sleeps until then instead of waking for a scrub that would
    /// return at once.
    #[must_use]
    pub fn scrub_backoff_until(&self) -> Option<Instant> {
        self.scrub_backoff.map(|(at, _)| at)
    }

    /// [`Archive::scrub`], with one warning when another program first
    /// keeps it from finishing (not one per retry).
    fn scrub(&mut self) -> bool {
        let now = Instant::now();
        if self.scrub_backoff.is_some_and(|(at, _)| now < at) {
            return false;
        }
        let done = match self.archive.scrub() {
            Ok(done) => done,
            Err(err) => {
                // Archiving goes on: the scrub stays due (on disk too, for a
                // restart) and is tried again later, not at every look,
                // since each try writes up to the file's size into the WAL.
                let wait = self
                    .scrub_backoff
                    .map_or(SCRUB_BACKOFF, |(_, w)| (w * 2).min(SCRUB_BACKOFF_MAX));
                self.scrub_backoff = Some((now + wait, wait));
                // Gives back what the failed VACUUM wrote to the WAL.
                let _ = self.archive.checkpoint();
                tracing::warn!(
                    %err,
                    retry_in_s = wait.as_secs(),
                    "cannot scrub the archive (the deleted clips' bytes may stay in its free space \
                     and WAL); archiving goes on, and the scrub is tried again later"
                );
                return false;
            }
        };
        if done {
            self.scrub_backoff = None;
        }
        let first = !done && !self.scrub_warned;
        self.scrub_warned = !done;
        if first {
            tracing::warn!(
                path = %self.archive.path().display(),
                "another program keeps the archive busy, so the deleted clips' bytes are not yet \
                 scrubbed from its free space and WAL; the archiver retries"
            );
        }
        done
    }

    /// Keeps what this look saw of each archived entry, for the next one.
    fn remember(&mut self, hist: &[EntryState]) {
        self.known = hist
            .iter()
            .filter(|e| !self.skipped.contains(&e.seq))
            .map(|e| {
                let k = Known {
                    pinned: e.pinned,
                    touched: e.touched,
                    clip_id: ids::state_clip_id(e),
                };
                (e.seq, k)
            })
            .collect();
        self.skipped.retain(|s| hist.iter().any(|e| e.seq == *s));
    }

    /// The board's entries and the removals since the last look, at one
    /// seq. Entries created after the last look carry their origin.
    fn look(&self) -> Result<Changes> {
        let (since, removals_from) = self.last.map_or((0, 0), |l| (l.seq, l.removals_next));
        Ok(self.board.changes(since, removals_from)?)
    }

    fn enforce_limits_if_due(&mut self) -> Result<()> {
        let (bytes, last) = self.since_limits;
        let due =
            last.is_none_or(|t| t.elapsed() >= LIMITS_EVERY) || bytes >= self.policy.max_bytes / 64;
        if due {
            self.enforce_limits()?;
        }
        Ok(())
    }

    /// Applies `archive.max_bytes` and `archive.max_age` now.
    pub fn enforce_limits(&mut self) -> Result<()> {
        self.since_limits = (0, Some(Instant::now()));
        self.archive.prune_to_bytes(self.policy.max_bytes)?;
        if let Some(age) = self.policy.max_age
            && let Some(cutoff) = SystemTime::now().checked_sub(age)
        {
            self.archive.prune_older_than(cutoff)?;
        }
        Ok(())
    }

    /// The archiver of `board`, the fresh board that replaced a destroyed
    /// one under the same name: the archive forgets what it knew of the old
    /// one, whose seqs the new one starts again.
    pub fn renew(self, board: Board) -> Result<Archiver> {
        let mut archive = self.archive;
        archive.forget_board(board.name().as_str())?;
        Ok(Archiver::new(board, archive, self.policy))
    }

    /// Gives the board and the archive back.
    #[must_use]
    pub fn into_parts(self) -> (Board, Archive) {
        (self.board, self.archive)
    }
}

/// One look at the board, applied inside the sync's transaction.
struct Look<'a> {
    board: &'a Board,
    name: &'a str,
    policy: Policy,
    /// The seq of the previous look, if this board was seen before.
    prev: Option<u64>,
}

impl Look<'_> {
    /// Archives new entries and follows pins and uses of known ones.
    /// Returns whether any entry was created since the previous look.
    #[allow(
        clippy::too_many_arguments,
        reason = "the sync's state, borrowed apart"
    )]
    fn follow(
        &self,
        b: &crate::Batch<'_>,
        hist: &[EntryState],
        linked: &mut HashMap<u64, i64>,
        known: &HashMap<u64, Known>,
        skipped: &mut HashSet<u64>,
        report: &mut Synced,
        (new_bytes, fresh): (&mut u64, &mut Vec<i64>),
    ) -> rusqlite::Result<bool> {
        let (board, name, policy, prev) = (self.board, self.name, self.policy, self.prev);
        let mut created_since = false;
        for e in hist {
            if prev.is_some_and(|p| e.seq > p) {
                created_since = true;
            }
            if let Some(&clip) = linked.get(&e.seq) {
                if known
                    .get(&e.seq)
                    .is_none_or(|k| (k.pinned, k.touched) != (e.pinned, e.touched))
                {
                    b.tx()
                        .prepare_cached(
                            "UPDATE clips SET pinned = ?2, last_used = max(last_used, ?3)
                             WHERE id = ?1",
                        )?
                        .execute(params![clip, e.pinned, to_ns(e.touched)])?;
                    report.updated += 1;
                }
                continue;
            }
            // Seen before and not linked: refused by the policy, or deleted
            // from the archive (prune, rm --archive) while still on the
            // board. Either way it is not archived again, unless it has
            // been used since the last look (copied again, or selected):
            // a clip the user took up again after a prune belongs in the
            // archive, and would otherwise be missing after a reboot.
            if prev.is_some_and(|p| e.seq <= p)
                && known.get(&e.seq).is_none_or(|k| k.touched == e.touched)
            {
                continue;
            }
            if skipped.contains(&e.seq) {
                report.skipped += 1;
                continue;
            }
            // Its types are read only where the policy asks about them.
            let accepted = policy.accepts_size(e.total_size)
                && (policy.images
                    || match board.types(Selector::Seq(e.seq)) {
                        Ok(types) => policy.accepts_types(types.iter().map(String::as_str)),
                        // Gone since the look: the next look sees why.
                        Err(_) => continue,
                    });
            if !accepted {
                skipped.insert(e.seq);
                report.skipped += 1;
                continue;
            }
            // The look copies the origin of entries newer than the previous
            // look only; one the archive forgot it had seen is asked for.
            let origin = match &e.origin {
                Some(o) => o.clone(),
                None => match board.info(Selector::Seq(e.seq)) {
                    Ok(info) => info.origin,
                    Err(_) => continue,
                },
            };
            // Gone since the look (removed or evicted): the next look sees it.
            let Ok(clip) = board.get(Selector::Seq(e.seq)) else {
                continue;
            };
            let inserted = b.insert(&NewClip {
                board: name,
                clip_id: ids::state_clip_id(e),
                created: e.created,
                touched: e.touched,
                origin: &origin,
                pinned: e.pinned,
                reps: &clip.reps,
            })?;
            b.link(name, e.seq, inserted.id)?;
            linked.insert(e.seq, inserted.id);
            *new_bytes += clip.total_size();
            if inserted.new {
                fresh.push(inserted.id);
            }
            report.archived += 1;
        }
        Ok(created_since)
    }

    /// Deletes from the archive the entries that the user removed from the
    /// board since the previous look, and only unlinks those evicted.
    /// `linked` holds every link, this look's new ones too.
    fn depart(
        &self,
        b: &crate::Batch<'_>,
        hist: &[EntryState],
        linked: &HashMap<u64, i64>,
        known: &HashMap<u64, Known>,
        (removals, proven): (Option<&Removals>, bool),
        report: &mut Synced,
    ) -> rusqlite::Result<()> {
        let live: HashSet<u64> = hist.iter().map(|e| e.seq).collect();
        // An archived clip that a live entry still is (the same content
        // copied again, a clip brought back) stays whatever happened to an
        // older entry of it.
        let live_clips: HashSet<i64> = linked
            .iter()
            .filter(|(s, _)| live.contains(s))
            .map(|(_, &c)| c)
            .collect();
        let live_ids: HashSet<[u8; 16]> = hist.iter().filter_map(ids::state_clip_id).collect();
        let mut gone: Vec<(u64, i64)> = linked
            .iter()
            .filter(|(s, _)| !live.contains(s))
            .map(|(&s, &c)| (s, c))
            .collect();
        gone.sort_unstable();
        for (seq, clip) in gone {
            let (clip_id, pinned) = if let Some(k) = known.get(&seq) {
                (k.clip_id, k.pinned)
            } else {
                // An archiver that just started did not see it: the archived
                // clip says what it was (the archive follows pins, and keeps
                // the newest board clip id of its content).
                b.clip_identity(clip)?.unwrap_or((None, false))
            };
            let entry = Gone {
                seq,
                clip_id,
                pinned,
            };
            let removed = match removals.map(|r| r.verdict(&entry)) {
                Some(Verdict::Removed) => true,
                Some(Verdict::Unknown) => proven,
                Some(Verdict::Evicted) | None => false,
            };
            let still_on_board = live_clips.contains(&clip)
                || entry.clip_id.is_some_and(|id| live_ids.contains(&id));
            if removed && !still_on_board {
                // Its link goes with it (ON DELETE CASCADE); a clip that two
                // gone entries were is counted once.
                report.deleted += usize::from(b.delete(clip)?);
            } else {
                b.unlink(self.name, seq)?;
                report.kept += 1;
            }
        }
        report.removals_lost = removals.is_some_and(Removals::lost);
        Ok(())
    }
}
