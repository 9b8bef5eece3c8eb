//! A stream message's bytes: `version (1) | clip id (16) | sealed manifest`.
//! The clip id travels in the clear (it is the `Nats-Msg-Id` anyway) so the
//! receiver can rebuild the associated data before opening the manifest,
//! and the manifest inside repeats it: the two must agree.

use crate::envelope::{Envelope, Place};
use crate::manifest::Manifest;
use crate::naming::Names;

const VERSION: u8 = 1;

/// Seals `manifest` into a message payload.
pub fn seal_message(envelope: &Envelope, names: &Names, manifest: &Manifest) -> Vec<u8> {
    let place = Place::manifest(names.board_hash, manifest.clip_id);
    let sealed = envelope.seal(&place, &manifest.encode());
    let mut out = Vec::with_capacity(17 + sealed.len());
    out.push(VERSION);
    out.extend_from_slice(&manifest.clip_id);
    out.extend_from_slice(&sealed);
    out
}

/// Why a message was refused. Carries no content.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("not a bridge message (version or length)")]
    Malformed,
    #[error("manifest: {0}")]
    Open(#[from] crate::envelope::OpenError),
    #[error("{0}")]
    Decode(#[from] crate::manifest::DecodeError),
    #[error("the manifest's clip id differs from the message's")]
    IdMismatch,
}

/// Opens a message payload into its manifest.
pub fn open_message(
    envelope: &Envelope,
    names: &Names,
    payload: &[u8],
) -> Result<Manifest, MessageError> {
    if payload.len() < 17 || payload[0] != VERSION {
        return Err(MessageError::Malformed);
    }
    let clip: [u8; 16] = payload[1..17].try_into().expect("16 bytes");
    let plain = envelope.open(&Place::manifest(names.board_hash, clip), &payload[17..])?;
    let manifest = Manifest::decode(&plain)?;
    if manifest.clip_id != clip {
        return Err(MessageError::IdMismatch);
    }
    Ok(manifest)
}
