//! A bridged board that goes away: the bridge stops with an error that
//! names the board, whether `destroy` removed it (with its notes) or a
//! hand-made `rm` did (seen by the subscription's removal watch). The
//! bridge waits for its board's notes in the runtime's epoll set
//! (`watch.rs`), so these are what tells that the wait wakes for both.

mod common;

use common::{CROSS, Machine, Scratch};
use shm_clip::Board;
use shm_clip_test_kit::nats::NatsServer;

/// Starts a bridge on a fresh board, checks that it publishes, removes the
/// board with `remove`, and returns what the bridge said as it stopped.
fn bridge_outliving_its_board(test: &str, remove: impl FnOnce(&Machine)) -> (String, String) {
    let s = Scratch::new(test);
    let server = NatsServer::start(&s.0, "n", &[]);
    let key = s.key();
    let mut a = Machine::new(&s, test, "a");
    a.start(&[server.url()], &key, &[]);
    // The watcher is past its first look and waits for notes.
    a.copy("before");
    a.wait_status("published", |st| st.published == 1);
    remove(&a);
    let finished = a.bridge.take().expect("a running bridge").finish(CROSS);
    assert!(
        !finished.status.success(),
        "the bridge must not exit as if asked to: {:?}\n{}",
        finished.status,
        finished.stderr
    );
    (a.tb.name.to_string(), finished.stderr)
}

#[test]
fn a_destroyed_board_stops_its_bridge_with_an_error_naming_it() {
    let (name, stderr) = bridge_outliving_its_board("gone-destroy", |a| {
        Board::destroy(&a.tb.name, false).unwrap();
    });
    assert!(
        stderr.contains(&format!("board \"{name}\" was destroyed")),
        "{stderr}"
    );
}

#[test]
fn a_board_removed_by_hand_stops_its_bridge_too() {
    let (name, stderr) = bridge_outliving_its_board("gone-rm", |a| {
        std::fs::remove_file(a.tb.path()).unwrap();
    });
    assert!(
        stderr.contains(&format!("board \"{name}\" was destroyed")),
        "{stderr}"
    );
}
