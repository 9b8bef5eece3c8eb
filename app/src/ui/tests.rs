//! The window in `egui_kittest`, against real boards: each test opens its
//! own board and drives the same [`Window`] the app runs (worker thread and
//! all), finding every control by its accessible name.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use eframe::egui::{self, Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use shm_clip::{Clip, Selector, TEXT_MIME};

use crate::app::Window;
use crate::testing::{TestBoard, copy_from_another_process};

type Ui = Harness<'static, Window>;

/// Opens a window on a fresh board `test` that already holds `texts`
/// (oldest first), and waits until it shows them.
fn open(test: &str, texts: &[&str]) -> (TestBoard, Ui) {
    let board = TestBoard::new(test);
    {
        let writer = board.open();
        for text in texts {
            writer.copy(&Clip::text(*text)).unwrap();
        }
    }
    let window = Window::start(&board.0, || {}).unwrap();
    let mut ui = Harness::builder()
        .with_size(egui::vec2(1100.0, 720.0))
        .build_ui_state(|ui, window: &mut Window| window.frame(ui), window);
    wait_for(&mut ui, "the board's history", |w| {
        w.state
            .snapshot
            .as_ref()
            .is_some_and(|s| s.entries.len() == texts.len())
    });
    (board, ui)
}

/// Runs frames until `done` holds (the worker answers asynchronously),
/// failing after a 10 s watchdog.
fn wait_for(ui: &mut Ui, what: &str, mut done: impl FnMut(&Window) -> bool) {
    let start = Instant::now();
    loop {
        ui.run_ok();
        if done(ui.state()) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out after 10 s waiting for {what}; notice: {:?}",
            ui.state().state.notice
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn board_text(board: &TestBoard) -> Option<String> {
    board.open().paste().ok()?.text_str().map(str::to_owned)
}

fn type_into_document(ui: &mut Ui, text: &str) {
    ui.get_by_label("Document").focus();
    ui.run();
    ui.get_by_label("Document").type_text(text);
    ui.run();
}

#[test]
fn typing_then_copy_puts_the_text_on_the_board() {
    let (board, mut ui) = open("kt-copy", &[]);
    type_into_document(&mut ui, "hello board");
    ui.get_by_label("Copy").click();
    wait_for(&mut ui, "the copy", |_| {
        board_text(&board).as_deref() == Some("hello board")
    });
    wait_for(&mut ui, "the new entry", |w| w.state.entries().len() == 1);
    // The window's own copy reaches its history through the worker, since
    // writers do not notify their own process.
    ui.get_by_label("Entry 0: hello board");
    let origin = &board.open().history().unwrap()[0].origin;
    assert_eq!(origin.pid, std::process::id());
    assert_eq!(origin.label, format!("window {}", std::process::id()));
}

#[test]
fn ctrl_keys_use_the_board_and_never_the_system_clipboard() {
    let (board, mut ui) = open("kt-keys", &[]);
    type_into_document(&mut ui, "alpha");
    ui.key_press_modifiers(Modifiers::COMMAND, Key::A);
    ui.key_press_modifiers(Modifiers::COMMAND, Key::C);
    wait_for(&mut ui, "Ctrl+C", |_| {
        board_text(&board).as_deref() == Some("alpha")
    });
    assert!(
        ui.output().platform_output.commands.is_empty(),
        "nothing went to the system clipboard"
    );

    // Ctrl+X cuts the selection to the board.
    ui.key_press_modifiers(Modifiers::COMMAND, Key::A);
    ui.run();
    board.open().copy(&Clip::text("older")).unwrap();
    ui.key_press_modifiers(Modifiers::COMMAND, Key::X);
    wait_for(&mut ui, "Ctrl+X", |_| {
        board_text(&board).as_deref() == Some("alpha")
    });
    assert_eq!(ui.state().state.editor.text, "");

    // eframe's Paste event carries the system clipboard's text: ignored, the
    // board's current clip goes in instead.
    wait_for(&mut ui, "the snapshot after the cut", |w| {
        w.state
            .entries()
            .first()
            .is_some_and(|e| e.preview == "alpha")
    });
    ui.event(egui::Event::Paste("from the system clipboard".into()));
    ui.run();
    ui.key_press_modifiers(Modifiers::COMMAND, Key::V);
    ui.run();
    assert_eq!(ui.state().state.editor.text, "alphaalpha");
}

#[test]
fn fast_keys_keep_their_order() {
    // xdotool's `ctrl+v ctrl+a ctrl+x` can land in one frame: the cut must
    // see the pasted text, selected.
    let (board, mut ui) = open("kt-order", &["beta"]);
    ui.get_by_label("Document").focus();
    ui.run();
    for key in [Key::V, Key::A, Key::X] {
        ui.event_modifiers(
            egui::Event::Key {
                key,
                physical_key: None,
                pressed: true,
                repeat: false,
                modifiers: Modifiers::COMMAND,
            },
            Modifiers::COMMAND,
        );
    }
    wait_for(&mut ui, "the cut", |w| {
        w.state.editor.text.is_empty()
            && w.state
                .entries()
                .first()
                .is_some_and(|e| e.origin.pid == std::process::id())
    });
    assert_eq!(board_text(&board).as_deref(), Some("beta"));
}

#[test]
fn another_process_clip_appears_in_the_history() {
    let (board, mut ui) = open("kt-live", &["first"]);
    copy_from_another_process(&board.0, TEXT_MIME, b"from elsewhere");
    wait_for(&mut ui, "the notification", |w| {
        w.state.entries().len() == 2
    });
    ui.get_by_label("Entry 0: from elsewhere");
    ui.get_by_label("Entry 1: first");
    let note = ui
        .state()
        .state
        .notes
        .back()
        .expect("the notification is logged");
    assert_eq!(note.seq, 2);
    assert!(
        note.applied_latency().is_some(),
        "the UI stamped when it applied it"
    );
    // The status bar says who made the change.
    ui.get_by_label_contains("last change: cli ");
}

#[test]
fn the_status_bar_shows_the_bridge() {
    // The bridge's status file for this test's board, as shm-clip-bridge
    // writes it, with this process standing in for a running bridge.
    let runtime =
        std::env::var_os("XDG_RUNTIME_DIR").expect("XDG_RUNTIME_DIR (scripts/test sets one)");
    let board = TestBoard::new("kt-bridge");
    let dir = std::path::PathBuf::from(runtime).join("shm-clip");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("bridge-{}.json", board.0));
    std::fs::write(
        &file,
        format!(
            r#"{{"name":"desk","pid":{},"connected":true,"nodes":3,"lag":0,"last_remote_origin":"laptop"}}"#,
            std::process::id()
        ),
    )
    .unwrap();
    board.open().copy(&Clip::text("bridged text")).unwrap();
    let window = Window::start(&board.0, || {}).unwrap();
    let mut ui = Harness::builder()
        .with_size(egui::vec2(1100.0, 720.0))
        .build_ui_state(|ui, window: &mut Window| window.frame(ui), window);
    wait_for(&mut ui, "the snapshot with the bridge", |w| {
        w.state
            .snapshot
            .as_ref()
            .is_some_and(|s| s.bridge.is_some())
    });
    ui.run_ok();
    ui.get_by_label("bridged \u{b7} 3 nodes \u{b7} lag 0");
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn the_paste_button_pastes_an_entry_at_the_cursor() {
    let (_board, mut ui) = open("kt-click", &["older", "newest"]);
    {
        let editor = &mut ui.state_mut().state.editor;
        editor.text = "[]".into();
        editor.selection = 1..1;
        editor.moved = true;
    }
    ui.run();
    // Not the current entry: the worker fetches it.
    ui.get_by_label("Paste entry 1 into the document").click();
    wait_for(&mut ui, "the paste", |w| w.state.editor.text == "[older]");
    // The current entry was read ahead, so it goes in at once.
    ui.get_by_label("Paste entry 0 into the document").click();
    ui.run();
    assert_eq!(ui.state().state.editor.text, "[oldernewest]");
}

/// Two clicks on `label` in one frame. (`click()` queues three events, and
/// kittest runs a 0.25 s frame for each: two of them are never a double-click.)
fn double_click(ui: &mut Ui, label: &str) {
    let at = ui.get_by_label(label).rect().center();
    ui.input_mut().events.push(egui::Event::PointerMoved(at));
    ui.step();
    for pressed in [true, false, true, false] {
        ui.input_mut().events.push(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        });
    }
    ui.step();
}

/// The seq of the board's current entry, and its text.
fn board_current(board: &TestBoard) -> (u64, String) {
    let first = board.open().history().unwrap().remove(0);
    (first.seq, first.preview)
}

#[test]
fn a_click_selects_a_double_click_makes_current_and_enter_pastes() {
    let (board, mut ui) = open("kt-clicks", &["older", "newest"]);
    let seq_older = board.open().history().unwrap()[1].seq;

    // One click: selected and focused, one highlight; nothing else happens.
    ui.get_by_label("Entry 1: older").click();
    ui.run();
    assert_eq!(ui.state().state.history.selected, Some(seq_older));
    assert!(ui.get_by_label("Entry 1: older").is_focused());
    assert_eq!(ui.state().state.editor.text, "", "a click does not paste");
    assert_eq!(ui.state().state.notice, None, "nor says anything");

    // A double-click makes it current. The board's order proves the single
    // click above sent nothing: a Select then would have been seen first.
    double_click(&mut ui, "Entry 1: older");
    wait_for(&mut ui, "the double-click to make it current", |_| {
        board_current(&board).1 == "older"
    });
    assert_eq!(board_current(&board).0, seq_older);
    wait_for(&mut ui, "the window to show it current", |w| {
        w.state
            .entries()
            .first()
            .is_some_and(|e| e.seq == seq_older)
    });
    assert_eq!(
        ui.state().state.editor.text,
        "",
        "a double-click does not paste"
    );
    assert_eq!(ui.state().state.history.selected, Some(seq_older));

    // Enter on the selected entry pastes it into the document.
    ui.key_press(Key::Enter);
    wait_for(&mut ui, "Enter to paste", |w| {
        w.state.editor.text == "older"
    });
}

#[test]
fn deleting_a_pinned_entry_asks_first_in_its_row() {
    let (board, mut ui) = open("kt-pinned", &["keep me", "scratch"]);
    ui.get_by_label("Pin entry 1").click();
    wait_for(&mut ui, "the pin", |w| {
        w.state.entries().iter().any(|e| e.pinned)
    });
    let rows_before = row_rects(&ui);

    ui.get_by_label("Delete entry 1").click();
    ui.run();
    ui.get_by_label_contains("Delete pinned entry 1?");
    assert_eq!(
        row_rects(&ui),
        rows_before,
        "the question takes the row's place"
    );
    ui.get_by_label("Keep the pinned entry").click();
    ui.run();
    assert!(ui.query_by_label("Delete the pinned entry").is_none());
    // Keyboard Delete asks too.
    ui.get_by_label("Entry 1: keep me").click();
    ui.run();
    ui.key_press(Key::Delete);
    ui.run();
    ui.get_by_label("Keep the pinned entry").click();
    ui.run();

    // Nothing was deleted: an unpinned delete after it must be the first.
    ui.get_by_label("Delete entry 0").click();
    wait_for(&mut ui, "the unpinned delete", |w| {
        w.state.entries().len() == 1
    });
    let left = board.open().history().unwrap();
    assert_eq!(
        (left[0].preview.as_str(), left[0].pinned),
        ("keep me", true)
    );

    ui.get_by_label("Delete entry 0").click();
    ui.run();
    ui.get_by_label("Delete the pinned entry").click();
    wait_for(&mut ui, "the confirmed delete", |w| {
        w.state.entries().is_empty()
    });
    assert!(board.open().history().unwrap().is_empty());
}

#[test]
fn undo_copies_a_deleted_entry_back_from_the_window_memory() {
    let (board, mut ui) = open("kt-undo", &["precious", "other"]);
    ui.get_by_label("Pin entry 1").click();
    wait_for(&mut ui, "the pin", |w| {
        w.state.entries().iter().any(|e| e.pinned)
    });
    ui.get_by_label("Delete entry 1").click();
    ui.run();
    ui.get_by_label("Delete the pinned entry").click();
    wait_for(&mut ui, "the delete and its Undo", |w| {
        w.state.entries().len() == 1 && w.state.history.undo.is_some()
    });
    assert_eq!(
        board.open().history().unwrap().len(),
        1,
        "gone from the board"
    );

    ui.get_by_label("Undo delete").click();
    wait_for(&mut ui, "the undo", |w| w.state.entries().len() == 2);
    let back = board.open().history().unwrap().remove(0);
    assert_eq!((back.preview.as_str(), back.pinned), ("precious", true));
    assert_eq!(board_text(&board).as_deref(), Some("precious"));
    ui.run();
    assert!(
        ui.query_by_label("Undo delete").is_none(),
        "one undo per delete"
    );
    ui.get_by_label_contains("Undone: the entry is back");
}

/// Each visible entry row by its preview text, with where it is drawn.
fn row_rects(ui: &Ui) -> Vec<(String, egui::Rect)> {
    let mut rows: Vec<(String, egui::Rect)> = ui
        .root()
        .children_recursive()
        .filter(|n| n.accesskit_node().role() == egui::accesskit::Role::ListBoxOption)
        .map(|n| {
            let name = n.accesskit_node().label().unwrap_or_default();
            let text = name
                .split_once(": ")
                .map_or(name.clone(), |(_, t)| t.to_owned());
            (text, n.rect())
        })
        .collect();
    rows.sort_by(|a, b| a.1.min.y.total_cmp(&b.1.min.y));
    rows
}

/// The rows whose top is inside the history's scroll area (the search
/// field's bottom to the status bar's top).
fn rows_on_screen(ui: &Ui) -> Vec<(String, egui::Rect)> {
    let top = ui.get_by_label("Search history").rect().max.y;
    row_rects(ui)
        .into_iter()
        .filter(|(_, r)| r.min.y >= top && r.max.y <= 680.0)
        .collect()
}

#[test]
fn a_scrolled_list_holds_still_when_new_clips_arrive() {
    let texts: Vec<String> = (0..30).map(|i| format!("clip number {i}")).collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (board, mut ui) = open("kt-still", &texts);
    // Scroll down with the keyboard, as far as entry 20.
    ui.get_by_label("Search history").focus();
    ui.run();
    for _ in 0..21 {
        ui.key_press(Key::ArrowDown);
        ui.run();
    }
    ui.run();
    let before = rows_on_screen(&ui);
    assert!(before.len() >= 5, "{before:?}");
    assert!(
        before.iter().all(|(t, _)| t != "clip number 29"),
        "the list is scrolled: {before:?}"
    );

    copy_from_another_process(&board.0, TEXT_MIME, b"new arrival one");
    copy_from_another_process(&board.0, TEXT_MIME, b"new arrival two");
    wait_for(&mut ui, "the new clips", |w| w.state.entries().len() == 32);
    ui.run();
    assert_eq!(rows_on_screen(&ui), before, "the visible rows moved");
    ui.get_by_label_contains("2 new").click();
    ui.run();
    ui.run();
    let top: Vec<String> = rows_on_screen(&ui)
        .into_iter()
        .map(|(t, _)| t)
        .take(2)
        .collect();
    assert_eq!(top, ["new arrival two", "new arrival one"]);
    assert!(ui.query_by_label_contains("2 new").is_none());
}

#[test]
fn status_messages_do_not_resize_the_panel_or_scroll_the_list() {
    let texts: Vec<String> = (0..20).map(|i| format!("line {i}")).collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (_board, mut ui) = open("kt-steady", &texts);
    // Walk down with the keyboard until the list scrolls: the focused entry
    // is then the last one in view, where a shorter panel would scroll.
    ui.get_by_label("Search history").focus();
    ui.run();
    ui.key_press(Key::ArrowDown);
    ui.run();
    let mut before = row_rects(&ui);
    loop {
        ui.key_press(Key::ArrowDown);
        ui.run();
        let now = row_rects(&ui);
        if now != before {
            before = now;
            break;
        }
        assert!(
            ui.state().state.history.selected != Some(1),
            "never scrolled"
        );
    }
    assert_eq!(ui.state().state.notice, None);
    let document = ui.get_by_label("Document").rect();
    // Enter pastes, and the status bar says so.
    ui.key_press(Key::Enter);
    wait_for(&mut ui, "the paste's message", |w| w.state.notice.is_some());
    ui.run();
    assert_eq!(
        ui.get_by_label("Document").rect(),
        document,
        "the panels shrank"
    );
    assert_eq!(row_rects(&ui), before, "the message moved the list");
    ui.state_mut().state.say(crate::state::Notice::Error(
        crate::worker::Problem::new("a long error that goes on and on ".repeat(8))
            .with_hint("and a hint that is long as well ".repeat(4)),
    ));
    ui.run();
    assert_eq!(
        ui.get_by_label("Document").rect(),
        document,
        "the panels shrank"
    );
    assert_eq!(row_rects(&ui), before, "the error moved the list");
}

#[test]
fn search_filters_the_list() {
    let (_board, mut ui) = open("kt-search", &["alpha one", "beta two", "alpha three"]);
    ui.get_by_label("Search history").focus();
    ui.run();
    ui.get_by_label("Search history").type_text("ALPHA");
    ui.run();
    ui.get_by_label("Entry 0: alpha three");
    ui.get_by_label("Entry 2: alpha one");
    assert!(ui.query_by_label("Entry 1: beta two").is_none());
    ui.get_by_label("Search history").type_text("zzz");
    ui.run();
    ui.get_by_label("No entry matches the search.");
}

#[test]
fn the_search_shows_archive_hits_and_a_click_brings_one_back() {
    let dir = std::env::temp_dir().join(format!("shm-clip-kt-archive-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let db = dir.join("archive.sqlite3");
    let _ = std::fs::remove_file(&db);
    {
        let mut archive = shm_clip_archive::Archive::open(&db).unwrap();
        let origin = shm_clip::Origin::this_process(shm_clip::OriginKind::Cli);
        let reps = [shm_clip::Representation {
            mime: TEXT_MIME.into(),
            data: b"an archived marmot".to_vec(),
        }];
        let at = std::time::SystemTime::now();
        archive
            .insert(&shm_clip_archive::NewClip {
                board: "elsewhere",
                clip_id: None,
                created: at,
                touched: at,
                origin: &origin,
                pinned: false,
                reps: &reps,
            })
            .unwrap();
    }
    crate::worker::archive::TEST_PATH.set(db).unwrap();
    let (board, mut ui) = open("kt-archive", &["alpha one", "beta two"]);
    ui.get_by_label("Search history").focus();
    ui.run();
    ui.get_by_label("Search history").type_text("marmot");
    wait_for(&mut ui, "the archive's hits", |w| {
        !w.state.history.archive_hits.is_empty()
    });
    ui.run();
    ui.get_by_label("No entry matches the search.");
    ui.get_by_label("From the archive");
    ui.get_by_label("an archived marmot").click();
    wait_for(&mut ui, "the clip back in the document", |w| {
        w.state.editor.text.contains("an archived marmot")
    });
    assert_eq!(board_text(&board).as_deref(), Some("an archived marmot"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn keyboard_moves_pastes_and_deletes() {
    let (board, mut ui) = open("kt-nav", &["one", "two", "three"]);
    ui.get_by_label("Search history").focus();
    ui.run();
    ui.key_press(Key::ArrowDown);
    ui.run();
    ui.key_press(Key::ArrowDown);
    ui.run();
    assert!(ui.get_by_label("Entry 1: two").is_focused());
    ui.key_press(Key::Enter);
    wait_for(&mut ui, "Enter pastes", |w| w.state.editor.text == "two");
    ui.key_press(Key::Delete);
    wait_for(&mut ui, "Delete deletes", |w| w.state.entries().len() == 2);
    let left: Vec<String> = board
        .open()
        .history()
        .unwrap()
        .into_iter()
        .map(|e| e.preview)
        .collect();
    assert_eq!(left, ["three", "one"]);
}

#[test]
fn pin_delete_and_clear_with_confirmation() {
    let (board, mut ui) = open("kt-ops", &["keep me", "scratch", "junk"]);
    ui.get_by_label("Pin entry 2").click();
    wait_for(&mut ui, "the pin", |w| {
        w.state.entries().iter().any(|e| e.pinned)
    });
    assert!(board.open().history().unwrap()[2].pinned);
    ui.get_by_label("Unpin entry 2");

    ui.get_by_label("Delete entry 0").click();
    wait_for(&mut ui, "the delete", |w| w.state.entries().len() == 2);
    ui.get_by_label("Make entry 1 current").click();
    wait_for(&mut ui, "make current", |w| {
        w.state
            .entries()
            .first()
            .is_some_and(|e| e.preview == "keep me")
    });

    ui.get_by_label("Clear history").click();
    ui.run();
    assert_eq!(board.open().history().unwrap().len(), 2, "Clear asks first");
    ui.get_by_label("Cancel").click();
    ui.run();
    assert!(ui.query_by_label("Yes, clear history").is_none());
    ui.get_by_label("Clear history").click();
    ui.run();
    ui.get_by_label("Yes, clear history").click();
    wait_for(&mut ui, "the clear", |w| w.state.entries().len() == 1);
    let left = board.open().history().unwrap();
    assert_eq!(
        (left[0].preview.as_str(), left[0].pinned),
        ("keep me", true)
    );
}

#[test]
fn an_image_clip_shows_the_image_view() {
    let (board, mut ui) = open("kt-image", &["text"]);
    let png = crate::worker::picture::tests::png(120, 60);
    copy_from_another_process(&board.0, "image/png", &png);
    wait_for(&mut ui, "the image entry and its thumbnail", |w| {
        w.state.entries().len() == 2 && !w.state.thumbnails.is_empty()
    });
    ui.get_by_label("Thumbnail, 120 by 60 pixels");
    ui.get_by_label("Paste entry 0 into the document").click();
    wait_for(&mut ui, "the image view", |w| w.state.image.is_some());
    ui.get_by_label("Pasted image, 120 by 60 pixels");
    ui.get_by_label_contains("120 \u{d7} 60 px \u{b7} PNG");
    ui.get_by_label("Close image").click();
    ui.run();
    assert!(
        ui.query_by_label("Pasted image, 120 by 60 pixels")
            .is_none()
    );
    // Paste of an image clip from the toolbar does the same.
    ui.get_by_label("Paste").click();
    wait_for(&mut ui, "the image view again", |w| w.state.image.is_some());
    assert!(
        board
            .open()
            .get(Selector::Current)
            .unwrap()
            .get("image/png")
            .is_some()
    );
}

#[test]
fn a_refused_board_shows_the_error_and_the_fix() {
    let board = TestBoard::new("kt-refused");
    let uid = nix::unistd::geteuid();
    let path = format!("/dev/shm/shm-clip.{uid}.{}", board.0);
    std::fs::write(&path, vec![0u8; 4096]).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let window = Window::start(&board.0, || {}).unwrap();
    let mut ui = Harness::builder()
        .with_size(egui::vec2(1000.0, 600.0))
        .build_ui_state(|ui, window: &mut Window| window.frame(ui), window);
    wait_for(&mut ui, "the failure", |w| {
        matches!(w.state.phase, crate::state::Phase::Failed(_))
    });
    ui.get_by_label_contains("Cannot open board");
    assert!(
        !ui.get_all_by_label_contains(&path)
            .collect::<Vec<_>>()
            .is_empty()
    );
    ui.get_by_label("How to fix it");
    ui.get_by_label("Retry").click();
    ui.run();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o644,
        "refused: never touched"
    );
    std::fs::remove_file(&path).unwrap();
    // Once the bad segment is gone, Retry opens a fresh board.
    ui.get_by_label("Retry").click();
    wait_for(&mut ui, "the retry", |w| w.state.is_open());
    ui.get_by_label("Document");
}

#[test]
fn every_control_has_a_name_a_person_can_read() {
    let (_board, mut ui) = open("kt-names", &["one", "two"]);
    let mut names = readable_names(&ui);
    ui.get_by_label("Inspector").click();
    ui.run();
    ui.get_by_label_contains("Subscribers");
    names.extend(readable_names(&ui));
    for expected in [
        "Cut",
        "Copy",
        "Paste",
        "New window",
        "Theme",
        "Editor",
        "Inspector",
        "Clear history",
        "Search history",
        "Start tray",
        "Pin entry 1",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "no control named {expected:?} in {names:?}"
        );
    }
}

/// The names of the visible controls, each checked to contain a word.
fn readable_names(ui: &Ui) -> Vec<String> {
    let mut names = Vec::new();
    for node in ui.root().children_recursive() {
        let node = node.accesskit_node();
        if egui::accessibility::is_input(node.role()) && !node.is_hidden() {
            let name = node.label().unwrap_or_default();
            assert!(
                name.chars().any(char::is_alphabetic),
                "{:?} has no readable name: {name:?}",
                node.role()
            );
            names.push(name);
        }
    }
    names
}

/// A file dropped by the desktop, as eframe hands it to egui.
#[derive(Debug)]
struct DroppedPath(std::path::PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn dropped_files_are_copied_to_the_board() {
    let (board, mut ui) = open("kt-drop", &[]);
    let dir = std::env::temp_dir().join(format!("shm-clip-kt-drop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let image = dir.join("picture.png");
    std::fs::write(&image, crate::worker::picture::tests::png(30, 20)).unwrap();
    ui.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(DroppedPath(image.clone())));
    wait_for(&mut ui, "the dropped image", |w| {
        w.state.entries().len() == 1
    });
    let clip = board.open().paste().unwrap();
    assert_eq!(clip.types(), ["image/png", "text/uri-list"]);
    ui.get_by_label("Thumbnail, 30 by 20 pixels");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The drawing functions alone, on a hand-made state: the commands they return.
fn draw(
    state: crate::state::State,
) -> Harness<'static, (crate::state::State, Vec<crate::worker::Command>)> {
    let mut ui = Harness::builder()
        .with_size(egui::vec2(1100.0, 700.0))
        .build_ui_state(
            |ui, (state, commands): &mut (crate::state::State, Vec<crate::worker::Command>)| {
                commands.extend(super::window(ui, state));
            },
            (state, Vec::new()),
        );
    ui.run();
    ui
}

#[test]
fn status_bar_shows_recoveries_live_state_and_the_tray() {
    use crate::state::tests::{snapshot, status};
    use crate::worker::{Command, Event, Problem, Spawn};
    use shm_clip::OriginKind;

    let mut state = crate::state::State::new("work");
    state.apply(Event::Opened {
        mailbox: Some(Problem::new("cannot create mailbox: Too many open files")),
    });
    let mut snap = snapshot(12, &["x"]);
    snap.status.lock.recoveries = 2;
    state.apply(Event::Snapshot(Box::new(snap)));
    let mut ui = draw(state);
    ui.get_by_label_contains("lock recovered 2\u{d7} from a dead owner");
    ui.get_by_label_contains("live updates off");
    ui.get_by_label("Refresh").click();
    ui.get_by_label("Start tray").click();
    ui.run();
    assert_eq!(
        ui.state().1,
        [Command::Refresh, Command::Spawn(Spawn::Tray)]
    );

    let mut snap = snapshot(13, &["x"]);
    snap.status = status(13, &[(1, OriginKind::App), (77, OriginKind::Tray)]);
    ui.state_mut().0.apply(Event::Snapshot(Box::new(snap)));
    ui.run();
    ui.get_by_label_contains("tray 77 bridges the system clipboard");
    assert!(ui.query_by_label("Start tray").is_none());
}

#[test]
fn toolbar_and_context_menu_act_on_the_board() {
    use crate::worker::{Command, Event, Spawn};

    let mut state = crate::state::State::new("work");
    state.apply(Event::Opened { mailbox: None });
    state.apply(Event::Snapshot(Box::new(crate::state::tests::snapshot(
        3,
        &["clip"],
    ))));
    state.editor.text = "some text".into();
    let mut ui = draw(state);
    ui.get_by_label("New window").click();
    ui.run();
    ui.get_by_label("Document").click_secondary();
    ui.run();
    // The menu item's name carries its shortcut.
    ui.get_by_label("Copy Ctrl+C").click();
    ui.run();
    assert_eq!(
        ui.state().1,
        [
            Command::Spawn(Spawn::Window),
            Command::Copy {
                text: "some text".into(),
                cut: None
            }
        ]
    );
}

/// `shm-clip destroy` while the window is open: the window lets go of every
/// clip, says "board destroyed", and its button opens a fresh, empty board.
#[test]
fn a_destroyed_board_is_shown_as_destroyed_with_a_way_to_a_fresh_one() {
    let (board, mut ui) = open("kt-destroyed", &["secret-before-destroy"]);
    assert_eq!(
        ui.state().state.phase,
        crate::state::Phase::Open { mailbox: None }
    );
    assert!(
        ui.query_all_by_label_contains("secret-before-destroy")
            .next()
            .is_some(),
        "the clip is on screen before"
    );
    let report = shm_clip::Board::destroy(&board.0, false).unwrap();
    assert_eq!(report.notified, 1, "the window's mailbox was told");
    wait_for(&mut ui, "the destroyed screen", |w| {
        w.state.phase == crate::state::Phase::Destroyed
    });
    // The heading and the status bar.
    assert_eq!(ui.get_all_by_label_contains("board destroyed").count(), 2);
    assert!(
        ui.query_all_by_label_contains("secret-before-destroy")
            .next()
            .is_none(),
        "the destroyed clip is still on screen"
    );
    ui.get_by_label("Open a fresh board").click();
    wait_for(&mut ui, "the fresh board", |w| {
        w.state.is_open()
            && w.state
                .snapshot
                .as_ref()
                .is_some_and(|s| s.entries.is_empty())
    });
    // The fresh board is live: a copy from elsewhere shows up.
    copy_from_another_process(&board.0, TEXT_MIME, b"after-destroy");
    wait_for(&mut ui, "the new clip", |w| w.state.entries().len() == 1);
}

/// A new window takes typing at once: the document has keyboard focus
/// without a click (issue 10 §4).
#[test]
fn the_document_has_focus_when_the_window_opens() {
    let (_board, mut ui) = open("kt-focus", &["one"]);
    ui.run();
    assert!(ui.get_by_label("Document").is_focused());
    ui.get_by_label("Document").type_text("typed at once");
    ui.run();
    assert_eq!(ui.state().state.editor.text, "typed at once");
}

/// A narrow window splits by proportion: the document keeps at least half
/// the width, not what a fixed-width history panel leaves (issue 10 §4).
#[test]
fn a_narrow_window_keeps_half_its_width_for_the_document() {
    let board = TestBoard::new("kt-narrow");
    board.open().copy(&Clip::text("x")).unwrap();
    let window = Window::start(&board.0, || {}).unwrap();
    // Wide first, as a window the user then narrows: the panel must not
    // keep a width that only suited the wide window.
    let mut ui = Harness::builder()
        .with_size(egui::vec2(1400.0, 600.0))
        .build_ui_state(|ui, window: &mut Window| window.frame(ui), window);
    wait_for(&mut ui, "the history", |w| {
        w.state
            .snapshot
            .as_ref()
            .is_some_and(|s| s.entries.len() == 1)
    });
    ui.set_size(egui::vec2(630.0, 600.0));
    ui.run();
    ui.run();
    let doc = ui.get_by_label("Document").rect();
    assert!(
        doc.width() >= 630.0 / 2.0,
        "the document is {} px wide in a 630 px window",
        doc.width()
    );
}
