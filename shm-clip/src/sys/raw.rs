//! A bare shared-memory region, for benchmarks that measure the floor a board
//! is compared against. Re-exported as `shm_clip::raw::RawRegion`.

use nix::fcntl::OFlag;
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::{Mode, fstat};
use nix::unistd::ftruncate;

use super::Mapping;
use crate::{Error, Result};

/// A named `shm_open` region mapped read-write, with no header, lock or checks
/// beyond bounds: the least a shared-memory handoff can do.
///
/// With no lock, nothing here orders one process's copies against another's.
/// That is the job of whoever uses the region, for example by writing before
/// `mq_send` and reading only after the matching `mq_receive`, as the latency
/// bench does. A read that overlaps another process's write returns a mix of
/// old and new bytes, which is wrong data but any bit pattern of a `u8`
/// (the argument of `Mapping::read`).
#[derive(Debug)]
pub struct RawRegion {
    map: Mapping,
    name: String,
    owner: bool,
}

impl RawRegion {
    /// Creates (replacing any old one) region `name` of `len` bytes.
    pub fn create(name: &str, len: usize) -> Result<Self> {
        let _ = shm_unlink(name);
        let fd = shm_open(
            name,
            OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR,
            Mode::S_IRUSR | Mode::S_IWUSR,
        )
        .map_err(|e| Error::os("shm_open", e))?;
        let size =
            i64::try_from(len).map_err(|_| Error::os("ftruncate", nix::errno::Errno::EFBIG))?;
        ftruncate(&fd, size).map_err(|e| Error::os("ftruncate", e))?;
        // ftruncate just made the new file exactly `len` bytes long,
        // and nothing in this crate shrinks it; openers promise not to
        // (`open`'s contract). Concurrency: nobody could have written it yet,
        // and mmap itself reads nothing.
        // SAFETY: the file is `len` bytes and does not shrink; nobody can have written it yet (argued above).
        let map = unsafe { Mapping::new(&fd, len) }.map_err(|e| Error::os("mmap", e))?;
        Ok(RawRegion {
            map,
            name: name.to_owned(),
            owner: true,
        })
    }

    /// Opens region `name` created by another process with
    /// [`RawRegion::create`]; refuses one shorter than `len` bytes.
    pub fn open(name: &str, len: usize) -> Result<Self> {
        let fd =
            shm_open(name, OFlag::O_RDWR, Mode::empty()).map_err(|e| Error::os("shm_open", e))?;
        let st = fstat(&fd).map_err(|e| Error::os("fstat", e))?;
        if usize::try_from(st.st_size).is_ok_and(|size| size < len) {
            return Err(Error::os(
                format!("region {name} is {} bytes, not {len}", st.st_size),
                nix::errno::Errno::EINVAL,
            ));
        }
        // fstat just showed the file to be at least `len` bytes long.
        // It does not shrink: `create` truncates it once, before anyone can
        // open it, and nothing here truncates it again (a foreign process of
        // our uid is outside our reach, see the module docs of `sys`).
        // Concurrency: the creator may be writing it now; mmap reads nothing,
        // and later copies are bounds-checked `Mapping` copies into private
        // buffers, where racing bytes are wrong data, not undefined behaviour.
        // SAFETY: the file is at least `len` bytes and does not shrink; racing bytes are only read by bounds-checked copies (argued above).
        let map = unsafe { Mapping::new(&fd, len) }.map_err(|e| Error::os("mmap", e))?;
        Ok(RawRegion {
            map,
            name: name.to_owned(),
            owner: false,
        })
    }

    /// Copies `src` in at `offset`; `None` if out of bounds.
    #[must_use]
    pub fn write(&self, offset: usize, src: &[u8]) -> Option<()> {
        self.map.write(offset, src)
    }

    /// Copies bytes out at `offset`; `None` if out of bounds.
    #[must_use]
    pub fn read(&self, offset: usize, dst: &mut [u8]) -> Option<()> {
        self.map.read(offset, dst)
    }

    /// The atomic `u64` at `offset` (8-byte aligned).
    #[must_use]
    pub fn atomic_u64(&self, offset: usize) -> Option<&std::sync::atomic::AtomicU64> {
        self.map.atomic_u64(offset)
    }
}

impl Drop for RawRegion {
    fn drop(&mut self) {
        if self.owner {
            let _ = shm_unlink(self.name.as_str());
        }
    }
}
