use shm_clip::{Board, BoardName, Clip, CreateOptions, Origin, OriginKind, Selector};

fn board(test: &str, capacity: u64) -> (Board, BoardName) {
    let name = BoardName::new(&format!("t-smoke-{}-{test}", std::process::id())).unwrap();
    let _ = Board::destroy(&name, true);
    let b = Board::open_with(
        &name,
        Origin::this_process(OriginKind::Cli),
        Some(CreateOptions { capacity, depth: 8 }),
    )
    .unwrap();
    (b, name)
}

#[test]
fn copy_paste_history() {
    let (b, name) = board("basic", 1 << 20);
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
fn big_clip_and_too_large() {
    let (b, name) = board("big", 1 << 20);
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
    let (a, name) = board("caches", 1 << 16);
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

#[test]
fn an_empty_mime_type_is_invalid_input_not_corruption() {
    let (b, name) = board("badmime", 1 << 20);
    match b.copy(&Clip::new("", "x")) {
        Err(shm_clip::Error::InvalidClip { what }) => assert!(what.contains("MIME"), "{what}"),
        other => panic!("an empty MIME type gave {other:?}"),
    }
    drop(b);
    Board::destroy(&name, true).unwrap();
}
