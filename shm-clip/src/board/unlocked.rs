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
use super::read::{DirectoryBuf, VERIFY_LATER_REPS, first_mismatch, pick_type, verify_later};
use crate::Representation;
use crate::format::{NO_SLOT, SLOT_COMMITTED, off};

/// Tries before giving up on this path: a generation that moved twice means
/// writers are busy, and waiting on the lock is fairer than spinning.
const ATTEMPTS: usize = 2;

impl Board {
    /// Fills `reps` with the current clip (see [`super::read::nth_buffer`]),
    /// read without the lock; `false` when the locked path must decide: an
    /// empty board, a holder at work, a large clip, or anything that did not
    /// check. `reps` then holds buffers for that path to fill again.
    pub(super) fn current_unlocked(&self, reps: &mut Vec<Representation>) -> bool {
        self.unlocked(None, reps)
    }

    /// Fills `reps` with the current clip's representation of `mime` (as
    /// `get_type` picks it), read without the lock; `false` as for
    /// [`Board::current_unlocked`], and when the clip has no such type (the
    /// locked path names the types).
    pub(super) fn current_type_unlocked(&self, mime: &str, reps: &mut Vec<Representation>) -> bool {
        self.unlocked(Some(mime), reps)
    }

    /// The seqlock reader: the current entry's representations (all, or the
    /// one `mime` picks), kept only if no holder ran during the copy and
    /// every checksum holds.
    fn unlocked(&self, mime: Option<&str>, reps: &mut Vec<Representation>) -> bool {
        let cell = self.seg.write_gen_cell();
        for _ in 0..ATTEMPTS {
            let generation = cell.load(Ordering::Acquire);
            if generation % 2 == 1 {
                return false;
            }
            let copied = self.copy_current(mime, reps);
            // Orders every copy above before the second load: had any of
            // them seen a holder's write, this load sees its generation.
            fence(Ordering::Acquire);
            if cell.load(Ordering::Relaxed) != generation {
                continue;
            }
            let Some(sums) = copied else {
                return false;
            };
            // No holder ran: the bytes are what the last one left. A
            // mismatch is then real damage, which the locked path reports.
            return first_mismatch(reps, &sums).is_none();
        }
        false
    }

    /// Copies the current entry's representations out into `reps` (all, or
    /// the one `mime` picks), and returns the checksums they must have.
    /// Every value is read once and checked as the locked path checks it;
    /// what fails is `None`, not an error, because a holder may have been
    /// changing it.
    fn copy_current(
        &self,
        mime: Option<&str>,
        reps: &mut Vec<Representation>,
    ) -> Option<[u64; VERIFY_LATER_REPS]> {
        let slot = self.seg.header_u32(off::CURRENT);
        if slot == NO_SLOT {
            return None;
        }
        let rec = self.seg.read_index(slot as usize).ok()?;
        if rec.state != SLOT_COMMITTED || !rec.meta_ok {
            return None;
        }
        rec.check(self.seg.geometry().arena_size).ok()?;
        let mut buf = DirectoryBuf::new();
        let dir = self.read_directory(&rec, &mut buf).ok()?;
        let mut sums = [0; VERIFY_LATER_REPS];
        // One type, or all of them: the same copy, over different lists.
        let read = if let Some(mime) = mime {
            let info = pick_type(&dir, mime)?;
            if !verify_later(1, info.data_len) {
                return None;
            }
            self.read_reps(&rec, std::iter::once(info), reps, Some(&mut sums))
        } else {
            if !verify_later(dir.count(), dir.data_len()) {
                return None;
            }
            self.read_reps(&rec, dir.reps(), reps, Some(&mut sums))
        };
        read.ok()?;
        Some(sums)
    }
}
