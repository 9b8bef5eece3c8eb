//! The MIME allow-list (`[bridge] allow_types` in config.toml), end to end on
//! a real nats-server: a sender publishes only the representations it
//! allows, and a clip with none left is not published; a receiver applies
//! only the representations it allows (a refused blob is not even fetched),
//! and a clip with none left is not applied; its `max_clip_size` counts only
//! what it would apply. What crosses keeps its clip id.

mod common;

use common::{Machine, Scratch, stream_messages, wait_until};
use shm_clip::{Clip, Representation, Selector};
use shm_clip_test_kit::nats::NatsServer;

/// PNG-looking bytes, large enough (over 256 KiB) to travel as a blob.
fn png(seed: u8) -> Vec<u8> {
    let mut data = b"\x89PNG\r\n\x1a\n".to_vec();
    data.extend((0..300_000u32).map(|i| (i % 251) as u8 ^ seed));
    data
}

fn rep(mime: &str, data: &[u8]) -> Representation {
    Representation {
        mime: mime.into(),
        data: data.to_vec(),
    }
}

/// Writes the machine's config.toml with these lines in `[bridge]`.
fn bridge_config(m: &Machine, lines: &str) {
    std::fs::write(m.home.join("config.toml"), format!("[bridge]\n{lines}\n")).unwrap();
}

/// The current entry's MIME types.
fn current_types(m: &Machine) -> Vec<String> {
    m.board
        .info(Selector::Current)
        .map(|e| e.types.into_iter().map(|(mime, _)| mime).collect())
        .unwrap_or_default()
}

#[test]
fn only_allowed_representations_cross_and_a_clip_with_none_does_not() {
    let scratch = Scratch::new("allow");
    let server = NatsServer::start(&scratch.0, "n", &[]);
    let key = scratch.key();
    let mut sender = Machine::new(&scratch, "allow", "sender");
    let mut texts_only = Machine::new(&scratch, "allow", "texts-only");
    let mut anything = Machine::new(&scratch, "allow", "anything");
    bridge_config(&sender, r#"allow_types = ["text/*", "image/png"]"#);
    // Its size cap is below the image: the cap counts what it applies.
    bridge_config(
        &texts_only,
        "allow_types = [\"text/*\"]\nmax_clip_size = \"100K\"",
    );
    for m in [&mut sender, &mut texts_only, &mut anything] {
        m.start(&[server.url()], &key, &[]);
    }

    // Three types: the sender drops the private one, the texts-only
    // receiver the image too.
    let image = png(1);
    let mixed = Clip {
        reps: vec![
            rep("text/plain", b"mixed"),
            rep("image/png", &image),
            rep("application/x-private", b"PRIVATE-5e1f"),
        ],
    };
    let mixed_id = sender.board.copy(&mixed).unwrap().clip_id;
    anything.wait_current("mixed");
    texts_only.wait_current("mixed");
    assert_eq!(current_types(&anything), ["text/plain", "image/png"]);
    assert_eq!(current_types(&texts_only), ["text/plain"]);
    let got = anything.board.paste().unwrap();
    assert_eq!(
        got.reps
            .iter()
            .find(|r| r.mime == "image/png")
            .map(|r| &r.data),
        Some(&image),
        "the allowed image crosses whole"
    );
    for m in [&anything, &texts_only] {
        assert_eq!(
            m.board.info(Selector::Current).unwrap().clip_id,
            mixed_id,
            "{}: the same clip",
            m.name
        );
    }

    // An image alone: sent, taken by one receiver, refused by the other.
    let image_only = Clip {
        reps: vec![rep("image/png", &png(2))],
    };
    sender.board.copy(&image_only).unwrap();
    wait_until("the image on the open receiver", common::CROSS, || {
        current_types(&anything) == ["image/png"]
    });
    // Only a refused type: not published at all.
    sender
        .board
        .copy(&Clip {
            reps: vec![rep("application/x-private", b"ONLY-PRIVATE-77c2")],
        })
        .unwrap();
    // A last clip that must arrive: the two before it were dealt with by then.
    sender.copy("last");
    anything.wait_current("last");
    texts_only.wait_current("last");
    for m in [&sender, &texts_only, &anything] {
        m.wait_status("caught up", |st| {
            st.applied_seq == 3 && st.stream_last_seq == 3
        });
    }
    assert_eq!(
        stream_messages(&server.url(), &sender.names(&key)),
        3,
        "mixed, the image, last: the private-only clip was not published"
    );
    assert_eq!(anything.board.history().unwrap().len(), 3);
    assert_eq!(
        texts_only.board.history().unwrap().len(),
        2,
        "the image-only clip was not applied"
    );
    assert_eq!(texts_only.texts(), ["mixed", "last"]);
    for m in [&anything, &texts_only] {
        for e in m.board.history().unwrap() {
            assert!(
                e.types
                    .iter()
                    .all(|(mime, _)| mime != "application/x-private"),
                "{}: {:?}",
                m.name,
                e.types
            );
        }
    }
    assert_eq!(texts_only.status().unwrap().applied, 2);
    // The refused images were not fetched, not even by the prefetch: it
    // never ran there, while it did on the receiver that takes everything.
    let st = texts_only.status().unwrap();
    assert_eq!(
        (
            st.prefetch_consumers,
            st.prefetching,
            st.prefetch_dropped,
            st.blobs_prefetched,
            st.blobs_downloaded
        ),
        (0, 0, 0, 0, 0),
        "{st:?}"
    );
    let st = anything.status().unwrap();
    assert!(st.prefetch_consumers >= 1, "{st:?}");
    assert_eq!(st.blobs_prefetched + st.blobs_downloaded, 2, "{st:?}");

    let sent_log = sender.stop_bridge().stderr;
    assert_eq!(
        sent_log
            .matches("not published: no representation is in allow_types")
            .count(),
        1,
        "{sent_log}"
    );
    let received_log = texts_only.stop_bridge().stderr;
    assert_eq!(
        received_log
            .matches("not applied: no representation is in allow_types")
            .count(),
        1,
        "{received_log}"
    );
    assert!(!sent_log.contains("PRIVATE") && !received_log.contains("PRIVATE"));
}
