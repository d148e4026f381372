//! Graceful shutdown: everyone is told, and staff sessions survive a restart.

use haven::Application;
use serde_json::json;

use crate::common::{spawn_app, test_config};
use crate::support::*;

#[tokio::test]
async fn shutdown_tells_chatters_and_consoles_and_staff_sessions_survive_a_restart() {
    let app = spawn_app().await;
    let mut sam = available_advocate(&app, "login-dipper-90", "Advocate Sam").await;
    let (mut chatting, _chat_id) = claimed_chat(&app, &mut sam, "chatting").await;
    let mut waiting = hello(&app, "waiting", json!({})).await;
    waiting.client.expect("queued").await;
    let cookie = sam.cookie.clone();
    // Sockets without a live chat: before `hello`, and after the chat ended.
    let mut before_hello = chatter_socket(&app, "before hello").await;
    before_hello.still_works().await;
    let (mut ended_chat, ended_id) = claimed_chat(&app, &mut sam, "ended chat").await;
    sam.end(&ended_id).await;
    ended_chat.client.expect("ended").await;

    app.shutdown.trigger();

    // The console hears `ended` / `server_closing` for the chat it had, then `server_closing`.
    let ended = sam
        .client
        .until("`ended` for the live chat", |f| {
            f["type"] == "ended" && f["chat_id"] == _chat_id.as_str()
        })
        .await;
    assert_eq!(ended["reason"], "server_closing", "{ended}");
    for socket in [&mut before_hello, &mut ended_chat.client] {
        let ending = socket.ended(WAIT).await;
        assert_eq!(
            ending.code(),
            Some(1001),
            "a socket without a live chat gets a close frame too: {ending:?}"
        );
    }

    for chatter in [&mut chatting, &mut waiting] {
        let ended = chatter.client.expect("ended").await;
        assert_eq!(ended["reason"], "server_closing", "{ended}");
        let ending = chatter.client.ended(WAIT).await;
        assert_eq!(
            ending.code(),
            Some(1001),
            "server_closing closes with 1001: {ending:?}"
        );
    }
    let closing = sam
        .client
        .until("`server_closing`", |f| {
            f["type"] == "server_closing" || (f["type"] == "error" && f["code"] == "server_closing")
        })
        .await;
    assert!(closing["type"] == "server_closing" || closing["code"] == "server_closing");
    let ending = sam.client.ended(WAIT).await;
    assert_eq!(ending.code(), Some(1001), "{ending:?}");

    // The server stops; a new one on the same data directory knows the session.
    let data_dir = stopped(app).await;
    let config = test_config(data_dir.path());
    let restarted = Application::build(config).await.expect("restart");
    let port = restarted.port();
    let shutdown = restarted.shutdown_handle();
    let task = tokio::spawn(async move {
        restarted.run_until_stopped().await.expect("server runs");
    });
    let response = http()
        .get(format!("http://127.0.0.1:{port}/api/staff/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "the staff session survives a restart"
    );
    let me: serde_json::Value = response.json().await.unwrap();
    assert_eq!(me["username"], "login-dipper-90");
    let ws = upgrade(
        &format!("ws://127.0.0.1:{port}/ws/console"),
        &[("cookie", &cookie)],
    )
    .await;
    let mut console = Client::new("console after restart", ws);
    console.expect("welcome").await;
    // In-memory chats did not survive: the old token resumes nothing.
    let ws = upgrade(&format!("ws://127.0.0.1:{port}/ws/chat"), &[]).await;
    let mut chatter = Client::new("chatter after restart", ws);
    chatter
        .send(json!({"type": "resume", "token": chatting.token, "last_seq": 0}))
        .await;
    chatter.expect_error("chat_purged").await;

    shutdown.trigger();
    tokio::time::timeout(WAIT, task)
        .await
        .expect("the restarted server stops too")
        .unwrap();
}

#[tokio::test]
async fn after_shutdown_no_new_connection_is_accepted() {
    let app = spawn_app().await;
    let addr = app.addr.clone();
    app.shutdown.trigger();
    let _ = stopped(app).await;
    let refused = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/chat")).await;
    assert!(refused.is_err(), "a stopped server accepts nothing");
}
