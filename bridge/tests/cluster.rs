//! A 3-node JetStream cluster with replicas = 3: one node is killed while
//! copies flow, nothing is lost, and sync goes on.

mod common;

use common::{Machine, Scratch};
use shm_clip_test_kit::nats::NatsServer;

#[test]
fn a_cluster_loses_nothing_when_a_node_dies_mid_flow() {
    let s = Scratch::new("cluster");
    let mut nodes = NatsServer::cluster(&s.0);
    let key = s.key();
    let urls: Vec<String> = nodes.iter().map(NatsServer::url).collect();
    let mut a = Machine::new(&s, "cluster", "a");
    let mut b = Machine::new(&s, "cluster", "b");
    let r3 = ["--replicas".to_owned(), "3".into()];
    // A prefers node 1, B node 3; each knows all three.
    a.start(&urls, &key, &r3);
    let mut reversed = urls.clone();
    reversed.reverse();
    b.start(&reversed, &key, &r3);
    let want: Vec<String> = (0..30).map(|i| format!("cluster {i:02}")).collect();
    for (i, t) in want.iter().enumerate() {
        a.copy(t);
        if i == 10 {
            // Node 1 dies while copies flow; A's connection is probably on it.
            nodes[0].kill();
        }
        if i % 5 == 4 {
            b.wait_for(t);
        }
    }
    b.wait_for(&want[29]);
    // The stream really is replicated three times (two followers beside its leader).
    let (replicas, followers) = common::runtime().block_on(async {
        let client = async_nats::connect(urls[1].as_str()).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let info = js
            .get_stream(&a.names(&key).stream)
            .await
            .unwrap()
            .get_info()
            .await
            .unwrap();
        (
            info.config.num_replicas,
            info.cluster.map_or(0, |c| c.replicas.len()),
        )
    });
    assert_eq!((replicas, followers), (3, 2));
    b.wait_status("caught up", |st| st.applied_seq == 30);
    assert_eq!(b.texts(), want, "nothing lost, nothing twice, in order");
    b.copy("back the other way");
    a.wait_current("back the other way");
}
