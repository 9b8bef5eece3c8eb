//! `shm-clip paste`: a clip's bytes, exactly, on stdout.

use std::io::IsTerminal;

use shm_clip::{EntryInfo, Error, Selector, looks_like_text};

use crate::args::{Global, PasteArgs};
use crate::errors::CliError;
use crate::{open, output, primary};

/// Writes the selected clip (or its types) to stdout.
pub fn run(global: &Global, args: &PasteArgs) -> Result<(), CliError> {
    if args.primary {
        let rep = primary::paste(global, args.mime.as_deref())?;
        return write(rep, args);
    }
    let board = open::existing(global)?;
    let which = if args.menu_line {
        crate::menu::read_choice()?
    } else {
        args.selector()
    };
    if args.list_types {
        // The history index lists types without copying any payload out.
        let entries = board.history()?;
        let entry = find(&entries, which)?;
        return output::text(&output::lines(
            entry.types.iter().map(|(mime, _)| mime.as_str()),
        ));
    }
    let rep = match &args.mime {
        Some(mime) => board.get_type(which, mime)?,
        None => board
            .get(which)?
            .reps
            .into_iter()
            .next()
            .ok_or(Error::Empty)?,
    };
    open::leave_mapped(board);
    write(rep, args)
}

/// Writes `rep` to stdout: exactly to a pipe or file, and on a terminal
/// only text, ending in a newline.
fn write(rep: shm_clip::Representation, args: &PasteArgs) -> Result<(), CliError> {
    let mut data = rep.data;
    tracing::debug!(size = data.len(), "pasting");
    // Pipes and files get the bytes exactly. A terminal gets text only, and
    // a final newline so that the prompt starts on a line of its own, as
    // wl-paste does.
    if std::io::stdout().is_terminal() {
        let text = looks_like_text(&data);
        if !text && !args.force {
            return Err(CliError::NotText {
                mime: rep.mime,
                size: data.len() as u64,
            });
        }
        if text && !args.no_newline && !data.is_empty() && !data.ends_with(b"\n") {
            data.push(b'\n');
        }
    }
    output::bytes(&data)
}

/// The entry `which` selects, with the errors the library gives for it.
fn find(entries: &[EntryInfo], which: Selector) -> Result<&EntryInfo, Error> {
    if entries.is_empty() {
        return Err(Error::Empty);
    }
    let found = match which {
        Selector::Current => entries.first(),
        Selector::Index(index) => entries.iter().find(|e| e.index == index),
        Selector::Seq(seq) => entries.iter().find(|e| e.seq == seq),
        Selector::Clip(id) => entries.iter().find(|e| e.clip_id == id),
    };
    found.ok_or_else(|| Error::NoSuchEntry {
        what: match which {
            Selector::Seq(seq) => format!("seq {seq}"),
            Selector::Index(index) => {
                format!("index {index} (the history has {} entries)", entries.len())
            }
            Selector::Current => "the current clip".into(),
            Selector::Clip(id) => format!("clip {id}"),
        },
    })
}
