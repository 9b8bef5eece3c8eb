//! The board's clip and node ids as the archive stores them (16 bytes).
//!
//! Until the library gives ids (core v3), there are none: the archive then
//! tells a new board by its seq going back, and clips carry no board id.

use shm_clip::{Board, EntryInfo};

/// The board's node id: a new one means a new board under the same name.
pub(crate) fn board_node(_board: &Board) -> Option<[u8; 16]> {
    None
}

/// The board's id of an entry.
pub(crate) fn entry_clip_id(_entry: &EntryInfo) -> Option<[u8; 16]> {
    None
}
