//! The only unsafe code in shm-clip: thin shims over `mmap` and the pthread
//! robust mutex. Everything above this module is safe Rust.
//!
//! Memory in a mapping may be written at any time by another process, so this
//! module never hands out Rust references into it (except atomics, which are
//! made for exactly that). Bytes are copied in and out with bounds checks.
#![expect(
    unsafe_code,
    reason = "FFI to mmap and pthread; each block has a SAFETY comment"
)]

mod mapping;
mod mutex;
mod raw;

pub(crate) use mapping::Mapping;
pub(crate) use mutex::{LockError, RawMutex};
pub use raw::RawRegion;
