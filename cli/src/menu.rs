//! Menu integration: `history --menu` lists one line per entry for dmenu,
//! rofi, fzf, wofi or fuzzel, and `select`/`paste --menu-line` read the
//! chosen line back.
//!
//! A line is `<seq>\t<preview>`. The seq is the entry's creation seq, which
//! stays the same while the entry lives however the history moves, so a line
//! chosen after other copies still names the entry it showed (clipmenu and
//! clipcat use positions, which then point at the wrong one). Only the digits
//! before the tab are read back; the preview is for people, so the round trip
//! is exact for any content.

mod preview;
pub mod thumbnails;

use std::io::{self, Read};

use shm_clip::{Board, EntryInfo, Error, Selector, TextKind};

pub use self::preview::{Body, visible_line};
pub use crate::args::MenuFormat;
use crate::args::{Global, HistoryMenuArgs};
use crate::errors::CliError;
use crate::{open, output};

/// One entry, summarised for a menu.
#[derive(Debug)]
pub struct Item {
    pub info: EntryInfo,
    pub body: Body,
    /// The cached thumbnail of an image entry, with `--icons`.
    pub icon: Option<std::path::PathBuf>,
}

impl Item {
    /// The menu line, with its separator.
    pub fn line(&self, format: MenuFormat) -> String {
        let mut line = format!("{}\t{}", self.info.seq, self.body.line(format.width.into()));
        if let Some(icon) = self.icon.as_ref().filter(|_| format.icons) {
            // rofi's row options: `text\0icon\x1fPATH`.
            line.push('\0');
            line.push_str("icon\x1f");
            line.push_str(&icon.to_string_lossy());
        }
        line.push(if format.null { '\0' } else { '\n' });
        line
    }
}

/// `shm-clip history --menu`.
pub fn run(global: &Global, args: &HistoryMenuArgs) -> Result<(), CliError> {
    let board = open::existing(global)?;
    let items = load(&board, args.format.icons)?;
    output::text(&lines(&items, args.format))
}

/// Every line, newest first.
pub fn lines(items: &[Item], format: MenuFormat) -> String {
    items.iter().map(|item| item.line(format)).collect()
}

/// Reads every entry and summarises it: text entries are read whole (their
/// line count needs it) but only their head is kept. With `icons`, image
/// entries get a cached thumbnail, and the board's stale ones are removed.
pub fn load(board: &Board, icons: bool) -> Result<Vec<Item>, CliError> {
    let entries = board.history()?;
    let mut items = Vec::with_capacity(entries.len());
    for info in entries {
        match summarise(board, &info, icons) {
            Ok((body, icon)) => items.push(Item { info, body, icon }),
            // Removed or replaced since the listing: it is simply not shown.
            Err(Error::NoSuchEntry { .. }) => {}
            Err(err) => {
                tracing::warn!(seq = info.seq, %err, "skipping an unreadable entry");
            }
        }
    }
    if icons {
        let keep: Vec<_> = items.iter().filter_map(|i| i.icon.clone()).collect();
        thumbnails::prune(board.name(), &keep);
    }
    Ok(items)
}

fn summarise(
    board: &Board,
    info: &EntryInfo,
    icons: bool,
) -> Result<(Body, Option<std::path::PathBuf>), Error> {
    let which = Selector::Seq(info.seq);
    let Some((first, _)) = info.types.first() else {
        return Ok((Body::Empty, None));
    };
    if first.starts_with("image/") {
        let rep = board.get_type(which, first)?;
        let icon = if icons {
            thumbnails::ensure(board.name(), info.seq, &rep.mime, &rep.data)
        } else {
            None
        };
        return Ok((Body::image(first, &rep.data), icon));
    }
    if let Some((kind, mime)) = shm_clip::best_text_type(info.types.iter().map(|(m, _)| m.as_str()))
    {
        let rep = board.get_type(which, mime)?;
        if kind == TextKind::Plain {
            return Ok((Body::text(mime, &rep.data), None));
        }
        // HTML without its tags, a URI list without its comments.
        let text = shm_clip::readable_text([(mime, &rep.data[..])], usize::MAX);
        return Ok((Body::text(mime, text.as_bytes()), None));
    }
    let (mime, size) = &info.types[0];
    Ok((
        Body::Binary {
            mime: mime.clone(),
            size: *size,
        },
        None,
    ))
}

/// The entry named by the menu line on stdin. An empty stdin (a cancelled
/// menu in a pipeline) is [`CliError::Cancelled`].
pub fn read_choice() -> Result<Selector, CliError> {
    // A line is a seq, a tab and a preview; nothing past 64 KiB matters.
    let mut input = Vec::new();
    io::stdin()
        .lock()
        .take(64 * 1024)
        .read_to_end(&mut input)
        .map_err(|source| CliError::Read {
            path: "stdin".into(),
            source,
        })?;
    parse_choice(&input).map(Selector::Seq)
}

/// The seq before the first tab of the first line (or NUL-ended record).
pub fn parse_choice(input: &[u8]) -> Result<u64, CliError> {
    let record = input
        .split(|&b| b == b'\n' || b == b'\0')
        .next()
        .unwrap_or_default();
    if record.is_empty() {
        return Err(CliError::Cancelled);
    }
    // A menu that returns what was typed (dmenu, fuzzel) gives text without
    // a tab: refusing it keeps a typed "12" from selecting seq 12.
    let Some(tab) = record.iter().position(|&b| b == b'\t') else {
        return Err(CliError::MenuLine(
            "it has no tab (was it typed instead of chosen?)".into(),
        ));
    };
    let id = &record[..tab];
    std::str::from_utf8(id)
        .ok()
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| {
            CliError::MenuLine(format!(
                "{:?} before the tab is not a seq",
                String::from_utf8_lossy(id)
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_are_read_from_the_id_alone() {
        let seq = |input: &[u8]| parse_choice(input).ok();
        assert_eq!(seq(b"42\thello\n"), Some(42));
        assert_eq!(seq(b"42\t\xff\xfe\tmore\n7\tnext\n"), Some(42));
        assert_eq!(seq(b"9\t[[ image/png ]]\0icon\x1f/x.png\0"), Some(9));
        assert_eq!(seq(b"12\n"), None, "typed, no tab");
        assert_eq!(seq(b"-1\tx"), None);
        assert_eq!(seq(b" 1\tx"), None);
        assert_eq!(seq(b"99999999999999999999999\tx"), None);
        assert!(matches!(parse_choice(b""), Err(CliError::Cancelled)));
        assert!(matches!(parse_choice(b"\n"), Err(CliError::Cancelled)));
    }
}
