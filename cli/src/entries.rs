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
    if let Some(id) = target.archive {
        return archived(global, id, edit);
    }
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
    if let Some(id) = args.target.archive {
        return remove_archived(global, id, args.force);
    }
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
        Selector::Clip(id) => history.iter().find(|e| e.clip_id == id),
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

/// `select --archive ID` brings an archived clip back to the board as the
/// current clip, with its first origin and times; `pin`/`unpin --archive`
/// change the archived clip's pin, and the board entry's if it is on the
/// board now (pins follow the board: the archiver would undo one made in
/// the archive alone, as `rm --archive` deletes from both).
fn archived(global: &Global, id: i64, edit: Edit) -> Result<(), CliError> {
    let mut archive = crate::archive::open_required()?;
    match edit {
        Edit::Select => {
            let (info, clip) = archive.get(id)?;
            let board = open::or_create(global)?;
            let now = std::time::SystemTime::now();
            let outcome = board.restore(
                &clip,
                &shm_clip::Provenance {
                    origin: info.origin.clone(),
                    created: info.first_seen,
                    touched: now,
                    pinned: info.pinned,
                    clip_id: info.clip_id.map(shm_clip::ClipId),
                    origin_node: None,
                },
            )?;
            archive.touch(id, now)?;
            tracing::debug!(id, seq = outcome.seq, "brought back from the archive");
        }
        Edit::Pin | Edit::Unpin => {
            let pinned = matches!(edit, Edit::Pin);
            if !archive.set_pinned(id, pinned)? {
                return Err(shm_clip_archive::Error::NoSuchClip(id).into());
            }
            if let Some(seq) = on_board(&archive, global, id)? {
                match open::existing(global).and_then(|b| b.set_pinned(Selector::Seq(seq), pinned))
                {
                    Ok(_)
                    | Err(
                        shm_clip::Error::NoSuchBoard { .. } | shm_clip::Error::NoSuchEntry { .. },
                    ) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    Ok(())
}

/// `rm --archive ID`: deletes the clip from the archive, and from the board
/// too if it is there now (else the archiver would archive it again).
fn remove_archived(global: &Global, id: i64, force: bool) -> Result<(), CliError> {
    let mut archive = crate::archive::open_required()?;
    let info = archive.info(id)?;
    if info.pinned && !force {
        return Err(CliError::PinnedArchived { id });
    }
    if let Some(seq) = on_board(&archive, global, id)? {
        match open::existing(global).and_then(|b| b.delete(Selector::Seq(seq))) {
            Ok(_)
            | Err(shm_clip::Error::NoSuchBoard { .. } | shm_clip::Error::NoSuchEntry { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    archive.delete(&[id])?;
    crate::archive::warn_if_unscrubbed(&archive);
    Ok(())
}

/// The seq of the board entry that archived clip `id` is now, if it is on
/// the board.
fn on_board(
    archive: &shm_clip_archive::Archive,
    global: &Global,
    id: i64,
) -> Result<Option<u64>, CliError> {
    Ok(archive
        .board_links(global.board.as_str())?
        .into_iter()
        .find_map(|(seq, clip)| (clip == id).then_some(seq)))
}
