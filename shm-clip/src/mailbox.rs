//! Mailboxes: one POSIX message queue per subscribing process, registered in
//! the segment's subscriber table.
//!
//! A mailbox is indirect communication owned by its reader: writers only know
//! its name from the table. Writers send with `O_NONBLOCK`, so a full queue
//! (its owner already has a wake-up pending) or a stuck reader can never block
//! them. Notifications are hints; the segment is the truth.

use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::mqueue::{
    MQ_OFlag, MqAttr, MqdT, mq_close, mq_getattr, mq_open, mq_receive, mq_send, mq_unlink,
};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};
use nix::sys::stat::{Mode, fchmod, fstat};

use crate::format::off;
use crate::format::{Change, MESSAGE_SIZE, MessageFields, SUB_FREE, SUB_LIVE, SubscriberRecord};
use crate::removal::RemovalWatch;
use crate::segment::{Segment, euid};
use crate::{Error, Origin, OriginKind, Result, SubscriberInfo};

/// The queue's message size (≤ 64 bytes keeps each queue's cost against
/// `RLIMIT_MSGQUEUE` tiny) and depth (one pending wake-up is all a reader needs).
const MSG_SIZE: i64 = 32;
const MSG_DEPTH: i64 = 4;
/// How long dropping a `Subscription` waits for the board lock (a normal
/// lock waits 10 s): longer than any copy holds it, short for a closing window.
const DROP_LOCK_WAIT: Duration = Duration::from_secs(2);

/// A change notification. Several pending notifications are coalesced into
/// one that carries the latest seq, read from the segment when the queue was
/// full; `origin_pid`, `origin_kind` and `committed_at` then describe the
/// newest message that did arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Notification {
    /// The latest commit seq announced.
    pub seq: u64,
    /// The pid of the process that made that commit.
    pub origin_pid: u32,
    /// The kind of program that made it.
    pub origin_kind: OriginKind,
    /// When the writer committed (its clock), for latency measurements.
    pub committed_at: SystemTime,
    /// What that commit did.
    pub change: Change,
    /// How many notifications were merged into this one.
    pub coalesced: u32,
}

impl Notification {
    fn encode(&self) -> [u8; MESSAGE_SIZE] {
        MessageFields {
            seq: self.seq,
            committed_ns: self
                .committed_at
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
            origin_pid: self.origin_pid,
            origin_kind: self.origin_kind.to_raw(),
            change: self.change.to_raw(),
        }
        .encode()
    }

    /// Anyone with our uid can write to the queue, so accept only well-formed messages.
    fn decode(b: &[u8]) -> Option<Self> {
        let m = MessageFields::decode(b)?;
        Some(Notification {
            seq: m.seq,
            committed_at: UNIX_EPOCH + Duration::from_nanos(m.committed_ns),
            origin_pid: m.origin_pid,
            origin_kind: OriginKind::from_raw(m.origin_kind),
            change: Change::from_raw(m.change),
            coalesced: 1,
        })
    }
}

/// A message queue descriptor that closes itself (nix's `MqdT` does not).
#[derive(Debug)]
struct Mq(Option<MqdT>);

impl Mq {
    fn get(&self) -> &MqdT {
        self.0.as_ref().expect("present until drop")
    }
}

impl Drop for Mq {
    fn drop(&mut self) {
        if let Some(mq) = self.0.take() {
            let _ = mq_close(mq);
        }
    }
}

/// A registered mailbox. Dropping it frees its slot and unlinks its queue.
///
/// Its descriptor ([`AsFd`]) also becomes readable when the board's segment
/// is removed; the next receive then returns [`Error::BoardDestroyed`].
#[derive(Debug)]
pub struct Subscription {
    seg: Arc<Segment>,
    mq: Mq,
    /// The queue and the removal watch, behind one pollable descriptor.
    epoll: Epoll,
    /// `None` without inotify: then every wake-up checks with `fstat`.
    removal: Option<RemovalWatch>,
    /// Seen removed once: every later receive says so too.
    destroyed: bool,
    name: String,
    slot: usize,
    pid: u32,
    kind: OriginKind,
}

impl Subscription {
    /// Blocks until a notification arrives, or the board is destroyed.
    pub fn recv(&mut self) -> Result<Notification> {
        loop {
            if let Some(n) = self.wait(PollTimeout::NONE)? {
                return Ok(n);
            }
        }
    }

    /// Waits at most `timeout` for a notification.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<Notification>> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
            let poll_timeout = PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX);
            // `None` before the deadline: a wake-up for nothing (another
            // file of /dev/shm removed, or EINTR); wait on.
            match self.wait(poll_timeout)? {
                Some(note) => return Ok(Some(note)),
                None if left.is_zero() => return Ok(None),
                None => {}
            }
        }
    }

    /// Returns a pending notification without waiting.
    pub fn try_recv(&mut self) -> Result<Option<Notification>> {
        self.drain()
    }

    /// The queue's name, as registered in the subscriber table.
    #[must_use]
    pub fn mailbox_name(&self) -> &str {
        &self.name
    }

    fn wait(&mut self, timeout: PollTimeout) -> Result<Option<Notification>> {
        let mut fds = [PollFd::new(self.epoll.0.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) | Err(Errno::EINTR) => Ok(None),
            Ok(_) => self.drain(),
            Err(errno) => Err(Error::os("polling the mailbox", errno)),
        }
    }

    /// Reads pending messages and merges them into one that carries the
    /// board's current seq; `BoardDestroyed` once the segment is gone.
    fn drain(&mut self) -> Result<Option<Notification>> {
        // Events first: `destroy` unlinks before it sends its notes, so a
        // note that wakes us has its removal event queued already.
        let maybe_removed = self.removal.as_ref().is_none_or(RemovalWatch::drain);
        let merged = self.drain_queue()?;
        if self.destroyed || (maybe_removed && self.seg.unlinked()) {
            self.destroyed = true;
            return Err(Error::BoardDestroyed {
                name: self.seg.name().to_string(),
            });
        }
        Ok(merged)
    }

    fn drain_queue(&mut self) -> Result<Option<Notification>> {
        let mut merged: Option<Notification> = None;
        let mut buf = [0u8; MSG_SIZE as usize];
        loop {
            let mut prio = 0;
            match mq_receive(self.mq.get(), &mut buf, &mut prio) {
                Ok(n) => {
                    let Some(msg) = Notification::decode(&buf[..n]) else {
                        continue;
                    };
                    merged = Some(match merged {
                        Some(m) if m.seq >= msg.seq => Notification {
                            coalesced: m.coalesced + 1,
                            ..m
                        },
                        Some(m) => Notification {
                            coalesced: m.coalesced + 1,
                            ..msg
                        },
                        None => msg,
                    });
                    // Already up to date with the segment: skip the receive
                    // that would only report EAGAIN. A message left behind
                    // wakes the reader once more, with a seq it has seen.
                    if merged.is_some_and(|m| m.seq >= current_seq(&self.seg)) {
                        return Ok(merged);
                    }
                }
                Err(Errno::EAGAIN) => {
                    // Writers skip a full queue, so the newest seq may never
                    // have been sent: the segment has it.
                    if let Some(m) = merged.as_mut() {
                        m.seq = m.seq.max(current_seq(&self.seg));
                    }
                    return Ok(merged);
                }
                Err(Errno::EINTR) => {}
                Err(errno) => return Err(Error::os("reading the mailbox", errno)),
            }
        }
    }
}

impl AsFd for Subscription {
    /// Readable when a notification is pending or the segment was removed
    /// (an epoll descriptor over the queue and the removal watch).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.0.as_fd()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // The queue goes before its slot: a process killed in between leaves
        // a slot naming a dead pid, which the reaper frees, never a queue
        // that no table names.
        let _ = mq_unlink(self.name.as_str());
        // A closing program should not hang on a stuck lock holder: after a
        // short wait the slot stays, naming our pid, and is reaped once we
        // have exited.
        let Ok(guard) = self.seg.lock_within(DROP_LOCK_WAIT) else {
            tracing::warn!(mailbox = %self.name, "board lock busy: the subscriber slot is left for the reaper");
            return;
        };
        if let Ok(rec) = self.seg.read_subscriber(self.slot)
            && rec.state == SUB_LIVE
            && rec.pid == self.pid
            && rec.name == self.name
        {
            let _ = self.seg.clear_subscriber(self.slot);
            bump_generation(&self.seg);
        }
        drop(guard);
        announce_membership(&self.seg, self.kind);
    }
}

/// Wakes every other mailbox after the subscriber table changed, with the
/// current (unchanged) seq: status displays re-read the table, while readers
/// that act on new seqs only see nothing new.
fn announce_membership(seg: &Segment, kind: OriginKind) {
    let mut notifier = Notifier::default();
    match seg.lock() {
        Ok(_guard) => notifier.refresh(seg),
        Err(_) => return,
    }
    notifier.send(&Notification {
        seq: current_seq(seg),
        origin_pid: std::process::id(),
        origin_kind: kind,
        committed_at: SystemTime::now(),
        change: Change::Unknown,
        coalesced: 1,
    });
}

fn bump_generation(seg: &Segment) {
    seg.set_header_u64(
        off::SUB_GENERATION,
        seg.header_u64(off::SUB_GENERATION).wrapping_add(1),
    );
}

/// Field 22 of `/proc/PID/stat`: the start time in clock ticks since boot.
/// `None` when the process does not exist.
pub(crate) fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses; fields resume after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn is_alive(pid: u32, start_time: u64) -> bool {
    process_start_time(pid) == Some(start_time)
}

/// The program name of `pid`, for status displays.
pub(crate) fn program_name(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim_end().to_owned())
}

fn random_nonce() -> u64 {
    let mut b = [0u8; 8];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
        .is_ok()
    {
        return u64::from_ne_bytes(b);
    }
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    xxhash_rust::xxh3::xxh3_64(
        &[t.to_ne_bytes(), u64::from(std::process::id()).to_ne_bytes()].concat(),
    )
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Creates this process's mailbox and registers it in the table.
pub(crate) fn subscribe(seg: &Arc<Segment>, origin: &Origin) -> Result<Subscription> {
    reap_dead(seg);
    let pid = std::process::id();
    let start_time = process_start_time(pid).unwrap_or(0);
    let prefix = seg.name().mailbox_prefix(euid());
    let attr = MqAttr::new(0, MSG_DEPTH, MSG_SIZE, 0);
    let flags = MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_RDONLY | MQ_OFlag::O_NONBLOCK;
    // The name is registered before the queue exists: a process killed in
    // between leaves a slot that the reaper frees (unlinking a queue that
    // does not exist is harmless), never a queue that no table names.
    // A random suffix with O_EXCL: a name squatted by someone else is skipped.
    let mut attempt = 0;
    loop {
        let name = format!("{prefix}{pid}.{:016x}", random_nonce());
        let record = SubscriberRecord {
            state: SUB_LIVE,
            pid,
            start_time,
            kind: origin.kind.to_raw(),
            registered_ns: now_ns(),
            label: origin.label.clone(),
            name: name.clone(),
        };
        let slot = register(seg, &record)?;
        let created = mq_open(
            name.as_str(),
            flags,
            Mode::S_IRUSR | Mode::S_IWUSR,
            Some(&attr),
        );
        let mq = match created {
            Ok(mq) => Mq(Some(mq)),
            Err(errno) => {
                unregister(seg, slot, &record);
                match errno {
                    Errno::EEXIST if attempt < 8 => {
                        attempt += 1;
                        continue;
                    }
                    Errno::EMFILE
                    | Errno::ENFILE
                    | Errno::ENOSPC
                    | Errno::EINVAL
                    | Errno::ENOMEM => {
                        return Err(Error::QueueLimit { name, errno });
                    }
                    _ => return Err(Error::os(format!("creating mailbox {name}"), errno)),
                }
            }
        };
        // The umask may have left group/other bits; a mailbox is ours alone.
        if let Err(errno) = fchmod(mq.get().as_fd(), Mode::S_IRUSR | Mode::S_IWUSR) {
            let _ = mq_unlink(name.as_str());
            unregister(seg, slot, &record);
            return Err(Error::os(format!("fchmod mailbox {name}"), errno));
        }
        // Writers that looked for the queue before it existed skipped it:
        // a new generation makes them re-read the table and open it.
        if let Ok(_guard) = seg.lock() {
            bump_generation(seg);
        }
        let (epoll, removal) = match watch(seg, &mq) {
            Ok(watched) => watched,
            Err(errno) => {
                let _ = mq_unlink(name.as_str());
                unregister(seg, slot, &record);
                return Err(Error::os("creating the mailbox's epoll descriptor", errno));
            }
        };
        announce_membership(seg, origin.kind);
        return Ok(Subscription {
            seg: Arc::clone(seg),
            mq,
            epoll,
            removal,
            destroyed: false,
            name,
            slot,
            pid,
            kind: origin.kind,
        });
    }
}

/// One descriptor that is readable when `mq` has a message or the segment's
/// name was removed. Without inotify, only the queue.
fn watch(seg: &Segment, mq: &Mq) -> std::result::Result<(Epoll, Option<RemovalWatch>), Errno> {
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
    epoll.add(mq.get().as_fd(), EpollEvent::new(EpollFlags::EPOLLIN, 0))?;
    let removal = match RemovalWatch::new(&seg.name().segment_name(euid())) {
        Ok(removal) => {
            epoll.add(removal.as_fd(), EpollEvent::new(EpollFlags::EPOLLIN, 1))?;
            Some(removal)
        }
        Err(errno) => {
            tracing::debug!(%errno, "no inotify watch on /dev/shm: removal is checked on each wake-up");
            None
        }
    };
    Ok((epoll, removal))
}

/// Claims a free subscriber slot for `record`.
fn register(seg: &Segment, record: &SubscriberRecord) -> Result<usize> {
    let _guard = seg.lock()?;
    for slot in 0..seg.subscriber_slots() {
        if seg.read_subscriber(slot)?.state == SUB_FREE {
            seg.write_subscriber(slot, record)?;
            bump_generation(seg);
            return Ok(slot);
        }
    }
    Err(Error::SubscriberTableFull {
        slots: seg.subscriber_slots(),
    })
}

/// Frees `slot` if it still holds `record`.
fn unregister(seg: &Segment, slot: usize, record: &SubscriberRecord) {
    if let Ok(_guard) = seg.lock()
        && seg.read_subscriber(slot).is_ok_and(|now| now == *record)
    {
        let _ = seg.clear_subscriber(slot);
        bump_generation(seg);
    }
}

/// Frees the slots of processes that are gone (or whose pid was reused) and
/// unlinks their queues. The liveness checks run outside the lock.
pub(crate) fn reap_dead(seg: &Segment) -> usize {
    let Ok(live) = live_slots(seg) else { return 0 };
    let dead: Vec<(usize, SubscriberRecord)> = live
        .into_iter()
        .filter(|(_, r)| !is_alive(r.pid, r.start_time))
        .collect();
    if dead.is_empty() {
        return 0;
    }
    let prefix = seg.name().mailbox_prefix(euid());
    let mut reaped = Vec::new();
    if let Ok(_guard) = seg.lock() {
        for (slot, rec) in dead {
            // Re-check under the lock: the slot may have been reused meanwhile.
            if seg.read_subscriber(slot).is_ok_and(|now| now == rec) {
                // Unlink before clearing, under the lock: a reaper killed
                // here leaves the slot for the next one, never an orphan
                // queue. Only names of our own scheme, whatever the table says.
                if rec.name.starts_with(&prefix) && !rec.name[1..].contains('/') {
                    let _ = mq_unlink(rec.name.as_str());
                }
                let _ = seg.clear_subscriber(slot);
                reaped.push(rec.name);
            }
        }
        if !reaped.is_empty() {
            bump_generation(seg);
        }
    }
    if !reaped.is_empty() {
        announce_membership(seg, OriginKind::Unknown);
    }
    for name in &reaped {
        tracing::debug!(mailbox = %name, "reaped dead subscriber");
    }
    reaped.len()
}

fn live_slots(seg: &Segment) -> Result<Vec<(usize, SubscriberRecord)>> {
    let _guard = seg.lock()?;
    let mut live = Vec::new();
    for slot in 0..seg.subscriber_slots() {
        let rec = seg.read_subscriber(slot)?;
        if rec.state == SUB_LIVE {
            live.push((slot, rec));
        }
    }
    Ok(live)
}

/// Under the lock, after a dead owner: drop slots that are not well-formed.
pub(crate) fn repair_table(seg: &Segment) {
    let prefix = seg.name().mailbox_prefix(euid());
    for slot in 0..seg.subscriber_slots() {
        let Ok(rec) = seg.read_subscriber(slot) else {
            continue;
        };
        if rec.state != SUB_FREE && (rec.state != SUB_LIVE || !rec.name.starts_with(&prefix)) {
            let _ = seg.clear_subscriber(slot);
        }
    }
    bump_generation(seg);
}

/// Opens someone's mailbox for sending, refusing a queue that is not ours alone.
fn open_for_send(name: &str) -> Result<Mq, Errno> {
    let mq = Mq(Some(mq_open(
        name,
        MQ_OFlag::O_WRONLY | MQ_OFlag::O_NONBLOCK,
        Mode::empty(),
        None,
    )?));
    let st = fstat(mq.get().as_fd())?;
    if st.st_uid != euid() || st.st_mode & 0o077 != 0 {
        tracing::warn!(
            mailbox = name,
            owner = st.st_uid,
            mode = format_args!("{:04o}", st.st_mode & 0o7777),
            "refusing a mailbox that is not ours alone"
        );
        return Err(Errno::EPERM);
    }
    Ok(mq)
}

/// A writer's cached view of the subscriber table, with open descriptors.
#[derive(Debug, Default)]
pub(crate) struct Notifier {
    generation: Option<u64>,
    targets: Vec<Target>,
}

#[derive(Debug)]
struct Target {
    name: String,
    mq: Option<Mq>,
    refused: bool,
}

impl Notifier {
    /// Under the lock: re-read the table if it changed since last time.
    pub(crate) fn refresh(&mut self, seg: &Segment) {
        let generation = seg.header_u64(off::SUB_GENERATION);
        if self.generation == Some(generation) {
            return;
        }
        let me = std::process::id();
        let mut targets = Vec::new();
        for slot in 0..seg.subscriber_slots() {
            let Ok(rec) = seg.read_subscriber(slot) else {
                continue;
            };
            if rec.state == SUB_LIVE && rec.pid != me {
                let old = self
                    .targets
                    .iter()
                    .position(|t| t.name == rec.name)
                    .map(|i| self.targets.swap_remove(i));
                targets.push(old.unwrap_or(Target {
                    name: rec.name,
                    mq: None,
                    refused: false,
                }));
            }
        }
        self.targets = targets;
        self.generation = Some(generation);
    }

    /// After unlocking: one non-blocking send per mailbox. Returns whether a
    /// mailbox looked dead, so the caller can reap.
    pub(crate) fn send(&mut self, note: &Notification) -> bool {
        let msg = note.encode();
        let mut saw_dead = false;
        for target in &mut self.targets {
            if target.refused {
                continue;
            }
            if target.mq.is_none() {
                match open_for_send(&target.name) {
                    Ok(mq) => target.mq = Some(mq),
                    Err(Errno::ENOENT) => {
                        saw_dead = true;
                        target.refused = true;
                        continue;
                    }
                    Err(_) => {
                        target.refused = true;
                        continue;
                    }
                }
            }
            let mq = target.mq.as_ref().expect("opened above");
            match mq_send(mq.get(), &msg, 0) {
                // EAGAIN: full, so its owner has a wake-up pending already.
                Ok(()) | Err(Errno::EAGAIN) => {}
                Err(errno) => {
                    tracing::debug!(mailbox = %target.name, %errno, "notification failed");
                    target.mq = None;
                }
            }
        }
        saw_dead
    }
}

/// The live subscribers, for status, with each queue's pending count.
pub(crate) fn subscribers(seg: &Segment) -> Result<Vec<SubscriberInfo>> {
    reap_dead(seg);
    Ok(live_slots(seg)?
        .into_iter()
        .map(|(_, rec)| {
            let pending = open_for_send(&rec.name)
                .ok()
                .and_then(|mq| mq_getattr(mq.get()).ok())
                .map(|a| a.curmsgs() as u64);
            let label = if rec.label.is_empty() {
                program_name(rec.pid).unwrap_or_default()
            } else {
                rec.label
            };
            SubscriberInfo {
                origin: Origin {
                    pid: rec.pid,
                    kind: OriginKind::from_raw(rec.kind),
                    label,
                },
                mailbox: rec.name,
                pending,
            }
        })
        .collect())
}

/// For destroy, before the segment's name goes: the mailboxes registered
/// now, every one of which is told that the board is gone.
pub(crate) fn registered(seg: &Segment) -> Vec<String> {
    let prefix = seg.name().mailbox_prefix(euid());
    live_slots(seg)
        .map(|live| {
            live.into_iter()
                .map(|(_, rec)| rec.name)
                .filter(|name| name.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default()
}

/// For destroy, after the segment's name is gone: sends each of `names` a
/// last note, so its owner wakes and finds the segment removed, then
/// unlinks the queue (its owner's open descriptor keeps the note). An owner
/// that already noticed the removal by itself (its inotify watch) has gone
/// from the table and unlinked its queue: it needs no note.
pub(crate) fn farewell(seg: &Segment, names: &[String]) {
    let note = Notification {
        seq: current_seq(seg),
        origin_pid: std::process::id(),
        origin_kind: OriginKind::Cli,
        committed_at: SystemTime::now(),
        change: Change::Destroy,
        coalesced: 1,
    }
    .encode();
    for name in names {
        if let Ok(mq) = open_for_send(name) {
            // A full queue already wakes its owner: EAGAIN is as good.
            let _ = mq_send(mq.get(), &note, 0);
        }
        let _ = mq_unlink(name.as_str());
    }
}

/// Loads the commit seq (for callers that only need a cheap freshness check).
pub(crate) fn current_seq(seg: &Segment) -> u64 {
    seg.seq_cell().load(Ordering::Acquire)
}
