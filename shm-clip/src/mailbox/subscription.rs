//! A reader's own mailbox: creating and registering its queue, waiting on it
//! (beside the segment's removal watch), and merging what arrives.

use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, MqAttr, mq_open, mq_receive, mq_timedreceive, mq_unlink};
use nix::poll::PollTimeout;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};
use nix::sys::stat::{Mode, fchmod};
use nix::sys::time::TimeSpec;

use super::notifier::announce_membership;
use super::registry::{bump_generation, process_start_time, reap_dead, register, unregister};
use super::{MSG_DEPTH, MSG_SIZE, Mq, Notification, current_seq};
use crate::format::{Change, SUB_LIVE, SubscriberRecord};
use crate::removal::RemovalWatch;
use crate::segment::{Segment, euid};
use crate::{Error, Origin, OriginKind, Result};

/// How long dropping a `Subscription` waits for the board lock (a normal
/// lock waits 10 s): longer than any copy holds it, short for a closing window.
const DROP_LOCK_WAIT: Duration = Duration::from_secs(2);

/// How often `recv` looks at the removal watch while no note arrives: a
/// hand-made `rm` of the segment sends none (`destroy` does), and a reader
/// blocked in the queue itself cannot also wait on the watch.
const REMOVAL_CHECK: Duration = Duration::from_secs(1);

/// The epoll event data of the queue and of the removal watch.
const QUEUE_EVENT: u64 = 0;
const REMOVAL_EVENT: u64 = 1;

/// A registered mailbox. Dropping it frees its slot and unlinks its queue.
///
/// Its descriptor ([`AsFd`]) also becomes readable when the board's segment
/// is removed; the next receive then returns [`Error::BoardDestroyed`].
#[derive(Debug)]
pub struct Subscription {
    seg: Arc<Segment>,
    /// The queue, non-blocking: for `try_recv`, draining, and the epoll set.
    mq: Mq,
    /// The same queue without `O_NONBLOCK`, where `recv` waits.
    blocking: Mq,
    /// The queue and the removal watch, behind one pollable descriptor.
    epoll: Epoll,
    /// `None` without inotify, or when the segment's name led to another
    /// file as it subscribed: then every wake-up checks with `fstat`.
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
    ///
    /// It waits in the queue itself, as a bare POSIX queue reader would: one
    /// system call per wake-up. `destroy` unlinks the segment before it
    /// sends its notes, so its note is enough to notice it; a hand-made `rm`
    /// is seen by the removal watch, which is read once a second (`REMOVAL_CHECK`)
    /// that passes without a note.
    pub fn recv(&mut self) -> Result<Notification> {
        loop {
            if self.destroyed {
                return Err(self.destroyed_error());
            }
            let until = TimeSpec::from(
                (SystemTime::now() + REMOVAL_CHECK)
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default(),
            );
            let mut buf = [0u8; MSG_SIZE as usize];
            let mut prio = 0;
            match mq_timedreceive(self.blocking.get(), &mut buf, &mut prio, &until) {
                Ok(n) => {
                    let first = Notification::decode(&buf[..n]);
                    if let Some(note) = self.receive_after(first, false)? {
                        return Ok(note);
                    }
                }
                // A second without a note: what `try_recv` does, which reads
                // the removal watch.
                Err(Errno::ETIMEDOUT) => {
                    if let Some(note) = self.drain()? {
                        return Ok(note);
                    }
                }
                Err(Errno::EINTR) => {}
                Err(errno) => return Err(Error::os("waiting on the mailbox", errno)),
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
            // `None` before the deadline: a wake-up for nothing (the
            // segment's file chmod-ed or touched, or EINTR); wait on.
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

    /// Waits in `epoll_wait`, which says which descriptor is ready, so a
    /// wake-up for a note reads only the queue: the removal watch is read
    /// when it fired. (`destroy` unlinks before it sends its notes, so the
    /// watch's event is in the same batch as the note that follows it.)
    fn wait(&mut self, timeout: PollTimeout) -> Result<Option<Notification>> {
        let mut events = [EpollEvent::empty(); 2];
        let ready = match self.epoll.wait(&mut events, timeout) {
            Ok(0) | Err(Errno::EINTR) => return Ok(None),
            Ok(n) => &events[..n],
            Err(errno) => return Err(Error::os("waiting on the mailbox", errno)),
        };
        let maybe_removed = match &self.removal {
            Some(watch) if ready.iter().any(|e| e.data() == REMOVAL_EVENT) => watch.drain(),
            Some(_) => false,
            None => true,
        };
        self.receive(maybe_removed)
    }

    /// Reads pending messages without knowing which descriptor is ready.
    fn drain(&mut self) -> Result<Option<Notification>> {
        // Events first: `destroy` unlinks before it sends its notes, so a
        // note that wakes us has its removal event queued already.
        let maybe_removed = self.removal.as_ref().is_none_or(RemovalWatch::drain);
        self.receive(maybe_removed)
    }

    /// Reads pending messages and merges them into one that carries the
    /// board's current seq; `BoardDestroyed` once the segment is gone
    /// (checked with `fstat` when `maybe_removed`).
    fn receive(&mut self, maybe_removed: bool) -> Result<Option<Notification>> {
        self.receive_after(None, maybe_removed)
    }

    /// [`Self::receive`], with a message already taken off the queue.
    /// A `destroy` note also means "maybe removed".
    fn receive_after(
        &mut self,
        first: Option<Notification>,
        maybe_removed: bool,
    ) -> Result<Option<Notification>> {
        let (merged, farewell) = self.drain_queue(first)?;
        if self.destroyed || ((maybe_removed || farewell) && self.seg.unlinked()) {
            self.destroyed = true;
            return Err(self.destroyed_error());
        }
        Ok(merged)
    }

    fn destroyed_error(&self) -> Error {
        Error::BoardDestroyed {
            name: self.seg.name().to_string(),
        }
    }

    /// Merges `first` and the pending messages; true if one was `destroy`'s.
    fn drain_queue(&mut self, first: Option<Notification>) -> Result<(Option<Notification>, bool)> {
        let mut merged: Option<Notification> = None;
        let mut farewell = false;
        let mut next = first;
        let mut buf = [0u8; MSG_SIZE as usize];
        loop {
            if let Some(msg) = next.take() {
                farewell |= msg.change == Change::Destroy;
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
                    return Ok((merged, farewell));
                }
            }
            let mut prio = 0;
            match mq_receive(self.mq.get(), &mut buf, &mut prio) {
                Ok(n) => next = Notification::decode(&buf[..n]),
                Err(Errno::EAGAIN) => {
                    // Writers skip a full queue, so the newest seq may never
                    // have been sent: the segment has it.
                    if let Some(m) = merged.as_mut() {
                        m.seq = m.seq.max(current_seq(&self.seg));
                    }
                    return Ok((merged, farewell));
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

fn random_nonce() -> u64 {
    let mut b = [0u8; 8];
    if crate::sys::random_fill(&mut b) {
        return u64::from_ne_bytes(b);
    }
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    crate::format::xxh3_64(&[t.to_ne_bytes(), u64::from(crate::sys::pid()).to_ne_bytes()].concat())
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Creates this process's mailbox and registers it in the table.
pub(crate) fn subscribe(seg: &Arc<Segment>, origin: &Origin) -> Result<Subscription> {
    reap_dead(seg);
    let pid = crate::sys::pid();
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
        // The queue once more, without O_NONBLOCK, for `recv` to wait in.
        let blocking = match mq_open(name.as_str(), MQ_OFlag::O_RDONLY, Mode::empty(), None) {
            Ok(mqd) => Mq(Some(mqd)),
            Err(errno) => {
                let _ = mq_unlink(name.as_str());
                unregister(seg, slot, &record);
                return Err(Error::os(format!("opening mailbox {name}"), errno));
            }
        };
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
            blocking,
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
    epoll.add(
        mq.get().as_fd(),
        EpollEvent::new(EpollFlags::EPOLLIN, QUEUE_EVENT),
    )?;
    let removal = match RemovalWatch::new(seg.path(), seg.fd()) {
        Ok(removal) => {
            epoll.add(
                removal.as_fd(),
                EpollEvent::new(EpollFlags::EPOLLIN, REMOVAL_EVENT),
            )?;
            Some(removal)
        }
        Err(errno) => {
            tracing::debug!(%errno, "no inotify watch on the segment: removal is checked on each wake-up");
            None
        }
    };
    Ok((epoll, removal))
}
