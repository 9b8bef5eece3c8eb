//! A shared, read-write memory mapping with bounds-checked byte access.

use std::num::NonZeroUsize;
use std::os::fd::AsFd;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64};

use nix::errno::Errno;
use nix::sys::mman::{MapFlags, ProtFlags, mmap, munmap};

/// A `MAP_SHARED` mapping of a whole segment file.
#[derive(Debug)]
pub(crate) struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory shared with other processes anyway;
// every access goes through bounds-checked copies or atomics, so sharing the
// handle between threads adds nothing that other processes don't already do.
unsafe impl Send for Mapping {}
// SAFETY: as above: no method hands out a non-atomic reference into the memory.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps the first `len` bytes of `fd` shared and read-write.
    ///
    /// # Safety
    ///
    /// `fd` must be a file that is at least `len` bytes long (checked with
    /// `fstat` after any `ftruncate`), and nobody may shrink it while the
    /// mapping lives. Touching a page of a `MAP_SHARED` mapping that lies past
    /// the end of its file raises `SIGBUS`: with the default disposition that
    /// kills the process in the middle of a safe `read` or `write`, and with a
    /// handler that returns, the access never completes. Neither is what a
    /// safe method may do, so the length must hold for the whole lifetime.
    ///
    /// Non-atomic copies through [`Mapping::read`] and friends are race-free
    /// only for bytes that no other process writes concurrently (see the
    /// module docs); the caller keeps to that for the mapping's lifetime.
    pub(crate) unsafe fn new(fd: impl AsFd, len: usize) -> Result<Self, Errno> {
        let size = NonZeroUsize::new(len).ok_or(Errno::EINVAL)?;
        // A fresh mapping (no address hint, no MAP_FIXED) affects no existing
        // Rust object. The file holds at least `len` bytes and keeps them
        // (the caller's contract), so every page lies inside the file. (A
        // page of a sparse file on a full tmpfs can still fail to be
        // allocated when first touched: `shm::back` allocates a range before
        // the board first writes it.) Other processes
        // may be writing the file right now; mmap only installs the pages.
        // SAFETY: a fresh mapping of a file that stays long enough (above).
        let ptr = unsafe {
            mmap(
                None,
                size,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
                fd,
                0,
            )?
        };
        Ok(Mapping {
            ptr: ptr.cast(),
            len,
        })
    }

    /// The mapped length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// `offset..offset+len` if it lies inside the mapping.
    fn check(&self, offset: usize, len: usize) -> Option<*mut u8> {
        let end = offset.checked_add(len)?;
        if end > self.len {
            return None;
        }
        // SAFETY: offset <= end <= self.len, so the result stays inside (or one
        // past the end of) the mapped region. No memory is touched here, so
        // what other processes do to it does not matter yet.
        Some(unsafe { self.ptr.as_ptr().add(offset) })
    }

    /// Copies `dst.len()` bytes starting at `offset` into `dst`.
    pub(crate) fn read(&self, offset: usize, dst: &mut [u8]) -> Option<()> {
        let src = self.check(offset, dst.len())?;
        // Bounds: `src..src+dst.len()` is inside the mapping (checked
        // above), and `dst` is a local buffer that cannot overlap it.
        // Concurrency: callers copy immutable bytes, bytes guarded by the
        // board lock, which they hold, or, as an optimistic reader
        // (`board/unlocked.rs`), bytes that a lock holder may be writing
        // right now. In the last case, and for a process that breaks
        // LAYOUT.md, the copy may mix old and new bytes: it lands in `dst`,
        // where any bit pattern is a valid `u8`, the writer is another
        // process that this program's compiler knows nothing of, and the
        // optimistic reader discards it unless the write generation shows
        // that no holder ran during the copy (the seqlock argument).
        // SAFETY: in bounds, no overlap, and racing bytes are only wrong `u8`s (above).
        unsafe { std::ptr::copy_nonoverlapping(src, dst.as_mut_ptr(), dst.len()) };
        Some(())
    }

    /// Appends the `len` bytes at `offset` to `dst`, into room it already
    /// has: `None` if the range is outside the mapping or `dst` has less
    /// than `len` bytes of spare capacity. Unlike [`Mapping::read`], the
    /// destination is not initialised first, so a large paste is one pass.
    pub(crate) fn read_append(&self, offset: usize, len: usize, dst: &mut Vec<u8>) -> Option<()> {
        let src = self.check(offset, len)?;
        let filled = dst.len();
        if dst.capacity() - filled < len {
            return None;
        }
        // Bounds: `src..src+len` is inside the mapping, and `len` bytes of
        // `dst`'s spare capacity follow its `filled` initialised ones (both
        // checked above); `dst` is process-local, so they cannot overlap.
        // After the copy those `len` bytes are initialised (any bit pattern
        // is a valid `u8`), so the new length covers only written bytes.
        // Concurrency: as for `read`: the bytes are immutable, guarded by
        // the lock the caller holds, or copied optimistically and discarded
        // unless the write generation proves that no holder ran.
        // SAFETY: in bounds, no overlap, and every byte under the new length written (above).
        unsafe {
            std::ptr::copy_nonoverlapping(src, dst.as_mut_ptr().add(filled), len);
            dst.set_len(filled + len);
        }
        Some(())
    }

    /// Copies `src` into the mapping at `offset`.
    pub(crate) fn write(&self, offset: usize, src: &[u8]) -> Option<()> {
        let dst = self.check(offset, src.len())?;
        // The destination range is inside the mapping (checked above); `src`
        // is process-local memory, so the ranges cannot overlap.
        // Concurrency: callers write only bytes guarded by the board lock,
        // which they hold, or a segment nobody else looks at yet (see
        // `shm::Unpublished`), so no other process reads or writes them now.
        // SAFETY: in bounds, no overlap, and nobody else touches these bytes (above).
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst, src.len()) };
        Some(())
    }

    /// Sets `len` bytes at `offset` to zero.
    pub(crate) fn zero(&self, offset: usize, len: usize) -> Option<()> {
        let dst = self.check(offset, len)?;
        // SAFETY: the range is inside the mapping (checked above).
        // Concurrency: as for `write`, the caller holds the board lock, so no
        // other process touches these bytes until it unlocks.
        unsafe { std::ptr::write_bytes(dst, 0, len) };
        Some(())
    }

    /// Moves `len` bytes from `from` to `to`; the ranges may overlap.
    pub(crate) fn move_within(&self, from: usize, to: usize, len: usize) -> Option<()> {
        let src = self.check(from, len)?;
        let dst = self.check(to, len)?;
        // Both ranges are inside the mapping (checked above); `copy` is
        // memmove, which allows overlap. Concurrency: only the arena moves
        // (compaction), under the board lock, so nobody else reads or writes
        // either range meanwhile.
        // SAFETY: in bounds, overlap allowed, nobody else touches the bytes (above).
        unsafe { std::ptr::copy(src, dst, len) };
        Some(())
    }

    /// Reads a native-endian `u32` at `offset`.
    pub(crate) fn read_u32(&self, offset: usize) -> Option<u32> {
        let mut b = [0; 4];
        self.read(offset, &mut b)?;
        Some(u32::from_ne_bytes(b))
    }

    /// Reads a native-endian `u64` at `offset`.
    pub(crate) fn read_u64(&self, offset: usize) -> Option<u64> {
        let mut b = [0; 8];
        self.read(offset, &mut b)?;
        Some(u64::from_ne_bytes(b))
    }

    /// Writes a native-endian `u32` at `offset`.
    pub(crate) fn write_u32(&self, offset: usize, value: u32) -> Option<()> {
        self.write(offset, &value.to_ne_bytes())
    }

    /// Writes a native-endian `u64` at `offset`.
    pub(crate) fn write_u64(&self, offset: usize, value: u64) -> Option<()> {
        self.write(offset, &value.to_ne_bytes())
    }

    /// The `AtomicU64` at `offset`, which must be 8-byte aligned.
    pub(crate) fn atomic_u64(&self, offset: usize) -> Option<&AtomicU64> {
        let ptr = self.check(offset, 8)?;
        if !(ptr as usize).is_multiple_of(align_of::<u64>()) {
            return None;
        }
        // The 8 bytes are inside the mapping and aligned (checked above), and
        // live as long as `&self`. Concurrency: other processes may load and
        // store these bytes right now, but only atomically (`seq`, the magic
        // word, a bench's stamp), which is what AtomicU64 is for; a reference
        // to an atomic permits exactly that sharing.
        // SAFETY: in bounds, aligned, outlived by `&self`, shared only atomically (above).
        Some(unsafe { AtomicU64::from_ptr(ptr.cast()) })
    }

    /// The `AtomicU32` at `offset`, which must be 4-byte aligned.
    pub(crate) fn atomic_u32(&self, offset: usize) -> Option<&AtomicU32> {
        let ptr = self.check(offset, 4)?;
        if !(ptr as usize).is_multiple_of(align_of::<u32>()) {
            return None;
        }
        // SAFETY: as for `atomic_u64`: in bounds, aligned, outlived by
        // `&self`, and other processes access it (`version`) only atomically.
        Some(unsafe { AtomicU32::from_ptr(ptr.cast()) })
    }

    /// The address of `len` bytes at `offset`, for the mutex shim.
    pub(crate) fn raw(&self, offset: usize, len: usize) -> Option<*mut u8> {
        self.check(offset, len)
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // `ptr`/`len` are exactly what mmap returned, and no reference into
        // the mapping outlives `self` (atomics and `RawMutex` borrow
        // `&self`). Other processes keep their own mappings of the file;
        // unmapping ours changes nothing for them (a lock we held is released
        // by the guard first, which borrows the mapping).
        // SAFETY: our own mapping, unmapped once, with nothing borrowing it (above).
        if let Err(errno) = unsafe { munmap(self.ptr.cast(), self.len) } {
            tracing::warn!(%errno, "munmap failed");
        }
    }
}
