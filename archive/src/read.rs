//! Reading the archive: one clip, the list by recency, full-text search,
//! statistics, and the order in which a new board is refilled.

use rusqlite::{OptionalExtension, Row, params};
use shm_clip::{Clip, Origin, OriginKind, Representation};

use crate::model::{from_ns, preview};
use crate::{Archive, ArchivedInfo, Error, Hit, Result, Stats, files, reps, text};

/// The columns [`info_from`] reads, in its order, from [`INFO_FROM`].
const INFO_COLUMNS: &str = "c.id, c.clip_id, nb.name, c.first_seen, c.last_used, \
     c.origin_kind, c.origin_pid, nl.name, c.pinned, c.total_size";

/// `clips` with its interned board name and origin label.
const INFO_FROM: &str =
    "clips c JOIN names nb ON nb.id = c.board JOIN names nl ON nl.id = c.origin_label";

/// How many of the newest matches a search ranks by relevance.
pub const SEARCH_WINDOW: usize = 1000;

/// How many bytes of a text representation a preview reads.
const PREVIEW_READ: usize = 400;

impl Archive {
    /// One archived clip's info, or `NoSuchClip`.
    pub fn info(&self, id: i64) -> Result<ArchivedInfo> {
        let sql = format!("SELECT {INFO_COLUMNS} FROM {INFO_FROM} WHERE c.id = ?1");
        let row = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row([id], info_from).optional())
            .map_err(|e| self.err(e))?
            .ok_or(Error::NoSuchClip(id))?;
        self.complete(row)
    }

    /// One archived clip with its content, or `NoSuchClip`.
    pub fn get(&self, id: i64) -> Result<(ArchivedInfo, Clip)> {
        let info = self.info(id)?;
        let reps = reps::read(&self.conn, id, |_| usize::MAX)
            .map_err(|e| self.err(e))?
            .into_iter()
            .map(|r| Representation {
                mime: r.mime,
                data: r.data,
            })
            .collect();
        Ok((info, Clip { reps }))
    }

    /// Archived clips, most recently used first, skipping `offset`.
    pub fn list(&self, limit: usize, offset: usize) -> Result<Vec<ArchivedInfo>> {
        let sql = format!(
            "SELECT {INFO_COLUMNS} FROM {INFO_FROM} ORDER BY c.last_used DESC, c.id DESC
             LIMIT ?1 OFFSET ?2"
        );
        let rows = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(params![limit as i64, offset as i64], info_from)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.err(e))?;
        rows.into_iter().map(|r| self.complete(r)).collect()
    }

    /// Clips whose text holds every word of `query` (the last one as a
    /// prefix), most relevant (bm25) first, then most recently used.
    ///
    /// Relevance is ranked among the newest [`SEARCH_WINDOW`] matches (by
    /// archive id, the order clips were first archived): a word that half of
    /// 100,000 clips contain costs a bounded look, not a score for each of
    /// them, and what is found while typing is what was copied lately.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Hit>> {
        let Some(fts) = text::fts_query(query) else {
            return Ok(Vec::new());
        };
        let window = SEARCH_WINDOW.max(limit);
        // The index alone: rowid and score. No join here, because looking
        // up `clips` for each of up to 1,000 matches cost more than the
        // match itself; recency is looked up for the few that can be shown.
        let mut scored: Vec<(f64, i64)> = self
            .conn
            .prepare_cached(
                "SELECT rowid, bm25(clip_text) FROM clip_text
                 WHERE clip_text MATCH ?1 ORDER BY rowid DESC LIMIT ?2",
            )
            .and_then(|mut s| {
                s.query_map(params![fts, window as i64], |r| Ok((r.get(1)?, r.get(0)?)))?
                    .collect::<rusqlite::Result<_>>()
            })
            .map_err(|e| self.err(e))?;
        // bm25: lower is better.
        scored.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Every match that scores as well as the last one shown may take
        // its place by recency, so all of those are kept for the tie-break.
        if let Some(last) = scored.get(limit.saturating_sub(1)).map(|s| s.0) {
            let keep = scored.partition_point(|s| s.0 <= last);
            scored.truncate(keep.max(limit));
        }
        let mut ranked = Vec::with_capacity(scored.len());
        for (score, id) in scored {
            let used: Option<i64> = self
                .conn
                .prepare_cached("SELECT last_used FROM clips WHERE id = ?1")
                .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
                .map_err(|e| self.err(e))?;
            // An index entry without its clip (never left by a delete,
            // which removes both in one transaction) is not a hit.
            if let Some(used) = used {
                ranked.push((score, used, id));
            }
        }
        // Ties go to the most recently used.
        ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        ranked
            .into_iter()
            .take(limit)
            .map(|(score, _, id)| {
                Ok(Hit {
                    info: self.info(id)?,
                    score,
                })
            })
            .collect()
    }

    /// Counts and sizes.
    pub fn stats(&self) -> Result<Stats> {
        let q = |sql: &str| -> Result<i64> {
            self.conn
                .query_row(sql, [], |r| r.get::<_, Option<i64>>(0))
                .map(Option::unwrap_or_default)
                .map_err(|e| self.err(e))
        };
        let opt = |sql: &str| -> Result<Option<i64>> {
            self.conn
                .query_row(sql, [], |r| r.get(0))
                .map_err(|e| self.err(e))
        };
        let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
        let (representations, blobs, stored_bytes) =
            reps::counts(&self.conn).map_err(|e| self.err(e))?;
        Ok(Stats {
            clips: q("SELECT count(*) FROM clips")? as u64,
            pinned: q("SELECT count(*) FROM clips WHERE pinned")? as u64,
            representations,
            blobs,
            stored_bytes,
            clip_bytes: q("SELECT sum(total_size) FROM clips")? as u64,
            file_bytes: size(&self.path),
            wal_bytes: size(&files::side_file(&self.path, "-wal")),
            oldest: opt("SELECT min(last_used) FROM clips")?.map(from_ns),
            newest: opt("SELECT max(last_used) FROM clips")?.map(from_ns),
        })
    }

    /// The clips that refill a new board named `board`, in the order to
    /// restore them (oldest first, so the newest ends up current): of the
    /// clips archived from that board, pinned clips first, then the most
    /// recently used, up to `depth` clips whose sizes add up to at most
    /// `capacity` bytes (a clip that does not fit is skipped). Another
    /// board's clips stay out: boards keep apart what their user keeps apart.
    pub fn restore_order(&self, board: &str, depth: usize, capacity: u64) -> Result<Vec<i64>> {
        let mut chosen = Vec::new();
        let mut room = capacity;
        // Two walks of an index each (the pinned few, then the rest by
        // recency) rather than one sort of every clip.
        for pinned in [true, false] {
            let sql = format!(
                "SELECT id, total_size FROM clips
                 WHERE {}pinned AND board = (SELECT id FROM names WHERE name = ?1)
                 ORDER BY last_used DESC, id DESC",
                if pinned { "" } else { "NOT " }
            );
            let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
            let mut rows = stmt.query([board]).map_err(|e| self.err(e))?;
            while chosen.len() < depth {
                let Some(row) = rows.next().map_err(|e| self.err(e))? else {
                    break;
                };
                let (id, size): (i64, i64) = (
                    row.get(0).map_err(|e| self.err(e))?,
                    row.get(1).map_err(|e| self.err(e))?,
                );
                let size = size as u64;
                if size <= room {
                    room -= size;
                    chosen.push(id);
                }
            }
        }
        // Restore by recency alone, so the board's order matches the
        // archive's; pinned clips stay pinned wherever they land.
        let mut timed: Vec<(i64, i64)> = chosen
            .into_iter()
            .map(|id| {
                self.conn
                    .query_row("SELECT last_used FROM clips WHERE id = ?1", [id], |r| {
                        Ok((r.get(0)?, id))
                    })
                    .map_err(|e| self.err(e))
            })
            .collect::<Result<_>>()?;
        timed.sort_unstable();
        Ok(timed.into_iter().map(|(_, id)| id).collect())
    }

    /// Adds the representation list and preview to a row.
    fn complete(&self, mut info: ArchivedInfo) -> Result<ArchivedInfo> {
        let reps = reps::read(&self.conn, info.id, |mime| {
            if shm_clip::text_kind(mime).is_some() {
                PREVIEW_READ
            } else {
                0
            }
        })
        .map_err(|e| self.err(e))?;
        let head = text::searchable(
            reps.iter()
                .filter(|r| shm_clip::text_kind(&r.mime).is_some())
                .map(|r| (r.mime.as_str(), r.data.as_slice())),
        );
        info.preview = preview(head.trim_start());
        info.types = reps.into_iter().map(|r| (r.mime, r.size)).collect();
        Ok(info)
    }
}

fn info_from(r: &Row<'_>) -> rusqlite::Result<ArchivedInfo> {
    let clip_id: Option<Vec<u8>> = r.get(1)?;
    Ok(ArchivedInfo {
        id: r.get(0)?,
        clip_id: clip_id.and_then(|c| <[u8; 16]>::try_from(c.as_slice()).ok()),
        board: r.get(2)?,
        first_seen: from_ns(r.get(3)?),
        last_used: from_ns(r.get(4)?),
        origin: Origin {
            kind: OriginKind::from_raw(r.get(5)?),
            pid: r.get(6)?,
            label: r.get(7)?,
        },
        pinned: r.get(8)?,
        total_size: r.get::<_, i64>(9)? as u64,
        types: Vec::new(),
        preview: String::new(),
    })
}

impl Archive {
    /// What destroying `board` deletes from the archive: every clip archived
    /// from it or on it now, evicted ones too, but for those that another
    /// board holds now (the same content copied there is that board's).
    pub fn clips_of_board(&self, board: &str) -> Result<Vec<i64>> {
        self.conn
            .prepare_cached(
                "SELECT id FROM clips WHERE board = (SELECT id FROM names WHERE name = ?1)
                 UNION SELECT clip FROM board_entries WHERE board = ?1
                 EXCEPT SELECT clip FROM board_entries WHERE board != ?1
                 ORDER BY 1",
            )
            .and_then(|mut s| {
                s.query_map([board], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()
            })
            .map_err(|e| self.err(e))
    }

    /// The live entries of `board` the archive knows, as (seq, archive id):
    /// which archived clips are on that board now.
    pub fn board_links(&self, board: &str) -> Result<Vec<(u64, i64)>> {
        self.conn
            .prepare_cached("SELECT seq, clip FROM board_entries WHERE board = ?1 ORDER BY seq")
            .and_then(|mut s| {
                s.query_map([board], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()
            })
            .map_err(|e| self.err(e))
    }
}
