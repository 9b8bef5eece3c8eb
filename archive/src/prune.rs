//! Dropping old or large clips: `archive prune` and the configured limits.
//! Pinned clips are never pruned; only `rm`, `clear --all` or unpinning
//! lets them go. A prune does not scrub ([`Archive::scrub`]): `archive
//! prune` does once after its prunes; the limits, which take old clips, not
//! ones the user deleted, leave it to `secure_delete` and the next scrub.

use std::time::SystemTime;

use rusqlite::params;

use crate::model::to_ns;
use crate::{Archive, Pruned, Result};

impl Archive {
    /// Deletes unpinned clips last used before `cutoff`.
    pub fn prune_older_than(&mut self, cutoff: SystemTime) -> Result<Pruned> {
        self.prune_where("NOT pinned AND last_used < ?1", to_ns(cutoff))
    }

    /// Deletes unpinned clips larger than `size` bytes.
    pub fn prune_larger_than(&mut self, size: u64) -> Result<Pruned> {
        self.prune_where(
            "NOT pinned AND total_size > ?1",
            i64::try_from(size).unwrap_or(i64::MAX),
        )
    }

    /// Deletes the least recently used unpinned clips until the stored
    /// content is at most `max_bytes` (`archive.max_bytes`).
    pub fn prune_to_bytes(&mut self, max_bytes: u64) -> Result<Pruned> {
        let mut total = Pruned::default();
        loop {
            let (_, _, stored) = crate::reps::counts(&self.conn).map_err(|e| self.err(e))?;
            let over = stored.saturating_sub(max_bytes);
            if over == 0 {
                return Ok(total);
            }
            // The oldest clips whose sizes add up to the excess; shared blobs
            // may free less, hence the loop.
            let victims: Vec<(i64, i64)> = self
                .conn
                .prepare_cached(
                    "SELECT id, total_size FROM clips WHERE NOT pinned
                     ORDER BY last_used, id LIMIT 1000",
                )
                .and_then(|mut s| {
                    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                        .collect::<rusqlite::Result<_>>()
                })
                .map_err(|e| self.err(e))?;
            if victims.is_empty() {
                return Ok(total);
            }
            let mut freed = 0u64;
            let ids: Vec<i64> = victims
                .into_iter()
                .take_while(|&(_, size)| {
                    let more = freed < over;
                    freed += size.max(1) as u64;
                    more
                })
                .map(|(id, _)| id)
                .collect();
            total.clips += self.delete_rows(&ids)? as u64;
            total.bytes += freed;
        }
    }

    fn prune_where(&mut self, condition: &str, arg: i64) -> Result<Pruned> {
        let victims: Vec<(i64, i64)> = self
            .conn
            .prepare(&format!(
                "SELECT id, total_size FROM clips WHERE {condition}"
            ))
            .and_then(|mut s| {
                s.query_map(params![arg], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()
            })
            .map_err(|e| self.err(e))?;
        let ids: Vec<i64> = victims.iter().map(|v| v.0).collect();
        let clips = self.delete_rows(&ids)? as u64;
        Ok(Pruned {
            clips,
            bytes: victims.iter().map(|v| v.1 as u64).sum(),
        })
    }
}
