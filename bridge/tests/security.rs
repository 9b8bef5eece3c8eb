//! What the server and a rogue publisher can and cannot do: the store holds
//! no plaintext and no board name; wrong keys, tampering, truncation,
//! missing or oversized blobs and replays are rejected, each logged once
//! without content, and nothing stops the bridge. TLS with a CA made here,
//! user/password authentication, and clear errors for bad credentials, bad
//! keys and bad config.

mod common;

use std::path::Path;

use common::{CROSS, Machine, Scratch, contains, files_under, run_to_end, runtime};
use shm_clip::{Clip, Selector};
use shm_clip_bridge::envelope::Envelope;
use shm_clip_bridge::key::BoardKey;
use shm_clip_bridge::manifest::{Body, Manifest, RepEntry};
use shm_clip_bridge::naming::Names;
use shm_clip_bridge::selection::Selection;
use shm_clip_bridge::wire::{seal_message, seal_selection};
use shm_clip_test_kit::nats::NatsServer;

const MARKER: &str = "PLAINTEXT-MARKER-5b1e9c";
const IMAGE_MARKER: &[u8] = b"IMAGE-MARKER-0d77aa";

/// A PNG-looking image of about `size` bytes that carries the marker.
fn marker_image(size: usize) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    while png.len() < size {
        png.extend_from_slice(IMAGE_MARKER);
        png.extend((0..61u8).map(|i| i.wrapping_mul(7)));
    }
    png
}

#[test]
fn the_server_store_holds_no_plaintext_and_no_board_name() {
    let s = Scratch::new("plain");
    let server = NatsServer::start(&s.0, "n", &[]);
    let key = s.key();
    let mut a = Machine::new(&s, "plain", "a");
    let mut b = Machine::new(&s, "plain", "b");
    a.start(&[server.url()], &key, &[]);
    b.start(&[server.url()], &key, &[]);
    a.copy(MARKER);
    b.wait_for(MARKER);
    // 600 KiB: it travels as a blob in the Object Store. Plus a small one inline.
    let image = marker_image(600 << 10);
    a.board
        .copy(&Clip::new("image/png", image.clone()))
        .unwrap();
    let small = marker_image(2000);
    a.board
        .copy(&Clip::new("image/png", small.clone()))
        .unwrap();
    common::wait_until("both images on b", CROSS, || {
        b.board
            .get(Selector::Current)
            .is_ok_and(|c| c.reps[0].data == small)
    });
    assert_eq!(
        b.board.get(Selector::Index(1)).unwrap().reps[0].data,
        image,
        "byte-exact"
    );

    let files = files_under(&server.store);
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().contains(&a.names(&key).stream)),
        "the stream is on disk: {files:?}"
    );
    let mut total = 0;
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        total += bytes.len();
        for needle in [
            MARKER.as_bytes(),
            IMAGE_MARKER,
            a.shared.as_bytes(),
            a.tb.name.as_str().as_bytes(),
        ] {
            assert!(
                !contains(&bytes, needle),
                "{} holds {:?}",
                f.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
    assert!(
        total > 600 << 10,
        "the store holds the ciphertext ({total} bytes)"
    );
}

/// Publishes raw bytes to the board's subject, as anyone with server access can.
fn publish_raw(url: &str, names: &Names, payload: Vec<u8>, msg_id: &str) {
    runtime().block_on(async {
        let client = async_nats::connect(url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        js.send_publish(
            names.subject.clone(),
            async_nats::jetstream::message::PublishMessage::build()
                .payload(payload.into())
                .message_id(msg_id),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    });
}

fn raw_message(url: &str, names: &Names, seq: u64) -> Vec<u8> {
    runtime().block_on(async {
        let client = async_nats::connect(url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let stream = js.get_stream(&names.stream).await.unwrap();
        stream.get_raw_message(seq).await.unwrap().payload.to_vec()
    })
}

fn manifest(node: [u8; 16], seq: u64, reps: Vec<RepEntry>) -> Manifest {
    let mut clip_id = [0; 16];
    getrandom::fill(&mut clip_id).unwrap();
    Manifest {
        clip_id,
        origin_node: node,
        origin_seq: seq,
        created_ns: 0,
        display_name: "rogue".into(),
        reps,
    }
}

fn text_rep(text: &str) -> RepEntry {
    RepEntry {
        mime: "text/plain".into(),
        size: text.len() as u64,
        body: Body::Inline(text.as_bytes().to_vec()),
    }
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one rogue message per step, in stream order"
)]
fn forged_tampered_truncated_missing_oversized_and_replayed_messages_are_rejected_once() {
    let s = Scratch::new("rogue");
    let server = NatsServer::start(&s.0, "n", &[]);
    let key = s.key();
    let mut a = Machine::new(&s, "rogue", "a");
    let mut b = Machine::new(&s, "rogue", "b");
    a.start(&[server.url()], &key, &[]);
    b.start(&[server.url()], &key, &[]);
    a.copy("genuine 1");
    b.wait_for("genuine 1");
    let names = a.names(&key);
    let url = server.url();
    let real = Envelope::new(&BoardKey::load(&key).unwrap());
    let wrong = Envelope::new(&BoardKey::generate());
    let rogue_node = [0xee; 16];
    let secret = "ROGUE-CONTENT-31d4";

    // 2: sealed with another key.
    publish_raw(
        &url,
        &names,
        seal_message(
            &wrong,
            &names,
            &manifest(rogue_node, 1, vec![text_rep(secret)]),
        ),
        "m2",
    );
    // 3: a genuine message with one bit flipped.
    let genuine = raw_message(&url, &names, 1);
    let mut flipped = genuine.clone();
    let last = flipped.len() - 5;
    flipped[last] ^= 0x20;
    publish_raw(&url, &names, flipped, "m3");
    // 4: a genuine message cut short.
    publish_raw(&url, &names, genuine[..genuine.len() - 9].to_vec(), "m4");
    // 5: a manifest (with the right key) whose blob was never uploaded.
    let missing = RepEntry {
        mime: "image/png".into(),
        size: 300_000,
        body: Body::Blob {
            chunk_size: 131_032,
        },
    };
    publish_raw(
        &url,
        &names,
        seal_message(&real, &names, &manifest(rogue_node, 2, vec![missing])),
        "m5",
    );
    // 6: a manifest that claims a blob far over the size cap.
    let huge = RepEntry {
        mime: "image/png".into(),
        size: 1 << 40,
        body: Body::Blob {
            chunk_size: 131_032,
        },
    };
    publish_raw(
        &url,
        &names,
        seal_message(&real, &names, &manifest(rogue_node, 3, vec![huge])),
        "m6",
    );
    // 7: the genuine first message again, under a new message id.
    publish_raw(&url, &names, genuine.clone(), "m7");
    // 8: a blob whose chunks are cut: uploaded sealed, then truncated.
    let mut m8 = manifest(
        rogue_node,
        4,
        vec![RepEntry {
            mime: "image/png".into(),
            size: 200_000,
            body: Body::Blob {
                chunk_size: 131_032,
            },
        }],
    );
    m8.display_name = "rogue".into();
    runtime().block_on(async {
        use tokio::io::AsyncReadExt;
        let client = async_nats::connect(&url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let bucket = match js.get_object_store(&names.bucket).await {
            Ok(bucket) => bucket,
            Err(_) => js
                .create_object_store(async_nats::jetstream::object_store::Config {
                    bucket: names.bucket.clone(),
                    ..Default::default()
                })
                .await
                .unwrap(),
        };
        let data = std::sync::Arc::new(vec![7u8; 200_000]);
        let place = shm_clip_bridge::envelope::Place::manifest(names.board_hash, m8.clip_id);
        let mut sealed = Vec::new();
        shm_clip_bridge::blob::SealingReader::new(real.clone(), place, 0, data)
            .read_to_end(&mut sealed)
            .await
            .unwrap();
        sealed.truncate(sealed.len() - 100);
        bucket
            .put(Names::object(&m8.clip_id, 0).as_str(), &mut &sealed[..])
            .await
            .unwrap();
    });
    publish_raw(&url, &names, seal_message(&real, &names, &m8), "m8");
    // A genuine commit after all of them still crosses: nothing stopped.
    a.copy("genuine 2");
    b.wait_for("genuine 2");
    b.wait_status("caught up", |st| st.applied_seq == 9);
    assert_eq!(
        b.texts(),
        ["genuine 1", "genuine 2"],
        "nothing forged was applied"
    );
    assert_eq!(b.status().unwrap().rejected, 7);

    let log = b.stop_bridge().stderr;
    let rejections: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("rejected stream message"))
        .collect();
    assert_eq!(rejections.len(), 7, "one line per forged message:\n{log}");
    for (seq, why) in [
        (2, "authentication failed"),
        (3, "authentication failed"),
        (4, "authentication failed"),
        (5, "missing"),
        (6, "over max_clip_size"),
        (7, "replay"),
        (8, "bytes, its manifest says"),
    ] {
        let field = format!("seq={seq}");
        let lines: Vec<&&str> = rejections
            .iter()
            .filter(|l| l.split_whitespace().any(|w| w == field))
            .collect();
        assert_eq!(lines.len(), 1, "seq {seq} logged once:\n{log}");
        assert!(lines[0].contains(why), "seq {seq}: {why:?} in {}", lines[0]);
    }
    assert!(
        !log.contains(secret) && !log.contains("genuine"),
        "no content in the log:\n{log}"
    );
}

#[test]
fn a_tampered_kept_object_is_refused_and_its_clip_is_judged_by_the_download() {
    let s = Scratch::new("keptrogue");
    let server = NatsServer::start(&s.0, "n", &[]);
    let key = s.key();
    let mut a = Machine::new(&s, "keptrogue", "a");
    let mut b = Machine::new(&s, "keptrogue", "b");
    a.start(&[server.url()], &key, &[]);
    b.start(&[server.url()], &key, &[]);
    b.wait_status("prefetching", |st| st.prefetch_live);
    let names = a.names(&key);
    let url = server.url();
    let real = Envelope::new(&BoardKey::load(&key).unwrap());
    // A member's blob of two sealed chunks ...
    let image = marker_image(600 << 10);
    let m = manifest(
        [0xee; 16],
        1,
        vec![RepEntry {
            mime: "image/png".into(),
            size: image.len() as u64,
            body: Body::Blob {
                chunk_size: shm_clip_bridge::blob::CHUNK as u32,
            },
        }],
    );
    runtime().block_on(async {
        use tokio::io::AsyncReadExt;
        let client = async_nats::connect(&url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let bucket = js.get_object_store(&names.bucket).await.unwrap();
        let place = shm_clip_bridge::envelope::Place::manifest(names.board_hash, m.clip_id);
        let mut sealed = Vec::new();
        shm_clip_bridge::blob::SealingReader::new(real.clone(), place, 0, image.into())
            .read_to_end(&mut sealed)
            .await
            .unwrap();
        // ... replaced by a rogue with server access: one bit of chunk 1
        // flipped, stored as an object of its own, so its info's size,
        // chunk count and digest all match the tampered bytes.
        sealed[shm_clip_bridge::blob::SEALED_CHUNK + 100] ^= 0x01;
        bucket
            .put(
                async_nats::jetstream::object_store::ObjectMetadata {
                    name: Names::object(&m.clip_id, 0),
                    chunk_size: Some(shm_clip_bridge::blob::SEALED_CHUNK),
                    ..Default::default()
                },
                &mut &sealed[..],
            )
            .await
            .unwrap();
    });
    // B keeps it before the manifest comes.
    b.wait_status("keeping the rogue object", |st| st.prefetching == 1);
    publish_raw(&url, &names, seal_message(&real, &names, &m), "kept1");
    a.copy("genuine after");
    b.wait_for("genuine after");
    let st = b.wait_status("caught up", |st| st.applied_seq == 2);
    // The kept bytes passed the info's check but did not open, so B
    // downloaded the object, and the download's verdict stands.
    assert_eq!(
        (
            st.prefetch_unopened,
            st.blobs_prefetched,
            st.rejected,
            st.applied
        ),
        (1, 0, 1, 1),
        "{st:?}"
    );
    assert_eq!(b.texts(), ["genuine after"], "no part of the image applied");
    assert!(
        b.board
            .history()
            .unwrap()
            .iter()
            .all(|e| e.types.iter().all(|(mime, _)| mime != "image/png")),
        "no image on B"
    );
    let log = b.stop_bridge().stderr;
    let rejections: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("rejected stream message"))
        .collect();
    assert_eq!(rejections.len(), 1, "one line:\n{log}");
    assert!(
        rejections[0].contains("chunk 1 of 2") && rejections[0].contains("authentication failed"),
        "{}",
        rejections[0]
    );
}

#[test]
fn forged_relabelled_and_replayed_selections_are_rejected_and_select_nothing() {
    let s = Scratch::new("rogue-select");
    let server = NatsServer::start(&s.0, "n", &[]);
    let key = s.key();
    let mut a = Machine::new(&s, "rogue-select", "a");
    let mut b = Machine::new(&s, "rogue-select", "b");
    a.start(&[server.url()], &key, &[]);
    b.start(&[server.url()], &key, &[]);
    a.copy("one");
    let one = a.board.info(Selector::Current).unwrap().clip_id;
    a.copy("two");
    b.wait_current("two");
    // 3: a genuine selection (a re-copy of "one" on A), then "three".
    a.copy("one");
    b.wait_current("one");
    a.copy("three");
    b.wait_current("three");
    let names = a.names(&key);
    let url = server.url();
    let wrong = Envelope::new(&BoardKey::generate());
    let forged = Selection {
        clip_id: one.0,
        origin_node: [0xee; 16],
        origin_seq: 1,
        selected_ns: 0,
        display_name: "rogue".into(),
    };
    // 5: sealed with another key.
    publish_raw(&url, &names, seal_selection(&wrong, &names, &forged), "s5");
    // 6: a genuine manifest relabelled as a selection.
    let mut relabelled = raw_message(&url, &names, 1);
    relabelled[0] = 2;
    publish_raw(&url, &names, relabelled, "s6");
    // 7: the genuine selection again, under a new message id.
    publish_raw(&url, &names, raw_message(&url, &names, 3), "s7");
    // A genuine commit after them still crosses.
    a.copy("four");
    b.wait_current("four");
    b.wait_status("caught up", |st| st.applied_seq == 8);
    let st = b.status().unwrap();
    assert_eq!((st.rejected, st.selections_applied), (3, 1), "{st:#?}");
    assert_eq!(b.texts(), ["two", "one", "three", "four"]);
    let log = b.stop_bridge().stderr;
    for (seq, why) in [
        (5, "authentication failed"),
        (6, "authentication failed"),
        (7, "replay"),
    ] {
        let field = format!("seq={seq}");
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("rejected stream message"))
            .filter(|l| l.split_whitespace().any(|w| w == field))
            .collect();
        assert_eq!(lines.len(), 1, "seq {seq} logged once:\n{log}");
        assert!(lines[0].contains(why), "seq {seq}: {why:?} in {}", lines[0]);
    }
}

/// Writes a CA, a server certificate for 127.0.0.1 signed by it, and a
/// nats-server config with TLS and a user; returns (config, ca.pem).
fn tls_server_files(
    dir: &Path,
    user: &str,
    password: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server_cert = CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, ca_cert.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), server_cert.pem()).unwrap();
    std::fs::write(dir.join("server-key.pem"), server_key.serialize_pem()).unwrap();
    let conf = dir.join("tls.conf");
    std::fs::write(
        &conf,
        format!(
            "tls {{\n  cert_file: \"{}\"\n  key_file: \"{}\"\n}}\nauthorization {{\n  user: \"{user}\"\n  password: \"{password}\"\n}}\n",
            dir.join("server.pem").display(),
            dir.join("server-key.pem").display()
        ),
    )
    .unwrap();
    (conf, ca)
}

#[test]
fn tls_with_a_ca_and_user_password_work_and_bad_credentials_are_a_clear_error() {
    let s = Scratch::new("tls");
    let (conf, ca) = tls_server_files(&s.0, "alice", "s3cret");
    let server = NatsServer::start(&s.0, "n", &["-c".into(), conf.display().to_string()]);
    let key = s.key();
    let url = format!("tls://127.0.0.1:{}", server.port);
    let good: Vec<String> = [
        "--tls-ca-file",
        &ca.display().to_string(),
        "--user",
        "alice",
        "--password",
        "s3cret",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut a = Machine::new(&s, "tls", "a");
    let mut b = Machine::new(&s, "tls", "b");
    let urls = [url.clone()];
    a.start(&urls, &key, &good);
    b.start(&urls, &key, &good);
    a.copy("over tls");
    b.wait_for("over tls");

    // A wrong password: the bridge stops with an error that says so.
    let mut c = Machine::new(&s, "tls", "c");
    let mut bad = good.clone();
    bad[5] = "wrong".into();
    let out = run_to_end(c.command(&urls, &key, &bad), "bad password");
    let err = out.stderr;
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("refused our credentials"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    c.bridge = None;

    // No CA: the server's certificate is not trusted.
    let out = run_to_end(c.command(&[url], &key, &good[2..]), "no CA");
    let err = out.stderr;
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("TLS"), "{err}");
}

#[test]
fn nkey_authentication_works_and_an_unknown_nkey_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new("nkey");
    let user = nkeys::KeyPair::new_user();
    let conf = s.0.join("nkey.conf");
    std::fs::write(
        &conf,
        format!(
            "authorization {{\n  users = [ {{ nkey: \"{}\" }} ]\n}}\n",
            user.public_key()
        ),
    )
    .unwrap();
    let server = NatsServer::start(&s.0, "n", &["-c".into(), conf.display().to_string()]);
    let key = s.key();
    let seed_file = |name: &str, seed: String| {
        let path = s.0.join(name);
        std::fs::write(&path, seed).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        vec!["--nkey-seed-file".to_owned(), path.display().to_string()]
    };
    let good = seed_file("user.nk", user.seed().unwrap());
    let mut a = Machine::new(&s, "nkey", "a");
    let mut b = Machine::new(&s, "nkey", "b");
    a.start(&[server.url()], &key, &good);
    b.start(&[server.url()], &key, &good);
    a.copy("signed in with an nkey");
    b.wait_for("signed in with an nkey");

    let stranger = seed_file("stranger.nk", nkeys::KeyPair::new_user().seed().unwrap());
    let c = Machine::new(&s, "nkey", "c");
    let out = run_to_end(c.command(&[server.url()], &key, &stranger), "unknown nkey");
    assert!(!out.status.success(), "{}", out.stderr);
    assert!(
        out.stderr.contains("refused our credentials"),
        "{}",
        out.stderr
    );
}

#[test]
fn unsafe_keys_and_bad_config_are_refused_with_the_file_line_and_key() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new("cfg");
    let m = Machine::new(&s, "cfg", "a");
    let key = s.key();
    // keygen writes a 0600 key and says how to copy it; never overwrites.
    let fresh = s.0.join("fresh.key");
    let mut keygen = std::process::Command::new(env!("CARGO_BIN_EXE_shm-clip-bridge"));
    keygen.arg("keygen").arg(&fresh);
    let out = run_to_end(keygen, "keygen");
    assert!(out.status.success());
    assert!(
        out.lines.iter().any(|l| l.contains("scp")),
        "{:?}",
        out.lines
    );
    assert_eq!(
        std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let mut keygen = std::process::Command::new(env!("CARGO_BIN_EXE_shm-clip-bridge"));
    keygen.arg("keygen").arg(&fresh);
    let again = run_to_end(keygen, "keygen again");
    assert!(!again.status.success());
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = run_to_end(
        m.command(&["nats://127.0.0.1:1".into()], &key, &[]),
        "0640 key",
    );
    let err = out.stderr;
    assert!(!out.status.success());
    assert!(
        err.contains("mode 0640") && err.contains("chmod 600"),
        "{err}"
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();

    std::fs::write(
        m.home.join("config.toml"),
        "[bridge]\nname = \"a\"\nmax_clip_size = \"huge\"\n",
    )
    .unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_shm-clip-bridge"));
    cmd.args(["run", "--key-file"])
        .arg(&key)
        .env("SHM_CLIP_CONFIG", m.home.join("config.toml"));
    let out = run_to_end(cmd, "bad config");
    let err = out.stderr;
    assert!(!out.status.success());
    assert!(err.contains("config.toml:3: bridge.max_clip_size"), "{err}");
}
