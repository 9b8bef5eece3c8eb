//! `shm-clip-bridge`: one board across machines through NATS JetStream,
//! end-to-end encrypted.
//!
//! The binary is thin (`main.rs`); the pieces live here so that the tests can
//! forge what a rogue publisher would send with the real codecs.
#![forbid(unsafe_code)]
#![allow(
    clippy::must_use_candidate,
    reason = "the library serves this crate's binary and tests; a forgotten result shows in their tests"
)]

pub mod blob;
pub mod config;
pub mod envelope;
pub mod error;
pub mod follow;
pub mod key;
pub mod link;
pub mod local;
pub mod manifest;
pub mod naming;
pub mod net;
pub mod prefetch;
pub mod publish;
pub mod run;
pub mod selection;
pub mod state;
pub mod status;
#[cfg(feature = "test-hooks")]
pub mod test_hooks;
pub mod upload;
pub mod watch;
pub mod wire;
