//! Checks of an opened segment: the file's owner and mode, and the immutable
//! header (magic, version, ABI, pid namespace, geometry), also of a segment
//! image given as bytes.

use std::os::fd::AsFd;
use std::path::Path;

use nix::sys::stat::fstat;

use super::{euid, pid_namespace};
use crate::format::{
    self, Birth, Geometry, HEADER_SIZE, IMMUTABLE_HEADER_SIZE, ImmutableHeader, LAYOUT_VERSION,
    MAGIC, MAX_ARENA, MAX_DEPTH, MIN_ARENA, MIN_DEPTH,
};
use crate::{Error, Result};

/// What the creator wrote and an opener expects, apart from the geometry.
pub(super) struct Expect {
    pub(super) abi: [u8; 32],
    pub(super) pidns: (u64, u64),
}

impl Expect {
    pub(super) fn here() -> Self {
        Expect {
            abi: format::abi_tag(),
            pidns: pid_namespace(),
        }
    }
}

/// fstat the segment and refuse it unless it is a regular file owned by the
/// effective uid with no group or other permission bits.
pub(super) fn check_owner(fd: &impl AsFd, path: &Path) -> Result<(u32, u32, u64)> {
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
pub(super) fn refused_by_os(path: &Path, uid: u32) -> Error {
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

pub(super) fn corrupt(path: &Path, what: &str) -> Error {
    Error::CorruptHeader {
        path: path.to_owned(),
        what: what.to_owned(),
    }
}

/// Checks the immutable part of a header, copied out of a segment of
/// `file_size` bytes, and returns its geometry. Every field that the rest of
/// the crate relies on is checked.
pub(super) fn validate_header(
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
