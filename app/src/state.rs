//! The window's state: plain data, changed only by [`State::apply`] (events
//! from the worker) and by the drawing functions (the editor's text).

use crate::worker::{Event, Problem, Snapshot};

/// Where the board connection stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The worker has not reported yet.
    Opening,
    /// The board is open; `live` says whether a mailbox brings updates.
    Open { live: bool },
    /// The board could not be opened.
    Failed(Problem),
}

/// The outcome of the last operation, shown in the status bar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    Info(String),
    Error(Problem),
}

/// Everything the window shows.
#[derive(Debug)]
pub struct State {
    /// The board's name.
    pub board: String,
    /// The text in the editor.
    pub editor: String,
    pub phase: Phase,
    /// The last snapshot of the board; `None` until the first one.
    pub snapshot: Option<Snapshot>,
    pub notice: Option<Notice>,
}

impl State {
    pub fn new(board: impl Into<String>) -> Self {
        State {
            board: board.into(),
            editor: String::new(),
            phase: Phase::Opening,
            snapshot: None,
            notice: None,
        }
    }

    /// Applies one event from the worker.
    pub fn apply(&mut self, event: Event) {
        match event {
            Event::Opened { live } => {
                if matches!(self.phase, Phase::Failed(_)) {
                    self.notice = None;
                }
                self.phase = Phase::Open { live };
            }
            Event::OpenFailed(problem) => {
                self.phase = Phase::Failed(problem);
                self.snapshot = None;
            }
            Event::Snapshot(snapshot) => self.snapshot = Some(snapshot),
            Event::Copied { seq, deduplicated } => {
                self.notice = Some(Notice::Info(if deduplicated {
                    format!("Already in history: moved to the front (seq {seq})")
                } else {
                    format!("Copied to the board (seq {seq})")
                }));
            }
            Event::Pasted(text) => {
                self.notice = Some(Notice::Info(format!(
                    "Pasted {} from the board",
                    plural(text.chars().count(), "character")
                )));
                self.editor = text;
            }
            Event::Error(problem) => self.notice = Some(Notice::Error(problem)),
        }
    }

    /// Whether board operations make sense now.
    pub fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Open { .. })
    }

    /// The status bar's summary, such as `seq 12 · 3 entries · 2 subscribers · live`.
    pub fn status_line(&self) -> String {
        let mut parts = Vec::new();
        match &self.snapshot {
            Some(s) => {
                parts.push(format!("seq {}", s.seq));
                parts.push(plural(s.entries.len(), "entry"));
                parts.push(plural(s.subscribers, "subscriber"));
                parts.push(format!(
                    "{} of {} used",
                    human_size(s.used),
                    human_size(s.capacity)
                ));
            }
            None => parts.push("no snapshot yet".into()),
        }
        parts.push(
            match self.phase {
                Phase::Opening => "opening…",
                Phase::Open { live: true } => "live",
                Phase::Open { live: false } => "live updates off",
                Phase::Failed(_) => "not open",
            }
            .into(),
        );
        parts.join(" · ")
    }
}

/// `1 entry`, `2 entries`, `0 characters`.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else if let Some(stem) = noun.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {noun}s")
    }
}

/// A byte count for people: `512 B`, `1.5 KiB`, `64.0 MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::SystemTime;

    use shm_clip::{EntryInfo, Origin, OriginKind, TEXT_MIME};

    use super::*;

    pub(crate) fn entry(index: usize, seq: u64, text: &str) -> EntryInfo {
        EntryInfo {
            index,
            seq,
            created: SystemTime::UNIX_EPOCH,
            touched: SystemTime::UNIX_EPOCH,
            origin: Origin {
                pid: 42,
                kind: OriginKind::Cli,
                label: String::new(),
            },
            pinned: false,
            total_size: text.len() as u64,
            types: vec![(TEXT_MIME.into(), text.len() as u64)],
            preview: text.into(),
        }
    }

    pub(crate) fn snapshot(seq: u64, texts: &[&str]) -> Snapshot {
        Snapshot {
            seq,
            entries: texts
                .iter()
                .enumerate()
                .map(|(i, t)| entry(i, seq - i as u64, t))
                .collect(),
            subscribers: 2,
            used: 1536,
            capacity: 64 << 20,
        }
    }

    #[test]
    fn starts_opening_and_empty() {
        let state = State::new("work");
        assert_eq!(state.phase, Phase::Opening);
        assert!(!state.is_open());
        assert_eq!(state.status_line(), "no snapshot yet · opening…");
    }

    #[test]
    fn open_then_snapshot_fills_the_status_line() {
        let mut state = State::new("default");
        state.apply(Event::Opened { live: true });
        state.apply(Event::Snapshot(snapshot(7, &["b", "a"])));
        assert!(state.is_open());
        assert_eq!(state.snapshot.as_ref().unwrap().entries.len(), 2);
        assert_eq!(
            state.status_line(),
            "seq 7 · 2 entries · 2 subscribers · 1.5 KiB of 64.0 MiB used · live"
        );
    }

    #[test]
    fn open_failure_keeps_the_problem_and_drops_the_snapshot() {
        let mut state = State::new("default");
        state.apply(Event::Snapshot(snapshot(3, &["x"])));
        let problem = Problem {
            message: "refusing segment".into(),
            hint: Some("remove it".into()),
        };
        state.apply(Event::OpenFailed(problem.clone()));
        assert_eq!(state.phase, Phase::Failed(problem));
        assert!(state.snapshot.is_none());
        assert!(!state.is_open());

        state.notice = Some(Notice::Error(Problem::new("stale")));
        state.apply(Event::Opened { live: false });
        assert_eq!(state.phase, Phase::Open { live: false });
        assert_eq!(
            state.notice, None,
            "a successful reopen clears the old error"
        );
    }

    #[test]
    fn paste_replaces_the_editor_text() {
        let mut state = State::new("default");
        state.editor = "old".into();
        state.apply(Event::Pasted("héllo".into()));
        assert_eq!(state.editor, "héllo");
        assert_eq!(
            state.notice,
            Some(Notice::Info("Pasted 5 characters from the board".into()))
        );
    }

    #[test]
    fn copy_and_error_set_the_notice() {
        let mut state = State::new("default");
        state.apply(Event::Copied {
            seq: 4,
            deduplicated: false,
        });
        assert_eq!(
            state.notice,
            Some(Notice::Info("Copied to the board (seq 4)".into()))
        );
        state.apply(Event::Copied {
            seq: 5,
            deduplicated: true,
        });
        assert!(matches!(&state.notice, Some(Notice::Info(m)) if m.contains("moved to the front")));
        state.apply(Event::Error(Problem::new("the board is empty")));
        assert_eq!(
            state.notice,
            Some(Notice::Error(Problem::new("the board is empty")))
        );
    }

    #[test]
    fn sizes_and_plurals_read_well() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(64 << 20), "64.0 MiB");
        assert_eq!(plural(1, "entry"), "1 entry");
        assert_eq!(plural(0, "entry"), "0 entries");
        assert_eq!(plural(3, "subscriber"), "3 subscribers");
    }
}
