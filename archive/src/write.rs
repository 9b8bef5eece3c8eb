//! Changing the archive: insert (with deduplication), delete, clear, pin.
//!
//! Every change is one transaction. Deletes are followed by a scrub
//! ([`Archive::scrub`]: `VACUUM`, then a TRUNCATE checkpoint): the deleted
//! bytes, zeroed by `secure_delete` where the rows were and dropped from
//! the full-text index by its `secure-delete` option, leave the copies a
//! b-tree balance left in pages' free space, and the WAL file, too.

use rusqlite::{Transaction, params};
use twox_hash::XxHash3_128;

use crate::model::to_ns;
use crate::{Archive, Inserted, NewClip, Result, reps, text};

impl Archive {
    /// Archives one clip. Content already archived is not stored again: that
    /// clip's last use, pin and board clip id are updated instead.
    pub fn insert(&mut self, clip: &NewClip<'_>) -> Result<Inserted> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction()
            .map_err(|e| crate::error::sqlite(&path, e))?;
        let done = insert_in(&tx, clip).and_then(|d| tx.commit().map(|()| d));
        done.map_err(|e| crate::error::sqlite(&path, e))
    }

    /// Runs `f` in one write transaction: many inserts and links commit
    /// together, or not at all (the archiver's batches).
    pub fn batch<T>(&mut self, f: impl FnOnce(&Batch<'_>) -> rusqlite::Result<T>) -> Result<T> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| crate::error::sqlite(&path, e))?;
        let out = f(&Batch { tx: &tx }).and_then(|v| tx.commit().map(|()| v));
        out.map_err(|e| crate::error::sqlite(&path, e))
    }

    /// Deletes archived clips by id, then scrubs
    /// ([`Archive::scrub_after_delete`]: when another program kept that from
    /// finishing, or the disk has no room for it, the delete stands and
    /// [`Archive::scrub_pending`] says so). Returns how many existed.
    pub fn delete(&mut self, ids: &[i64]) -> Result<usize> {
        if ids.is_empty() {
            return Ok(0);
        }
        let marked = self.mark_unscrubbed()?;
        let n = self.delete_rows(ids)?;
        if n > 0 || marked.was_pending {
            self.scrub_after_delete()?;
        } else {
            self.unmark_if_unchanged(marked.at)?;
        }
        Ok(n)
    }

    /// Deletes archived clips by id in one transaction, without the scrub:
    /// for prunes, whose callers scrub once at the end (or, for the
    /// configured limits, not at all: an old clip is not one the user
    /// deleted, and `secure_delete` still zeroes its rows).
    pub(crate) fn delete_rows(&mut self, ids: &[i64]) -> Result<usize> {
        self.batch(|b| {
            let mut n = 0;
            for &id in ids {
                n += usize::from(b.delete(id)?);
            }
            Ok(n)
        })
    }

    /// Deletes every archived clip (`clear --all`), then scrubs.
    pub fn clear(&mut self) -> Result<usize> {
        self.mark_unscrubbed()?;
        let n = self.batch(clear_in)?;
        self.scrub_after_delete()?;
        Ok(n)
    }

    /// Forgets what the archive knew of board `board` (its last seq, which
    /// clips are on it): for a board that was just created, whose seqs start
    /// again and must not be matched with the old board's.
    pub fn forget_board(&mut self, board: &str) -> Result<()> {
        self.batch(|b| {
            b.forget_board(board)?;
            b.tx.execute("DELETE FROM boards WHERE board = ?1", [board])?;
            Ok(())
        })
    }

    /// Pins or unpins an archived clip. Returns false for an unknown id.
    pub fn set_pinned(&mut self, id: i64, pinned: bool) -> Result<bool> {
        self.batch(|b| b.set_pinned(id, pinned))
    }

    /// Marks an archived clip as used now (brought back to a board).
    pub fn touch(&mut self, id: i64, at: std::time::SystemTime) -> Result<bool> {
        self.batch(|b| {
            Ok(b.tx.execute(
                "UPDATE clips SET last_used = max(last_used, ?2) WHERE id = ?1",
                params![id, to_ns(at)],
            )? > 0)
        })
    }
}

/// One write transaction of [`Archive::batch`].
pub struct Batch<'t> {
    pub(crate) tx: &'t Transaction<'t>,
}

impl std::fmt::Debug for Batch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Batch")
    }
}

impl Batch<'_> {
    /// [`Archive::insert`] inside this transaction.
    pub fn insert(&self, clip: &NewClip<'_>) -> rusqlite::Result<Inserted> {
        insert_in(self.tx, clip)
    }

    /// Deletes one clip with its representations, its index entry, and the
    /// blobs no other clip uses (the caller scrubs after the commit).
    /// Returns whether it existed.
    pub fn delete(&self, id: i64) -> rusqlite::Result<bool> {
        let body = indexed_text(self.tx, id)?;
        if !body.trim().is_empty() {
            self.tx
                .prepare_cached(
                    "INSERT INTO clip_text (clip_text, rowid, body) VALUES ('delete', ?1, ?2)",
                )?
                .execute(params![id, body])?;
        }
        reps::delete(self.tx, id)?;
        Ok(self
            .tx
            .prepare_cached("DELETE FROM clips WHERE id = ?1")?
            .execute([id])?
            > 0)
    }

    /// Deletes every archived clip inside this transaction (the caller
    /// scrubs after the commit). Returns how many there were.
    pub fn clear_all(&self) -> rusqlite::Result<usize> {
        clear_in(self)
    }

    /// Pins or unpins a clip. Returns false for an unknown id.
    pub fn set_pinned(&self, id: i64, pinned: bool) -> rusqlite::Result<bool> {
        Ok(self
            .tx
            .prepare_cached("UPDATE clips SET pinned = ?2 WHERE id = ?1")?
            .execute(params![id, pinned])?
            > 0)
    }

    /// The underlying transaction, for the crate's other modules.
    pub(crate) fn tx(&self) -> &Transaction<'_> {
        self.tx
    }
}

/// [`Batch::clear_all`], as a function of any batch ([`Archive::batch`]
/// takes one for every lifetime).
fn clear_in(b: &Batch<'_>) -> rusqlite::Result<usize> {
    b.tx.execute("DELETE FROM representations", [])?;
    let n = b.tx.execute("DELETE FROM clips", [])?;
    b.tx.execute_batch(
        "DELETE FROM blobs;
         INSERT INTO clip_text (clip_text) VALUES ('delete-all');
         DELETE FROM board_entries;",
    )?;
    Ok(n)
}

/// The hash that makes two board entries one archived clip: every
/// representation's MIME type, size and content hash, in order. 8 bytes
/// (schema 3, the low half of the 16 before): it only finds candidates,
/// equal bytes decide.
pub(crate) fn content_key(reps: &[shm_clip::Representation]) -> i64 {
    let mut key = Vec::with_capacity(reps.len() * 48);
    for r in reps {
        key.extend_from_slice(&(r.mime.len() as u64).to_le_bytes());
        key.extend_from_slice(r.mime.as_bytes());
        key.extend_from_slice(&(r.data.len() as u64).to_le_bytes());
        key.extend_from_slice(&XxHash3_128::oneshot(&r.data).to_le_bytes());
    }
    crate::reps::low_half(XxHash3_128::oneshot(&key))
}

fn insert_in(tx: &Transaction<'_>, clip: &NewClip<'_>) -> rusqlite::Result<Inserted> {
    let key = content_key(clip.reps);
    let touched = to_ns(clip.touched);
    let candidates: Vec<i64> = tx
        .prepare_cached("SELECT id FROM clips WHERE content = ?1")?
        .query_map([key], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in candidates {
        if !same_content(tx, id, clip.reps)? {
            continue;
        }
        // The board's newest entry with this content is the one a restore
        // should name; a clip id another clip already holds stays there.
        tx.prepare_cached(
            "UPDATE clips SET last_used = max(last_used, ?2), pinned = ?3,
                 clip_id = CASE WHEN ?4 IS NULL OR EXISTS
                     (SELECT 1 FROM clips c WHERE c.clip_id = ?4 AND c.id != ?1)
                     THEN clip_id ELSE ?4 END
             WHERE id = ?1",
        )?
        .execute(params![
            id,
            touched,
            clip.pinned,
            clip.clip_id.as_ref().map(|c| &c[..])
        ])?;
        return Ok(Inserted { id, new: false });
    }
    let clip_id = match clip.clip_id {
        Some(c) => {
            let taken: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM clips WHERE clip_id = ?1)")?
                .query_row([&c[..]], |r| r.get(0))?;
            (!taken).then_some(c)
        }
        None => None,
    };
    let total: u64 = clip.reps.iter().map(|r| r.data.len() as u64).sum();
    tx.prepare_cached(
        "INSERT INTO clips (clip_id, content, board, first_seen, last_used,
             origin_kind, origin_pid, origin_label, pinned, total_size)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        clip_id.as_ref().map(|c| &c[..]),
        key,
        reps::name_id(tx, clip.board)?,
        to_ns(clip.created),
        touched,
        clip.origin.kind.to_raw(),
        clip.origin.pid,
        reps::name_id(tx, &clip.origin.label)?,
        clip.pinned,
        i64::try_from(total).unwrap_or(i64::MAX),
    ])?;
    let id = tx.last_insert_rowid();
    reps::write(tx, id, clip.reps)?;
    let body = text::searchable(clip.reps.iter().map(|r| (r.mime.as_str(), &r.data[..])));
    if !body.trim().is_empty() {
        tx.prepare_cached("INSERT INTO clip_text (rowid, body) VALUES (?1, ?2)")?
            .execute(params![id, body])?;
    }
    Ok(Inserted { id, new: true })
}

/// The text that was indexed for clip `id`: the same function of the same
/// bytes as at insert, which a contentless index needs to delete it.
pub(crate) fn indexed_text(tx: &Transaction<'_>, id: i64) -> rusqlite::Result<String> {
    let texts = reps::read(tx, id, |mime| {
        if shm_clip::text_kind(mime).is_some() {
            text::MAX_INDEXED
        } else {
            0
        }
    })?;
    Ok(text::searchable(
        texts
            .iter()
            .filter(|r| shm_clip::text_kind(&r.mime).is_some())
            .map(|r| (r.mime.as_str(), r.data.as_slice())),
    ))
}

/// Whether clip `id` holds exactly `reps`, byte for byte.
fn same_content(
    tx: &Transaction<'_>,
    id: i64,
    reps: &[shm_clip::Representation],
) -> rusqlite::Result<bool> {
    let stored = reps::read(tx, id, |_| usize::MAX)?;
    Ok(stored.len() == reps.len()
        && stored
            .iter()
            .zip(reps)
            .all(|(s, r)| s.mime == r.mime && s.data == r.data))
}

#[cfg(test)]
mod tests {
    /// Content keys are stored: any hashing crate must give exactly these.
    #[test]
    fn content_keys_are_the_stored_ones() {
        let one = [shm_clip::Representation {
            mime: "text/plain".into(),
            data: b"hello".to_vec(),
        }];
        let two = [
            shm_clip::Representation {
                mime: "text/html".into(),
                data: b"<b>hello</b>".to_vec(),
            },
            one[0].clone(),
        ];
        let got = [super::content_key(&one), super::content_key(&two)];
        assert_eq!(got, [-3_870_804_866_425_937_037, -778_668_575_274_949_891]);
    }
}
