//! The bridge's own Object Store upload (`upload.rs`, several chunks in
//! flight) writes objects in the Object Store's format: async-nats' own
//! `info` and `get` read them back, byte for byte, with the digest that
//! `get` checks, and a second upload under the same name replaces the
//! first, whose chunks are purged.

mod common;

use std::sync::{Arc, Mutex};

use common::{Scratch, runtime};
use shm_clip_bridge::blob::{CHUNK, SEALED_CHUNK, SealingReader, chunk_count};
use shm_clip_bridge::envelope::{Envelope, Place};
use shm_clip_bridge::key::BoardKey;
use shm_clip_bridge::upload::{WINDOW, put};
use shm_clip_test_kit::nats::NatsServer;
use tokio::io::AsyncReadExt;

fn blob(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[test]
fn an_upload_with_chunks_in_flight_is_an_object_the_official_client_reads() {
    let s = Scratch::new("upload");
    let server = NatsServer::start(&s.0, "n", &[]);
    let envelope = Envelope::new(&BoardKey::generate());
    let place = Place::manifest([7; 32], [9; 16]);
    runtime().block_on(async {
        let client = async_nats::connect(server.url()).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let bucket = js
            .create_object_store(async_nats::jetstream::object_store::Config {
                bucket: "uploadtest".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        // More chunks than the window, the last one short; then the same
        // name again, smaller (fewer chunks than the window).
        for (round, len) in [(1u32, (WINDOW * 3 + 1) * CHUNK + 12_345), (2, 700_000)] {
            let data = Arc::new(blob(len, round));
            // What was uploaded: each chunk as it was sealed (a nonce is
            // random, so sealing again would give other bytes).
            let sent = Arc::new(Mutex::new(Vec::new()));
            let seen = sent.clone();
            let reader = SealingReader::new(envelope.clone(), place, 0, data.clone()).observed(
                Arc::new(move |chunk: &[u8]| seen.lock().unwrap().extend_from_slice(chunk)),
            );
            let ours = put(&js, &bucket, "uploadtest", "clip.0", SEALED_CHUNK, reader)
                .await
                .unwrap();
            let sealed = sent.lock().unwrap().clone();
            assert_eq!(
                ours.chunks as u64,
                chunk_count(len as u64, CHUNK as u64),
                "round {round}"
            );
            let info = bucket.info("clip.0").await.unwrap();
            assert_eq!(info.size, sealed.len(), "round {round}");
            assert_eq!(info.chunks, ours.chunks);
            assert_eq!(info.nuid, ours.nuid);
            assert_eq!(info.digest, ours.digest);
            let mut got = Vec::new();
            // `get` checks the digest at the end of the object.
            bucket
                .get("clip.0")
                .await
                .unwrap()
                .read_to_end(&mut got)
                .await
                .unwrap();
            assert!(
                got == sealed,
                "round {round}: the object's bytes are the sealed chunks"
            );
            // Only this object's chunks and its info are left in the
            // bucket's stream: the replaced object's chunks are purged.
            let stream = js.get_stream("OBJ_uploadtest").await.unwrap();
            let state = stream.get_info().await.unwrap().state;
            assert_eq!(state.messages, ours.chunks as u64 + 1, "round {round}");
        }
    });
}
