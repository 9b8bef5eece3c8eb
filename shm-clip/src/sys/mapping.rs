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
    pub(crate) fn new(fd: impl AsFd, len: usize) -> Result<Self, Errno> {
        let size = NonZeroUsize::new(len).ok_or(Errno::EINVAL)?;
        // SAFETY: we ask for a fresh mapping (no address hint, no MAP_FIXED), so
        // no existing Rust object is affected. The caller checked with fstat that
        // the file is at least `len` bytes long.
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

    /// `offset..offset+len` if it lies inside the mapping.
    fn check(&self, offset: usize, len: usize) -> Option<*mut u8> {
        let end = offset.checked_add(len)?;
        if end > self.len {
            return None;
        }
        // SAFETY: offset <= end <= self.len, so the result stays inside (or one
        // past the end of) the mapped region.
        Some(unsafe { self.ptr.as_ptr().add(offset) })
    }

    /// Copies `dst.len()` bytes starting at `offset` into `dst`.
    pub(crate) fn read(&self, offset: usize, dst: &mut [u8]) -> Option<()> {
        let src = self.check(offset, dst.len())?;
        // SAFETY: `src..src+dst.len()` is inside the mapping (checked above),
        // and `dst` is a local buffer that cannot overlap a shared mapping.
        unsafe { std::ptr::copy_nonoverlapping(src, dst.as_mut_ptr(), dst.len()) };
        Some(())
    }

    /// Copies `src` into the mapping at `offset`.
    pub(crate) fn write(&self, offset: usize, src: &[u8]) -> Option<()> {
        let dst = self.check(offset, src.len())?;
        // SAFETY: the destination range is inside the mapping (checked above);
        // `src` is process-local memory, so the ranges cannot overlap.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst, src.len()) };
        Some(())
    }

    /// Sets `len` bytes at `offset` to zero.
    pub(crate) fn zero(&self, offset: usize, len: usize) -> Option<()> {
        let dst = self.check(offset, len)?;
        // SAFETY: the range is inside the mapping (checked above).
        unsafe { std::ptr::write_bytes(dst, 0, len) };
        Some(())
    }

    /// Moves `len` bytes from `from` to `to`; the ranges may overlap.
    pub(crate) fn move_within(&self, from: usize, to: usize, len: usize) -> Option<()> {
        let src = self.check(from, len)?;
        let dst = self.check(to, len)?;
        // SAFETY: both ranges are inside the mapping (checked above); `copy`
        // is memmove, which allows overlap.
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
        // SAFETY: the 8 bytes are inside the mapping and aligned (checked
        // above), and live as long as `&self`. Other processes access these
        // bytes only atomically too, which is what AtomicU64 is for.
        Some(unsafe { AtomicU64::from_ptr(ptr.cast()) })
    }

    /// The `AtomicU32` at `offset`, which must be 4-byte aligned.
    pub(crate) fn atomic_u32(&self, offset: usize) -> Option<&AtomicU32> {
        let ptr = self.check(offset, 4)?;
        if !(ptr as usize).is_multiple_of(align_of::<u32>()) {
            return None;
        }
        // SAFETY: as for `atomic_u64`: in bounds, aligned, outlived by `&self`.
        Some(unsafe { AtomicU32::from_ptr(ptr.cast()) })
    }

    /// The address of `len` bytes at `offset`, for the mutex shim.
    pub(crate) fn raw(&self, offset: usize, len: usize) -> Option<*mut u8> {
        self.check(offset, len)
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly what mmap returned, and no reference
        // into the mapping outlives `self` (atomics borrow `&self`).
        if let Err(errno) = unsafe { munmap(self.ptr.cast(), self.len) } {
            tracing::warn!(%errno, "munmap failed");
        }
    }
}
