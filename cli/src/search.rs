//! `shm-clip search`: the board's entries and the archive, one ranked list.
//!
//! The archive ranks: most relevant first (bm25), then most recent. An
//! archived clip that is on the board now is shown as that board entry.
//! Board entries the archive does not hold yet (no archiver running) match
//! by substring and come first: they are the newest clips.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use shm_clip::{Board, EntryInfo, Selector};

use crate::args::{Global, SearchArgs};
use crate::errors::CliError;
use crate::{archive, human, json, open, output};

/// Runs `search`.
pub fn run(global: &Global, args: &SearchArgs) -> Result<(), CliError> {
    let query = args.query.join(" ");
    let board = match open::existing(global) {
        Ok(b) => Some(b),
        Err(shm_clip::Error::NoSuchBoard { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let history = match &board {
        Some(b) => b.history()?,
        None => Vec::new(),
    };
    // The archive ranks; what is on the board now is shown as the board entry.
    let mut ranked = Vec::new();
    let mut shown = HashSet::new();
    if let (_, Some(a)) = archive::open_existing()? {
        let on_board: HashMap<i64, u64> = a
            .board_links(global.board.as_str())?
            .into_iter()
            .map(|(seq, id)| (id, seq))
            .collect();
        for hit in a.search(&query, args.limit)? {
            let live = on_board
                .get(&hit.info.id)
                .and_then(|seq| history.iter().find(|e| e.seq == *seq));
            match live {
                Some(e) => {
                    shown.insert(e.seq);
                    ranked.push(board_hit(e));
                }
                None => ranked.push(archive_hit(&hit.info)),
            }
        }
    }
    // Board entries the archive does not hold (no archiver ran, or it has
    // not caught up yet) are the newest clips: they come first.
    let mut hits: Vec<json::Hit> = match &board {
        Some(b) => board_matches(b, &history, &query)
            .into_iter()
            .filter(|e| !shown.contains(&e.seq))
            .map(board_hit)
            .collect(),
        None => Vec::new(),
    };
    hits.extend(ranked);
    hits.truncate(args.limit);
    if args.json {
        let hits: Vec<_> = hits.into_iter().map(json::Versioned::new).collect();
        return output::json(&hits);
    }
    let mut text = String::new();
    let width = human::output_width();
    for h in &hits {
        let place = match (h.index, h.archive_id) {
            (Some(i), _) => format!("board {i}"),
            (None, Some(id)) => format!("archive {id}"),
            (None, None) => String::new(),
        };
        let mime = h.types.first().map_or("-", |t| human::mime_base(&t.mime));
        let head = format!(
            "{place:<14}  {:>4}  {mime:<10}  {:>7}  {}",
            human::age(std::time::UNIX_EPOCH + std::time::Duration::from_millis(h.last_used_ms)),
            human::size(h.total_size),
            if h.pinned { "*" } else { " " }
        );
        let room = width.saturating_sub(head.chars().count() + 2).max(16);
        let _ = writeln!(text, "{head}  {}", human::fit(&h.preview, room));
    }
    output::text(&text)
}

/// The board's entries whose readable text (plain text, HTML without its
/// tags, URIs: what the archive indexes) holds every word, case-insensitively.
fn board_matches<'a>(board: &Board, history: &'a [EntryInfo], query: &str) -> Vec<&'a EntryInfo> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    history
        .iter()
        .filter(|e| {
            let reps: Vec<_> = e
                .types
                .iter()
                .filter(|(m, _)| shm_clip::text_kind(m).is_some())
                .filter_map(|(m, _)| board.get_type(Selector::Seq(e.seq), m).ok())
                .collect();
            if reps.is_empty() {
                return false;
            }
            let text = shm_clip::readable_text(
                reps.iter().map(|r| (r.mime.as_str(), &r.data[..])),
                usize::MAX,
            )
            .to_lowercase();
            words.iter().all(|w| text.contains(w.as_str()))
        })
        .collect()
}

fn types(list: &[(String, u64)]) -> Vec<json::Type> {
    list.iter()
        .map(|(mime, size)| json::Type {
            mime: mime.clone(),
            size: *size,
        })
        .collect()
}

fn board_hit(e: &EntryInfo) -> json::Hit {
    json::Hit {
        location: "board",
        index: Some(e.index),
        seq: Some(e.seq),
        archive_id: None,
        last_used: json::rfc3339(e.touched),
        last_used_ms: json::epoch_ms(e.touched),
        origin: json::Origin::from(&e.origin),
        pinned: e.pinned,
        total_size: e.total_size,
        types: types(&e.types),
        preview: e.preview.clone(),
    }
}

fn archive_hit(a: &shm_clip_archive::ArchivedInfo) -> json::Hit {
    json::Hit {
        location: "archive",
        index: None,
        seq: None,
        archive_id: Some(a.id),
        last_used: json::rfc3339(a.last_used),
        last_used_ms: json::epoch_ms(a.last_used),
        origin: json::Origin::from(&a.origin),
        pinned: a.pinned,
        total_size: a.total_size,
        types: types(&a.types),
        preview: a.preview.clone(),
    }
}
