//! Helpers of the API suite: a recording WebSocket client with good failure messages, staff set-up
//! with a login name different from the display name, raw upgrades, and the `haven` binary run as
//! a child process with its logs captured.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use haven::Role;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{
    client::IntoClientRequest, http::HeaderValue, protocol::CloseFrame, Error as WsError, Message,
};

use crate::common::{TestApp, Ws};

/// How long a test waits for something it expects. Generous on purpose: the machine is shared,
/// and this only matters when a test is about to fail anyway.
pub const WAIT: Duration = Duration::from_secs(10);

/// The password every test staff member gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// A WebSocket client that remembers every JSON frame it received, so that a test can assert on
/// everything a chatter ever saw, and so that a timeout says what did arrive instead.
pub struct Client {
    pub name: String,
    ws: Ws,
    /// Every text frame received, in order, parsed as JSON.
    pub seen: Vec<Value>,
    /// Frames skipped by [`Client::until`] while it waited for something else, offered first to
    /// the next wait (so that the order of unrelated events does not matter). Of snapshots (see
    /// [`SNAPSHOTS`]) only the newest of each kind is kept: an older one is stale.
    pending: std::collections::VecDeque<Value>,
}

/// Frame types that describe a current state and are resent after every change.
pub const SNAPSHOTS: &[&str] = &["queue", "advocates", "overview", "status", "queued"];

/// How a socket ended, seen from the client.
#[derive(Debug)]
pub enum Ending {
    /// The server sent a close frame (code, reason).
    Close(Option<(u16, String)>),
    /// The connection ended without a close frame (EOF or reset); the text is for `{:?}`.
    Dropped(#[allow(dead_code)] String),
}

impl Ending {
    pub fn code(&self) -> Option<u16> {
        match self {
            Ending::Close(Some((code, _))) => Some(*code),
            _ => None,
        }
    }
}

impl Client {
    pub fn new(name: impl Into<String>, ws: Ws) -> Client {
        Client {
            name: name.into(),
            ws,
            seen: Vec::new(),
            pending: Default::default(),
        }
    }

    pub async fn send(&mut self, frame: Value) {
        let name = &self.name;
        self.ws
            .send(Message::text(frame.to_string()))
            .await
            .unwrap_or_else(|e| panic!("{name}: sending {frame} failed: {e}"));
    }

    /// Send, reporting failure instead of panicking (for sockets the server may close).
    pub async fn send_fallible(&mut self, frame: Value) -> Result<(), WsError> {
        self.ws.send(Message::text(frame.to_string())).await
    }

    /// The next text frame, or how the socket ended. Panics only on a timeout.
    pub async fn next_or_end(&mut self) -> Result<Value, Ending> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let message = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "{}: nothing within {WAIT:?}; recent frames:\n    {}",
                        self.name,
                        self.recent()
                    )
                });
            match message {
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
                        panic!(
                            "{}: server sent a text frame that is not JSON ({e}): {text}",
                            self.name
                        )
                    });
                    self.seen.push(value.clone());
                    return Ok(value);
                }
                Some(Ok(Message::Close(close))) => {
                    return Err(Ending::Close(close.map(|CloseFrame { code, reason }| {
                        (u16::from(code), reason.to_string())
                    })))
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(Ending::Dropped(e.to_string())),
                None => return Err(Ending::Dropped("end of stream".into())),
            }
        }
    }

    pub async fn send_raw(&mut self, message: Message) {
        let name = &self.name;
        self.ws
            .send(message)
            .await
            .unwrap_or_else(|e| panic!("{name}: sending a raw frame failed: {e}"));
    }

    fn recent(&self) -> String {
        let start = self.seen.len().saturating_sub(8);
        self.seen[start..]
            .iter()
            .map(|f| {
                let mut s = f.to_string();
                if s.len() > 300 {
                    s.truncate(300);
                    s.push('…');
                }
                s
            })
            .collect::<Vec<_>>()
            .join("\n    ")
    }

    /// The next text frame, or `None` if nothing arrives within `wait`. Panics if the socket
    /// ends (use [`Client::ended`] to expect that).
    pub async fn try_next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let message = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return None,
                Ok(message) => message,
            };
            match message {
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
                        panic!("{}: server sent a text frame that is not JSON ({e}): {text}", self.name)
                    });
                    self.seen.push(value.clone());
                    return Some(value);
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Ok(Message::Binary(_))) => panic!("{}: the server sent a binary frame", self.name),
                Some(Ok(Message::Close(close))) => panic!(
                    "{}: socket closed ({close:?}) while a frame was expected; recent frames:\n    {}",
                    self.name,
                    self.recent()
                ),
                Some(Err(e)) => panic!(
                    "{}: socket error ({e}) while a frame was expected; recent frames:\n    {}",
                    self.name,
                    self.recent()
                ),
                None => panic!(
                    "{}: socket ended while a frame was expected; recent frames:\n    {}",
                    self.name,
                    self.recent()
                ),
            }
        }
    }

    /// The next text frame (pings and pongs skipped).
    pub async fn next(&mut self) -> Value {
        match self.try_next(WAIT).await {
            Some(frame) => frame,
            None => panic!(
                "{}: no frame within {WAIT:?}; recent frames:\n    {}",
                self.name,
                self.recent()
            ),
        }
    }

    /// Skip frames until one matches `pred`. An `error` frame that does not match fails the test
    /// at once (an unexpected error is never something to skip over).
    pub async fn until(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.until_within(WAIT, what, pred).await
    }

    /// [`Client::until`] with a longer wait, for what the server does on a timer of its own.
    pub async fn until_within(
        &mut self,
        wait: Duration,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        if let Some(at) = self.pending.iter().position(&pred) {
            return self.pending.remove(at).unwrap();
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(frame) = self.try_next(left).await else {
                panic!(
                    "{}: no {what} within {wait:?}; recent frames:\n    {}",
                    self.name,
                    self.recent()
                );
            };
            if pred(&frame) {
                return frame;
            }
            if frame["type"] == "error" {
                panic!(
                    "{}: got {frame} while waiting for {what}; recent frames:\n    {}",
                    self.name,
                    self.recent()
                );
            }
            let snapshot = frame["type"]
                .as_str()
                .is_some_and(|t| SNAPSHOTS.contains(&t));
            if snapshot {
                // Only the newest snapshot of a kind is still true.
                self.pending.retain(|f| f["type"] != frame["type"]);
            }
            if frame["type"] != "pong" {
                self.pending.push_back(frame);
            }
        }
    }

    /// Skip frames until one of type `kind`.
    pub async fn expect(&mut self, kind: &str) -> Value {
        self.until(&format!("a `{kind}` frame"), |f| f["type"] == kind)
            .await
    }

    /// Skip frames until an `error` frame; assert its code and that it carries a sentence.
    pub async fn expect_error(&mut self, code: &str) -> Value {
        let frame = self
            .until(&format!("error `{code}`"), |f| f["type"] == "error")
            .await;
        assert_eq!(
            frame["code"], code,
            "{}: wrong error code in {frame}",
            self.name
        );
        assert!(
            frame["message"]
                .as_str()
                .is_some_and(|m| !m.trim().is_empty()),
            "{}: an error carries a sentence for people: {frame}",
            self.name
        );
        frame
    }

    /// Skip frames until an `error` frame whose code is one of `codes`.
    pub async fn expect_error_in(&mut self, codes: &[&str]) -> Value {
        let frame = self
            .until(&format!("an error in {codes:?}"), |f| f["type"] == "error")
            .await;
        let code = frame["code"].as_str().unwrap_or_default();
        assert!(
            codes.contains(&code),
            "{}: expected one of {codes:?}, got {frame}",
            self.name
        );
        frame
    }

    /// Send `ping` and wait for `pong`: proof that the connection still works. Returns every
    /// frame that arrived before the pong.
    pub async fn still_works(&mut self) -> Vec<Value> {
        let start = self.seen.len();
        self.send(json!({"type": "ping"})).await;
        self.until("`pong` (the connection should still work)", |f| {
            f["type"] == "pong"
        })
        .await;
        self.seen[start..self.seen.len() - 1].to_vec()
    }

    /// Read until the socket ends; text frames on the way are recorded. Panics if it stays open.
    pub async fn ended(&mut self, wait: Duration) -> Ending {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.ws.next()).await {
                Err(_) => panic!(
                    "{}: the socket should have been closed within {wait:?}; recent frames:\n    {}",
                    self.name,
                    self.recent()
                ),
                Ok(Some(Ok(Message::Text(text)))) => {
                    if let Ok(value) = serde_json::from_str::<Value>(&text) {
                        self.seen.push(value);
                    }
                }
                Ok(Some(Ok(Message::Close(close)))) => {
                    return Ending::Close(close.map(|CloseFrame { code, reason }| {
                        (u16::from(code), reason.to_string())
                    }))
                }
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(e))) => return Ending::Dropped(e.to_string()),
                Ok(None) => return Ending::Dropped("end of stream".into()),
            }
        }
    }

    /// Every frame seen so far, as one string (for "never appears" assertions).
    pub fn transcript(&self) -> String {
        self.seen
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn into_inner(self) -> Ws {
        self.ws
    }
}

/// Read until this advocate's fate for `chat_id` is known: `assigned` or an `error` about it.
pub async fn claim_outcome(advocate: &mut Staff, chat_id: &str) -> Value {
    let chat_id = chat_id.to_string();
    advocate
        .client
        .until(&format!("`assigned` or `error` for {chat_id}"), |f| {
            (f["type"] == "assigned" && f["chat_id"] == chat_id.as_str()) || f["type"] == "error"
        })
        .await
}

/// Both advocates claim `chat_id` at the same moment: exactly one wins, the other hears
/// `already_claimed`. Whether `first` won.
pub async fn race_for(first: &mut Staff, second: &mut Staff, chat_id: &str, round: usize) -> bool {
    let claim = json!({"type": "claim", "chat_id": chat_id});
    tokio::join!(first.client.send(claim.clone()), second.client.send(claim));
    let (a, b) = tokio::join!(
        claim_outcome(first, chat_id),
        claim_outcome(second, chat_id)
    );
    let (first_won, loser) = match (a["type"].as_str(), b["type"].as_str()) {
        (Some("assigned"), Some("error")) => (true, b),
        (Some("error"), Some("assigned")) => (false, a),
        _ => panic!(
            "round {round}: exactly one claim wins; got\n  {}: {a}\n  {}: {b}",
            first.username, second.username
        ),
    };
    assert_eq!(loser["code"], "already_claimed", "round {round}: {loser}");
    first_won
}

/// A chatter who said hello and read `welcome` (returned) and the following `queued`/`joined`.
pub struct Chatter {
    pub client: Client,
    pub token: String,
}

/// An advocate (or other staff member) on the console, `welcome` read.
pub struct Staff {
    pub client: Client,
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub cookie: String,
}

/// Create a staff member whose login name and display name share nothing, log in, connect.
pub async fn staff(app: &TestApp, username: &str, display_name: &str, role: Role) -> Staff {
    app.add_staff(username, display_name, role, PASSWORD);
    let cookie = app.login(username, PASSWORD).await;
    connect_staff(app, username, display_name, &cookie).await
}

/// Open a console socket with an existing cookie and read `welcome`.
pub async fn connect_staff(
    app: &TestApp,
    username: &str,
    display_name: &str,
    cookie: &str,
) -> Staff {
    let ws = app.console(cookie).await;
    let mut client = Client::new(format!("console {username}"), ws);
    let welcome = client.expect("welcome").await;
    assert_eq!(welcome["me"]["username"], username, "{welcome}");
    assert_eq!(welcome["me"]["display_name"], display_name, "{welcome}");
    let id = welcome["me"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("welcome.me.id is a string: {welcome}"))
        .to_string();
    Staff {
        client,
        id,
        username: username.into(),
        display_name: display_name.into(),
        cookie: cookie.into(),
    }
}

/// An advocate who is available (the hub confirmed it with a `status` frame).
pub async fn available_advocate(app: &TestApp, username: &str, display_name: &str) -> Staff {
    let mut advocate = staff(app, username, display_name, Role::Advocate).await;
    advocate.set_available(true).await;
    advocate
}

impl Staff {
    pub async fn set_available(&mut self, available: bool) {
        self.client
            .send(json!({"type": "status", "available": available}))
            .await;
        let status = self
            .client
            .until("own `status`", |f| {
                f["type"] == "status" && f["available"] == available
            })
            .await;
        assert!(
            status["capacity"].is_u64(),
            "status carries capacity: {status}"
        );
        assert!(status["load"].is_u64(), "status carries load: {status}");
    }

    /// Wait for a queue snapshot that holds `n` entries in all, return them.
    pub async fn queue_of_len(&mut self, n: usize) -> Vec<Value> {
        let frame = self
            .client
            .until(&format!("a `queue` snapshot with {n} entries"), |f| {
                f["type"] == "queue" && f["entries"].as_array().is_some_and(|e| e.len() == n)
            })
            .await;
        frame["entries"].as_array().unwrap().clone()
    }

    /// Claim and wait for `assigned` of that chat.
    pub async fn claim(&mut self, chat_id: &str) -> Value {
        self.client
            .send(json!({"type": "claim", "chat_id": chat_id}))
            .await;
        self.assigned(chat_id).await
    }

    pub async fn assigned(&mut self, chat_id: &str) -> Value {
        let chat_id = chat_id.to_string();
        self.client
            .until(&format!("`assigned` of {chat_id}"), |f| {
                f["type"] == "assigned" && f["chat_id"] == chat_id.as_str()
            })
            .await
    }

    /// Send a message to a chat and wait for its `ack`; returns the acked seq.
    pub async fn say(&mut self, chat_id: &str, id: &str, text: &str) -> u64 {
        self.client
            .send(json!({"type": "message", "chat_id": chat_id, "id": id, "text": text}))
            .await;
        let ack = self.client.ack(id).await;
        assert_eq!(ack["chat_id"], chat_id, "{ack}");
        seq_of(&ack)
    }

    /// Wait for a `message` in a chat with this text.
    pub async fn hears(&mut self, chat_id: &str, text: &str) -> Value {
        let chat_id = chat_id.to_string();
        self.client
            .until(&format!("message {text:?} in {chat_id}"), |f| {
                f["type"] == "message" && f["chat_id"] == chat_id.as_str() && f["text"] == text
            })
            .await
    }

    pub async fn end(&mut self, chat_id: &str) {
        self.client
            .send(json!({"type": "end", "chat_id": chat_id}))
            .await;
        let chat_id = chat_id.to_string();
        let ended = self
            .client
            .until("`ended` after `end`", |f| {
                f["type"] == "ended" && f["chat_id"] == chat_id.as_str()
            })
            .await;
        assert_eq!(ended["reason"], "ended_by_you", "{ended}");
    }
}

pub async fn chatter_socket(app: &TestApp, name: &str) -> Client {
    Client::new(name, app.chatter().await)
}

/// A chatter who said hello with `hello` (merged over `{"type":"hello"}`) and got `welcome`.
pub async fn hello(app: &TestApp, name: &str, extra: Value) -> Chatter {
    let mut client = chatter_socket(app, name).await;
    let token = say_hello(&mut client, extra).await;
    Chatter { client, token }
}

/// Send hello on an open chatter socket, read `welcome`, return the token.
pub async fn say_hello(client: &mut Client, extra: Value) -> String {
    let mut frame = json!({"type": "hello"});
    if let Value::Object(extra) = extra {
        for (k, v) in extra {
            frame[k] = v;
        }
    }
    client.send(frame).await;
    let welcome = client.expect("welcome").await;
    assert_eq!(welcome["v"], 1, "{welcome}");
    assert_eq!(welcome["resumed"], false, "{welcome}");
    welcome["token"]
        .as_str()
        .unwrap_or_else(|| panic!("welcome carries a token: {welcome}"))
        .to_string()
}

impl Chatter {
    /// Send a message, wait for its ack, return the seq.
    pub async fn say(&mut self, id: &str, text: &str) -> u64 {
        self.client
            .send(json!({"type": "message", "id": id, "text": text}))
            .await;
        seq_of(&self.client.ack(id).await)
    }

    pub async fn hears(&mut self, text: &str) -> Value {
        self.client
            .until(&format!("message {text:?}"), |f| {
                f["type"] == "message" && f["text"] == text
            })
            .await
    }
}

/// The `seq` an `ack` assigns.
fn seq_of(ack: &Value) -> u64 {
    ack["seq"]
        .as_u64()
        .unwrap_or_else(|| panic!("ack has a seq: {ack}"))
}

/// A chatter who said hello with a unique intake `tag`, so that an advocate can pick their entry
/// out of the queue snapshot. Returns the chatter (welcome read, not `queued`) and the tag.
pub async fn tagged_hello(app: &TestApp, name: &str) -> (Chatter, String) {
    let tag = format!("{name}-{}", uuid::Uuid::new_v4().simple());
    let chatter = hello(app, name, json!({"intake": {"tag": tag}})).await;
    (chatter, tag)
}

impl Client {
    /// Wait for the `ack` of the message `id`, which carries a time.
    async fn ack(&mut self, id: &str) -> Value {
        let ack = self
            .until(&format!("`ack` of {id}"), |f| {
                f["type"] == "ack" && f["id"] == id
            })
            .await;
        assert!(ack["at"].is_u64(), "ack carries a time: {ack}");
        ack
    }

    /// On a console socket: wait for a queue snapshot holding the chatter whose intake carries
    /// `tag`; its entry.
    pub async fn queue_entry_tagged(&mut self, tag: &str) -> Value {
        let frame = self
            .until(&format!("a queue entry tagged {tag}"), |f| {
                f["type"] == "queue"
                    && f["entries"]
                        .as_array()
                        .is_some_and(|e| e.iter().any(|e| e["intake"]["tag"] == tag))
            })
            .await;
        frame["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["intake"]["tag"] == tag)
            .unwrap()
            .clone()
    }
}

impl Staff {
    /// Wait for a queue snapshot holding the chatter whose intake carries `tag`; its entry.
    pub async fn entry_tagged(&mut self, tag: &str) -> Value {
        self.client.queue_entry_tagged(tag).await
    }

    /// The chat id of the waiting chatter tagged `tag`.
    pub async fn chat_id_tagged(&mut self, tag: &str) -> String {
        self.entry_tagged(tag).await["chat_id"]
            .as_str()
            .expect("chat_id is a string")
            .to_string()
    }
}

/// A chatter (hello'd) claimed by `advocate`; returns the chat id. Both sides' frames read.
pub async fn claimed_chat(app: &TestApp, advocate: &mut Staff, name: &str) -> (Chatter, String) {
    let (mut chatter, tag) = tagged_hello(app, name).await;
    chatter.client.expect("queued").await;
    let chat_id = advocate.chat_id_tagged(&tag).await;
    advocate.claim(&chat_id).await;
    chatter.client.expect("joined").await;
    (chatter, chat_id)
}

/// A message exchange both ways on a chat, checked on both ends: proof that the chat flows.
pub async fn exchange(chatter: &mut Chatter, advocate: &mut Staff, chat_id: &str, tag: &str) {
    let to_advocate = format!("from chatter {tag}");
    chatter.say(&format!("c-{tag}"), &to_advocate).await;
    advocate.hears(chat_id, &to_advocate).await;
    let to_chatter = format!("from advocate {tag}");
    advocate
        .say(chat_id, &format!("a-{tag}"), &to_chatter)
        .await;
    chatter.hears(&to_chatter).await;
}

/// The upgrade request for `url` with extra headers.
fn upgrade_request(
    url: &str,
    headers: &[(&str, &str)],
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    request
}

/// A WebSocket upgrade that is expected to be refused: returns (status, JSON body).
pub async fn refused_upgrade(url: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    match tokio_tungstenite::connect_async(upgrade_request(url, headers)).await {
        Ok(_) => panic!("the upgrade of {url} with {headers:?} should have been refused"),
        Err(WsError::Http(response)) => {
            let status = response.status().as_u16();
            let body = response.body().clone().unwrap_or_default();
            let json = serde_json::from_slice(&body).unwrap_or_else(|_| {
                panic!(
                    "refusal of {url} ({status}) has a JSON body, got {:?}",
                    String::from_utf8_lossy(&body)
                )
            });
            (status, json)
        }
        Err(other) => panic!("the upgrade of {url} failed without an HTTP answer: {other}"),
    }
}

/// A WebSocket upgrade with extra headers that must succeed.
pub async fn upgrade(url: &str, headers: &[(&str, &str)]) -> Ws {
    match tokio_tungstenite::connect_async(upgrade_request(url, headers)).await {
        Ok((ws, _)) => ws,
        Err(WsError::Http(response)) => panic!(
            "the upgrade of {url} with {headers:?} was refused: {} {:?}",
            response.status(),
            response
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).to_string())
        ),
        Err(other) => panic!("the upgrade of {url} failed: {other}"),
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(WAIT)
        .build()
        .expect("http client")
}

/// A staff member's JSON request to `base` + `path` as the admin page makes it (the page's
/// origin, the session cookie, a JSON body when given): the status and the JSON answer
/// (`Null` when there is none).
pub async fn staff_request(
    method: reqwest::Method,
    base: &str,
    cookie: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = http()
        .request(method, format!("{base}{path}"))
        .header("origin", base)
        .header("cookie", cookie);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `POST` `body` to `app`'s `path` as a staff member's page does; status and JSON answer.
pub async fn post_as(app: &TestApp, cookie: &str, path: &str, body: Value) -> (u16, Value) {
    staff_request(
        reqwest::Method::POST,
        &app.url(""),
        cookie,
        path,
        Some(&body),
    )
    .await
}

/// `GET` `app`'s `path` with a staff cookie; status and JSON answer.
pub async fn get_as(app: &TestApp, cookie: &str, path: &str) -> (u16, Value) {
    staff_request(reqwest::Method::GET, &app.url(""), cookie, path, None).await
}

/// A console opened at `ws_url` with `headers` (the session cookie at least) and made available
/// for chats: the client and its `welcome`.
pub async fn console_on_duty(
    ws_url: &str,
    headers: &[(&str, &str)],
    name: &str,
) -> (Client, Value) {
    let mut client = Client::new(name, upgrade(ws_url, headers).await);
    let welcome = client.expect("welcome").await;
    client
        .send(json!({"type": "status", "available": true}))
        .await;
    client
        .until("available", |f| {
            f["type"] == "status" && f["available"] == true
        })
        .await;
    (client, welcome)
}

/// Adds an admin to `app`; their session cookie.
pub async fn admin_cookie(app: &TestApp, username: &str) -> String {
    app.add_staff(username, "Admin", haven::Role::Admin, PASSWORD);
    app.login(username, PASSWORD).await
}

/// `POST` a login to `url` (the app's or a child server's `/api/staff/login`); the response.
pub async fn post_login(url: &str, username: &str, password: &str) -> reqwest::Response {
    // A browser names the page's origin on every POST; Haven refuses a POST without it.
    let origin = url.split("/api/").next().unwrap_or(url);
    http()
        .post(url)
        .header("origin", origin)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login request")
}

/// The `name=value` part of a login response's `set-cookie`, ready for a `cookie` header.
pub fn session_cookie(response: &reqwest::Response) -> String {
    response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// `POST /api/staff/logout` with this session cookie; the response.
pub async fn logout(app: &TestApp, cookie: &str) -> reqwest::Response {
    http()
        .post(app.url("/api/staff/logout"))
        .header("origin", app.url(""))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

/// `GET /api/staff/me` with this session cookie; the response.
pub async fn me(app: &TestApp, cookie: &str) -> reqwest::Response {
    http()
        .get(app.url("/api/staff/me"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

/// The ids of the queues a `welcome` or the public config lists, in order.
pub fn queue_ids(frame: &Value) -> Vec<&str> {
    frame["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .map(|q| q["id"].as_str().unwrap())
        .collect()
}

/// `POST /api/staff/login`; returns (status, JSON body).
pub async fn try_login(app: &TestApp, username: &str, password: &str) -> (u16, Value) {
    let response = post_login(&app.url("/api/staff/login"), username, password).await;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Wait for an app task to finish.
pub async fn stopped(app: TestApp) -> tempfile::TempDir {
    tokio::time::timeout(WAIT, app.task)
        .await
        .expect("the server stops after shutdown was triggered")
        .expect("the server task did not panic");
    app.data_dir
}

/// A string that appears nowhere by accident.
pub fn canary(kind: &str) -> String {
    format!("CANARY-{kind}-{}", uuid::Uuid::new_v4().simple())
}

/// Every file under `dir` (recursively) with its bytes.
pub fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("read {dir:?}: {e}")) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path, bytes));
            }
        }
    }
    out
}

pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The `haven` binary, run as a child process with stdout and stderr captured.
pub struct Binary {
    pub child: Child,
    pub output: Arc<Mutex<String>>,
    /// Holds the config file and the data directory for as long as the server runs (taken
    /// back by [`Binary::kill_hard`] for a restart).
    dir: Option<tempfile::TempDir>,
    pub port: u16,
}

pub fn haven_command(config_path: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_haven"));
    command.arg("--config").arg(config_path);
    // The tests' own environment must not leak configuration into the child.
    for (key, _) in std::env::vars() {
        if key.starts_with("HAVEN_") {
            command.env_remove(key);
        }
    }
    command
}

/// Write a config file in a fresh temp dir: `extra` is TOML appended after a `[server]` section
/// that binds to port 0 and puts the data directory in the temp dir, and a `[log]` section.
pub fn config_dir(server_extra: &str, rest: &str, log_level: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let config_path = dir.path().join("haven.toml");
    let text = format!(
        "[server]\nbind = \"127.0.0.1:0\"\ndata_dir = {data:?}\n{server_extra}\n\n[log]\nformat = \"json\"\nlevel = {log_level:?}\n\n{rest}\n"
    );
    std::fs::write(&config_path, text).expect("write config");
    (dir, config_path)
}

/// `haven --config FILE staff add NAME --role ROLE --display-name DISPLAY`, password on stdin.
pub fn staff_add(config_path: &Path, username: &str, role: &str, display: &str, password: &str) {
    let mut child = haven_command(config_path)
        .args([
            "staff",
            "add",
            username,
            "--role",
            role,
            "--display-name",
            display,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run haven staff add");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "`haven staff add {username}` failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !all.contains(password),
        "`haven staff add` must never echo the password: {all}"
    );
}

/// Find the port in a log line that says `listening` (JSON field `port`, or `port=N`).
fn listening_port(line: &str) -> Option<u16> {
    if !line.contains("listening") {
        return None;
    }
    if let Ok(value) = serde_json::from_str::<Value>(line) {
        fn find(value: &Value) -> Option<u16> {
            match value {
                Value::Object(map) => {
                    if let Some(port) = map.get("port") {
                        if let Some(p) = port.as_u64() {
                            return u16::try_from(p).ok();
                        }
                        if let Some(p) = port.as_str().and_then(|s| s.parse().ok()) {
                            return Some(p);
                        }
                    }
                    map.values().find_map(find)
                }
                _ => None,
            }
        }
        return find(&value);
    }
    let at = line.find("port=")?;
    line[at + 5..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

impl Binary {
    /// `haven --config FILE serve` with extra environment, waiting for the `listening` line.
    pub fn serve(dir: tempfile::TempDir, config_path: PathBuf, env: &[(&str, &str)]) -> Binary {
        let mut command = haven_command(&config_path);
        command
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start haven serve");
        let output = Arc::new(Mutex::new(String::new()));
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = output.clone();
            let port_tx = port_tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if let Some(port) = listening_port(&line) {
                        let _ = port_tx.send(port);
                    }
                    let mut output = output.lock().unwrap();
                    output.push_str(&line);
                    output.push('\n');
                }
            });
        }
        let port = match port_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "haven serve never logged `listening` with a `port`; output:\n{}",
                    output.lock().unwrap()
                );
            }
        };
        Binary {
            child,
            output,
            dir: Some(dir),
            port,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{}", self.port, path)
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// SIGKILL (`kill -9`): the process writes nothing more. Returns the directory holding the
    /// config and the data, for a restart on the same database.
    pub fn kill_hard(mut self) -> tempfile::TempDir {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
        self.dir.take().expect("the directory is held until now")
    }

    /// SIGTERM, then wait (bounded) for the exit; returns whether it exited successfully.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {pid}");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader threads drain the pipes.
                std::thread::sleep(Duration::from_millis(200));
                return status;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "haven did not exit within 30 s of SIGTERM; output:\n{}",
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
