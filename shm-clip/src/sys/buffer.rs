//! Buffers that receive a clip: empty, with room for it, never zeroed (the
//! copy out of the arena fills them), and for a large clip asked to be backed
//! by transparent huge pages before their first touch.
//!
//! A 32 MiB paste into a fresh allocation otherwise takes 8192 page faults,
//! each zeroing 4 KiB, and spends three times as long in them as in the copy
//! itself (BENCHMARKS.md, "where the time goes"). With `MADV_HUGEPAGE` a
//! fault maps 2 MiB at once. Where the kernel has transparent huge pages
//! off, the advice fails and the buffer is an ordinary one.

use std::ffi::c_void;
use std::ptr::NonNull;

use nix::sys::mman::{MmapAdvise, madvise};

/// One huge page on x86-64 and aarch64 with 4 KiB base pages.
const HUGE_PAGE: usize = 2 << 20;
/// Below this the advice would cover at most one huge page: not worth a
/// system call, and the allocator reuses smaller buffers anyway.
const ADVISE_FROM: usize = 4 << 20;

/// An empty buffer with room for exactly `len` bytes, for
/// [`super::Mapping::read_append`] to fill. Zeroing it first, as
/// `vec![0; len]` does once the allocator reuses memory, was a whole extra
/// pass over every pasted byte (21 µs of a 1 MiB paste's ~110). For `len` of
/// at least 4 MiB, its whole huge pages are advised to be huge before
/// anything touches them.
pub(crate) fn with_room(len: usize) -> Vec<u8> {
    let mut buf: Vec<u8> = Vec::with_capacity(len);
    if len >= ADVISE_FROM {
        let start = buf.as_ptr() as usize;
        // The whole huge pages inside the allocation: from `skip` bytes in,
        // `span` bytes long.
        let skip = start.next_multiple_of(HUGE_PAGE) - start;
        let span = (len - skip.min(len)) / HUGE_PAGE * HUGE_PAGE;
        if span > 0
            && let Some(at) = NonNull::new(buf.as_mut_ptr().wrapping_add(skip).cast::<c_void>())
        {
            // [skip, skip + span) lies inside `buf`'s allocation (skip + span <= len), whose
            // allocation this function owns and no other thread or process
            // can see yet (private memory, never shared). MADV_HUGEPAGE
            // changes no byte of it and no mapping's validity: it only tells
            // the kernel how to back the pages faulted in later.
            // SAFETY: an advice on our own private range (above).
            let _ = unsafe { madvise(at, span, MmapAdvise::MADV_HUGEPAGE) };
        }
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_of_every_size_have_exactly_the_room_asked_for() {
        for len in [0, 1, 4095, ADVISE_FROM - 1, ADVISE_FROM, 3 * HUGE_PAGE + 17] {
            let buf = with_room(len);
            assert!(buf.is_empty());
            assert!(buf.capacity() >= len);
        }
    }
}
