//! A bare shared-memory region, for benchmarks that measure the floor a board
//! is compared against. Not part of the stable API.
//!
//! It lives in `sys` with the rest of the unsafe code. Its users order their
//! copies themselves (see [`RawRegion`]).

pub use crate::sys::RawRegion;
