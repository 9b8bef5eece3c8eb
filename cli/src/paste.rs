//! `shm-clip paste`: a clip's bytes, exactly, on stdout.

use shm_clip::{EntryInfo, Error, Selector};

use crate::args::{Global, PasteArgs};
use crate::errors::CliError;
use crate::{open, output};

/// Writes the selected clip (or its types) to stdout.
pub fn run(global: &Global, args: &PasteArgs) -> Result<(), CliError> {
    // We never add a newline, so -n changes nothing; it exists so that
    // scripts written for wl-paste run unchanged.
    tracing::trace!(no_newline = args.no_newline, "pasting");
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
    let data = match &args.mime {
        Some(mime) => board.get_type(which, mime)?.data,
        None => board
            .get(which)?
            .reps
            .into_iter()
            .next()
            .map(|rep| rep.data)
            .unwrap_or_default(),
    };
    tracing::debug!(size = data.len(), "pasting");
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
    };
    found.ok_or_else(|| Error::NoSuchEntry {
        what: match which {
            Selector::Seq(seq) => format!("seq {seq}"),
            Selector::Index(index) => {
                format!("index {index} (the history has {} entries)", entries.len())
            }
            Selector::Current => "the current clip".into(),
        },
    })
}
