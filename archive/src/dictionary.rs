//! The zstd dictionary trained from the archive's own text clips (schema 4).
//!
//! Short text has too little repetition of its own for zstd to find; a
//! dictionary of what this user's clips have in common gives it some.
//! Measured (BENCHMARKS.md, "Archive, Session 6"): text stored in 0.455 of
//! its size instead of 0.627 on the bench's generated corpus, and 0.374
//! instead of 0.482 on real text held out from the training (clip-sized
//! pieces of Rust crates' sources and docs).
//!
//! At most one dictionary is live, and rows stored with it (codec 2) name it
//! by the dictionary id in their frame, which is its row id here, so every
//! row decodes with the file's own data.
//!
//! **Deleted means gone.** A dictionary is made of pieces of the clips it
//! was trained from (`dictionary_sources`). Deleting any of them retires
//! the dictionary in the same transaction: every row stored with it is
//! stored again without it, and the dictionary's row is deleted (zeroed by
//! `secure_delete`), so no piece of the deleted clip stays in the file.
//! A later training uses the clips that are left.

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use rusqlite::{Connection, OptionalExtension, params};
use twox_hash::XxHash3_128;

use crate::{codec, text};

/// How many text clips a dictionary is trained from (the newest ones):
/// 2,000 clips of the bench gave a 64 KiB dictionary in about 0.3 s, as
/// good as 5,000 within 1 %.
pub(crate) const SAMPLES: usize = 2000;

/// The dictionary's size: 64 KiB stored once against about 0.17 of every
/// text byte saved.
const SIZE: usize = 64 << 10;

/// A clip id that is a multiple of this, archived while no dictionary is
/// live, looks whether there is enough text to train one (a cheap look at
/// the newest rows' metadata, not at every insert).
const TRAIN_EVERY: i64 = 512;

/// How many of the newest clips a training looks at for its samples.
const LOOK_BACK: i64 = 8 * SAMPLES as i64;

/// Texts larger than this are not samples (a log would fill the sample
/// alone); smaller than [`codec::MIN_COMPRESSED`] neither.
const MAX_SAMPLE: i64 = 64 << 10;

/// The live dictionary, prepared for zstd on first use each way (a
/// search only decodes: a fresh `shm-clip search` process prepares no
/// compression context).
pub(crate) struct Dictionary {
    pub(crate) id: i64,
    data: Vec<u8>,
    decoder: OnceCell<zstd::dict::DecoderDictionary<'static>>,
    /// One decompression context that holds the dictionary, reused.
    decompressor: RefCell<Option<zstd::bulk::Decompressor<'static>>>,
    /// One compression context that holds it, reused: a new one per clip
    /// doubled the time of compressing one (13-14 against 5-7 us).
    compressor: RefCell<Option<zstd::bulk::Compressor<'static>>>,
}

impl Dictionary {
    /// `data` as one frame made with the dictionary.
    pub(crate) fn compress(&self, data: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut slot = self.compressor.borrow_mut();
        let c = match slot.as_mut() {
            Some(c) => c,
            None => slot.insert(zstd::bulk::Compressor::with_dictionary(
                codec::LEVEL,
                &self.data,
            )?),
        };
        c.compress(data)
    }

    /// The content of one whole `frame`, at most `capacity` bytes (more
    /// is an error, not an allocation).
    pub(crate) fn decompress(&self, frame: &[u8], capacity: usize) -> std::io::Result<Vec<u8>> {
        let mut slot = self.decompressor.borrow_mut();
        let d = match slot.as_mut() {
            Some(d) => d,
            None => slot.insert(zstd::bulk::Decompressor::with_dictionary(&self.data)?),
        };
        d.decompress(frame, capacity)
    }

    /// Prepared for decompressing.
    pub(crate) fn decoder(&self) -> &zstd::dict::DecoderDictionary<'static> {
        self.decoder
            .get_or_init(|| zstd::dict::DecoderDictionary::copy(&self.data))
    }
}

thread_local! {
    /// The last dictionary prepared on this thread, by the hash of its
    /// bytes: preparing one costs more than compressing a small clip.
    static PREPARED: RefCell<Option<(Vec<u8>, Rc<Dictionary>)>> = const { RefCell::new(None) };
}

/// The live dictionary of the file, if there is one.
pub(crate) fn live(conn: &Connection) -> rusqlite::Result<Option<Rc<Dictionary>>> {
    let Some((id, hash)): Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT id, hash FROM dictionaries ORDER BY id DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
    else {
        return Ok(None);
    };
    if let Some(d) = PREPARED.with_borrow(|p| {
        p.as_ref()
            .filter(|(h, d)| *h == hash && d.id == id)
            .map(|(_, d)| Rc::clone(d))
    }) {
        return Ok(Some(d));
    }
    let data: Vec<u8> = conn
        .prepare_cached("SELECT data FROM dictionaries WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?;
    if hash_of(&data) != hash {
        return Err(codec::damaged(format!(
            "dictionary {id} does not match its hash"
        )));
    }
    let d = Rc::new(Dictionary {
        id,
        data,
        decoder: OnceCell::new(),
        decompressor: RefCell::new(None),
        compressor: RefCell::new(None),
    });
    PREPARED.with_borrow_mut(|p| *p = Some((hash, Rc::clone(&d))));
    Ok(Some(d))
}

fn hash_of(data: &[u8]) -> Vec<u8> {
    XxHash3_128::oneshot(data).to_le_bytes().to_vec()
}

/// After clip `new_id` was inserted: trains a dictionary from the newest
/// text clips when none is live, `new_id` is a multiple of
/// [`TRAIN_EVERY`] and there are [`SAMPLES`] of them. Returns whether it
/// trained one. Clips stored before stay as they are.
pub(crate) fn maybe_train(conn: &Connection, new_id: i64) -> rusqlite::Result<bool> {
    if new_id % TRAIN_EVERY != 0 || live(conn)?.is_some() {
        return Ok(false);
    }
    let candidates: Vec<(i64, String)> = conn
        .prepare_cached(
            "SELECT c.id, n.name FROM clips c JOIN names n ON n.id = c.mime
             WHERE c.id > ?1 AND c.total_size BETWEEN ?2 AND ?3 ORDER BY c.id DESC",
        )?
        .query_map(
            params![new_id - LOOK_BACK, codec::MIN_COMPRESSED as i64, MAX_SAMPLE],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<rusqlite::Result<_>>()?;
    let chosen: Vec<i64> = candidates
        .into_iter()
        .filter(|(_, mime)| text::kind(mime).is_some())
        .map(|(id, _)| id)
        .take(SAMPLES)
        .collect();
    if chosen.len() < SAMPLES {
        return Ok(false);
    }
    let mut samples = Vec::with_capacity(chosen.len());
    for &id in &chosen {
        for rep in crate::reps::read(conn, id, |_| usize::MAX)? {
            samples.push(rep.data);
        }
    }
    let Ok(mut data) = zstd::dict::from_samples(&samples, SIZE) else {
        // Samples zstd cannot learn from (all alike, say): stay without.
        tracing::debug!(samples = samples.len(), "no dictionary trained");
        return Ok(false);
    };
    conn.prepare_cached("INSERT INTO dictionaries (hash, data) VALUES (x'', x'')")?
        .execute([])?;
    let id = conn.last_insert_rowid();
    // The dictionary's own id (bytes 4..8 after its magic) becomes its row
    // id: a frame then names it in one or two bytes, and zstd refuses to
    // decode a frame with another dictionary.
    let Ok(id32) = u32::try_from(id) else {
        return Err(codec::damaged(format!("dictionary row id {id}")));
    };
    if data.len() < 8 {
        return Ok(false);
    }
    data[4..8].copy_from_slice(&id32.to_le_bytes());
    conn.prepare_cached("UPDATE dictionaries SET hash = ?2, data = ?3 WHERE id = ?1")?
        .execute(params![id, hash_of(&data), data])?;
    let mut source = conn.prepare_cached("INSERT INTO dictionary_sources (clip) VALUES (?1)")?;
    for clip in chosen {
        source.execute([clip])?;
    }
    tracing::debug!(id, bytes = data.len(), "dictionary trained");
    Ok(true)
}

/// Before clip `id` is deleted: if the live dictionary was trained from
/// it, every row stored with the dictionary is stored again without it,
/// and the dictionary and its sources are deleted. Returns the number of
/// rows stored again (`None`: `id` was no source).
pub(crate) fn retire_if_source(conn: &Connection, id: i64) -> rusqlite::Result<Option<usize>> {
    let source: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM dictionary_sources WHERE clip = ?1)")?
        .query_row([id], |r| r.get(0))?;
    if !source {
        return Ok(None);
    }
    retire(conn).map(Some)
}

/// Stores every row of the live dictionary again without it and deletes
/// the dictionary. Returns how many rows were stored again.
pub(crate) fn retire(conn: &Connection) -> rusqlite::Result<usize> {
    let mut n = 0;
    for (table, size) in [("clips", "total_size"), ("blobs", "size")] {
        let rows: Vec<(i64, u64, String)> = conn
            .prepare(&format!(
                "SELECT t.id, t.{size}, coalesce(m.name, 'text/plain') FROM {table} t
                 LEFT JOIN names m ON m.id = {} WHERE t.codec = ?1",
                if table == "clips" {
                    "t.mime"
                } else {
                    "(SELECT r.mime FROM representations r WHERE r.blob = t.id LIMIT 1)"
                }
            ))?
            .query_map([codec::ZSTD_DICTIONARY], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64, r.get(2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        for (row, size, mime) in rows {
            let stored: Vec<u8> = conn
                .prepare_cached(&format!("SELECT data FROM {table} WHERE id = ?1"))?
                .query_row([row], |r| r.get(0))?;
            let data = codec::decode(conn, codec::ZSTD_DICTIONARY, &stored[..], size, usize::MAX)?;
            let (codec, packed) = codec::encode(&mime, &data, None);
            conn.prepare_cached(&format!(
                "UPDATE {table} SET codec = ?2, data = ?3 WHERE id = ?1"
            ))?
            .execute(params![row, codec, packed.as_deref().unwrap_or(&data)])?;
            n += 1;
        }
    }
    conn.execute_batch("DELETE FROM dictionary_sources; DELETE FROM dictionaries;")?;
    PREPARED.with_borrow_mut(|p| *p = None);
    Ok(n)
}
