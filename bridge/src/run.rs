//! `shm-clip-bridge run`: one tokio runtime, one connection, and per board a
//! watcher, a publisher and a follower task.

use std::sync::Arc;

use futures_util::FutureExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinSet;

use crate::config::Settings;
use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::key::BoardKey;
use crate::link::Link;
use crate::local::Local;
use crate::naming::{Names, hex};
use crate::state::{State, state_path};
use crate::{follow, net, publish};

/// The runtime's async workers. One: a clip's way is a chain of tasks
/// (the connection's reader, the consumer, the follower; the watcher, the
/// publisher, the connection's writer), each woken by the one before, and
/// on one worker each runs next on the same thread. With two, the second
/// worker was woken to take some of them over, a wake-up of an idle CPU on
/// every clip: 16 B ratio to the floor 1.53 / 1.56 / 1.49 with two, 1.44 /
/// 1.43 / 1.43 with one, 30 MB unchanged (BENCHMARKS.md, "Bridge", session
/// 10). The long board calls leave the worker (`local::blocking`), and the
/// runtime gives its tasks another thread meanwhile.
const WORKERS: usize = 1;

/// Runs until SIGINT or SIGTERM, or until a board is destroyed.
pub fn run(settings: Settings) -> Result<()> {
    let key = BoardKey::load(&settings.key_file)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .thread_name("bridge-io")
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            path: "tokio runtime".into(),
            source,
        })?;
    let outcome = runtime.block_on(serve(settings, key));
    // A board call in `local::blocking` may still wait for the board's
    // lock: do not wait for it.
    runtime.shutdown_background();
    outcome
}

async fn serve(settings: Settings, key: BoardKey) -> Result<()> {
    let client = net::connect(&settings).await?;
    let mut tasks: JoinSet<Result<()>> = JoinSet::new();
    let mut links = Vec::new();
    for spec in &settings.boards {
        let board = &spec.local;
        let local = Arc::new(Local::open(board)?);
        let names = Names::new(&key, &spec.shared);
        let path = state_path(board)?;
        let mut state = State::load(&path)?;
        let node = hex(&local.node.0);
        if state.stream != names.stream {
            // Another key or a first start: this stream's history is new to us.
            state.stream.clone_from(&names.stream);
            state.applied_seq = 0;
            state.origin_seqs.clear();
            state.outstanding.clear();
        }
        if state.node != node {
            // A first start or a recreated board: what it holds now is not
            // published (a fresh board's restored history is not news).
            state.node = node;
            state.published_board_seq = local.board.seq();
            state.outstanding.clear();
        }
        let applied = state.applied_seq;
        state.outstanding.retain(|o| o.stream > applied);
        local.resume_outstanding(&state.outstanding);
        state.save(&path)?;
        let start_after = state.published_board_seq;
        tracing::info!(board = %board, stream = %names.stream, applied = state.applied_seq, "bridging");
        let link = Arc::new(Link::new(
            settings.clone(),
            names,
            Envelope::new(&key),
            local.clone(),
            client.clone(),
            state,
            path,
        ));
        link.update_status(|_| {});
        link.persist_now();
        tasks.spawn(link.clone().persist_loop().map(|()| Ok(())));
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        // Taken up before the follower can write to the board.
        let watcher = crate::watch::Watcher::start(local, start_after)?;
        tasks.spawn(watcher.run(tx));
        let publisher = link.clone();
        tasks.spawn(async move {
            publish::run(publisher, rx).await;
            Ok(())
        });
        let follower = link.clone();
        tasks.spawn(async move {
            follow::run(follower).await;
            Ok(())
        });
        // Off where allow_types refuses some type: a receiver never
        // fetches a blob it refuses (README), and an object's type is known
        // only from its manifest.
        if crate::prefetch::enabled(&link.settings.allow_types) {
            let prefetcher = link.clone();
            tasks.spawn(async move {
                crate::prefetch::run(prefetcher).await;
                Ok(())
            });
        }
        links.push(link);
    }
    let mut term = signal(SignalKind::terminate()).map_err(|source| Error::Io {
        path: "SIGTERM handler".into(),
        source,
    })?;
    let outcome = tokio::select! {
        _ = tokio::signal::ctrl_c() => Ok(()),
        _ = term.recv() => Ok(()),
        Some(done) = tasks.join_next() => match done {
            Ok(result) => result,
            Err(e) => Err(Error::Io { path: "bridge task".into(), source: std::io::Error::other(e) }),
        },
    };
    for link in &links {
        link.persist_now();
        let _ = std::fs::remove_file(crate::status::status_path(
            &link.status.lock().expect("status lock").board,
        ));
    }
    outcome
}
