//! The archiver: brings the archive up to date with one board.
//!
//! Each [`Archiver::sync`] looks at the board's history once (a consistent
//! look: the board's seq is the same before and after it) and, in one
//! transaction:
//! - archives entries newer than the last seq it saw (at start that is the
//!   catch-up of what the board still holds; on a new board, all of it);
//! - follows pins and selections (last use) of entries it has seen;
//! - for entries that left the board, deletes them from the archive only
//!   when the look proves a removal (`rm`, `clear`): the board moved by one
//!   commit since the previous look, and that commit made no new entry, so
//!   it evicted nothing. Otherwise the entry may have been evicted, and
//!   eviction is what the archive is for: it stays.
//!
//! Nothing here runs on the copy path: the board's writers only send their
//! usual note, and the archiver reads the board afterwards.

use std::collections::{HashMap, HashSet};
use std::time::{Instant, SystemTime};

use rusqlite::params;
use shm_clip::{Board, EntryInfo, Selector};

use crate::model::to_ns;
use crate::{Archive, BoardState, Error, NewClip, Policy, Result, ids};

/// How often, at most, the limits (max bytes, max age) are enforced while
/// clips arrive.
const LIMITS_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// One board's archiver.
#[derive(Debug)]
pub struct Archiver {
    board: Board,
    archive: Archive,
    policy: Policy,
    /// (pinned, touched) of each archived board entry at the last look, so
    /// that only changes are written.
    known: HashMap<u64, (bool, SystemTime)>,
    /// Entries the policy refused (too large, images off), by seq.
    skipped: HashSet<u64>,
    /// Bytes archived and time since the limits were last enforced.
    since_limits: (u64, Option<Instant>),
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
    /// Entries removed from the board (`rm`, `clear`) and so from the archive.
    pub deleted: usize,
    /// Entries that left the board and stay archived (evicted, or removed
    /// where that could not be told from eviction).
    pub kept: usize,
    /// Entries the policy does not archive.
    pub skipped: usize,
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

    /// Brings the archive up to date with the board (see the module docs).
    pub fn sync(&mut self) -> Result<Synced> {
        let (hist, seq, consistent, before) = self.look()?;
        if self.board.is_destroyed() {
            // A destroyed board's wipe is not the user removing clips.
            return Err(Error::Board(shm_clip::Error::BoardDestroyed {
                name: self.board.name().to_string(),
            }));
        }
        let name = self.board.name().to_string();
        let node = ids::board_node(&self.board);
        let mut report = Synced {
            seq,
            ..Synced::default()
        };
        let board = &self.board;
        let policy = self.policy;
        let known = &mut self.known;
        let skipped = &mut self.skipped;
        let mut new_bytes = 0u64;
        let mut fresh = Vec::new();
        let wipe_all = self.archive.batch(|b| {
            let state = b.board_state(&name)?;
            let prev = match state {
                Some(s) if s.node == node && s.seen_seq <= seq => Some(s.seen_seq),
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
            let linked: HashMap<u64, i64> = b.linked(&name)?.into_iter().collect();
            let look = Look {
                board,
                name: &name,
                policy,
                prev,
            };
            let created_since = look.follow(
                b,
                &hist,
                &linked,
                known,
                skipped,
                &mut report,
                (&mut new_bytes, &mut fresh),
            )?;
            // One commit, and it made no entry: it evicted nothing, so what
            // left the board was removed.
            let proven = consistent && prev.is_some_and(|p| seq == p + 1) && !created_since;
            let live: HashSet<u64> = hist.iter().map(|e| e.seq).collect();
            let mut removed_pinned = false;
            for (&gone, &clip) in linked.iter().filter(|(s, _)| !live.contains(s)) {
                if proven {
                    removed_pinned |= known.get(&gone).is_some_and(|k| k.0);
                    b.delete(clip)?;
                    report.deleted += 1;
                } else {
                    b.unlink(&name, gone)?;
                    report.kept += 1;
                }
            }
            // `clear --all` (pinned entries removed too, nothing left) empties
            // the whole archive, not only what this board still held.
            let wipe_all = proven && hist.is_empty() && removed_pinned;
            b.set_board_state(
                &name,
                BoardState {
                    node,
                    // After a look that raced a commit, only what came before
                    // it counts as seen: a later entry it missed is still new.
                    seen_seq: if consistent { seq } else { before },
                },
            )?;
            Ok(wipe_all)
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
        self.known = hist
            .iter()
            .filter(|e| !self.skipped.contains(&e.seq))
            .map(|e| (e.seq, (e.pinned, e.touched)))
            .collect();
        self.skipped.retain(|s| hist.iter().any(|e| e.seq == *s));
        if wipe_all {
            report.deleted += self.archive.clear()?;
        } else if report.deleted > 0 {
            // The deleted bytes leave the WAL file now, not at some later
            // automatic checkpoint.
            self.archive.checkpoint()?;
        }
        self.since_limits.0 += new_bytes;
        self.enforce_limits_if_due()?;
        Ok(report)
    }

    /// The board's history and the seq it belongs to, read so that no
    /// commit came between: retried a few times under a stream of copies,
    /// then the last look is used, marked inconsistent (it proves no removal).
    fn look(&self) -> Result<(Vec<EntryInfo>, u64, bool, u64)> {
        let mut tries = 0;
        loop {
            let before = self.board.seq();
            let hist = self.board.history()?;
            let after = self.board.seq();
            tries += 1;
            if before == after || tries == 5 {
                return Ok((hist, after, before == after, before));
            }
        }
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
        hist: &[EntryInfo],
        linked: &HashMap<u64, i64>,
        known: &HashMap<u64, (bool, SystemTime)>,
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
                if known.get(&e.seq) != Some(&(e.pinned, e.touched)) {
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
            // board. Either way it is not archived again.
            if prev.is_some_and(|p| e.seq <= p) {
                continue;
            }
            if skipped.contains(&e.seq) {
                report.skipped += 1;
                continue;
            }
            if !policy.accepts(e) {
                skipped.insert(e.seq);
                report.skipped += 1;
                continue;
            }
            // Gone since the look (removed or evicted): the next look sees it.
            let Ok(clip) = board.get(Selector::Seq(e.seq)) else {
                continue;
            };
            let inserted = b.insert(&NewClip {
                board: name,
                clip_id: ids::entry_clip_id(e),
                created: e.created,
                touched: e.touched,
                origin: &e.origin,
                pinned: e.pinned,
                reps: &clip.reps,
            })?;
            b.link(name, e.seq, inserted.id)?;
            *new_bytes += clip.total_size();
            if inserted.new {
                fresh.push(inserted.id);
            }
            report.archived += 1;
        }
        Ok(created_since)
    }
}
