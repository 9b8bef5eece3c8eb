//! `select`, `pin`, `unpin`, `rm` and `clear`: editing the history.

use crate::args::{ClearArgs, Global, Target};
use crate::errors::CliError;
use crate::{human, open, output};

/// What to do to one entry.
#[derive(Clone, Copy, Debug)]
pub enum Edit {
    Select,
    Pin,
    Unpin,
    Remove,
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
        Edit::Remove => board.delete(which)?,
    };
    tracing::debug!(?edit, ?which, seq, "edited history");
    if matches!(edit, Edit::Remove) {
        crate::menu::thumbnails::prune_to_history(&board);
    }
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
