//! Issue 11: cluster mode on a real NATS server and a scratch PostgreSQL database, with each
//! party on a different node. Skipped loudly without NATS or PostgreSQL; a failure when
//! `CI=true`.

use std::time::Duration;

use haven::{store::postgres::scratch::ScratchDatabase, Role};
use serde_json::{json, Value};

use crate::common::{spawn_app_with, TestApp};
use crate::postgres::add_staff;
use crate::support::*;

const NATS_VAR: &str = "TEST_NATS_URL";
const NATS_DEFAULT: &str = "nats://127.0.0.1:4222";

/// The NATS server the tests use, when one answers.
fn nats_url() -> Option<String> {
    let url = std::env::var(NATS_VAR).unwrap_or_else(|_| NATS_DEFAULT.to_owned());
    let address = url
        .trim_start_matches("nats://")
        .split(',')
        .next()
        .unwrap_or_default()
        .to_owned();
    let reachable = std::net::TcpStream::connect_timeout(
        &address.parse().expect("TEST_NATS_URL is nats://host:port"),
        Duration::from_secs(2),
    )
    .is_ok();
    if reachable {
        return Some(url);
    }
    let message = format!("NATS at {url} is not reachable: set {NATS_VAR} to a nats-server");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message} (CI=true: cluster tests may not be skipped)");
    }
    eprintln!("SKIPPED (cluster test): {message}");
    None
}

/// A cluster of its own for one test: a scratch database and a subject prefix no other run
/// uses.
struct Cluster {
    scratch: ScratchDatabase,
    nats: String,
    prefix: String,
}

impl Cluster {
    fn create() -> Option<Cluster> {
        let nats = nats_url()?;
        let scratch = ScratchDatabase::create()?;
        Some(Cluster {
            scratch,
            nats,
            prefix: format!("haven_test_{}", uuid::Uuid::new_v4().simple()),
        })
    }

    async fn node(&self) -> TestApp {
        let store = self.scratch.store_config();
        let (nats, prefix) = (self.nats.clone(), self.prefix.clone());
        spawn_app_with(move |c| {
            c.store = store;
            c.cluster.nats_url = nats;
            c.cluster.subject_prefix = prefix;
            c.cluster.heartbeat_ms = 100;
            c.cluster.node_timeout_ms = 600;
            // Many rounds on the same sockets: the rate limit is not what these tests are about.
            c.limits.rate_burst = 100_000;
            c.limits.rate_per_sec = 100_000;
        })
        .await
    }

    /// Three nodes, once one of them coordinates and the others know it.
    async fn three_nodes(&self) -> [TestApp; 3] {
        let nodes = [self.node().await, self.node().await, self.node().await];
        for node in &nodes {
            ready(node).await;
        }
        nodes
    }

    async fn advocate(&self, node: &TestApp, username: &str) -> Staff {
        add_staff(&self.scratch, username, Role::Advocate);
        let cookie = node.login(username, PASSWORD).await;
        let mut advocate = connect_staff(node, username, username, &cookie).await;
        advocate.set_available(true).await;
        advocate
    }
}

async fn health(node: &TestApp) -> (u16, Value) {
    let response = reqwest::get(node.url("/healthz")).await.expect("healthz");
    let status = response.status().as_u16();
    (status, response.json().await.expect("healthz is JSON"))
}

/// Waits until the node says it is ready (it reaches NATS, PostgreSQL and a coordinator).
async fn ready(node: &TestApp) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = health(node).await;
        if status == 200 {
            assert_eq!(body["status"], "ok", "{body}");
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the node never became ready: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_one_chat_each_party_elsewhere_one_claim_wins_and_a_transfer_crosses() {
    let Some(cluster) = Cluster::create() else {
        return;
    };
    let [one, two, three] = cluster.three_nodes().await;
    let mut coordinators = 0;
    for node in [&one, &two, &three] {
        if health(node).await.1["cluster"]["coordinating"] == true {
            coordinators += 1;
        }
    }
    assert_eq!(coordinators, 1, "exactly one node coordinates");

    let mut sam = cluster.advocate(&two, "sam-node-two").await;
    let mut alex = cluster.advocate(&three, "alex-node-three").await;
    let (mut sam_wins, mut alex_wins) = (0, 0);
    for round in 0..10 {
        // The chatter on node one; the two advocates race from nodes two and three.
        let (mut chatter, tag) = tagged_hello(&one, &format!("chatter {round}")).await;
        chatter.client.expect("queued").await;
        let chat_id = sam.chat_id_tagged(&tag).await;
        assert_eq!(alex.chat_id_tagged(&tag).await, chat_id);
        let winner = if race_for(&mut sam, &mut alex, &chat_id, round).await {
            sam_wins += 1;
            &mut sam
        } else {
            alex_wins += 1;
            &mut alex
        };
        let joined = chatter.client.expect("joined").await;
        assert_eq!(joined["advocate"], winner.display_name.as_str());

        // Both ways, across nodes.
        let said = format!("canary-from-chatter-{round}");
        chatter.say("c-1", &said).await;
        winner.hears(&chat_id, &said).await;
        let answer = format!("canary-from-advocate-{round}");
        winner.say(&chat_id, "a-1", &answer).await;
        chatter.hears(&answer).await;
        winner.end(&chat_id).await;
        assert_eq!(
            chatter.client.expect("ended").await["reason"],
            "advocate_ended"
        );
    }
    assert_eq!(sam_wins + alex_wins, 10);

    // A transfer from node two to an advocate on node one, with its note.
    let mut kim = cluster.advocate(&one, "kim-node-one").await;
    let (mut chatter, tag) = tagged_hello(&three, "transferred chatter").await;
    chatter.client.expect("queued").await;
    let chat_id = sam.chat_id_tagged(&tag).await;
    sam.claim(&chat_id).await;
    chatter.say("c-1", "I need a place tonight").await;
    sam.hears(&chat_id, "I need a place tonight").await;
    let note = "Internal: asked about shelter";
    sam.client
        .send(json!({"type": "transfer", "chat_id": chat_id, "to_advocate": kim.id, "note": note}))
        .await;
    let assigned = kim.assigned(&chat_id).await;
    assert_eq!(assigned["transfer"]["note"], note, "{assigned}");
    let history: Vec<&str> = assigned["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert!(history.contains(&"I need a place tonight"), "{history:?}");
    kim.say(&chat_id, "k-1", "I'm Kim, I'll help from here")
        .await;
    chatter.hears("I'm Kim, I'll help from here").await;
}

impl Cluster {
    /// A node as its own process (`haven serve`), for `kill -9`.
    fn binary_node(&self) -> Binary {
        let rest = format!(
            "[store]\npostgres_url = {:?}\n\n[cluster]\nnats_url = {:?}\nsubject_prefix = {:?}\nheartbeat_ms = 100\nnode_timeout_ms = 600\n",
            self.scratch.url(),
            self.nats,
            self.prefix
        );
        let (dir, config) = config_dir("", &rest, "info");
        Binary::serve(dir, config, &[])
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_the_chatters_node_mid_chat_they_resume_on_another_and_miss_nothing() {
    let Some(cluster) = Cluster::create() else {
        return;
    };
    // Two nodes in this process (the first coordinates), the chatter's node a process of its
    // own, started last so that it joins as a gateway.
    let coordinator = cluster.node().await;
    ready(&coordinator).await;
    let advocate_node = cluster.node().await;
    ready(&advocate_node).await;
    let chatter_node = cluster.binary_node();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let body = loop {
        let response = reqwest::get(chatter_node.url("/healthz"))
            .await
            .expect("healthz");
        let ok = response.status() == 200;
        let body: Value = response.json().await.expect("JSON");
        if ok {
            break body;
        }
        assert!(tokio::time::Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(body["cluster"]["coordinating"], false, "{body}");

    let mut sam = cluster.advocate(&advocate_node, "sam-survivor").await;
    let tag = format!("dying-node-{}", uuid::Uuid::new_v4().simple());
    let (ws, _) = tokio_tungstenite::connect_async(chatter_node.ws_url("/ws/chat"))
        .await
        .expect("chat upgrade on the chatter's node");
    let mut chatter = Client::new("chatter on a dying node", ws);
    chatter
        .send(json!({"type": "hello", "intake": {"tag": tag}}))
        .await;
    let token = chatter.expect("welcome").await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    chatter.expect("queued").await;
    let chat_id = sam.chat_id_tagged(&tag).await;
    sam.claim(&chat_id).await;
    chatter.expect("joined").await;
    chatter
        .send(json!({"type": "message", "id": "c-1", "text": "before the node dies"}))
        .await;
    sam.hears(&chat_id, "before the node dies").await;
    let seen = sam.say(&chat_id, "a-0", "seen before").await;
    chatter
        .until("the advocate's line", |f| f["text"] == "seen before")
        .await;

    // The gateway's log (at `info`) holds none of what passed through it.
    let log = chatter_node.output();
    for canary in [
        "before the node dies",
        "seen before",
        tag.as_str(),
        token.as_str(),
    ] {
        assert!(
            !log.contains(canary),
            "the gateway logged {canary:?}:\n{log}"
        );
    }

    // kill -9: no goodbye to anyone. The coordinator notices the silence.
    drop(chatter_node.kill_hard());
    let missed = ["first while away", "second while away", "third while away"];
    for (i, text) in missed.iter().enumerate() {
        sam.say(&chat_id, &format!("a-{}", i + 1), text).await;
    }
    sam.client
        .until("`chatter_disconnected`", |f| {
            f["type"] == "chatter_disconnected" && f["chat_id"] == chat_id.as_str()
        })
        .await;

    // The page reconnects through the load balancer, here to the advocate's node, and resumes.
    let mut back = chatter_socket(&advocate_node, "resumed chatter").await;
    back.send(json!({"type": "resume", "v": 1, "token": token, "last_seq": seen}))
        .await;
    let welcome = back.expect("welcome").await;
    assert_eq!(welcome["resumed"], true, "{welcome}");
    back.send(json!({"type": "message", "id": "c-2", "text": "I'm back"}))
        .await;
    back.until("`ack` of c-2", |f| f["type"] == "ack" && f["id"] == "c-2")
        .await;
    let replayed: Vec<&str> = back
        .seen
        .iter()
        .filter(|f| f["type"] == "message" && f["from"] == "advocate")
        .filter_map(|f| f["text"].as_str())
        .collect();
    assert_eq!(replayed, missed, "every missed line once, in order");
    sam.hears(&chat_id, "I'm back").await;
}

#[tokio::test]
async fn a_node_that_cannot_reach_nats_says_so_and_sends_nobody_in() {
    let Some(scratch) = ScratchDatabase::create() else {
        return;
    };
    let store = scratch.store_config();
    let node = spawn_app_with(move |c| {
        c.store = store;
        // Nothing listens on port 1.
        c.cluster.nats_url = "nats://127.0.0.1:1".into();
        c.cluster.subject_prefix = format!("haven_test_{}", uuid::Uuid::new_v4().simple());
        c.cluster.heartbeat_ms = 100;
        c.cluster.node_timeout_ms = 600;
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (status, body) = health(&node).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "unhealthy", "{body}");
    assert_eq!(body["cluster"]["nats"], false, "{body}");
    let response = reqwest::Client::new()
        .get(node.url("/ws/chat"))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .expect("upgrade request");
    // It coordinates nothing it could route to: no chat starts here meanwhile.
    if body["cluster"]["coordinating"] != true {
        assert_eq!(response.status(), 503);
        let error: Value = response.json().await.expect("JSON error");
        assert_eq!(error["code"], "cluster_unavailable", "{error}");
    }
}
