//! In-process measurements that explain the handoff numbers: the cheapest
//! locked operation, and what `copy` and `paste` cost next to the primitives
//! they are built from (hashing, copying, allocating, zeroing).

use std::sync::Mutex;

use std::os::fd::AsFd;

use nix::mqueue::{MQ_OFlag, mq_receive, mq_send};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::resource::{UsageWho, getrusage};
use shm_clip::{Board, Clip, CreateOptions, Selector};
use std::hash::Hasher as _;

use twox_hash::XxHash3_64;

use crate::common::{MIME, Queue, base_payload, now_ns, stamp};
use crate::handoff::{BOARD, ScratchBoard};
use crate::stats::{Summary, gbps, ratio, size, us};

/// Runs `f` `warmup + n` times; `f` returns the nanoseconds it measured.
fn sample(warmup: u64, n: u64, f: impl FnMut(u64) -> u64) -> Summary {
    sample_faults(warmup, n, f).0
}

/// This process's minor page faults so far.
fn minor_faults() -> i64 {
    getrusage(UsageWho::RUSAGE_SELF).map_or(0, |u| u.minor_page_faults())
}

/// As [`sample`], plus the mean minor page faults per measured call (the
/// counter also sees whatever the loop does around `f`, which is little).
fn sample_faults(warmup: u64, n: u64, mut f: impl FnMut(u64) -> u64) -> (Summary, f64) {
    let mut samples = Vec::with_capacity(n as usize);
    let mut faults = 0;
    for i in 0..warmup + n {
        let before = minor_faults();
        let ns = f(i);
        if i >= warmup {
            faults += minor_faults() - before;
            samples.push(ns);
        }
    }
    (Summary::of(&mut samples), faults as f64 / n as f64)
}

/// Times one call of `f`.
fn timed<T>(f: impl FnOnce() -> T) -> u64 {
    let t0 = now_ns();
    let out = std::hint::black_box(f());
    let ns = now_ns() - t0;
    // Freeing what `f` returned is not part of its time.
    drop(out);
    ns
}

fn row(what: &str, s: &Summary, note: &str) {
    println!(
        "  {what:<48} {:>7} {:>9} {:>9} {:>9}  {note}",
        s.n,
        us(s.p50),
        us(s.p99),
        us(s.max)
    );
}

fn header(first: &str) {
    println!(
        "  {first:<48} {:>7} {:>9} {:>9} {:>9}",
        "n", "p50 µs", "p99 µs", "max µs"
    );
}

/// Lock acquisitions counted in the board header across `f`.
fn locks_taken(board: &Board, f: impl FnOnce()) -> u64 {
    let count = || board.status().expect("status").lock.acquisitions;
    // status() itself locks; measure its own share and take it out.
    let a = count();
    let b = count();
    f();
    let c = count();
    (c - b) - (b - a)
}

/// Scenario 3: the smallest locked operations on an uncontended board.
pub fn locked_ops(n: u64) {
    println!("\n== 3. uncontended locked operations (one process, CPU 0) ==");
    println!(
        "  The library has no public lock(); these are the cheapest public calls that take it."
    );
    header("operation");
    let one = ScratchBoard::create_with(
        &format!("bench-lat-{}-lock1", std::process::id()),
        CreateOptions {
            capacity: 1 << 20,
            depth: 200,
        },
    );
    one.board
        .copy(&Clip::new(MIME, vec![7u8; 16]))
        .expect("copy");
    let full = ScratchBoard::create(&format!("bench-lat-{}-lock200", std::process::id()));
    for i in 0..u64::from(BOARD.depth) {
        let mut data = vec![7u8; 16];
        stamp(&mut data, i);
        full.board.copy(&Clip::new(MIME, data)).expect("copy");
    }
    let warm = n / 10;
    let s = sample(warm, n, |_| timed(|| ()));
    row("timer overhead (two clock_gettime)", &s, "");
    let mutex = Mutex::new(0u64);
    let s = sample(warm, n, |_| {
        timed(|| *mutex.lock().expect("not poisoned") += 1)
    });
    row("std::sync::Mutex lock+unlock (reference)", &s, "");
    let s = sample(warm, n, |_| timed(|| one.board.seq()));
    row("Board::seq() (atomic load, no lock)", &s, "");
    let s = sample(warm, n, |_| timed(|| one.board.history().expect("history")));
    row(
        "Board::history(), 1-entry board",
        &s,
        "<- smallest locked op",
    );
    let s = sample(warm, n, |_| {
        timed(|| one.board.types(Selector::Current).expect("types"))
    });
    row("Board::types(Current), 1-entry board", &s, "");
    let s = sample(warm, n, |_| {
        timed(|| full.board.types(Selector::Current).expect("types"))
    });
    row("Board::types(Current), 200-entry board", &s, "");
    let s = sample(warm / 10, n / 10, |_| {
        timed(|| full.board.history().expect("history"))
    });
    row("Board::history(), 200-entry board", &s, "");
    syscalls(n, warm);
    let per_copy = locks_taken(&one.board, || {
        one.board
            .copy(&Clip::new(MIME, vec![9u8; 16]))
            .expect("copy");
    });
    let per_paste = locks_taken(&one.board, || {
        one.board.paste().expect("paste");
    });
    println!("  lock acquisitions: {per_copy} per copy(), {per_paste} per paste()");
}

fn faults(per_op: f64) -> String {
    format!("{per_op:.0} page faults/op")
}

/// What the mailbox path costs per wake-up beyond the floor's one blocking
/// `mq_receive`: `Subscription::recv` polls, then reads until `EAGAIN`.
fn syscalls(n: u64, warm: u64) {
    let name = format!("/bench-lat-{}-sys", std::process::id());
    let q = Queue::create(&name, MQ_OFlag::O_RDWR | MQ_OFlag::O_NONBLOCK).expect("mq_open");
    let msg = [0u8; 8];
    let mut buf = [0u8; 32];
    let mut prio = 0;
    let s = sample(warm, n, |_| {
        mq_send(q.get(), &msg, 0).expect("send");
        timed(|| mq_receive(q.get(), &mut buf, &mut prio).expect("receive"))
    });
    row("mq_receive of a pending message (floor: 1/wake)", &s, "");
    let s = sample(warm, n, |_| {
        timed(|| mq_receive(q.get(), &mut buf, &mut prio).is_err())
    });
    row(
        "mq_receive on an empty queue -> EAGAIN",
        &s,
        "recv: +1/wake",
    );
    mq_send(q.get(), &msg, 0).expect("send");
    let s = sample(warm, n, |_| {
        timed(|| {
            let mut fds = [PollFd::new(q.get().as_fd(), PollFlags::POLLIN)];
            poll(&mut fds, PollTimeout::ZERO).expect("poll")
        })
    });
    row("poll on a ready mailbox", &s, "recv: +1/wake");
    let s = sample(warm, n, |_| {
        timed(|| {
            mq_send(q.get(), &msg, 0).is_ok() && mq_receive(q.get(), &mut buf, &mut prio).is_ok()
        })
    });
    row("mq_send + mq_receive (per subscriber per copy)", &s, "");
}

/// One row of the breakdown: what `copy` and `paste` cost for one payload.
pub fn breakdown(sizes: &[(usize, u64, u64)]) {
    println!("\n== 4. where the time goes: copy()/paste() vs their parts (one process, CPU 0) ==");
    println!(
        "  full = {}-entry history (steady state, evicting); depth 1 = one entry, evicted by every copy.",
        BOARD.depth
    );
    for &(len, warmup, n) in sizes {
        println!("\n  -- {} --", size(len));
        header("operation");
        let mut payload = base_payload(len, 0xd1a9 ^ len as u64);
        let full = ScratchBoard::create(&format!("bench-lat-{}-diag", std::process::id()));
        let shallow = ScratchBoard::create_with(
            &format!("bench-lat-{}-diag1", std::process::id()),
            CreateOptions { depth: 1, ..BOARD },
        );
        // Enough copies first that the full board is at its steady state.
        let prefill = if len >= 1 << 20 {
            (BOARD.capacity / len as u64) + 2
        } else {
            u64::from(BOARD.depth) + 2
        };
        let mut clip = Clip::new(MIME, std::mem::take(&mut payload));
        let mut iter = 1u64 << 40;
        for _ in 0..prefill {
            iter += 1;
            stamp(&mut clip.reps[0].data, iter);
            full.board.copy(&clip).expect("prefill");
        }
        for (label, board) in [("full", &full.board), ("depth 1", &shallow.board)] {
            let (s, f) = sample_faults(warmup, n, |_| {
                iter += 1;
                stamp(&mut clip.reps[0].data, iter);
                timed(|| board.copy(&clip).expect("copy"))
            });
            row(&format!("Board::copy(), {label}"), &s, &faults(f));
            let (s, f) = sample_faults(warmup, n, |_| timed(|| board.paste().expect("paste")));
            row(&format!("Board::paste(), {label}"), &s, &faults(f));
            let mut into = Clip::default();
            let (s, f) = sample_faults(warmup, n, |_| {
                timed(|| board.paste_into(&mut into).expect("paste_into"))
            });
            row(&format!("Board::paste_into(), {label}"), &s, &faults(f));
        }
        let data = clip.reps[0].data.as_slice();
        let s = sample(warmup, n, |_| {
            timed(|| {
                // As record.rs checksums a representation.
                let mut h = XxHash3_64::new();
                h.write(&(MIME.len() as u64).to_le_bytes());
                h.write(&(data.len() as u64).to_le_bytes());
                h.write(MIME.as_bytes());
                h.write(data);
                h.finish()
            })
        });
        row(
            "xxh3 of the payload (once per copy and paste)",
            &s,
            &format!("{} GB/s", gbps(len, s.p50)),
        );
        let mut dst = vec![1u8; len];
        let s = sample(warmup, n, |_| timed(|| dst.copy_from_slice(data)));
        row(
            "memcpy into a reused buffer",
            &s,
            &format!("{} GB/s", gbps(len, s.p50)),
        );
        let (s, f) = sample_faults(warmup, n, |_| timed(|| data.to_vec()));
        row("memcpy into a fresh Vec (malloc + faults)", &s, &faults(f));
        let (s, f) = sample_faults(warmup, n, |_| timed(|| vec![0u8; len]));
        row("vec![0; len] alone (calloc, untouched)", &s, &faults(f));
        // What Board::get does with the bytes: copy the whole record into a
        // zeroed buffer, then copy each representation out of it again.
        let record_len = len + 72;
        let mut arena = vec![1u8; record_len];
        arena[72..].copy_from_slice(data);
        let (s, f) = sample_faults(warmup, n, |_| {
            timed(|| {
                let mut bytes = vec![0u8; record_len];
                bytes.copy_from_slice(&arena);
                bytes[72..].to_vec()
            })
        });
        row(
            "paste's buffers: vec![0; record] + to_vec(rep)",
            &s,
            &faults(f),
        );
        let (s, f) = sample_faults(warmup, n, |_| {
            timed(|| {
                let mut rep = vec![0u8; len];
                rep.copy_from_slice(&arena[72..]);
                rep
            })
        });
        row("one exact Vec per rep, filled once", &s, &faults(f));
        let s = sample(warmup, n, |_| timed(|| dst.fill(0)));
        row("zeroing (erasing an evicted entry)", &s, "");
    }
}

/// The longest the board lock is held: one thread (CPU 0) copies clips of
/// each size back to back. A clip of unknown length (stdin) is read whole
/// before the lock, so `copy()` bounds the hold from above: under the lock it
/// makes room, writes and hashes the arena bytes, and commits. Its floor is a
/// memcpy plus xxh3 of the same bytes. A prober on CPU 1 takes the lock in a
/// loop meanwhile; its longest wait shows what a reader meets behind a
/// writer that copies back to back, which can be several holds, because the
/// robust mutex hands no turn to a waiter.
pub fn lock_hold(sizes: &[(usize, u64, u64)]) {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    println!("\n== 5. longest lock hold: copy() on CPU 0, a prober taking the lock on CPU 1 ==");
    header("operation");
    for &(len, warmup, n) in sizes {
        let scratch = ScratchBoard::create(&format!("bench-lat-{}-hold", std::process::id()));
        let board = &scratch.board;
        let mut clip = Clip::new(MIME, base_payload(len, 0x401d ^ len as u64));
        let stop = AtomicBool::new(false);
        let longest = AtomicU64::new(0);
        let copies = std::thread::scope(|s| {
            s.spawn(|| {
                crate::common::pin_to(1);
                while !stop.load(Ordering::Relaxed) {
                    let ns = timed(|| board.types(Selector::Current));
                    longest.fetch_max(ns, Ordering::Relaxed);
                }
            });
            let mut iter = 1u64 << 41;
            let copies = sample(warmup, n, |i| {
                if i == warmup {
                    // Only waits behind measured copies count.
                    longest.store(0, Ordering::Relaxed);
                }
                iter += 1;
                stamp(&mut clip.reps[0].data, iter);
                timed(|| board.copy(&clip).expect("copy"))
            });
            stop.store(true, Ordering::Relaxed);
            copies
        });
        // The floor of a hold: what it cannot avoid, copying the bytes into
        // memory and hashing them, measured in this same run.
        let data = clip.reps[0].data.clone();
        let mut dst = vec![1u8; len];
        let floor = sample(warmup, n, |_| {
            timed(|| {
                dst.copy_from_slice(&data);
                XxHash3_64::oneshot(&dst)
            })
        });
        row(
            &format!("Board::copy() of {}", size(len)),
            &copies,
            &format!("{} the floor", ratio(copies.p50, floor.p50)),
        );
        row("  floor: memcpy + xxh3 of the clip", &floor, "");
        println!(
            "  {:<48} {:>7} {:>9} {:>9} {:>9}  <- may span several holds: the mutex is not fair",
            "  longest wait of the prober",
            "",
            "",
            "",
            us(longest.load(Ordering::Relaxed))
        );
    }
}
