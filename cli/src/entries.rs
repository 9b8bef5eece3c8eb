//! `select`, `pin`, `unpin`, `rm` and `clear`: editing the history.

use shm_clip::Selector;

use crate::args::{ClearArgs, Global, RmArgs, Target};
use crate::errors::CliError;
use crate::{human, open, output};

/// What to do to one entry.
#[derive(Clone, Copy, Debug)]
pub enum Edit {
    Select,
    Pin,
    Unpin,
}

/// Applies `edit` to the targeted entry. Silent on success, like `cp`.
pub fn run(global: &Global, target: &Target, edit: Edit) -> Result<(), CliError> {
    let board = open::existing(global)?;
    let which = if target.menu_line {
        crate::menu::read_choice()?
    } else {
        target.selector()
    };
    let seq = match edit {
        Edit::Select => board.select(which)?,
        Edit::Pin => board.set_pinned(which, true)?,
        Edit::Unpin => board.set_pinned(which, false)?,
    };
    tracing::debug!(?edit, ?which, seq, "edited history");
    Ok(())
}

/// `rm`: deletes one entry; a pinned one only with `--force`.
pub fn remove(global: &Global, args: &RmArgs) -> Result<(), CliError> {
    let board = open::existing(global)?;
    let which = if args.target.menu_line {
        crate::menu::read_choice()?
    } else {
        args.target.selector()
    };
    let history = board.history()?;
    let entry = match which {
        Selector::Current => history.first(),
        Selector::Index(i) => history.get(i),
        Selector::Seq(seq) => history.iter().find(|e| e.seq == seq),
    };
    // Deleting by seq: the entry checked is the entry deleted, even if the
    // history moves in between.
    let target = match entry {
        Some(e) if e.pinned && !args.force => return Err(CliError::Pinned { seq: e.seq }),
        Some(e) => Selector::Seq(e.seq),
        None => which,
    };
    let commit = board.delete(target)?;
    tracing::debug!(?target, commit, "removed");
    crate::menu::thumbnails::prune_to_history(&board);
    Ok(())
}

/// Deletes unpinned (or all) entries and says how many went.
pub fn clear(global: &Global, args: &ClearArgs) -> Result<(), CliError> {
    let board = open::existing(global)?;
    let removed = board.clear(args.all)?;
    crate::menu::thumbnails::prune_to_history(&board);
    output::text(&format!(
        "removed {}\n",
        human::count(removed, "entry", "entries")
    ))
}
