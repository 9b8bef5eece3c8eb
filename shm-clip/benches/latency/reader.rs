//! The reader side: what a re-executed bench process does. It pins itself,
//! sets up, says it is ready, then for each handoff blocks until woken,
//! copies the payload out, takes `t1`, verifies every byte and acks.

use std::fs::File;
use std::io::Read;
use std::os::unix::net::UnixStream;

use nix::mqueue::mq_receive;
use shm_clip::raw::RawRegion;
use shm_clip::{Board, BoardName, Origin, OriginKind};

use crate::common::{
    Ack, AckCode, MIME, Queue, STAMP, base_payload, now_ns, pin_to, raw_stdout, stamp,
};

/// Everything a reader is told through its environment.
#[derive(Debug)]
pub struct ReaderConfig {
    pub method: String,
    /// Board, region or queue name, depending on the method.
    pub name: String,
    pub queue: String,
    pub len: usize,
    pub total: u64,
    pub seed: u64,
    pub cpu: Option<usize>,
}

pub const VAR_METHOD: &str = "SHM_CLIP_BENCH_METHOD";
pub const VAR_NAME: &str = "SHM_CLIP_BENCH_NAME";
pub const VAR_QUEUE: &str = "SHM_CLIP_BENCH_QUEUE";
pub const VAR_LEN: &str = "SHM_CLIP_BENCH_LEN";
pub const VAR_TOTAL: &str = "SHM_CLIP_BENCH_TOTAL";
pub const VAR_SEED: &str = "SHM_CLIP_BENCH_SEED";
pub const VAR_CPU: &str = "SHM_CLIP_BENCH_CPU";

impl ReaderConfig {
    fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("reader needs {k}"));
        let num = |k: &str| -> u64 {
            var(k)
                .parse()
                .unwrap_or_else(|e| panic!("{k} is not a number: {e}"))
        };
        ReaderConfig {
            method: var(VAR_METHOD),
            name: std::env::var(VAR_NAME).unwrap_or_default(),
            queue: std::env::var(VAR_QUEUE).unwrap_or_default(),
            len: num(VAR_LEN) as usize,
            total: num(VAR_TOTAL),
            seed: num(VAR_SEED),
            cpu: std::env::var(VAR_CPU).ok().and_then(|c| c.parse().ok()),
        }
    }
}

/// Entry point of a reader process.
pub fn main() {
    let cfg = ReaderConfig::from_env();
    if let Some(cpu) = cfg.cpu {
        pin_to(cpu);
    }
    let mut acks = raw_stdout();
    let result = match cfg.method.as_str() {
        "shm-clip" => shm_clip_reader(&cfg, &mut acks),
        "floor" => floor_reader(&cfg, &mut acks),
        "socket" => socket_reader(&cfg, &mut acks),
        other => Err(format!("unknown method {other}")),
    };
    if let Err(e) = result {
        eprintln!(
            "latency reader {} ({}): {e}",
            std::process::id(),
            cfg.method
        );
        Ack {
            t1: 0,
            code: AckCode::Failed,
        }
        .write_to(&mut acks);
        std::process::exit(1);
    }
}

fn ok(acks: &mut File, t1: u64) {
    Ack {
        t1,
        code: AckCode::Ok,
    }
    .write_to(acks);
}

fn ready(acks: &mut File) {
    Ack {
        t1: 0,
        code: AckCode::Ready,
    }
    .write_to(acks);
}

/// The library under test: block in `Subscription::recv`, then
/// `paste_into()` (which verifies every checksum) into the clip of the last
/// round, as the floor's reader copies into its reused buffer, then compare
/// every byte.
fn shm_clip_reader(cfg: &ReaderConfig, acks: &mut File) -> Result<(), String> {
    let name = BoardName::new(&cfg.name).map_err(|e| e.to_string())?;
    let board = Board::open_with(&name, Origin::this_process(OriginKind::Unknown), None)
        .map_err(|e| format!("opening board: {e}"))?;
    let mut sub = board.subscribe().map_err(|e| format!("subscribing: {e}"))?;
    let mut expected = base_payload(cfg.len, cfg.seed);
    let mut seen = board.seq();
    let mut clip = shm_clip::Clip::default();
    ready(acks);
    for iter in 0..cfg.total {
        // Other subscribers coming and going also wake the mailbox, with an
        // unchanged seq; only a new seq means a new clip.
        loop {
            let note = sub.recv().map_err(|e| format!("recv: {e}"))?;
            if note.seq > seen {
                seen = note.seq;
                break;
            }
        }
        board
            .paste_into(&mut clip)
            .map_err(|e| format!("paste: {e}"))?;
        let t1 = now_ns();
        stamp(&mut expected, iter);
        let rep = match clip.reps.as_slice() {
            [rep] if rep.mime == MIME => rep,
            _ => return Err(format!("iteration {iter}: unexpected clip {clip:?}")),
        };
        if rep.data != expected {
            return Err(format!(
                "iteration {iter}: pasted {} bytes stamped {:?} differ from those copied",
                rep.data.len(),
                rep.data.get(..STAMP)
            ));
        }
        ok(acks, t1);
    }
    Ok(())
}

/// The floor: block in `mq_receive`, read the length, copy the payload out
/// of the raw region into a reused buffer. No lock, no checksum.
fn floor_reader(cfg: &ReaderConfig, acks: &mut File) -> Result<(), String> {
    // The parent writes the region only before it sends an iteration's
    // message, and the next iteration only after every reader has acked this
    // one; we copy out only between that mq_receive and our ack.
    let region = RawRegion::open(&cfg.name, STAMP + cfg.len);
    let region = region.map_err(|e| e.to_string())?;
    let queue = Queue::open_for_receive(&cfg.queue).map_err(|e| format!("mq_open: {e}"))?;
    let mut expected = base_payload(cfg.len, cfg.seed);
    // Touched up front, so the copy-out never page-faults.
    let mut buf = vec![1u8; cfg.len];
    let mut msg = [0u8; 32];
    ready(acks);
    for iter in 0..cfg.total {
        let mut prio = 0;
        let n = mq_receive(queue.get(), &mut msg, &mut prio).map_err(|e| e.to_string())?;
        let mut len = [0u8; 8];
        region.read(0, &mut len).ok_or("length out of bounds")?;
        let len = u64::from_ne_bytes(len) as usize;
        let out = buf.get_mut(..len).ok_or("length larger than the payload")?;
        region.read(STAMP, out).ok_or("payload out of bounds")?;
        let t1 = now_ns();
        stamp(&mut expected, iter);
        if n != 8 || msg[..8] != iter.to_ne_bytes() || buf[..len] != expected[..] {
            return Err(format!("iteration {iter}: bytes differ from those written"));
        }
        ok(acks, t1);
    }
    Ok(())
}

/// A Unix socket: block in `read`, read the length prefix and payload into a
/// reused buffer.
fn socket_reader(cfg: &ReaderConfig, acks: &mut File) -> Result<(), String> {
    use std::os::fd::AsFd;
    let stdin = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| e.to_string())?;
    let mut sock = UnixStream::from(stdin);
    let mut expected = base_payload(cfg.len, cfg.seed);
    let mut buf = vec![1u8; STAMP + cfg.len];
    ready(acks);
    for iter in 0..cfg.total {
        sock.read_exact(&mut buf).map_err(|e| e.to_string())?;
        let t1 = now_ns();
        stamp(&mut expected, iter);
        if buf[..STAMP] != (cfg.len as u64).to_ne_bytes() || buf[STAMP..] != expected[..] {
            return Err(format!("iteration {iter}: bytes differ from those written"));
        }
        ok(acks, t1);
    }
    Ok(())
}
