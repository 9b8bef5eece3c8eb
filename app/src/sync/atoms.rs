//! Interned atoms: the fixed ones at start-up, any other MIME type on demand.

use std::collections::HashMap;

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{Atom, ConnectionExt as _};

use super::Result;

x11rb::atom_manager! {
    /// The atoms the bridge always needs.
    pub Atoms: AtomsCookie {
        CLIPBOARD,
        PRIMARY,
        TARGETS,
        TIMESTAMP,
        MULTIPLE,
        INCR,
        ATOM,
        INTEGER,
        UTF8_STRING,
        STRING,
        TEXT,
        SHM_CLIP_DATA,
        SHM_CLIP_TIME,
    }
}

/// Both ways between atoms and names, filled lazily.
#[derive(Debug, Default)]
pub struct AtomCache {
    by_name: HashMap<String, Atom>,
    by_atom: HashMap<Atom, String>,
}

impl AtomCache {
    /// The atom for `name`, interned on first use.
    pub fn atom(&mut self, conn: &impl Connection, name: &str) -> Result<Atom> {
        if let Some(&atom) = self.by_name.get(name) {
            return Ok(atom);
        }
        let atom = conn.intern_atom(false, name.as_bytes())?.reply()?.atom;
        self.remember(atom, name);
        Ok(atom)
    }

    /// The name of `atom`, asked of the server on first use.
    pub fn name(&mut self, conn: &impl Connection, atom: Atom) -> Result<String> {
        if let Some(name) = self.by_atom.get(&atom) {
            return Ok(name.clone());
        }
        let reply = conn.get_atom_name(atom)?.reply()?;
        let name = String::from_utf8_lossy(&reply.name).into_owned();
        self.remember(atom, &name);
        Ok(name)
    }

    /// The names of `atoms`, with one round trip for all the unknown ones.
    pub fn names(&mut self, conn: &impl Connection, atoms: &[Atom]) -> Result<Vec<String>> {
        let mut cookies = Vec::new();
        for &atom in atoms {
            if !self.by_atom.contains_key(&atom) && atom != x11rb::NONE {
                cookies.push((atom, conn.get_atom_name(atom)?));
            }
        }
        for (atom, cookie) in cookies {
            if let Ok(reply) = cookie.reply() {
                self.remember(atom, &String::from_utf8_lossy(&reply.name));
            }
        }
        Ok(atoms
            .iter()
            .filter_map(|a| self.by_atom.get(a).cloned())
            .collect())
    }

    fn remember(&mut self, atom: Atom, name: &str) {
        self.by_name.insert(name.to_owned(), atom);
        self.by_atom.insert(atom, name.to_owned());
    }
}
