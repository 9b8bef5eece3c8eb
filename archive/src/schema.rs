//! The database schema and its migrations, numbered by `PRAGMA user_version`.
//!
//! Each migration takes the schema from version `n` to `n + 1` inside one
//! transaction, so a crash leaves either the old or the new version. A file
//! whose version is above [`VERSION`] was written by a newer shm-clip and is
//! refused, never changed.

use rusqlite::Connection;

/// The schema version this build writes.
pub const VERSION: i64 = 1;

/// Migration `i` takes version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1: clips, their representations, deduplicated blobs, the full-text
    // index and what the archiver knows of each board.
    r"
    CREATE TABLE clips (
        id          INTEGER PRIMARY KEY,
        -- The board's clip id (16 bytes) of the entry this clip last was;
        -- NULL when the board did not give one.
        clip_id     BLOB UNIQUE,
        -- xxh3-128 of every (MIME type, content hash) in order: two board
        -- entries with the same content are one archived clip (equal bytes
        -- decide, so the key need not be unique).
        content     BLOB NOT NULL,
        board       TEXT NOT NULL,
        first_seen  INTEGER NOT NULL, -- ns since the epoch
        last_used   INTEGER NOT NULL, -- ns since the epoch
        origin_kind INTEGER NOT NULL,
        origin_pid  INTEGER NOT NULL,
        origin_label TEXT NOT NULL,
        pinned      INTEGER NOT NULL DEFAULT 0,
        total_size  INTEGER NOT NULL
    );
    CREATE INDEX clips_by_content ON clips(content);
    CREATE INDEX clips_by_recency ON clips(pinned, last_used);
    CREATE INDEX clips_by_last_used ON clips(last_used);
    CREATE TABLE blobs (
        id   INTEGER PRIMARY KEY,
        hash BLOB NOT NULL,          -- xxh3-128 of data; not unique: equal bytes decide
        size INTEGER NOT NULL,
        data BLOB NOT NULL
    );
    CREATE INDEX blobs_by_hash ON blobs(hash);
    CREATE TABLE representations (
        clip     INTEGER NOT NULL REFERENCES clips(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        mime     TEXT NOT NULL,
        blob     INTEGER NOT NULL REFERENCES blobs(id),
        PRIMARY KEY (clip, position)
    ) WITHOUT ROWID;
    CREATE INDEX representations_by_blob ON representations(blob);
    -- Contentless: the text lives once, in blobs; the index keeps only
    -- tokens. A delete hands FTS5 the clip's text again (text.rs makes it
    -- from the blobs, deterministically), and secure-delete then removes its
    -- tokens from the index itself instead of marking them, so `rm` leaves
    -- no word behind. (contentless_delete would only mark them.)
    CREATE VIRTUAL TABLE clip_text USING fts5(
        body, content='', tokenize='unicode61 remove_diacritics 2'
    );
    INSERT INTO clip_text(clip_text, rank) VALUES('secure-delete', 1);
    -- Which archived clip each live board entry is, per board.
    CREATE TABLE board_entries (
        board TEXT NOT NULL,
        seq   INTEGER NOT NULL,
        clip  INTEGER NOT NULL REFERENCES clips(id) ON DELETE CASCADE,
        PRIMARY KEY (board, seq)
    ) WITHOUT ROWID;
    CREATE INDEX board_entries_by_clip ON board_entries(clip);
    -- The board the archiver last saw: its node (a new one is a new board)
    -- and the highest seq already archived.
    CREATE TABLE boards (
        board    TEXT PRIMARY KEY,
        node     BLOB,
        seen_seq INTEGER NOT NULL
    ) WITHOUT ROWID;
    ",
];

/// Brings `conn` up to [`VERSION`]. Returns the version found, or
/// `Err(found)` when the file is newer than this build.
pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<Result<i64, i64>> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > VERSION {
        return Ok(Err(found));
    }
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process may have migrated while this one waited for the lock.
        let now: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if now > from as i64 {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", from as i64 + 1)?;
        tx.commit()?;
    }
    Ok(Ok(found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_reach_the_version() {
        assert_eq!(MIGRATIONS.len() as i64, VERSION);
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), Ok(0));
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, VERSION);
        assert_eq!(migrate(&mut conn).unwrap(), Ok(VERSION));
    }

    #[test]
    fn a_newer_file_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", VERSION + 1)
            .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), Err(VERSION + 1));
    }
}
