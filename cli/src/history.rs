//! `shm-clip history`: the entries as an aligned table, or as JSON.

use std::fmt::Write as _;

use shm_clip::EntryInfo;

use crate::args::{Global, JsonArgs};
use crate::errors::CliError;
use crate::{human, json, open, output};

/// Column headers; the preview takes whatever width is left.
const HEADERS: [&str; 7] = ["#", "SEQ", "AGE", "TYPE", "SIZE", "ORIGIN", "PIN"];
/// Columns aligned to the right.
const RIGHT: [bool; 7] = [true, true, true, false, true, false, false];
/// The narrowest preview worth showing.
const MIN_PREVIEW: usize = 16;

/// Prints the history, current entry first.
pub fn run(global: &Global, args: &JsonArgs) -> Result<(), CliError> {
    let board = open::existing(global)?;
    let entries = board.history()?;
    if args.json {
        let entries = entries
            .iter()
            .map(|e| json::Entry::read(&board, e).map(json::Versioned::new))
            .collect::<Result<Vec<_>, _>>()?;
        return output::json(&entries);
    }
    if entries.is_empty() {
        return Ok(());
    }
    output::text(&table(&entries, human::output_width()))
}

/// `history --archive`: the archived clips, most recently used first.
pub fn archived(limit: usize, as_json: bool) -> Result<(), CliError> {
    let (_, archive) = crate::archive::open_existing()?;
    let clips = match &archive {
        Some(a) => a.list(limit, 0)?,
        None => Vec::new(),
    };
    if as_json {
        let clips: Vec<_> = clips
            .iter()
            .map(|c| json::Versioned::new(json::Archived::from(c)))
            .collect();
        return output::json(&clips);
    }
    if clips.is_empty() {
        return Ok(());
    }
    let rows: Vec<[String; 6]> = clips
        .iter()
        .map(|c| {
            [
                c.id.to_string(),
                human::age(c.last_used),
                types_cell(&c.types),
                human::size(c.total_size),
                c.origin.to_string(),
                if c.pinned { "*" } else { "" }.to_owned(),
            ]
        })
        .collect();
    let headers = ["ID", "AGE", "TYPE", "SIZE", "ORIGIN", "PIN"].map(String::from);
    let mut widths = headers.clone().map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let used: usize = widths.iter().map(|w| w + 2).sum();
    let room = human::output_width().saturating_sub(used).max(MIN_PREVIEW);
    let mut text = String::new();
    let mut line = |cells: &[String; 6], preview: &str| {
        for (i, (cell, &w)) in cells.iter().zip(&widths).enumerate() {
            let _ = if i == 2 || i == 4 || i == 5 {
                write!(text, "{cell:<w$}  ")
            } else {
                write!(text, "{cell:>w$}  ")
            };
        }
        text.push_str(preview);
        let trimmed = text.trim_end_matches(' ').len();
        text.truncate(trimmed);
        text.push('\n');
    };
    line(&headers, "PREVIEW");
    for (row, c) in rows.iter().zip(&clips) {
        line(row, &human::fit(&c.preview, room));
    }
    output::text(&text)
}

fn types_cell(types: &[(String, u64)]) -> String {
    match types {
        [] => "-".to_owned(),
        [(mime, _)] => human::mime_base(mime).to_owned(),
        [(mime, _), rest @ ..] => format!("{} +{}", human::mime_base(mime), rest.len()),
    }
}

/// The table for `entries`, fitted to `width` columns where possible.
fn table(entries: &[EntryInfo], width: usize) -> String {
    let rows: Vec<[String; 7]> = entries.iter().map(row).collect();
    let mut widths = HEADERS.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let used: usize = widths.iter().map(|w| w + 2).sum();
    let preview_width = width.saturating_sub(used).max(MIN_PREVIEW);

    let mut text = String::new();
    let header = HEADERS.map(String::from);
    push_line(&mut text, &header, &widths, "PREVIEW");
    for (row, entry) in rows.iter().zip(entries) {
        push_line(
            &mut text,
            row,
            &widths,
            &human::fit(&entry.preview, preview_width),
        );
    }
    text
}

fn row(entry: &EntryInfo) -> [String; 7] {
    let types = match entry.types.as_slice() {
        [] => "-".to_owned(),
        [(mime, _)] => human::mime_base(mime).to_owned(),
        [(mime, _), rest @ ..] => format!("{} +{}", human::mime_base(mime), rest.len()),
    };
    [
        entry.index.to_string(),
        entry.seq.to_string(),
        human::age(entry.touched),
        types,
        human::size(entry.total_size),
        entry.origin.to_string(),
        if entry.pinned { "*" } else { "" }.to_owned(),
    ]
}

fn push_line(text: &mut String, cells: &[String; 7], widths: &[usize; 7], preview: &str) {
    for ((cell, &width), &right) in cells.iter().zip(widths).zip(&RIGHT) {
        // Writing to a String cannot fail.
        let _ = if right {
            write!(text, "{cell:>width$}  ")
        } else {
            write!(text, "{cell:<width$}  ")
        };
    }
    text.push_str(preview);
    let trimmed = text.trim_end_matches(' ').len();
    text.truncate(trimmed);
    text.push('\n');
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use shm_clip::{Origin, OriginKind};

    use super::*;

    fn entry(index: usize, preview: &str, pinned: bool) -> EntryInfo {
        EntryInfo {
            index,
            seq: 10 + index as u64,
            created: SystemTime::now(),
            touched: SystemTime::now(),
            origin: Origin {
                pid: 42,
                kind: OriginKind::Cli,
                label: String::new(),
            },
            pinned,
            total_size: preview.len() as u64,
            types: vec![("text/plain;charset=utf-8".into(), preview.len() as u64)],
            preview: preview.into(),
            clip_id: shm_clip::ClipId::default(),
            origin_node: shm_clip::NodeId::default(),
        }
    }

    #[test]
    fn columns_line_up_and_previews_fit() {
        let long = "x".repeat(200);
        let text = table(&[entry(0, "hello", false), entry(1, &long, true)], 100);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("#  SEQ  AGE  TYPE"), "{}", lines[0]);
        let preview_at = lines[0].find("PREVIEW").unwrap();
        assert_eq!(lines[1].find("hello"), Some(preview_at));
        assert!(lines[2].contains('*'));
        assert!(lines[2].chars().count() <= 100, "{}", lines[2]);
        assert!(lines[2].ends_with('…'));
    }
}
