//! Chaos: eight worker processes hammer one board with random operations
//! while a killer SIGKILLs them at random moments and restarts them.
//!
//! - Workers copy self-verifying clips of 0 B to 4 MiB, paste, list the
//!   history, pin, unpin, delete, select, clear, and subscribe and unsubscribe.
//!   Every operation is reported to the parent before it starts and when it
//!   ends; an operation still running after [`OP_WATCHDOG`] fails the test.
//! - The killer stops a victim with SIGSTOP first, reads the robust mutex's
//!   owner word from the segment, then SIGKILLs it. So every kill is known to
//!   have happened inside the critical section or outside it, and the board's
//!   recovery counter can be checked exactly.
//! - At least [`CI_PARKED_KILLS`] kills happen inside the critical section on
//!   purpose: a worker armed with `SHM_CLIP_TEST_PARK` and
//!   `SHM_CLIP_TEST_PARK_AT` parks at one of the library's park points
//!   ([`PARK_POINTS`], in turn: a copy half-way, eviction, compaction moves,
//!   dedup moves, commit, a restore's re-ranking, delete/clear wiping, and the owner-died repair
//!   itself), and the killer kills it there. Each point has a recipe that
//!   reaches it; for compaction and the repair, the killer first kills a
//!   holder parked at "copy" while every other worker is stopped, so that
//!   the armed worker is the one that finds the owner dead and works alone. The figures give the kills per
//!   point; with `CI=true` each needs [`CI_PARKED_PER_POINT`].
//! - A worker that sees a torn or foreign clip, or breaks any other promise
//!   (every panic), writes one [`FAILURE_MARKER`] line to stderr and aborts.
//!   The parent reads the stderr of every worker, killed or not, and fails on
//!   any marker, so a worker the killer catches mid-report is not lost.
//!
//! At the end (all workers dead): every clip that was ever read was intact
//! and was written by someone, seq never went back, the history holds at most
//! `depth` entries with no overlapping arena ranges and the pinned sentinels
//! intact, no mailbox is left (neither a registered one nor a queue that no
//! table names), and the recovery counter equals the kills made inside the
//! critical section (less the kills that cut a repair short, whose recovery
//! the next locker counts once). Queues are listed through a mounted mqueue
//! filesystem (such as `/dev/mqueue`) or, as root, a private mount of one;
//! where neither works (a chroot without `/dev/mqueue`, as non-root) the
//! figures say so, and only the registered names are checked.
//!
//! In CI it takes about a minute (2 cores). `SHM_CLIP_SOAK=1` runs a long soak
//! (`SHM_CLIP_SOAK_SECS`, default 1800 s); `SHM_CLIP_CHAOS_SEED` replays the
//! workers' random choices (the kill timing is never replayable).

use shm_clip::format::{INDEX_SLOT_SIZE, index_off, off};
use shm_clip_test_kit as common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{PARK_AT_VAR, PARK_VAR, Rng, TestBoard, report};
use nix::mqueue::{MQ_OFlag, MqAttr, mq_close, mq_open, mq_unlink};
use nix::sys::signal::{Signal, kill};
use nix::sys::stat::Mode;
use nix::unistd::Pid;
use shm_clip::{
    Board, Clip, CreateOptions, EntryInfo, Error, Origin, OriginKind, Provenance, Selector, Status,
    Subscription,
};

const TEST: &str = "chaos_sigkill_workers_while_they_use_one_board";

/// Worker processes alive at any time.
const WORKERS: usize = 8;
/// The board: small enough that 4 MiB clips force eviction and compaction.
const OPTS: CreateOptions = CreateOptions {
    capacity: 16 << 20,
    depth: 24,
};
/// The largest clip a worker copies at random (the compaction recipe in
/// [`PARK_POINTS`] copies one of 9 MiB).
const MAX_CLIP: u64 = 4 << 20;
/// The size of the compaction recipe's own pins, so that it finds them again.
const COMPACT_PIN: u64 = 3_333;
/// Workers pin only clips up to this size, so pins never fill the arena.
const MAX_PINNED_CLIP: u64 = 64 << 10;

/// CI figures: the run continues until all are reached.
const CI_KILLS: u64 = 520;
/// Kills parked at each park point; with `CI=true` the test fails below it.
const CI_PARKED_PER_POINT: u64 = 20;
const CI_PARKED_KILLS: u64 = PARK_POINTS.len() as u64 * CI_PARKED_PER_POINT;
/// A CI run that has not reached them by then fails.
const CI_MAX_RUN: Duration = Duration::from_secs(4 * 60);
/// Mean pause between two kills.
const MEAN_KILL_GAP_MS: u64 = 80;
/// The share of kill actions that park a worker inside the lock first.
const PARK_PERCENT: u64 = 30;

/// Any single operation, and any wait of the killer, must end within this.
const OP_WATCHDOG: Duration = Duration::from_secs(15);

/// Every clip's MIME type names its writer, its counter and its size, so a
/// reader can tell exactly which value it holds.
const CHAOS_MIME: &str = "application/x-chaos";
/// A second representation that some clips carry.
const TEXT_MIME: &str = "text/plain;charset=utf-8";

// glibc's `pthread_mutex_t` (`struct __pthread_mutex_s`): `__lock` holds the
// owner's TID (with the waiters and owner-died bits) and `__owner` is
// `PTHREAD_MUTEX_INCONSISTENT` between an EOWNERDEAD lock and
// `pthread_mutex_consistent`. The mutex's place is the format's.
const MUTEX_OFFSET: u64 = off::MUTEX as u64;
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
const MUTEX_INCONSISTENT: u32 = 0x7fff_ffff;

// ---------------------------------------------------------------------------
// Clip identity and content.

/// Which value a clip is: writer (0 is the parent), counter, payload size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Id {
    writer: u32,
    counter: u32,
    len: u64,
}

impl Id {
    fn mime(self) -> String {
        format!(
            "{CHAOS_MIME};w={};c={};n={}",
            self.writer, self.counter, self.len
        )
    }

    fn parse_mime(mime: &str) -> Option<Id> {
        let rest = mime.strip_prefix(CHAOS_MIME)?.strip_prefix(";w=")?;
        let (w, rest) = rest.split_once(";c=")?;
        let (c, n) = rest.split_once(";n=")?;
        Some(Id {
            writer: w.parse().ok()?,
            counter: c.parse().ok()?,
            len: n.parse().ok()?,
        })
    }

    /// The payload: self-verifying content when there is room for its
    /// 32-byte header, otherwise a short deterministic stream.
    fn data(self) -> Vec<u8> {
        let len = self.len as usize;
        if len >= 32 {
            return common::self_verifying(self.writer, self.counter, len - 32);
        }
        let mut rng = Rng::new(u64::from(self.writer) << 32 | u64::from(self.counter));
        (0..len).map(|_| rng.next_u64() as u8).collect()
    }

    fn text(self) -> String {
        format!("chaos {} {} {}", self.writer, self.counter, self.len)
    }

    fn clip(self, with_text: bool) -> Clip {
        let clip = Clip::new(self.mime(), self.data());
        if with_text {
            clip.with(TEXT_MIME, self.text())
        } else {
            clip
        }
    }
}

/// Checks a clip read from the board; returns which value it is.
fn verify(clip: &Clip) -> Result<Id, String> {
    let first = clip.reps.first().ok_or("a clip without representations")?;
    let id = Id::parse_mime(&first.mime).ok_or_else(|| format!("foreign type {:?}", first.mime))?;
    if first.data.len() as u64 != id.len {
        return Err(format!("{id:?}: {} bytes", first.data.len()));
    }
    if id.len >= 32 {
        let found = common::verify_self_verifying(&first.data)?;
        if found != (id.writer, id.counter) {
            return Err(format!("{id:?}: content says {found:?}"));
        }
    } else if first.data != id.data() {
        return Err(format!("{id:?}: short content differs"));
    }
    for rep in &clip.reps[1..] {
        if rep.mime != TEXT_MIME || rep.data != id.text().as_bytes() {
            return Err(format!("{id:?}: unexpected second representation"));
        }
    }
    Ok(id)
}

// ---------------------------------------------------------------------------
// The worker (a child process).

#[derive(Clone, Copy, Debug)]
enum Op {
    Copy,
    CopyAgain,
    Paste,
    Get,
    GetType,
    History,
    Pin,
    Unpin,
    Remove,
    Select,
    Clear,
    Subscribe,
    Status,
}

const OPS: [(Op, u64); 13] = [
    (Op::Copy, 24),
    (Op::CopyAgain, 3),
    (Op::Paste, 18),
    (Op::Get, 8),
    (Op::GetType, 3),
    (Op::History, 8),
    (Op::Pin, 4),
    (Op::Unpin, 6),
    (Op::Remove, 4),
    (Op::Select, 5),
    (Op::Clear, 1),
    (Op::Subscribe, 5),
    (Op::Status, 2),
];

/// Every park point of the library (`park_if_asked("…")` in shm-clip/src),
/// in name order, with what an armed worker does to reach it: it returns
/// only if it never got there. The killer rotates through them;
/// [`every_library_park_point_is_rotated`] fails when the library gains a
/// point that is missing here.
const PARK_POINTS: &[(&str, Reach)] = &[
    // Every change publishes its seq.
    ("commit", |w| w.run(Op::Copy)),
    // Run alone (`Chaos::park_alone`), on a board of pins only (at most
    // about 1.6 MiB of them, the sentinels and random small pins). Three
    // small pins of its own, each after 5 MiB that the ring places right
    // before it, break the 16 MiB arena ring into arcs of about 5 MiB; so
    // 9 MiB fits in no gap after a whole turn of the ring, and the copy
    // compacts. The pins of an earlier run of this recipe (its marker size)
    // are unpinned first, so that pins never fill the history.
    ("compact", |w| {
        for e in w.history() {
            if e.pinned && e.total_size == COMPACT_PIN && !w.sentinels.contains(&e.seq) {
                let _ = w.board.set_pinned(Selector::Seq(e.seq), false);
            }
        }
        w.board
            .clear(false)
            .unwrap_or_else(|e| panic!("clear: {e:?}"));
        for _ in 0..3 {
            w.copy_sized(5 << 20);
            if let Some(seq) = w.copy_sized(COMPACT_PIN) {
                let _ = w.board.set_pinned(Selector::Seq(seq), true);
            }
        }
        w.copy_sized(9 << 20);
    }),
    ("copy", |w| w.run(Op::Copy)),
    // The same clip twice: the second copy moves it to the front.
    ("dedup", |w| {
        for _ in 0..20 {
            let len = w.size();
            let id = w.next_id(len);
            w.copy(id, false);
            w.copy(id, false);
        }
    }),
    // At most `depth` entries: the next copy evicts.
    ("evict", |w| {
        for _ in 0..4 * OPTS.depth {
            w.run(Op::Copy);
        }
    }),
    // Run alone (`Chaos::park_alone`). A restore ranked below a kept entry
    // of our own, as the bridge does while that entry's message is on its
    // way: the entries from it up get their orders rewritten one by one.
    ("rank", |w| {
        for _ in 0..20 {
            let len = w.size();
            let kept = w.next_id(len);
            let Some(kept_seq) = w.copy(kept, false) else {
                continue;
            };
            let Some(kept) = w.history().into_iter().find(|e| e.seq == kept_seq) else {
                continue;
            };
            let len = w.size();
            let id = w.next_id(len);
            report("intent", format!("{} {} {}", id.writer, id.counter, id.len));
            let now = std::time::SystemTime::now();
            let provenance =
                Provenance::new(Origin::this_process(OriginKind::Bridge), now, now, false);
            let before = w.last_seq;
            match w.board.restore_below(
                &id.clip(false),
                &provenance,
                &[kept.clip_id],
                w.board.seq(),
            ) {
                Ok(Some(r)) => w.committed(r.outcome.seq, before, "restore below"),
                // Another worker committed since the look: nothing done.
                Ok(None) => {}
                Err(e) => Worker::fail(&e, "restore below"),
            }
        }
    }),
    // Needs a lock whose holder died: the killer parks a holder at "copy"
    // and kills it there with every other worker stopped, so this one is
    // the next locker (`Chaos::park_alone`).
    ("repair", |w| w.run(Op::Paste)),
    // Delete a clip of our own.
    ("wipe", |w| {
        for _ in 0..20 {
            let before = w.last_seq;
            let len = w.size();
            let id = w.next_id(len);
            let Some(seq) = w.copy(id, false) else {
                continue;
            };
            match w.board.delete(Selector::Seq(seq)) {
                Ok(seq) => w.committed(seq, before, "delete"),
                Err(e) => Worker::fail(&e, "delete"),
            }
        }
    }),
];

/// What an armed worker does to reach its park point.
type Reach = fn(&mut Worker);

/// The park point that needs a holder to die first.
const REPAIR_POINT: &str = "repair";
/// The park points whose recipe must run with every other worker stopped.
/// ("rank": its restore acts only on an unchanged seq, which the other
/// workers' commits would keep moving.)
const ALONE_POINTS: [&str; 3] = ["compact", "rank", REPAIR_POINT];

/// What reaches park point `point`.
fn park_routine(point: &str) -> Reach {
    PARK_POINTS
        .iter()
        .find(|(p, _)| *p == point)
        .map_or_else(|| panic!("unknown park point {point:?}"), |&(_, f)| f)
}

/// The park points named in the library's sources.
fn library_park_points() -> Vec<String> {
    fn walk(dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (at, _) in text.match_indices("park_if_asked(") {
                    if text[..at].ends_with("fn ") {
                        continue;
                    }
                    let rest = &text[at + "park_if_asked(".len()..];
                    let Some((name, _)) = rest.strip_prefix('"').and_then(|r| r.split_once('"'))
                    else {
                        panic!(
                            "{}: a park point whose name is not a string literal: the chaos test cannot rotate through it",
                            path.display()
                        );
                    };
                    found.push(name.to_owned());
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../shm-clip/src"),
        &mut found,
    );
    found.sort();
    found.dedup();
    found
}

struct Worker {
    board: Board,
    writer: u32,
    rng: Rng,
    counter: u32,
    /// What this incarnation copied, for copying the same value again.
    copied: Vec<Id>,
    /// The highest seq this process has seen: it must never go back.
    last_seq: u64,
    sentinels: Vec<u64>,
    sub: Option<Subscription>,
    my_pid: u32,
}

/// Errors that a correct board gives under this workload.
fn expected_error(e: &Error) -> Option<&'static str> {
    Some(match e {
        Error::Empty => "empty",
        Error::NoSuchEntry { .. } => "no-such-entry",
        Error::NoSuchType { .. } => "no-such-type",
        Error::ClipTooLarge { .. } => "clip-too-large",
        Error::HistoryFull => "history-full",
        Error::SubscriberTableFull { .. } => "subscriber-table-full",
        _ => return None,
    })
}

impl Worker {
    fn pick(&mut self) -> Op {
        let total: u64 = OPS.iter().map(|(_, w)| w).sum();
        let mut r = self.rng.below(total);
        for (op, w) in OPS {
            if r < w {
                return op;
            }
            r -= w;
        }
        unreachable!("weights cover the range")
    }

    fn saw_seq(&mut self, seq: u64, what: &str) {
        assert!(
            seq >= self.last_seq,
            "seq went back: {what} gave {seq} after {} was seen",
            self.last_seq
        );
        self.last_seq = seq;
    }

    /// A commit's seq is newer than anything seen before the operation.
    fn committed(&mut self, seq: u64, before: u64, what: &str) {
        assert!(
            seq > before,
            "{what} committed seq {seq}, not after {before}"
        );
        self.saw_seq(seq, what);
    }

    fn read(clip: &Clip, what: &str) {
        match verify(clip) {
            Ok(id) => report("read", format!("{} {} {}", id.writer, id.counter, id.len)),
            Err(e) => worker_failure(&format!("{what} delivered a torn or foreign clip: {e}")),
        }
    }

    /// Counts an error that this workload can meet; fails on any other.
    fn fail(e: &Error, what: &str) {
        match expected_error(e) {
            Some(kind) => report("err", kind),
            None if timed_out_while_stopped(e) => report("err", STOPPED_TIMEOUT),
            None => panic!("{what}: unexpected error: {e:?}"),
        }
    }

    /// The value, or `None` after a lock wait that ran out while the killer
    /// had this worker stopped; any other error fails.
    fn must<T>(r: Result<T, Error>, what: &str) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) if timed_out_while_stopped(&e) => {
                report("err", STOPPED_TIMEOUT);
                None
            }
            Err(e) => panic!("{what}: {e:?}"),
        }
    }

    /// A random size from 0 to 4 MiB, spread evenly over the orders of magnitude.
    fn size(&mut self) -> u64 {
        let bits = self.rng.below(23);
        self.rng.below(1 << bits).min(MAX_CLIP)
    }

    fn history(&self) -> Vec<EntryInfo> {
        Self::must(self.board.history(), "history").unwrap_or_default()
    }

    /// A random history entry other than the sentinels.
    fn random_entry(&mut self, pinned: Option<bool>) -> Option<EntryInfo> {
        let candidates: Vec<_> = self
            .history()
            .into_iter()
            .filter(|e| !self.sentinels.contains(&e.seq))
            .filter(|e| pinned.is_none_or(|p| e.pinned == p))
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let i = self.rng.below(candidates.len() as u64) as usize;
        candidates.into_iter().nth(i)
    }

    /// Copies `id`; returns the entry's seq if the copy committed.
    fn copy(&mut self, id: Id, with_text: bool) -> Option<u64> {
        report("intent", format!("{} {} {}", id.writer, id.counter, id.len));
        let before = self.last_seq;
        match self.board.copy(&id.clip(with_text)) {
            Ok(out) => {
                self.committed(out.seq, before, "copy");
                Some(out.entry_seq)
            }
            Err(e) => {
                Self::fail(&e, "copy");
                None
            }
        }
    }

    /// A new value of `len` bytes, remembered for copying it again.
    fn next_id(&mut self, len: u64) -> Id {
        self.counter += 1;
        let id = Id {
            writer: self.writer,
            counter: self.counter,
            len,
        };
        self.copied.push(id);
        id
    }

    fn copy_new(&mut self) {
        let len = self.size();
        let with_text = self.rng.below(8) == 0;
        let id = self.next_id(len);
        self.copy(id, with_text);
    }

    fn copy_sized(&mut self, len: u64) -> Option<u64> {
        let id = self.next_id(len);
        self.copy(id, false)
    }

    /// Runs a history operation on a random entry, by seq; checks the commit.
    fn edit(&mut self, op: Op, pinned: Option<bool>) {
        let before = self.last_seq;
        let Some(entry) = self.random_entry(pinned) else {
            return;
        };
        let which = Selector::Seq(entry.seq);
        let result = match op {
            Op::Pin => {
                if entry.total_size > MAX_PINNED_CLIP
                    || self.history().iter().filter(|e| e.pinned).count() >= OPTS.depth as usize / 3
                {
                    return;
                }
                self.board.set_pinned(which, true)
            }
            Op::Unpin => self.board.set_pinned(which, false),
            Op::Remove => self.board.delete(which),
            Op::Select => self.board.select(which),
            Op::Get => {
                match self.board.get(which) {
                    Ok(clip) => Self::read(&clip, "get"),
                    Err(e) => Self::fail(&e, "get"),
                }
                return;
            }
            other => unreachable!("{other:?} is not an edit"),
        };
        match result {
            Ok(seq) => self.committed(seq, before, &format!("{op:?}")),
            Err(e) => Self::fail(&e, &format!("{op:?}")),
        }
    }

    fn check_history(&self) {
        let history = self.history();
        assert!(
            history.len() <= OPTS.depth as usize,
            "{} entries in a history of depth {}",
            history.len(),
            OPTS.depth
        );
        for (i, e) in history.iter().enumerate() {
            assert_eq!(e.index, i);
            assert!(
                e.types
                    .first()
                    .is_some_and(|(m, _)| m.starts_with(CHAOS_MIME)),
                "foreign entry {:?}",
                e.types
            );
        }
    }

    fn toggle_subscription(&mut self) {
        if self.sub.take().is_some() {
            return;
        }
        match self.board.subscribe() {
            Ok(sub) => {
                report("mailbox", sub.mailbox_name());
                self.sub = Some(sub);
            }
            Err(e) => Self::fail(&e, "subscribe"),
        }
    }

    /// Reads a pending notification: never from the future, never our own.
    fn check_mailbox(&mut self) {
        let Some(sub) = self.sub.as_mut() else {
            return;
        };
        let note = sub.try_recv().unwrap_or_else(|e| panic!("mailbox: {e:?}"));
        let now = self.board.seq();
        if let Some(note) = note {
            assert!(note.seq <= now, "notified of seq {} at seq {now}", note.seq);
            assert_ne!(note.origin_pid, self.my_pid, "notified of our own change");
        }
    }

    fn run(&mut self, op: Op) {
        let before = self.last_seq;
        match op {
            Op::Copy => self.copy_new(),
            Op::CopyAgain => {
                let i = self.rng.below(self.copied.len().max(1) as u64) as usize;
                if let Some(&id) = self.copied.get(i) {
                    self.copy(id, false);
                }
            }
            Op::Paste => match self.board.paste() {
                Ok(clip) => Self::read(&clip, "paste"),
                Err(e) => Self::fail(&e, "paste"),
            },
            Op::GetType => match self.board.get_type(Selector::Current, TEXT_MIME) {
                Ok(rep) => {
                    let text = String::from_utf8(rep.data).expect("chaos text is UTF-8");
                    if !text.starts_with("chaos ") {
                        worker_failure(&format!("get_type delivered foreign text {text:?}"));
                    }
                }
                Err(e) => Self::fail(&e, "get_type"),
            },
            Op::History => self.check_history(),
            Op::Select | Op::Remove | Op::Get => self.edit(op, None),
            Op::Pin => self.edit(op, Some(false)),
            Op::Unpin => self.edit(op, Some(true)),
            Op::Clear => {
                if Self::must(self.board.clear(false), "clear").is_some() {
                    let seq = self.board.seq();
                    self.committed(seq, before, "clear");
                }
            }
            Op::Subscribe => self.toggle_subscription(),
            Op::Status => {
                if let Some(status) = Self::must(self.board.status(), "status") {
                    assert!(status.entries <= OPTS.depth as usize);
                    self.saw_seq(status.seq, "status");
                }
            }
        }
        self.check_mailbox();
        let seq = self.board.seq();
        self.saw_seq(seq, "seq()");
    }
}

/// The start of the line a worker writes to stderr when it sees a torn or
/// foreign clip, or any other broken promise (every panic ends here too).
const FAILURE_MARKER: &str = "CHAOS-FAILURE:";
/// Self-test only: the worker injects a torn read as its first operation.
const INJECT_VAR: &str = "CHAOS_INJECT_TORN_READ";
/// Self-test only: after its marker line the worker waits to be killed
/// instead of aborting, as a worker does that the killer catches right then.
const LINGER_VAR: &str = "CHAOS_LINGER_AFTER_FAILURE";

/// In a worker: writes the failure marker line and aborts at once. The line
/// goes out in one `write` of less than `PIPE_BUF` bytes, so a SIGKILL can
/// come before it or after it, never in the middle; the parent reads every
/// worker's stderr, killed or not.
fn worker_failure(what: &str) -> ! {
    let mut line = format!(
        "{FAILURE_MARKER} pid {}: {}",
        std::process::id(),
        what.replace('\n', " | ")
    );
    let mut end = line.len().min(3000);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    line.truncate(end);
    line.push('\n');
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(line.as_bytes());
    let _ = err.flush();
    drop(err);
    if std::env::var_os(LINGER_VAR).is_some() {
        report("failed", "");
        common::linger_until_killed();
    }
    std::process::abort()
}

/// Self-test: copies a clip of its own, pastes it, tears one byte of the
/// paste and checks it as every read is checked.
fn inject_torn_read(w: &mut Worker) -> ! {
    let id = Id {
        writer: w.writer,
        counter: 1,
        len: 1000,
    };
    w.copy(id, false);
    let mut clip = w.board.paste().expect("paste the injected clip");
    clip.reps[0].data[500] ^= 0x40;
    Worker::read(&clip, "the injected paste");
    unreachable!("a torn clip passed verify()")
}

fn worker_main() {
    // A panic anywhere (an assertion, an unexpected error) is a failure the
    // parent must not lose: marker line, then abort, with no unwinding.
    std::panic::set_hook(Box::new(|info| worker_failure(&format!("{info}"))));
    let continued = CONTINUED.get_or_init(|| Arc::new(AtomicBool::new(false)));
    signal_hook::flag::register(signal_hook::consts::SIGCONT, Arc::clone(continued))
        .expect("a SIGCONT flag");
    let parent = nix::unistd::getppid();
    let writer: u32 = common::child_var("CHAOS_WRITER").parse().unwrap();
    let seed: u64 = common::child_var("CHAOS_SEED").parse().unwrap();
    let sentinels = common::child_var("CHAOS_SENTINELS")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let board = common::child_open(None);
    let mut w = Worker {
        board,
        writer,
        rng: Rng::new(seed ^ u64::from(writer).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        counter: 0,
        copied: Vec::new(),
        last_seq: 0,
        sentinels,
        sub: None,
        my_pid: std::process::id(),
    };
    if std::env::var_os(INJECT_VAR).is_some() {
        inject_torn_read(&mut w);
    }
    if std::env::var_os(PARK_VAR).is_some() {
        // Armed: the operation that reaches the park point parks inside the
        // lock until the killer comes.
        let point = common::child_var(PARK_AT_VAR);
        let reach = park_routine(&point);
        report("op", format!("0 park-{point}"));
        reach(&mut w);
        panic!("the park hook did not park at {point:?} (is the test-hooks feature on?)");
    }
    let started = Instant::now();
    for n in 1.. {
        if nix::unistd::getppid() != parent || started.elapsed() > Duration::from_secs(60 * 60) {
            std::process::exit(0);
        }
        let op = w.pick();
        report("op", format!("{n} {op:?}"));
        continued.store(false, Ordering::Relaxed);
        let t = Instant::now();
        w.run(op);
        report("done", format!("{n} {}", t.elapsed().as_micros()));
    }
}

// ---------------------------------------------------------------------------
// The parent: workers, the killer and the checks.

/// Set by SIGCONT: the killer stopped this worker during the operation.
static CONTINUED: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// The error kind a worker reports for [`timed_out_while_stopped`].
const STOPPED_TIMEOUT: &str = "lock-timeout-while-stopped";

/// Whether a lock wait ran out of time because the killer stopped this
/// worker in it ([`Chaos::park_alone`]): `pthread_mutex_timedlock`'s
/// deadline is absolute, so the seconds spent stopped count against it. A
/// wait that ran out with no stop is still a failure.
fn timed_out_while_stopped(e: &Error) -> bool {
    matches!(e, Error::LockTimeout { .. })
        && CONTINUED
            .get()
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
}

/// A line from a worker, or the end of its output.
struct Line {
    writer: u32,
    text: Option<String>,
}

struct Proc {
    writer: u32,
    child: Child,
    pid: u32,
    parked: Option<PathBuf>,
    /// Stopped by [`Chaos::park_alone`]; its operation's watchdog waits.
    stopped: bool,
    /// The operation in flight: number, name, start.
    op: Option<(u64, String, Instant)>,
    /// All it wrote to stderr, sent once its stderr closes (when it dies).
    stderr: Option<Receiver<String>>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where one kill landed.
#[derive(Clone, Copy, Debug, Default)]
struct Landed {
    in_lock: bool,
    /// Inside the lock while repairing after an earlier death, before
    /// `pthread_mutex_consistent`.
    in_repair: bool,
}

#[derive(Debug, Default)]
struct Figures {
    ops: u64,
    ops_by_kind: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
    reads: u64,
    intents: u64,
    kills: u64,
    parked_kills: u64,
    random_in_lock: u64,
    in_repair: u64,
    restarts: u64,
    max_op: Duration,
    max_op_kind: String,
    mailboxes: u64,
    /// Kills parked inside the lock, by park point.
    parked_at: BTreeMap<String, u64>,
}

impl Figures {
    fn parked_at(&self, point: &str) -> u64 {
        self.parked_at.get(point).copied().unwrap_or(0)
    }
}

struct Chaos {
    tb: TestBoard,
    seg: File,
    seed: u64,
    sentinels: String,
    next_writer: u32,
    procs: Vec<Proc>,
    tx: Sender<Line>,
    rx: Receiver<Line>,
    intents: HashSet<Id>,
    reads: HashMap<Id, u64>,
    mailboxes: HashSet<String>,
    /// Per killed pid: the operation it was in.
    killed: HashMap<u32, String>,
    figures: Figures,
    rng: Rng,
    /// Failures the workers reported on stderr, and workers that died on
    /// their own; the run stops at the first.
    failures: Vec<String>,
    /// Which park point the next parked kill uses.
    park_turn: usize,
}

/// Reads lines from a worker into the shared channel.
fn forward(writer: u32, out: impl Read + Send + 'static, tx: Sender<Line>) {
    common::spawn_named("chaos-stdout", move || {
        for line in BufReader::new(out).lines() {
            let Ok(text) = line else { break };
            if tx
                .send(Line {
                    writer,
                    text: Some(text),
                })
                .is_err()
            {
                return;
            }
        }
        let _ = tx.send(Line { writer, text: None });
    });
}

impl Chaos {
    /// Starts a worker; armed with `parked` (marker file, park point), it
    /// parks there instead of working.
    fn spawn(&mut self, parked: Option<(PathBuf, &str)>) -> Proc {
        self.spawn_with(parked, &[])
    }

    fn spawn_with(&mut self, parked: Option<(PathBuf, &str)>, env: &[(&str, &str)]) -> Proc {
        self.next_writer += 1;
        let writer = self.next_writer;
        let mut cmd: Command = self.tb.child_command(TEST, "worker");
        cmd.env("CHAOS_WRITER", writer.to_string())
            .env("CHAOS_SEED", self.seed.to_string())
            .env("CHAOS_SENTINELS", &self.sentinels)
            // The marker line is the report; a backtrace would only delay it.
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some((marker, point)) = &parked {
            cmd.env(PARK_VAR, marker).env(PARK_AT_VAR, point);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn a worker");
        forward(writer, child.stdout.take().unwrap(), self.tx.clone());
        let mut err = child.stderr.take().unwrap();
        let (err_tx, err_rx) = mpsc::channel();
        common::spawn_named("chaos-stderr", move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            let _ = err_tx.send(s);
        });
        self.figures.restarts += 1;
        Proc {
            writer,
            pid: child.id(),
            child,
            parked: parked.map(|(marker, _)| marker),
            stopped: false,
            op: None,
            stderr: Some(err_rx),
        }
    }

    /// Reads all that the dead (reaped) worker `p` wrote to stderr, and
    /// records a failure for each marker line in it.
    fn collect_stderr(&mut self, p: &mut Proc, how: &str) -> String {
        let Some(rx) = p.stderr.take() else {
            return String::new();
        };
        let Ok(text) = rx.recv_timeout(OP_WATCHDOG) else {
            self.failures.push(format!(
                "worker {} (pid {}, {how}): its stderr did not close within {OP_WATCHDOG:?}",
                p.writer, p.pid
            ));
            return String::new();
        };
        for line in text.lines().filter(|l| l.contains(FAILURE_MARKER)) {
            self.failures.push(format!(
                "worker {} (pid {}, {how}): {line}",
                p.writer, p.pid
            ));
        }
        text
    }

    /// Fails the test on the first failure that a worker reported.
    fn assert_no_failures(&self) {
        assert!(
            self.failures.is_empty(),
            "a worker reported a failure:\n{:#?}",
            self.failures
        );
    }

    fn handle(&mut self, line: &Line) {
        let Some(text) = &line.text else { return };
        let Some(rest) = text.strip_prefix("@@ ") else {
            return;
        };
        let (key, value) = rest.split_once(' ').unwrap_or((rest, ""));
        let proc = self.procs.iter_mut().find(|p| p.writer == line.writer);
        match key {
            "op" => {
                if let Some(p) = proc {
                    let (n, kind) = value.split_once(' ').unwrap();
                    p.op = Some((n.parse().unwrap(), kind.to_owned(), Instant::now()));
                }
            }
            "done" => {
                self.figures.ops += 1;
                if let Some(p) = proc
                    && let Some((_, kind, t)) = p.op.take()
                {
                    let took = t.elapsed();
                    if took > self.figures.max_op {
                        self.figures.max_op = took;
                        self.figures.max_op_kind.clone_from(&kind);
                    }
                    *self.figures.ops_by_kind.entry(kind).or_default() += 1;
                }
            }
            "intent" | "read" => {
                let mut f = value.split(' ').map(|v| v.parse::<u64>().unwrap());
                let id = Id {
                    writer: f.next().unwrap() as u32,
                    counter: f.next().unwrap() as u32,
                    len: f.next().unwrap(),
                };
                if key == "intent" {
                    self.figures.intents += 1;
                    self.intents.insert(id);
                } else {
                    self.figures.reads += 1;
                    *self.reads.entry(id).or_default() += 1;
                }
            }
            "err" => *self.figures.errors.entry(value.to_owned()).or_default() += 1,
            "mailbox" => {
                self.figures.mailboxes += 1;
                self.mailboxes.insert(value.to_owned());
            }
            _ => {}
        }
    }

    /// Drains the workers' lines for up to `wait`.
    fn pump(&mut self, wait: Duration) {
        let deadline = Instant::now() + wait;
        while let Ok(line) = self
            .rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.handle(&line);
            if Instant::now() >= deadline {
                break;
            }
        }
    }

    /// Records a failure for each worker that died on its own (with the
    /// marker lines it wrote), and fails the test if an operation hangs.
    fn check_workers(&mut self) {
        let mut i = 0;
        while i < self.procs.len() {
            let Some(status) = self.procs[i].child.try_wait().expect("try_wait") else {
                i += 1;
                continue;
            };
            let mut p = self.procs.remove(i);
            let how = format!("exited by itself with {status}");
            let stderr = self.collect_stderr(&mut p, &how);
            if !stderr.contains(FAILURE_MARKER) {
                self.failures.push(format!(
                    "worker {} (pid {}) {how}:\n{stderr}",
                    p.writer, p.pid
                ));
            }
        }
        for p in &self.procs {
            if let Some((n, kind, t)) = &p.op
                && p.parked.is_none()
                && !p.stopped
                && t.elapsed() > OP_WATCHDOG
            {
                let (n, kind, pid, writer) = (*n, kind.clone(), p.pid, p.writer);
                let stacks =
                    std::fs::read_to_string(format!("/proc/{pid}/stack")).unwrap_or_default();
                panic!(
                    "deadlock? worker {writer} (pid {pid}) has been in operation {n} ({kind}) for over {OP_WATCHDOG:?}\n{stacks}"
                );
            }
        }
    }

    /// Reads the mutex's lock word and owner field from the segment.
    fn mutex_words(&self) -> (u32, u32) {
        let mut b = [0u8; 12];
        self.seg
            .read_exact_at(&mut b, MUTEX_OFFSET)
            .expect("read the mutex");
        (
            u32::from_ne_bytes(b[0..4].try_into().unwrap()),
            u32::from_ne_bytes(b[8..12].try_into().unwrap()),
        )
    }

    /// Stops the victim, notes whether it holds the lock, then kills it.
    fn kill(&mut self, index: usize) -> Landed {
        let p = self.procs.swap_remove(index);
        let pid = Pid::from_raw(p.pid as i32);
        let tids = common::stop::stop(p.pid, OP_WATCHDOG);
        // Its last lines are in the pipe: read them for its current operation.
        self.procs.push(p);
        self.pump(Duration::from_millis(2));
        let mut p = self.procs.pop().expect("pushed above");
        let (word, owner) = self.mutex_words();
        let holder = word & FUTEX_TID_MASK;
        let in_lock = holder != 0 && tids.contains(&holder);
        let landed = Landed {
            in_lock,
            in_repair: in_lock && owner == MUTEX_INCONSISTENT,
        };
        kill(pid, Signal::SIGKILL).expect("SIGKILL a worker");
        p.child.wait().expect("reap a worker");
        self.figures.kills += 1;
        let during =
            p.op.as_ref()
                .map_or("start-up", |(_, kind, _)| kind.as_str());
        let during = format!("{during}{}", if in_lock { ", inside the lock" } else { "" });
        // Killed or not, what it wrote to stderr counts: a worker caught
        // right after its marker line is a failure like any other.
        self.collect_stderr(&mut p, &format!("killed during {during}"));
        self.killed.insert(p.pid, during);
        if landed.in_repair {
            self.figures.in_repair += 1;
        }
        landed
    }

    /// One kill at a random moment of a random worker, which is restarted.
    fn random_kill(&mut self) {
        let i = self.rng.below(self.procs.len() as u64) as usize;
        let landed = self.kill(i);
        if landed.in_lock {
            self.figures.random_in_lock += 1;
        }
        let p = self.spawn(None);
        self.procs.push(p);
    }

    /// Restarts a random worker armed to park inside the lock, waits until
    /// it is parked, and kills it there. `probe_gate` keeps the parent's
    /// lock probe out of the lock while [`Chaos::park_alone`] needs
    /// its worker to be the only locker.
    fn parked_kill(&mut self, round: u64, probe_gate: &Mutex<()>) {
        let i = self.rng.below(self.procs.len() as u64) as usize;
        let landed = self.kill(i);
        if landed.in_lock {
            self.figures.random_in_lock += 1;
        }
        // The park points take turns.
        let (point, _) = PARK_POINTS[self.park_turn % PARK_POINTS.len()];
        self.park_turn += 1;
        if ALONE_POINTS.contains(&point) {
            self.park_alone(round, probe_gate, point);
        } else {
            let writer = self.park(&format!("parked-{round}"), point);
            self.kill_parked(writer, point);
        }
        let p = self.spawn(None);
        self.procs.push(p);
    }

    /// Starts a worker armed for `point` and waits until it is parked
    /// there, holding the lock; returns its writer number.
    fn park(&mut self, tag: &str, point: &str) -> u32 {
        let marker = self.tb.file(tag);
        let p = self.spawn(Some((marker.clone(), point)));
        let writer = p.writer;
        self.procs.push(p);
        let since = Instant::now();
        // The hook writes the point's name into the marker, then parks.
        let parked_at = loop {
            if let Ok(at) = std::fs::read_to_string(&marker)
                && !at.is_empty()
            {
                break at;
            }
            assert!(
                since.elapsed() < OP_WATCHDOG,
                "the worker {writer} armed for {point:?} did not park within {OP_WATCHDOG:?}"
            );
            self.pump(Duration::from_millis(1));
            self.check_workers();
            self.assert_no_failures();
        };
        assert_eq!(
            parked_at, point,
            "worker {writer} was armed for park point {point:?}"
        );
        writer
    }

    /// Kills the worker that [`Chaos::park`] parked at `point`.
    fn kill_parked(&mut self, writer: u32, point: &str) {
        let i = self.procs.iter().position(|p| p.writer == writer).unwrap();
        let landed = self.kill(i);
        assert!(
            landed.in_lock,
            "worker {writer} wrote its park marker at {point:?} but does not hold the lock"
        );
        self.figures.parked_kills += 1;
        *self.figures.parked_at.entry(point.to_owned()).or_default() += 1;
    }

    /// Parks a worker at `point` while it is the only one at work: a holder
    /// parks at "copy"; every other worker is stopped (outside the lock,
    /// which the holder has; a stopped waiter's deadline keeps running, see
    /// [`timed_out_while_stopped`]) and the parent's probe is held off; the holder is killed there. The worker
    /// armed for `point` is then the only process to lock: it finds the
    /// owner dead (and parks in the repair if armed for it), and its recipe
    /// sees no one else's changes. It is killed where it parks; the others
    /// continue.
    fn park_alone(&mut self, round: u64, probe_gate: &Mutex<()>, point: &str) {
        let probe = probe_gate.lock().unwrap_or_else(PoisonError::into_inner);
        let holder = self.park(&format!("parked-{round}-holder"), "copy");
        let others: Vec<u32> = self
            .procs
            .iter()
            .filter(|p| p.writer != holder)
            .map(|p| p.pid)
            .collect();
        for &pid in &others {
            common::stop::stop(pid, OP_WATCHDOG);
        }
        self.set_stopped(&others, true);
        self.kill_parked(holder, "copy");
        let alone = self.park(&format!("parked-{round}"), point);
        let i = self.procs.iter().position(|p| p.writer == alone).unwrap();
        let landed = self.kill(i);
        assert!(
            landed.in_lock && (landed.in_repair || point != REPAIR_POINT),
            "worker {alone} wrote its park marker at {point:?} but is not there ({landed:?})"
        );
        self.figures.parked_kills += 1;
        *self.figures.parked_at.entry(point.to_owned()).or_default() += 1;
        for &pid in &others {
            kill(Pid::from_raw(pid as i32), Signal::SIGCONT).expect("SIGCONT a worker");
        }
        self.set_stopped(&others, false);
        drop(probe);
    }

    /// Marks the workers `pids` stopped or running again; a resumed
    /// worker's operation gets a whole watchdog period from now.
    fn set_stopped(&mut self, pids: &[u32], stopped: bool) {
        for p in self.procs.iter_mut().filter(|p| pids.contains(&p.pid)) {
            p.stopped = stopped;
            if let Some((_, _, start)) = &mut p.op {
                *start = Instant::now();
            }
        }
    }

    /// What the owner of mailbox `name` was doing when it was killed.
    fn killed_during(&self, name: &str) -> String {
        let pid = name
            .rsplit_once('@')
            .and_then(|(_, rest)| rest.split_once('.'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok());
        pid.and_then(|pid| self.killed.get(&pid).cloned())
            .unwrap_or_else(|| "an unknown operation".into())
    }

    fn in_lock_kills(&self) -> u64 {
        self.figures.parked_kills + self.figures.random_in_lock
    }
}

/// The mqueue namespace as the final check saw it.
struct Listing {
    /// This board's queues, or `None` when no way to list them worked.
    names: Option<Vec<String>>,
    /// How they were listed, or why they could not be.
    how: String,
}

/// Lists this board's queues in our mqueue namespace, in the first way that
/// works here: an mqueue filesystem already mounted (such as `/dev/mqueue`),
/// or, as root, a private mount of one (`unshare --mount`, which fails in a
/// chroot whose `/` is not a mount point). A listing counts only if it shows
/// a probe queue made for the purpose, so a mount of another ipc namespace
/// is never taken for ours.
fn list_queues(tb: &TestBoard) -> Listing {
    let probe = format!("/shm-clip-chaos-probe.{}", std::process::id());
    let mq = mq_open(
        probe.as_str(),
        MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_RDONLY | MQ_OFlag::O_NONBLOCK,
        Mode::S_IRUSR | Mode::S_IWUSR,
        Some(&MqAttr::new(0, 1, 16, 0)),
    )
    .unwrap_or_else(|e| panic!("creating the probe queue {probe}: {e}"));
    let listed = list_all_queues(tb, &probe[1..]);
    mq_close(mq).expect("mq_close the probe");
    mq_unlink(probe.as_str()).expect("mq_unlink the probe");
    let prefix = format!("shm-clip.{}.{}@", common::euid(), tb.name);
    match listed {
        Ok((all, how)) => Listing {
            names: Some(
                all.iter()
                    .filter(|l| l.starts_with(&prefix))
                    .map(|l| format!("/{l}"))
                    .collect(),
            ),
            how,
        },
        Err(tried) => Listing {
            names: None,
            how: tried.join("; "),
        },
    }
}

/// Every queue name in our namespace and how they were listed, or what was tried.
fn list_all_queues(tb: &TestBoard, probe: &str) -> Result<(Vec<String>, String), Vec<String>> {
    let mut tried = Vec::new();
    let mounts = mqueue_mounts();
    if mounts.is_empty() {
        tried.push("no mqueue filesystem is mounted (/proc/self/mounts)".to_owned());
    }
    for dir in mounts {
        match std::fs::read_dir(&dir) {
            Ok(entries) => {
                let names: Vec<String> = entries
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .collect();
                if names.iter().any(|n| n == probe) {
                    return Ok((names, format!("the mqueue mount at {}", dir.display())));
                }
                tried.push(format!(
                    "{} does not show our probe queue (another ipc namespace's?)",
                    dir.display()
                ));
            }
            Err(e) => tried.push(format!("{}: {e}", dir.display())),
        }
    }
    if common::euid() != 0 {
        tried.push("not root, so no private mount of the mqueue filesystem".to_owned());
        return Err(tried);
    }
    let dir = tb.file("mqueue");
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount -t mqueue none "$1" && ls -1a "$1""#)
        .arg("sh")
        .arg(&dir)
        .output()
        .expect("run unshare to list the mqueue namespace");
    if !out.status.success() {
        tried.push(format!(
            "unshare --mount --propagation private: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
        return Err(tried);
    }
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    if names.iter().any(|n| n == probe) {
        return Ok((
            names,
            "a private mount of the mqueue filesystem (unshare --mount)".to_owned(),
        ));
    }
    tried.push("the private mqueue mount does not show our probe queue".to_owned());
    Err(tried)
}

/// Where mqueue filesystems are mounted in our mount namespace.
fn mqueue_mounts() -> Vec<PathBuf> {
    std::fs::read_to_string("/proc/self/mounts")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut f = l.split(' ');
            let (_, at, kind) = (f.next()?, f.next()?, f.next()?);
            (kind == "mqueue").then(|| PathBuf::from(at.replace("\\040", " ")))
        })
        .collect()
}

/// A committed index slot: arena range and flags.
#[derive(Debug)]
struct Slot {
    seq: u64,
    offset: u64,
    len: u64,
    pinned: bool,
}

/// Checks the image: it validates, no slot is half-written, and the
/// committed ranges lie in the arena without overlapping.
fn check_image(path: &Path) -> Vec<Slot> {
    let image = std::fs::read(path).unwrap();
    shm_clip::fuzzing::validate_image(&image)
        .unwrap_or_else(|e| panic!("the final segment does not validate: {e}"));
    let u32_at = |o: usize| u32::from_ne_bytes(image[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_ne_bytes(image[o..o + 8].try_into().unwrap());
    let index = u64_at(off::INDEX_OFFSET) as usize;
    let slots = u32_at(off::INDEX_SLOTS) as usize;
    let arena = u64_at(off::ARENA_SIZE);
    let mut live = Vec::new();
    for s in 0..slots {
        let at = index + s * INDEX_SLOT_SIZE;
        // States and the pin bit as LAYOUT.md documents them.
        match u32_at(at + index_off::STATE) {
            0 => {}
            2 => live.push(Slot {
                seq: u64_at(at + index_off::SEQ),
                offset: u64_at(at + index_off::OFFSET),
                len: u64_at(at + index_off::LEN),
                pinned: u32_at(at + index_off::FLAGS) & 1 != 0,
            }),
            state => panic!("index slot {s} is in state {state} after repair"),
        }
    }
    live.sort_by_key(|s| s.offset);
    let mut end = 0;
    for s in &live {
        assert!(
            s.offset >= end,
            "seq {} at {} overlaps the entry ending at {end}",
            s.seq,
            s.offset
        );
        end = s.offset + s.len;
        assert!(end <= arena, "seq {} ends at {end}, past the arena", s.seq);
    }
    live
}

/// The run's settings, from the environment.
struct Settings {
    /// `SHM_CLIP_SOAK=1`: run this long instead of until the CI figures.
    soak: Option<Duration>,
    seed: u64,
}

impl Settings {
    fn from_env() -> Self {
        let soak = std::env::var("SHM_CLIP_SOAK")
            .is_ok_and(|v| v == "1")
            .then(|| {
                Duration::from_secs(
                    std::env::var("SHM_CLIP_SOAK_SECS")
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(1800),
                )
            });
        let seed = std::env::var("SHM_CLIP_CHAOS_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        Settings { soak, seed }
    }
}

/// Two pinned clips of the parent that no worker unpins or deletes.
struct Sentinels {
    seqs: [u64; 2],
    ids: [Id; 2],
}

impl Sentinels {
    /// Copies them above three fillers, then deletes the fillers, so that
    /// the first compaction slides the sentinels down the arena.
    fn plant(board: &Board, chaos: &mut Chaos) -> Self {
        let mut copy = |counter, len| {
            let id = Id {
                writer: 0,
                counter,
                len,
            };
            chaos.intents.insert(id);
            (id, board.copy(&id.clip(false)).unwrap().seq)
        };
        let fillers: Vec<u64> = (1..=3).map(|c| copy(c, 300 << 10).1).collect();
        let (small, large) = (copy(10, 1000), copy(11, 1 << 20));
        for (_, seq) in [small, large] {
            board.set_pinned(Selector::Seq(seq), true).unwrap();
        }
        for seq in fillers {
            board.delete(Selector::Seq(seq)).unwrap();
        }
        chaos.sentinels = format!("{},{}", small.1, large.1);
        Sentinels {
            seqs: [small.1, large.1],
            ids: [small.0, large.0],
        }
    }
}

/// Threads of the parent: one checks that seq never goes back, one takes
/// the lock every few milliseconds and measures how long that waits.
struct Watchers {
    stop: Arc<AtomicBool>,
    problems: Arc<Mutex<Vec<String>>>,
    max_wait_us: Arc<AtomicU64>,
    probes: Arc<AtomicU64>,
    /// Held by the probe while it locks; the killer holds it to keep the
    /// probe out of the lock.
    probe_gate: Arc<Mutex<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl Watchers {
    fn start(board: &Arc<Board>) -> Self {
        let w = Watchers {
            stop: Arc::new(AtomicBool::new(false)),
            problems: Arc::new(Mutex::new(Vec::new())),
            max_wait_us: Arc::new(AtomicU64::new(0)),
            probes: Arc::new(AtomicU64::new(0)),
            probe_gate: Arc::new(Mutex::new(())),
            threads: Vec::new(),
        };
        let (b, stop, problems) = (
            Arc::clone(board),
            Arc::clone(&w.stop),
            Arc::clone(&w.problems),
        );
        let seq_thread = common::spawn_named("chaos-seq", move || {
            let mut last = 0;
            while !stop.load(Ordering::Relaxed) {
                let seq = b.seq();
                if seq < last {
                    let mut p = problems.lock().unwrap();
                    p.push(format!("seq went back from {last} to {seq}"));
                }
                last = last.max(seq);
                std::thread::sleep(Duration::from_micros(500));
            }
        });
        let (b, stop, problems) = (
            Arc::clone(board),
            Arc::clone(&w.stop),
            Arc::clone(&w.problems),
        );
        let (max_wait_us, probes) = (Arc::clone(&w.max_wait_us), Arc::clone(&w.probes));
        let gate = Arc::clone(&w.probe_gate);
        let lock_thread = common::spawn_named("chaos-probe", move || {
            while !stop.load(Ordering::Relaxed) {
                let gated = gate.lock().unwrap_or_else(PoisonError::into_inner);
                let t = Instant::now();
                let result = b.types(Selector::Current);
                drop(gated);
                max_wait_us.fetch_max(t.elapsed().as_micros() as u64, Ordering::Relaxed);
                probes.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = result
                    && expected_error(&e).is_none()
                {
                    problems.lock().unwrap().push(format!("probe: {e:?}"));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Watchers {
            threads: vec![seq_thread, lock_thread],
            ..w
        }
    }

    fn assert_fine(&self) {
        let problems = self.problems.lock().unwrap();
        assert!(problems.is_empty(), "{problems:#?}");
    }

    fn finish(&mut self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            t.join().unwrap();
        }
        std::mem::take(&mut *self.problems.lock().unwrap())
    }
}

impl Chaos {
    fn new(tb: TestBoard, seed: u64) -> Self {
        let seg = File::open(tb.path()).unwrap();
        let (tx, rx) = mpsc::channel();
        Chaos {
            tb,
            seg,
            seed,
            sentinels: String::new(),
            next_writer: 0,
            procs: Vec::new(),
            tx,
            rx,
            intents: HashSet::new(),
            reads: HashMap::new(),
            mailboxes: HashSet::new(),
            killed: HashMap::new(),
            figures: Figures::default(),
            rng: Rng::new(seed.rotate_left(17)),
            failures: Vec::new(),
            park_turn: 0,
        }
    }

    /// Starts the workers and kills them until the run is over; then kills
    /// the last ones too.
    fn run(&mut self, settings: &Settings, watchers: &Watchers) -> Duration {
        for _ in 0..WORKERS {
            let p = self.spawn(None);
            self.procs.push(p);
        }
        let began = Instant::now();
        let mut next_kill = Instant::now() + Duration::from_millis(300);
        let mut rounds = 0;
        let mut last_print = Instant::now();
        loop {
            self.pump(Duration::from_millis(2));
            self.check_workers();
            self.assert_no_failures();
            watchers.assert_fine();
            let elapsed = began.elapsed();
            let f = &self.figures;
            let done = match settings.soak {
                Some(soak) => elapsed >= soak,
                None => {
                    f.kills >= CI_KILLS
                        && f.parked_kills >= CI_PARKED_KILLS
                        && PARK_POINTS
                            .iter()
                            .all(|(point, _)| f.parked_at(point) >= CI_PARKED_PER_POINT)
                }
            };
            if done {
                break;
            }
            assert!(
                settings.soak.is_some() || elapsed < CI_MAX_RUN,
                "only {} kills ({} parked, by point {:?}) after {elapsed:?}: {f:?}",
                f.kills,
                f.parked_kills,
                f.parked_at,
            );
            if last_print.elapsed() > Duration::from_secs(20) {
                last_print = Instant::now();
                println!(
                    "chaos: {elapsed:?}: {} ops, {} kills ({} parked, {} random ones inside the lock)",
                    f.ops, f.kills, f.parked_kills, f.random_in_lock
                );
            }
            if Instant::now() >= next_kill {
                rounds += 1;
                if self.rng.below(100) < PARK_PERCENT {
                    self.parked_kill(rounds, &watchers.probe_gate);
                } else {
                    self.random_kill();
                }
                let gap = self.rng.below(2 * MEAN_KILL_GAP_MS + 1);
                next_kill = Instant::now() + Duration::from_millis(gap);
            }
        }
        // All workers go, the last ones also at random points.
        while !self.procs.is_empty() {
            if self.kill(self.procs.len() - 1).in_lock {
                self.figures.random_in_lock += 1;
            }
        }
        self.pump(Duration::from_millis(200));
        began.elapsed()
    }
}

/// What the end of the run looks like.
struct End {
    start: Status,
    end: Status,
    reaped: usize,
    history: Vec<EntryInfo>,
    registered_left: Vec<String>,
    unregistered_left: Vec<String>,
    /// How the mqueue namespace was listed, or why it could not be.
    listing: Option<Listing>,
}

/// Checks every value read, the history and the image, and the counters.
fn check_board(chaos: &Chaos, board: &Board, sentinels: &Sentinels, end: &End) -> Vec<String> {
    let mut failures = Vec::new();
    // Every value read was written by someone, with the size it was written with.
    let unknown: Vec<_> = chaos
        .reads
        .keys()
        .filter(|id| !chaos.intents.contains(id))
        .collect();
    if !unknown.is_empty() {
        failures.push(format!("values read that nobody wrote: {unknown:?}"));
    }
    // History: depth, intact entries, the sentinels still pinned and intact.
    let history = &end.history;
    if history.len() > OPTS.depth as usize {
        failures.push(format!("{} entries, depth {}", history.len(), OPTS.depth));
    }
    for e in history {
        match board.get(Selector::Seq(e.seq)).map(|clip| verify(&clip)) {
            Ok(Ok(id)) if chaos.intents.contains(&id) => {}
            other => failures.push(format!("entry seq {}: {other:?}", e.seq)),
        }
    }
    for (seq, id) in sentinels.seqs.into_iter().zip(sentinels.ids) {
        match history.iter().find(|e| e.seq == seq) {
            None => failures.push(format!("pinned sentinel seq {seq} ({id:?}) is gone")),
            Some(e) if !e.pinned => failures.push(format!("sentinel seq {seq} lost its pin")),
            Some(_) => {
                let got = board.get(Selector::Seq(seq)).map(|clip| verify(&clip));
                if !matches!(&got, Ok(Ok(found)) if *found == id) {
                    failures.push(format!("sentinel seq {seq}: {got:?}"));
                }
            }
        }
    }
    let slots = check_image(&chaos.tb.path());
    let pinned = history.iter().filter(|e| e.pinned).count();
    if slots.iter().filter(|s| s.pinned).count() != pinned {
        failures.push(format!(
            "the image and history() disagree on pins ({pinned})"
        ));
    }
    if slots.len() != history.len() {
        failures.push(format!(
            "{} committed slots, {} history entries",
            slots.len(),
            history.len()
        ));
    }
    if end.end.seq < end.start.seq {
        failures.push(format!(
            "seq went back from {} to {}",
            end.start.seq, end.end.seq
        ));
    }
    // A holder killed while repairing, before it could count its recovery,
    // leaves one recovery for two deaths (lock.rs counts after the repair).
    let recoveries = end.end.lock.recoveries - end.start.lock.recoveries;
    let (in_lock, in_repair) = (chaos.in_lock_kills(), chaos.figures.in_repair);
    if !(in_lock - in_repair..=in_lock).contains(&recoveries) {
        failures.push(format!(
            "recovery counter {recoveries}, kills inside the critical section {in_lock} ({in_repair} of them mid-repair)"
        ));
    }
    failures
}

/// Checks that no mailbox outlives its worker.
fn check_mailboxes(chaos: &Chaos, end: &mut End) -> Vec<String> {
    let mut failures = Vec::new();
    if !end.end.subscribers.is_empty() {
        failures.push(format!("subscribers left: {:?}", end.end.subscribers));
    }
    end.registered_left = chaos
        .mailboxes
        .iter()
        .filter(|name| common::mq_exists(name))
        .cloned()
        .collect();
    if !end.registered_left.is_empty() {
        failures.push(format!(
            "registered mailboxes left behind: {:?}",
            end.registered_left
        ));
    }
    let listing = list_queues(&chaos.tb);
    // Queues that no subscriber table names: nobody could ever reap them.
    // The library unlinks a queue before it frees its slot, and registers a
    // name before it creates the queue, so there must be none.
    end.unregistered_left = listing
        .names
        .iter()
        .flatten()
        .filter(|name| !chaos.mailboxes.contains(*name))
        .map(|name| {
            let _ = nix::mqueue::mq_unlink(name.as_str());
            format!("{name} (owner killed during {})", chaos.killed_during(name))
        })
        .collect();
    if !end.unregistered_left.is_empty() {
        failures.push(format!(
            "queues that no table names (removed now): {:#?}",
            end.unregistered_left
        ));
    }
    end.listing = Some(listing);
    failures
}

fn print_figures(chaos: &Chaos, watchers: &Watchers, end: &End, took: Duration) {
    let f = &chaos.figures;
    println!(
        "chaos figures ({:.1} s, seed {}):\n\
         \x20 operations:        {} ({} errors expected under this workload: {:?})\n\
         \x20 by kind:           {:?}\n\
         \x20 clips read:        {} (all intact; {} distinct values), clips written: {}\n\
         \x20 kills:             {} (restarts {}), inside the critical section: {} = {} parked + {} at random\n\
         \x20 killed mid-repair: {}\n\
         \x20 recoveries:        {}\n\
         \x20 max lock wait:     {:.1} ms (probe, {} probes); slowest operation {:.1} ms ({})\n\
         \x20 seq:               {} -> {}\n\
         \x20 parked kills:      {:?} by park point (CI requires {} at each)\n\
         \x20 mailboxes:         {} registered, {} reaped at the end, {} registered left, {} never registered\n\
         \x20 mqueue listing:    {}\n\
         \x20 history at end:    {} entries ({} pinned)",
        took.as_secs_f64(),
        chaos.seed,
        f.ops,
        f.errors.values().sum::<u64>(),
        f.errors,
        f.ops_by_kind,
        f.reads,
        chaos.reads.len(),
        f.intents,
        f.kills,
        f.restarts,
        chaos.in_lock_kills(),
        f.parked_kills,
        f.random_in_lock,
        f.in_repair,
        end.end.lock.recoveries - end.start.lock.recoveries,
        watchers.max_wait_us.load(Ordering::Relaxed) as f64 / 1000.0,
        watchers.probes.load(Ordering::Relaxed),
        f.max_op.as_secs_f64() * 1000.0,
        f.max_op_kind,
        end.start.seq,
        end.end.seq,
        f.parked_at,
        CI_PARKED_PER_POINT,
        f.mailboxes,
        end.reaped,
        end.registered_left.len(),
        end.unregistered_left.len(),
        match &end.listing {
            Some(Listing {
                names: Some(_),
                how,
            }) => format!("listed through {how}"),
            Some(Listing { names: None, how }) => format!(
                "NOT LISTED, so queues that no table names were not looked for; only the \
                 registered names were checked, with mq_open ({how})"
            ),
            None => "not reached".to_owned(),
        },
        end.history.len(),
        end.history.iter().filter(|e| e.pinned).count(),
    );
}

#[test]
fn chaos_sigkill_workers_while_they_use_one_board() {
    if common::role().as_deref() == Some("worker") {
        return worker_main();
    }
    assert_eq!(
        library_park_points(),
        PARK_POINTS.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        "the library's park points and the ones this test rotates through differ"
    );
    let settings = Settings::from_env();
    let seed = settings.seed;
    println!("chaos: seed {seed} (replay the workers' choices with SHM_CLIP_CHAOS_SEED={seed})");
    let tb = TestBoard::new("chaos");
    let board = Arc::new(tb.open(OPTS));
    let mut chaos = Chaos::new(tb, seed);
    let sentinels = Sentinels::plant(&board, &mut chaos);
    let start = board.status().unwrap();

    let mut watchers = Watchers::start(&board);
    let took = chaos.run(&settings, &watchers);
    let mut failures = watchers.finish();

    // The next lock repairs after the last kills; then nothing is
    // half-written, and the dead workers' mailboxes are reaped.
    let b = Arc::clone(&board);
    let (reaped, end) = common::within("final reap and status", OP_WATCHDOG, move || {
        (b.reap(), b.status().unwrap())
    });
    let mut end = End {
        start,
        end,
        reaped,
        history: board.history().unwrap(),
        registered_left: Vec::new(),
        unregistered_left: Vec::new(),
        listing: None,
    };
    // What the last workers wrote on stderr as they were killed.
    failures.append(&mut chaos.failures);
    failures.extend(check_board(&chaos, &board, &sentinels, &end));
    failures.extend(check_mailboxes(&chaos, &mut end));
    print_figures(&chaos, &watchers, &end, took);
    assert!(failures.is_empty(), "chaos found problems:\n{failures:#?}");
    let f = &chaos.figures;
    if settings.soak.is_none() {
        assert!(
            f.kills >= CI_KILLS && f.parked_kills >= CI_PARKED_KILLS,
            "{f:?}"
        );
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        for (point, _) in PARK_POINTS {
            assert!(
                f.parked_at(point) >= CI_PARKED_PER_POINT,
                "CI needs {CI_PARKED_PER_POINT} kills parked at {point:?}, got {}",
                f.parked_at(point)
            );
        }
    }
}

#[test]
fn every_library_park_point_is_rotated() {
    let points = library_park_points();
    assert!(
        !points.is_empty(),
        "no park_if_asked(\"…\") found in shm-clip/src"
    );
    assert_eq!(
        points,
        PARK_POINTS.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        "add each new park point to PARK_POINTS with the operation that reaches it"
    );
}

/// The chaos test's own alarm: a worker that sees a torn clip is caught
/// both when it aborts by itself and when the killer gets it between its
/// marker line and its abort.
#[test]
fn a_worker_failure_is_never_lost_killed_or_not() {
    if common::role().as_deref() == Some("worker") {
        return worker_main();
    }
    let tb = TestBoard::new("chaos-self");
    let _board = tb.open(OPTS);
    let mut chaos = Chaos::new(tb, 1);
    let is_torn = |f: &String| f.contains(FAILURE_MARKER) && f.contains("torn or foreign clip");

    // Aborts by itself: found by the check for workers that died.
    let p = chaos.spawn_with(None, &[(INJECT_VAR, "1")]);
    chaos.procs.push(p);
    let since = Instant::now();
    while chaos.failures.is_empty() {
        assert!(
            since.elapsed() < OP_WATCHDOG,
            "the torn read was not reported"
        );
        chaos.pump(Duration::from_millis(5));
        chaos.check_workers();
    }
    assert!(chaos.procs.is_empty());
    assert_eq!(chaos.failures.len(), 1, "{:#?}", chaos.failures);
    assert!(is_torn(&chaos.failures[0]), "{:#?}", chaos.failures);
    assert!(
        chaos.failures[0].contains("exited by itself"),
        "{:#?}",
        chaos.failures
    );

    // Killed right after its marker line: found in the killed worker's stderr.
    chaos.failures.clear();
    let p = chaos.spawn_with(None, &[(INJECT_VAR, "1"), (LINGER_VAR, "1")]);
    let writer = p.writer;
    chaos.procs.push(p);
    let since = Instant::now();
    loop {
        let line = chaos
            .rx
            .recv_timeout(OP_WATCHDOG.saturating_sub(since.elapsed()))
            .expect("the worker reports that it wrote its marker line");
        if line.writer == writer && line.text.as_deref().map(str::trim) == Some("@@ failed") {
            break;
        }
        chaos.handle(&line);
    }
    chaos.check_workers();
    assert!(chaos.failures.is_empty(), "{:#?}", chaos.failures);
    chaos.kill(0);
    assert_eq!(chaos.failures.len(), 1, "{:#?}", chaos.failures);
    assert!(is_torn(&chaos.failures[0]), "{:#?}", chaos.failures);
    assert!(
        chaos.failures[0].contains("killed during"),
        "{:#?}",
        chaos.failures
    );
}
