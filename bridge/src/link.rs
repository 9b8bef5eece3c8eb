//! One bridged board's shared context: settings, names, cipher, the local
//! board, the JetStream handles, the persisted state and the status file.
//! The publisher and the follower each hold an `Arc<Link>`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_nats::jetstream::{self, object_store::ObjectStore, stream::Stream};
use tokio::sync::OnceCell;

use crate::config::Settings;
use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::local::Local;
use crate::naming::Names;
use crate::prefetch::Prefetch;
use crate::state::State;
use crate::status::BridgeStatus;

/// The duplicate window of a stream: a retried publish within it, with the
/// same `Nats-Msg-Id` (the clip id), is stored once.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// How long the persister lets changes gather before it writes the state
/// and status files. Writing both right after every clip, on the cores
/// the clip's receivers need at that moment, took 16 B clips from 0.28 to
/// 0.37 ms at p50 and from 0.7 to 3-5 ms at p99 (BENCHMARKS.md, "Bridge",
/// session 4). A bridge killed within this time replays the last
/// clips from the stream, which lands them as the entries they already are
/// (the clip id), and republishes the last commits, which the stream's
/// duplicate window drops (`Nats-Msg-Id`): no duplicate, no gap.
pub const PERSIST_DELAY: Duration = Duration::from_millis(20);

/// One board's bridge.
pub struct Link {
    pub settings: Settings,
    pub names: Names,
    pub envelope: Envelope,
    pub local: std::sync::Arc<Local>,
    pub client: async_nats::Client,
    pub js: jetstream::Context,
    pub state: Mutex<State>,
    pub state_path: PathBuf,
    pub status: Mutex<BridgeStatus>,
    /// Origin nodes seen on the stream.
    pub nodes: Mutex<BTreeSet<[u8; 16]>>,
    /// The stream message being retried, and how often it was.
    pub retries: Mutex<(u64, u32)>,
    /// The bucket's objects kept before their manifests came.
    pub prefetch: std::sync::Arc<Prefetch>,
    /// Something to persist (state or status) since the persister last
    /// took it.
    dirty: AtomicBool,
    /// Wakes the persister when `dirty` becomes set.
    wake_persister: tokio::sync::Notify,
    stream: OnceCell<Stream>,
    bucket: OnceCell<ObjectStore>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("board", self.local.board.name())
            .field("stream", &self.names.stream)
            .finish_non_exhaustive()
    }
}

impl Link {
    pub fn new(
        settings: Settings,
        names: Names,
        envelope: Envelope,
        local: std::sync::Arc<Local>,
        client: async_nats::Client,
        state: State,
        state_path: PathBuf,
    ) -> Link {
        let js = jetstream::ContextBuilder::new()
            .timeout(Duration::from_secs(5))
            .build(client.clone());
        let status = BridgeStatus {
            board: local.board.name().to_string(),
            name: settings.name.clone(),
            pid: std::process::id(),
            servers: settings.servers.clone(),
            stream: names.stream.clone(),
            applied_seq: state.applied_seq,
            ..BridgeStatus::default()
        };
        let mut nodes = BTreeSet::new();
        nodes.insert(local.node.0);
        Link {
            prefetch: std::sync::Arc::new(Prefetch::new(settings.max_clip_size)),
            settings,
            names,
            envelope,
            local,
            client,
            js,
            state: Mutex::new(state),
            state_path,
            status: Mutex::new(status),
            nodes: Mutex::new(nodes),
            retries: Mutex::new((0, 0)),
            dirty: AtomicBool::new(false),
            wake_persister: tokio::sync::Notify::new(),
            stream: OnceCell::new(),
            bucket: OnceCell::new(),
        }
    }

    /// The board's stream, created on first use with its limits.
    pub async fn stream(&self) -> Result<&Stream> {
        self.stream
            .get_or_try_init(|| async {
                let depth = self.local.board.status().map_or(200, |s| s.max_entries);
                let config = jetstream::stream::Config {
                    name: self.names.stream.clone(),
                    subjects: vec![self.names.subject.clone()],
                    max_messages: depth as i64,
                    max_bytes: self.settings.stream_max_bytes as i64,
                    duplicate_window: DUPLICATE_WINDOW,
                    num_replicas: self.settings.replicas,
                    discard: jetstream::stream::DiscardPolicy::Old,
                    storage: jetstream::stream::StorageType::File,
                    ..Default::default()
                };
                self.js
                    .get_or_create_stream(config)
                    .await
                    .map_err(|e| Error::JetStream {
                        what: format!("stream {}", self.names.stream),
                        message: e.to_string(),
                    })
            })
            .await
    }

    /// The board's Object Store bucket, created on first use with its TTL.
    pub async fn bucket(&self) -> Result<&ObjectStore> {
        self.bucket
            .get_or_try_init(|| async {
                if let Ok(store) = self.js.get_object_store(&self.names.bucket).await {
                    return Ok(store);
                }
                self.js
                    .create_object_store(jetstream::object_store::Config {
                        bucket: self.names.bucket.clone(),
                        max_age: self.settings.blob_ttl,
                        max_bytes: -1,
                        num_replicas: self.settings.replicas,
                        ..Default::default()
                    })
                    .await
                    .map_err(|e| Error::JetStream {
                        what: format!("object store {}", self.names.bucket),
                        message: e.to_string(),
                    })
            })
            .await
    }

    /// Asks for the state to be persisted (after every applied or published
    /// commit). The writing happens on the persister task, off the path of
    /// the next commit, and changes made meanwhile are written together.
    pub fn save_state(&self) {
        self.mark_dirty();
    }

    /// Wakes the persister only when nothing was waiting to be written:
    /// a clip makes three or four changes on each side, and each woke a
    /// worker thread that then only went back to sleep, on the cores the
    /// clip's receivers need (BENCHMARKS.md, "Bridge", session 10).
    fn mark_dirty(&self) {
        if !self.dirty.swap(true, Ordering::AcqRel) {
            self.wake_persister.notify_one();
        }
    }

    /// Writes the status file, then the state file, now. The status is
    /// copied first: the state is always at least as new as the status says
    /// (it is updated before the status), so a reader of the status can
    /// rely on the state having been written.
    pub fn persist_now(&self) {
        let status = self.status.lock().expect("status lock").clone();
        let state = self.state.lock().expect("state lock").clone();
        if let Err(e) = state.save(&self.state_path) {
            tracing::error!(error = %e, "cannot save the bridge state");
        }
        if let Err(e) = status.save() {
            tracing::debug!(error = %e, "cannot write the status file");
        }
    }

    /// The persister: writes the files whenever something changed, at most
    /// once per [`PERSIST_DELAY`], and never right away: a clip's own
    /// changes (published, applied, the status counters) are written
    /// together after it, not on the cores its receivers need right then.
    pub async fn persist_loop(self: std::sync::Arc<Self>) {
        loop {
            self.wake_persister.notified().await;
            tokio::time::sleep(PERSIST_DELAY).await;
            // Cleared before the files are copied: a change made from here
            // on is written by the next round.
            self.dirty.store(false, Ordering::Release);
            let link = self.clone();
            let _ = tokio::task::spawn_blocking(move || link.persist_now()).await;
        }
    }

    /// Changes the status; the persister rewrites its file.
    pub fn update_status(&self, f: impl FnOnce(&mut BridgeStatus)) {
        {
            let mut status = self.status.lock().expect("status lock");
            f(&mut status);
            status.connected = matches!(
                self.client.connection_state(),
                async_nats::connection::State::Connected
            );
            if status.connected {
                status.server = self.client.server_info().host;
            }
            status.nodes = self.nodes.lock().expect("nodes lock").len() as u64;
            status.lag = status.stream_last_seq.saturating_sub(status.applied_seq);
            status.updated_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
        }
        self.mark_dirty();
    }
}
