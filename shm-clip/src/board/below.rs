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

use super::write::Prepared;
use super::{Board, Failure};
use crate::format::SLOT_COMMITTED;
use crate::ids::ClipId;
use crate::ring::{Fault, Ring, Slot};
use crate::{Clip, CopyOutcome, Provenance, Result};

/// What [`Board::restore_below`] committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Restored {
    /// The commit, as [`Board::restore`] reports it.
    pub outcome: CopyOutcome,
    /// The entry the restored one was put directly below; `None`: the
    /// restored entry is the current clip.
    pub below: Option<ClipId>,
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
        let prepared: Prepared<'_> = self.prepare(clip, Some(provenance))?;
        let guard = self.seg.lock()?;
        // Every commit stores the seq under the lock: it cannot move now.
        if self.seq() != seen {
            return Ok(None);
        }
        let (outcome, below) = self.commit_prepared(guard, &prepared, |ring, seq| {
            if keep.is_empty() {
                return Ok(None);
            }
            rank_below(ring, keep, seq)
        })?;
        Ok(Some(Restored { outcome, below }))
    }
}

/// Moves the current entry (just placed at seq `seq`) directly below the
/// lowest-ranked entry of `keep`, by moving that entry and every entry
/// above it one notch up (the module's comment). Returns that entry's id,
/// or `None` if the board holds none of `keep` (nothing moves).
fn rank_below(
    ring: &Ring<'_>,
    keep: &[ClipId],
    seq: u64,
) -> std::result::Result<Option<ClipId>, Failure> {
    let placed = ring
        .current()?
        .ok_or(Fault("no current entry after a restore"))?;
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
    let Some(anchor) = others
        .iter()
        .filter(|s| keep.contains(&ClipId(s.rec.clip_id)))
        .min_by_key(|s| rank(s))
        .copied()
    else {
        return Ok(None);
    };
    // A1..Ak, current first.
    let mut above: Vec<Slot> = others
        .into_iter()
        .filter(|s| rank(s) >= rank(&anchor))
        .collect();
    above.sort_by_key(|s| std::cmp::Reverse(rank(s)));
    // From the top down, the restored entry last: a writer killed half-way
    // leaves the entries above in their order, and the restored one on top
    // of them (as a plain restore would) until its own order is written,
    // or tied with the one it passes (told apart by seq, as everywhere).
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
    Ok(Some(ClipId(anchor.rec.clip_id)))
}
