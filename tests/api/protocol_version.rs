//! Protocol version 2 (`docs/protocol.md`): the writer of a line gets only its `ack`, not the line
//! back; version 1 clients keep the echo, also in the same chat as a version 2 client.

use haven::Role;
use serde_json::{json, Value};

use crate::common::{spawn_app, TestApp};
use crate::support::*;

/// A console opened with `/ws/console?v=…`, `welcome` read and checked for that version.
async fn console_speaking(app: &TestApp, username: &str, version: u32) -> Staff {
    app.add_staff(username, username, Role::Advocate, PASSWORD);
    let cookie = app.login(username, PASSWORD).await;
    let ws = upgrade(
        &format!("ws://{}/ws/console?v={version}", app.addr),
        &[("cookie", &cookie)],
    )
    .await;
    let mut client = Client::new(format!("console {username} v{version}"), ws);
    let welcome = client.expect("welcome").await;
    assert_eq!(welcome["v"], version, "{welcome}");
    let id = welcome["me"]["id"].as_str().expect("me.id").to_string();
    let mut staff = Staff {
        client,
        id,
        username: username.into(),
        display_name: username.into(),
        cookie,
    };
    staff.set_available(true).await;
    staff
}

/// A chatter whose `hello` asks for `version`, claimed by `advocate`.
async fn chatter_speaking(app: &TestApp, advocate: &mut Staff, version: u32) -> (Chatter, String) {
    let tag = format!("v{version}-{}", uuid::Uuid::new_v4().simple());
    let mut client = chatter_socket(app, &format!("chatter v{version}")).await;
    client
        .send(json!({"type": "hello", "v": version, "intake": {"tag": tag}}))
        .await;
    let welcome = client.expect("welcome").await;
    assert_eq!(welcome["v"], version, "{welcome}");
    let token = welcome["token"].as_str().expect("token").to_string();
    let chat_id = advocate.chat_id_tagged(&tag).await;
    advocate.claim(&chat_id).await;
    client.expect("joined").await;
    (Chatter { client, token }, chat_id)
}

/// The `message` frames a client received with this text.
fn lines_with(seen: &[Value], text: &str) -> usize {
    seen.iter()
        .filter(|f| f["type"] == "message" && f["text"] == text)
        .count()
}

#[tokio::test]
async fn version_2_sends_a_writer_only_the_ack_and_version_1_keeps_its_echo() {
    let app = spawn_app().await;
    let mut sam = console_speaking(&app, "sam-v2", 2).await;

    // Both ends on version 2.
    let (mut chatter, chat_id) = chatter_speaking(&app, &mut sam, 2).await;
    let seq = chatter.say("c-1", "v2 chatter line").await;
    sam.hears(&chat_id, "v2 chatter line").await;
    let reply = sam.say(&chat_id, "a-1", "v2 advocate line").await;
    assert_eq!(reply, seq + 1, "one transcript, seq in order");
    let heard = chatter.hears("v2 advocate line").await;
    assert_eq!(heard["from"], "advocate");
    assert_eq!(heard["seq"], reply);
    assert_eq!(
        lines_with(&chatter.client.seen, "v2 chatter line"),
        0,
        "a version 2 chatter does not get its own line back: {}",
        chatter.client.transcript()
    );
    assert_eq!(
        lines_with(&sam.client.seen, "v2 advocate line"),
        0,
        "a version 2 console does not get its own line back"
    );

    // A resume replays every line after `last_seq`, the chatter's own too: the page may have
    // lost them with the connection.
    let mut back = chatter_socket(&app, "chatter v2 resumed").await;
    back.send(json!({"type": "resume", "v": 2, "token": chatter.token, "last_seq": 0}))
        .await;
    let welcome = back.expect("welcome").await;
    assert_eq!(
        (welcome["v"].clone(), welcome["resumed"].clone()),
        (json!(2), json!(true))
    );
    back.until("the replayed advocate line", |f| {
        f["text"] == "v2 advocate line"
    })
    .await;
    assert_eq!(
        lines_with(&back.seen, "v2 chatter line"),
        1,
        "{}",
        back.transcript()
    );

    // A version 1 chatter with the same version 2 console keeps the echo before its ack.
    let (mut old, old_chat) = chatter_speaking(&app, &mut sam, 1).await;
    old.say("c-1", "v1 chatter line").await;
    sam.hears(&old_chat, "v1 chatter line").await;
    assert_eq!(lines_with(&old.client.seen, "v1 chatter line"), 1);
    let echo = old
        .client
        .seen
        .iter()
        .position(|f| f["text"] == "v1 chatter line")
        .expect("echo");
    let ack = old
        .client
        .seen
        .iter()
        .position(|f| f["type"] == "ack")
        .expect("ack");
    assert!(echo < ack, "version 1: the line comes back before its ack");

    // And a version 1 console keeps its echo beside version 2 chatters.
    let mut kim = console_speaking(&app, "kim-v1", 1).await;
    sam.set_available(false).await;
    let (_new, new_chat) = chatter_speaking(&app, &mut kim, 2).await;
    kim.say(&new_chat, "a-1", "v1 advocate line").await;
    assert_eq!(lines_with(&kim.client.seen, "v1 advocate line"), 1);

    // The staff roster: pushed to version 1 consoles after every change, given to version 2
    // consoles when they ask (pushed to everyone, it grows with the square of the staff).
    assert!(
        kim.client.seen.iter().any(|f| f["type"] == "advocates"),
        "a version 1 console gets the roster pushed"
    );
    sam.client.send(json!({"type": "ping"})).await;
    sam.client.expect("pong").await;
    assert!(
        !sam.client.seen.iter().any(|f| f["type"] == "advocates"),
        "a version 2 console is not sent the roster unasked"
    );
    sam.client.send(json!({"type": "advocates"})).await;
    let roster = sam.client.expect("advocates").await;
    let names: Vec<_> = roster["advocates"]
        .as_array()
        .expect("advocates is a list")
        .iter()
        .map(|a| (a["display_name"].clone(), a["available"].clone()))
        .collect();
    assert_eq!(
        names,
        [
            (json!("kim-v1"), json!(true)),
            (json!("sam-v2"), json!(false))
        ],
        "{roster}"
    );
}

#[tokio::test]
async fn an_unknown_version_is_refused_with_a_clear_error() {
    let app = spawn_app().await;
    // On duty, so that the hello below gets a chat rather than `offline`.
    let vera = console_speaking(&app, "vera", 1).await;
    let cookie = vera.cookie.clone();
    for query in ["v=3", "v=0", "v=two"] {
        let (status, body) = refused_upgrade(
            &format!("ws://{}/ws/console?{query}", app.addr),
            &[("cookie", &cookie)],
        )
        .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["code"], "unsupported_version", "{query}: {body}");
    }
    let mut chatter = chatter_socket(&app, "chatter v3").await;
    chatter
        .send(json!({"type": "resume", "v": 3, "token": "x"}))
        .await;
    chatter.expect_error("unsupported_version").await;
    // The socket stays usable: a hello in a version Haven speaks still works.
    chatter.send(json!({"type": "hello", "v": 2})).await;
    let welcome = chatter.expect("welcome").await;
    assert_eq!(welcome["v"], 2);
}
