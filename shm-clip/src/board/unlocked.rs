//! Pasting the current clip, or one of its types, without the board lock:
//! a seqlock reader
//! (LAYOUT.md, "Optimistic reads").
//!
//! Readers woken by the same copy all paste at once. With the lock, they
//! queued on it one after another, and one preempted while holding it made
//! the others sleep. Here a reader copies the current slot, the record's
//! directory and its representations out while writers may run, and keeps
//! the copy only if the write generation shows that no lock holder ran in
//! between, and every checksum holds. Anything else (a holder at work, a
//! slot or length that does not check, a large clip) goes back to the locked
//! path, which repairs, reports errors and waits: this path never does.

use std::sync::atomic::{Ordering, fence};

use super::Board;
use super::read::{Spare, VERIFY_LATER_REPS, first_mismatch, pick_type, verify_later};
use crate::Representation;
use crate::format::{NO_SLOT, SLOT_COMMITTED, off};

/// Tries before giving up on this path: a generation that moved twice means
/// writers are busy, and waiting on the lock is fairer than spinning.
const ATTEMPTS: usize = 2;

impl Board {
    /// The current clip, read without the lock, or `None` when the locked
    /// path must decide: an empty board, a holder at work, a large clip, or
    /// anything that did not check.
    pub(super) fn current_unlocked(&self, spare: &mut Spare) -> Option<Vec<Representation>> {
        self.unlocked(None, spare)
    }

    /// The current clip's representation of `mime` (as `get_type` picks
    /// it), read without the lock; `None` as for [`Board::current_unlocked`],
    /// and when the clip has no such type (the locked path names the types).
    pub(super) fn current_type_unlocked(
        &self,
        mime: &str,
        spare: &mut Spare,
    ) -> Option<Representation> {
        self.unlocked(Some(mime), spare)?.pop()
    }

    /// The seqlock reader: the current entry's representations (all, or the
    /// one `mime` picks), kept only if no holder ran during the copy and
    /// every checksum holds.
    fn unlocked(&self, mime: Option<&str>, spare: &mut Spare) -> Option<Vec<Representation>> {
        let cell = self.seg.write_gen_cell();
        for _ in 0..ATTEMPTS {
            let generation = cell.load(Ordering::Acquire);
            if generation % 2 == 1 {
                return None;
            }
            let copied = self.copy_current(mime, spare);
            // Orders every copy above before the second load: had any of
            // them seen a holder's write, this load sees its generation.
            fence(Ordering::Acquire);
            if cell.load(Ordering::Relaxed) != generation {
                continue;
            }
            let (reps, sums) = copied?;
            // No holder ran: the bytes are what the last one left. A
            // mismatch is then real damage, which the locked path reports.
            return first_mismatch(&reps, &sums).is_none().then_some(reps);
        }
        None
    }

    /// Copies the current entry's representations out (all, or the one
    /// `mime` picks), with the checksums they must have. Every value is read
    /// once and checked as the locked path checks it; what fails is `None`,
    /// not an error, because a holder may have been changing it.
    fn copy_current(
        &self,
        mime: Option<&str>,
        spare: &mut Spare,
    ) -> Option<(Vec<Representation>, [u64; VERIFY_LATER_REPS])> {
        let slot = self.seg.header_u32(off::CURRENT);
        if slot == NO_SLOT {
            return None;
        }
        let rec = self.seg.read_index(slot as usize).ok()?;
        if rec.state != SLOT_COMMITTED || !rec.meta_ok {
            return None;
        }
        rec.check(self.seg.geometry().arena_size).ok()?;
        let (mut infos, _) = self.read_directory(&rec).ok()?;
        if let Some(mime) = mime {
            infos = vec![pick_type(&infos, mime)?.clone()];
        }
        if !verify_later(&infos) {
            return None;
        }
        // At most VERIFY_LATER_REPS (checked above): no allocation for them.
        let mut sums = [0; VERIFY_LATER_REPS];
        for (sum, info) in sums.iter_mut().zip(&infos) {
            *sum = info.checksum;
        }
        let reps = infos
            .into_iter()
            .map(|info| self.read_rep(&rec, info, false, spare).ok())
            .collect::<Option<_>>()?;
        Some((reps, sums))
    }
}
