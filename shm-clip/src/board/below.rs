//! Restoring an entry below the newest ones instead of on top: for a clip
//! that another machine copied earlier than the copies made here that are
//! not yet on their way to it (the bridge's case). The user's own newer
//! copy stays current all along, instead of the older remote clip being
//! pasted until the newer one's message has gone round.
//!
//! The history is ranked by each slot's `order` (LAYOUT.md): the highest is
//! the current clip. Orders are distinct board seqs, and a slot's order
//! never exceeds the board's seq. To put the new entry directly below the
//! entries A1..Ak (A1 current, orders o1 > … > ok), this moves each of them
//! one notch up, in one commit at seq `s`: the new entry takes ok, each Ai
//! takes o(i-1), and A1 takes `s`. The orders stay distinct, none exceeds
//! the board's seq, and nothing below moves. The records themselves stay
//! where they are in the arena: the new one lies at the ring's end like any
//! new record, so eviction still takes the oldest record first, and the
//! format is unchanged (only which slots' orders a commit rewrites is new).

use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::write::Prepared;
use super::{Board, Failure};
use crate::format::{Change, SLOT_COMMITTED};
use crate::ids::ClipId;
use crate::ring::{Fault, Ring, Slot};
use crate::{Clip, CopyOutcome, Provenance, Result, Selector};

/// What [`Board::restore_below`] or [`Board::select_below`] committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Restored {
    /// The commit, as [`Board::restore`] reports it (for a select: the
    /// entry's seq and id, `deduplicated` set).
    pub outcome: CopyOutcome,
    /// The entry the restored one was put directly below; `None`: the
    /// restored entry is the current clip.
    pub below: Option<ClipId>,
    /// The restored entry's `touched` as stored: the provenance's for a
    /// new entry, the board's clock for one moved or replaced in place.
    /// A caller that accounts for its own make-current events (the
    /// bridge) must count this one as its own, or it takes the entry for
    /// the user's once it becomes current.
    pub touched: SystemTime,
}

/// What ranking did, under the lock.
#[derive(Clone, Copy)]
struct Ranked {
    below: Option<ClipId>,
    touched_ns: u64,
}

impl Board {
    /// [`Board::restore`], but the entry is ranked directly below the
    /// lowest-ranked entry whose clip id is in `keep`, so that entry and
    /// every entry above it stay above it (the current clip stays current).
    /// With none of `keep` on the board it becomes current, as a restore.
    /// Only if nothing was committed since the board's seq was `seen`:
    /// `None`, and nothing done, if something was. A clip id the board
    /// holds already is moved to that place.
    ///
    /// Identical content that an entry of `keep` holds is not moved: the
    /// restored entry replaces it in place, with its identity (clip id,
    /// seq, creation time) and its order, so every entry stays where it
    /// was and the kept change is still on the board under its own id
    /// (its message is on its way, and on every other board it will
    /// replace this clip by the same dedup). Any other identical content
    /// is removed as in every write.
    ///
    /// Every other rule of a restore holds: one commit, one notification
    /// to every mailbox, identical content stored once (an older copy of
    /// it is removed, lending its pin), eviction of the oldest unpinned
    /// record for room. With `keep` empty it costs what a restore does;
    /// otherwise it reads every slot once (O(depth)).
    ///
    /// Why: the bridge applies a clip copied on another machine while the
    /// user's own newer copies are not yet published. The stream will
    /// order those after the remote clip, so on every board they end up
    /// above it; placing it below them here keeps the user's newest copy
    /// current meanwhile. The condition on `seen` is the one of
    /// [`Board::select_if_unchanged`]: the caller decided `keep` from what
    /// it read at `seen`, and a copy made after that look is news it must
    /// read and decide on again.
    pub fn restore_below(
        &self,
        clip: &Clip,
        provenance: &Provenance,
        keep: &[ClipId],
        seen: u64,
    ) -> Result<Option<Restored>> {
        let prepared: Prepared<'_> = self.prepare(clip, Some(provenance))?.keeping(keep);
        let guard = self.seg.lock()?;
        // Every commit stores the seq under the lock: it cannot move now.
        if self.seq() != seen {
            return Ok(None);
        }
        let (outcome, ranked) =
            self.commit_prepared(guard, &prepared, |ring, seq| rank_below(ring, keep, seq))?;
        Ok(Some(Restored {
            outcome,
            below: ranked.below,
            touched: time_of(ranked.touched_ns),
        }))
    }

    /// [`Board::select_if_unchanged`], but the entry is ranked directly
    /// below the lowest-ranked entry whose clip id is in `keep`, as
    /// [`Board::restore_below`] ranks a restored one: so the entries of
    /// `keep` stay together at the top. `None`, and nothing done, if
    /// something was committed since the board's seq was `seen`.
    ///
    /// Why: the bridge applies a selection made on another machine while
    /// the user's own newer changes are not yet published; on every other
    /// board those come after the selection, above it.
    pub fn select_below(
        &self,
        which: Selector,
        keep: &[ClipId],
        seen: u64,
    ) -> Result<Option<Restored>> {
        let ranked: Cell<Option<(CopyOutcome, Ranked)>> = Cell::new(None);
        let seq = self.mutate_if(which, seen, Change::Select, |b, ring, s, seq, now| {
            b.bring_to_front(ring, s, seq, now)?;
            let r = rank_below(ring, keep, seq)?;
            let outcome = CopyOutcome {
                seq,
                entry_seq: s.rec.seq,
                deduplicated: true,
                clip_id: ClipId(s.rec.clip_id),
            };
            ranked.set(Some((outcome, r)));
            Ok(())
        })?;
        // Set whenever the select committed (`seq` is `Some`).
        let (Some(_), Some((outcome, r))) = (seq, ranked.get()) else {
            return Ok(None);
        };
        Ok(Some(Restored {
            outcome,
            below: r.below,
            touched: time_of(r.touched_ns),
        }))
    }
}

fn time_of(ns: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(ns)
}

/// Moves the current entry (just placed at seq `seq`) directly below the
/// lowest-ranked entry of `keep`, by moving that entry and every entry
/// above it one notch up (the module's comment). `below` is that entry's
/// id, or `None` if the board holds none of `keep` (nothing moves). An
/// entry that replaced a kept one in place (its order is not `seq`) stays
/// there: `below` is then the entry directly above it, if any.
fn rank_below(ring: &Ring<'_>, keep: &[ClipId], seq: u64) -> std::result::Result<Ranked, Failure> {
    let placed = ring
        .current()?
        .ok_or(Fault("no current entry after a restore"))?;
    let touched_ns = placed.rec.touched_ns;
    if keep.is_empty() {
        return Ok(Ranked {
            below: None,
            touched_ns,
        });
    }
    let rank = |s: &Slot| (s.rec.order, s.rec.seq);
    let mut others: Vec<Slot> = Vec::new();
    for slot in 0..ring.depth() {
        if slot == placed.slot {
            continue;
        }
        if let Ok(s) = ring.live(slot)
            && s.rec.state == SLOT_COMMITTED
        {
            others.push(s);
        }
    }
    if placed.rec.order != seq {
        // It replaced a kept entry with the same content and took its
        // order (`Prepared::keeping`): nothing moves, but the current clip
        // is the highest-ranked entry again.
        let above = others
            .iter()
            .filter(|s| rank(s) > rank(&placed))
            .min_by_key(|s| rank(s));
        let top = others.iter().max_by_key(|s| rank(s));
        if let Some(top) = top.filter(|t| rank(t) > rank(&placed)) {
            ring.set_current(top);
        }
        return Ok(Ranked {
            below: above.map(|s| ClipId(s.rec.clip_id)),
            touched_ns,
        });
    }
    let Some(anchor) = others
        .iter()
        .filter(|s| keep.contains(&ClipId(s.rec.clip_id)))
        .min_by_key(|s| rank(s))
        .copied()
    else {
        return Ok(Ranked {
            below: None,
            touched_ns,
        });
    };
    // A1..Ak, current first.
    let mut above: Vec<Slot> = others
        .into_iter()
        .filter(|s| rank(s) >= rank(&anchor))
        .collect();
    above.sort_by_key(|s| std::cmp::Reverse(rank(s)));
    // From the top down, the restored entry last: a writer killed half-way
    // leaves the entries above in their order, and the restored one with
    // the order of the last entry rewritten, tied with it (LAYOUT.md: ties
    // rank by seq, so a new entry ranks above it, a moved one below).
    let mut up = seq;
    for s in &above {
        let mut s = *s;
        let was = s.rec.order;
        s.rec.order = up;
        ring.rewrite(&s)?;
        #[cfg(feature = "test-hooks")]
        crate::test_hooks::park_if_asked("rank");
        up = was;
    }
    let mut placed = placed;
    placed.rec.order = up;
    ring.rewrite(&placed)?;
    let top = above
        .first()
        .ok_or(Fault("the kept entry is not above itself"))?;
    ring.set_current(top);
    Ok(Ranked {
        below: Some(ClipId(anchor.rec.clip_id)),
        touched_ns,
    })
}
