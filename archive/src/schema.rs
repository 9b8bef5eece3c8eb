//! The database schema and its migrations, numbered by `PRAGMA user_version`.
//!
//! Each migration takes the schema from version `n` to `n + 1` inside one
//! transaction, so a crash leaves either the old or the new version. A file
//! whose version is above [`VERSION`] was written by a newer shm-clip and is
//! refused, never changed.

use rusqlite::{Connection, Transaction};

use crate::{reps, text, write};

/// The schema version this build writes.
pub const VERSION: i64 = 3;

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
    // 2 -> 3: a clip of one representation is one row, names interned,
    // 8-byte hashes, one recency index, text compressed.
    Migration::Code(compact),
];

/// The full-text index as of version 2. `prefix='2'`: the last word of a
/// search is a prefix (results come while typing), and a two-letter prefix
/// without this index expands to hundreds of words whose doclists FTS5 must
/// merge (tens of ms over 100,000 clips); from three letters on the
/// expansion is small enough. Contentless, see version 1.
///
/// `detail=full` (the default, positions kept) stays although it is most
/// of the index's size: a contentless table gives ranking functions
/// positions only under `detail=full` (FTS5 `fts5CsrPoslist` returns an
/// empty list otherwise, having no text to tokenize again), so under
/// `detail=column` or `detail=none` `bm25()` is 0 for every row and search
/// would rank by recency alone; phrases (`file:///tmp`) are refused too.
/// Measured (BENCHMARKS.md, "Archive, Session 10"): 1.60× and 1.31× the
/// payload against 1.82×, each with a slower search.
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
        let body = indexed_text_v2(tx, id)?;
        if !body.trim().is_empty() {
            insert.execute(rusqlite::params![id, body])?;
        }
    }
    Ok(())
}

/// The tables of version 3, made beside version 2's (renamed `*_v2`).
/// Per clip, version 2 stored a `clips` row, a `representations` row, a
/// `blobs` row and entries in six indexes (about 200 bytes against a median
/// clip of 78); version 3 stores one row and two index entries for a clip
/// of one representation, the common case (`reps.rs`).
const TABLES_V3: &str = "
    -- MIME types, board names and origin labels: each stored once.
    CREATE TABLE names (
        id   INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    CREATE TABLE clips (
        id           INTEGER PRIMARY KEY,
        -- The board's clip id (16 bytes) of the entry this clip last was;
        -- NULL when the board did not give one.
        clip_id      BLOB UNIQUE,
        -- The low 8 bytes of xxh3-128 of every (MIME type, size, content
        -- hash) in order: finds the clips that may hold the same content
        -- (equal bytes decide).
        content      INTEGER NOT NULL,
        board        INTEGER NOT NULL REFERENCES names(id),
        first_seen   INTEGER NOT NULL, -- ns since the epoch
        last_used    INTEGER NOT NULL, -- ns since the epoch
        origin_kind  INTEGER NOT NULL,
        origin_pid   INTEGER NOT NULL,
        origin_label INTEGER NOT NULL REFERENCES names(id),
        pinned       INTEGER NOT NULL DEFAULT 0,
        total_size   INTEGER NOT NULL,
        -- A clip of exactly one representation holds it here: its MIME
        -- type, how `data` is stored (codec.rs: 0 raw, 1 zstd) and the
        -- bytes (total_size before compression). NULL mime: the clip's
        -- representations are rows of `representations`.
        mime         INTEGER REFERENCES names(id),
        codec        INTEGER NOT NULL DEFAULT 0,
        data         BLOB
    );
    CREATE TABLE blobs (
        id    INTEGER PRIMARY KEY,
        hash  INTEGER NOT NULL, -- low 8 bytes of xxh3-128 of the content
        size  INTEGER NOT NULL, -- before compression
        codec INTEGER NOT NULL,
        data  BLOB NOT NULL
    );
    CREATE TABLE representations (
        clip     INTEGER NOT NULL REFERENCES clips(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        mime     INTEGER NOT NULL REFERENCES names(id),
        blob     INTEGER NOT NULL REFERENCES blobs(id),
        PRIMARY KEY (clip, position)
    ) WITHOUT ROWID;
    CREATE INDEX clips_by_content ON clips(content);
    -- One recency index for the list, prunes and restores; the pinned
    -- few have a partial one of their own (restore order).
    CREATE INDEX clips_by_last_used ON clips(last_used);
    CREATE INDEX clips_pinned ON clips(last_used) WHERE pinned;
    CREATE INDEX blobs_by_hash ON blobs(hash);
    CREATE INDEX representations_by_blob ON representations(blob);
";

/// 2 -> 3: moves every clip into [`TABLES_V3`], keeping its id (the
/// full-text index's rowid, the board links), its content compressed as a
/// new insert stores it. The old tables are renamed out of the way with
/// `legacy_alter_table` (and foreign keys off, see [`migrate_to`]), so that
/// `board_entries` keeps naming `clips`, and dropped after: their pages
/// are zeroed (`secure_delete`) and free for later clips, but the file
/// keeps its size until `shm-clip archive vacuum` (100,000 clips: 4.5 s,
/// 103.6 MiB -> 122.9 MiB, 60.8 MiB after the vacuum; BENCHMARKS.md).
fn compact(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "PRAGMA legacy_alter_table = ON;
         DROP INDEX clips_by_content;
         DROP INDEX clips_by_recency;
         DROP INDEX clips_by_last_used;
         DROP INDEX blobs_by_hash;
         DROP INDEX representations_by_blob;
         ALTER TABLE clips RENAME TO clips_v2;
         ALTER TABLE blobs RENAME TO blobs_v2;
         ALTER TABLE representations RENAME TO representations_v2;",
    )?;
    tx.execute_batch(TABLES_V3)?;
    let mut clips = tx.prepare(
        "SELECT id, clip_id, board, first_seen, last_used, origin_kind, origin_pid,
             origin_label, pinned, total_size FROM clips_v2 ORDER BY id",
    )?;
    let mut reps = tx.prepare(
        "SELECT r.mime, b.data FROM representations_v2 r JOIN blobs_v2 b ON b.id = r.blob
         WHERE r.clip = ?1 ORDER BY r.position",
    )?;
    let mut insert = tx.prepare(
        "INSERT INTO clips (id, clip_id, content, board, first_seen, last_used, origin_kind,
             origin_pid, origin_label, pinned, total_size)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let mut rows = clips.query([])?;
    while let Some(c) = rows.next()? {
        let id: i64 = c.get(0)?;
        let content: Vec<shm_clip::Representation> = reps
            .query_map([id], |r| {
                Ok(shm_clip::Representation {
                    mime: r.get(0)?,
                    data: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        // Made again from the bytes, not cut from the old key: a damaged
        // key is not carried over.
        insert.execute(rusqlite::params![
            id,
            c.get::<_, Option<Vec<u8>>>(1)?,
            write::content_key(&content),
            reps::name_id(tx, &c.get::<_, String>(2)?)?,
            c.get::<_, i64>(3)?,
            c.get::<_, i64>(4)?,
            c.get::<_, i64>(5)?,
            c.get::<_, i64>(6)?,
            reps::name_id(tx, &c.get::<_, String>(7)?)?,
            c.get::<_, bool>(8)?,
            c.get::<_, i64>(9)?,
        ])?;
        reps::write(tx, id, &content)?;
    }
    drop(rows);
    drop((clips, reps, insert));
    tx.execute_batch(
        "DROP TABLE representations_v2;
         DROP TABLE blobs_v2;
         DROP TABLE clips_v2;
         PRAGMA legacy_alter_table = OFF;",
    )?;
    let broken: i64 = tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
        r.get(0)
    })?;
    if broken > 0 {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
            Some(format!("{broken} rows name a missing row after 2 -> 3")),
        ));
    }
    Ok(())
}

/// The indexed text of clip `id` as versions 1 and 2 stored it (raw
/// bytes in `blobs`, MIME types as text): what `write::indexed_text` was
/// then, the same function of the same bytes.
fn indexed_text_v2(tx: &Transaction<'_>, id: i64) -> rusqlite::Result<String> {
    let texts: Vec<(String, Vec<u8>)> = tx
        .prepare_cached(
            "SELECT r.mime, substr(b.data, 1, ?2) FROM representations r
             JOIN blobs b ON b.id = r.blob WHERE r.clip = ?1 ORDER BY r.position",
        )?
        .query_map(rusqlite::params![id, text::MAX_INDEXED as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(text::searchable(
        texts
            .iter()
            .filter(|(m, _)| shm_clip::text_kind(m).is_some())
            .map(|(m, d)| (m.as_str(), d.as_slice())),
    ))
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
    if found >= target {
        return Ok(Ok(found));
    }
    // Off while tables are rebuilt (2 -> 3), so that dropping a table does
    // not cascade into its children and renaming one does not rewrite
    // their references; each step checks the keys itself. This pragma
    // cannot change inside a transaction, hence here.
    conn.pragma_update(None, "foreign_keys", false)?;
    let done = run_steps(conn, found, target);
    // A step that failed half-way may have left its pragma on.
    conn.pragma_update(None, "legacy_alter_table", false)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    done.map(|()| Ok(found))
}

fn run_steps(conn: &mut Connection, found: i64, target: i64) -> rusqlite::Result<()> {
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec;

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
             VALUES (1, x'01', 'b', 1, 1, 1, 1, '', 22), (2, x'02', 'b', 2, 2, 1, 1, '', 4);
             INSERT INTO blobs (id, hash, size, data)
             VALUES (1, x'01', 22, CAST('wombat quarterly notes' AS BLOB)), (2, x'02', 4, x'89504e47');
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

    /// A new 0600 file in a new 0700 directory `dir`, as the archive wants.
    fn private_file(dir: &std::path::Path) -> std::path::PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let path = dir.join("archive.sqlite3");
        std::fs::File::create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }

    /// A version-2 file at `path` as version 2's code wrote it (its rows
    /// by SQL): a short text, the long text `long`, a text+HTML+image clip
    /// and an image clip sharing one blob `png`, a board link.
    fn make_version_2_file(path: &std::path::Path, long: &str, png: &[u8]) {
        let mut conn = Connection::open(path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        assert_eq!(migrate_to(&mut conn, 2).unwrap(), Ok(0));
        let key = |n: u8| [n; 16].to_vec();
        let mut clip = conn
            .prepare(
                "INSERT INTO clips (id, clip_id, content, board, first_seen, last_used,
                     origin_kind, origin_pid, origin_label, pinned, total_size)
                 VALUES (?1, ?2, ?3, 'work', ?1, ?1 + 10, 1, 42, 'cli', ?4, ?5)",
            )
            .unwrap();
        let texts: [(i64, &[u8]); 4] = [
            (1, b"short wombat note"),
            (2, long.as_bytes()),
            (3, b"bold words"),
            (4, b""),
        ];
        for (id, t) in texts {
            let size = if id == 3 {
                10 + 17 + png.len()
            } else if id == 4 {
                png.len()
            } else {
                t.len()
            };
            clip.execute(rusqlite::params![
                id,
                (id == 2).then(|| vec![9u8; 16]),
                key(id as u8),
                id == 4,
                size as i64
            ])
            .unwrap();
        }
        drop(clip);
        let mut blob = conn
            .prepare("INSERT INTO blobs (id, hash, size, data) VALUES (?1, ?2, ?3, ?4)")
            .unwrap();
        for (id, data) in [
            (1, b"short wombat note".to_vec()),
            (2, long.as_bytes().to_vec()),
            (3, b"bold words".to_vec()),
            (4, b"<b>bold</b> words".to_vec()),
            (5, png.to_vec()),
        ] {
            blob.execute(rusqlite::params![
                id,
                key(id as u8 + 100),
                data.len() as i64,
                data
            ])
            .unwrap();
        }
        drop(blob);
        conn.execute_batch(
            "INSERT INTO representations VALUES
                 (1, 0, 'text/plain', 1), (2, 0, 'text/plain;charset=utf-8', 2),
                 (3, 0, 'text/plain', 3), (3, 1, 'text/html', 4), (3, 2, 'image/png', 5),
                 (4, 0, 'image/png', 5);
             INSERT INTO board_entries VALUES ('work', 7, 2);
             INSERT INTO boards VALUES ('work', NULL, 7);",
        )
        .unwrap();
        for id in 1..=3 {
            let body = indexed_text_v2(&conn.transaction().unwrap(), id).unwrap();
            conn.execute(
                "INSERT INTO clip_text (rowid, body) VALUES (?1, ?2)",
                rusqlite::params![id, body],
            )
            .unwrap();
        }
    }

    /// The file is version 3, sound, and `board_entries` still names `clips`.
    fn assert_schema_3(a: &crate::Archive) {
        let version = |a: &crate::Archive| -> i64 {
            a.conn
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap()
        };
        assert_eq!(version(a), 3);
        a.integrity_check().unwrap();
        let fk = a
            .conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get::<_, i64>(0)
            });
        assert_eq!(fk.unwrap(), 0);
        let entries_sql: String = a
            .conn
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE name = 'board_entries'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            entries_sql.contains("REFERENCES clips(id)"),
            "{entries_sql}"
        );
        assert!(!entries_sql.contains("_v2"), "{entries_sql}");
    }

    /// A version-2 file on disk, as version 2's code wrote it (rows by
    /// its SQL): a short text, a long one, a text+HTML clip and an image
    /// clip sharing one blob, a board link. After the migration every clip
    /// reads back byte for byte, is found, and deletes for good.
    #[test]
    fn version_2_files_move_to_one_row_per_clip_with_every_clip_readable_and_found() {
        let dir = std::env::temp_dir().join(format!("shm-clip-schema-{}", std::process::id()));
        let path = private_file(&dir);
        let long = "quarterly wombat figures, line after line of them; ".repeat(40);
        let png = b"\x89PNG\r\n\x1a\n-image-bytes".to_vec();
        make_version_2_file(&path, &long, &png);
        let mut a = crate::Archive::open(&path).unwrap();
        assert_schema_3(&a);
        let bytes = |id| -> Vec<(String, Vec<u8>)> {
            a.get(id)
                .unwrap()
                .1
                .reps
                .into_iter()
                .map(|r| (r.mime, r.data))
                .collect()
        };
        assert_eq!(
            bytes(1),
            vec![("text/plain".into(), b"short wombat note".to_vec())]
        );
        assert_eq!(
            bytes(2),
            vec![("text/plain;charset=utf-8".into(), long.clone().into_bytes())]
        );
        assert_eq!(
            bytes(3),
            vec![
                ("text/plain".into(), b"bold words".to_vec()),
                ("text/html".into(), b"<b>bold</b> words".to_vec()),
                ("image/png".into(), png.clone())
            ]
        );
        assert_eq!(bytes(4), vec![("image/png".into(), png.clone())]);
        let info = a.info(2).unwrap();
        assert_eq!(
            (info.board.as_str(), info.origin.label.as_str()),
            ("work", "cli")
        );
        assert_eq!(info.clip_id, Some([9; 16]));
        assert!(a.info(4).unwrap().pinned);
        // The long text is compressed now, the short one is not.
        let codecs: Vec<(i64, i64)> = a
            .conn
            .prepare("SELECT id, codec FROM clips WHERE mime IS NOT NULL ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            codecs,
            vec![(1, codec::RAW), (2, codec::ZSTD), (4, codec::RAW)]
        );
        let stats = a.stats().unwrap();
        assert_eq!((stats.clips, stats.representations, stats.blobs), (4, 6, 6));
        let found = |a: &crate::Archive, q: &str| -> Vec<i64> {
            a.search(q, 10)
                .unwrap()
                .into_iter()
                .map(|h| h.info.id)
                .collect()
        };
        let mut both = found(&a, "wombat");
        both.sort_unstable();
        assert_eq!(both, vec![1, 2]);
        assert_eq!(found(&a, "\"quarterly wombat\""), vec![2]);
        assert_eq!(found(&a, "bold wo"), vec![3]);
        assert_eq!(a.board_links("work").unwrap(), vec![(7, 2)]);
        // Deleting still hands the index the same text: no token is left.
        assert_eq!(a.delete(&[2, 3]).unwrap(), 2);
        assert!(found(&a, "quarterly").is_empty());
        assert!(found(&a, "bold").is_empty());
        assert_eq!(found(&a, "wombat"), vec![1]);
        assert!(a.board_links("work").unwrap().is_empty());
        assert_eq!(a.get(4).unwrap().1.reps[0].data, png);
        a.integrity_check().unwrap();
        drop(a);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_newer_file_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", VERSION + 1)
            .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), Err(VERSION + 1));
    }
}
