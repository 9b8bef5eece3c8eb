//! Why an entry left the board: removed by the user (`rm`, `clear`), which
//! the archive follows, or evicted, which it must not follow.
//!
//! The board logs every `delete` and `clear` in its removal log (the last
//! 64, each with the seq that published it) and never an eviction. Read
//! against the previous look (its seq and what each entry was then), the
//! log tells the two apart exactly:
//! - a `Deleted` removal names the clip id it took;
//! - a `Cleared` removal took every entry that was unpinned at its seq;
//!   the pin at the previous look stands for the pin at that seq;
//! - a `ClearedAll` removal took every entry.
//!
//! When removals after the previous look have already left the log (more
//! than 64 between two looks), an entry that nothing in the log explains
//! cannot be told from an eviction: the caller falls back to what the look
//! alone proves. So does an entry whose clip id is not known (archived by a
//! build that stored none) when a `delete` came since.

use std::collections::HashSet;

use shm_clip::{RemovalKind, RemovalLog};

/// What the board's removal log says happened after the previous look.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Removals {
    /// Clip ids that `delete` took.
    deleted: HashSet<[u8; 16]>,
    /// A `delete` of an entry without a clip id (from an older build): it
    /// may have taken any entry without one.
    deleted_unnamed: bool,
    /// The newest `clear` (unpinned entries).
    cleared: Option<u64>,
    /// The newest `clear --all` up to the look's seq.
    cleared_all: Option<u64>,
    /// Some removals after the previous look are no longer in the log.
    lost: bool,
}

/// An entry that was on the board at the previous look and is gone now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Gone {
    /// The seq that created it.
    pub(crate) seq: u64,
    /// Its clip id, if known.
    pub(crate) clip_id: Option<[u8; 16]>,
    /// Whether it was pinned at the previous look.
    pub(crate) pinned: bool,
}

/// Why an entry left, as far as the log tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// `rm` or `clear` took it: it goes from the archive too.
    Removed,
    /// Nothing removed it, so a copy evicted it: it stays archived.
    Evicted,
    /// The log cannot tell (it lost removals): the caller decides.
    Unknown,
}

impl Removals {
    /// The removals of `log` published after seq `prev` (the previous
    /// look). A `clear --all` counts only up to `upto`, the seq this look
    /// records as seen: one after it empties the archive at the next look,
    /// once, and not while entries copied before it are being archived.
    pub(crate) fn since(log: &RemovalLog, prev: u64, upto: u64) -> Removals {
        let mut r = Removals {
            // The log keeps the newest removals: some are missing, and the
            // oldest kept one does not follow the previous look directly, so
            // some of those missing may have come after it.
            lost: log.missed > 0
                && log
                    .removals
                    .first()
                    .is_none_or(|oldest| oldest.seq > prev.saturating_add(1)),
            ..Removals::default()
        };
        for removal in log.removals.iter().filter(|x| x.seq > prev) {
            match removal.kind {
                RemovalKind::Deleted => match removal.clip_id.filter(|c| !c.is_nil()) {
                    Some(id) => {
                        r.deleted.insert(id.0);
                    }
                    None => r.deleted_unnamed = true,
                },
                RemovalKind::Cleared => r.cleared = r.cleared.max(Some(removal.seq)),
                RemovalKind::ClearedAll if removal.seq <= upto => {
                    r.cleared_all = r.cleared_all.max(Some(removal.seq));
                }
                RemovalKind::ClearedAll => {}
            }
        }
        r
    }

    /// Whether a `clear --all` came after the previous look: the whole
    /// archive goes.
    pub(crate) fn empties_archive(&self) -> bool {
        self.cleared_all.is_some()
    }

    /// Whether removals after the previous look are missing from the log.
    pub(crate) fn lost(&self) -> bool {
        self.lost
    }

    /// Why `gone` left the board.
    pub(crate) fn verdict(&self, gone: &Gone) -> Verdict {
        let after = |at: Option<u64>| at.is_some_and(|s| s > gone.seq);
        let named = gone.clip_id.is_some_and(|id| self.deleted.contains(&id));
        if named || after(self.cleared_all) || (!gone.pinned && after(self.cleared)) {
            Verdict::Removed
        } else if self.lost
            || (gone.clip_id.is_none() && (self.deleted_unnamed || !self.deleted.is_empty()))
        {
            // Without its clip id, an entry may be the one any delete took.
            Verdict::Unknown
        } else {
            Verdict::Evicted
        }
    }
}

#[cfg(test)]
mod tests {
    use shm_clip::{ClipId, Removal};

    use super::*;

    fn log(removals: &[(u64, RemovalKind, u8)], missed: u64) -> RemovalLog {
        RemovalLog {
            removals: removals
                .iter()
                .map(|&(seq, kind, id)| Removal {
                    seq,
                    kind,
                    clip_id: (kind == RemovalKind::Deleted).then_some(ClipId([id; 16])),
                })
                .collect(),
            next: missed + removals.len() as u64,
            missed,
        }
    }

    fn gone(seq: u64, id: u8, pinned: bool) -> Gone {
        Gone {
            seq,
            clip_id: Some([id; 16]),
            pinned,
        }
    }

    #[test]
    fn a_delete_names_its_entry_and_nothing_else() {
        let r = Removals::since(&log(&[(3, RemovalKind::Deleted, 7)], 0), 2, 10);
        assert_eq!(r.verdict(&gone(1, 7, false)), Verdict::Removed);
        assert_eq!(r.verdict(&gone(1, 7, true)), Verdict::Removed);
        assert_eq!(r.verdict(&gone(2, 8, false)), Verdict::Evicted);
        assert!(!r.empties_archive());
    }

    #[test]
    fn removals_up_to_the_previous_look_were_applied_then() {
        let r = Removals::since(&log(&[(3, RemovalKind::Deleted, 7)], 0), 3, 10);
        assert_eq!(r.verdict(&gone(1, 7, false)), Verdict::Evicted);
        let r = Removals::since(&log(&[(3, RemovalKind::ClearedAll, 0)], 0), 3, 10);
        assert!(!r.empties_archive());
    }

    #[test]
    fn a_clear_takes_older_unpinned_entries() {
        let r = Removals::since(&log(&[(5, RemovalKind::Cleared, 0)], 0), 4, 9);
        assert_eq!(r.verdict(&gone(4, 1, false)), Verdict::Removed);
        assert_eq!(r.verdict(&gone(4, 1, true)), Verdict::Evicted);
        assert_eq!(r.verdict(&gone(6, 1, false)), Verdict::Evicted);
    }

    #[test]
    fn a_clear_all_takes_everything_once_it_is_seen() {
        let l = log(&[(5, RemovalKind::ClearedAll, 0)], 0);
        let r = Removals::since(&l, 4, 9);
        assert!(r.empties_archive());
        assert_eq!(r.verdict(&gone(4, 1, true)), Verdict::Removed);
        // A look that raced it records seq 4 as seen: the next look sees it.
        assert!(!Removals::since(&l, 3, 4).empties_archive());
    }

    #[test]
    fn an_overrun_log_is_unknown_only_where_it_is_silent() {
        // 70 removals logged, the oldest kept one at seq 20: those before it
        // (some after the previous look at 10) are gone from the log.
        let kept: Vec<_> = (0..64u8)
            .map(|i| (20 + u64::from(i), RemovalKind::Deleted, i))
            .collect();
        let r = Removals::since(&log(&kept, 6), 10, 100);
        assert!(r.lost());
        assert_eq!(r.verdict(&gone(5, 3, false)), Verdict::Removed);
        assert_eq!(r.verdict(&gone(5, 200, false)), Verdict::Unknown);
        // The oldest kept one follows the previous look: nothing after it
        // was lost.
        let r = Removals::since(&log(&kept, 6), 19, 100);
        assert!(!r.lost());
        assert_eq!(r.verdict(&gone(5, 200, false)), Verdict::Evicted);
    }

    #[test]
    fn an_entry_without_a_clip_id_is_unknown_after_any_delete() {
        let r = Removals::since(&log(&[(3, RemovalKind::Deleted, 7)], 0), 2, 10);
        let unnamed = Gone {
            seq: 1,
            clip_id: None,
            pinned: false,
        };
        assert_eq!(r.verdict(&unnamed), Verdict::Unknown);
        let r = Removals::since(&log(&[(3, RemovalKind::Cleared, 0)], 0), 2, 10);
        assert_eq!(r.verdict(&unnamed), Verdict::Removed);
        assert_eq!(
            r.verdict(&Gone {
                pinned: true,
                ..unnamed
            }),
            Verdict::Evicted
        );
    }

    #[test]
    fn a_delete_without_a_clip_id_leaves_entries_without_one_unknown() {
        let mut l = log(&[(3, RemovalKind::Deleted, 0)], 0);
        l.removals[0].clip_id = None;
        let r = Removals::since(&l, 2, 10);
        let unnamed = Gone {
            seq: 1,
            clip_id: None,
            pinned: false,
        };
        assert_eq!(r.verdict(&unnamed), Verdict::Unknown);
        assert_eq!(r.verdict(&gone(1, 9, false)), Verdict::Evicted);
    }
}
