//! The board's clip and node ids as the archive stores them (16 bytes).
//!
//! A new node id under the same board name means a new board (re-created,
//! or after a reboot): its seqs mean other entries. A nil clip id (a slot
//! restored from an older file) is stored as none.

use shm_clip::{Board, EntryState};

/// The board's node id: a new one means a new board under the same name.
pub(crate) fn board_node(board: &Board) -> Option<[u8; 16]> {
    let node = board.node_id();
    (!node.is_nil()).then_some(node.0)
}

/// The board's id of an entry, if it has one.
pub(crate) fn state_clip_id(entry: &EntryState) -> Option<[u8; 16]> {
    (!entry.clip_id.is_nil()).then_some(entry.clip_id.0)
}
