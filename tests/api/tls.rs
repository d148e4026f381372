//! Haven's own TLS, on the real binary: HTTPS and WSS with a certificate made here, Secure
//! `__Host-` cookies and HSTS without further settings, a new certificate taken on SIGHUP while
//! an open chat socket carries on, a broken renewal that keeps the old one, and a start refused
//! with a message naming the key when the certificate cannot be read.

use std::{path::Path, process::Command, sync::Arc, time::Duration};

use futures_util::{SinkExt, StreamExt};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_rustls::{
    client::TlsStream,
    rustls::{self, pki_types::ServerName},
    TlsConnector,
};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

use crate::support::{config_dir, haven_command, staff_add, Binary};

struct Certificate {
    pem: String,
    key_pem: String,
    der: Vec<u8>,
}

fn make_certificate() -> Certificate {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
        .expect("a self-signed certificate");
    Certificate {
        pem: made.cert.pem(),
        key_pem: made.signing_key.serialize_pem(),
        der: made.cert.der().to_vec(),
    }
}

fn install(certificate: &Certificate, dir: &Path) {
    std::fs::write(dir.join("cert.pem"), &certificate.pem).unwrap();
    std::fs::write(dir.join("key.pem"), &certificate.key_pem).unwrap();
}

/// A TLS connection to Haven trusting `trusted` only; returns it and the certificate presented.
async fn connect(port: u16, trusted: &[&Certificate]) -> (TlsStream<TcpStream>, Vec<u8>) {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in trusted {
        roots
            .add(certificate.der.clone().into())
            .expect("a usable root");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let stream = TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("a TLS handshake with a trusted certificate");
    let presented = stream.get_ref().1.peer_certificates().unwrap()[0].to_vec();
    (stream, presented)
}

/// One HTTP/1.1 exchange over TLS; the whole answer as text.
async fn exchange(port: u16, trusted: &[&Certificate], request: &str) -> String {
    let (mut stream, _) = connect(port, trusted).await;
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("an answer in time")
        .ok();
    String::from_utf8_lossy(&answer).into_owned()
}

type Wss = tokio_tungstenite::WebSocketStream<TlsStream<TcpStream>>;

async fn next_text(chat: &mut Wss) -> serde_json::Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), chat.next())
            .await
            .expect("a frame in time")
            .expect("open")
            .expect("a frame");
        match frame {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

fn hangup(binary: &Binary) {
    let status = Command::new("kill")
        .args(["-HUP", &binary.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits until the log has said `needle` `times` times.
async fn log_says(binary: &Binary, needle: &str, times: usize) {
    for _ in 0..100 {
        if binary.output().matches(needle).count() >= times {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the log never said {needle:?}:\n{}", binary.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haven_serves_https_and_wss_and_takes_a_new_certificate_on_sighup() {
    let first = make_certificate();
    let second = make_certificate();
    let files = tempfile::tempdir().unwrap();
    install(&first, files.path());
    let server_extra = format!(
        "tls_cert_file = {:?}\ntls_key_file = {:?}",
        files.path().join("cert.pem"),
        files.path().join("key.pem")
    );
    let (dir, config) = config_dir(&server_extra, "", "info");
    staff_add(
        &config,
        "sam",
        "advocate",
        "Sam",
        "a long enough passphrase 7",
    );
    let binary = Binary::serve(dir, config, &[]);
    let port = binary.port;
    let origin = format!("https://127.0.0.1:{port}");

    let health = exchange(
        port,
        &[&first],
        &format!("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(
        health
            .to_ascii_lowercase()
            .contains("strict-transport-security: max-age="),
        "HSTS once Haven serves TLS: {health}"
    );

    let body = r#"{"username":"sam","password":"a long enough passphrase 7"}"#;
    let login = exchange(
        port,
        &[&first],
        &format!(
            "POST /api/staff/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: {origin}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    assert!(login.starts_with("HTTP/1.1 200"), "{login}");
    let cookie = login
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: __host-haven_session=")
        })
        .unwrap_or_else(|| panic!("a __Host- session cookie over TLS: {login}"));
    assert!(cookie.contains("Secure"), "{cookie}");

    // A chatter over WSS.
    let (stream, _) = connect(port, &[&first]).await;
    let mut request = format!("wss://localhost:{port}/ws/chat")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("origin", origin.parse().unwrap());
    let (mut chat, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .expect("a WebSocket over TLS");
    chat.send(Message::text(r#"{"type":"hello","v":1,"language":"en"}"#))
        .await
        .unwrap();
    let answer = next_text(&mut chat).await;
    assert!(
        answer["type"] == "welcome" || answer["type"] == "offline",
        "the chat socket answers over TLS: {answer}"
    );

    // Renewal: new files, SIGHUP; new connections get the new certificate, the open socket
    // goes on.
    install(&second, files.path());
    hangup(&binary);
    log_says(&binary, "TLS certificate reloaded", 1).await;
    let (_, presented) = connect(port, &[&first, &second]).await;
    assert_eq!(presented, second.der, "the renewed certificate is served");
    chat.send(Message::text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    loop {
        let frame = next_text(&mut chat).await;
        if frame["type"] == "pong" {
            break;
        }
    }

    // A broken renewal keeps the certificate in use.
    std::fs::write(files.path().join("cert.pem"), "not a certificate").unwrap();
    hangup(&binary);
    log_says(&binary, "TLS certificate not reloaded", 1).await;
    let (_, presented) = connect(port, &[&first, &second]).await;
    assert_eq!(presented, second.der, "the previous certificate stays");
    assert!(
        !binary.output().contains("passphrase"),
        "no password in the log"
    );
}

#[test]
fn a_certificate_that_cannot_be_read_refuses_the_start_naming_the_key() {
    let (_dir, config) = config_dir(
        "tls_cert_file = \"/nonexistent/cert.pem\"\ntls_key_file = \"/nonexistent/key.pem\"",
        "",
        "info",
    );
    let output = haven_command(&config)
        .arg("serve")
        .output()
        .expect("run haven serve");
    assert!(!output.status.success());
    let all = String::from_utf8_lossy(&output.stderr).to_string()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(all.contains("server.tls_cert_file"), "{all}");

    let (_dir, config) = config_dir("tls_cert_file = \"/some/cert.pem\"", "", "info");
    let output = haven_command(&config).arg("serve").output().unwrap();
    assert!(!output.status.success());
    let all = String::from_utf8_lossy(&output.stderr).to_string()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(all.contains("server.tls_key_file"), "{all}");
}
