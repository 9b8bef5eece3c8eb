//! A bare shared-memory region, for benchmarks that measure the floor a board
//! is compared against. Not part of the stable API.

use nix::fcntl::OFlag;
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::Mode;
use nix::unistd::ftruncate;

use crate::sys::Mapping;
use crate::{Error, Result};

/// A named `shm_open` region mapped read-write, with no header, lock or checks
/// beyond bounds: the least a shared-memory handoff can do.
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
        ftruncate(&fd, len as i64).map_err(|e| Error::os("ftruncate", e))?;
        let map = Mapping::new(&fd, len).map_err(|e| Error::os("mmap", e))?;
        Ok(RawRegion {
            map,
            name: name.to_owned(),
            owner: true,
        })
    }

    /// Opens region `name` created by another process.
    pub fn open(name: &str, len: usize) -> Result<Self> {
        let fd =
            shm_open(name, OFlag::O_RDWR, Mode::empty()).map_err(|e| Error::os("shm_open", e))?;
        let map = Mapping::new(&fd, len).map_err(|e| Error::os("mmap", e))?;
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
