//! A stream message's bytes: `kind (1) | clip id (16) | sealed body`, where
//! kind 1 is a manifest (a new clip) and kind 2 a selection (make a clip the
//! board holds current). The clip id travels in the clear (the manifest's
//! `Nats-Msg-Id` is the clip id anyway) so the receiver can rebuild the
//! associated data before opening the body, and the body repeats it: the
//! two must agree. Each kind is sealed in a place of its own, so a sealed
//! body of one kind never opens as the other.

use crate::envelope::{Envelope, Place};
use crate::manifest::Manifest;
use crate::naming::Names;
use crate::selection::Selection;

const MANIFEST: u8 = 1;
const SELECTION: u8 = 2;

/// One stream message, opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A new clip.
    Commit(Manifest),
    /// Make a clip current.
    Select(Selection),
}

impl Message {
    /// The clip it is about.
    pub fn clip_id(&self) -> [u8; 16] {
        match self {
            Message::Commit(m) => m.clip_id,
            Message::Select(s) => s.clip_id,
        }
    }

    /// The node it comes from.
    pub fn origin_node(&self) -> [u8; 16] {
        match self {
            Message::Commit(m) => m.origin_node,
            Message::Select(s) => s.origin_node,
        }
    }

    /// Its origin seq (one counter for both kinds).
    pub fn origin_seq(&self) -> u64 {
        match self {
            Message::Commit(m) => m.origin_seq,
            Message::Select(s) => s.origin_seq,
        }
    }

    /// The origin bridge's display name.
    pub fn display_name(&self) -> &str {
        match self {
            Message::Commit(m) => &m.display_name,
            Message::Select(s) => &s.display_name,
        }
    }
}

/// Seals `manifest` into a message payload.
pub fn seal_message(envelope: &Envelope, names: &Names, manifest: &Manifest) -> Vec<u8> {
    let place = Place::manifest(names.board_hash, manifest.clip_id);
    frame(
        MANIFEST,
        manifest.clip_id,
        &envelope.seal(&place, &manifest.encode()),
    )
}

/// Seals `selection` into a message payload.
pub fn seal_selection(envelope: &Envelope, names: &Names, selection: &Selection) -> Vec<u8> {
    let place = Place::selection(names.board_hash, selection.clip_id);
    frame(
        SELECTION,
        selection.clip_id,
        &envelope.seal(&place, &selection.encode()),
    )
}

fn frame(kind: u8, clip: [u8; 16], sealed: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(17 + sealed.len());
    out.push(kind);
    out.extend_from_slice(&clip);
    out.extend_from_slice(sealed);
    out
}

/// Why a message was refused. Carries no content.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("not a bridge message (kind or length)")]
    Malformed,
    #[error("message body: {0}")]
    Open(#[from] crate::envelope::OpenError),
    #[error("{0}")]
    Decode(#[from] crate::manifest::DecodeError),
    #[error("the body's clip id differs from the message's")]
    IdMismatch,
}

/// Opens a message payload.
pub fn open_message(
    envelope: &Envelope,
    names: &Names,
    payload: &[u8],
) -> Result<Message, MessageError> {
    if payload.len() < 17 {
        return Err(MessageError::Malformed);
    }
    let clip: [u8; 16] = payload[1..17].try_into().expect("16 bytes");
    let message = match payload[0] {
        MANIFEST => {
            let place = Place::manifest(names.board_hash, clip);
            Message::Commit(Manifest::decode(&envelope.open(&place, &payload[17..])?)?)
        }
        SELECTION => {
            let place = Place::selection(names.board_hash, clip);
            Message::Select(Selection::decode(&envelope.open(&place, &payload[17..])?)?)
        }
        _ => return Err(MessageError::Malformed),
    };
    if message.clip_id() != clip {
        return Err(MessageError::IdMismatch);
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::BoardKey;

    #[test]
    fn a_selection_does_not_open_as_a_manifest_nor_the_reverse() {
        let key = BoardKey::from_bytes([5; 32]);
        let env = Envelope::new(&key);
        let names = Names::new(&key, &shm_clip::BoardName::new("w").unwrap());
        let sel = Selection {
            clip_id: [1; 16],
            origin_node: [2; 16],
            origin_seq: 3,
            selected_ns: 4,
            display_name: "a".into(),
        };
        let sealed = seal_selection(&env, &names, &sel);
        assert_eq!(
            open_message(&env, &names, &sealed).unwrap(),
            Message::Select(sel)
        );
        let mut relabelled = sealed.clone();
        relabelled[0] = MANIFEST;
        assert!(matches!(
            open_message(&env, &names, &relabelled),
            Err(MessageError::Open(_))
        ));
        relabelled[0] = 9;
        assert!(matches!(
            open_message(&env, &names, &relabelled),
            Err(MessageError::Malformed)
        ));
    }
}
