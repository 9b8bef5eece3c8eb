//! The Wayland side of the bridge, through the data-control protocol
//! (`ext-data-control-v1` or `wlr-data-control-unstable-v1`), as implemented
//! by `wl-clipboard-rs`.
//!
//! A named thread blocks in the protocol's watcher and reads each new
//! selection (its wanted MIME types, with a deadline per read) into a
//! [`ReadOutcome`]; the service's `poll` wakes on a datagram socket. Taking
//! the selection offers every representation plus a marker type, so that the
//! watcher recognises our own selection and never echoes it.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixDatagram;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use shm_clip::Clip;
use wl_clipboard_rs::copy::{self, MimeSource, MimeType, Source};
use wl_clipboard_rs::paste::Seat;
use wl_clipboard_rs::watch::{CancelHandle, ClipboardEvent, ClipboardType, Watcher};

use super::targets::{self, ReadOutcome, ReadPolicy};

/// Offered with every selection the tray takes: "this one is ours".
const MARKER: &str = "application/x-shm-clip-tray";
/// How long a source may take to send one representation.
const READ_TIMEOUT: Duration = Duration::from_secs(3);

/// What the watcher saw.
#[derive(Debug)]
pub enum WlEvent {
    /// Another client set the selection; this is what reading it gave.
    Changed(Result<ReadOutcome, String>),
    /// The selection was cleared (its source went away).
    Cleared,
}

/// The running Wayland bridge.
pub struct Wayland {
    events: Receiver<WlEvent>,
    wake: UnixDatagram,
    cancel: CancelHandle,
    paused: Arc<AtomicBool>,
}

impl std::fmt::Debug for Wayland {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wayland").finish_non_exhaustive()
    }
}

impl Wayland {
    /// Starts watching the regular selection. Fails when there is no Wayland
    /// display or the compositor offers no data-control protocol.
    pub fn start(policy: ReadPolicy) -> Result<Wayland, String> {
        let (tx, events) = channel();
        let (wake, waker) = UnixDatagram::pair().map_err(|e| format!("socketpair: {e}"))?;
        wake.set_nonblocking(true)
            .and_then(|()| waker.set_nonblocking(true))
            .map_err(|e| format!("socketpair: {e}"))?;
        let paused = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = channel();
        let thread_paused = Arc::clone(&paused);
        std::thread::Builder::new()
            .name("shm-clip-wayland-watch".into())
            .spawn(move || {
                let mut watcher = match Watcher::new(ClipboardType::Regular, Seat::Unspecified) {
                    Ok(w) => w,
                    Err(err) => {
                        let _ = ready_tx.send(Err(err.to_string()));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(watcher.cancel_handle()));
                watch(&mut watcher, &policy, &thread_paused, &tx, &waker);
            })
            .map_err(|e| format!("cannot start the Wayland thread: {e}"))?;
        let cancel = ready_rx
            .recv()
            .map_err(|_| "the Wayland thread died".to_owned())??;
        Ok(Wayland {
            events,
            wake,
            cancel,
            paused,
        })
    }

    /// Readable when events are waiting.
    #[must_use]
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.wake.as_fd()
    }

    /// The events that arrived since the last call.
    pub fn drain(&self) -> Vec<WlEvent> {
        let mut buf = [0u8; 64];
        while self.wake.recv(&mut buf).is_ok() {}
        self.events.try_iter().collect()
    }

    /// While paused, new selections are not even read.
    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Relaxed);
    }

    /// Takes the selection with every representation of `clip`; a thread
    /// serves it until another client takes the selection.
    #[expect(
        clippy::unused_self,
        reason = "a method, like X11's Owner::own, though wl-clipboard-rs keeps no state"
    )]
    pub fn own(&self, clip: &Clip) -> Result<(), String> {
        let mut sources: Vec<MimeSource> = clip
            .reps
            .iter()
            .map(|r| MimeSource {
                source: Source::Bytes(r.data.clone().into_boxed_slice()),
                mime_type: MimeType::Specific(r.mime.clone()),
            })
            .collect();
        sources.push(MimeSource {
            source: Source::Bytes(
                std::process::id()
                    .to_string()
                    .into_bytes()
                    .into_boxed_slice(),
            ),
            mime_type: MimeType::Specific(MARKER.into()),
        });
        copy::Options::new()
            .copy_multi(sources)
            .map_err(|e| e.to_string())
    }
}

impl Wayland {
    /// Reads the PRIMARY selection's representation of `mime` (any, text
    /// first, without one), up to `max` bytes. It needs a compositor whose
    /// data-control offers the primary selection (wlroots does).
    #[expect(
        clippy::unused_self,
        reason = "a method, like X11's Reader::read, though wl-clipboard-rs keeps no state"
    )]
    pub fn read_primary(
        &self,
        mime: Option<&str>,
        max: u64,
    ) -> Result<shm_clip::Representation, String> {
        use wl_clipboard_rs::paste;
        let want = mime.map_or(paste::MimeType::Any, paste::MimeType::Specific);
        let (pipe, got) =
            paste::get_contents(paste::ClipboardType::Primary, Seat::Unspecified, want)
                .map_err(|e| format!("cannot read PRIMARY: {e}"))?;
        match read_pipe(File::from(OwnedFd::from(pipe)), max)? {
            Some(data) => Ok(shm_clip::Representation { mime: got, data }),
            None => Err(format!(
                "PRIMARY holds more than sync.max_size ({max} bytes)"
            )),
        }
    }

    /// Takes PRIMARY with `rep`; a thread serves it until another client
    /// takes the selection.
    #[expect(
        clippy::unused_self,
        reason = "a method, like X11's Owner::own_primary, though wl-clipboard-rs keeps no state"
    )]
    pub fn own_primary(&self, rep: &shm_clip::Representation) -> Result<(), String> {
        let mut options = copy::Options::new();
        options.clipboard(copy::ClipboardType::Primary);
        options
            .copy(
                Source::Bytes(rep.data.clone().into_boxed_slice()),
                MimeType::Specific(rep.mime.clone()),
            )
            .map_err(|e| format!("cannot take PRIMARY: {e}"))
    }

    /// Clears the selection (call it only while we own it): what we served
    /// came from a board that was destroyed.
    #[expect(
        clippy::unused_self,
        reason = "a method, like X11's Owner::disown, though wl-clipboard-rs keeps no state"
    )]
    pub fn clear(&self) -> Result<(), String> {
        copy::clear(copy::ClipboardType::Regular, copy::Seat::All).map_err(|e| e.to_string())
    }
}

impl Drop for Wayland {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// The watcher thread: read each new selection and report it.
fn watch(
    watcher: &mut Watcher,
    policy: &ReadPolicy,
    paused: &AtomicBool,
    tx: &Sender<WlEvent>,
    waker: &UnixDatagram,
) {
    loop {
        let event = match watcher.next_event() {
            Ok(Some(ClipboardEvent::Changed {
                mime_types,
                mut offer,
                ..
            })) => {
                if mime_types.iter().any(|m| m == MARKER) || paused.load(Ordering::Relaxed) {
                    continue;
                }
                WlEvent::Changed(read(&mime_types, policy, |mime| {
                    let pipe = offer.receive(mime).map_err(|e| e.to_string())?;
                    Ok(File::from(OwnedFd::from(pipe)))
                }))
            }
            Ok(Some(ClipboardEvent::Cleared { .. })) => WlEvent::Cleared,
            Ok(None) => return,
            Err(err) => {
                tracing::warn!(%err, "the Wayland clipboard watcher stopped");
                return;
            }
        };
        if tx.send(event).is_err() {
            return;
        }
        let _ = waker.send(&[1]);
    }
}

/// Reads the wanted types of one offer.
fn read(
    offered: &[String],
    policy: &ReadPolicy,
    mut receive: impl FnMut(&str) -> Result<File, String>,
) -> Result<ReadOutcome, String> {
    if targets::offers_hint(offered) {
        let value = receive(targets::PASSWORD_HINT).and_then(|p| read_pipe(p, 4096));
        if targets::is_secret(value.ok().flatten().as_deref()) {
            return Ok(ReadOutcome::Secret);
        }
    }
    let mut reps = Vec::new();
    let mut total = 0u64;
    for want in targets::wanted(offered, policy) {
        let limit = policy.max_size.saturating_sub(total);
        match read_pipe(receive(&want.target)?, limit)? {
            Some(data) => {
                total += data.len() as u64;
                reps.push((want.mime, targets::normalise(&want.target, want.mime, data)));
            }
            None => {
                return Ok(ReadOutcome::TooLarge {
                    size: total + limit + 1,
                    max: policy.max_size,
                });
            }
        }
    }
    Ok(targets::assemble(reps).map_or(ReadOutcome::Nothing, ReadOutcome::Clip))
}

/// Reads a pipe to its end within `READ_TIMEOUT`; `None` past `limit` bytes.
fn read_pipe(mut pipe: File, limit: u64) -> Result<Option<Vec<u8>>, String> {
    let deadline = Instant::now() + READ_TIMEOUT;
    let mut data = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("the source sent nothing for {READ_TIMEOUT:?}"));
        }
        let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX).max(1);
        let mut fds = [PollFd::new(pipe.as_fd(), PollFlags::POLLIN)];
        match poll(
            &mut fds,
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
        ) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) => {}
            Err(errno) => return Err(format!("poll: {errno}")),
        }
        match pipe.read(&mut buf) {
            Ok(0) => return Ok(Some(data)),
            Ok(n) => {
                data.extend_from_slice(&buf[..n]);
                if data.len() as u64 > limit {
                    return Ok(None);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
}
