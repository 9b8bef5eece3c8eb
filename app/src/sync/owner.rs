//! Owning CLIPBOARD and serving the board's clip to every application that
//! asks, and watching who owns the selections.
//!
//! The owner window answers `SelectionRequest`s for TARGETS, TIMESTAMP, every
//! representation's MIME type and, for text, the usual X11 aliases
//! (`UTF8_STRING`, `STRING`, `TEXT`, `text/plain`). Data larger than one
//! request is sent with INCR: the property announces the size, and each time
//! the requestor deletes it the next chunk follows, then an empty one.

use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shm_clip::{Clip, Representation};
use x11rb::connection::{Connection, RequestConnection as _};
use x11rb::protocol::Event;
use x11rb::protocol::xfixes::{ConnectionExt as _, SelectionEventMask};
use x11rb::protocol::xproto::{
    Atom, ChangeWindowAttributesAux, ConnectionExt as _, CreateWindowAux, EventMask, PropMode,
    Property, SelectionNotifyEvent, SelectionRequestEvent, Timestamp, Window, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

use super::atoms::{AtomCache, Atoms};
use super::targets::TEXT_ALIASES;
use super::{Result, SyncError};

/// Transfers that make no progress for this long are dropped.
const INCR_STALL: Duration = Duration::from_secs(30);

/// A change of a watched selection's owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnerChange {
    /// CLIPBOARD or PRIMARY.
    pub selection: Atom,
    /// The new owner; `None` when the selection has no owner any more
    /// (its owner exited or gave it up).
    pub owner: Option<Window>,
    /// The new owner is our own window: never echoed into the board.
    pub ours: bool,
    /// When the owner took the selection, for converting it.
    pub time: Timestamp,
}

/// The clip we own CLIPBOARD with.
#[derive(Debug)]
struct Served {
    clip: Arc<Clip>,
    time: Timestamp,
}

/// A large representation being sent in chunks.
#[derive(Debug)]
struct Incr {
    requestor: Window,
    property: Atom,
    type_: Atom,
    clip: Arc<Clip>,
    rep: usize,
    offset: usize,
    last: Instant,
}

/// The owning and watching side of the bridge.
#[derive(Debug)]
pub struct Owner {
    conn: RustConnection,
    win: Window,
    atoms: Atoms,
    cache: AtomCache,
    served: Option<Served>,
    /// What we own PRIMARY with (`shm-clip copy --primary`), if anything.
    served_primary: Option<Served>,
    transfers: Vec<Incr>,
    /// Bytes per INCR chunk, and the size above which INCR is used.
    chunk: usize,
}

impl Owner {
    /// Connects, creates the owner window and subscribes to `XFixes` selection
    /// events for CLIPBOARD (and PRIMARY with `primary`).
    pub fn new(primary: bool) -> Result<Owner> {
        let (conn, screen) = super::connect()?;
        let root = conn.setup().roots[screen].root;
        if conn
            .extension_information(x11rb::protocol::xfixes::X11_EXTENSION_NAME)?
            .is_none()
        {
            return Err(SyncError::NoXfixes);
        }
        conn.xfixes_query_version(5, 0)?.reply()?;
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
            &CreateWindowAux::new().override_redirect(1),
        )?;
        let mask = SelectionEventMask::SET_SELECTION_OWNER
            | SelectionEventMask::SELECTION_WINDOW_DESTROY
            | SelectionEventMask::SELECTION_CLIENT_CLOSE;
        conn.xfixes_select_selection_input(win, atoms.CLIPBOARD, mask)?;
        if primary {
            conn.xfixes_select_selection_input(win, atoms.PRIMARY, mask)?;
        }
        // Stay well under the server's request limit (the header is 24 bytes).
        let chunk = (conn.maximum_request_bytes() / 4).clamp(4096, 1 << 20);
        conn.flush()?;
        Ok(Owner {
            conn,
            win,
            atoms,
            cache: AtomCache::default(),
            served: None,
            served_primary: None,
            transfers: Vec::new(),
            chunk,
        })
    }

    /// The atoms of the selections.
    #[must_use]
    pub fn clipboard(&self) -> Atom {
        self.atoms.CLIPBOARD
    }

    /// The PRIMARY selection's atom.
    #[must_use]
    pub fn primary(&self) -> Atom {
        self.atoms.PRIMARY
    }

    /// The connection's descriptor: readable when events are waiting.
    #[must_use]
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.conn.stream().as_fd()
    }

    /// The current owner of `selection`, if any.
    pub fn owner_of(&self, selection: Atom) -> Result<Option<Window>> {
        let owner = self.conn.get_selection_owner(selection)?.reply()?.owner;
        Ok((owner != x11rb::NONE).then_some(owner))
    }

    /// Whether our window owns `selection` now (a round trip).
    pub fn owns(&self, selection: Atom) -> Result<bool> {
        Ok(self.owner_of(selection)? == Some(self.win))
    }

    /// Takes CLIPBOARD at `time` and serves `clip` until someone else takes
    /// it; false when the server kept the owner (someone took it after
    /// `time`).
    pub fn own(&mut self, clip: Arc<Clip>, time: Timestamp) -> Result<bool> {
        self.conn
            .set_selection_owner(self.win, self.atoms.CLIPBOARD, time)?;
        let owner = self.owner_of(self.atoms.CLIPBOARD)?;
        if owner != Some(self.win) {
            self.served = None;
            return Ok(false);
        }
        tracing::debug!(types = ?clip.types(), size = clip.total_size(), "own CLIPBOARD");
        self.served = Some(Served { clip, time });
        Ok(true)
    }

    /// The clip we own PRIMARY with, if we still do: a paste of it must be
    /// answered from here (asking the X server would ask ourselves).
    pub fn primary_clip(&self) -> Option<Arc<Clip>> {
        self.served_primary.as_ref().map(|s| Arc::clone(&s.clip))
    }

    /// Takes PRIMARY with `clip` at `time`; false if another client kept it.
    pub fn own_primary(&mut self, clip: Arc<Clip>, time: Timestamp) -> Result<bool> {
        self.conn
            .set_selection_owner(self.win, self.atoms.PRIMARY, time)?;
        if self.owner_of(self.atoms.PRIMARY)? != Some(self.win) {
            tracing::warn!("could not take the PRIMARY selection");
            self.served_primary = None;
            return Ok(false);
        }
        tracing::debug!(types = ?clip.types(), size = clip.total_size(), "own PRIMARY");
        self.served_primary = Some(Served { clip, time });
        Ok(true)
    }

    /// Gives up CLIPBOARD if we own it, so that nobody can paste what we
    /// served any more (its board was destroyed). True if we owned it.
    pub fn disown(&mut self, time: Timestamp) -> Result<bool> {
        self.served = None;
        if self.owner_of(self.atoms.CLIPBOARD)? != Some(self.win) {
            return Ok(false);
        }
        self.conn
            .set_selection_owner(x11rb::NONE, self.atoms.CLIPBOARD, time)?;
        self.conn.flush()?;
        Ok(true)
    }

    /// Handles every waiting event; returns the owner changes for the tray.
    pub fn dispatch(&mut self) -> Result<Vec<OwnerChange>> {
        let mut changes = Vec::new();
        while let Some(ev) = self.conn.poll_for_event()? {
            match ev {
                Event::XfixesSelectionNotify(n) => changes.push(OwnerChange {
                    selection: n.selection,
                    owner: (n.owner != x11rb::NONE).then_some(n.owner),
                    ours: n.owner == self.win,
                    time: n.selection_timestamp,
                }),
                Event::SelectionRequest(req) => self.on_request(&req)?,
                Event::SelectionClear(c) if c.selection == self.atoms.CLIPBOARD => {
                    tracing::debug!("another application took CLIPBOARD");
                    self.served = None;
                }
                Event::SelectionClear(c) if c.selection == self.atoms.PRIMARY => {
                    tracing::debug!("another application took PRIMARY");
                    self.served_primary = None;
                }
                Event::PropertyNotify(p) if p.state == Property::DELETE => {
                    self.on_deleted(p.window, p.atom)?;
                }
                Event::Error(err) => {
                    // Usually a requestor window that vanished mid-transfer.
                    tracing::debug!(?err, "X11 error");
                }
                _ => {}
            }
        }
        let now = Instant::now();
        self.transfers.retain(|t| {
            let alive = now.duration_since(t.last) < INCR_STALL;
            if !alive {
                tracing::warn!("dropped a stalled INCR transfer");
            }
            alive
        });
        self.conn.flush()?;
        Ok(changes)
    }

    /// Answers one `SelectionRequest`, then sends the `SelectionNotify`.
    fn on_request(&mut self, req: &SelectionRequestEvent) -> Result<()> {
        // Obsolete clients pass no property: use the target's name (ICCCM).
        let property = if req.property == x11rb::NONE {
            req.target
        } else {
            req.property
        };
        let slot = if req.selection == self.atoms.CLIPBOARD {
            &self.served
        } else if req.selection == self.atoms.PRIMARY {
            &self.served_primary
        } else {
            &None
        };
        let served = match slot {
            Some(s) if req.time == x11rb::CURRENT_TIME || req.time >= s.time => {
                Some((Arc::clone(&s.clip), s.time))
            }
            _ => None,
        };
        let ok = match served {
            Some((clip, time)) => self.answer(req, property, &clip, time)?,
            None => false,
        };
        let notify = SelectionNotifyEvent {
            response_type: x11rb::protocol::xproto::SELECTION_NOTIFY_EVENT,
            sequence: 0,
            time: req.time,
            requestor: req.requestor,
            selection: req.selection,
            target: req.target,
            property: if ok { property } else { x11rb::NONE },
        };
        self.conn
            .send_event(false, req.requestor, EventMask::NO_EVENT, notify)?;
        if tracing::enabled!(tracing::Level::DEBUG) {
            let target = self.cache.name(&self.conn, req.target).unwrap_or_default();
            tracing::debug!(
                requestor = req.requestor,
                target,
                ok,
                "answered a selection request"
            );
        }
        Ok(())
    }

    /// Writes the requested target into the requestor's property.
    fn answer(
        &mut self,
        req: &SelectionRequestEvent,
        property: Atom,
        clip: &Arc<Clip>,
        time: Timestamp,
    ) -> Result<bool> {
        let a = self.atoms;
        if req.target == a.TARGETS {
            let list = self.targets(clip)?;
            self.conn.change_property32(
                PropMode::REPLACE,
                req.requestor,
                property,
                a.ATOM,
                &list,
            )?;
            return Ok(true);
        }
        if req.target == a.TIMESTAMP {
            self.conn.change_property32(
                PropMode::REPLACE,
                req.requestor,
                property,
                a.INTEGER,
                &[time],
            )?;
            return Ok(true);
        }
        if req.target == a.MULTIPLE {
            return Ok(false);
        }
        let name = self.cache.name(&self.conn, req.target)?;
        let Some(index) = find_rep(clip, &name) else {
            return Ok(false);
        };
        let type_ = if req.target == a.TEXT {
            a.UTF8_STRING
        } else {
            req.target
        };
        let data = &clip.reps[index].data;
        if data.len() <= self.chunk {
            self.conn
                .change_property8(PropMode::REPLACE, req.requestor, property, type_, data)?;
            return Ok(true);
        }
        // INCR: announce the size, then send chunks as the requestor deletes.
        self.conn.change_window_attributes(
            req.requestor,
            &ChangeWindowAttributesAux::new().event_mask(EventMask::PROPERTY_CHANGE),
        )?;
        let size = u32::try_from(data.len()).unwrap_or(u32::MAX);
        self.conn
            .change_property32(PropMode::REPLACE, req.requestor, property, a.INCR, &[size])?;
        self.transfers
            .retain(|t| !(t.requestor == req.requestor && t.property == property));
        self.transfers.push(Incr {
            requestor: req.requestor,
            property,
            type_,
            clip: Arc::clone(clip),
            rep: index,
            offset: 0,
            last: Instant::now(),
        });
        tracing::debug!(size = data.len(), "INCR transfer started");
        Ok(true)
    }

    /// The requestor deleted a property: send the next chunk of its transfer.
    fn on_deleted(&mut self, window: Window, property: Atom) -> Result<()> {
        let Some(i) = self
            .transfers
            .iter()
            .position(|t| t.requestor == window && t.property == property)
        else {
            return Ok(());
        };
        let t = &mut self.transfers[i];
        let data = &t.clip.reps[t.rep].data;
        let end = (t.offset + self.chunk).min(data.len());
        self.conn.change_property8(
            PropMode::REPLACE,
            t.requestor,
            t.property,
            t.type_,
            &data[t.offset..end],
        )?;
        t.last = Instant::now();
        if end == t.offset {
            // That was the zero-length chunk that ends the transfer.
            self.transfers.swap_remove(i);
        } else {
            t.offset = end;
        }
        Ok(())
    }

    /// TARGETS: the meta targets, every MIME type, and text aliases.
    fn targets(&mut self, clip: &Clip) -> Result<Vec<Atom>> {
        let a = self.atoms;
        let mut list = vec![a.TARGETS, a.TIMESTAMP];
        let mut names: Vec<&str> = clip.reps.iter().map(|r| r.mime.as_str()).collect();
        if clip.reps.iter().any(|r| shm_clip::is_text(&r.mime)) {
            names.extend(TEXT_ALIASES);
        }
        for name in names {
            let atom = self.cache.atom(&self.conn, name)?;
            if !list.contains(&atom) {
                list.push(atom);
            }
        }
        Ok(list)
    }
}

/// The representation that serves target `name`: the exact type, else a text
/// representation for a text alias, else a looser MIME match.
fn find_rep(clip: &Clip, name: &str) -> Option<usize> {
    let reps: &[Representation] = &clip.reps;
    reps.iter()
        .position(|r| r.mime.eq_ignore_ascii_case(name))
        .or_else(|| {
            TEXT_ALIASES
                .contains(&name)
                .then(|| reps.iter().position(|r| shm_clip::is_text(&r.mime)))
                .flatten()
        })
        .or_else(|| {
            reps.iter()
                .position(|r| shm_clip::mime_matches(name, &r.mime))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_aliases_find_the_text() {
        let clip = Clip::new("text/html", "<b>x</b>").with(shm_clip::TEXT_MIME, "x");
        assert_eq!(find_rep(&clip, "UTF8_STRING"), Some(1));
        assert_eq!(find_rep(&clip, "STRING"), Some(1));
        assert_eq!(find_rep(&clip, "TEXT"), Some(1));
        assert_eq!(find_rep(&clip, "text/html"), Some(0));
        assert_eq!(find_rep(&clip, "image/png"), None);
    }
}
