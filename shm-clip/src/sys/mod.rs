//! The only unsafe code in shm-clip: thin shims over `shm_open`/`mmap`, the
//! pthread robust mutex, `madvise` for large paste buffers, the cached pid's fork handler, and `getrandom(2)`. Everything above this module is safe Rust.
//!
//! Memory in a mapping may be written at any time by another process, so this
//! module never hands out Rust references into it (except atomics, which are
//! made for exactly that). Bytes are copied in and out with bounds checks.
//!
//! # Who writes which bytes, and when
//!
//! Every SAFETY comment below answers two questions: is the range in bounds,
//! and what may another process be doing to those bytes right now. The
//! answers rest on the rules of `LAYOUT.md`, which every shm-clip process
//! follows:
//!
//! - Before publication (`version` is 0) only the creator writes the segment.
//!   Openers load `version` and, after waiting in vain, the magic word, both
//!   atomically, and the creator stores both atomically; they touch nothing
//!   else until they have seen `version != 0` with an acquire load.
//! - After publication the immutable header (offsets 0 to 128, see
//!   `layout::IMMUTABLE_HEADER_SIZE`) is never written again, so anyone may copy it.
//! - The mutex word is touched only by `pthread_mutex_*` calls, `seq` and
//!   `version` only atomically.
//! - Every other byte (the header counters, the subscriber table, the index,
//!   the arena) is read and written only by the holder of the board lock.
//!
//! So a non-atomic copy from this module is race-free when its caller reads
//! immutable bytes or holds the lock; [`shm`] and [`Mapping`] say which.
//! A process of the same user that breaks these rules can write anything into
//! a file it owns, at any time: it then only makes us copy out garbage, which
//! the checksums and validation above reject, because this module copies into
//! plain byte buffers (every bit pattern is valid) and never lets a Rust
//! reference point into the mapping. Such a process could ptrace or kill us
//! just as well, so it is outside what any check here could defend against.
#![expect(
    unsafe_code,
    reason = "FFI to shm_open, mmap and pthread; each block has a SAFETY comment"
)]

pub(crate) mod buffer;
mod mapping;
mod mutex;
mod process;
mod random;
mod raw;
pub(crate) mod shm;

pub(crate) use mapping::Mapping;
pub(crate) use mutex::{LockError, RawMutex};
pub(crate) use process::pid;
pub(crate) use random::fill as random_fill;
pub use raw::RawRegion;
