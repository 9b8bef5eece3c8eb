//! What the archiver knows of each board: which board (its node id) it last
//! saw under that name, the highest seq it archived, and which archived clip
//! each live board entry is. With these it catches up after a restart and
//! tells which entries left the board, and what each was.

use rusqlite::{OptionalExtension, params};

use crate::Batch;

/// The archiver's memory of one board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoardState {
    /// The board's node id when it was last seen; a different one is a new
    /// board under the same name (its seqs start again).
    pub node: Option<[u8; 16]>,
    /// Every board entry up to this seq was archived.
    pub seen_seq: u64,
}

impl Batch<'_> {
    /// What the archive knows of `board`.
    pub fn board_state(&self, board: &str) -> rusqlite::Result<Option<BoardState>> {
        self.tx()
            .prepare_cached("SELECT node, seen_seq FROM boards WHERE board = ?1")?
            .query_row([board], |r| {
                let node: Option<Vec<u8>> = r.get(0)?;
                Ok(BoardState {
                    node: node.and_then(|n| <[u8; 16]>::try_from(n.as_slice()).ok()),
                    seen_seq: r.get::<_, i64>(1)? as u64,
                })
            })
            .optional()
    }

    /// Records what the archive now knows of `board`.
    pub fn set_board_state(&self, board: &str, state: BoardState) -> rusqlite::Result<()> {
        self.tx()
            .prepare_cached(
                "INSERT INTO boards (board, node, seen_seq) VALUES (?1, ?2, ?3)
                 ON CONFLICT (board) DO UPDATE SET node = ?2, seen_seq = ?3",
            )?
            .execute(params![
                board,
                state.node.as_ref().map(|n| &n[..]),
                i64::try_from(state.seen_seq).unwrap_or(i64::MAX)
            ])?;
        Ok(())
    }

    /// The board entries (seq, archive id) the archive holds for `board`.
    pub fn linked(&self, board: &str) -> rusqlite::Result<Vec<(u64, i64)>> {
        self.tx()
            .prepare_cached("SELECT seq, clip FROM board_entries WHERE board = ?1 ORDER BY seq")?
            .query_map([board], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))?
            .collect()
    }

    /// The board clip id and the pin of archived clip `clip`: what an entry
    /// it is linked to was, for an archiver that did not see that entry.
    pub(crate) fn clip_identity(
        &self,
        clip: i64,
    ) -> rusqlite::Result<Option<(Option<[u8; 16]>, bool)>> {
        self.tx()
            .prepare_cached("SELECT clip_id, pinned FROM clips WHERE id = ?1")?
            .query_row([clip], |r| {
                let id: Option<Vec<u8>> = r.get(0)?;
                Ok((
                    id.and_then(|i| <[u8; 16]>::try_from(i.as_slice()).ok()),
                    r.get(1)?,
                ))
            })
            .optional()
    }

    /// Records that board entry `seq` is archived clip `clip`.
    pub fn link(&self, board: &str, seq: u64, clip: i64) -> rusqlite::Result<()> {
        self.tx()
            .prepare_cached(
                "INSERT INTO board_entries (board, seq, clip) VALUES (?1, ?2, ?3)
                 ON CONFLICT (board, seq) DO UPDATE SET clip = ?3",
            )?
            .execute(params![board, seq as i64, clip])?;
        Ok(())
    }

    /// Forgets that board entry `seq` is on the board (it left it).
    pub fn unlink(&self, board: &str, seq: u64) -> rusqlite::Result<()> {
        self.tx()
            .prepare_cached("DELETE FROM board_entries WHERE board = ?1 AND seq = ?2")?
            .execute(params![board, seq as i64])?;
        Ok(())
    }

    /// Forgets every entry of `board`: it is a new board now.
    pub fn forget_board(&self, board: &str) -> rusqlite::Result<()> {
        self.tx()
            .prepare_cached("DELETE FROM board_entries WHERE board = ?1")?
            .execute([board])?;
        Ok(())
    }
}
