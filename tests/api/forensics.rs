//! Core-dump forensics on the real binary: a chat full of canaries (message texts both ways, an
//! intake name, a transfer note, a client address, a user agent, the resume token, a staff
//! password) runs to its end and its purge; then `gcore` dumps the live process and every canary
//! is counted in the dump. The promise is zero copies: transcripts live only in memory and only
//! until the purge, and nothing else keeps them. Run at `info` and at `trace` log level (a
//! library that logged payloads at `trace` would leave copies in its formatting buffers).
//!
//! Needs gdb (Debian's `gdb`, whose `gcore` command makes the dump) and permission to attach (root, or ptrace_scope 0); without
//! them the test says so loudly and passes, except under `CI=true`, where it fails.

use std::{path::Path, process::Command, time::Duration};

use serde_json::json;

use crate::support::{
    config_dir, console_on_duty, post_login, session_cookie, staff_add, upgrade, Binary, Client,
};

const PASSWORD: &str = "Canary passphrase Kq93v";
const NAME: &str = "Canaryname Vzqrt";
const NOTE: &str = "Canary transfer note Pwxqa";
const ADDRESS: &str = "10.77.123.45";
const AGENT: &str = "CanaryAgent/9.1 (Zqxv)";

fn chatter_line(i: usize) -> String {
    format!("Canary chatter line Qzx{i}v")
}

fn advocate_line(i: usize) -> String {
    format!("Canary advocate line Jvk{i}q")
}

/// gdb usable here? (`None`: the reason it is not.)
fn gcore_missing() -> Option<String> {
    match Command::new("gdb").arg("--version").output() {
        Ok(output) if output.status.success() => None,
        _ => Some("gdb (Debian package gdb, which has gcore) is not installed".into()),
    }
}

/// Dumps the live process into `dir` and returns the dump: gdb's own `gcore` command, with
/// `-readnever` so that gdb does not spend a minute reading the debug build's symbols.
fn dump(pid: u32, dir: &Path) -> Result<Vec<u8>, String> {
    let path = dir.join(format!("core.{pid}"));
    let output = Command::new("gdb")
        .args([
            "--batch",
            "--nx",
            "-readnever",
            "-p",
            &pid.to_string(),
            "-ex",
        ])
        .arg(format!("gcore {}", path.display()))
        .args(["-ex", "detach"])
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() || !path.exists() {
        return Err(format!(
            "gdb could not dump the process (attaching needs root or kernel.yama.ptrace_scope = 0): {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    std::fs::read(&path).map_err(|e| e.to_string())
}

fn count(haystack: &[u8], needle: &str) -> usize {
    memchr::memmem::find_iter(haystack, needle.as_bytes()).count()
}

async fn login(binary: &Binary, username: &str) -> String {
    let response = post_login(&binary.url("/api/staff/login"), username, PASSWORD).await;
    assert_eq!(response.status(), 200, "login of {username}");
    session_cookie(&response)
}

async fn console(binary: &Binary, cookie: &str, name: &str) -> (Client, String) {
    let origin = binary.url("");
    let url = binary.ws_url("/ws/console");
    let (client, welcome) =
        console_on_duty(&url, &[("cookie", cookie), ("origin", &origin)], name).await;
    (client, welcome["me"]["id"].as_str().unwrap().to_owned())
}

/// One whole chat with canaries everywhere, ended and purged; then both advocates end their
/// shift (close the console, log out). Returns the chatter's token and the two session cookies.
async fn canary_chat(binary: &Binary) -> (String, String, String) {
    let sam_cookie = login(binary, "sam").await;
    let kim_cookie = login(binary, "kim").await;
    let (mut sam, _) = console(binary, &sam_cookie, "sam").await;
    let (mut kim, kim_id) = console(binary, &kim_cookie, "kim").await;

    let origin = binary.url("");
    let ws = upgrade(
        &binary.ws_url("/ws/chat"),
        &[
            ("origin", &origin),
            ("user-agent", AGENT),
            ("x-forwarded-for", ADDRESS),
        ],
    )
    .await;
    let mut chatter = Client::new("chatter", ws);
    chatter
        .send(json!({"type": "hello", "language": "en", "intake": {"name": NAME}}))
        .await;
    let welcome = chatter.expect("welcome").await;
    let token = welcome["token"].as_str().unwrap().to_owned();
    chatter.send(json!({"type": "ping"})).await;
    let queue = sam
        .until("the chatter queued", |f| {
            f["type"] == "queue" && f["entries"].as_array().is_some_and(|e| !e.is_empty())
        })
        .await;
    let chat_id = queue["entries"][0]["chat_id"].as_str().unwrap().to_owned();
    sam.send(json!({"type": "claim", "chat_id": chat_id})).await;
    let assigned = sam.expect("assigned").await;
    assert_eq!(
        assigned["intake"]["name"], NAME,
        "the advocate sees the name during the chat: {assigned}"
    );
    chatter.expect("joined").await;
    for i in 0..5 {
        chatter
            .send(json!({"type": "message", "id": format!("c{i}"), "text": chatter_line(i)}))
            .await;
        sam.until("the chatter's line", |f| {
            f["text"] == chatter_line(i).as_str()
        })
        .await;
        sam.send(json!({"type": "message", "chat_id": chat_id, "id": format!("a{i}"), "text": advocate_line(i)}))
            .await;
        chatter
            .until("the advocate's line", |f| {
                f["text"] == advocate_line(i).as_str()
            })
            .await;
    }
    sam.send(json!({"type": "transfer", "chat_id": chat_id, "to_advocate": kim_id, "note": NOTE}))
        .await;
    let assigned = kim.expect("assigned").await;
    assert_eq!(assigned["transfer"]["note"], NOTE, "{assigned}");
    kim.send(json!({"type": "end", "chat_id": chat_id})).await;
    chatter.expect("ended").await;
    drop(chatter.into_inner());
    // The consoles stay open, as an advocate's would for the rest of the shift, and keep working.
    for console in [&mut sam, &mut kim] {
        console.send(json!({"type": "ping"})).await;
        console.expect("pong").await;
    }
    // Held past retention_after_close_secs and a purge run.
    tokio::time::sleep(Duration::from_secs(4)).await;
    for console in [&mut sam, &mut kim] {
        console.send(json!({"type": "ping"})).await;
        console.expect("pong").await;
    }
    for console in [sam, kim] {
        let mut ws = console.into_inner();
        let _ = futures_util::SinkExt::close(&mut ws).await;
    }
    for cookie in [&sam_cookie, &kim_cookie] {
        let response = reqwest::Client::new()
            .post(binary.url("/api/staff/logout"))
            .header("origin", binary.url(""))
            .header("cookie", cookie.as_str())
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "logout");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    (token, sam_cookie, kim_cookie)
}

async fn purged_chat_leaves_no_copy(log_level: &str) {
    if let Some(reason) = gcore_missing() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must run the forensic test: {reason}"
        );
        eprintln!("SKIPPED the core-dump forensic test: {reason}");
        return;
    }
    let (dir, config) = config_dir(
        "",
        "[chat]\nretention_after_close_secs = 1\npurge_interval_secs = 1\n\n\
         [protection]\ntrusted_proxies = [\"127.0.0.1\"]\n",
        log_level,
    );
    staff_add(&config, "sam", "advocate", "Sam", PASSWORD);
    staff_add(&config, "kim", "advocate", "Kim", PASSWORD);
    let binary = Binary::serve(dir, config, &[]);
    let (token, sam_cookie, kim_cookie) = canary_chat(&binary).await;

    let scratch = tempfile::tempdir().unwrap();
    let core = match dump(binary.child.id(), scratch.path()) {
        Ok(core) => core,
        Err(reason) => {
            assert!(
                std::env::var("CI").is_err(),
                "CI must run the forensic test: {reason}"
            );
            eprintln!("SKIPPED the core-dump forensic test: {reason}");
            return;
        }
    };
    let mut canaries: Vec<(String, String)> = vec![
        ("intake name".into(), NAME.into()),
        ("transfer note".into(), NOTE.into()),
        ("client address".into(), ADDRESS.into()),
        ("user agent".into(), AGENT.into()),
        ("resume token".into(), token),
        ("staff password".into(), PASSWORD.into()),
    ];
    for (who, cookie) in [("sam", sam_cookie), ("kim", kim_cookie)] {
        let raw = cookie.split_once('=').map_or(cookie.as_str(), |(_, t)| t);
        canaries.push((format!("{who}'s session token"), raw.to_owned()));
    }
    for i in 0..5 {
        canaries.push((format!("chatter line {i}"), chatter_line(i)));
        canaries.push((format!("advocate line {i}"), advocate_line(i)));
    }
    let found: Vec<(String, usize)> = canaries
        .iter()
        .map(|(what, canary)| (what.clone(), count(&core, canary)))
        .filter(|(_, n)| *n > 0)
        .collect();
    // The dump is real: the process's own strings are in it.
    assert!(
        count(&core, "listening") > 0 || count(&core, "haven") > 0,
        "the dump holds the process's memory ({} bytes)",
        core.len()
    );
    let log = binary.output();
    for (what, canary) in &canaries {
        assert!(
            !log.contains(canary.as_str()),
            "{what} in the log at {log_level}"
        );
    }
    assert!(
        found.is_empty(),
        "copies left in the live process after the purge (log level {log_level}): {found:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_chat_leaves_no_copy_in_the_process_memory() {
    purged_chat_leaves_no_copy("info").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_chat_leaves_no_copy_even_at_trace_log_level() {
    purged_chat_leaves_no_copy("trace").await;
}
