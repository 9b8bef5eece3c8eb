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

use crate::format::{
    self, Birth, Geometry, HEADER_SIZE, IDX_STATE, IMMUTABLE_HEADER_SIZE, INDEX_SLOT_SIZE,
    ImmutableHeader, IndexRecord, LAYOUT_VERSION, MAGIC, MAX_ARENA, MAX_DEPTH, MIN_ARENA,
    MIN_DEPTH, RemovalRecord, SUB_SLOT_SIZE, SUBSCRIBER_SLOTS, SubscriberRecord, off,
};
use crate::sys::RawMutex;
use crate::sys::shm::{BoardMap, NewShmFile, ShmFile};
use crate::{BoardName, CreateOptions, Error, Result};

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
            abi: format::abi_tag(),
            pidns: pid_namespace(),
        }
    }
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
        // Bounded: each pass either creates, opens, or saw the segment vanish
        // between two calls (a concurrent destroy), which cannot go on forever.
        for _ in 0..16 {
            if let Some(opts) = create {
                match NewShmFile::create(shm_name.as_str()) {
                    Ok(file) => {
                        return Self::create(name, &shm_name, &path, file, opts)
                            .map(|s| s.with_repair(repair));
                    }
                    Err(Errno::EEXIST) => {}
                    Err(Errno::EACCES) => return Err(refused_by_os(&path, uid)),
                    Err(errno) => {
                        return Err(Error::os(format!("creating {}", path.display()), errno));
                    }
                }
            }
            match ShmFile::open(shm_name.as_str()) {
                Ok(file) => {
                    return Self::open_existing(name, path, file).map(|s| s.with_repair(repair));
                }
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

    /// One `u32` field of slot `slot` (a link: `index_off::RING_*`, `HASH_NEXT`, or the state).
    pub(crate) fn index_u32(&self, slot: usize, field: usize) -> Result<u32> {
        if slot >= self.index_slots() || field + 4 > INDEX_SLOT_SIZE {
            return Err(self.oob());
        }
        self.map
            .read_u32(self.index_at(slot) + field)
            .ok_or_else(|| self.oob())
    }

    /// Stores one `u32` field of slot `slot`: a link, outside `meta_check`.
    pub(crate) fn set_index_u32(&self, slot: usize, field: usize, v: u32) -> Result<()> {
        if slot >= self.index_slots() || field + 4 > INDEX_SLOT_SIZE {
            return Err(self.oob());
        }
        self.map
            .write_u32(self.index_at(slot) + field, v)
            .ok_or_else(|| self.oob())
    }

    /// Writes a slot's bytes as they are (a free slot's).
    pub(crate) fn write_index_raw(&self, slot: usize, bytes: &[u8; INDEX_SLOT_SIZE]) -> Result<()> {
        if slot >= self.index_slots() {
            return Err(self.oob());
        }
        self.map
            .write(self.index_at(slot), bytes)
            .ok_or_else(|| self.oob())
    }

    /// Dedup bucket `b`'s first slot (may be any value: the caller checks it).
    pub(crate) fn read_bucket(&self, b: u32) -> Result<u32> {
        if b >= self.geo.buckets {
            return Err(self.oob());
        }
        self.map
            .read_u32(self.geo.buckets_offset as usize + b as usize * 4)
            .ok_or_else(|| self.oob())
    }

    pub(crate) fn write_bucket(&self, b: u32, slot: u32) -> Result<()> {
        if b >= self.geo.buckets {
            return Err(self.oob());
        }
        self.map
            .write_u32(self.geo.buckets_offset as usize + b as usize * 4, slot)
            .ok_or_else(|| self.oob())
    }

    /// Writes removal number `n` into its log entry, `n mod REMOVAL_SLOTS`.
    pub(crate) fn write_removal(&self, n: u64, rec: &RemovalRecord) {
        let at = self.geo.removals_offset as usize
            + (n % u64::from(format::REMOVAL_SLOTS)) as usize * format::REMOVAL_SIZE;
        let _ = self.map.write(at, &rec.encode());
    }

    /// Removal log entry `i` (0 to `REMOVAL_SLOTS - 1`).
    pub(crate) fn read_removal(&self, i: u32) -> Option<RemovalRecord> {
        if i >= format::REMOVAL_SLOTS {
            return None;
        }
        let mut b = [0u8; format::REMOVAL_SIZE];
        let at = self.geo.removals_offset as usize + i as usize * format::REMOVAL_SIZE;
        self.map.read(at, &mut b)?;
        Some(RemovalRecord::decode(&b))
    }

    pub(crate) fn set_index_state(&self, slot: usize, state: u32) -> Result<()> {
        if slot >= self.index_slots() {
            return Err(self.oob());
        }
        self.map
            .write_u32(self.index_at(slot) + IDX_STATE, state)
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
) -> Result<(Geometry, Birth)> {
    let h = ImmutableHeader::decode(h);
    let path = path.to_owned();
    if h.magic != MAGIC {
        return Err(Error::BadMagic { path });
    }
    let version = h.version;
    if version != LAYOUT_VERSION {
        return Err(Error::IncompatibleLayout {
            path,
            found: version,
            expected: LAYOUT_VERSION,
        });
    }
    let abi = h.abi_tag;
    if abi != expect.abi {
        return Err(Error::AbiMismatch {
            path,
            found: format::abi_tag_text(&abi),
            expected: format::abi_tag_text(&expect.abi),
        });
    }
    let pidns = h.pidns;
    if pidns != expect.pidns {
        return Err(Error::PidNamespace {
            path,
            found: pidns.1,
            expected: expect.pidns.1,
        });
    }
    let bad = |what: &str| Err(corrupt(&path, what));
    if h.header_size as usize != HEADER_SIZE {
        return bad("header size");
    }
    let (depth, arena) = (h.index_slots, h.arena_size);
    if !(MIN_DEPTH..=MAX_DEPTH).contains(&depth) {
        return bad("history depth out of range");
    }
    if !(MIN_ARENA..=MAX_ARENA).contains(&arena) {
        return bad("capacity out of range");
    }
    let geo = Geometry::new(depth, arena);
    // The creator's own fields for this geometry, but for what may differ.
    let birth = Birth {
        node_id: h.node_id,
        created_ns: h.created_ns,
    };
    let want = ImmutableHeader::for_geometry(&geo, h.abi_tag, h.pidns, h.creator_uid, birth);
    let fields_agree = ImmutableHeader {
        magic: h.magic,
        version: h.version,
        ..want
    } == h;
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
    Ok((geo, birth))
}

/// Checks the header of a segment image given as bytes, accepting the
/// image's own pid namespace (a fuzzer cannot guess ours), and returns its
/// geometry, which then fits in `bytes`.
pub(crate) fn validate_image_header(bytes: &[u8]) -> Result<Geometry> {
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
    let expect = Expect {
        abi: format::abi_tag(),
        pidns: ImmutableHeader::decode(header).pidns,
    };
    validate_header(header, bytes.len() as u64, &expect, path).map(|(geo, _)| geo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_headers_of_garbage_are_refused() {
        assert!(validate_image_header(&[]).is_err());
        assert!(validate_image_header(&[0u8; 4096]).is_err());
        let mut magic_only = vec![0u8; 8192];
        magic_only[..8].copy_from_slice(&MAGIC);
        assert!(matches!(
            validate_image_header(&magic_only),
            Err(Error::IncompatibleLayout { .. })
        ));
    }
}
