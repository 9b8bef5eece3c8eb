//! Local changes out to the stream, in order. A new commit: read the entry
//! from the board, apply the MIME allow-list and the size cap, upload large
//! representations as sealed blobs, then publish the sealed manifest with
//! `Nats-Msg-Id` = clip id. An entry made current again: publish a sealed
//! selection (its `Nats-Msg-Id` names the clip, the node and the seq). A failure is retried with backoff until it succeeds, so commits
//! made while the server is away are published, in order, once it is back
//! (the outbox is the board itself plus the last published seq).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use async_nats::jetstream::message::PublishMessage;
use shm_clip::Representation;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::blob::{CHUNK, SEALED_CHUNK, SealingReader};
use crate::envelope::Place;
use crate::error::{Error, Result};
use crate::link::Link;
use crate::local::{Kind, LocalCommit};
use crate::manifest::{Body, MAX_REPS, Manifest, RepEntry};
use crate::naming::Names;
use crate::selection::Selection;
use crate::wire;

/// A representation at most this large travels inside the manifest.
pub const INLINE_MAX: usize = 256 * 1024;
/// The inline bytes of one manifest stay below this (NATS's default
/// `max_payload` is 1 MiB).
pub const INLINE_BUDGET: usize = 512 * 1024;

/// The MIME type password managers add to secrets.
const PASSWORD_HINT: &str = "x-kde-passwordmanagerhint";

/// A commit ready to go: the manifest and the blobs it refers to.
#[derive(Debug)]
pub struct Outgoing {
    pub manifest: Manifest,
    pub blobs: Vec<(u32, Arc<Vec<u8>>)>,
}

/// A local change ready to go.
#[derive(Debug)]
pub enum Ready {
    /// A new clip.
    Commit(Outgoing),
    /// Make a clip current.
    Select(Selection),
}

/// What to send for `reps`, or why nothing goes.
pub fn prepare(
    link: &Link,
    commit: LocalCommit,
    created_ns: u64,
    reps: Vec<Representation>,
) -> Result<Outgoing, String> {
    if reps
        .iter()
        .any(|r| r.mime.eq_ignore_ascii_case(PASSWORD_HINT))
    {
        return Err("marked as a password".into());
    }
    let reps: Vec<Representation> = reps
        .into_iter()
        .filter(|r| link.settings.allows(&r.mime))
        .collect();
    if reps.is_empty() {
        return Err("no representation is in allow_types".into());
    }
    let total: u64 = reps.iter().map(|r| r.data.len() as u64).sum();
    if total > link.settings.max_clip_size {
        return Err(format!(
            "{total} bytes is over max_clip_size ({})",
            link.settings.max_clip_size
        ));
    }
    let mut budget = INLINE_BUDGET;
    let mut entries = Vec::new();
    let mut blobs = Vec::new();
    for (i, rep) in reps.into_iter().take(MAX_REPS).enumerate() {
        let size = rep.data.len() as u64;
        let body = if rep.data.len() <= INLINE_MAX && rep.data.len() <= budget {
            budget -= rep.data.len();
            Body::Inline(rep.data)
        } else {
            blobs.push((i as u32, Arc::new(rep.data)));
            Body::Blob {
                chunk_size: CHUNK as u32,
            }
        };
        entries.push(RepEntry {
            mime: rep.mime,
            size,
            body,
        });
    }
    Ok(Outgoing {
        manifest: Manifest {
            clip_id: commit.clip_id.0,
            origin_node: link.local.node.0,
            origin_seq: commit.seq,
            created_ns,
            display_name: link.settings.name.clone(),
            reps: entries,
        },
        blobs,
    })
}

/// The selection message of `commit`.
pub fn selection(link: &Link, commit: LocalCommit) -> Selection {
    Selection {
        clip_id: commit.clip_id.0,
        origin_node: link.local.node.0,
        origin_seq: commit.seq,
        selected_ns: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
        display_name: link.settings.name.clone(),
    }
}

/// Publishes a sealed message with `msg_id`; returns the stream seq.
async fn publish(link: &Link, payload: Vec<u8>, msg_id: String) -> Result<u64> {
    link.stream().await?;
    let ack = link
        .js
        .send_publish(
            link.names.subject.clone(),
            PublishMessage::build()
                .payload(payload.into())
                .message_id(msg_id),
        )
        .await
        .map_err(|e| Error::JetStream {
            what: "publish".into(),
            message: e.to_string(),
        })?
        .await
        .map_err(|e| Error::JetStream {
            what: "publish ack".into(),
            message: e.to_string(),
        })?;
    Ok(ack.sequence)
}

/// Sends one change; returns the stream seq.
pub async fn send_ready(link: &Link, ready: &Ready) -> Result<u64> {
    match ready {
        Ready::Commit(out) => send(link, out).await,
        Ready::Select(selection) => {
            let payload = wire::seal_selection(&link.envelope, &link.names, selection);
            publish(link, payload, selection.message_id()).await
        }
    }
}

/// Uploads the blobs, then publishes the manifest; returns the stream seq.
pub async fn send(link: &Link, out: &Outgoing) -> Result<u64> {
    let place = Place::manifest(link.names.board_hash, out.manifest.clip_id);
    if !out.blobs.is_empty() {
        let _aside = link.prefetch.stand_aside();
        let bucket = link.bucket().await?;
        for (rep, data) in &out.blobs {
            link.update_status(|s| s.blobs_in_flight += 1);
            let prefetch = link.prefetch.clone();
            let reader = SealingReader::new(link.envelope.clone(), place, *rep, data.clone())
                .observed(Arc::new(move |sealed: &[u8]| prefetch.own(sealed)));
            let put = crate::upload::put(
                &link.js,
                bucket,
                &link.names.bucket,
                &Names::object(&out.manifest.clip_id, *rep),
                // One sealed chunk per Object Store chunk.
                SEALED_CHUNK,
                reader,
            )
            .await;
            link.update_status(|s| s.blobs_in_flight = s.blobs_in_flight.saturating_sub(1));
            put.map_err(|message| Error::JetStream {
                what: "blob upload".into(),
                message,
            })?;
        }
    }
    let payload = wire::seal_message(&link.envelope, &link.names, &out.manifest);
    publish(link, payload, crate::naming::hex(&out.manifest.clip_id)).await
}

/// The publisher: takes local commits in order and sends each until it is
/// acknowledged.
pub async fn run(link: Arc<Link>, mut rx: UnboundedReceiver<LocalCommit>) {
    while let Some(commit) = rx.recv().await {
        link.update_status(|s| s.outbox = rx.len() as u64 + 1);
        let mut sent = None;
        let ready = if commit.kind == Kind::Selected {
            Ok(Ready::Select(selection(&link, commit)))
        } else {
            read_commit(&link, commit)
        };
        match ready {
            Err(why) => {
                tracing::info!(clip = %commit.clip_id, seq = commit.seq, "not published: {why}");
                if let Err(e) = crate::local::blocking(|| link.local.published(commit.seq, None)) {
                    tracing::warn!(error = %e, "after a change that is not published");
                }
            }
            Ok(ready) => {
                // Before the first send: the change stays in the outbox
                // while the test makes its moves.
                #[cfg(feature = "test-hooks")]
                if crate::test_hooks::asked("publish") {
                    crate::local::blocking(|| crate::test_hooks::pause_if_asked("publish"));
                }
                let mut attempt = 0;
                loop {
                    match send_ready(&link, &ready).await {
                        Ok(stream_seq) => {
                            sent = Some(stream_seq);
                            tracing::debug!(clip = %commit.clip_id, stream_seq, kind = ?commit.kind, "published");
                            // Cannot fail: it only records the stream seq.
                            let _ = link.local.published(commit.seq, Some(stream_seq));
                            link.update_status(|s| {
                                match commit.kind {
                                    Kind::Copied => s.published += 1,
                                    Kind::Selected => s.selections_published += 1,
                                }
                                s.last_error.clear();
                            });
                            break;
                        }
                        Err(e) => {
                            if attempt == 0 {
                                tracing::warn!(clip = %commit.clip_id, error = %e, "publish failed; retrying with backoff");
                            }
                            link.update_status(|s| s.last_error = e.to_string());
                            tokio::time::sleep(crate::net::backoff(attempt)).await;
                            attempt += 1;
                        }
                    }
                }
            }
        }
        {
            let mut state = link.state.lock().expect("state lock");
            state.published_board_seq = commit.seq;
            if let Some(stream) = sent.filter(|&n| n > state.applied_seq) {
                state.push_outstanding(crate::state::OwnMessage {
                    seq: commit.seq,
                    clip: commit.clip_id.0,
                    stream,
                });
            }
        }
        link.save_state();
        link.update_status(|s| s.outbox = rx.len() as u64);
    }
}

/// Reads a new local commit off the board and prepares it, or says why it
/// does not go.
fn read_commit(link: &Link, commit: LocalCommit) -> Result<Ready, String> {
    let read = crate::local::sized(commit.size, || link.local.read(commit.clip_id));
    let outgoing = match read {
        Ok(Some(clip)) => prepare(link, commit, commit.created_ns, clip.reps),
        Ok(None) => Err("gone from the board before it could be sent".into()),
        Err(e) => Err(e.to_string()),
    };
    outgoing.map(Ready::Commit)
}
