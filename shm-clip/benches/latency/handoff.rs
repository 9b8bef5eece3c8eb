//! The writer side of a handoff scenario: set up one method, spawn its
//! readers, then for every repeat wait until each reader is asleep, take
//! `t0`, publish, and collect each reader's `t1`.

use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use nix::mqueue::mq_send;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use shm_clip::raw::RawRegion;
use shm_clip::{Board, BoardName, Clip, CreateOptions, Origin, OriginKind};

use crate::common::{
    Ack, AckCode, MIME, Queue, ROLE_VAR, STAMP, base_payload, now_ns, process_state, stamp,
};
use crate::reader::{VAR_CPU, VAR_LEN, VAR_METHOD, VAR_NAME, VAR_QUEUE, VAR_SEED, VAR_TOTAL};

/// How long any single wait may take before the bench fails instead of hanging.
const WATCHDOG: Duration = Duration::from_secs(20);

/// The board size used for every shm-clip run: room for three 32 MiB clips.
/// The history depth is the library default, so small clips run with a full
/// 200-entry history, as a long-lived board would.
pub const BOARD: CreateOptions = CreateOptions {
    capacity: 128 << 20,
    depth: 200,
};

/// The ways a payload can get from the writer to its readers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `Board::copy` → mailbox → `Subscription::recv` + `Board::paste_into`.
    ShmClip,
    /// Raw region + `mq_send`/`mq_receive`, no lock, no checksum.
    Floor,
    /// A `UnixStream` pair per reader.
    Socket,
    /// `copy_from_slice` into a reused buffer, in the writer's own process.
    Memcpy,
}

impl Method {
    pub const ALL: [Method; 4] = [
        Method::ShmClip,
        Method::Floor,
        Method::Socket,
        Method::Memcpy,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Method::ShmClip => "shm-clip",
            Method::Floor => "floor: shm+mq",
            Method::Socket => "unix socket",
            Method::Memcpy => "memcpy (1 proc)",
        }
    }

    fn env_name(self) -> &'static str {
        match self {
            Method::ShmClip => "shm-clip",
            Method::Floor => "floor",
            Method::Socket => "socket",
            Method::Memcpy => "memcpy",
        }
    }
}

/// One handoff experiment.
#[derive(Clone, Copy, Debug)]
pub struct Handoff {
    pub method: Method,
    pub len: usize,
    pub readers: usize,
    pub warmup: u64,
    pub repeats: u64,
    /// Where the readers run; the writer (this process) is on CPU 0.
    pub reader_cpu: usize,
    /// History depth of the shm-clip board ([`BOARD`]'s unless overridden).
    pub depth: u32,
}

/// What one experiment measured.
#[derive(Debug)]
pub struct Outcome {
    /// One latency sample (ns) per measured repeat.
    pub samples: Vec<u64>,
    /// For shm-clip: board lock acquisitions and how many found it held,
    /// over the whole run (warm-up included).
    pub lock: Option<(u64, u64)>,
}

/// Runs `h`. Each sample runs from the writer's `t0` just before publishing
/// to the moment the last reader had the payload copied out.
pub fn run(h: &Handoff, tag: &str) -> Outcome {
    let seed = 0x5eed_0000 ^ h.len as u64;
    let payload = base_payload(h.len, seed);
    let name = format!("bench-lat-{}-{tag}", std::process::id());
    match h.method {
        Method::Memcpy => run_memcpy(h, payload),
        Method::ShmClip => run_shm_clip(h, seed, payload, &name),
        Method::Floor => run_floor(h, seed, payload, &name),
        Method::Socket => run_socket(h, seed, &payload),
    }
}

/// The repeat loop shared by the multi-process methods. `publish(iter)`
/// stamps the payload, takes `t0`, hands the payload over and returns `t0`.
fn drive(h: &Handoff, readers: &mut Readers, mut publish: impl FnMut(u64) -> u64) -> Vec<u64> {
    let mut samples = Vec::with_capacity(h.repeats as usize);
    for iter in 0..h.warmup + h.repeats {
        readers.wait_asleep();
        let t0 = publish(iter);
        let t1 = readers.collect();
        if iter >= h.warmup {
            samples.push(t1.saturating_sub(t0));
        }
    }
    samples
}

fn run_memcpy(h: &Handoff, mut payload: Vec<u8>) -> Outcome {
    let mut dst = vec![1u8; h.len];
    let mut samples = Vec::with_capacity(h.repeats as usize);
    for iter in 0..h.warmup + h.repeats {
        stamp(&mut payload, iter);
        let t0 = now_ns();
        for _ in 0..h.readers {
            dst.copy_from_slice(&payload);
            std::hint::black_box(&mut dst);
        }
        let t1 = now_ns();
        if iter >= h.warmup {
            samples.push(t1 - t0);
        }
    }
    Outcome {
        samples,
        lock: None,
    }
}

fn run_shm_clip(h: &Handoff, seed: u64, payload: Vec<u8>, name: &str) -> Outcome {
    // A long-lived board has been round its arena ring before: every page
    // is in the segment and mapped in each reader. The warm-up goes round it
    // once (with the readers attached), so that the measured copies are not
    // first-touch page faults of a fresh board.
    let record = (h.len as u64 + 128).next_multiple_of(8);
    let turn = BOARD.capacity / record + u64::from(h.depth);
    let h = &Handoff {
        warmup: h.warmup.max(turn),
        ..*h
    };
    let board = ScratchBoard::create_with(
        name,
        CreateOptions {
            depth: h.depth,
            ..BOARD
        },
    );
    let mut readers = Readers::spawn(h, seed, &|_| {
        (vec![(VAR_NAME, name.to_owned())], Stdio::null())
    });
    let mut clip = Clip::new(MIME, payload);
    let samples = drive(h, &mut readers, |iter| {
        stamp(&mut clip.reps[0].data, iter);
        let t0 = now_ns();
        let out = board.board.copy(&clip).expect("copy");
        assert!(!out.deduplicated, "every payload is new content");
        t0
    });
    readers.finish();
    let stats = board.board.status().expect("status").lock;
    Outcome {
        samples,
        lock: Some((stats.acquisitions, stats.contended)),
    }
}

fn run_floor(h: &Handoff, seed: u64, mut payload: Vec<u8>, name: &str) -> Outcome {
    let region_name = format!("/{name}");
    let region = RawRegion::create(&region_name, STAMP + h.len).expect("raw region");
    let queues: Vec<Queue> = (0..h.readers)
        .map(|i| Queue::create_for_send(&format!("/{name}.{i}")).expect("mq_open"))
        .collect();
    let mut readers = Readers::spawn(h, seed, &|i| {
        (
            vec![
                (VAR_NAME, region_name.clone()),
                (VAR_QUEUE, format!("/{name}.{i}")),
            ],
            Stdio::null(),
        )
    });
    let samples = drive(h, &mut readers, |iter| {
        stamp(&mut payload, iter);
        let t0 = now_ns();
        region
            .write(0, &(h.len as u64).to_ne_bytes())
            .expect("in bounds");
        region.write(STAMP, &payload).expect("in bounds");
        for q in &queues {
            mq_send(q.get(), &iter.to_ne_bytes(), 0).expect("mq_send");
        }
        t0
    });
    readers.finish();
    Outcome {
        samples,
        lock: None,
    }
}

fn run_socket(h: &Handoff, seed: u64, payload: &[u8]) -> Outcome {
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..h.readers {
        let (a, b) = UnixStream::pair().expect("socketpair");
        ours.push(a);
        theirs.push(Some(b));
    }
    let theirs = std::cell::RefCell::new(theirs);
    let mut readers = Readers::spawn(h, seed, &|i| {
        let sock = theirs.borrow_mut()[i]
            .take()
            .expect("one socket per reader");
        (Vec::new(), Stdio::from(OwnedFd::from(sock)))
    });
    // Length prefix and payload in one buffer: one write per reader.
    let mut framed = (h.len as u64).to_ne_bytes().to_vec();
    framed.extend_from_slice(payload);
    let samples = drive(h, &mut readers, |iter| {
        stamp(&mut framed[STAMP..], iter);
        let t0 = now_ns();
        for s in &mut ours {
            s.write_all(&framed).expect("socket write");
        }
        t0
    });
    readers.finish();
    Outcome {
        samples,
        lock: None,
    }
}

/// A board that is destroyed (with its mailboxes) when dropped.
pub struct ScratchBoard {
    pub board: Board,
    name: BoardName,
}

impl ScratchBoard {
    pub fn create(name: &str) -> Self {
        Self::create_with(name, BOARD)
    }

    pub fn create_with(name: &str, opts: CreateOptions) -> Self {
        let name = BoardName::new(name).expect("valid board name");
        let _ = Board::destroy(&name, true);
        let board = Board::open_with(&name, Origin::this_process(OriginKind::Cli), Some(opts))
            .expect("creating the bench board");
        ScratchBoard { board, name }
    }
}

impl Drop for ScratchBoard {
    fn drop(&mut self) {
        let _ = Board::destroy(&self.name, true);
    }
}

struct Reader {
    child: Child,
    acks: ChildStdout,
    pid: u32,
}

/// The reader processes of one experiment; killed if still running on drop.
struct Readers(Vec<Reader>);

impl Readers {
    fn spawn(
        h: &Handoff,
        seed: u64,
        extra: &dyn Fn(usize) -> (Vec<(&'static str, String)>, Stdio),
    ) -> Readers {
        let exe = std::env::current_exe().expect("current_exe");
        let mut readers = Readers(Vec::new());
        for i in 0..h.readers {
            let (vars, stdin) = extra(i);
            let mut cmd = Command::new(&exe);
            cmd.env(ROLE_VAR, "reader")
                .env(VAR_METHOD, h.method.env_name())
                .env(VAR_LEN, h.len.to_string())
                .env(VAR_TOTAL, (h.warmup + h.repeats).to_string())
                .env(VAR_SEED, seed.to_string())
                .env(VAR_CPU, h.reader_cpu.to_string())
                .stdin(stdin)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit());
            for (k, v) in vars {
                cmd.env(k, v);
            }
            let mut child = cmd.spawn().expect("spawning a reader");
            let acks = child.stdout.take().expect("piped stdout");
            let pid = child.id();
            readers.0.push(Reader { child, acks, pid });
        }
        for r in &mut readers.0 {
            let ack = read_ack(r);
            assert_eq!(ack.code, AckCode::Ready, "reader {} did not start", r.pid);
        }
        readers
    }

    /// Waits until every reader is blocked (state `S`), so that each
    /// handoff measures a real wake-up. On a shared core the sleep also
    /// hands the CPU to the readers so they can get there.
    fn wait_asleep(&self) {
        let start = Instant::now();
        for r in &self.0 {
            loop {
                match process_state(r.pid) {
                    Some(b'S') => break,
                    Some(_) => {}
                    None => panic!("reader {} is gone", r.pid),
                }
                assert!(
                    start.elapsed() < WATCHDOG,
                    "reader {} never went to sleep",
                    r.pid
                );
                std::thread::sleep(Duration::from_micros(20));
            }
        }
    }

    /// The latest `t1` over all readers.
    fn collect(&mut self) -> u64 {
        let mut last = 0;
        for r in &mut self.0 {
            let ack = read_ack(r);
            assert_eq!(
                ack.code,
                AckCode::Ok,
                "reader {} failed; see its message above",
                r.pid
            );
            last = last.max(ack.t1);
        }
        last
    }

    fn finish(mut self) {
        for r in &mut self.0 {
            let status = r.child.wait().expect("waiting for a reader");
            assert!(status.success(), "reader {} exited with {status}", r.pid);
        }
        self.0.clear();
    }
}

impl Drop for Readers {
    fn drop(&mut self) {
        for r in &mut self.0 {
            let _ = r.child.kill();
            let _ = r.child.wait();
        }
    }
}

/// Reads one ack, failing after [`WATCHDOG`] instead of hanging.
fn read_ack(r: &mut Reader) -> Ack {
    let timeout = PollTimeout::try_from(WATCHDOG.as_millis() as i32).expect("fits");
    let ready = {
        let mut fds = [PollFd::new(r.acks.as_fd(), PollFlags::POLLIN)];
        poll(&mut fds, timeout).expect("poll")
    };
    assert!(ready > 0, "reader {} sent nothing for {WATCHDOG:?}", r.pid);
    Ack::read_from(&mut r.acks).unwrap_or_else(|e| panic!("reader {} hung up: {e}", r.pid))
}
