//! A blob into the Object Store with several chunks in flight.
//!
//! async-nats' `ObjectStore::put` publishes a chunk, waits for the server's
//! ack, then publishes the next: a 30 MB clip's 58 chunks took 58 round
//! trips one after the other, most of its way (BENCHMARKS.md, "Bridge",
//! sessions 6 and 10). This writes the same objects, in the Object Store's
//! own format (chunks on `$O.<bucket>.C.<nuid>`, then the object's info on
//! `$O.<bucket>.M.<base64url name>` as a roll-up, with its size, chunk
//! count and SHA-256), so that every reader, ours and other NATS clients,
//! reads them as before; only up to [`WINDOW`] chunks wait for their acks
//! at once. The info goes last, once every chunk is stored: a reader never
//! sees an object whose chunks are not all there. As `put` does, the chunks
//! of an object that the new one replaces (a retried upload) are purged.

use std::collections::VecDeque;

use async_nats::HeaderMap;
use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::object_store::{ObjectInfo, ObjectOptions, ObjectStore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;

use crate::blob::SealingReader;

/// How many chunk publishes may wait for their acks at once. Enough to
/// keep loopback and a LAN busy; few enough that a slow server holds at
/// most this many sealed chunks (8 × 512 KiB) of ours in memory.
pub const WINDOW: usize = 8;

/// Uploads the sealed chunks of `reader` as object `name` of `bucket`
/// (`store` is its handle); returns the object's info as the server stored
/// it. `chunk_size` is the sealed chunk's size, recorded as the object's
/// chunk size. A failed upload purges what it stored of itself, as far as
/// the server lets it: the caller's retry uploads under a new nuid, and
/// the pieces of every failed attempt would otherwise hold the bucket's
/// storage until its TTL.
pub async fn put(
    js: &async_nats::jetstream::Context,
    store: &ObjectStore,
    bucket: &str,
    name: &str,
    chunk_size: usize,
    reader: SealingReader,
) -> Result<ObjectInfo, String> {
    let replaced = store.info(name).await.ok();
    let nuid = object_nuid();
    let info = match send(js, bucket, name, chunk_size, reader, nuid.clone()).await {
        Ok(info) => info,
        Err(why) => {
            if let Err(e) = purge_chunks(js, bucket, &nuid).await {
                tracing::warn!(object = name, error = %e, "a failed upload's chunks stay until the bucket's TTL");
            }
            return Err(why);
        }
    };
    if let Some(old) = replaced.filter(|old| old.nuid != info.nuid) {
        // The new object is complete and current: a purge that fails costs
        // storage until the TTL, not the upload.
        if let Err(e) = purge_chunks(js, bucket, &old.nuid).await {
            tracing::warn!(object = name, error = %e, "the chunks of the object this one replaced stay until the bucket's TTL");
        }
    }
    Ok(info)
}

/// The chunks, then the info that makes them an object.
async fn send(
    js: &async_nats::jetstream::Context,
    bucket: &str,
    name: &str,
    chunk_size: usize,
    mut reader: SealingReader,
    nuid: String,
) -> Result<ObjectInfo, String> {
    let chunk_subject = format!("$O.{bucket}.C.{nuid}");
    let mut sha256 = ring::digest::Context::new(&ring::digest::SHA256);
    let mut in_flight: VecDeque<PublishAckFuture> = VecDeque::with_capacity(WINDOW);
    let (mut size, mut chunks) = (0usize, 0usize);
    while let Some(sealed) = reader.next_chunk() {
        sha256.update(&sealed);
        size += sealed.len();
        chunks += 1;
        if in_flight.len() == WINDOW
            && let Some(oldest) = in_flight.pop_front()
        {
            acked(oldest).await?;
        }
        let ack = js
            .publish(chunk_subject.clone(), sealed.into())
            .await
            .map_err(|e| format!("chunk publish: {e}"))?;
        in_flight.push_back(ack);
    }
    while let Some(ack) = in_flight.pop_front() {
        acked(ack).await?;
    }
    let info = ObjectInfo {
        name: name.to_owned(),
        description: None,
        metadata: std::collections::HashMap::new(),
        headers: None,
        options: Some(ObjectOptions {
            max_chunk_size: Some(chunk_size),
            link: None,
        }),
        bucket: bucket.to_owned(),
        nuid,
        size,
        chunks,
        modified: Some(time::OffsetDateTime::now_utc()),
        digest: Some(format!(
            "SHA-256={}",
            URL_SAFE.encode(sha256.finish().as_ref())
        )),
        deleted: false,
    };
    let mut headers = HeaderMap::new();
    // The newest info message is the object: older ones of this name go.
    headers.insert("Nats-Rollup", "sub");
    let body = serde_json::to_vec(&info).map_err(|e| format!("object info: {e}"))?;
    js.publish_with_headers(
        format!("$O.{bucket}.M.{}", URL_SAFE.encode(name)),
        headers,
        body.into(),
    )
    .await
    .map_err(|e| format!("object info publish: {e}"))?
    .await
    .map_err(|e| format!("object info ack: {e}"))?;
    Ok(info)
}

/// Removes the chunks stored under `nuid` from the bucket's stream.
async fn purge_chunks(
    js: &async_nats::jetstream::Context,
    bucket: &str,
    nuid: &str,
) -> Result<(), String> {
    js.get_stream(format!("OBJ_{bucket}"))
        .await
        .map_err(|e| format!("the bucket's stream: {e}"))?
        .purge()
        .filter(format!("$O.{bucket}.C.{nuid}"))
        .await
        .map_err(|e| format!("purging chunks: {e}"))?;
    Ok(())
}

async fn acked(ack: PublishAckFuture) -> Result<(), String> {
    ack.await.map_err(|e| format!("chunk ack: {e}"))?;
    Ok(())
}

/// A new object's chunk subject token: 22 random characters of
/// `[0-9A-Za-z]`, as NATS' own NUIDs are (no `.`, `*` or `>`).
fn object_nuid() -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut bytes = [0u8; 22];
    getrandom::fill(&mut bytes).expect("the OS random source");
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}
