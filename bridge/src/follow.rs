//! The stream back into the board, in stream order.
//!
//! An ordered consumer starts after the last applied sequence. Each message
//! is opened, checked (key, tampering, replay, size, allow-list), its blobs
//! fetched and opened, and only then is the clip restored into the board
//! with its clip id and origin node, labelled `bridge: NAME`; a clip is never
//! applied partially. A selection makes the clip with its id current, if the
//! board holds it. Our own messages are not applied, but when the newest of
//! them comes back after a remote one, its clip is made current again: the
//! stream order decides the current clip on every board.
//!
//! The consumer is recreated from the last applied sequence whenever it
//! errors, ends, or stops making progress while the stream has more
//! (a watchdog over the stream's last sequence), so a server restart cannot
//! leave it silent (nats.rs#1596).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::consumer::pull::OrderedConfig;
use futures_util::StreamExt;
use shm_clip::{ClipId, NodeId, Representation};

use crate::blob::{BlobError, Shape, open_blob, open_sealed};
use crate::envelope::Place;
use crate::link::Link;
use crate::local::Selected;
use crate::manifest::{Body, Manifest};
use crate::naming::{Names, hex};
use crate::wire::{self, Message};

/// How often the watchdog compares the stream with our progress.
const WATCHDOG: Duration = Duration::from_secs(1);
/// No progress for this long while the stream has more: recreate the consumer.
const STALL: Duration = Duration::from_secs(3);

/// The follower: runs until the process ends.
pub async fn run(link: Arc<Link>) {
    let mut attempt = 0;
    loop {
        match follow_once(&link).await {
            Ok(()) => attempt = 0,
            Err(e) => {
                if attempt == 0 {
                    tracing::warn!(error = %e, "following the stream failed; retrying with backoff");
                }
                link.update_status(|s| s.last_error.clone_from(&e));
                tokio::time::sleep(crate::net::backoff(attempt)).await;
                attempt += 1;
            }
        }
    }
}

/// One consumer's life: returns when it has to be recreated.
async fn follow_once(link: &Link) -> Result<(), String> {
    let stream = link.stream().await.map_err(|e| e.to_string())?;
    let applied = link.state.lock().expect("state lock").applied_seq;
    let deliver_policy = if applied == 0 {
        DeliverPolicy::All
    } else {
        DeliverPolicy::ByStartSequence {
            start_sequence: applied + 1,
        }
    };
    let consumer = stream
        .create_consumer(OrderedConfig {
            deliver_policy,
            ..Default::default()
        })
        .await
        .map_err(|e| format!("creating the consumer: {e}"))?;
    let mut messages = consumer
        .messages()
        .await
        .map_err(|e| format!("consuming: {e}"))?;
    let mut tick = tokio::time::interval(WATCHDOG);
    let mut progress = Instant::now();
    loop {
        tokio::select! {
            next = messages.next() => match next {
                Some(Ok(msg)) => {
                    let Ok(info) = msg.info() else { continue };
                    let seq = info.stream_sequence;
                    if seq <= link.state.lock().expect("state lock").applied_seq {
                        continue;
                    }
                    // An error: not applied and not rejected; a new consumer reads it again.
                    handle(link, seq, &msg.payload).await?;
                    progress = Instant::now();
                }
                Some(Err(e)) => return Err(format!("consumer: {e}")),
                None => return Err("the consumer ended".into()),
            },
            _ = tick.tick() => {
                let Ok(info) = stream.get_info().await else {
                    link.update_status(|_| {});
                    continue;
                };
                let last = info.state.last_sequence;
                let applied = link.state.lock().expect("state lock").applied_seq;
                link.update_status(|s| s.stream_last_seq = last);
                if last < applied {
                    // The stream was recreated (a wiped server): start over.
                    tracing::warn!(last, applied, "the stream is behind our position: it was recreated; replaying it");
                    {
                        let mut state = link.state.lock().expect("state lock");
                        state.applied_seq = 0;
                        // Their stream seqs were the old stream's.
                        state.outstanding.clear();
                    }
                    link.save_state();
                    return Ok(());
                }
                if last > applied && progress.elapsed() > STALL {
                    tracing::info!(last, applied, "the consumer stalled; recreating it");
                    return Ok(());
                }
                if last == applied {
                    progress = Instant::now();
                }
            }
        }
    }
}

/// Applies (or rejects) stream message `seq`, then records it as done;
/// an error means it could not be read now (the network), and it is read
/// again, up to [`MAX_RETRIES`] times before it counts as rejected.
async fn handle(link: &Link, seq: u64, payload: &[u8]) -> Result<(), String> {
    // Before the first message is applied: a test kills the bridge here,
    // its later own message published meanwhile and persisted as
    // outstanding (`tests/faults.rs`).
    #[cfg(feature = "test-hooks")]
    if crate::test_hooks::asked("follow") {
        crate::local::blocking(|| crate::test_hooks::pause_if_asked("follow"));
    }
    let outcome = match process(link, seq, payload).await {
        Err(Failure::Retry(why)) => {
            let mut retries = link.retries.lock().expect("retries lock");
            let count = if retries.0 == seq { retries.1 + 1 } else { 1 };
            *retries = (seq, count);
            if count <= MAX_RETRIES {
                return Err(format!("stream message {seq}: {why}; retrying"));
            }
            Err(format!("{why} ({MAX_RETRIES} retries)"))
        }
        Err(Failure::Reject(why)) => Err(why),
        Ok(outcome) => Ok(outcome),
    };
    // Not for a retry (returned above): the message is read again.
    link.local.passed(seq, None);
    match outcome {
        Ok(Outcome::Applied { name }) => {
            link.update_status(|s| {
                s.applied += 1;
                s.last_remote_origin = name;
            });
        }
        Ok(Outcome::Selected { name }) => {
            link.update_status(|s| {
                s.selections_applied += 1;
                s.last_remote_origin = name;
            });
        }
        Ok(Outcome::Own) => {}
        Ok(Outcome::Skipped(why)) => tracing::info!(seq, "not applied: {why}"),
        Err(why) => {
            // Once per message: the position moves past it below.
            tracing::warn!(seq, "rejected stream message: {why}");
            link.update_status(|s| s.rejected += 1);
        }
    }
    {
        let mut state = link.state.lock().expect("state lock");
        state.applied_seq = seq;
        state.outstanding.retain(|o| o.stream > seq);
    }
    link.save_state();
    link.update_status(|s| s.applied_seq = seq);
    Ok(())
}

/// How often a message whose blob cannot be read is tried again.
const MAX_RETRIES: u32 = 5;

/// Why a message was not applied.
enum Failure {
    /// For good: forged, replayed, too large, a missing blob.
    Reject(String),
    /// For now: the server could not be read.
    Retry(String),
}

impl From<String> for Failure {
    fn from(why: String) -> Failure {
        Failure::Reject(why)
    }
}

enum Outcome {
    Applied { name: String },
    Selected { name: String },
    Own,
    Skipped(String),
}

async fn process(link: &Link, seq: u64, payload: &[u8]) -> Result<Outcome, Failure> {
    let message =
        wire::open_message(&link.envelope, &link.names, payload).map_err(|e| e.to_string())?;
    let origin_node = message.origin_node();
    let origin_seq = message.origin_seq();
    let node_hex = hex(&origin_node);
    link.nodes.lock().expect("nodes lock").insert(origin_node);
    let newest = {
        let state = link.state.lock().expect("state lock");
        state.origin_seqs.get(&node_hex).copied().unwrap_or(0)
    };
    if origin_seq <= newest && origin_node != link.local.node.0 {
        return Err(Failure::Reject(format!(
            "replay: message {origin_seq} of node {} is not newer than {newest}, already applied",
            &node_hex[..8]
        )));
    }
    // Seen from here on, applied or rejected: a copy of it later is a replay.
    let seen = || {
        let mut state = link.state.lock().expect("state lock");
        state
            .origin_seqs
            .insert(node_hex.clone(), origin_seq.max(newest));
    };
    let clip_id = ClipId(message.clip_id());
    if origin_node == link.local.node.0 {
        // Our own commit or selection: unless a newer one was made here
        // since (its message comes later and decides), it is the current
        // clip everywhere, so here too. A cheap look first; `reselect_own`
        // decides under the lock its write holds.
        if origin_seq >= link.local.handed()
            && !link.local.own_still_current(clip_id).unwrap_or(false)
        {
            let _ = crate::local::blocking(|| link.local.reselect_own(clip_id, origin_seq));
        }
        // It and every older change of ours are on the stream, behind us.
        link.local.passed(seq, Some(origin_seq));
        seen();
        return Ok(Outcome::Own);
    }
    let manifest = match message {
        Message::Commit(manifest) => manifest,
        Message::Select(selection) => {
            seen();
            let local = link.local.clone();
            let selected = crate::local::blocking(|| local.select_remote(clip_id, seq))
                .map_err(|e| e.to_string())?;
            return Ok(match selected {
                Selected::Made | Selected::AlreadyCurrent => Outcome::Selected {
                    name: selection.display_name,
                },
                Selected::NotHeld => {
                    Outcome::Skipped(format!("selected clip {clip_id} is not on this board"))
                }
                Selected::Superseded => {
                    Outcome::Skipped("a newer local selection comes later".into())
                }
            });
        }
    };
    // The cap is on what would be applied, as on the sender (allow-list
    // first): a refused representation is never fetched. Saturating, so a
    // forged size cannot wrap below the cap.
    let total = manifest
        .reps
        .iter()
        .filter(|r| link.settings.allows(&r.mime))
        .fold(0u64, |sum, r| sum.saturating_add(r.size));
    if total > link.settings.max_clip_size {
        seen();
        return Err(Failure::Reject(format!(
            "{total} bytes is over max_clip_size ({})",
            link.settings.max_clip_size
        )));
    }
    let reps = match fetch(link, &manifest).await {
        Ok(reps) => reps,
        Err(Failure::Reject(why)) => {
            seen();
            return Err(Failure::Reject(why));
        }
        Err(retry) => return Err(retry),
    };
    seen();
    let reps: Vec<Representation> = reps
        .into_iter()
        .filter(|r| link.settings.allows(&r.mime))
        .collect();
    if reps.is_empty() {
        return Ok(Outcome::Skipped(
            "no representation is in allow_types".into(),
        ));
    }
    let local = link.local.clone();
    let name = manifest.display_name.clone();
    let node = NodeId(manifest.origin_node);
    let created = manifest.created_ns;
    let display = name.clone();
    let size = reps.iter().map(|r| r.data.len() as u64).sum();
    crate::local::sized(size, || {
        local.apply(reps, clip_id, node, &display, created, seq)
    })
    .map_err(|e| e.to_string())?;
    Ok(Outcome::Applied { name })
}

/// Every representation's bytes: inline ones as they are, blobs fetched
/// and opened chunk by chunk.
async fn fetch(link: &Link, manifest: &Manifest) -> Result<Vec<Representation>, Failure> {
    let place = Place::manifest(link.names.board_hash, manifest.clip_id);
    let mut reps = Vec::with_capacity(manifest.reps.len());
    for (i, rep) in manifest.reps.iter().enumerate() {
        let data = match &rep.body {
            Body::Inline(data) => data.clone(),
            Body::Blob { chunk_size } => {
                if !link.settings.allows(&rep.mime) {
                    continue; // not fetched at all
                }
                let bucket = link
                    .bucket()
                    .await
                    .map_err(|e| Failure::Retry(e.to_string()))?;
                // Out of bounds: refused before anything is fetched.
                let shape = Shape::new(rep.size, *chunk_size, link.settings.max_clip_size)
                    .map_err(|e| Failure::Reject(format!("blob of representation {i}: {e}")))?;
                let blob = Blob {
                    name: Names::object(&manifest.clip_id, i as u32),
                    rep: i as u32,
                    size: rep.size,
                    chunk_size: *chunk_size,
                    sealed_size: shape.sealed_len(),
                };
                link.update_status(|s| s.blobs_in_flight += 1);
                let opened = match prefetched(link, bucket, &blob).await {
                    // Tens of ms of work for a large blob: not on the async worker.
                    Some(sealed) => match crate::local::blocking(|| {
                        open_sealed(
                            sealed,
                            &link.envelope,
                            place,
                            blob.rep,
                            blob.size,
                            blob.chunk_size,
                            link.settings.max_clip_size,
                        )
                    }) {
                        Ok(data) => {
                            link.update_status(|s| s.blobs_prefetched += 1);
                            Ok(data)
                        }
                        // The object's own bytes did not open: the download
                        // gives the verdict, as for any other blob.
                        Err(e) => {
                            link.update_status(|s| s.prefetch_unopened += 1);
                            tracing::debug!(
                                rep = i,
                                "a kept blob did not open ({e}); downloading it"
                            );
                            download(link, bucket, &blob, place).await
                        }
                    },
                    None => download(link, bucket, &blob, place).await,
                };
                link.update_status(|s| s.blobs_in_flight = s.blobs_in_flight.saturating_sub(1));
                opened?
            }
        };
        reps.push(Representation {
            mime: rep.mime.clone(),
            data,
        });
    }
    Ok(reps)
}

/// A blob a manifest names.
struct Blob {
    name: String,
    rep: u32,
    size: u64,
    chunk_size: u32,
    /// Its size sealed: the object's size.
    sealed_size: u64,
}

/// The blob's sealed bytes if the prefetcher kept them whole, as the
/// object's final info on the server says (size, chunks, digest); waits
/// while the rest of an upload it is keeping still comes in.
async fn prefetched(
    link: &Link,
    bucket: &async_nats::jetstream::object_store::ObjectStore,
    blob: &Blob,
) -> Option<Vec<u8>> {
    let info = bucket.info(blob.name.as_str()).await.ok()?;
    let linked = info.options.as_ref().is_some_and(|o| o.link.is_some());
    if info.deleted || linked || info.size as u64 != blob.sealed_size {
        return None; // the download says what is wrong
    }
    let claimed = link.prefetch.claim(&info).await;
    crate::prefetch::report(link);
    match claimed? {
        Ok(sealed) => Some(sealed),
        Err(why) => {
            link.update_status(|s| s.prefetch_mismatched += 1);
            tracing::debug!(
                rep = blob.rep,
                "a kept blob is not the object ({why}); downloading it"
            );
            None
        }
    }
}

/// Downloads the blob and opens it chunk by chunk.
async fn download(
    link: &Link,
    bucket: &async_nats::jetstream::object_store::ObjectStore,
    blob: &Blob,
    place: Place,
) -> Result<Vec<u8>, Failure> {
    let i = blob.rep;
    let mut object = bucket.get(blob.name.as_str()).await.map_err(|e| {
        if e.kind() == async_nats::jetstream::object_store::GetErrorKind::NotFound {
            Failure::Reject(format!("blob of representation {i} is missing ({e})"))
        } else {
            Failure::Retry(format!("blob of representation {i}: {e}"))
        }
    })?;
    if object.info.size as u64 != blob.sealed_size {
        return Err(Failure::Reject(format!(
            "blob of representation {i} has {} bytes, its manifest says {}",
            object.info.size, blob.sealed_size
        )));
    }
    let opened = open_blob(
        &mut object,
        &link.envelope,
        place,
        i,
        blob.size,
        blob.chunk_size,
        link.settings.max_clip_size,
    )
    .await
    .map_err(|e: BlobError| {
        let why = format!("blob of representation {i}: {e}");
        if matches!(e, BlobError::Read(_)) {
            Failure::Retry(why)
        } else {
            Failure::Reject(why)
        }
    })?;
    link.update_status(|s| s.blobs_downloaded += 1);
    Ok(opened)
}
