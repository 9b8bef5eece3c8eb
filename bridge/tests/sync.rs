//! The bridge between machines on one real nats-server: both directions,
//! no echo, convergence of simultaneous copies, late join, restart resume.

mod common;

use common::{CROSS, Machine, Pause, Scratch, stream_messages, wait_until};
use shm_clip::{OriginKind, Selector};
use shm_clip_bridge::state::State;
use shm_clip_test_kit::nats::NatsServer;

#[test]
fn clips_cross_both_ways_with_their_origin() {
    let s = Scratch::new("both");
    let server = NatsServer::start(&s.0, "n", &[]);
    let key = s.key();
    let mut a = Machine::new(&s, "both", "laptop");
    let mut b = Machine::new(&s, "both", "desktop");
    a.start(&[server.url()], &key, &[]);
    b.start(&[server.url()], &key, &[]);

    a.copy("from the laptop");
    b.wait_current("from the laptop");
    let entry = b.board.info(Selector::Current).unwrap();
    assert_eq!(entry.origin.kind, OriginKind::Bridge);
    assert_eq!(entry.origin.label, "bridge: laptop");
    let on_a = a.board.info(Selector::Current).unwrap();
    assert_eq!(entry.clip_id, on_a.clip_id, "the clip keeps its id across");
    assert_eq!(entry.origin_node, a.board.node_id(), "and its origin node");
    assert_eq!(entry.created, on_a.created, "and its creation time");

    // `status --json` tells what the status file says, and that the bridge runs.
    b.wait_status("applied", |st| st.applied == 1 && st.nodes == 2);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_shm-clip-bridge"));
    cmd.args(["status", "--json"])
        .env("XDG_RUNTIME_DIR", b.home.join("run"));
    let out = common::run_to_end(cmd, "status --json");
    assert!(out.status.success(), "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.lines.join("\n")).unwrap();
    let st = &json[0];
    assert_eq!(st["board"], b.tb.name.as_str());
    assert_eq!(st["running"], true);
    assert_eq!(st["connected"], true);
    assert_eq!(st["nodes"], 2);
    assert_eq!(st["lag"], 0);
    assert_eq!(st["last_remote_origin"], "laptop");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_shm-clip-bridge"));
    cmd.arg("status").env("XDG_RUNTIME_DIR", b.home.join("run"));
    let text = common::run_to_end(cmd, "status").lines.join("\n");
    assert!(
        text.contains("connected") && text.contains("last remote:    laptop"),
        "{text}"
    );

    b.copy("from the desktop");
    a.wait_current("from the desktop");
    assert_eq!(
        a.board.info(Selector::Current).unwrap().origin.label,
        "bridge: desktop"
    );
    assert_eq!(a.texts(), ["from the laptop", "from the desktop"]);
    assert_eq!(b.texts(), ["from the laptop", "from the desktop"]);
}

#[test]
fn one_copy_is_one_message_and_one_commit_on_each_other_board() {
    let s = Scratch::new("echo");
    let server = NatsServer::start(&s.0, "n", &[]);
    let key = s.key();
    let mut ms: Vec<Machine> = ["a", "b", "c"]
        .iter()
        .map(|n| Machine::new(&s, "echo", n))
        .collect();
    for m in &mut ms {
        m.start(&[server.url()], &key, &[]);
    }
    let seqs: Vec<u64> = ms.iter().map(|m| m.board.seq()).collect();
    ms[0].copy("once");
    ms[1].wait_for("once");
    ms[2].wait_for("once");
    // A second copy that must arrive: anything the first caused has happened by then.
    ms[0].copy("twice");
    for m in &ms[1..] {
        m.wait_for("twice");
    }
    for m in &ms {
        m.wait_status("caught up", |st| {
            st.applied_seq == 2 && st.stream_last_seq == 2
        });
    }
    assert_eq!(
        stream_messages(&server.url(), &ms[0].names(&key)),
        2,
        "one message per copy"
    );
    for (m, before) in ms.iter().zip(&seqs) {
        assert_eq!(m.texts(), ["once", "twice"], "{}", m.name);
        // Exactly one commit per copy on every board: no re-apply, no echo.
        assert_eq!(m.board.seq() - before, 2, "{}: commits", m.name);
    }
}

#[test]
fn simultaneous_copies_converge_in_stream_order() {
    let s = Scratch::new("conv");
    let server = NatsServer::start(&s.0, "n", &[]);
    let key = s.key();
    let mut a = Machine::new(&s, "conv", "a");
    let mut b = Machine::new(&s, "conv", "b");
    a.start(&[server.url()], &key, &[]);
    b.start(&[server.url()], &key, &[]);
    for round in 0..10 {
        let (ta, tb) = (format!("a{round}"), format!("b{round}"));
        let board_a = &a.board;
        let board_b = &b.board;
        std::thread::scope(|scope| {
            scope.spawn(|| board_a.copy(&shm_clip::Clip::text(ta.as_str())).unwrap());
            scope.spawn(|| board_b.copy(&shm_clip::Clip::text(tb.as_str())).unwrap());
        });
    }
    let last = 20;
    for m in [&a, &b] {
        m.wait_status("caught up", |st| {
            st.applied_seq == last && st.stream_last_seq == last
        });
    }
    wait_until("the same current clip on both boards", CROSS, || {
        a.current().is_some() && a.current() == b.current()
    });
    // Both hold all 20 clips, each once.
    for m in [&a, &b] {
        let mut t = m.texts();
        t.sort();
        t.dedup();
        assert_eq!(t.len(), 20, "{}: {:?}", m.name, m.texts());
    }

    // Simultaneous selects of older entries (a re-copy on A, a select on B)
    // converge the same way: one message each, the stream's last one wins.
    for round in 0..5 {
        let ta = format!("b{round}");
        let on_b = b.board.history().unwrap();
        let tb = on_b
            .iter()
            .find(|e| {
                b.board.get(Selector::Seq(e.seq)).unwrap().text_str() == Some(&format!("a{round}"))
            })
            .unwrap()
            .clip_id;
        let board_a = &a.board;
        let board_b = &b.board;
        std::thread::scope(|scope| {
            scope.spawn(|| board_a.copy(&shm_clip::Clip::text(ta.as_str())).unwrap());
            scope.spawn(|| board_b.select(Selector::Clip(tb)).unwrap());
        });
        // The next round after both went out: a watcher that looks only
        // after two selects publishes the later one alone.
        for m in [&a, &b] {
            m.wait_status("selection published", |st| {
                st.selections_published == round + 1
            });
        }
    }
    let last = 30;
    for m in [&a, &b] {
        m.wait_status("caught up", |st| {
            st.applied_seq == last && st.stream_last_seq == last
        });
    }
    wait_until("the same current clip after the selects", CROSS, || {
        a.current().is_some() && a.current() == b.current()
    });
    for m in [&a, &b] {
        assert_eq!(m.texts().len(), 20, "{}: no entry twice", m.name);
    }
}

/// The user copies "a 1" while A's bridge applies B's "b 1" (after the
/// bridge took its look: "a 1" is the user's, still to publish), then "a 2"
/// before the remote clip is written. The bridge stands at its pause points
/// (`src/test_hooks.rs`) for each copy. "a 1" must not be published again as
/// a selection after "a 2": that would make the older clip current on every
/// board.
#[test]
fn copies_made_while_a_remote_clip_lands_go_out_once_each_and_the_newest_wins() {
    let s = Scratch::new("landing");
    let server = NatsServer::start(&s.0, "n", &[]);
    let key = s.key();
    let mut a = Machine::new(&s, "landing", "a");
    let mut b = Machine::new(&s, "landing", "b");
    let pause = Pause::arm(&s, &mut a, "bridge-write,apply-write");
    a.start(&[server.url()], &key, &[]);
    b.start(&[server.url()], &key, &[]);
    b.copy("b 1");
    // A's follower holds the lock its writes take, before it looks: A's
    // watcher cannot look at "a 1" either.
    pause.wait_at("bridge-write");
    a.copy("a 1");
    pause.release();
    // It has looked ("a 1" is the user's news) and not yet written "b 1".
    pause.wait_at("apply-write");
    a.copy("a 2");
    pause.release();
    // Stream seq 3 is "a 2": A handled its own message (made it current
    // again, above "b 1") before the next copy.
    a.wait_status("a 2's message back", |st| st.applied_seq >= 3);
    // One more copy: any selection published after "a 2" comes before it.
    a.copy("a 3");
    for m in [&a, &b] {
        m.wait_current("a 3");
        m.wait_status("caught up", |st| {
            st.applied_seq >= 4 && st.applied_seq == st.stream_last_seq
        });
    }
    let st = a.status().unwrap();
    assert_eq!(
        (st.stream_last_seq, st.published, st.selections_published),
        (4, 3, 0),
        "one message per commit, no selection of the older a 1: {st:?}"
    );
    // "b 1" went below the unpublished "a 1" and "a 2" on A: the stream's order.
    assert_eq!(b.texts(), ["b 1", "a 1", "a 2", "a 3"]);
    assert_eq!(a.texts(), ["b 1", "a 1", "a 2", "a 3"]);
}

/// Remote clips land on A while the user's own newer copies are not yet
/// published: first "a 1", copied while A's follower stands in its write
/// of "b 1" (pending: the watcher has not looked at it yet); then, with A's
/// publisher held before its first send (the outbox), "b 2", "a 2" and
/// "b 3". Each remote clip goes below the unpublished copies, so A's
/// current clip is the user's own newest copy at every point, never a
/// remote one; once the outbox goes out, both boards hold the stream's
/// order, with one message per copy and no selection.
#[test]
fn a_remote_clip_never_becomes_current_over_a_newer_copy_not_yet_published() {
    let s = Scratch::new("below");
    let server = NatsServer::start(&s.0, "n", &[]);
    let key = s.key();
    let mut a = Machine::new(&s, "below", "a");
    let mut b = Machine::new(&s, "below", "b");
    let pause = Pause::arm(&s, &mut a, "bridge-write,publish");
    a.start(&[server.url()], &key, &[]);
    b.start(&[server.url()], &key, &[]);
    b.copy("b 1");
    // A's follower holds the accounting lock before its look: A's watcher
    // cannot look at "a 1" either, so it is the user's news, not handed on.
    pause.wait_at("bridge-write");
    a.copy("a 1");
    pause.release();
    a.wait_status("b 1 applied", |st| st.applied_seq >= 1);
    assert_eq!(
        a.current().as_deref(),
        Some("a 1"),
        "b 1 became current over a 1"
    );
    assert_eq!(a.texts(), ["b 1", "a 1"]);
    // Then the watcher hands "a 1" on, and the publisher stops before it
    // sends it: "a 1" sits in the outbox.
    pause.wait_at("publish");
    b.copy("b 2");
    a.wait_status("b 2 applied", |st| st.applied_seq >= 2);
    assert_eq!(
        a.current().as_deref(),
        Some("a 1"),
        "b 2 became current over a 1"
    );
    a.copy("a 2");
    b.copy("b 3");
    a.wait_status("b 3 applied", |st| st.applied_seq >= 3);
    assert_eq!(
        a.current().as_deref(),
        Some("a 2"),
        "b 3 became current over a 2"
    );
    assert_eq!(a.texts(), ["b 1", "b 2", "b 3", "a 1", "a 2"]);
    assert_eq!(
        a.status().unwrap().published,
        0,
        "nothing of A's is out yet"
    );
    pause.release();
    for m in [&a, &b] {
        m.wait_status("caught up", |st| {
            st.applied_seq == 5 && st.stream_last_seq == 5
        });
        m.wait_current("a 2");
        assert_eq!(m.texts(), ["b 1", "b 2", "b 3", "a 1", "a 2"], "{}", m.name);
    }
    let (sa, sb) = (a.status().unwrap(), b.status().unwrap());
    assert_eq!(
        (sa.published, sa.selections_published, sa.applied),
        (2, 0, 3),
        "A: one message per copy, no selection: {sa:?}"
    );
    assert_eq!(
        (sb.published, sb.selections_published, sb.applied),
        (3, 0, 2),
        "B: one commit per remote copy: {sb:?}"
    );
}

#[test]
fn a_late_bridge_replays_history_and_a_restart_resumes_without_dups_or_gaps() {
    let s = Scratch::new("late");
    let server = NatsServer::start(&s.0, "n", &[]);
    let key = s.key();
    let mut a = Machine::new(&s, "late", "a");
    let mut b = Machine::new(&s, "late", "b");
    a.start(&[server.url()], &key, &[]);
    for i in 0..5 {
        a.copy(&format!("early {i}"));
    }
    a.wait_status("published", |st| st.published == 5);
    // B joins late: it replays the retained history, in order.
    b.start(&[server.url()], &key, &[]);
    b.wait_for("early 4");
    assert_eq!(
        b.texts(),
        (0..5).map(|i| format!("early {i}")).collect::<Vec<_>>()
    );

    // B is killed; A goes on; B comes back and resumes where it was.
    b.kill_bridge();
    for i in 0..3 {
        a.copy(&format!("while away {i}"));
    }
    a.wait_status("published", |st| st.published == 8);
    b.start(&[server.url()], &key, &[]);
    b.wait_for("while away 2");
    b.wait_status("caught up", |st| st.applied_seq == 8);
    let mut want: Vec<String> = (0..5).map(|i| format!("early {i}")).collect();
    want.extend((0..3).map(|i| format!("while away {i}")));
    assert_eq!(b.texts(), want, "every commit once, in order");
    let state = std::fs::read_to_string(b.state_path()).unwrap();
    assert!(state.contains("\"applied_seq\":8"), "{state}");

    // A killed bridge's local commits wait for it and go out when it is back.
    a.kill_bridge();
    a.copy("made while the bridge was dead");
    a.start(&[server.url()], &key, &[]);
    b.wait_for("made while the bridge was dead");
    b.wait_status("caught up", |st| st.applied_seq == 9);
    assert_eq!(b.texts().len(), 9);
}

/// A bridge killed after it published the user's copy `l` but before its
/// follower passed the remote message that came before `l`'s: the
/// restarted bridge replays that remote clip below `l`, as the killed one
/// would have, because the state file kept `l` as outstanding. Without
/// the persisted list the remote clip went on top, and `l`'s own message
/// made `l` current again later: a second commit, and `l` moved.
#[test]
fn a_restart_between_an_own_publish_and_its_follower_keeps_the_users_copy_current() {
    let s = Scratch::new("resume-own");
    let server = NatsServer::start(&s.0, "n", &[]);
    let key = s.key();
    let mut a = Machine::new(&s, "resume-own", "a");
    let mut b = Machine::new(&s, "resume-own", "b");
    let pause = Pause::arm(&s, &mut a, "follow");
    a.start(&[server.url()], &key, &[]);
    b.start(&[server.url()], &key, &[]);
    // Stream message 1 is B's "r"; A's follower stops before it.
    b.copy("r");
    pause.wait_at("follow");
    // Message 2 is A's "l", published while its follower stands there.
    a.copy("l");
    b.wait_current("l");
    let state_path = a.state_path();
    let l_before = a.board.info(Selector::Current).unwrap();
    wait_until("A's state file holds l as outstanding", CROSS, || {
        State::load(&state_path).is_ok_and(|st| {
            st.outstanding
                .iter()
                .any(|o| o.stream == 2 && o.clip == l_before.clip_id.0)
        })
    });
    assert_eq!(State::load(&state_path).unwrap().applied_seq, 0);
    a.kill_bridge();
    let seq_before = a.board.seq();

    a.env.clear();
    a.start(&[server.url()], &key, &[]);
    a.wait_status("caught up", |st| {
        st.applied_seq == 2 && st.stream_last_seq == 2
    });
    assert_eq!(a.texts(), ["r", "l"], "r replayed below l");
    let l_after = a.board.info(Selector::Current).unwrap();
    assert_eq!(l_after.clip_id, l_before.clip_id);
    assert_eq!(
        (l_after.seq, l_after.touched),
        (l_before.seq, l_before.touched),
        "l stayed where it was: it was never made current again"
    );
    assert_eq!(a.board.seq() - seq_before, 1, "one commit on A: r, below l");
    let state = State::load(&state_path).unwrap();
    assert!(state.outstanding.is_empty(), "{state:?}");
    assert_eq!(b.texts(), ["r", "l"], "the same order on both");
    assert_eq!(stream_messages(&server.url(), &a.names(&key)), 2, "no echo");
}

#[test]
fn a_re_copy_or_a_select_makes_that_clip_current_on_every_board_without_echo() {
    let scratch = Scratch::new("again");
    let server = NatsServer::start(&scratch.0, "n", &[]);
    let key = scratch.key();
    let mut ms: Vec<Machine> = ["a", "b", "c"]
        .iter()
        .map(|n| Machine::new(&scratch, "again", n))
        .collect();
    for m in &mut ms {
        m.start(&[server.url()], &key, &[]);
    }
    let seqs: Vec<u64> = ms.iter().map(|m| m.board.seq()).collect();
    let (a, b, c) = (&ms[0], &ms[1], &ms[2]);
    a.copy("x");
    let x_id = a.board.info(Selector::Current).unwrap().clip_id;
    a.copy("y");
    let y_id = a.board.info(Selector::Current).unwrap().clip_id;
    for m in [b, c] {
        m.wait_for("x");
        m.wait_current("y");
    }

    // Copying content the board holds already only makes that entry
    // current again (same clip id): the other boards follow.
    let again = a.board.copy(&shm_clip::Clip::text("x")).unwrap();
    assert!(again.deduplicated && again.clip_id == x_id, "{again:?}");
    for m in [b, c] {
        m.wait_current("x");
        assert_eq!(
            m.texts(),
            ["y", "x"],
            "{}: the entry moved, no copy",
            m.name
        );
    }
    // A select on A, of a clip made on A.
    a.board.select(Selector::Clip(y_id)).unwrap();
    b.wait_current("y");
    c.wait_current("y");
    // A select on B, of a clip that came from A.
    b.board.select(Selector::Clip(x_id)).unwrap();
    a.wait_current("x");
    c.wait_current("x");
    assert_eq!(a.board.info(Selector::Current).unwrap().clip_id, x_id);

    // A last copy that must arrive: whatever the selects caused has happened by then.
    a.copy("z");
    for m in [b, c] {
        m.wait_current("z");
    }
    let messages = 6; // x, y, re-copy of x, select y, select x, z
    for m in &ms {
        m.wait_status("caught up", |st| {
            st.applied_seq == messages && st.stream_last_seq == messages
        });
    }
    assert_eq!(
        stream_messages(&server.url(), &a.names(&key)),
        messages,
        "one message per copy, re-copy or select: no echo"
    );
    for (m, before) in ms.iter().zip(&seqs) {
        assert_eq!(m.texts(), ["y", "x", "z"], "{}", m.name);
        // One commit per event on every board: no re-apply, no echo.
        assert_eq!(m.board.seq() - before, messages, "{}: commits", m.name);
    }
}
