//! Reading another application's selection, on a connection of our own.
//!
//! One conversion at a time: ask the owner to convert a target into a
//! property of our window, wait for its `SelectionNotify`, read the property,
//! and follow the INCR protocol when the owner sends the data in chunks.
//! Every wait has a deadline, so a stuck owner cannot stall the tray.

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ConnectionExt as _, CreateWindowAux, EventMask, PropMode, Property, Timestamp,
    Window, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

use super::atoms::{AtomCache, Atoms};
use super::targets::{self, ReadOutcome, ReadPolicy};
use super::{Result, SyncError};

/// How long an owner may take to answer one request, or to send one INCR chunk.
const STEP_TIMEOUT: Duration = Duration::from_secs(3);

/// A converted target.
enum Converted {
    Data(Vec<u8>),
    Refused,
    TooLarge(u64),
}

/// The reading side of the bridge.
#[derive(Debug)]
pub struct Reader {
    conn: RustConnection,
    win: Window,
    atoms: Atoms,
    cache: AtomCache,
}

impl Reader {
    /// Connects and creates the unmapped window that receives conversions.
    pub fn new() -> Result<Reader> {
        let (conn, screen) = super::connect()?;
        let root = conn.setup().roots[screen].root;
        let atoms = Atoms::new(&conn)?.reply()?;
        let win = conn.generate_id()?;
        conn.create_window(
            0,
            win,
            root,
            -10,
            -10,
            1,
            1,
            0,
            WindowClass::INPUT_ONLY,
            x11rb::COPY_FROM_PARENT,
            &CreateWindowAux::new()
                .event_mask(EventMask::PROPERTY_CHANGE)
                .override_redirect(1),
        )?;
        conn.flush()?;
        Ok(Reader {
            conn,
            win,
            atoms,
            cache: AtomCache::default(),
        })
    }

    /// A current server timestamp, for taking ownership (ICCCM discourages
    /// `CurrentTime`): append nothing to a property and read the event's time.
    pub fn server_time(&mut self) -> Result<Timestamp> {
        self.conn.change_property8(
            PropMode::APPEND,
            self.win,
            self.atoms.SHM_CLIP_TIME,
            AtomEnum::STRING,
            &[],
        )?;
        self.conn.flush()?;
        let (win, prop) = (self.win, self.atoms.SHM_CLIP_TIME);
        let ev = self.wait(
            Instant::now() + STEP_TIMEOUT,
            |e| matches!(e, Event::PropertyNotify(p) if p.window == win && p.atom == prop),
        )?;
        match ev {
            Event::PropertyNotify(p) => Ok(p.time),
            _ => unreachable!("wait returns only matching events"),
        }
    }

    /// Reads `selection` as its owner offered it at `time`.
    pub fn read(
        &mut self,
        selection: Atom,
        time: Timestamp,
        policy: &ReadPolicy,
    ) -> Result<ReadOutcome> {
        let offered = match self.convert(selection, self.atoms.TARGETS, time, 1 << 20)? {
            Converted::Data(data) => {
                let atoms: Vec<Atom> = data
                    .chunks_exact(4)
                    .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                self.cache.names(&self.conn, &atoms)?
            }
            // An owner without TARGETS (rare, old clients): try plain text.
            Converted::Refused | Converted::TooLarge(_) => vec!["UTF8_STRING".to_owned()],
        };
        if targets::offers_hint(&offered) {
            let hint = self.cache.atom(&self.conn, targets::PASSWORD_HINT)?;
            let value = match self.convert(selection, hint, time, 4096)? {
                Converted::Data(data) => Some(data),
                Converted::Refused | Converted::TooLarge(_) => None,
            };
            if targets::is_secret(value.as_deref()) {
                return Ok(ReadOutcome::Secret);
            }
        }
        let mut reps = Vec::new();
        let mut total = 0u64;
        for want in targets::wanted(&offered, policy) {
            let target = self.cache.atom(&self.conn, &want.target)?;
            let limit = policy.max_size.saturating_sub(total);
            match self.convert(selection, target, time, limit)? {
                Converted::Data(data) => {
                    total += data.len() as u64;
                    reps.push((want.mime, targets::normalise(&want.target, want.mime, data)));
                }
                Converted::Refused => {
                    tracing::debug!(target = want.target, "the owner refused a target");
                }
                Converted::TooLarge(seen) => {
                    return Ok(ReadOutcome::TooLarge {
                        size: total + seen,
                        max: policy.max_size,
                    });
                }
            }
        }
        Ok(targets::assemble(reps).map_or(ReadOutcome::Nothing, ReadOutcome::Clip))
    }

    /// Converts one target into our property and reads it, INCR included.
    fn convert(
        &mut self,
        selection: Atom,
        target: Atom,
        time: Timestamp,
        limit: u64,
    ) -> Result<Converted> {
        let (win, prop) = (self.win, self.atoms.SHM_CLIP_DATA);
        self.conn.delete_property(win, prop)?;
        self.conn
            .convert_selection(win, selection, target, prop, time)?;
        self.conn.flush()?;
        let ev = self.wait(Instant::now() + STEP_TIMEOUT, |e| {
            matches!(e, Event::SelectionNotify(n)
                if n.requestor == win && n.selection == selection && n.target == target)
        })?;
        let Event::SelectionNotify(notify) = ev else {
            unreachable!("wait returns only matching events")
        };
        if notify.property == x11rb::NONE {
            return Ok(Converted::Refused);
        }
        let reply = self
            .conn
            .get_property(true, win, prop, AtomEnum::ANY, 0, u32::MAX / 4)?
            .reply()?;
        if reply.type_ != self.atoms.INCR {
            let len = reply.value.len() as u64;
            return Ok(if len > limit {
                Converted::TooLarge(len)
            } else {
                Converted::Data(reply.value)
            });
        }
        // INCR: the value is a lower bound of the size; deleting the property
        // (done by get_property above) asks for the first chunk.
        let announced = reply
            .value32()
            .and_then(|mut v| v.next())
            .map_or(0, u64::from);
        if announced > limit {
            return Ok(Converted::TooLarge(announced));
        }
        self.conn.flush()?;
        let mut data = Vec::with_capacity(announced as usize);
        loop {
            self.wait(Instant::now() + STEP_TIMEOUT, |e| {
                matches!(e, Event::PropertyNotify(p)
                    if p.window == win && p.atom == prop && p.state == Property::NEW_VALUE)
            })?;
            let chunk = self
                .conn
                .get_property(true, win, prop, AtomEnum::ANY, 0, u32::MAX / 4)?
                .reply()?;
            self.conn.flush()?;
            if chunk.value.is_empty() {
                return Ok(Converted::Data(data));
            }
            data.extend_from_slice(&chunk.value);
            if data.len() as u64 > limit {
                return Ok(Converted::TooLarge(data.len() as u64));
            }
        }
    }

    /// Waits for the first event matching `wanted`, dropping others, until `deadline`.
    fn wait(&mut self, deadline: Instant, wanted: impl Fn(&Event) -> bool) -> Result<Event> {
        loop {
            while let Some(ev) = self.conn.poll_for_event()? {
                if wanted(&ev) {
                    return Ok(ev);
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(SyncError::Timeout(STEP_TIMEOUT));
            }
            let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX).max(1);
            let fd = self.conn.stream().as_fd();
            let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
            match poll(
                &mut fds,
                PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
            ) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(errno) => return Err(SyncError::Connection(format!("poll: {errno}"))),
            }
        }
    }
}
