//! The window's state: plain data, changed by [`State::apply`] (events from
//! the worker) and by the edits the drawing functions ask for (copy, cut,
//! paste, search). Nothing here touches egui or IPC, so it is unit-tested
//! without a window.

mod editor;
mod format;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shm_clip::{Clip, EntryInfo, OriginKind, SubscriberInfo};

pub use editor::Editor;
pub use format::{age, human_size, latency, origin, plural, short_mime};

use crate::prefs::Prefs;
use crate::worker::{Command, Event, Pasted, Picture, Problem, Received, Snapshot, Which};

/// How many received notifications the inspector lists.
pub const NOTES_KEPT: usize = 32;

/// How long the status bar shows a message, and an error.
pub const NOTICE_FOR: Duration = Duration::from_secs(6);
pub const ERROR_FOR: Duration = Duration::from_secs(12);
/// How long a deleted entry's bytes stay in the window's memory for Undo.
pub const UNDO_FOR: Duration = Duration::from_secs(8);

/// Where the board connection stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The worker has not reported yet.
    Opening,
    /// The board is open. `mailbox` holds why there is no mailbox, when
    /// there is none: then live updates are off.
    Open { mailbox: Option<Problem> },
    /// The board could not be opened.
    Failed(Problem),
    /// The board was destroyed while this window had it open (`shm-clip
    /// destroy`, or its segment removed): its clips are gone.
    Destroyed,
}

/// The outcome of the last operation, shown in the status bar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    Info(String),
    Error(Problem),
}

/// The history panel's own state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryView {
    pub search: String,
    /// The archive's hits for `archive_query`, shown under "From the archive".
    pub archive_hits: Vec<crate::worker::ArchiveHit>,
    /// The search the archive was last asked about.
    pub archive_query: String,
    /// The entry the keyboard is on, by seq.
    pub selected: Option<u64>,
    /// Clear was pressed once and waits for confirmation.
    pub confirm_clear: bool,
    /// A pinned entry, by seq, whose delete waits for confirmation.
    pub confirm_delete: Option<u64>,
    /// The entry last deleted from the panel, kept for Undo a few seconds.
    pub undo: Option<Undo>,
    /// The newest seq the user has seen at the top of the list: entries
    /// newer than it above the visible rows are counted as "N new".
    pub seen_seq: Option<u64>,
}

/// A deleted entry's content, still in this window's memory: Undo copies it
/// back to the board (and pins it again if it was pinned).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Undo {
    pub clip: Arc<Clip>,
    pub pinned: bool,
    pub until: Instant,
}

/// Everything the window shows.
#[derive(Debug)]
pub struct State {
    /// The board's name.
    pub board: String,
    /// This process, to mark its own entries and subscriber.
    pub own_pid: u32,
    pub phase: Phase,
    /// The last snapshot of the board; `None` until the first one.
    pub snapshot: Option<Snapshot>,
    pub editor: Editor,
    /// The image in the image view, after pasting an image clip.
    pub image: Option<Arc<Picture>>,
    /// Thumbnails of image entries, by seq.
    pub thumbnails: HashMap<u64, Arc<Picture>>,
    /// The last notifications this window received, newest last.
    pub notes: VecDeque<Received>,
    pub history: HistoryView,
    pub prefs: Prefs,
    pub notice: Option<Notice>,
    /// When `notice` expires; `None` means it was set without a time, and
    /// [`State::expire`] gives it one.
    pub notice_until: Option<Instant>,
}

impl State {
    pub fn new(board: impl Into<String>) -> Self {
        State {
            board: board.into(),
            own_pid: std::process::id(),
            phase: Phase::Opening,
            snapshot: None,
            editor: Editor {
                want_focus: true,
                ..Editor::default()
            },
            image: None,
            thumbnails: HashMap::new(),
            notes: VecDeque::new(),
            history: HistoryView::default(),
            prefs: Prefs::default(),
            notice: None,
            notice_until: None,
        }
    }

    /// Shows `notice` in the status bar for a few seconds.
    pub fn say(&mut self, notice: Notice) {
        let lasts = match notice {
            Notice::Info(_) => NOTICE_FOR,
            Notice::Error(_) => ERROR_FOR,
        };
        self.notice = Some(notice);
        self.notice_until = Some(Instant::now() + lasts);
    }

    fn inform(&mut self, message: impl Into<String>) {
        self.say(Notice::Info(message.into()));
    }

    /// Drops the status message and the Undo once they are due at `now`;
    /// returns how long until the next one is due, to repaint then.
    pub fn expire(&mut self, now: Instant) -> Option<Duration> {
        if self.notice.is_some() && self.notice_until.is_none() {
            self.notice_until = Some(now + NOTICE_FOR);
        }
        if self.notice_until.is_some_and(|t| t <= now) {
            self.notice = None;
            self.notice_until = None;
        }
        if self.history.undo.as_ref().is_some_and(|u| u.until <= now) {
            self.history.undo = None;
        }
        [
            self.notice_until,
            self.history.undo.as_ref().map(|u| u.until),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|t| t.saturating_duration_since(now))
    }

    /// Applies one event from the worker.
    pub fn apply(&mut self, event: Event) {
        match event {
            Event::Opened { mailbox } => {
                if matches!(self.phase, Phase::Failed(_) | Phase::Destroyed) {
                    self.notice = None;
                    self.notice_until = None;
                }
                self.phase = Phase::Open { mailbox };
            }
            Event::OpenFailed(problem) => {
                self.phase = Phase::Failed(problem);
                self.snapshot = None;
            }
            Event::Destroyed => {
                self.phase = Phase::Destroyed;
                self.snapshot = None;
                self.thumbnails.clear();
                self.image = None;
            }
            Event::Snapshot(mut snapshot) => {
                for note in std::mem::take(&mut snapshot.received) {
                    if self.notes.len() == NOTES_KEPT {
                        self.notes.pop_front();
                    }
                    self.notes.push_back(note);
                }
                let live = |seq: &u64| snapshot.entries.iter().any(|e| e.seq == *seq);
                self.thumbnails.retain(|seq, _| live(seq));
                if self.history.selected.is_some_and(|seq| !live(&seq)) {
                    self.history.selected = None;
                }
                if snapshot.entries.is_empty() {
                    self.history.confirm_clear = false;
                }
                if self.history.confirm_delete.is_some_and(|seq| !live(&seq)) {
                    self.history.confirm_delete = None;
                }
                self.snapshot = Some(*snapshot);
            }
            Event::Copied {
                seq,
                deduplicated,
                cut,
                size,
            } => {
                let verb = if cut { "Cut" } else { "Copied" };
                self.inform(if deduplicated {
                    format!(
                        "{verb} {}: already in history, moved to the front (seq {seq})",
                        human_size(size)
                    )
                } else {
                    format!("{verb} {} to the board (seq {seq})", human_size(size))
                });
            }
            Event::Pasted(Pasted::Text(text)) => self.insert(&text),
            Event::Pasted(Pasted::Image(picture)) => {
                self.inform(format!(
                    "Pasted an image: {} × {} px",
                    picture.width, picture.height
                ));
                self.image = Some(picture);
                self.prefs.view = crate::prefs::View::Editor;
            }
            Event::Thumbnail(picture) => {
                self.thumbnails.insert(picture.seq, picture);
            }
            Event::Info(message) => self.inform(message),
            Event::ArchiveHits { query, hits } => {
                // An answer to an older keystroke is dropped.
                if query == self.history.search {
                    self.history.archive_hits = hits;
                }
            }
            Event::Deleted { clip, pinned } => {
                self.history.undo = Some(Undo {
                    clip,
                    pinned,
                    until: Instant::now() + UNDO_FOR,
                });
                self.inform(if pinned {
                    "Deleted the pinned entry and overwrote its bytes"
                } else {
                    "Deleted the entry and overwrote its bytes"
                });
            }
            Event::Failed { problem, restore } => {
                if let Some((at, text)) = restore {
                    self.editor.restore(at, &text);
                }
                self.say(Notice::Error(problem));
            }
        }
    }

    fn insert(&mut self, text: &str) {
        self.editor.insert(text);
        self.inform(format!(
            "Pasted {} from the board",
            plural(text.chars().count(), "character")
        ));
    }

    /// Whether board operations make sense now.
    pub fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Open { .. })
    }

    pub fn entries(&self) -> &[EntryInfo] {
        self.snapshot.as_ref().map_or(&[], |s| &s.entries)
    }

    /// Copy: the selection, or the whole text, to the board.
    pub fn copy(&mut self) -> Option<Command> {
        self.take_from_editor(false)
    }

    /// Cut: like copy, and the text leaves the editor. If the copy fails,
    /// the worker's error brings the text back.
    pub fn cut(&mut self) -> Option<Command> {
        self.take_from_editor(true)
    }

    fn take_from_editor(&mut self, cut: bool) -> Option<Command> {
        if !self.is_open() {
            self.say(Notice::Error(Problem::new("the board is not open")));
            return None;
        }
        let taken = if cut {
            self.editor.cut()
        } else {
            self.editor.copy_text().map(|text| (0, text))
        };
        let Some((at, text)) = taken else {
            self.inform("Nothing to copy: the document is empty");
            return None;
        };
        Some(Command::Copy {
            text,
            cut: cut.then_some(at),
        })
    }

    /// Paste the current clip at the cursor. Text that was read ahead goes
    /// in at once; anything else is asked of the worker.
    pub fn paste(&mut self) -> Option<Command> {
        match self.entries().first().map(|e| e.seq) {
            Some(seq) => self.paste_entry(seq),
            None if self.is_open() && self.snapshot.is_some() => {
                self.inform("Nothing to paste: the board is empty");
                None
            }
            None => Some(Command::Paste(Which::Current)),
        }
    }

    /// Paste the entry created at `seq` at the cursor (or into the image view).
    pub fn paste_entry(&mut self, seq: u64) -> Option<Command> {
        let ahead = self
            .snapshot
            .as_ref()
            .and_then(|s| s.current_text.as_ref())
            .filter(|c| c.seq == seq)
            .map(|c| Arc::clone(&c.text));
        if let Some(text) = ahead {
            self.insert(&text);
            return None;
        }
        Some(Command::Paste(Which::Seq(seq)))
    }

    /// Delete from the panel: a pinned entry asks first.
    pub fn request_delete(&mut self, entry: &EntryInfo) -> Option<Command> {
        if entry.pinned && self.history.confirm_delete != Some(entry.seq) {
            self.history.confirm_delete = Some(entry.seq);
            return None;
        }
        self.history.confirm_delete = None;
        Some(Command::Delete(entry.seq))
    }

    /// Undo the last delete: copy its bytes back, if they are still kept.
    pub fn undo(&mut self) -> Option<Command> {
        let undo = self.history.undo.take()?;
        Some(Command::Restore {
            clip: undo.clip,
            pinned: undo.pinned,
        })
    }

    /// The entries that match the search, current first.
    pub fn visible_entries(&self) -> Vec<&EntryInfo> {
        let needle = self.history.search.trim().to_lowercase();
        self.entries()
            .iter()
            .filter(|e| needle.is_empty() || self.matches(e, &needle))
            .collect()
    }

    fn matches(&self, entry: &EntryInfo, needle: &str) -> bool {
        entry.preview.to_lowercase().contains(needle)
            || entry.types.iter().any(|(mime, _)| mime.contains(needle))
            || origin(&entry.origin, self.own_pid).contains(needle)
    }

    /// The tray process bridging this board, if one is subscribed.
    pub fn tray(&self) -> Option<&SubscriberInfo> {
        self.snapshot
            .as_ref()?
            .status
            .subscribers
            .iter()
            .find(|s| s.origin.kind == OriginKind::Tray)
    }

    /// The program name of `pid`, if the worker could read it.
    pub fn program(&self, pid: u32) -> Option<&str> {
        let snapshot = self.snapshot.as_ref()?;
        snapshot
            .programs
            .iter()
            .find(|(p, _)| *p == pid)
            .map(|(_, name)| name.as_str())
    }
}

#[cfg(test)]
pub(crate) mod tests;
