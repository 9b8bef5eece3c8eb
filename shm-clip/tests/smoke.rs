use shm_clip::{Board, Clip, CreateOptions, Origin, OriginKind, Representation, Selector};
use shm_clip_test_kit::TestBoard;

/// A fresh board of depth 8 that the returned guard removes on drop.
fn board(test: &str, capacity: u64) -> (Board, TestBoard) {
    let tb = TestBoard::new(&format!("smoke-{test}"));
    let b = tb.open(CreateOptions { capacity, depth: 8 });
    (b, tb)
}

#[test]
fn copy_paste_history() {
    let (b, tb) = board("basic", 1 << 20);
    let name = tb.name.clone();
    assert!(matches!(b.paste(), Err(shm_clip::Error::Empty)));
    b.copy(&Clip::text("one")).unwrap();
    b.copy(&Clip::text("two").with("text/html", "<b>two</b>"))
        .unwrap();
    assert_eq!(b.paste().unwrap().text_str(), Some("two"));
    let out = b.copy(&Clip::text("one")).unwrap();
    assert!(out.deduplicated);
    let h = b.history().unwrap();
    // The entry keeps the seq it was created with; the outcome names it.
    assert_eq!(out.entry_seq, h[0].seq);
    assert_ne!(out.entry_seq, out.seq);
    assert_eq!(
        b.get(Selector::Seq(out.entry_seq)).unwrap().text_str(),
        Some("one")
    );
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].preview, "one");
    assert_eq!(
        b.get_type(Selector::Index(1), "text/html").unwrap().data,
        b"<b>two</b>"
    );
    b.set_pinned(Selector::Index(1), true).unwrap();
    assert_eq!(b.clear(false).unwrap(), 1);
    assert_eq!(b.history().unwrap().len(), 1);
    for i in 0..20 {
        b.copy(&Clip::text(format!("x{i}").repeat(1000))).unwrap();
    }
    let h = b.history().unwrap();
    assert_eq!(h.len(), 8);
    assert!(h.iter().any(|e| e.pinned));
    let st = b.status().unwrap();
    assert_eq!(st.mode, 0o600);
    let mut sub = b.subscribe().unwrap();
    assert!(sub.try_recv().unwrap().is_none());
    assert_eq!(b.status().unwrap().subscribers.len(), 1);
    drop(sub);
    assert_eq!(b.status().unwrap().subscribers.len(), 0);
    Board::destroy(&name, false).unwrap();
}

#[test]
fn an_entry_without_plain_text_is_previewed_by_its_html_or_its_uris() {
    let (b, _tb) = board("preview", 1 << 20);
    // A browser's HTML-only copy: styled markup before the words, which
    // fall past the first 512 bytes.
    let style = "font-family: sans-serif; color: rgb(0, 0, 0); ".repeat(12);
    let html = format!(
        "<meta charset='utf-8'><span style=\"{style}\">Fish &amp;\n   chips</span><!-- x -->"
    );
    assert!(html.find("Fish").unwrap() > 512);
    b.copy(&Clip::new("text/html", html)).unwrap();
    b.copy(&Clip::new(
        "text/uri-list",
        "# from a file manager\r\nfile:///home/u/a.txt\r\nfile:///home/u/b.txt\r\n",
    ))
    .unwrap();
    b.copy(&Clip::new("image/png", vec![0x89, b'P', b'N', b'G']))
        .unwrap();
    // Plain text wins over the HTML beside it.
    b.copy(&Clip::text("plain words").with("text/html", "<b>bold words</b>"))
        .unwrap();
    let h = b.history().unwrap();
    let previews: Vec<&str> = h.iter().map(|e| e.preview.as_str()).collect();
    assert_eq!(
        previews,
        [
            "plain words",
            "",
            "file:///home/u/a.txt⏎file:///home/u/b.txt",
            "Fish & chips"
        ]
    );
}

#[test]
fn a_mime_type_with_a_control_character_is_refused() {
    let (b, _tb) = board("mime-ctl", 1 << 20);
    b.copy(&Clip::text("before")).unwrap();
    for mime in ["a\nb", "text/plain\t", "image/png\u{7f}", "\0"] {
        let err = b.copy(&Clip::new(mime, "x")).unwrap_err();
        assert!(
            matches!(&err, shm_clip::Error::InvalidClip { what } if what.contains("control character")),
            "{mime:?}: {err}"
        );
    }
    // Spaces, parameters and X11's names are types.
    for mime in ["text/plain; charset=utf-8", "UTF8_STRING", "text/x-moz-url"] {
        b.copy(&Clip::new(mime, "x")).unwrap();
    }
    assert_eq!(b.history().unwrap().len(), 4);
}

#[test]
fn big_clip_and_too_large() {
    let (b, tb) = board("big", 1 << 20);
    let name = tb.name.clone();
    let half = vec![7u8; 1 << 19];
    b.copy(&Clip::new("application/octet-stream", half.clone()))
        .unwrap();
    assert_eq!(b.paste().unwrap().reps[0].data, half);
    let err = b
        .copy(&Clip::new("application/octet-stream", vec![0u8; 1 << 20]))
        .unwrap_err();
    assert!(matches!(err, shm_clip::Error::ClipTooLarge { .. }), "{err}");
    let max = b.max_clip_size("application/octet-stream") as usize;
    assert!(max >= 1 << 19, "at least half the capacity fits");
    let err = b
        .copy(&Clip::new("application/octet-stream", vec![2u8; max + 1]))
        .unwrap_err();
    assert!(matches!(err, shm_clip::Error::ClipTooLarge { .. }), "{err}");
    b.copy(&Clip::new("application/octet-stream", vec![2u8; max]))
        .unwrap();
    let near = vec![1u8; (1 << 20) - 200];
    b.copy(&Clip::new("application/octet-stream", near.clone()))
        .unwrap();
    assert_eq!(b.paste().unwrap().reps[0].data, near);
    Board::destroy(&name, false).unwrap();
}

/// Each handle caches the decoded index and trusts it while the board's seq
/// and recovery counter are unchanged: whatever another handle does must
/// still be seen, and a cached view must never steer a copy into live data.
#[test]
fn handles_see_each_others_changes_through_their_caches() {
    let (a, tb) = board("caches", 1 << 16);
    let name = tb.name.clone();
    let b = Board::open_with(&name, Origin::this_process(OriginKind::App), None).unwrap();
    for i in 0..6 {
        a.copy(&Clip::text(format!("a{i}").repeat(500))).unwrap();
    }
    // B changes the history behind A's warm cache.
    b.delete(Selector::Current).unwrap();
    b.set_pinned(Selector::Index(0), true).unwrap();
    b.select(Selector::Index(2)).unwrap();
    assert_eq!(a.paste().unwrap(), b.paste().unwrap());
    let seqs = |board: &Board| -> Vec<(u64, bool)> {
        board
            .history()
            .unwrap()
            .iter()
            .map(|e| (e.seq, e.pinned))
            .collect()
    };
    assert_eq!(seqs(&a), seqs(&b));
    // A fills the small arena again, evicting and compacting from its own
    // view; B's clips and pin must survive intact.
    b.copy(&Clip::text("from b")).unwrap();
    for i in 0..40 {
        a.copy(&Clip::text(format!("again {i} ").repeat(300)))
            .unwrap();
        let history = b.history().unwrap();
        assert!(history.len() <= 8, "{}", history.len());
        for e in &history {
            // Every entry still verifies, from either handle.
            a.get(Selector::Seq(e.seq)).unwrap();
            b.get(Selector::Seq(e.seq)).unwrap();
        }
        assert_eq!(history.iter().filter(|e| e.pinned).count(), 1);
    }
    assert_eq!(b.clear(true).unwrap(), 8);
    assert!(matches!(a.paste(), Err(shm_clip::Error::Empty)));
    a.copy(&Clip::text("after clear")).unwrap();
    assert_eq!(b.history().unwrap().len(), 1);
    Board::destroy(&name, true).unwrap();
}

/// `get(Selector::Clip(id))` (and `info`, with the entry's place) finds the
/// current clip without the index and every other one through it, from a handle whose index cache another
/// handle's commits made stale, and names an id the board no longer holds.
#[test]
fn a_clip_is_found_by_its_id_whether_current_or_not() {
    let (writer, tb) = board("by-id", 1 << 20);
    let reader = Board::open_with(&tb.name, Origin::this_process(OriginKind::App), None).unwrap();
    let ids: Vec<_> = (0..12)
        .map(|i| {
            let out = writer.copy(&Clip::text(format!("clip {i}"))).unwrap();
            // Current: the way that skips the index.
            assert_eq!(
                reader.get(Selector::Clip(out.clip_id)).unwrap().text_str(),
                Some(format!("clip {i}").as_str())
            );
            out.clip_id
        })
        .collect();
    // Depth 8: the last eight are held, the current one and seven below it.
    for (i, id) in ids.iter().enumerate().skip(4) {
        assert_eq!(
            reader.get(Selector::Clip(*id)).unwrap().text_str(),
            Some(format!("clip {i}").as_str()),
            "clip {i} by its id"
        );
        assert_eq!(
            reader.info(Selector::Clip(*id)).unwrap().index,
            11 - i,
            "clip {i}'s place in the history, by its id"
        );
    }
    for id in &ids[..4] {
        assert!(
            matches!(
                reader.get(Selector::Clip(*id)),
                Err(shm_clip::Error::NoSuchEntry { .. })
            ),
            "an evicted clip is no entry"
        );
    }
    // An older entry made current again is found as the current one.
    writer.select(Selector::Clip(ids[5])).unwrap();
    assert_eq!(
        reader.get(Selector::Clip(ids[5])).unwrap().text_str(),
        Some("clip 5")
    );
    assert_eq!(
        reader.get(Selector::Clip(ids[11])).unwrap().text_str(),
        Some("clip 11")
    );
    assert_eq!(reader.info(Selector::Clip(ids[5])).unwrap().index, 0);
    assert_eq!(reader.info(Selector::Clip(ids[11])).unwrap().index, 1);
}

#[test]
fn an_empty_mime_type_is_invalid_input_not_corruption() {
    let (b, tb) = board("badmime", 1 << 20);
    let name = tb.name.clone();
    match b.copy(&Clip::new("", "x")) {
        Err(shm_clip::Error::InvalidClip { what }) => assert!(what.contains("MIME"), "{what}"),
        other => panic!("an empty MIME type gave {other:?}"),
    }
    drop(b);
    Board::destroy(&name, true).unwrap();
}

/// A board left in /dev/shm by a build of layout version 2 is refused with
/// both version numbers and the one command that removes it, and that
/// command works on it.
#[test]
fn a_version_2_board_is_refused_with_the_command_that_fixes_it() {
    use std::os::unix::fs::FileExt;
    let (board, tb) = board("v2-left-over", 1 << 20);
    let name = tb.name.clone();
    board.copy(&Clip::text("from an older build")).unwrap();
    drop(board);
    let path = std::path::Path::new("/dev/shm").join(format!(
        "shm-clip.{}.{}",
        nix::unistd::geteuid(),
        name
    ));
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    let older = shm_clip::LAYOUT_VERSION - 1;
    file.write_all_at(&older.to_ne_bytes(), shm_clip::format::off::VERSION as u64)
        .unwrap();
    let err = Board::open(&name, OriginKind::Cli).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!("layout version {older}"))
            && text.contains(&format!("version {}", shm_clip::LAYOUT_VERSION)),
        "{text}"
    );
    let hint = err.hint().unwrap();
    let fix = format!("shm-clip --board {name} destroy --force");
    assert!(hint.contains(&fix), "{hint}");
    assert!(
        Board::destroy(&name, false).is_err(),
        "refused without --force"
    );
    Board::destroy(&name, true).unwrap();
    assert!(!path.exists());
}

/// Every entry has a random clip id, kept when it moves; the board has a
/// node id that every handle sees; a restore keeps a given id, and a
/// restore of an id the board holds only makes that entry current.
#[test]
fn clip_and_node_ids_identify_entries_across_moves_and_restores() {
    use shm_clip::{ClipId, NodeId, Provenance};
    let (board, tb) = board("ids", 1 << 20);
    let name = tb.name.clone();
    let other = Board::open(&name, OriginKind::App).unwrap();
    assert_eq!(board.node_id(), other.node_id());
    assert!(!board.node_id().is_nil());
    let a = board.copy(&Clip::text("a")).unwrap();
    let b = board.copy(&Clip::text("b")).unwrap();
    assert_ne!(a.clip_id, b.clip_id);
    let again = board.copy(&Clip::text("a")).unwrap();
    assert!(again.deduplicated);
    assert_eq!(again.clip_id, a.clip_id, "identical content keeps its id");
    board.select(Selector::Clip(b.clip_id)).unwrap();
    let current = board.info(Selector::Current).unwrap();
    assert_eq!(
        (current.clip_id, current.origin_node),
        (b.clip_id, board.node_id())
    );
    // A clip from another machine keeps its id and origin node.
    let remote = Provenance {
        clip_id: Some(ClipId::random()),
        origin_node: Some(NodeId::random()),
        ..Provenance::new(
            Origin::this_process(OriginKind::Bridge).labelled("bridge: laptop"),
            std::time::SystemTime::now(),
            std::time::SystemTime::now(),
            false,
        )
    };
    let applied = board.restore(&Clip::text("from afar"), &remote).unwrap();
    assert_eq!(Some(applied.clip_id), remote.clip_id);
    let info = board.info(Selector::Current).unwrap();
    assert_eq!(Some(info.origin_node), remote.origin_node);
    assert_eq!(info.origin.label, "bridge: laptop");
    board.select(Selector::Clip(a.clip_id)).unwrap();
    let reapplied = board.restore(&Clip::text("from afar"), &remote).unwrap();
    assert!(reapplied.deduplicated);
    assert_eq!(board.history().unwrap().len(), 3, "no second copy");
    assert_eq!(
        board.info(Selector::Current).unwrap().clip_id,
        applied.clip_id
    );
}

/// A conditional select changes nothing once another writer committed
/// after the seq it was given, and selects like `select` otherwise.
#[test]
fn select_if_unchanged_refuses_after_any_other_commit() {
    let (board, tb) = board("select-if", 1 << 20);
    let user = Board::open(&tb.name, OriginKind::Cli).unwrap();
    let old = board.copy(&Clip::text("old")).unwrap();
    board.copy(&Clip::text("newer")).unwrap();
    let seen = board.seq();
    let newest = user.copy(&Clip::text("newest")).unwrap();
    assert_eq!(
        board
            .select_if_unchanged(Selector::Clip(old.clip_id), seen)
            .unwrap(),
        None,
        "a copy came after the look"
    );
    assert_eq!(board.seq(), newest.seq, "nothing committed");
    assert_eq!(
        board.info(Selector::Current).unwrap().clip_id,
        newest.clip_id
    );
    let seen = board.seq();
    let seq = board
        .select_if_unchanged(Selector::Clip(old.clip_id), seen)
        .unwrap()
        .expect("nothing came between");
    assert_eq!((seq, board.seq()), (seen + 1, seen + 1));
    assert_eq!(board.info(Selector::Current).unwrap().clip_id, old.clip_id);
    assert!(matches!(
        board.select_if_unchanged(Selector::Index(9), board.seq()),
        Err(shm_clip::Error::NoSuchEntry { .. })
    ));
}

/// Delete and clear are logged with the seq that published them, and a
/// reader that asks from an old position learns what it missed.
#[test]
fn the_removal_log_tells_deletes_and_clears_from_evictions() {
    use shm_clip::RemovalKind;
    let tb = TestBoard::new("smoke-removals");
    let name = tb.name.clone();
    let board = tb.open(CreateOptions {
        capacity: 1 << 20,
        depth: 2,
    });
    let a = board.copy(&Clip::text("a")).unwrap();
    board.copy(&Clip::text("b")).unwrap();
    board.copy(&Clip::text("c")).unwrap(); // evicts a: not a removal
    assert!(board.removals_since(0).unwrap().removals.is_empty());
    let deleted = board.info(Selector::Current).unwrap().clip_id;
    let seq = board.delete(Selector::Current).unwrap();
    board.clear(true).unwrap();
    let log = board.removals_since(0).unwrap();
    assert_eq!(log.next, 2);
    assert_eq!(log.missed, 0);
    assert_eq!(log.removals[0].kind, RemovalKind::Deleted);
    assert_eq!(log.removals[0].clip_id, Some(deleted));
    assert_eq!(log.removals[0].seq, seq);
    assert_eq!(log.removals[1].kind, RemovalKind::ClearedAll);
    assert_ne!(Some(a.clip_id), log.removals[0].clip_id);
    assert!(board.removals_since(2).unwrap().removals.is_empty());
    for _ in 0..70 {
        board.copy(&Clip::text("x")).unwrap();
        board.delete(Selector::Current).unwrap();
    }
    let late = board.removals_since(2).unwrap();
    assert_eq!(late.missed, 6, "the log keeps the last 64");
    assert_eq!(late.removals.len(), 64);
    Board::destroy(&name, true).unwrap();
}

/// The commonest copy of all, the current clip again, moves it to the front
/// without leaving a link that a repair would have to mend.
#[test]
fn copying_the_current_clip_again_needs_no_repair() {
    let (board, _tb) = board("again", 1 << 20);
    for i in 0..4 {
        let out = board.copy(&Clip::text("again and again")).unwrap();
        assert_eq!(out.deduplicated, i > 0);
        assert_eq!(board.status().unwrap().lock.recoveries, 0, "after copy {i}");
    }
    assert_eq!(board.history().unwrap().len(), 1);
}

/// A full history cycles over the arena pages it has used: 80 MiB of 4 KiB
/// copies through a 64 MiB arena with depth 8 leave the segment's tmpfs
/// file holding well under a megabyte, not the whole arena. (A ring that
/// walked the arena would give every page a first-touch fault in every
/// process that maps the board, and keep 64 MiB of RAM.)
#[test]
fn a_full_history_stays_on_the_pages_it_has_used() {
    use std::os::unix::fs::MetadataExt;
    let (board, tb) = board("pages", 64 << 20);
    let mut clip = vec![0u8; 4096];
    for i in 0u32..20_000 {
        clip[..4].copy_from_slice(&i.to_le_bytes());
        board
            .copy(&Clip::new("application/octet-stream", clip.clone()))
            .unwrap();
    }
    assert_eq!(board.history().unwrap().len(), 8);
    let allocated = std::fs::metadata(tb.path()).unwrap().blocks() * 512;
    assert!(
        allocated < 1 << 20,
        "the segment holds {allocated} bytes of RAM for 8 entries of 4 KiB"
    );
}

/// README: evicted clips are overwritten with zeros. The arena is small
/// enough that clips of mixed sizes (odd lengths, so records end between
/// alignment boundaries) evict each other where the ring's head lies, wrap,
/// and pass over a pinned entry; no byte of an evicted clip's marker may
/// remain anywhere in the segment, while every entry still on the board
/// reads back whole.
#[test]
fn evicted_clips_leave_no_bytes_in_the_segment() {
    let (board, tb) = board("evicted-zeroed", 256 << 10);
    let marker = |i: usize| format!("<evicted-{i:05}>");
    let sizes = [13usize, 4_099, 40_001, 777, 90_003, 21, 65_537, 3];
    let mut live = std::collections::BTreeMap::new();
    for i in 0..400 {
        let size = sizes[i % sizes.len()] + i % 7;
        let text: String = marker(i).chars().cycle().take(size.max(16)).collect();
        board.copy(&Clip::text(text.clone())).unwrap();
        live.insert(i, text);
        if i == 5 {
            board.set_pinned(Selector::Index(0), true).unwrap();
        }
    }
    let history = board.history().unwrap();
    let kept: std::collections::BTreeSet<usize> = history
        .iter()
        .map(|e| {
            let clip = board.get(Selector::Seq(e.seq)).unwrap();
            let text = clip.text_str().unwrap().to_owned();
            let i = live.iter().find(|(_, t)| **t == text).map(|(i, _)| *i);
            i.expect("an entry on the board is one of the copies, whole")
        })
        .collect();
    assert!(kept.contains(&5), "the pinned entry survives 400 copies");
    assert!(kept.len() < 20, "the small arena evicted most copies");
    let image = std::fs::read(tb.path()).unwrap();
    // Every clip whose marker is still somewhere in the segment.
    let found: std::collections::BTreeSet<usize> = image
        .windows(15)
        .filter(|w| w.starts_with(b"<evicted-") && w[14] == b'>')
        .filter_map(|w| std::str::from_utf8(&w[9..14]).ok()?.parse().ok())
        .collect();
    let lingering: Vec<&usize> = found.difference(&kept).collect();
    assert!(
        lingering.is_empty(),
        "evicted clips' bytes are still in the segment: {lingering:?}"
    );
    assert_eq!(found, kept, "every entry on the board is in the segment");
}

/// A flipped payload byte is refused by paste, both for a small clip (copied
/// out under the lock, verified after it) and for a large one (hashed as it
/// is copied out); with the byte restored, both paste again.
#[test]
fn a_flipped_payload_byte_is_refused_whichever_way_the_clip_is_verified() {
    use std::os::unix::fs::FileExt;
    let (board, tb) = board("flipped", 4 << 20);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(tb.path())
        .unwrap();
    for size in [64usize, 300 << 10] {
        let marker = format!("<flip-me-{size}>");
        let text: String = marker.chars().cycle().take(size).collect();
        board.copy(&Clip::text(text.clone())).unwrap();
        let image = std::fs::read(tb.path()).unwrap();
        let at = image
            .windows(marker.len())
            .position(|w| w == marker.as_bytes())
            .unwrap() as u64;
        file.write_all_at(b"X", at).unwrap();
        match board.paste() {
            Err(shm_clip::Error::CorruptEntry { .. }) => {}
            other => panic!("a {size}-byte clip with a flipped byte pasted as {other:?}"),
        }
        file.write_all_at(b"<", at).unwrap();
        assert_eq!(board.paste().unwrap().text_str(), Some(text.as_str()));
    }
}

/// A record's directory is read in one copy when it fits the first bytes
/// read, and in steps when it does not (many types, long type names): both
/// paths, locked and not, give back every type and byte.
#[test]
fn clips_whose_directory_is_short_or_long_round_trip() {
    let tb = TestBoard::new("directory-sizes");
    let board = tb.open(CreateOptions::default());
    for (types, name_len) in [(1, 20), (4, 32), (5, 32), (3, 200), (64, 255)] {
        let reps: Vec<Representation> = (0..types)
            .map(|i| Representation {
                mime: format!("application/x-{i:03}-{}", "n".repeat(name_len - 18)),
                data: format!("type {i} of {types}").into_bytes(),
            })
            .collect();
        let clip = Clip { reps };
        board.copy(&clip).unwrap();
        assert_eq!(
            board.paste().unwrap(),
            clip,
            "{types} types, names of {name_len}"
        );
        assert_eq!(
            board.get(Selector::Index(0)).unwrap(),
            clip,
            "{types} types, names of {name_len}, under the lock"
        );
    }
}

/// `paste_into` fills the buffers of the clip it is given again, on the
/// unlocked path (small clips) and the locked one (over 256 KiB) alike,
/// replaces one without the room, follows the entry's count and types,
/// and leaves the clip empty on an error.
#[test]
fn paste_into_reuses_the_buffers_that_have_the_room() {
    let (b, _tb) = board("paste-into", 8 << 20);
    let mut clip = Clip::default();
    assert!(matches!(
        b.paste_into(&mut clip),
        Err(shm_clip::Error::Empty)
    ));
    for len in [100, 300 << 10] {
        let first = Clip::new("application/octet-stream", vec![1u8; len])
            .with("text/plain;charset=utf-8", vec![b'a'; len / 2]);
        b.copy(&first).unwrap();
        let mut into = Clip::default();
        b.paste_into(&mut into).unwrap();
        assert_eq!(into, first, "{len} bytes");
        let places: Vec<*const u8> = into.reps.iter().map(|r| r.data.as_ptr()).collect();
        let names: Vec<*const u8> = into.reps.iter().map(|r| r.mime.as_ptr()).collect();

        let second = Clip::new("application/octet-stream", vec![2u8; len])
            .with("text/plain;charset=utf-8", vec![b'b'; len / 2]);
        b.copy(&second).unwrap();
        b.paste_into(&mut into).unwrap();
        assert_eq!(into, second, "{len} bytes, again");
        assert_eq!(b.paste().unwrap(), second);
        let again: Vec<*const u8> = into.reps.iter().map(|r| r.data.as_ptr()).collect();
        assert_eq!(again, places, "{len} bytes: the same buffers, filled again");
        let again: Vec<*const u8> = into.reps.iter().map(|r| r.mime.as_ptr()).collect();
        assert_eq!(
            again, names,
            "{len} bytes: the same type strings, written again"
        );

        // The first representation grows past its buffer's room: a new one.
        let third = Clip::new("application/octet-stream", vec![3u8; 2 * len])
            .with("text/plain;charset=utf-8", vec![b'c'; len / 2]);
        b.copy(&third).unwrap();
        b.paste_into(&mut into).unwrap();
        assert_eq!(into, third, "{len} bytes, grown");
        assert_eq!(into.reps[1].data.as_ptr(), places[1]);

        // Fewer types, then more, of other names: the clip holds exactly
        // the entry's, each under its own type, never a leftover.
        let fourth = Clip::new("image/png", vec![4u8; len]);
        b.copy(&fourth).unwrap();
        b.paste_into(&mut into).unwrap();
        assert_eq!(into, fourth, "{len} bytes, one type");
        let fifth = Clip::new("text/html", vec![5u8; len / 4])
            .with("text/plain;charset=utf-8", vec![b'e'; len / 4])
            .with("application/x-shm-clip-test", vec![6u8; 3]);
        b.copy(&fifth).unwrap();
        b.paste_into(&mut into).unwrap();
        assert_eq!(into, fifth, "{len} bytes, three types");
        clip = into;
    }
    b.clear(true).unwrap();
    assert!(!clip.reps.is_empty());
    assert!(b.paste_into(&mut clip).is_err());
    assert!(clip.reps.is_empty(), "an error leaves the clip empty");
}

/// A subscription wakes for its own board's removal by hand, and not for
/// another file that leaves /dev/shm (a watch on the whole directory woke
/// every subscriber then). Inotify queues its event within the `unlink`
/// call, so each look right after it is exact: nothing here waits.
#[test]
fn a_subscription_wakes_for_its_boards_removal_and_no_other() {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;

    let (b, tb) = board("removal-watch", 1 << 20);
    let mut sub = b.subscribe().unwrap();
    let readable = |sub: &shm_clip::Subscription| {
        let mut fds = [PollFd::new(sub.as_fd(), PollFlags::POLLIN)];
        poll(&mut fds, PollTimeout::ZERO).unwrap() == 1
    };
    assert!(!readable(&sub), "nothing happened yet");

    let other = std::path::Path::new("/dev/shm").join(format!(
        "shm-clip-test-other.{}.{}",
        std::process::id(),
        tb.name
    ));
    std::fs::write(&other, b"x").unwrap();
    std::fs::remove_file(&other).unwrap();
    assert!(
        !readable(&sub),
        "another file's removal from /dev/shm woke the subscription"
    );

    // The sentinel: the board's own removal must wake it, and say so.
    std::fs::remove_file(tb.path()).unwrap();
    assert!(readable(&sub), "the board's removal did not wake it");
    assert!(matches!(
        sub.try_recv(),
        Err(shm_clip::Error::BoardDestroyed { .. })
    ));
}

/// A board whose name leads to another segment by the time a subscription
/// is made (removed and created again) cannot be watched by that name: the
/// subscription checks the segment itself instead, and says it is gone.
#[test]
fn a_subscription_to_a_board_replaced_by_name_says_it_is_gone() {
    let (old, tb) = board("replaced", 1 << 20);
    std::fs::remove_file(tb.path()).unwrap();
    let new = tb.open(CreateOptions {
        capacity: 1 << 20,
        depth: 8,
    });
    let mut sub = old.subscribe().unwrap();
    assert!(matches!(
        sub.try_recv(),
        Err(shm_clip::Error::BoardDestroyed { .. })
    ));
    // The board that holds the name now is a live one.
    let mut live = new.subscribe().unwrap();
    assert!(live.try_recv().unwrap().is_none());
}
