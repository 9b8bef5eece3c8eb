//! What a change was, told from two snapshots of the history.
//!
//! A notification says only that the seq moved. `watch` keeps the history it
//! last saw and compares it with the new one; every command leaves a
//! distinct trace there:
//!
//! - a seq that was not there before: a `copy` (entries it evicted are in
//!   `removed`);
//! - the current entry's `touched` moved: a `select`, or a `copy` of content
//!   already in the history when its origin changed too (a copy restamps
//!   the entry with the copier, a select does not);
//! - a pin flag flipped: `pin` or `unpin`;
//! - one entry gone: `delete`; several: `clear`; nothing visible: a `clear`
//!   that found nothing to remove.
//!
//! Limits, documented in docs/json.md: changes that arrive together are
//! reported as one, by the first rule above that matches; a `clear` that
//! removes exactly one entry reads as `delete`; a re-copy by the process that
//! wrote the entry reads as `select`.

use shm_clip::EntryInfo;

use crate::json::EventKind;

/// The result of comparing two snapshots.
#[derive(Debug, PartialEq, Eq)]
pub struct Change {
    pub kind: EventKind,
    /// The position in the new snapshot of the entry the change concerns.
    pub entry: Option<usize>,
    /// The seqs of the entries that went, oldest snapshot order.
    pub removed: Vec<u64>,
}

/// Classifies the change from `before` to `after` (both current first).
pub fn classify(before: &[EntryInfo], after: &[EntryInfo]) -> Change {
    let old = |seq: u64| before.iter().find(|e| e.seq == seq);
    let removed: Vec<u64> = before
        .iter()
        .map(|e| e.seq)
        .filter(|&seq| after.iter().all(|e| e.seq != seq))
        .collect();
    let change = |kind, entry| Change {
        kind,
        entry,
        removed: removed.clone(),
    };
    if let Some(new) = after.iter().position(|e| old(e.seq).is_none()) {
        return change(EventKind::Copy, Some(new));
    }
    if let Some((current, was)) = after.first().and_then(|e| Some((e, old(e.seq)?)))
        && current.touched != was.touched
    {
        let kind = if current.origin == was.origin {
            EventKind::Select
        } else {
            EventKind::Copy
        };
        return change(kind, Some(0));
    }
    let flipped = after
        .iter()
        .position(|e| old(e.seq).is_some_and(|was| was.pinned != e.pinned));
    if let Some(i) = flipped {
        let kind = if after[i].pinned {
            EventKind::Pin
        } else {
            EventKind::Unpin
        };
        return change(kind, Some(i));
    }
    let kind = if removed.len() == 1 {
        EventKind::Delete
    } else {
        EventKind::Clear
    };
    change(kind, None)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use shm_clip::{Origin, OriginKind};

    use super::*;

    fn entry(seq: u64, touched: u64, pid: u32, pinned: bool) -> EntryInfo {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(touched);
        EntryInfo {
            index: 0,
            seq,
            created: at,
            touched: at,
            origin: Origin {
                pid,
                kind: OriginKind::Cli,
                label: String::new(),
            },
            pinned,
            total_size: 1,
            types: vec![("text/plain".into(), 1)],
            preview: "x".into(),
            clip_id: shm_clip::ClipId::default(),
            origin_node: shm_clip::NodeId::default(),
        }
    }

    fn kind(before: &[EntryInfo], after: &[EntryInfo]) -> (EventKind, Option<usize>, Vec<u64>) {
        let c = classify(before, after);
        (c.kind, c.entry, c.removed)
    }

    #[test]
    fn each_command_leaves_its_own_trace() {
        let a = entry(1, 10, 100, false);
        let b = entry(2, 20, 101, false);
        let two = [b.clone(), a.clone()];
        // copy: a new seq, possibly evicting.
        let c = entry(3, 30, 102, false);
        assert_eq!(
            kind(&two, &[c.clone(), b.clone(), a.clone()]).0,
            EventKind::Copy
        );
        assert_eq!(
            kind(&two, &[c, b.clone()]),
            (EventKind::Copy, Some(0), vec![1])
        );
        // select: the old entry in front, touched again, same origin.
        let selected = entry(1, 30, 100, false);
        assert_eq!(
            kind(&two, &[selected, b.clone()]),
            (EventKind::Select, Some(0), vec![])
        );
        // select of the current entry.
        assert_eq!(
            kind(&two, &[entry(2, 30, 101, false), a.clone()]).0,
            EventKind::Select
        );
        // copy of content already there: restamped by the copier.
        let recopied = entry(1, 30, 555, false);
        assert_eq!(kind(&two, &[recopied, b.clone()]).0, EventKind::Copy);
        // pin and unpin.
        let pinned = [b.clone(), entry(1, 10, 100, true)];
        assert_eq!(kind(&two, &pinned), (EventKind::Pin, Some(1), vec![]));
        assert_eq!(kind(&pinned, &two), (EventKind::Unpin, Some(1), vec![]));
        // delete of the current entry is not a select.
        assert_eq!(
            kind(&two, std::slice::from_ref(&a)),
            (EventKind::Delete, None, vec![2])
        );
        // clear: several gone, or nothing at all.
        assert_eq!(kind(&two, &[]), (EventKind::Clear, None, vec![2, 1]));
        assert_eq!(kind(&two, &two), (EventKind::Clear, None, vec![]));
    }
}
