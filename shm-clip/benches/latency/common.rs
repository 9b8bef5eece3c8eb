//! Pieces shared by the writer (the parent) and the readers (its children):
//! the clock, CPU pinning, payloads, the ack protocol and the message queue
//! handle used by the floor.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;

use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, MqAttr, MqdT, mq_close, mq_open, mq_unlink};
use nix::sched::{CpuSet, sched_setaffinity};
use nix::sys::stat::Mode;
use nix::time::{ClockId, clock_gettime};
use nix::unistd::Pid;

/// The environment variable that turns a re-executed bench into a reader.
pub const ROLE_VAR: &str = "SHM_CLIP_BENCH_ROLE";
/// The MIME type of every benchmark clip.
pub const MIME: &str = "application/octet-stream";
/// Bytes at the start of every payload that carry the iteration number, so
/// that every copy is new content (the board de-duplicates repeats) and the
/// reader can tell which copy it got.
pub const STAMP: usize = 8;

/// `CLOCK_MONOTONIC` in nanoseconds. It is one clock for the whole machine
/// (unlike `Instant`, whose values mean nothing to another process), so a
/// writer's timestamp and a reader's can be subtracted.
pub fn now_ns() -> u64 {
    let t = clock_gettime(ClockId::CLOCK_MONOTONIC).expect("CLOCK_MONOTONIC is always there");
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

/// Pins the calling process to one CPU.
pub fn pin_to(cpu: usize) {
    let mut set = CpuSet::new();
    set.set(cpu).expect("CPU number within CpuSet");
    sched_setaffinity(Pid::from_raw(0), &set)
        .unwrap_or_else(|e| panic!("sched_setaffinity to CPU {cpu}: {e}"));
}

/// Deterministic pseudo-random payload bytes (xorshift64*), identical in
/// every process for the same `len` and `seed`.
pub fn base_payload(len: usize, seed: u64) -> Vec<u8> {
    assert!(len >= STAMP, "payloads carry an {STAMP}-byte stamp");
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len.next_multiple_of(8));
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Writes iteration `iter` into the payload's stamp.
pub fn stamp(payload: &mut [u8], iter: u64) {
    payload[..STAMP].copy_from_slice(&iter.to_le_bytes());
}

/// What a reader reports after each handoff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckCode {
    /// Set up and about to block for the first handoff.
    Ready,
    /// Got the expected bytes; `t1` is when the copy-out finished.
    Ok,
    /// Got bytes other than those written, or failed; details on stderr.
    Failed,
}

/// A reader's report: 16 bytes, `t1` then the code.
#[derive(Clone, Copy, Debug)]
pub struct Ack {
    pub t1: u64,
    pub code: AckCode,
}

impl Ack {
    pub fn write_to(self, out: &mut File) {
        let code: u64 = match self.code {
            AckCode::Ready => 1,
            AckCode::Ok => 2,
            AckCode::Failed => 3,
        };
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.t1.to_ne_bytes());
        b[8..].copy_from_slice(&code.to_ne_bytes());
        out.write_all(&b).expect("writing an ack to the parent");
    }

    pub fn read_from(input: &mut impl Read) -> std::io::Result<Ack> {
        let mut b = [0u8; 16];
        input.read_exact(&mut b)?;
        let t1 = u64::from_ne_bytes(b[..8].try_into().expect("8 bytes"));
        let code = match u64::from_ne_bytes(b[8..].try_into().expect("8 bytes")) {
            1 => AckCode::Ready,
            2 => AckCode::Ok,
            _ => AckCode::Failed,
        };
        Ok(Ack { t1, code })
    }
}

/// This process's stdout as an unbuffered file, for acks.
pub fn raw_stdout() -> File {
    File::from(
        std::io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .expect("dup stdout"),
    )
}

/// The floor's queue geometry, as in the brief: 32-byte messages, depth 4.
const FLOOR_MSG_SIZE: i64 = 32;
const FLOOR_MSG_DEPTH: i64 = 4;

/// A POSIX message queue descriptor that closes itself (nix's `MqdT` does
/// not), and unlinks the queue if this handle created it.
#[derive(Debug)]
pub struct Queue {
    mq: Option<MqdT>,
    name: String,
    owner: bool,
}

impl Queue {
    /// Creates queue `name` for writing (replacing a stale one).
    pub fn create_for_send(name: &str) -> Result<Queue, Errno> {
        Self::create(name, MQ_OFlag::O_WRONLY)
    }

    /// Creates queue `name` (replacing a stale one), opened with `flags`.
    pub fn create(name: &str, flags: MQ_OFlag) -> Result<Queue, Errno> {
        let _ = mq_unlink(name);
        let attr = MqAttr::new(0, FLOOR_MSG_DEPTH, FLOOR_MSG_SIZE, 0);
        let mq = mq_open(
            name,
            MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | flags,
            Mode::S_IRUSR | Mode::S_IWUSR,
            Some(&attr),
        )?;
        Ok(Queue {
            mq: Some(mq),
            name: name.to_owned(),
            owner: true,
        })
    }

    /// Opens an existing queue for blocking reads.
    pub fn open_for_receive(name: &str) -> Result<Queue, Errno> {
        let mq = mq_open(name, MQ_OFlag::O_RDONLY, Mode::empty(), None)?;
        Ok(Queue {
            mq: Some(mq),
            name: name.to_owned(),
            owner: false,
        })
    }

    pub fn get(&self) -> &MqdT {
        self.mq.as_ref().expect("present until drop")
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        if let Some(mq) = self.mq.take() {
            let _ = mq_close(mq);
        }
        if self.owner {
            let _ = mq_unlink(self.name.as_str());
        }
    }
}

/// The scheduler state letter of `pid` (`R`, `S`, `D`, ...), from
/// `/proc/PID/stat`; `None` once the process is gone.
pub fn process_state(pid: u32) -> Option<u8> {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain anything; the state follows the last ')'.
    let close = stat.iter().rposition(|&c| c == b')')?;
    stat.get(close + 2).copied()
}
