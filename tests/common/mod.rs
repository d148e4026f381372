//! Helpers shared by every integration-test binary: start the real server on a random port,
//! create staff, log in over HTTP and open real WebSockets.
#![allow(dead_code)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use haven::{Application, Config, Role};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    tungstenite::{client::IntoClientRequest, http::HeaderValue, Message},
    MaybeTlsStream, WebSocketStream,
};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a test waits for a frame it expects before failing.
pub const WAIT: Duration = Duration::from_secs(5);

pub struct TestApp {
    pub port: u16,
    pub addr: String,
    pub data_dir: tempfile::TempDir,
    pub shutdown: haven::ShutdownHandle,
    pub task: tokio::task::JoinHandle<()>,
}

/// The embedded defaults, bound to a random port, with a fresh data directory.
pub fn test_config(data_dir: &std::path::Path) -> Config {
    let mut config = Config::embedded_defaults();
    config.server.bind = "127.0.0.1:0".into();
    config.server.data_dir = data_dir.to_path_buf();
    config
}

/// Start Haven with the defaults, changed by `tweak`.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(data_dir.path());
    tweak(&mut config);
    let app = Application::build(config).await.expect("server starts");
    let port = app.port();
    let shutdown = app.shutdown_handle();
    let task = tokio::spawn(async move {
        app.run_until_stopped().await.expect("server runs");
    });
    TestApp {
        port,
        addr: format!("127.0.0.1:{port}"),
        data_dir,
        shutdown,
        task,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Create a staff account directly in the store (what `haven staff add` does).
    pub fn add_staff(&self, username: &str, display_name: &str, role: Role, password: &str) {
        let store = haven::store::Store::open(self.data_dir.path()).expect("store opens");
        store
            .add_staff(username, display_name, role, password)
            .expect("staff added");
    }

    /// Log in and return the `haven_session` cookie value (`haven_session=...`).
    pub async fn login(&self, username: &str, password: &str) -> String {
        let response = reqwest::Client::new()
            .post(self.url("/api/staff/login"))
            .header("origin", self.url(""))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("login request");
        assert_eq!(response.status(), 200, "login of {username} must succeed");
        let cookie = response
            .headers()
            .get("set-cookie")
            .expect("session cookie")
            .to_str()
            .unwrap();
        cookie.split(';').next().unwrap().to_string()
    }

    /// Add an advocate, log them in and open their console socket (welcome already read).
    pub async fn advocate(&self, username: &str) -> Ws {
        self.add_staff(
            username,
            &format!("Advocate {username}"),
            Role::Advocate,
            "correct horse",
        );
        let cookie = self.login(username, "correct horse").await;
        let mut ws = self.console(&cookie).await;
        let welcome = next_of_type(&mut ws, "welcome").await;
        assert_eq!(welcome["me"]["username"], username);
        ws
    }

    pub async fn console(&self, cookie: &str) -> Ws {
        let mut request = format!("ws://{}/ws/console", self.addr)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("cookie", HeaderValue::from_str(cookie).unwrap());
        let (ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("console upgrade");
        ws
    }

    pub async fn chatter(&self) -> Ws {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws/chat", self.addr))
            .await
            .expect("chat upgrade");
        ws
    }
}

pub async fn send(ws: &mut Ws, frame: Value) {
    ws.send(Message::text(frame.to_string()))
        .await
        .expect("send");
}

/// The next text frame as JSON (pings and pongs are skipped).
pub async fn next_frame(ws: &mut Ws) -> Value {
    loop {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a frame in time")
            .expect("socket open")
            .expect("valid frame");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).expect("JSON frame"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// Skip frames until one of `kind` arrives (snapshots such as `queue` come often).
pub async fn next_of_type(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let frame = next_frame(ws).await;
        if frame["type"] == kind {
            return frame;
        }
    }
}
