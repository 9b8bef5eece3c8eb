//! Prefetch: the sealed chunks of objects no manifest has named yet.
//!
//! A blob is uploaded before its manifest, and async-nats' `ObjectStore::get`
//! refuses an object before its final info message. So, left alone, a
//! receiver starts downloading a large clip only once the sender has
//! finished uploading it, and the two run one after the other. The
//! prefetcher follows the bucket's own stream (chunks and infos, with an
//! ordered consumer of its own) and keeps the sealed chunks of every object
//! as they are stored, so that when the manifest comes, the follower finds
//! the object (nearly) all there.
//!
//! Nothing here is trusted or applied. The chunks are kept sealed; the
//! follower takes an object only when its bytes are complete by the
//! object's final info from the server (size, chunk count and SHA-256
//! digest, checked here), then opens every chunk with its place in the
//! associated data, as a download would. Anything that does not add up (a
//! start in the middle of an upload, an upload cut short, a cap reached, a
//! consumer that lost its place) is dropped, and the follower downloads the
//! object as before: the prefetch only saves time, and is never needed.
//!
//! Bounds (the bucket may carry a rogue publisher's chunks): one object
//! holds at most the sealed size of `max_clip_size`, all of them together
//! twice that plus [`OBJECT_COST`] each, and at most [`MAX_OBJECTS`] objects
//! are kept (the oldest go first). A chunk that cannot be one of ours
//! (no plaintext, or larger than [`SEALED_CHUNK`]) is refused before it
//! makes an entry. An object nobody claims is dropped [`UNCLAIMED`] after
//! its last chunk; a claim waits at most [`CLAIM_DEADLINE`] in all. The
//! chunks of the bridge's own uploads are recognised by their nonces
//! (random, 192-bit, recorded as they are sealed) and not kept.
//!
//! The prefetch runs only on a bridge whose `allow_types` lets every type
//! through ([`enabled`]): it cannot know an object's type before the
//! manifest, and a receiver never fetches a blob it refuses (README,
//! `bridge.allow_types`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::consumer::pull::OrderedConfig;
use async_nats::jetstream::object_store::ObjectInfo;
use base64::Engine as _;
use futures_util::StreamExt;

use crate::blob::{FIRST_CHUNK, SEALED_CHUNK, Shape};
use crate::envelope::{NONCE_LEN, OVERHEAD};
use crate::link::Link;

/// An object whose last chunk is this old and that nobody claimed is
/// dropped (an upload cut short, a manifest that never came).
pub const UNCLAIMED: Duration = Duration::from_secs(5);
/// How long a claim waits for the next chunk of an object being uploaded
/// before it gives up and downloads instead.
pub const CLAIM_STALL: Duration = Duration::from_secs(2);
/// How long a claim waits in all, however its chunks trickle in. The
/// manifest comes only after the whole object is stored, so a prefetcher
/// that keeps up has it within moments; past this, download it.
pub const CLAIM_DEADLINE: Duration = Duration::from_secs(10);
/// Objects kept at most: a few clips' uploads at a time are all the
/// follower can use, and a rogue publisher's fresh nuids must not grow
/// the map without bound.
pub const MAX_OBJECTS: usize = 16;
/// Bytes counted for each kept object beyond its chunks: its map entry,
/// nuid and SHA-256 context (a few hundred bytes, rounded up).
pub const OBJECT_COST: usize = 1024;
/// Own chunks' nonces remembered (each 512 KiB chunk has one: 512 MiB).
const OWN_NONCES: usize = 1024;
/// Objects remembered as not kept (own, or over a cap), so that their later
/// chunks are passed over cheaply.
const MAX_IGNORED: usize = 4096;

/// How the prefetcher's consumer is watched (as the follower's).
const WATCHDOG: Duration = Duration::from_secs(1);
const STALL: Duration = Duration::from_secs(3);

/// The sealed bytes of one object, as far as they were stored. Private:
/// its bytes leave this module only through [`Assembly::verify`].
struct Assembly {
    /// The chunks' bytes, back to back.
    sealed: Vec<u8>,
    /// How many chunk messages they came in.
    chunks: usize,
    digest: ring::digest::Context,
    /// Its info message came: no chunk follows.
    done: bool,
    last: Instant,
}

impl std::fmt::Debug for Assembly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assembly")
            .field("bytes", &self.sealed.len())
            .field("chunks", &self.chunks)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl Assembly {
    fn new(now: Instant) -> Assembly {
        Assembly {
            sealed: Vec::new(),
            chunks: 0,
            digest: ring::digest::Context::new(&ring::digest::SHA256),
            done: false,
            last: now,
        }
    }

    /// The object's bytes, if they are exactly what its final `info` says:
    /// size, chunk count and digest. Otherwise why not.
    fn verify(self, info: &ObjectInfo) -> Result<Vec<u8>, String> {
        if self.chunks != info.chunks || self.sealed.len() != info.size {
            return Err(format!(
                "{} bytes in {} chunks kept, the object has {} in {}",
                self.sealed.len(),
                self.chunks,
                info.size,
                info.chunks
            ));
        }
        let digest = format!(
            "SHA-256={}",
            base64::engine::general_purpose::URL_SAFE.encode(self.digest.finish())
        );
        if info.digest.as_deref() != Some(digest.as_str()) {
            return Err("the kept bytes do not have the object's digest".into());
        }
        Ok(self.sealed)
    }
}

/// What became of a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kept {
    /// Added to its object (`true`: the first chunk seen of it).
    Added(bool),
    /// Passed over: its object is one of ours or over a cap.
    Ignored,
    /// The first chunk seen of one of our own uploads: not kept.
    Own,
    /// Its object was dropped now: over the cap for one object.
    Dropped,
    /// Not a chunk of ours (no plaintext, or too large): not kept, and
    /// neither is the rest of its object.
    Refused,
}

/// What a claim finds.
enum Take {
    /// The object's upload is still coming in: wait.
    Wait,
    /// Not (wholly) kept: download it.
    Download,
    /// Kept whole, still to be verified.
    Kept(Box<Assembly>),
}

/// Counts for the status file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Objects being kept now.
    pub objects: u64,
    /// Their bytes, with [`OBJECT_COST`] for each.
    pub bytes: u64,
}

/// The kept objects, keyed by their nuid (the chunk subject's last token).
#[derive(Debug)]
struct Buffers {
    objects: HashMap<String, Assembly>,
    /// Objects that are not kept, oldest first.
    ignored: HashSet<String>,
    ignored_order: VecDeque<String>,
    own: HashSet<[u8; NONCE_LEN]>,
    own_order: VecDeque<[u8; NONCE_LEN]>,
    /// Kept bytes, with [`OBJECT_COST`] for each object.
    bytes: usize,
    /// Chunk bytes one object may hold.
    per_object: usize,
    /// What `bytes` may reach.
    total: usize,
}

/// Whether a bridge with this `allow_types` prefetches: only if every
/// type crosses to it (see the module doc).
pub fn enabled(allow_types: &[String]) -> bool {
    allow_types.iter().any(|p| matches!(p.trim(), "*" | "*/*"))
}

impl Buffers {
    /// Buffers for clips of at most `max_clip_size` bytes.
    fn new(max_clip_size: u64) -> Buffers {
        // Counted with the smallest chunks any version seals (most
        // overhead), so that a max-size clip from an older peer still fits;
        // a max_clip_size too large to seal in memory caps nothing.
        let per_object = Shape::new(max_clip_size, FIRST_CHUNK as u32, max_clip_size)
            .map_or(usize::MAX, |s| s.sealed_len() as usize);
        Buffers {
            objects: HashMap::new(),
            ignored: HashSet::new(),
            ignored_order: VecDeque::new(),
            own: HashSet::new(),
            own_order: VecDeque::new(),
            bytes: 0,
            per_object,
            total: per_object.saturating_add(OBJECT_COST).saturating_mul(2),
        }
    }

    /// Forgets object `nuid`'s bytes, if kept.
    fn remove(&mut self, nuid: &str) -> Option<Assembly> {
        let gone = self.objects.remove(nuid)?;
        self.bytes = self.bytes.saturating_sub(gone.sealed.len() + OBJECT_COST);
        Some(gone)
    }

    /// The kept object other than `nuid` whose last chunk is oldest.
    fn oldest_but(&self, nuid: &str) -> Option<String> {
        self.objects
            .iter()
            .filter(|(n, _)| n.as_str() != nuid)
            .min_by_key(|(_, a)| a.last)
            .map(|(n, _)| n.clone())
    }

    /// Remembers a chunk this bridge sealed (its nonce), before it is sent.
    fn own(&mut self, nonce: [u8; NONCE_LEN]) {
        if self.own.insert(nonce) {
            self.own_order.push_back(nonce);
        }
        while self.own_order.len() > OWN_NONCES {
            if let Some(old) = self.own_order.pop_front() {
                self.own.remove(&old);
            }
        }
    }

    fn ignore(&mut self, nuid: &str) {
        self.remove(nuid);
        if self.ignored.insert(nuid.to_owned()) {
            self.ignored_order.push_back(nuid.to_owned());
        }
        while self.ignored_order.len() > MAX_IGNORED {
            if let Some(old) = self.ignored_order.pop_front() {
                self.ignored.remove(&old);
            }
        }
    }

    /// A chunk of object `nuid`, as stored.
    fn chunk(&mut self, nuid: &str, bytes: &[u8], now: Instant) -> Kept {
        if self.ignored.contains(nuid) {
            return Kept::Ignored;
        }
        // Every sealed chunk of ours has at least one plaintext byte and at
        // most the largest chunk a receiver accepts.
        if bytes.len() <= OVERHEAD || bytes.len() > SEALED_CHUNK {
            self.ignore(nuid);
            return Kept::Refused;
        }
        if bytes
            .first_chunk::<NONCE_LEN>()
            .is_some_and(|nonce| self.own.remove(nonce))
        {
            self.ignore(nuid);
            return Kept::Own;
        }
        let held = self.objects.get(nuid).map_or(0, |a| a.sealed.len());
        if held.saturating_add(bytes.len()) > self.per_object
            || self.objects.get(nuid).is_some_and(|a| a.done)
        {
            self.ignore(nuid);
            return Kept::Dropped;
        }
        let first = !self.objects.contains_key(nuid);
        let cost = if first { OBJECT_COST } else { 0 } + bytes.len();
        // Room for it: the oldest other objects go first (at most
        // MAX_OBJECTS of them, so this scan is short).
        while self.bytes.saturating_add(cost) > self.total
            || (first && self.objects.len() >= MAX_OBJECTS)
        {
            match self.oldest_but(nuid) {
                Some(old) => self.ignore(&old),
                None => break,
            }
        }
        let assembly = self
            .objects
            .entry(nuid.to_owned())
            .or_insert_with(|| Assembly::new(now));
        assembly.sealed.extend_from_slice(bytes);
        assembly.digest.update(bytes);
        assembly.chunks += 1;
        assembly.last = now;
        self.bytes = self.bytes.saturating_add(cost);
        Kept::Added(first)
    }

    /// The info message of object `nuid` came: no more chunks follow.
    fn done(&mut self, nuid: &str) {
        if let Some(a) = self.objects.get_mut(nuid) {
            a.done = true;
        }
    }

    /// Object `info.nuid` if it is complete by `info` (or no chunk
    /// follows). Waits while its chunks still come in, unless `late` (the
    /// claim's deadline passed). Whatever it answers but `Wait`, the object
    /// is not kept from now on: its later chunks are passed over.
    fn take(&mut self, info: &ObjectInfo, now: Instant, late: bool) -> Take {
        let nuid = info.nuid.as_str();
        let Some(a) = self.objects.get(nuid) else {
            // The follower downloads it: its chunks still to come (a
            // prefetcher lagging the follower) would only fill the cap.
            self.ignore(nuid);
            return Take::Download;
        };
        let complete = a.done || a.chunks >= info.chunks || a.sealed.len() >= info.size;
        if !complete && !late && now.duration_since(a.last) < CLAIM_STALL {
            return Take::Wait;
        }
        let a = self.remove(nuid);
        self.ignore(nuid);
        match a {
            Some(a) if complete => Take::Kept(Box::new(a)),
            _ => Take::Download,
        }
    }

    /// Drops objects nobody claimed; returns how many.
    fn sweep(&mut self, now: Instant) -> usize {
        let stale: Vec<String> = self
            .objects
            .iter()
            .filter(|(_, a)| now.duration_since(a.last) >= UNCLAIMED)
            .map(|(n, _)| n.clone())
            .collect();
        for nuid in &stale {
            self.ignore(nuid);
        }
        stale.len()
    }

    /// Drops everything (the consumer lost its place).
    fn clear(&mut self) {
        let all: Vec<String> = self.objects.keys().cloned().collect();
        for nuid in &all {
            self.ignore(nuid);
        }
    }

    /// What is kept now.
    fn counts(&self) -> Counts {
        Counts {
            objects: self.objects.len() as u64,
            bytes: self.bytes as u64,
        }
    }
}

/// The prefetch of one board's bucket: the buffers, and a signal for the
/// claims waiting on them.
#[derive(Debug)]
pub struct Prefetch {
    buffers: Mutex<Buffers>,
    changed: tokio::sync::watch::Sender<u64>,
    /// Own uploads under way: the prefetcher stands aside meanwhile.
    uploads: tokio::sync::watch::Sender<usize>,
}

/// While it lives, one of our own uploads is under way (see
/// [`Prefetch::stand_aside`]).
#[derive(Debug)]
pub struct OwnUpload(Arc<Prefetch>);

impl Drop for OwnUpload {
    fn drop(&mut self) {
        self.0.uploads.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Prefetch {
    /// An empty prefetch for clips of at most `max_clip_size` bytes.
    pub fn new(max_clip_size: u64) -> Prefetch {
        Prefetch {
            buffers: Mutex::new(Buffers::new(max_clip_size)),
            changed: tokio::sync::watch::Sender::new(0),
            uploads: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Marks one of our own uploads as under way. Meanwhile the prefetcher
    /// follows nothing: otherwise the server would send this bridge every
    /// chunk it uploads, and on a busy machine that work slows the upload
    /// itself (BENCHMARKS.md, "Bridge", session 6). Afterwards it follows
    /// the bucket again from its end; a remote upload that overlapped ours
    /// is downloaded after its manifest, as before.
    pub fn stand_aside(self: &Arc<Self>) -> OwnUpload {
        self.uploads.send_modify(|n| *n += 1);
        OwnUpload(self.clone())
    }

    /// Remembers a chunk this bridge sealed, by its nonce.
    pub fn own(&self, sealed: &[u8]) {
        if let Some(&nonce) = sealed.first_chunk::<NONCE_LEN>() {
            self.buffers.lock().expect("prefetch lock").own(nonce);
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Buffers) -> T) -> T {
        let out = f(&mut self.buffers.lock().expect("prefetch lock"));
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
        out
    }

    /// The kept sealed bytes of the object `info` describes, verified
    /// against it (the only way kept bytes leave this module), waiting
    /// while its upload is still coming in, for at most [`CLAIM_DEADLINE`].
    /// `None`: not (wholly) kept, so download it.
    pub async fn claim(&self, info: &ObjectInfo) -> Option<Result<Vec<u8>, String>> {
        let mut changed = self.changed.subscribe();
        let deadline = tokio::time::Instant::now() + CLAIM_DEADLINE;
        loop {
            changed.borrow_and_update();
            let now = tokio::time::Instant::now();
            let taken = self.buffers.lock().expect("prefetch lock").take(
                info,
                now.into_std(),
                now >= deadline,
            );
            match taken {
                Take::Kept(a) => return Some(a.verify(info)),
                Take::Download => return None,
                Take::Wait => {}
            }
            // Woken by the next chunk or info, or at the stall or the
            // deadline, whichever first.
            let wake = deadline.min(now + CLAIM_STALL);
            let _ = tokio::time::timeout_at(wake, changed.changed()).await;
        }
    }

    /// What is kept now.
    pub fn counts(&self) -> Counts {
        self.buffers.lock().expect("prefetch lock").counts()
    }
}

/// The prefetcher: runs until the process ends.
pub async fn run(link: Arc<Link>) {
    let mut attempt = 0;
    // The last bucket stream message seen: a new consumer starts after it,
    // so the objects being kept have no gap.
    let mut position: Option<u64> = None;
    loop {
        let ended = follow_once(&link, &mut position).await;
        // Whichever way the consumer ended, it follows nothing now (a
        // stale `true` would hide a consumer that never comes back).
        link.update_status(|s| s.prefetch_live = false);
        match ended {
            Ok(()) => attempt = 0,
            Err(e) => {
                if attempt == 0 {
                    tracing::debug!(error = %e, "prefetching failed; retrying with backoff");
                }
                // Unclaimed objects go after their time even while no
                // consumer runs (the server away).
                let swept = link.prefetch.with(|b| b.sweep(Instant::now())) as u64;
                if swept > 0 {
                    link.update_status(|s| s.prefetch_dropped += swept);
                }
                report(&link);
                tokio::time::sleep(crate::net::backoff(attempt)).await;
                attempt += 1;
            }
        }
    }
}

/// One consumer's life over the bucket's stream.
async fn follow_once(link: &Link, position: &mut Option<u64>) -> Result<(), String> {
    let mut uploads = link.prefetch.uploads.subscribe();
    if *uploads.borrow_and_update() > 0 {
        stand_aside(link, &mut uploads, position).await;
    }
    let bucket = &link.names.bucket;
    link.bucket().await.map_err(|e| e.to_string())?;
    let stream = link
        .js
        .get_stream(format!("OBJ_{bucket}"))
        .await
        .map_err(|e| format!("the bucket's stream: {e}"))?;
    // A first consumer starts at the stream's end: what is stored already
    // has its info, and the follower downloads it if it needs it.
    let start = match *position {
        Some(seq) => seq,
        None => stream.cached_info().state.last_sequence,
    };
    *position = Some(start);
    let deliver_policy = DeliverPolicy::ByStartSequence {
        start_sequence: start.saturating_add(1),
    };
    let consumer = stream
        .create_consumer(OrderedConfig {
            filter_subject: format!("$O.{bucket}.>"),
            deliver_policy,
            ..Default::default()
        })
        .await
        .map_err(|e| format!("creating the prefetch consumer: {e}"))?;
    let mut messages = consumer
        .messages()
        .await
        .map_err(|e| format!("consuming: {e}"))?;
    link.update_status(|s| {
        s.prefetch_live = true;
        s.prefetch_consumers += 1;
    });
    let chunks = format!("$O.{bucket}.C.");
    let infos = format!("$O.{bucket}.M.");
    let prefetch = &link.prefetch;
    let mut tick = tokio::time::interval(WATCHDOG);
    let mut progress = Instant::now();
    loop {
        tokio::select! {
            () = async { let _ = uploads.wait_for(|n| *n > 0).await; } => {
                drop(messages); // unsubscribes: the server stops sending
                stand_aside(link, &mut uploads, position).await;
                return Ok(());
            }
            next = messages.next() => match next {
                Some(Ok(msg)) => {
                    let Ok(info) = msg.info() else { continue };
                    let seq = info.stream_sequence;
                    if seq <= position.unwrap_or(0) {
                        continue;
                    }
                    *position = Some(seq);
                    progress = Instant::now();
                    let subject = msg.subject.as_str();
                    if let Some(nuid) = subject.strip_prefix(chunks.as_str()) {
                        let kept = prefetch.with(|b| b.chunk(nuid, &msg.payload, Instant::now()));
                        match kept {
                            Kept::Added(true) | Kept::Dropped | Kept::Refused => report(link),
                            Kept::Own => link.update_status(|s| s.prefetch_own += 1),
                            Kept::Added(false) | Kept::Ignored => {}
                        }
                    } else if subject.starts_with(infos.as_str()) {
                        // Hostile bytes: only its nuid is read, and only to
                        // know that no chunk of it follows.
                        if let Ok(meta) = serde_json::from_slice::<Meta>(&msg.payload) {
                            prefetch.with(|b| b.done(&meta.nuid));
                        }
                    }
                }
                Some(Err(e)) => return Err(format!("prefetch consumer: {e}")),
                None => return Err("the prefetch consumer ended".into()),
            },
            _ = tick.tick() => {
                let swept = prefetch.with(|b| b.sweep(Instant::now())) as u64;
                if swept > 0 {
                    link.update_status(|s| s.prefetch_dropped += swept);
                    report(link);
                }
                let Ok(info) = stream.get_info().await else { continue };
                let last = info.state.last_sequence;
                let seen = position.unwrap_or(0);
                if last < seen {
                    // The bucket was recreated: start over.
                    *position = None;
                    prefetch.with(Buffers::clear);
                    report(link);
                    return Ok(());
                }
                if last == seen {
                    progress = Instant::now();
                } else if progress.elapsed() > STALL {
                    tracing::debug!(last, seen, "the prefetch consumer stalled; recreating it");
                    return Ok(());
                }
            }
        }
    }
}

/// Waits out our own uploads. What was kept has a gap from now on, so it
/// goes, and the next consumer starts at the bucket's end.
async fn stand_aside(
    link: &Link,
    uploads: &mut tokio::sync::watch::Receiver<usize>,
    position: &mut Option<u64>,
) {
    link.prefetch.with(Buffers::clear);
    *position = None;
    link.update_status(|s| {
        s.prefetch_live = false;
        s.prefetch_paused += 1;
    });
    report(link);
    let _ = uploads.wait_for(|n| *n == 0).await;
}

/// An object's info message: only its nuid matters here.
#[derive(serde::Deserialize)]
struct Meta {
    nuid: String,
}

/// Writes what is kept now to the status file (also after a claim took an
/// object: a stale `prefetching` would tell a waiting test of an upload
/// that is not being kept).
pub fn report(link: &Link) {
    let counts = link.prefetch.counts();
    link.update_status(|s| {
        s.prefetching = counts.objects;
        s.prefetch_bytes = counts.bytes;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(nuid: &str, parts: &[&[u8]]) -> ObjectInfo {
        let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
        for p in parts {
            digest.update(p);
        }
        ObjectInfo {
            name: "o".into(),
            description: None,
            metadata: HashMap::new(),
            headers: None,
            options: None,
            bucket: "b".into(),
            nuid: nuid.into(),
            size: parts.iter().map(|p| p.len()).sum(),
            chunks: parts.len(),
            modified: None,
            digest: Some(format!(
                "SHA-256={}",
                base64::engine::general_purpose::URL_SAFE.encode(digest.finish())
            )),
            deleted: false,
        }
    }

    fn chunk(byte: u8, len: usize) -> Vec<u8> {
        vec![byte; len]
    }

    /// What a claim at `now` (not past its deadline) finds, verified:
    /// `None` wait, `Some(None)` download.
    #[expect(
        clippy::option_option,
        reason = "short for the three outcomes in asserts"
    )]
    fn take(
        b: &mut Buffers,
        i: &ObjectInfo,
        now: Instant,
    ) -> Option<Option<Result<Vec<u8>, String>>> {
        match b.take(i, now, false) {
            Take::Wait => None,
            Take::Download => Some(None),
            Take::Kept(a) => Some(Some(a.verify(i))),
        }
    }

    #[test]
    fn an_object_is_taken_when_complete_by_its_info_and_verified() {
        let now = Instant::now();
        let mut b = Buffers::new(1 << 20);
        let (c0, c1) = (chunk(1, 100), chunk(2, 50));
        assert_eq!(b.chunk("x", &c0, now), Kept::Added(true));
        let i = info("x", &[&c0, &c1]);
        assert!(take(&mut b, &i, now).is_none(), "one chunk to come: wait");
        assert_eq!(b.chunk("x", &c1, now), Kept::Added(false));
        let got = take(&mut b, &i, now).unwrap().unwrap().unwrap();
        assert_eq!(got, [c0, c1].concat());
        assert_eq!(b.counts(), Counts::default());
        // Taken once: a second claim downloads.
        assert!(take(&mut b, &i, now).unwrap().is_none());
    }

    #[test]
    fn a_start_in_the_middle_or_a_changed_chunk_fails_the_check() {
        let now = Instant::now();
        let mut b = Buffers::new(1 << 20);
        let (c0, c1, c2) = (chunk(1, 100), chunk(2, 100), chunk(3, 50));
        // Chunk 0 was stored before the consumer started.
        b.chunk("x", &c1, now);
        b.chunk("x", &c2, now);
        b.done("x");
        let i = info("x", &[&c0, &c1, &c2]);
        let taken = take(&mut b, &i, now).unwrap().unwrap();
        assert!(taken.unwrap_err().contains("chunks"));
        // Same size and count, other bytes: the digest tells.
        b.chunk("y", &chunk(9, 100), now);
        let i = info("y", &[&c0]);
        let taken = take(&mut b, &i, now).unwrap().unwrap();
        assert!(taken.unwrap_err().contains("digest"));
    }

    #[test]
    fn an_upload_cut_short_is_given_up_then_swept() {
        let t0 = Instant::now();
        let mut b = Buffers::new(1 << 20);
        let (c0, c1) = (chunk(1, 100), chunk(2, 100));
        b.chunk("x", &c0, t0);
        let i = info("x", &[&c0, &c1]);
        assert!(take(&mut b, &i, t0 + CLAIM_STALL / 2).is_none());
        // No chunk for CLAIM_STALL: the claim downloads instead.
        assert!(take(&mut b, &i, t0 + CLAIM_STALL).unwrap().is_none());
        // Its late chunks are not kept again.
        assert_eq!(b.chunk("x", &c1, t0), Kept::Ignored);
        // Nobody claims "y": it is dropped after UNCLAIMED.
        b.chunk("y", &c0, t0);
        assert_eq!(b.sweep(t0 + UNCLAIMED / 2), 0);
        assert_eq!(b.sweep(t0 + UNCLAIMED), 1);
        assert_eq!(b.counts(), Counts::default());
    }

    #[test]
    fn own_chunks_are_not_kept() {
        let now = Instant::now();
        let mut b = Buffers::new(1 << 20);
        let mine = chunk(7, 100);
        b.own(mine[..NONCE_LEN].try_into().unwrap());
        assert_eq!(b.chunk("x", &mine, now), Kept::Own);
        assert_eq!(b.chunk("x", &chunk(8, 100), now), Kept::Ignored);
        assert_eq!(b.counts(), Counts::default());
    }

    #[test]
    fn a_max_size_clip_in_the_first_version_s_chunks_fits_one_object() {
        let max = 64u64 << 20;
        let b = Buffers::new(max);
        let old = Shape::new(max, FIRST_CHUNK as u32, max).unwrap();
        let new = Shape::new(max, crate::blob::CHUNK as u32, max).unwrap();
        assert!(old.sealed_len() > new.sealed_len());
        assert_eq!(b.per_object as u64, old.sealed_len());
    }

    #[test]
    fn memory_is_capped_per_object_and_in_all() {
        let t0 = Instant::now();
        // Clips of at most 1000 bytes: 1040 sealed per object, twice that
        // plus OBJECT_COST each in all.
        let mut b = Buffers::new(1000);
        assert_eq!(b.per_object, 1000 + OVERHEAD);
        assert_eq!(b.chunk("big", &chunk(1, 1000), t0), Kept::Added(true));
        assert_eq!(b.chunk("big", &chunk(1, 100), t0), Kept::Dropped);
        assert_eq!(b.counts().bytes, 0);
        let later = |n: u64| t0 + Duration::from_millis(n);
        b.chunk("a", &chunk(1, 1000), later(1));
        b.chunk("b", &chunk(2, 1000), later(2));
        assert_eq!(b.counts().bytes, 2 * (1000 + OBJECT_COST) as u64);
        // A third object pushes out the oldest, never more than the cap.
        b.chunk("c", &chunk(3, 1000), later(3));
        assert_eq!(
            b.counts(),
            Counts {
                objects: 2,
                bytes: 2 * (1000 + OBJECT_COST) as u64
            }
        );
        assert_eq!(
            b.chunk("a", &chunk(1, 10 + OVERHEAD), later(4)),
            Kept::Ignored
        );
        let i = info("b", &[&chunk(2, 1000)]);
        assert!(take(&mut b, &i, later(5)).unwrap().unwrap().is_ok());
    }

    #[test]
    fn hostile_chunks_under_fresh_nuids_stay_bounded() {
        let t0 = Instant::now();
        let mut b = Buffers::new(64 << 20);
        // Chunks that cannot be ours make no entry at all.
        assert_eq!(b.chunk("empty", &[], t0), Kept::Refused);
        assert_eq!(b.chunk("tiny", &chunk(1, 1), t0), Kept::Refused);
        assert_eq!(b.chunk("bare", &chunk(1, OVERHEAD), t0), Kept::Refused);
        assert_eq!(
            b.chunk("huge", &chunk(1, SEALED_CHUNK + 1), t0),
            Kept::Refused
        );
        assert_eq!(b.counts(), Counts::default());
        // The smallest chunk that could be ours, under 100k fresh nuids:
        // the count of objects is capped, and so are their bytes with
        // their fixed cost.
        let small = chunk(1, OVERHEAD + 1);
        for n in 0..100_000u64 {
            let at = t0 + Duration::from_micros(n);
            assert_eq!(b.chunk(&n.to_string(), &small, at), Kept::Added(true));
            assert!(b.objects.len() <= MAX_OBJECTS);
        }
        assert_eq!(
            b.counts(),
            Counts {
                objects: MAX_OBJECTS as u64,
                bytes: (MAX_OBJECTS * (small.len() + OBJECT_COST)) as u64
            }
        );
        // The newest are the ones kept.
        assert!(b.objects.contains_key("99999"));
        assert!(!b.objects.contains_key("0"));
    }

    #[test]
    fn a_claim_that_finds_nothing_keeps_nothing_of_that_object_later() {
        let now = Instant::now();
        let mut b = Buffers::new(1 << 20);
        let c0 = chunk(1, 100);
        let i = info("x", &[&c0]);
        // The follower got there first (the prefetcher lags): download.
        assert!(take(&mut b, &i, now).unwrap().is_none());
        assert_eq!(b.chunk("x", &c0, now), Kept::Ignored);
        assert_eq!(b.counts(), Counts::default());
    }

    #[test]
    fn a_claim_past_its_deadline_downloads_even_while_chunks_trickle_in() {
        let now = Instant::now();
        let mut b = Buffers::new(1 << 20);
        let (c0, c1) = (chunk(1, 100), chunk(2, 100));
        b.chunk("x", &c0, now);
        let i = info("x", &[&c0, &c1]);
        // A chunk just came, so by inactivity alone it would wait.
        assert!(matches!(b.take(&i, now, false), Take::Wait));
        assert!(matches!(b.take(&i, now, true), Take::Download));
        assert_eq!(b.chunk("x", &c1, now), Kept::Ignored);
        assert_eq!(b.counts(), Counts::default());
    }

    #[test]
    fn prefetch_runs_only_where_every_type_crosses() {
        let settings =
            |types: &[&str]| -> Vec<String> { types.iter().map(|t| (*t).to_owned()).collect() };
        assert!(enabled(&settings(&["*"])));
        assert!(enabled(&settings(&["text/*", "*/*"])));
        assert!(!enabled(&settings(&["text/*"])));
        assert!(!enabled(&settings(&["text/*", "image/png"])));
    }
}
