//! The test kit's nats-server: it starts on a loopback port with JetStream,
//! keeps its store across a restart, and its cluster elects a leader.

mod common;

use common::{Scratch, runtime};
use shm_clip_test_kit::nats::NatsServer;

async fn publish_and_count(url: &str) -> u64 {
    let client = async_nats::connect(url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let stream = js
        .get_or_create_stream(async_nats::jetstream::stream::Config {
            name: "HARNESS".into(),
            subjects: vec!["harness".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    js.publish("harness", "x".into())
        .await
        .unwrap()
        .await
        .unwrap();
    stream.get_info().await.unwrap().state.messages
}

#[test]
fn a_server_keeps_its_stream_across_a_restart() {
    let s = Scratch::new("harness");
    let mut server = NatsServer::start(&s.0, "n", &[]);
    assert_eq!(runtime().block_on(publish_and_count(&server.url())), 1);
    server.restart();
    assert_eq!(runtime().block_on(publish_and_count(&server.url())), 2);
}
