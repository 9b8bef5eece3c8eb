//! The segment file: create or open it, check it before mapping, publish it.
//!
//! Each stage of a segment's life is its own type, so the preconditions of
//! [`Mapping::new`] and [`RawMutex`] are met by construction:
//!
//! - [`NewShmFile`]: created here with `O_CREAT|O_EXCL`, nobody has used it.
//! - [`Unpublished`]: sized and mapped by its creator; `version` is still 0,
//!   so no other process looks at anything but the magic and version words.
//! - [`ShmFile`] → [`Mapped`]: an existing file, mapped only after `fstat`
//!   showed a regular file of the effective uid, mode 0600 or less, at least
//!   a header long. It may not be published yet.
//! - [`BoardMap`]: published by a creator of this build (magic, layout
//!   version and ABI tag agree), so its mutex is initialised and we may lock
//!   it. It keeps the fd, for whoever wants to `fstat` the segment again.

use std::ops::Deref;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::Ordering;

use nix::errno::Errno;
use nix::fcntl::{FallocateFlags, OFlag, fallocate};
use nix::sys::mman::shm_open;
use nix::sys::stat::{FileStat, Mode, fchmod, fstat};
use nix::unistd::{Uid, ftruncate};

use super::{Mapping, RawMutex};
use crate::format::{self, HEADER_SIZE, IMMUTABLE_HEADER_SIZE, LAYOUT_VERSION, MAGIC, off};

/// Bytes an opener may load before publication: the magic and version words.
const PEEKED: std::ops::Range<usize> = off::MAGIC..off::VERSION + 4;

/// A segment file that this process has just created; nobody has used it.
#[derive(Debug)]
pub(crate) struct NewShmFile {
    fd: OwnedFd,
}

impl NewShmFile {
    /// `shm_open(name, O_CREAT|O_EXCL|O_RDWR, 0600)`: `EEXIST` if it exists.
    pub(crate) fn create(name: &str) -> Result<NewShmFile, Errno> {
        let fd = shm_open(
            name,
            OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR,
            Mode::S_IRUSR | Mode::S_IWUSR,
        )?;
        Ok(NewShmFile { fd })
    }

    /// Sets mode 0600 exactly (the umask may have cleared bits, never added
    /// any), sizes the file to `len` bytes in one call, backs its first
    /// `backed` bytes with pages ([`back`]), and maps it. On error the name
    /// still exists: the caller unlinks it. The error names the step.
    pub(crate) fn size_and_map(
        self,
        len: u64,
        backed: u64,
    ) -> Result<Unpublished, (&'static str, Errno)> {
        fchmod(&self.fd, Mode::S_IRUSR | Mode::S_IWUSR).map_err(|e| ("fchmod", e))?;
        let size = i64::try_from(len).map_err(|_| ("sizing", Errno::EFBIG))?;
        let map_len = usize::try_from(len).map_err(|_| ("mmap", Errno::EFBIG))?;
        ftruncate(&self.fd, size).map_err(|e| ("sizing", e))?;
        back(&self.fd, 0, backed.min(len)).map_err(|e| ("reserving the header and index of", e))?;
        // ftruncate just made the file exactly `len` bytes long.
        // Nobody shrinks it later: it is mode 0600 and ours, and shm-clip
        // truncates a segment only here, once, from 0 to its full size (a
        // foreign process of our uid is outside our reach, see the module
        // docs of `sys`). Concurrency: openers may map it already, but they
        // only load the magic and version words atomically until we publish,
        // and `Unpublished` never writes those words non-atomically.
        // SAFETY: the file is `map_len` bytes long and stays so (above).
        let map = unsafe { Mapping::new(&self.fd, map_len) }.map_err(|e| ("mmap", e))?;
        Ok(Unpublished { map, fd: self.fd })
    }
}

/// A fresh segment, sized and mapped, whose version is still 0.
#[derive(Debug)]
pub(crate) struct Unpublished {
    map: Mapping,
    fd: OwnedFd,
}

impl Unpublished {
    /// Copies `src` in at `offset`. Refuses the magic and version words,
    /// which openers may load before publication: [`Unpublished::publish`]
    /// stores those atomically.
    pub(crate) fn write(&self, offset: usize, src: &[u8]) -> Option<()> {
        let end = offset.checked_add(src.len())?;
        if offset < PEEKED.end && PEEKED.start < end {
            return None;
        }
        self.map.write(offset, src)
    }

    /// Initialises the robust mutex, stores the magic, then publishes
    /// `LAYOUT_VERSION` with a release store: an opener whose acquire load
    /// sees the version sees everything written before it.
    pub(crate) fn publish(self) -> Result<BoardMap, Errno> {
        // SAFETY: version is still 0, so no other process touches the mutex
        // bytes: openers wait for the version and look at nothing else but
        // the magic word, and we hold the only handle to this mapping.
        unsafe { RawMutex::init(&self.map, off::MUTEX) }?;
        self.map
            .atomic_u64(off::MAGIC)
            .ok_or(Errno::EINVAL)?
            .store(u64::from_ne_bytes(MAGIC), Ordering::Relaxed);
        self.map
            .atomic_u32(off::VERSION)
            .ok_or(Errno::EINVAL)?
            .store(LAYOUT_VERSION, Ordering::Release);
        Ok(BoardMap {
            map: self.map,
            fd: self.fd,
        })
    }
}

/// An existing segment file, opened read-write but not yet mapped.
#[derive(Debug)]
pub(crate) struct ShmFile {
    fd: OwnedFd,
}

impl AsFd for ShmFile {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl ShmFile {
    /// `shm_open(name, O_RDWR)`.
    pub(crate) fn open(name: &str) -> Result<ShmFile, Errno> {
        Ok(ShmFile {
            fd: shm_open(name, OFlag::O_RDWR, Mode::empty())?,
        })
    }

    /// Maps the whole file, if `fstat` shows that it is safe to: a regular
    /// file of the effective uid that no one else may write, at least a
    /// header long. `EPERM` or `EINVAL` otherwise; a caller that wants to
    /// explain why checks the same with its own `fstat` first.
    pub(crate) fn map(self) -> Result<Mapped, Errno> {
        let st = fstat(&self.fd)?;
        if !may_map(&st) {
            return Err(Errno::EPERM);
        }
        let len = usize::try_from(st.st_size).map_err(|_| Errno::EINVAL)?;
        if len < HEADER_SIZE {
            return Err(Errno::EINVAL);
        }
        // fstat just showed the file to be `len` bytes long. It does
        // not shrink: it is ours and no one else may write it (checked above),
        // a creator only ever grows a segment from 0 to its full size, in one
        // ftruncate, and shm-clip never truncates it again (a foreign process
        // of our uid is outside our reach, see the module docs of `sys`).
        // Concurrency: other processes may be writing the file right now;
        // mapping it reads nothing.
        // SAFETY: the file is `len` bytes long and stays so (above).
        let map = unsafe { Mapping::new(&self.fd, len) }?;
        Ok(Mapped { map, fd: self.fd })
    }
}

/// A regular file of the effective uid with no group or other bits.
fn may_map(st: &FileStat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFREG
        && st.st_uid == Uid::effective().as_raw()
        && st.st_mode & (libc::S_IRWXG | libc::S_IRWXO) == 0
}

/// An existing segment, mapped, whose creator may not have published it yet.
#[derive(Debug)]
pub(crate) struct Mapped {
    map: Mapping,
    fd: OwnedFd,
}

impl Mapped {
    /// The mapped length, which is the file size that `map` checked.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// The layout version, with acquire ordering: 0 until published.
    pub(crate) fn version(&self) -> u32 {
        self.map
            .atomic_u32(off::VERSION)
            .expect("map checked that a header fits")
            .load(Ordering::Acquire)
    }

    /// The magic word, loaded atomically: a creator stores it atomically, so
    /// this is safe to look at while it may still be initialising.
    pub(crate) fn magic(&self) -> [u8; 8] {
        self.map
            .atomic_u64(off::MAGIC)
            .expect("map checked that a header fits")
            .load(Ordering::Relaxed)
            .to_ne_bytes()
    }

    /// A copy of the header's immutable part, once the version is published
    /// (`None` before). The mutex, `seq` and the counters that follow it
    /// change under other processes' feet and are not copied.
    pub(crate) fn immutable_header(&self) -> Option<[u8; IMMUTABLE_HEADER_SIZE]> {
        if self.version() == 0 {
            return None;
        }
        let mut header = [0u8; IMMUTABLE_HEADER_SIZE];
        // After the acquire load above saw the creator's release store, the
        // creator's writes to these bytes happen-before this copy, and nobody
        // writes them again (LAYOUT.md): the copy races with nothing.
        self.map.read(0, &mut header)?;
        Some(header)
    }

    /// Accepts the segment as a board of this build, whose mutex we may lock:
    /// published, with our magic, layout version and ABI tag. Gives the
    /// mapping back otherwise. The caller validates the rest of the header.
    pub(crate) fn into_board(self) -> Result<BoardMap, Mapped> {
        let ours = self.immutable_header().is_some_and(|h| {
            h[off::MAGIC..][..8] == MAGIC
                && h[off::VERSION..][..4] == LAYOUT_VERSION.to_ne_bytes()
                && h[off::ABI_TAG..][..32] == format::abi_tag()
        });
        if ours {
            Ok(BoardMap {
                map: self.map,
                fd: self.fd,
            })
        } else {
            Err(self)
        }
    }
}

/// A published segment of this build: its mutex is initialised.
#[derive(Debug)]
pub(crate) struct BoardMap {
    map: Mapping,
    fd: OwnedFd,
}

impl BoardMap {
    /// The board mutex.
    pub(crate) fn mutex(&self) -> RawMutex<'_> {
        // A `BoardMap` exists only for a segment whose creator
        // initialised the mutex before publishing (`Unpublished::publish`),
        // either this process or one whose published magic, version and ABI
        // tag match ours (`Mapped::into_board`), so the bytes hold a robust,
        // process-shared mutex of our ABI. From then on every process touches
        // them only through pthread calls (and atomic loads of the lock
        // word), for as long as the segment lives.
        // SAFETY: an initialised robust mutex of our ABI, touched only through pthread calls and atomic loads (argued above).
        unsafe { RawMutex::at(&self.map, off::MUTEX) }
            .expect("the header, mutex included, fits in every board")
    }

    /// The segment's file descriptor, kept open for `fstat`: a removed
    /// segment shows `st_nlink == 0` (`Segment::unlinked`).
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Backs `len` bytes of the file from `offset` with pages, before they
    /// are first written ([`back`]).
    pub(crate) fn back(&self, offset: u64, len: u64) -> Result<(), Errno> {
        back(&self.fd, offset, len)
    }
}

/// Gives the file's bytes `offset..offset + len` pages of their own now
/// (`fallocate`, mode 0: the size stays), so that touching them later
/// cannot fail. The file is sparse (`ftruncate`), and a page of tmpfs is
/// allocated when it is first touched, read or written; on a full tmpfs
/// that access raises `SIGBUS`, which would kill a writer half-way through
/// a copy while it holds the board lock, and then every process that
/// repaired the board after it. `ENOSPC` here is an error instead. Pages
/// that are backed already cost nothing new. A file system without
/// `fallocate` (`EOPNOTSUPP`) keeps the old behaviour.
fn back(fd: &OwnedFd, offset: u64, len: u64) -> Result<(), Errno> {
    if len == 0 {
        return Ok(());
    }
    let offset = i64::try_from(offset).map_err(|_| Errno::EFBIG)?;
    let len = i64::try_from(len).map_err(|_| Errno::EFBIG)?;
    loop {
        match fallocate(fd, FallocateFlags::empty(), offset, len) {
            Ok(()) | Err(Errno::EOPNOTSUPP) => return Ok(()),
            Err(Errno::EINTR) => {}
            Err(errno) => return Err(errno),
        }
    }
}

impl Deref for BoardMap {
    type Target = Mapping;

    fn deref(&self) -> &Mapping {
        &self.map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh, unpublished 8 KiB segment named `/shm-clip-test-sys-TAG.PID`.
    fn fresh(tag: &str) -> (String, Unpublished) {
        let name = format!("/shm-clip-test-sys-{tag}.{}", std::process::id());
        let _ = nix::sys::mman::shm_unlink(name.as_str());
        let fresh = NewShmFile::create(&name)
            .unwrap()
            .size_and_map(8192, 4096)
            .unwrap();
        (name, fresh)
    }

    #[test]
    fn the_first_bytes_are_backed_at_creation_and_the_rest_when_asked() {
        let allocated = |fd: BorrowedFd<'_>| fstat(fd).unwrap().st_blocks * 512;
        let name = format!("/shm-clip-test-sys-sparse.{}", std::process::id());
        let _ = nix::sys::mman::shm_unlink(name.as_str());
        let sparse = NewShmFile::create(&name)
            .unwrap()
            .size_and_map(8192, 0)
            .unwrap();
        assert_eq!(allocated(sparse.fd.as_fd()), 0, "a sparse file until asked");
        nix::sys::mman::shm_unlink(name.as_str()).unwrap();

        let (name, fresh) = fresh("back");
        assert!(
            allocated(fresh.fd.as_fd()) >= 4096,
            "the first page, at creation"
        );
        let board = fresh.publish().unwrap();
        board.back(4096, 4096).unwrap();
        assert!(allocated(board.fd()) >= 8192);
        nix::sys::mman::shm_unlink(name.as_str()).unwrap();
    }

    #[test]
    fn an_opener_sees_nothing_before_publish_and_a_board_after() {
        let (name, fresh) = fresh("shm");
        assert!(
            NewShmFile::create(&name).is_err_and(|e| e == Errno::EEXIST),
            "exclusive"
        );
        // The words openers load before publication are never memcpy'd.
        assert_eq!(fresh.write(0, &MAGIC), None);
        assert_eq!(fresh.write(off::VERSION, &[1]), None);
        assert_eq!(fresh.write(off::VERSION + 3, &[1, 2]), None);
        assert_eq!(fresh.write(8190, &[0; 4]), None);
        assert_eq!(fresh.write(off::ABI_TAG, &format::abi_tag()), Some(()));

        let early = ShmFile::open(&name).unwrap().map().unwrap();
        assert_eq!(early.len(), 8192);
        assert_eq!(early.version(), 0);
        assert_eq!(early.magic(), [0; 8]);
        assert_eq!(early.immutable_header(), None);
        let early = early.into_board().expect_err("not published yet");

        let board = fresh.publish().unwrap();
        assert_eq!(early.magic(), MAGIC);
        let header = early.immutable_header().expect("published");
        assert_eq!(header[off::ABI_TAG..][..32], format::abi_tag());
        let opened = early.into_board().expect("a board of this build");
        for mutex in [board.mutex(), opened.mutex()] {
            mutex.lock(std::time::Duration::from_secs(1)).unwrap();
            mutex.unlock().unwrap();
        }
        nix::sys::mman::shm_unlink(name.as_str()).unwrap();
    }

    /// The lock word is read where glibc keeps it: the hand-off in
    /// `lock.rs` sees a waiter sleep on a held mutex, and a free one after.
    #[test]
    fn a_held_mutex_shows_its_waiter_and_a_free_one_shows_none() {
        let (name, fresh) = fresh("waiters");
        let board = fresh.publish().unwrap();
        let wait = std::time::Duration::from_secs(10);
        assert!(board.mutex().looks_free() && !board.mutex().has_waiters());
        board.mutex().lock(wait).unwrap();
        assert!(!board.mutex().looks_free(), "held");
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                board.mutex().lock(wait).unwrap();
                board.mutex().unlock().unwrap();
            });
            let deadline = std::time::Instant::now() + wait;
            while !board.mutex().has_waiters() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no waiter seen in 10 s"
                );
                std::thread::yield_now();
            }
            board.mutex().unlock().unwrap();
            waiter.join().unwrap();
        });
        assert!(board.mutex().looks_free() && !board.mutex().has_waiters());
        nix::sys::mman::shm_unlink(name.as_str()).unwrap();
    }
}
