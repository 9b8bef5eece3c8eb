//! The segment: race-free creation, validation on open, and bounds-checked
//! typed access to the header, the subscriber table, the index and the arena.
//!
//! `segment.rs` holds the handle and its life (create, open, unlink);
//! `validate.rs` the checks of an opened file and its header; `views.rs` the
//! bounds-checked typed accessors.

mod validate;
mod views;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::{Mode, fstat};
use nix::unistd::Uid;

use crate::format::{
    self, Birth, Geometry, HEADER_SIZE, INDEX_SLOT_SIZE, ImmutableHeader, IndexRecord, MAGIC,
    MAX_ARENA, MAX_DEPTH, off,
};
use crate::sys::shm::{BoardMap, NewShmFile, ShmFile};
use crate::{BoardName, CreateOptions, Error, Result};

pub(crate) use validate::validate_image_header;
use validate::{Expect, check_owner, corrupt, refused_by_os, validate_header};

/// How long an opener waits for the creator to finish initialising.
const INIT_WAIT: Duration = Duration::from_secs(2);

/// What the next locker runs after a lock holder died mid-change; returns
/// how many entries it discarded. Given to [`Segment::open`] by the layer
/// that knows what a board holds (`repair::repair`), so that the lock never
/// imports it.
pub(crate) type RepairHook = fn(&Segment) -> usize;

/// Until `open` sets the real hook: never called, since nobody locks a
/// segment before `open` returns it.
fn no_repair(_: &Segment) -> usize {
    0
}

/// An open, validated board segment.
#[derive(Debug)]
pub(crate) struct Segment {
    repair: RepairHook,
    /// The published mapping; it also keeps the segment's fd open.
    map: BoardMap,
    name: BoardName,
    path: PathBuf,
    owner: u32,
    mode: u32,
    /// Read once at open and validated; never re-read from shared memory.
    geo: Geometry,
    /// From the immutable header, read once.
    node_id: [u8; 16],
    /// Until when this process leaves the mutex to a waiter that its last
    /// unlock woke (`lock.rs`'s hand-off), in its monotonic nanoseconds; 0: none.
    pub(crate) handoff_until: AtomicU64,
    /// Arena bytes `0..backed_to` are backed with pages, as this process
    /// has seen (`Segment::back_arena`): it saves the system call, and
    /// nothing else relies on it.
    backed_to: AtomicU64,
}

/// The effective uid, which owns every object we create or accept.
pub(crate) fn euid() -> u32 {
    Uid::effective().as_raw()
}

/// `st_dev` and `st_ino` of this process's pid namespace.
pub(crate) fn pid_namespace() -> (u64, u64) {
    nix::sys::stat::stat("/proc/self/ns/pid").map_or((0, 0), |st| (st.st_dev, st.st_ino))
}

/// Where `shm_open` puts segment `shm_name` on Linux.
pub(crate) fn shm_path(shm_name: &str) -> PathBuf {
    Path::new("/dev/shm").join(shm_name.trim_start_matches('/'))
}

impl Segment {
    /// Opens board `name`, creating it with `create`'s sizes if it is missing.
    pub(crate) fn open(
        name: &BoardName,
        create: Option<CreateOptions>,
        repair: RepairHook,
    ) -> Result<Segment> {
        let uid = euid();
        let shm_name = name.segment_name(uid);
        let path = shm_path(&shm_name);
        // Bounded: each pass either opens, creates, or saw the segment vanish
        // or appear between two calls (a concurrent destroy or create), which
        // cannot go on forever. Opening comes first: the board nearly always
        // exists, and a create that fails with EEXIST was a system call
        // spent for nothing on every copy.
        for _ in 0..16 {
            match ShmFile::open(shm_name.as_str()) {
                Ok(file) => {
                    return Self::open_existing(name, path, file).map(|s| s.with_repair(repair));
                }
                Err(Errno::ENOENT) => {}
                Err(Errno::EACCES) => return Err(refused_by_os(&path, uid)),
                Err(errno) => return Err(Error::os(format!("opening {}", path.display()), errno)),
            }
            let Some(opts) = create else {
                return Err(Error::NoSuchBoard {
                    name: name.to_string(),
                });
            };
            match NewShmFile::create(shm_name.as_str()) {
                Ok(file) => {
                    return Self::create(name, &shm_name, &path, file, opts)
                        .map(|s| s.with_repair(repair));
                }
                // Created by another process since the open: open it.
                Err(Errno::EEXIST) => {}
                Err(Errno::EACCES) => return Err(refused_by_os(&path, uid)),
                Err(errno) => {
                    return Err(Error::os(format!("creating {}", path.display()), errno));
                }
            }
        }
        Err(Error::os(
            format!("opening {}", path.display()),
            Errno::EAGAIN,
        ))
    }

    fn create(
        name: &BoardName,
        shm_name: &str,
        path: &Path,
        file: NewShmFile,
        opts: CreateOptions,
    ) -> Result<Segment> {
        let result = (|| {
            // The caller's mistake, not a hostile segment: say so.
            opts.validate()?;
            let geo = Geometry::new(opts.depth, opts.capacity);
            // The header, the tables and the index, backed now; the arena
            // as records reach it (`back_arena`).
            let fresh = file
                .size_and_map(geo.segment_size, geo.arena_offset)
                .map_err(|(step, e)| match e {
                    Errno::ENOSPC => Error::SharedMemoryFull {
                        path: path.to_owned(),
                        bytes: geo.arena_offset,
                    },
                    e => Error::os(format!("{step} {}", path.display()), e),
                })?;
            let expect = Expect::here();
            let birth = Birth {
                node_id: crate::ids::random_bytes(),
                created_ns: crate::ids::now_ns(),
            };
            // The immutable part, but for the magic and the version, which
            // `publish` stores atomically; the file is zero-filled already.
            let header =
                ImmutableHeader::for_geometry(&geo, expect.abi, expect.pidns, euid(), birth)
                    .encode();
            let oob = || corrupt(path, "header out of bounds");
            fresh
                .write(off::HEADER_SIZE, &header[off::HEADER_SIZE..])
                .ok_or_else(oob)?;
            // An empty board's derived structures (LAYOUT.md, "Creation").
            let none = format::NO_SLOT.to_ne_bytes();
            for at in [off::CURRENT, off::RING_FIRST, off::RING_LAST] {
                fresh.write(at, &none).ok_or_else(oob)?;
            }
            let buckets = vec![0xFF; geo.buckets as usize * 4];
            fresh
                .write(geo.buckets_offset as usize, &buckets)
                .ok_or_else(oob)?;
            let mut index = vec![0u8; geo.index_slots as usize * INDEX_SLOT_SIZE];
            for (slot, bytes) in index.chunks_exact_mut(INDEX_SLOT_SIZE).enumerate() {
                let next = slot as u32 + 1;
                let next = if next == geo.index_slots {
                    format::NO_SLOT
                } else {
                    next
                };
                bytes.copy_from_slice(&IndexRecord::free_slot(next));
            }
            fresh
                .write(geo.index_offset as usize, &index)
                .ok_or_else(oob)?;
            // Mutex, magic, then the version last: an opener that sees the
            // version sees everything above.
            let map = fresh
                .publish()
                .map_err(|e| Error::os("initialising the board mutex", e))?;
            tracing::debug!(path = %path.display(), size = geo.segment_size, "created board");
            Ok(Segment {
                repair: no_repair,
                map,
                name: name.clone(),
                path: path.to_owned(),
                owner: euid(),
                mode: 0o600,
                geo,
                node_id: birth.node_id,
                handoff_until: AtomicU64::new(0),
                // The arena is sparse until records reach it.
                backed_to: AtomicU64::new(0),
            })
        })();
        if result.is_err() {
            let _ = shm_unlink(shm_name);
        }
        result
    }

    fn open_existing(name: &BoardName, path: PathBuf, file: ShmFile) -> Result<Segment> {
        let deadline = Instant::now() + INIT_WAIT;
        let (owner, mode, size) = loop {
            let (owner, mode, size) = check_owner(&file, &path)?;
            // A creator ftruncates from 0 to the full size in one call, so
            // anything else smaller than a header is never a legitimate state.
            if size != 0 {
                break (owner, mode, size);
            }
            if Instant::now() > deadline {
                return Err(Error::InitTimeout { path });
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        if size < HEADER_SIZE as u64 {
            return Err(Error::BadSize {
                path,
                size,
                reason: "smaller than a board header",
            });
        }
        let largest = Geometry::new(MAX_DEPTH, MAX_ARENA).segment_size;
        if size > largest {
            return Err(Error::BadSize {
                path,
                size,
                reason: "larger than any board",
            });
        }
        let map = file
            .map()
            .map_err(|e| Error::os(format!("mapping {}", path.display()), e))?;
        while map.version() == 0 {
            if Instant::now() > deadline {
                // The creator stores the magic atomically, so this load races
                // with nothing even if it is still at work.
                let magic = map.magic();
                return Err(if magic == MAGIC || magic == [0; 8] {
                    Error::InitTimeout { path }
                } else {
                    Error::BadMagic { path }
                });
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        // Only the immutable part: the mutex, seq and the counters change
        // under other processes' feet (atomically or under the lock).
        let header = map
            .immutable_header()
            .ok_or_else(|| corrupt(&path, "header out of bounds"))?;
        let (geo, birth) = validate_header(&header, map.len() as u64, &Expect::here(), &path)?;
        // Validated above, so this only re-checks what locking the mutex
        // relies on (magic, version, ABI tag).
        let map = map
            .into_board()
            .map_err(|_| corrupt(&path, "not a board of this build"))?;
        Ok(Segment {
            repair: no_repair,
            map,
            name: name.clone(),
            path,
            owner,
            mode,
            geo,
            node_id: birth.node_id,
            handoff_until: AtomicU64::new(0),
            backed_to: AtomicU64::new(0),
        })
    }

    /// Removes the segment of board `name`. Refuses one that is not ours.
    pub(crate) fn unlink(name: &BoardName) -> Result<()> {
        let shm_name = name.segment_name(euid());
        let path = shm_path(&shm_name);
        let fd = match shm_open(shm_name.as_str(), OFlag::O_RDONLY, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => {
                return Err(Error::NoSuchBoard {
                    name: name.to_string(),
                });
            }
            Err(Errno::EACCES) => return Err(refused_by_os(&path, euid())),
            Err(errno) => return Err(Error::os(format!("opening {}", path.display()), errno)),
        };
        // Ownership, not mode: a squatted 0666 segment of ours may be removed.
        let st = fstat(&fd).map_err(|e| Error::os("fstat", e))?;
        if st.st_uid != euid() {
            return Err(Error::UnsafeSegment {
                path,
                owner: st.st_uid,
                mode: st.st_mode & 0o7777,
                expected_uid: euid(),
                reason: "owned by another user",
            });
        }
        match shm_unlink(shm_name.as_str()) {
            Ok(()) | Err(Errno::ENOENT) => Ok(()),
            Err(errno) => Err(Error::os(format!("removing {}", path.display()), errno)),
        }
    }

    fn with_repair(self, repair: RepairHook) -> Segment {
        Segment { repair, ..self }
    }

    /// The hook the lock runs after a holder died.
    pub(crate) fn repair_hook(&self) -> RepairHook {
        self.repair
    }

    pub(crate) fn name(&self) -> &BoardName {
        &self.name
    }

    /// Whether the segment's name is gone: `destroy`, or someone's
    /// `rm /dev/shm/...`. The mapping stays valid, but nobody who opens the
    /// board by name will ever see it again. An fstat error counts as gone.
    pub(crate) fn unlinked(&self) -> bool {
        fstat(self.map.fd()).map_or(true, |st| st.st_nlink == 0)
    }
    /// The descriptor of the mapped file: what `path` led to when opened.
    pub(crate) fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.map.fd()
    }
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
    pub(crate) fn owner(&self) -> u32 {
        self.owner
    }
    pub(crate) fn mode(&self) -> u32 {
        self.mode
    }
    pub(crate) fn geometry(&self) -> &Geometry {
        &self.geo
    }
    pub(crate) fn node_id(&self) -> [u8; 16] {
        self.node_id
    }
}
