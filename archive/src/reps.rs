//! Where a clip's representations are stored (schema 3), and the one way
//! to read and write them.
//!
//! A clip of one representation, nearly every clip, holds it in its own
//! row (`clips.mime`, `codec`, `data`): one row per clip. A clip of several
//! (a browser's text and HTML) has rows in `representations`, each naming
//! a deduplicated row of `blobs`. MIME types, board names and origin labels
//! are interned in `names`. Text is stored compressed ([`codec`]).

use rusqlite::{Connection, MAIN_DB, OptionalExtension, params};
use twox_hash::XxHash3_128;

use crate::codec;

/// One stored representation, read back.
pub(crate) struct Stored {
    pub(crate) mime: String,
    pub(crate) size: u64,
    /// Its first bytes, as many as were asked for.
    pub(crate) data: Vec<u8>,
}

/// Where one representation's bytes are.
struct Place {
    mime: String,
    size: u64,
    codec: i64,
    table: &'static str,
    row: i64,
}

/// The representations of clip `id` in order, each with the first
/// `want(mime)` bytes of its content (0: none, `usize::MAX`: all). Only
/// those bytes are read and decompressed: a preview of a 50 MB text reads
/// a few pages.
pub(crate) fn read(
    conn: &Connection,
    id: i64,
    want: impl Fn(&str) -> usize,
) -> rusqlite::Result<Vec<Stored>> {
    let mut places: Vec<Place> = conn
        .prepare_cached(
            "SELECT n.name, c.total_size, c.codec FROM clips c JOIN names n ON n.id = c.mime
             WHERE c.id = ?1",
        )?
        .query_map([id], |r| {
            Ok(Place {
                mime: r.get(0)?,
                size: size(r.get(1)?)?,
                codec: r.get(2)?,
                table: "clips",
                row: id,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    if places.is_empty() {
        places = conn
            .prepare_cached(
                "SELECT n.name, b.size, b.codec, b.id FROM representations r
                 JOIN names n ON n.id = r.mime JOIN blobs b ON b.id = r.blob
                 WHERE r.clip = ?1 ORDER BY r.position",
            )?
            .query_map([id], |r| {
                Ok(Place {
                    mime: r.get(0)?,
                    size: size(r.get(1)?)?,
                    codec: r.get(2)?,
                    table: "blobs",
                    row: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
    }
    places
        .into_iter()
        .map(|p| {
            let max = want(&p.mime);
            let data = if max == 0 {
                Vec::new()
            } else {
                let blob = conn.blob_open(MAIN_DB, p.table, "data", p.row, true)?;
                codec::decode(p.codec, std::io::BufReader::new(blob), p.size, max)?
            };
            Ok(Stored {
                mime: p.mime,
                size: p.size,
                data,
            })
        })
        .collect()
}

/// A stored size, which a damaged file may make negative.
fn size(stored: i64) -> rusqlite::Result<u64> {
    u64::try_from(stored).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(1, stored))
}

/// The id of `name` in `names`, added if it is not there yet.
pub(crate) fn name_id(conn: &Connection, name: &str) -> rusqlite::Result<i64> {
    if let Some(id) = conn
        .prepare_cached("SELECT id FROM names WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?
    {
        return Ok(id);
    }
    conn.prepare_cached("INSERT INTO names (name) VALUES (?1)")?
        .execute([name])?;
    Ok(conn.last_insert_rowid())
}

/// Stores the representations of the new clip `id`: in its row when there
/// is one, else as `representations` rows with deduplicated blobs.
pub(crate) fn write(
    conn: &Connection,
    id: i64,
    reps: &[shm_clip::Representation],
) -> rusqlite::Result<()> {
    if let [rep] = reps {
        let (codec, packed) = codec::encode(&rep.mime, &rep.data);
        conn.prepare_cached("UPDATE clips SET mime = ?2, codec = ?3, data = ?4 WHERE id = ?1")?
            .execute(params![
                id,
                name_id(conn, &rep.mime)?,
                codec,
                packed.as_deref().unwrap_or(&rep.data)
            ])?;
        return Ok(());
    }
    for (position, rep) in reps.iter().enumerate() {
        let blob = blob_for(conn, rep)?;
        conn.prepare_cached(
            "INSERT INTO representations (clip, position, mime, blob) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            id,
            position as i64,
            name_id(conn, &rep.mime)?,
            blob
        ])?;
    }
    Ok(())
}

/// The 8-byte hash the `blobs_by_hash` index holds: a lookup key, not a
/// proof (equal bytes decide).
pub(crate) fn blob_hash(data: &[u8]) -> i64 {
    low_half(XxHash3_128::oneshot(data))
}

/// The low 8 bytes of a 16-byte hash, as a SQLite integer: schema 3's
/// lookup keys (an integer is a smaller index entry than a blob).
pub(crate) fn low_half(hash: u128) -> i64 {
    i64::from_le_bytes(hash.to_le_bytes()[..8].try_into().expect("8 of 16 bytes"))
}

/// The blob holding `rep`'s bytes, stored if no blob has them yet.
fn blob_for(conn: &Connection, rep: &shm_clip::Representation) -> rusqlite::Result<i64> {
    let hash = blob_hash(&rep.data);
    let size = rep.data.len() as i64;
    let candidates: Vec<(i64, i64)> = conn
        .prepare_cached("SELECT id, codec FROM blobs WHERE hash = ?1 AND size = ?2")?
        .query_map(params![hash, size], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, codec) in candidates {
        let blob = conn.blob_open(MAIN_DB, "blobs", "data", id, true)?;
        let data = codec::decode(
            codec,
            std::io::BufReader::new(blob),
            size as u64,
            usize::MAX,
        )?;
        if data == rep.data {
            return Ok(id);
        }
    }
    let (codec, packed) = codec::encode(&rep.mime, &rep.data);
    conn.prepare_cached("INSERT INTO blobs (hash, size, codec, data) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![
            hash,
            size,
            codec,
            packed.as_deref().unwrap_or(&rep.data)
        ])?;
    Ok(conn.last_insert_rowid())
}

/// Deletes the `representations` rows of clip `id` and the blobs no other
/// clip uses (a clip's own row goes with the clip).
pub(crate) fn delete(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    let blobs: Vec<i64> = conn
        .prepare_cached("SELECT blob FROM representations WHERE clip = ?1")?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    conn.prepare_cached("DELETE FROM representations WHERE clip = ?1")?
        .execute([id])?;
    let mut orphan = conn.prepare_cached(
        "DELETE FROM blobs WHERE id = ?1
         AND NOT EXISTS (SELECT 1 FROM representations WHERE blob = ?1)",
    )?;
    for b in blobs {
        orphan.execute([b])?;
    }
    Ok(())
}

/// Counts: (representations, distinct stored contents, their bytes).
pub(crate) fn counts(conn: &Connection) -> rusqlite::Result<(u64, u64, u64)> {
    conn.query_row(
        "SELECT (SELECT count(*) FROM clips WHERE mime IS NOT NULL)
                + (SELECT count(*) FROM representations),
            (SELECT count(*) FROM clips WHERE mime IS NOT NULL) + (SELECT count(*) FROM blobs),
            (SELECT coalesce(sum(total_size), 0) FROM clips WHERE mime IS NOT NULL)
                + (SELECT coalesce(sum(size), 0) FROM blobs)",
        [],
        |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, i64>(2)? as u64,
            ))
        },
    )
}

#[cfg(test)]
mod tests {
    /// The stored hashes are part of the file format: any hashing crate
    /// must give exactly these (XXH3-128's low half, as xxhash-rust 0.8
    /// computed them when schema 3 was written).
    #[test]
    fn blob_hashes_are_the_stored_ones() {
        let got: Vec<i64> = [&b""[..], b"hello", &[7u8; 300], &[0xa5; 5000]]
            .iter()
            .map(|d| super::blob_hash(d))
            .collect();
        assert_eq!(
            got,
            [
                6_918_025_063_187_695_999,
                -4_072_996_057_346_066_408,
                -8_436_286_276_984_187_821,
                6_849_320_090_073_846_988
            ]
        );
    }
}
