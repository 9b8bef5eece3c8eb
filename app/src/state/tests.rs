use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use shm_clip::{EntryInfo, LockStats, Origin, OriginKind, Status, SubscriberInfo, TEXT_MIME};

use super::*;
use crate::worker::CurrentText;

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
        clip_id: shm_clip::ClipId([seq as u8; 16]),
        origin_node: shm_clip::NodeId::default(),
    }
}

pub(crate) fn status(seq: u64, subscribers: &[(u32, OriginKind)]) -> Status {
    Status {
        name: "test".into(),
        path: PathBuf::from("/dev/shm/shm-clip.0.test"),
        owner_uid: 0,
        mode: 0o600,
        layout_version: shm_clip::LAYOUT_VERSION,
        segment_size: 64 << 20,
        capacity: 64 << 20,
        used: 1536,
        seq,
        entries: 0,
        max_entries: 200,
        node_id: shm_clip::NodeId::default(),
        lock: LockStats::default(),
        subscribers: subscribers
            .iter()
            .map(|&(pid, kind)| SubscriberInfo {
                origin: Origin {
                    pid,
                    kind,
                    label: String::new(),
                },
                mailbox: format!("/shm-clip.0.test@{pid}.0000"),
                pending: Some(0),
            })
            .collect(),
        max_subscribers: 32,
        last_change: None,
    }
}

/// A snapshot at `seq` whose entries have these texts, current first; the
/// current text is read ahead.
pub(crate) fn snapshot(seq: u64, texts: &[&str]) -> Snapshot {
    let entries: Vec<EntryInfo> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| entry(i, seq - i as u64, t))
        .collect();
    Snapshot {
        bridge: None,
        status: Status {
            entries: entries.len(),
            ..status(seq, &[(1, OriginKind::App), (2, OriginKind::App)])
        },
        current_text: entries.first().map(|e| CurrentText {
            seq: e.seq,
            text: Arc::from(e.preview.as_str()),
        }),
        entries,
        programs: vec![(1, "shm-clip-app".into())],
        received: Vec::new(),
    }
}

fn open_state() -> State {
    let mut state = State::new("default");
    state.apply(Event::Opened { mailbox: None });
    state.apply(Event::Snapshot(Box::new(snapshot(7, &["beta", "alpha"]))));
    state
}

#[test]
fn starts_opening_and_empty() {
    let state = State::new("work");
    assert_eq!(state.phase, Phase::Opening);
    assert!(!state.is_open());
    assert!(state.entries().is_empty());
}

#[test]
fn open_failure_keeps_the_problem_and_drops_the_snapshot() {
    let mut state = open_state();
    let problem = Problem::new("refusing segment").with_hint("remove it");
    state.apply(Event::OpenFailed(problem.clone()));
    assert_eq!(state.phase, Phase::Failed(problem));
    assert!(state.snapshot.is_none());
    assert!(!state.is_open());

    state.notice = Some(Notice::Error(Problem::new("stale")));
    state.apply(Event::Opened {
        mailbox: Some(Problem::new("queue limit")),
    });
    assert!(state.is_open());
    assert!(
        matches!(state.phase, Phase::Open { mailbox: Some(_) }),
        "no mailbox: live updates are off"
    );
    assert_eq!(
        state.notice, None,
        "a successful reopen clears the old error"
    );
}

#[test]
fn copy_sends_the_selection_or_all_and_cut_removes_it() {
    let mut state = open_state();
    assert_eq!(state.copy(), None, "nothing to copy");
    state.editor.text = "hello board".into();
    assert_eq!(
        state.copy(),
        Some(Command::Copy {
            text: "hello board".into(),
            cut: None
        })
    );
    state.editor.selection = 6..11;
    assert_eq!(
        state.cut(),
        Some(Command::Copy {
            text: "board".into(),
            cut: Some(6)
        })
    );
    assert_eq!(state.editor.text, "hello ");

    // The copy failed: the cut text comes back where it was.
    state.apply(Event::Failed {
        problem: Problem::new("too large"),
        restore: Some((6, "board".into())),
    });
    assert_eq!(state.editor.text, "hello board");
    assert!(matches!(state.notice, Some(Notice::Error(_))));
}

#[test]
fn paste_of_read_ahead_text_is_immediate_and_replaces_the_selection() {
    let mut state = open_state();
    state.editor.text = "say hi!".into();
    state.editor.selection = 4..6;
    assert_eq!(
        state.paste(),
        None,
        "the text was read ahead: no round trip"
    );
    assert_eq!(state.editor.text, "say beta!");
    assert_eq!(state.editor.selection, 8..8);

    // An older entry is fetched by the worker, then inserted the same way.
    assert_eq!(state.paste_entry(6), Some(Command::Paste(Which::Seq(6))));
    state.apply(Event::Pasted(Pasted::Text("+alpha".into())));
    assert_eq!(state.editor.text, "say beta+alpha!");
}

#[test]
fn snapshots_keep_the_last_notifications() {
    let mut state = open_state();
    for seq in 8..8 + NOTES_KEPT as u64 + 5 {
        let mut snap = snapshot(seq, &["x"]);
        snap.received.push(Received {
            seq,
            origin_pid: 5,
            origin_kind: OriginKind::Cli,
            coalesced: 1,
            committed_at: SystemTime::UNIX_EPOCH,
            received_at: SystemTime::UNIX_EPOCH,
            applied_at: None,
        });
        state.apply(Event::Snapshot(Box::new(snap)));
    }
    assert_eq!(state.notes.len(), NOTES_KEPT);
    assert_eq!(state.notes.back().unwrap().seq, 8 + NOTES_KEPT as u64 + 4);
}

#[test]
fn search_matches_text_type_and_origin() {
    let mut state = open_state();
    state.history.search = "ALP".into();
    let found: Vec<_> = state
        .visible_entries()
        .iter()
        .map(|e| e.preview.clone())
        .collect();
    assert_eq!(found, ["alpha"]);
    state.history.search = "cli 42".into();
    assert_eq!(state.visible_entries().len(), 2);
    state.history.search = "image/png".into();
    assert!(state.visible_entries().is_empty());
}

#[test]
fn the_tray_is_found_among_subscribers() {
    let mut state = open_state();
    assert!(state.tray().is_none());
    let mut snap = snapshot(8, &["x"]);
    snap.status = status(8, &[(1, OriginKind::App), (77, OriginKind::Tray)]);
    state.apply(Event::Snapshot(Box::new(snap)));
    assert_eq!(state.tray().map(|t| t.origin.pid), Some(77));
    assert_eq!(state.program(1), Some("shm-clip-app"));
}

#[test]
fn messages_and_undo_expire_after_a_few_seconds() {
    let mut state = open_state();
    state.apply(Event::Info("Pinned".into()));
    state.apply(Event::Deleted {
        clip: Arc::new(shm_clip::Clip::text("gone")),
        pinned: true,
    });
    let now = std::time::Instant::now();
    assert!(state.history.undo.is_some());
    let due = state.expire(now).expect("something to expire");
    assert!(due <= NOTICE_FOR, "{due:?}");
    assert!(state.notice.is_some());
    state.expire(now + NOTICE_FOR + std::time::Duration::from_millis(50));
    assert_eq!(state.notice, None, "the message went");
    assert!(state.history.undo.is_some(), "Undo lasts a little longer");
    assert_eq!(
        state.expire(now + UNDO_FOR + std::time::Duration::from_millis(50)),
        None
    );
    assert_eq!(state.history.undo, None, "the deleted bytes left memory");
    // A message set directly (as tests do) still expires.
    state.notice = Some(Notice::Info("set by hand".into()));
    state.expire(now);
    state.expire(now + NOTICE_FOR + std::time::Duration::from_millis(1));
    assert_eq!(state.notice, None);
}
