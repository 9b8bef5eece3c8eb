//! The database schema and its migrations, numbered by `PRAGMA user_version`.
//!
//! Each migration takes the schema from version `n` to `n + 1` inside one
//! transaction, so a crash leaves either the old or the new version. A file
//! whose version is above [`VERSION`] was written by a newer shm-clip and is
//! refused, never changed.

use rusqlite::{Connection, Transaction};

use crate::write;

/// The schema version this build writes.
pub const VERSION: i64 = 2;

/// One step of the schema: SQL, or code where the step must compute
/// something SQL cannot (the searchable text of each clip).
enum Migration {
    Sql(&'static str),
    Code(fn(&Transaction<'_>) -> rusqlite::Result<()>),
}

/// Migration `i` takes version `i` to `i + 1`.
const MIGRATIONS: &[Migration] = &[
    // 0 -> 1: clips, their representations, deduplicated blobs, the full-text
    // index and what the archiver knows of each board.
    Migration::Sql(
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
    ),
    // 1 -> 2: the full-text index gains an index of two-letter prefixes.
    Migration::Code(index_prefixes),
];

/// The full-text index as of version 2. `prefix='2'`: the last word of a
/// search is a prefix (results come while typing), and a two-letter prefix
/// without this index expands to hundreds of words whose doclists FTS5 must
/// merge (tens of ms over 100,000 clips); from three letters on the
/// expansion is small enough. Contentless, see version 1.
const CLIP_TEXT_V2: &str = "
    CREATE VIRTUAL TABLE clip_text USING fts5(
        body, content='', prefix='2', tokenize='unicode61 remove_diacritics 2'
    );
    INSERT INTO clip_text(clip_text, rank) VALUES('secure-delete', 1);
";

/// 1 -> 2: rebuilds the contentless index with [`CLIP_TEXT_V2`] from the
/// clips' stored text (a contentless table cannot `rebuild` itself). The old
/// table's pages are freed under `secure_delete`, so no token of a clip
/// deleted before stays behind in them.
fn index_prefixes(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch("DROP TABLE clip_text;")?;
    tx.execute_batch(CLIP_TEXT_V2)?;
    let ids: Vec<i64> = tx
        .prepare("SELECT id FROM clips ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut insert = tx.prepare("INSERT INTO clip_text (rowid, body) VALUES (?1, ?2)")?;
    for id in ids {
        let body = write::indexed_text(tx, id)?;
        if !body.trim().is_empty() {
            insert.execute(rusqlite::params![id, body])?;
        }
    }
    Ok(())
}

/// Brings `conn` up to [`VERSION`]. Returns the version found, or
/// `Err(found)` when the file is newer than this build.
pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<Result<i64, i64>> {
    migrate_to(conn, VERSION)
}

/// Brings `conn` up to version `target` (a test makes an older file so).
fn migrate_to(conn: &mut Connection, target: i64) -> rusqlite::Result<Result<i64, i64>> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > VERSION {
        return Ok(Err(found));
    }
    let steps = MIGRATIONS.iter().enumerate().take(target as usize);
    for (from, sql) in steps.skip(found as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process may have migrated while this one waited for the lock.
        let now: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if now > from as i64 {
            continue;
        }
        match sql {
            Migration::Sql(sql) => tx.execute_batch(sql)?,
            Migration::Code(step) => step(&tx)?,
        }
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
    fn version_1_files_get_the_prefix_index_with_every_clip_in_it() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate_to(&mut conn, 1).unwrap(), Ok(0));
        // Two clips as version 1 stored them: one text, one image only.
        conn.execute_batch(
            "INSERT INTO clips (id, content, board, first_seen, last_used, origin_kind,
                 origin_pid, origin_label, total_size)
             VALUES (1, x'01', 'b', 1, 1, 1, 1, '', 21), (2, x'02', 'b', 2, 2, 1, 1, '', 4);
             INSERT INTO blobs (id, hash, size, data)
             VALUES (1, x'01', 21, CAST('wombat quarterly notes' AS BLOB)), (2, x'02', 4, x'89504e47');
             INSERT INTO representations VALUES (1, 0, 'text/plain', 1), (2, 0, 'image/png', 2);
             INSERT INTO clip_text (rowid, body) VALUES (1, 'wombat quarterly notes');",
        )
        .unwrap();
        let v1_sql: String = conn
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE name = 'clip_text'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!v1_sql.contains("prefix"), "{v1_sql}");

        assert_eq!(migrate(&mut conn).unwrap(), Ok(1));
        let v2_sql: String = conn
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE name = 'clip_text'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(v2_sql.contains("prefix='2'"), "{v2_sql}");
        let matches = |q: &str| -> Vec<i64> {
            conn.prepare("SELECT rowid FROM clip_text WHERE clip_text MATCH ?1")
                .unwrap()
                .query_map([q], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        assert_eq!(matches("qu*"), vec![1]);
        assert_eq!(matches("\"wombat quarterly\""), vec![1]);
        assert!(matches("png").is_empty());
        // The rebuilt index still deletes for good (secure-delete is on).
        let on: i64 = conn
            .query_row(
                "SELECT count(*) FROM clip_text_config WHERE k = 'secure-delete' AND v = 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(on, 1);
    }

    #[test]
    fn a_newer_file_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", VERSION + 1)
            .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), Err(VERSION + 1));
    }
}
