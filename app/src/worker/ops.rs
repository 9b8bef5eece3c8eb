//! The worker's board operations: one method per [`Command`], and the
//! snapshot that follows each of them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use shm_clip::{Board, Clip, EntryInfo, Selector};

use super::{Command, CurrentText, Event, Inner, Pasted, Problem, Snapshot, Which, picture};

/// The current clip's text is read ahead up to this size, so that Ctrl+V
/// inserts it at once; a larger clip is fetched when pasted.
const READ_AHEAD: u64 = 1 << 20;

impl Inner {
    pub(super) fn handle(&mut self, command: Command) {
        // Without a mailbox nothing else would tell us; one fstat.
        if self.board.as_ref().is_some_and(Board::is_destroyed) {
            self.on_destroyed();
            if command != Command::Refresh {
                return;
            }
        }
        if self.board.is_none() {
            // Every command first retries the open that failed before.
            self.open();
            if self.board.is_none() || command == Command::Refresh {
                return;
            }
        }
        let Some(board) = &self.board else { return };
        match command {
            Command::Copy { text, cut } => {
                let size = text.len() as u64;
                match board.copy(&Clip::text(text.clone())) {
                    Ok(outcome) => self.outbox.send(Event::Copied {
                        seq: outcome.seq,
                        deduplicated: outcome.deduplicated,
                        cut: cut.is_some(),
                        size,
                    }),
                    Err(err) => self.outbox.send(Event::Failed {
                        problem: Problem::from(&err),
                        restore: cut.map(|at| (at, text)),
                    }),
                }
            }
            Command::Paste(which) => self.paste(which),
            Command::SearchArchive(_) | Command::FromArchive(_) => self.archive(board, command),
            Command::Select(seq) => self.report(
                (board.select(Selector::Seq(seq))).map(|_| "Made it the current clip".into()),
            ),
            Command::SetPinned(seq, pinned) => {
                let result = board.set_pinned(Selector::Seq(seq), pinned);
                self.report(result.map(|_| if pinned { "Pinned" } else { "Unpinned" }.into()));
            }
            Command::Delete(seq) => {
                // Kept in this window's memory for Undo; the board's copy is
                // overwritten.
                let kept = board.get(Selector::Seq(seq)).ok();
                let pinned = board
                    .history()
                    .ok()
                    .and_then(|h| h.into_iter().find(|e| e.seq == seq))
                    .is_some_and(|e| e.pinned);
                match (board.delete(Selector::Seq(seq)), kept) {
                    (Ok(_), Some(clip)) => self.outbox.send(Event::Deleted {
                        clip: Arc::new(clip),
                        pinned,
                    }),
                    (Ok(_), None) => self.outbox.send(Event::Info(
                        "Deleted the entry and overwrote its bytes".into(),
                    )),
                    (Err(err), _) => self.outbox.fail(Problem::from(&err)),
                }
            }
            Command::Restore { clip, pinned } => {
                let result = board.copy(&clip).and_then(|outcome| {
                    if pinned {
                        board.set_pinned(Selector::Current, true)?;
                    }
                    Ok(outcome.seq)
                });
                self.report(result.map(|seq| {
                    format!("Undone: the entry is back, as the current clip (seq {seq})")
                }));
            }
            Command::Clear => {
                let result = board.clear(false);
                self.report(result.map(|n| {
                    format!(
                        "Cleared {}; pinned entries stay",
                        crate::state::plural(n, "entry")
                    )
                }));
            }
            Command::CopyFiles(dropped) => match super::files::clip_of(&dropped, board) {
                Ok((clip, what)) => match board.copy(&clip) {
                    Ok(outcome) => self.outbox.send(Event::Info(format!(
                        "Copied {what} to the board (seq {})",
                        outcome.seq
                    ))),
                    Err(err) => self.outbox.fail(Problem::from(&err)),
                },
                Err(problem) => self.outbox.fail(problem),
            },
            Command::Spawn(what) => {
                if let Err(problem) = super::spawn::start(what, &self.name, &self.outbox) {
                    self.outbox.fail(problem);
                }
                // A new process subscribes without committing, so no mailbox
                // hears of it: re-read a few times while it starts.
                let now = Instant::now();
                self.rereads
                    .extend([300, 1000, 3000].map(|ms| now + Duration::from_millis(ms)));
            }
            Command::Refresh | Command::Shutdown => {}
        }
        self.refresh();
    }

    /// The history search's archive commands.
    fn archive(&self, board: &Board, command: Command) {
        match command {
            Command::SearchArchive(query) => {
                let hits = super::archive::search(&query);
                self.outbox.send(Event::ArchiveHits { query, hits });
            }
            Command::FromArchive(id) => match super::archive::bring_back(board, id) {
                Ok(message) => {
                    self.outbox.send(Event::Info(message));
                    self.paste(Which::Current);
                }
                Err(problem) => self.outbox.fail(problem),
            },
            _ => {}
        }
    }

    fn report(&self, result: shm_clip::Result<String>) {
        match result {
            Ok(message) => self.outbox.send(Event::Info(message)),
            Err(err) => self.outbox.fail(Problem::from(&err)),
        }
    }

    fn paste(&self, which: Which) {
        let Some(board) = &self.board else { return };
        let selector = match which {
            Which::Current => Selector::Current,
            Which::Seq(seq) => Selector::Seq(seq),
        };
        let seq = match which {
            Which::Seq(seq) => seq,
            Which::Current => board
                .history()
                .ok()
                .and_then(|h| h.first().map(|e| e.seq))
                .unwrap_or(0),
        };
        let clip = match board.get(selector) {
            Ok(clip) => clip,
            Err(err) => return self.outbox.fail(Problem::from(&err)),
        };
        let text = clip
            .reps
            .iter()
            .find(|r| shm_clip::is_text(&r.mime))
            .or_else(|| clip.reps.iter().find(|r| r.mime.starts_with("text/")));
        if let Some(rep) = text {
            let text = String::from_utf8_lossy(&rep.data).into_owned();
            return self.outbox.send(Event::Pasted(Pasted::Text(text)));
        }
        if let Some(rep) = clip.get("image/png") {
            match picture::decode(seq, &rep.data, picture::VIEW_SIDE) {
                Ok(picture) => self
                    .outbox
                    .send(Event::Pasted(Pasted::Image(Arc::new(picture)))),
                Err(problem) => self.outbox.fail(problem),
            }
            return;
        }
        self.outbox.fail(
            Problem::new(format!(
                "this clip has no text or PNG image (it has: {})",
                clip.types().join(", ")
            ))
            .with_hint("paste it with: shm-clip paste -t TYPE > FILE"),
        );
    }

    /// Reads the board and sends a snapshot, then any new thumbnails.
    pub(super) fn refresh(&mut self) {
        let Some(board) = &self.board else { return };
        // Status first: a commit between the two reads then shows up as a
        // notification newer than `seen_seq`, and triggers another refresh.
        let read = board
            .status()
            .and_then(|status| Ok((status, board.history()?)));
        let (status, entries) = match read {
            Ok(read) => read,
            Err(err) => return self.outbox.fail(Problem::from(&err)),
        };
        self.current_text = read_ahead(board, entries.first(), self.current_text.take());
        let programs = status
            .subscribers
            .iter()
            .map(|s| s.origin.pid)
            .filter_map(|pid| Some((pid, program_name(pid)?)))
            .collect();
        self.seen_seq = Some(status.seq);
        let images: Vec<u64> = entries
            .iter()
            .filter(|e| has_png(e) && !self.thumbnails.contains(&e.seq))
            .map(|e| e.seq)
            .collect();
        self.thumbnails
            .retain(|seq| entries.iter().any(|e| e.seq == *seq));
        self.outbox.send(Event::Snapshot(Box::new(Snapshot {
            status,
            entries,
            current_text: self.current_text.clone(),
            programs,
            received: std::mem::take(&mut self.received),
            bridge: crate::bridge::read(board.name().as_str()),
        })));
        for seq in images {
            self.thumbnails.insert(seq);
            let decoded = board
                .get_type(Selector::Seq(seq), "image/png")
                .map_err(|e| Problem::from(&e))
                .and_then(|rep| picture::decode(seq, &rep.data, picture::THUMB_SIDE));
            match decoded {
                Ok(picture) => self.outbox.send(Event::Thumbnail(Arc::new(picture))),
                Err(problem) => tracing::warn!(seq, %problem.message, "no thumbnail"),
            }
        }
    }
}

fn has_png(entry: &EntryInfo) -> bool {
    entry.types.iter().any(|(mime, _)| mime == "image/png")
}

/// The text of `current` if it is small, reusing `cached` when it is the same entry.
fn read_ahead(
    board: &Board,
    current: Option<&EntryInfo>,
    cached: Option<CurrentText>,
) -> Option<CurrentText> {
    let current = current?;
    if let Some(cached) = cached.filter(|c| c.seq == current.seq) {
        return Some(cached);
    }
    let (mime, size) = current
        .types
        .iter()
        .find(|(mime, _)| shm_clip::is_text(mime))?;
    if *size > READ_AHEAD {
        return None;
    }
    let rep = board.get_type(Selector::Seq(current.seq), mime).ok()?;
    Some(CurrentText {
        seq: current.seq,
        text: String::from_utf8_lossy(&rep.data).into(),
    })
}

/// The program name of `pid`, for the inspector's subscriber table.
fn program_name(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim_end().to_owned())
}
