//! The picker in `egui_kittest`, against real boards: each test drives the
//! same [`PickerWindow`] the resident picker runs (worker thread and all),
//! with the keys a user presses, and checks the board itself.

use std::time::{Duration, Instant};

use eframe::egui::{self, Event, Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use shm_clip::{Clip, Selector};

use super::window::PickerWindow;
use crate::testing::TestBoard;

type Ui = Harness<'static, PickerWindow>;

/// A picker on a fresh board `test` that holds `texts` (oldest first),
/// focused, once it shows them.
fn open(test: &str, texts: &[&str]) -> (TestBoard, Ui) {
    let board = TestBoard::new(test);
    {
        let writer = board.open();
        for text in texts {
            writer.copy(&Clip::text(*text)).unwrap();
        }
    }
    let picker = PickerWindow::start(&board.0, false, None, || {}).unwrap();
    let mut ui = Harness::builder()
        .with_size(egui::vec2(640.0, 430.0))
        .build_ui_state(|ui, picker: &mut PickerWindow| picker.frame(ui), picker);
    wait_for(&mut ui, "the board's history", |p| {
        p.picker.entries().len() == texts.len()
    });
    ui.event(Event::WindowFocused(true));
    ui.run_ok();
    (board, ui)
}

/// Runs frames until `done` holds, failing after a 10 s watchdog.
fn wait_for(ui: &mut Ui, what: &str, mut done: impl FnMut(&PickerWindow) -> bool) {
    let start = Instant::now();
    loop {
        ui.run_ok();
        if done(ui.state()) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out after 10 s waiting for {what}; notice: {:?}",
            ui.state().picker.notice
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn current(board: &TestBoard) -> String {
    board.open().paste().unwrap().text_str().unwrap().to_owned()
}

fn wait_current(ui: &mut Ui, board: &TestBoard, want: &str) {
    wait_for(ui, &format!("{want:?} to become current"), |_| {
        current(board) == want
    });
}

fn shown(ui: &Ui) -> Vec<String> {
    ui.state()
        .picker
        .shown()
        .map(|e| e.preview.clone())
        .collect()
}

#[test]
fn typing_filters_and_enter_makes_the_match_current() {
    let (board, mut ui) = open("pk-enter", &["alpha one", "beta two", "gamma three"]);
    ui.get_by_label("Search").type_text("BET");
    ui.run_ok();
    assert_eq!(shown(&ui), ["beta two"]);
    ui.key_press(Key::Enter);
    ui.run_ok();
    assert!(!ui.state().visible, "Enter closes the picker");
    wait_current(&mut ui, &board, "beta two");
}

#[test]
fn the_first_keystroke_with_the_focus_is_not_lost() {
    let board = TestBoard::new("pk-first");
    board.open().copy(&Clip::text("xylophone")).unwrap();
    board.open().copy(&Clip::text("other")).unwrap();
    let picker = PickerWindow::start(&board.0, false, None, || {}).unwrap();
    let mut ui = Harness::builder()
        .with_size(egui::vec2(640.0, 430.0))
        .build_ui_state(|ui, picker: &mut PickerWindow| picker.frame(ui), picker);
    wait_for(&mut ui, "the history", |p| p.picker.entries().len() == 2);
    // The focus and the first letters arrive in one frame, as they do when
    // the user types straight after the hotkey.
    ui.event(Event::WindowFocused(true));
    ui.event(Event::Text("xy".into()));
    ui.run_ok();
    assert_eq!(ui.state().picker.query, "xy");
    assert_eq!(shown(&ui), ["xylophone"]);
}

#[test]
fn text_and_enter_in_one_frame_choose_among_the_matches() {
    let (board, mut ui) = open("pk-batch", &["alpha one", "beta two", "gamma three"]);
    // A fast typist (or xdotool): the letters and Enter reach one frame.
    ui.event(Event::Text("alph".into()));
    ui.key_press(Key::Enter);
    ui.run_ok();
    wait_current(&mut ui, &board, "alpha one");
}

#[test]
fn arrows_page_home_end_move_and_fuzzy_matches_follow() {
    let texts: Vec<String> = (0..30).map(|i| format!("entry {i:02}")).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (board, mut ui) = open("pk-move", &refs);
    let cursor = |ui: &Ui| ui.state().picker.cursor_entry().unwrap().preview.clone();
    assert_eq!(cursor(&ui), "entry 29");
    ui.key_press(Key::ArrowDown);
    ui.key_press(Key::ArrowDown);
    ui.run_ok();
    assert_eq!(cursor(&ui), "entry 27");
    ui.key_press(Key::End);
    ui.run_ok();
    assert_eq!(cursor(&ui), "entry 00");
    ui.key_press(Key::PageUp);
    ui.run_ok();
    let after_page = ui.state().picker.cursor();
    assert!(
        after_page < 29 && after_page > 20,
        "PgUp moved {after_page}"
    );
    ui.key_press(Key::Home);
    ui.key_press(Key::ArrowUp);
    ui.run_ok();
    assert_eq!(cursor(&ui), "entry 29");
    // "ey7" is no substring of anything, but its letters are in order in "entry 07", "entry 17"...
    ui.get_by_label("Search").type_text("ey7");
    ui.run_ok();
    assert_eq!(shown(&ui), ["entry 27", "entry 17", "entry 07"]);
    ui.key_press(Key::ArrowDown);
    ui.key_press(Key::Enter);
    ui.run_ok();
    wait_current(&mut ui, &board, "entry 17");
}

#[test]
fn alt_digits_pick_directly_without_typing_the_digit() {
    let (board, mut ui) = open("pk-alt", &["one", "two", "three"]);
    ui.key_press_modifiers(Modifiers::ALT, Key::Num3);
    // What winit also sends for the key: the digit as text.
    ui.event_modifiers(Event::Text("3".into()), Modifiers::ALT);
    ui.run_ok();
    assert_eq!(ui.state().picker.query, "", "the digit was not typed");
    assert!(!ui.state().visible);
    wait_current(&mut ui, &board, "one");
}

#[test]
fn ctrl_p_pins_delete_deletes_and_the_picker_stays() {
    let (board, mut ui) = open("pk-pin", &["keep me", "drop me"]);
    ui.key_press(Key::ArrowDown);
    ui.key_press_modifiers(Modifiers::COMMAND, Key::P);
    ui.run_ok();
    wait_for(&mut ui, "the pin", |_| {
        board
            .open()
            .history()
            .unwrap()
            .iter()
            .any(|e| e.preview == "keep me" && e.pinned)
    });
    assert!(ui.state().visible, "pinning keeps the picker open");
    ui.key_press(Key::Home);
    ui.key_press(Key::Delete);
    ui.run_ok();
    wait_for(&mut ui, "the delete", |p| p.picker.entries().len() == 1);
    let history = board.open().history().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].preview, "keep me");
    assert!(ui.state().visible);
}

#[test]
fn escape_and_focus_loss_close_without_changing_the_board() {
    let (board, mut ui) = open("pk-esc", &["first", "second"]);
    let seq = board.open().seq();
    ui.key_press(Key::ArrowDown);
    ui.key_press(Key::Escape);
    ui.run_ok();
    assert!(!ui.state().visible);
    ui.state_mut().summon(None);
    ui.event(Event::WindowFocused(true));
    ui.run_ok();
    assert!(ui.state().visible);
    assert_eq!(ui.state().picker.cursor(), 0, "a summon starts at the top");
    ui.event(Event::WindowFocused(false));
    ui.run_ok();
    assert!(!ui.state().visible, "losing the focus closes the picker");
    assert_eq!(board.open().seq(), seq, "nothing changed on the board");
    assert_eq!(current(&board), "second");
    let _ = board.open().get(Selector::Current).unwrap();
}

#[test]
fn archive_hits_follow_the_board_and_enter_brings_one_back() {
    use std::os::unix::fs::PermissionsExt;
    let board = TestBoard::new("pk-archive");
    board.open().copy(&Clip::text("on the board")).unwrap();
    let dir = std::env::temp_dir().join(format!("pk-archive-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let path = dir.join("archive.sqlite3");
    {
        let mut archive = shm_clip_archive::Archive::open(&path).unwrap();
        let origin = shm_clip::Origin::this_process(shm_clip::OriginKind::Cli);
        let reps = Clip::text("evicted long ago: the wifi password card").reps;
        let now = std::time::SystemTime::now();
        archive
            .insert(&shm_clip_archive::NewClip {
                board: board.0.as_str(),
                clip_id: None,
                created: now,
                touched: now,
                origin: &origin,
                pinned: false,
                reps: &reps,
            })
            .unwrap();
    }
    let picker = PickerWindow::start(&board.0, false, Some(path), || {}).unwrap();
    let mut ui = Harness::builder()
        .with_size(egui::vec2(640.0, 430.0))
        .build_ui_state(|ui, picker: &mut PickerWindow| picker.frame(ui), picker);
    wait_for(&mut ui, "the history", |p| p.picker.entries().len() == 1);
    ui.event(Event::WindowFocused(true));
    ui.run_ok();
    ui.get_by_label("Search").type_text("wifi");
    wait_for(&mut ui, "the archive's hit", |p| {
        p.picker.archive_hits().len() == 1
    });
    assert_eq!(shown(&ui), Vec::<String>::new(), "the board has no match");
    ui.key_press(Key::Enter);
    ui.run_ok();
    assert!(!ui.state().visible);
    wait_current(&mut ui, &board, "evicted long ago: the wifi password card");
    let _ = std::fs::remove_dir_all(&dir);
}
