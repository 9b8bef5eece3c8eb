//! The segment: race-free creation, validation on open, and bounds-checked
//! typed access to the header, the subscriber table, the index and the arena.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::{Mode, fstat};
use nix::unistd::Uid;
use xxhash_rust::xxh3::xxh3_64;

use crate::layout::{
    self, Geometry, HEADER_SIZE, IMMUTABLE_HEADER_SIZE, INDEX_SLOT_SIZE, LABEL_MAX, LAYOUT_VERSION,
    MAGIC, MAILBOX_NAME_MAX, MAX_ARENA, MAX_DEPTH, MIN_ARENA, MIN_DEPTH, SUB_SLOT_SIZE,
    SUBSCRIBER_SLOTS, off,
};
use crate::sys::RawMutex;
use crate::sys::shm::{BoardMap, NewShmFile, ShmFile};
use crate::{BoardName, CreateOptions, Error, Result};

/// How long an opener waits for the creator to finish initialising.
const INIT_WAIT: Duration = Duration::from_secs(2);

/// An open, validated board segment.
#[derive(Debug)]
pub(crate) struct Segment {
    /// The published mapping; it also keeps the segment's fd open.
    map: BoardMap,
    name: BoardName,
    path: PathBuf,
    owner: u32,
    mode: u32,
    /// Read once at open and validated; never re-read from shared memory.
    geo: Geometry,
}

/// A decoded history index slot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct IndexRecord {
    pub(crate) state: u32,
    pub(crate) flags: u32,
    pub(crate) seq: u64,
    pub(crate) order: u64,
    pub(crate) created_ns: u64,
    pub(crate) touched_ns: u64,
    pub(crate) offset: u64,
    pub(crate) len: u64,
    pub(crate) content_hash: u64,
    pub(crate) total_size: u64,
    pub(crate) origin_pid: u32,
    pub(crate) origin_kind: u32,
    pub(crate) rep_count: u32,
    pub(crate) label: String,
    /// Whether the stored meta checksum matched when decoded.
    pub(crate) meta_ok: bool,
}

impl IndexRecord {
    pub(crate) fn decode(b: &[u8; INDEX_SLOT_SIZE]) -> Self {
        let u32_at = |o: usize| u32::from_ne_bytes(b[o..o + 4].try_into().expect("4 bytes"));
        let u64_at = |o: usize| u64::from_ne_bytes(b[o..o + 8].try_into().expect("8 bytes"));
        let label_len = (u32_at(84) as usize).min(LABEL_MAX);
        IndexRecord {
            state: u32_at(0),
            flags: u32_at(4),
            seq: u64_at(8),
            order: u64_at(16),
            created_ns: u64_at(24),
            touched_ns: u64_at(32),
            offset: u64_at(40),
            len: u64_at(48),
            content_hash: u64_at(56),
            total_size: u64_at(64),
            origin_pid: u32_at(72),
            origin_kind: u32_at(76),
            rep_count: u32_at(80),
            label: String::from_utf8_lossy(&b[88..88 + label_len]).into_owned(),
            meta_ok: xxh3_64(&b[4..off::IDX_META_CHECK]) == u64_at(off::IDX_META_CHECK),
        }
    }

    pub(crate) fn encode(&self) -> [u8; INDEX_SLOT_SIZE] {
        let mut b = [0u8; INDEX_SLOT_SIZE];
        let label = truncate_utf8(&self.label, LABEL_MAX);
        b[0..4].copy_from_slice(&self.state.to_ne_bytes());
        b[4..8].copy_from_slice(&self.flags.to_ne_bytes());
        b[8..16].copy_from_slice(&self.seq.to_ne_bytes());
        b[16..24].copy_from_slice(&self.order.to_ne_bytes());
        b[24..32].copy_from_slice(&self.created_ns.to_ne_bytes());
        b[32..40].copy_from_slice(&self.touched_ns.to_ne_bytes());
        b[40..48].copy_from_slice(&self.offset.to_ne_bytes());
        b[48..56].copy_from_slice(&self.len.to_ne_bytes());
        b[56..64].copy_from_slice(&self.content_hash.to_ne_bytes());
        b[64..72].copy_from_slice(&self.total_size.to_ne_bytes());
        b[72..76].copy_from_slice(&self.origin_pid.to_ne_bytes());
        b[76..80].copy_from_slice(&self.origin_kind.to_ne_bytes());
        b[80..84].copy_from_slice(&self.rep_count.to_ne_bytes());
        b[84..88].copy_from_slice(&(label.len() as u32).to_ne_bytes());
        b[88..88 + label.len()].copy_from_slice(label.as_bytes());
        let check = xxh3_64(&b[4..off::IDX_META_CHECK]);
        b[off::IDX_META_CHECK..].copy_from_slice(&check.to_ne_bytes());
        b
    }

    pub(crate) fn pinned(&self) -> bool {
        self.flags & layout::FLAG_PINNED != 0
    }

    /// The fields that placement and ordering care about, for slot `slot`.
    pub(crate) fn entry(&self, slot: usize) -> crate::history::Entry {
        crate::history::Entry {
            slot,
            seq: self.seq,
            order: self.order,
            offset: self.offset,
            len: self.len,
            pinned: self.pinned(),
            content_hash: self.content_hash,
        }
    }
}

/// A decoded subscriber slot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SubscriberRecord {
    pub(crate) state: u32,
    pub(crate) pid: u32,
    pub(crate) start_time: u64,
    pub(crate) kind: u32,
    pub(crate) registered_ns: u64,
    pub(crate) label: String,
    pub(crate) name: String,
}

impl SubscriberRecord {
    fn decode(b: &[u8; SUB_SLOT_SIZE]) -> Self {
        let u32_at = |o: usize| u32::from_ne_bytes(b[o..o + 4].try_into().expect("4 bytes"));
        let u64_at = |o: usize| u64::from_ne_bytes(b[o..o + 8].try_into().expect("8 bytes"));
        let name_len = (u32_at(off::SUB_NAME_LEN) as usize).min(MAILBOX_NAME_MAX);
        let label = &b[off::SUB_LABEL..off::SUB_LABEL + LABEL_MAX];
        let label_end = label.iter().position(|&c| c == 0).unwrap_or(LABEL_MAX);
        SubscriberRecord {
            state: u32_at(off::SUB_STATE),
            pid: u32_at(off::SUB_PID),
            start_time: u64_at(off::SUB_START_TIME),
            kind: u32_at(off::SUB_KIND),
            registered_ns: u64_at(off::SUB_REGISTERED_NS),
            label: String::from_utf8_lossy(&label[..label_end]).into_owned(),
            name: String::from_utf8_lossy(&b[off::SUB_NAME..off::SUB_NAME + name_len]).into_owned(),
        }
    }

    fn encode(&self) -> [u8; SUB_SLOT_SIZE] {
        let mut b = [0u8; SUB_SLOT_SIZE];
        let label = truncate_utf8(&self.label, LABEL_MAX);
        let name = truncate_utf8(&self.name, MAILBOX_NAME_MAX);
        b[off::SUB_STATE..][..4].copy_from_slice(&self.state.to_ne_bytes());
        b[off::SUB_PID..][..4].copy_from_slice(&self.pid.to_ne_bytes());
        b[off::SUB_START_TIME..][..8].copy_from_slice(&self.start_time.to_ne_bytes());
        b[off::SUB_KIND..][..4].copy_from_slice(&self.kind.to_ne_bytes());
        b[off::SUB_NAME_LEN..][..4].copy_from_slice(&(name.len() as u32).to_ne_bytes());
        b[off::SUB_REGISTERED_NS..][..8].copy_from_slice(&self.registered_ns.to_ne_bytes());
        b[off::SUB_LABEL..][..label.len()].copy_from_slice(label.as_bytes());
        b[off::SUB_NAME..][..name.len()].copy_from_slice(name.as_bytes());
        b
    }
}

fn truncate_utf8(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
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

/// What the creator wrote and an opener expects, apart from the geometry.
struct Expect {
    abi: [u8; 32],
    pidns: (u64, u64),
}

impl Expect {
    fn here() -> Self {
        Expect {
            abi: layout::abi_tag(),
            pidns: pid_namespace(),
        }
    }
}

impl Segment {
    /// Opens board `name`, creating it with `create`'s sizes if it is missing.
    pub(crate) fn open(name: &BoardName, create: Option<CreateOptions>) -> Result<Segment> {
        let uid = euid();
        let shm_name = name.segment_name(uid);
        let path = shm_path(&shm_name);
        // Bounded: each pass either creates, opens, or saw the segment vanish
        // between two calls (a concurrent destroy), which cannot go on forever.
        for _ in 0..16 {
            if let Some(opts) = create {
                match NewShmFile::create(shm_name.as_str()) {
                    Ok(file) => return Self::create(name, &shm_name, &path, file, opts),
                    Err(Errno::EEXIST) => {}
                    Err(Errno::EACCES) => return Err(refused_by_os(&path, uid)),
                    Err(errno) => {
                        return Err(Error::os(format!("creating {}", path.display()), errno));
                    }
                }
            }
            match ShmFile::open(shm_name.as_str()) {
                Ok(file) => return Self::open_existing(name, path, file),
                Err(Errno::ENOENT) if create.is_some() => {}
                Err(Errno::ENOENT) => {
                    return Err(Error::NoSuchBoard {
                        name: name.to_string(),
                    });
                }
                Err(Errno::EACCES) => return Err(refused_by_os(&path, uid)),
                Err(errno) => return Err(Error::os(format!("opening {}", path.display()), errno)),
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
            let fresh = file
                .size_and_map(geo.segment_size)
                .map_err(|(step, e)| Error::os(format!("{step} {}", path.display()), e))?;
            let expect = Expect::here();
            // The immutable part, but for the magic and the version, which
            // `publish` stores atomically; the file is zero-filled already.
            let mut header = [0u8; IMMUTABLE_HEADER_SIZE];
            header[off::HEADER_SIZE..][..4].copy_from_slice(&(HEADER_SIZE as u32).to_ne_bytes());
            header[off::ABI_TAG..][..32].copy_from_slice(&expect.abi);
            header[off::PIDNS_DEV..][..8].copy_from_slice(&expect.pidns.0.to_ne_bytes());
            header[off::PIDNS_INO..][..8].copy_from_slice(&expect.pidns.1.to_ne_bytes());
            header[off::CREATOR_UID..][..4].copy_from_slice(&euid().to_ne_bytes());
            header[off::SEGMENT_SIZE..][..8].copy_from_slice(&geo.segment_size.to_ne_bytes());
            header[off::SUB_OFFSET..][..8].copy_from_slice(&geo.sub_offset.to_ne_bytes());
            header[off::SUB_SLOTS..][..4].copy_from_slice(&SUBSCRIBER_SLOTS.to_ne_bytes());
            header[off::SUB_SLOT_SIZE..][..4]
                .copy_from_slice(&(SUB_SLOT_SIZE as u32).to_ne_bytes());
            header[off::INDEX_OFFSET..][..8].copy_from_slice(&geo.index_offset.to_ne_bytes());
            header[off::INDEX_SLOTS..][..4].copy_from_slice(&geo.index_slots.to_ne_bytes());
            header[off::INDEX_SLOT_SIZE..][..4]
                .copy_from_slice(&(INDEX_SLOT_SIZE as u32).to_ne_bytes());
            header[off::ARENA_OFFSET..][..8].copy_from_slice(&geo.arena_offset.to_ne_bytes());
            header[off::ARENA_SIZE..][..8].copy_from_slice(&geo.arena_size.to_ne_bytes());
            fresh
                .write(off::HEADER_SIZE, &header[off::HEADER_SIZE..])
                .ok_or_else(|| corrupt(path, "header out of bounds"))?;
            // Mutex, magic, then the version last: an opener that sees the
            // version sees everything above.
            let map = fresh
                .publish()
                .map_err(|e| Error::os("initialising the board mutex", e))?;
            tracing::debug!(path = %path.display(), size = geo.segment_size, "created board");
            Ok(Segment {
                map,
                name: name.clone(),
                path: path.to_owned(),
                owner: euid(),
                mode: 0o600,
                geo,
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
        let geo = validate_header(&header, map.len() as u64, &Expect::here(), &path)?;
        // Validated above, so this only re-checks what locking the mutex
        // relies on (magic, version, ABI tag).
        let map = map
            .into_board()
            .map_err(|_| corrupt(&path, "not a board of this build"))?;
        Ok(Segment {
            map,
            name: name.clone(),
            path,
            owner,
            mode,
            geo,
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

    pub(crate) fn name(&self) -> &BoardName {
        &self.name
    }

    /// Whether the segment's name is gone: `destroy`, or someone's
    /// `rm /dev/shm/...`. The mapping stays valid, but nobody who opens the
    /// board by name will ever see it again. An fstat error counts as gone.
    pub(crate) fn unlinked(&self) -> bool {
        fstat(self.map.fd()).map_or(true, |st| st.st_nlink == 0)
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

    fn oob(&self) -> Error {
        corrupt(&self.path, "offset out of bounds")
    }

    /// The commit sequence number.
    pub(crate) fn seq_cell(&self) -> &AtomicU64 {
        self.map
            .atomic_u64(off::SEQ)
            .expect("validated geometry holds the header")
    }

    /// The lock-guarded header counters (`lock_acquisitions` to
    /// `sub_generation`): read and written non-atomically, under the lock.
    /// Never the immutable part (validated once at open), the mutex, or
    /// `seq`, which other processes change atomically: see `seq_cell`.
    fn counter_at(offset: usize) -> usize {
        debug_assert!(
            (off::SEQ + 8..HEADER_SIZE).contains(&offset),
            "header offset {offset} is not a lock-guarded counter"
        );
        offset
    }

    pub(crate) fn header_u64(&self, offset: usize) -> u64 {
        self.map
            .read_u64(Self::counter_at(offset))
            .expect("validated geometry holds the header")
    }
    pub(crate) fn set_header_u64(&self, offset: usize, value: u64) {
        self.map
            .write_u64(Self::counter_at(offset), value)
            .expect("validated geometry holds the header");
    }
    pub(crate) fn header_u32(&self, offset: usize) -> u32 {
        self.map
            .read_u32(Self::counter_at(offset))
            .expect("validated geometry holds the header")
    }
    pub(crate) fn set_header_u32(&self, offset: usize, value: u32) {
        self.map
            .write_u32(Self::counter_at(offset), value)
            .expect("validated geometry holds the header");
    }

    pub(crate) fn index_slots(&self) -> usize {
        self.geo.index_slots as usize
    }

    fn index_at(&self, slot: usize) -> usize {
        self.geo.index_offset as usize + slot * INDEX_SLOT_SIZE
    }

    pub(crate) fn read_index(&self, slot: usize) -> Result<IndexRecord> {
        Ok(IndexRecord::decode(&self.read_index_raw(slot)?))
    }

    /// The undecoded bytes of index slot `slot`.
    pub(crate) fn read_index_raw(&self, slot: usize) -> Result<[u8; INDEX_SLOT_SIZE]> {
        let mut b = [0u8; INDEX_SLOT_SIZE];
        if slot >= self.index_slots() {
            return Err(self.oob());
        }
        self.map
            .read(self.index_at(slot), &mut b)
            .ok_or_else(|| self.oob())?;
        Ok(b)
    }

    /// Copies the whole index out in one memcpy, into a reused buffer.
    pub(crate) fn read_index_into(&self, bytes: &mut Vec<u8>) -> Result<()> {
        bytes.resize(self.index_slots() * INDEX_SLOT_SIZE, 0);
        self.map
            .read(self.index_at(0), bytes)
            .ok_or_else(|| self.oob())
    }

    pub(crate) fn write_index(&self, slot: usize, rec: &IndexRecord) -> Result<()> {
        if slot >= self.index_slots() {
            return Err(self.oob());
        }
        self.map
            .write(self.index_at(slot), &rec.encode())
            .ok_or_else(|| self.oob())
    }

    pub(crate) fn set_index_state(&self, slot: usize, state: u32) -> Result<()> {
        if slot >= self.index_slots() {
            return Err(self.oob());
        }
        self.map
            .write_u32(self.index_at(slot) + off::IDX_STATE, state)
            .ok_or_else(|| self.oob())
    }

    pub(crate) fn clear_index(&self, slot: usize) -> Result<()> {
        if slot >= self.index_slots() {
            return Err(self.oob());
        }
        self.map
            .zero(self.index_at(slot), INDEX_SLOT_SIZE)
            .ok_or_else(|| self.oob())
    }

    #[expect(
        clippy::unused_self,
        reason = "the table size may move into the header in a later layout"
    )]
    pub(crate) fn subscriber_slots(&self) -> usize {
        SUBSCRIBER_SLOTS as usize
    }

    fn sub_at(&self, slot: usize) -> usize {
        self.geo.sub_offset as usize + slot * SUB_SLOT_SIZE
    }

    pub(crate) fn read_subscriber(&self, slot: usize) -> Result<SubscriberRecord> {
        let mut b = [0u8; SUB_SLOT_SIZE];
        if slot >= self.subscriber_slots() {
            return Err(self.oob());
        }
        self.map
            .read(self.sub_at(slot), &mut b)
            .ok_or_else(|| self.oob())?;
        Ok(SubscriberRecord::decode(&b))
    }

    pub(crate) fn write_subscriber(&self, slot: usize, rec: &SubscriberRecord) -> Result<()> {
        if slot >= self.subscriber_slots() {
            return Err(self.oob());
        }
        self.map
            .write(self.sub_at(slot), &rec.encode())
            .ok_or_else(|| self.oob())
    }

    pub(crate) fn clear_subscriber(&self, slot: usize) -> Result<()> {
        if slot >= self.subscriber_slots() {
            return Err(self.oob());
        }
        self.map
            .zero(self.sub_at(slot), SUB_SLOT_SIZE)
            .ok_or_else(|| self.oob())
    }

    /// Checks that `offset..offset+len` lies in the arena and returns the
    /// absolute offset.
    fn arena_range(&self, offset: u64, len: u64) -> Result<usize> {
        let end = offset.checked_add(len).ok_or_else(|| self.oob())?;
        if end > self.geo.arena_size {
            return Err(self.oob());
        }
        Ok((self.geo.arena_offset + offset) as usize)
    }

    pub(crate) fn arena_read(&self, offset: u64, dst: &mut [u8]) -> Result<()> {
        let at = self.arena_range(offset, dst.len() as u64)?;
        self.map.read(at, dst).ok_or_else(|| self.oob())
    }

    pub(crate) fn arena_write(&self, offset: u64, src: &[u8]) -> Result<()> {
        let at = self.arena_range(offset, src.len() as u64)?;
        self.map.write(at, src).ok_or_else(|| self.oob())
    }

    pub(crate) fn arena_zero(&self, offset: u64, len: u64) -> Result<()> {
        let at = self.arena_range(offset, len)?;
        self.map.zero(at, len as usize).ok_or_else(|| self.oob())
    }

    pub(crate) fn arena_move(&self, from: u64, to: u64, len: u64) -> Result<()> {
        let src = self.arena_range(from, len)?;
        let dst = self.arena_range(to, len)?;
        self.map
            .move_within(src, dst, len as usize)
            .ok_or_else(|| self.oob())
    }

    pub(crate) fn mutex(&self) -> RawMutex<'_> {
        self.map.mutex()
    }
}

/// fstat the segment and refuse it unless it is a regular file owned by the
/// effective uid with no group or other permission bits.
fn check_owner(fd: &impl AsFd, path: &Path) -> Result<(u32, u32, u64)> {
    let st = fstat(fd).map_err(|e| Error::os(format!("fstat {}", path.display()), e))?;
    let mode = st.st_mode & 0o7777;
    let refuse = |reason| Error::UnsafeSegment {
        path: path.to_owned(),
        owner: st.st_uid,
        mode,
        expected_uid: euid(),
        reason,
    };
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Err(refuse("not a regular file"));
    }
    if st.st_uid != euid() {
        return Err(refuse("owned by another user"));
    }
    if mode & 0o077 != 0 {
        return Err(refuse("group or others have access"));
    }
    Ok((st.st_uid, mode, st.st_size as u64))
}

/// The OS would not even let us open it: describe it from its inode.
fn refused_by_os(path: &Path, uid: u32) -> Error {
    match nix::sys::stat::stat(path) {
        Ok(st) => Error::UnsafeSegment {
            path: path.to_owned(),
            owner: st.st_uid,
            mode: st.st_mode & 0o7777,
            expected_uid: uid,
            reason: "owned by another user",
        },
        Err(errno) => Error::os(format!("opening {}", path.display()), errno),
    }
}

fn corrupt(path: &Path, what: &str) -> Error {
    Error::CorruptHeader {
        path: path.to_owned(),
        what: what.to_owned(),
    }
}

/// Checks the immutable part of a header, copied out of a segment of
/// `file_size` bytes, and returns its geometry. Every field that the rest of
/// the crate relies on is checked.
fn validate_header(
    h: &[u8; IMMUTABLE_HEADER_SIZE],
    file_size: u64,
    expect: &Expect,
    path: &Path,
) -> Result<Geometry> {
    let u32_at = |o: usize| u32::from_ne_bytes(h[o..o + 4].try_into().expect("4 bytes"));
    let u64_at = |o: usize| u64::from_ne_bytes(h[o..o + 8].try_into().expect("8 bytes"));
    let path = path.to_owned();
    if h[..8] != MAGIC {
        return Err(Error::BadMagic { path });
    }
    let version = u32_at(off::VERSION);
    if version != LAYOUT_VERSION {
        return Err(Error::IncompatibleLayout {
            path,
            found: version,
            expected: LAYOUT_VERSION,
        });
    }
    let abi: [u8; 32] = h[off::ABI_TAG..off::ABI_TAG + 32]
        .try_into()
        .expect("32 bytes");
    if abi != expect.abi {
        return Err(Error::AbiMismatch {
            path,
            found: layout::abi_tag_text(&abi),
            expected: layout::abi_tag_text(&expect.abi),
        });
    }
    let pidns = (u64_at(off::PIDNS_DEV), u64_at(off::PIDNS_INO));
    if pidns != expect.pidns {
        return Err(Error::PidNamespace {
            path,
            found: pidns.1,
            expected: expect.pidns.1,
        });
    }
    let bad = |what: &str| Err(corrupt(&path, what));
    if u32_at(off::HEADER_SIZE) as usize != HEADER_SIZE {
        return bad("header size");
    }
    let depth = u32_at(off::INDEX_SLOTS);
    let arena = u64_at(off::ARENA_SIZE);
    if !(MIN_DEPTH..=MAX_DEPTH).contains(&depth) {
        return bad("history depth out of range");
    }
    if !(MIN_ARENA..=MAX_ARENA).contains(&arena) {
        return bad("capacity out of range");
    }
    let geo = Geometry::new(depth, arena);
    let fields_agree = u64_at(off::SUB_OFFSET) == geo.sub_offset
        && u32_at(off::SUB_SLOTS) == SUBSCRIBER_SLOTS
        && u32_at(off::SUB_SLOT_SIZE) as usize == SUB_SLOT_SIZE
        && u64_at(off::INDEX_OFFSET) == geo.index_offset
        && u32_at(off::INDEX_SLOT_SIZE) as usize == INDEX_SLOT_SIZE
        && u64_at(off::ARENA_OFFSET) == geo.arena_offset
        && u64_at(off::SEGMENT_SIZE) == geo.segment_size;
    if !fields_agree {
        return bad("region table disagrees with depth and capacity");
    }
    if geo.segment_size != file_size {
        return Err(Error::BadSize {
            path,
            size: file_size,
            reason: "the header describes a different size (truncated?)",
        });
    }
    Ok(geo)
}

/// Validates a whole segment image given as bytes: the header, then every
/// committed history entry. Arbitrary input gives an error, never a panic:
/// this is a fuzzing entry point.
pub fn validate_image(bytes: &[u8]) -> Result<()> {
    let path = Path::new("<image>");
    if bytes.len() < HEADER_SIZE {
        return Err(Error::BadSize {
            path: path.into(),
            size: bytes.len() as u64,
            reason: "smaller than a board header",
        });
    }
    let header: &[u8; IMMUTABLE_HEADER_SIZE] = bytes[..IMMUTABLE_HEADER_SIZE]
        .try_into()
        .expect("sliced to IMMUTABLE_HEADER_SIZE");
    // Accept the image's own namespace: the fuzzer cannot guess ours.
    let u64_at = |o: usize| u64::from_ne_bytes(header[o..o + 8].try_into().expect("8 bytes"));
    let expect = Expect {
        abi: layout::abi_tag(),
        pidns: (u64_at(off::PIDNS_DEV), u64_at(off::PIDNS_INO)),
    };
    let geo = validate_header(header, bytes.len() as u64, &expect, path)?;
    for slot in 0..geo.index_slots as usize {
        let at = geo.index_offset as usize + slot * INDEX_SLOT_SIZE;
        let raw: &[u8; INDEX_SLOT_SIZE] = bytes[at..at + INDEX_SLOT_SIZE]
            .try_into()
            .expect("inside the image");
        let rec = IndexRecord::decode(raw);
        if rec.state != layout::SLOT_COMMITTED {
            continue;
        }
        if !rec.meta_ok {
            return Err(Error::CorruptEntry {
                seq: rec.seq,
                what: "index slot checksum".into(),
            });
        }
        let start = rec.offset.checked_add(geo.arena_offset);
        let end = start.and_then(|s| s.checked_add(rec.len));
        let (Some(start), Some(end)) = (start, end) else {
            return Err(Error::CorruptEntry {
                seq: rec.seq,
                what: "range overflows".into(),
            });
        };
        if end > geo.segment_size {
            return Err(Error::CorruptEntry {
                seq: rec.seq,
                what: "range outside the arena".into(),
            });
        }
        crate::record::decode_record(&bytes[start as usize..end as usize])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_record_round_trips_and_detects_flips() {
        let rec = IndexRecord {
            state: 2,
            flags: 1,
            seq: 7,
            order: 9,
            label: "window 2".into(),
            offset: 64,
            len: 100,
            meta_ok: true,
            ..IndexRecord::default()
        };
        let bytes = rec.encode();
        assert_eq!(IndexRecord::decode(&bytes), rec);
        for i in 4..off::IDX_META_CHECK {
            let mut bad = bytes;
            bad[i] ^= 0x80;
            assert!(!IndexRecord::decode(&bad).meta_ok, "flip at {i}");
        }
    }

    #[test]
    fn subscriber_record_round_trips() {
        let rec = SubscriberRecord {
            state: 1,
            pid: 42,
            start_time: 12345,
            kind: 2,
            registered_ns: 99,
            label: "w".into(),
            name: "/shm-clip.0.x@42.abc".into(),
        };
        assert_eq!(SubscriberRecord::decode(&rec.encode()), rec);
    }

    #[test]
    fn validate_image_refuses_garbage() {
        assert!(validate_image(&[]).is_err());
        assert!(validate_image(&[0u8; 4096]).is_err());
        let mut magic_only = vec![0u8; 8192];
        magic_only[..8].copy_from_slice(&MAGIC);
        assert!(matches!(
            validate_image(&magic_only),
            Err(Error::IncompatibleLayout { .. })
        ));
    }
}
