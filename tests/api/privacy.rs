//! No message text, no name, no user agent and no IP address in the logs or on disk.

use std::path::Path;

use serde_json::json;

use crate::support::*;

/// Dotted IPv4 addresses in `text` (a plain scanner; no regex crate in this project).
fn ipv4_addresses(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit()
            && (i == 0 || !(bytes[i - 1].is_ascii_digit() || bytes[i - 1] == b'.'))
        {
            let mut j = i;
            let mut parts = 0;
            let mut ok = true;
            loop {
                let start = j;
                while j < bytes.len() && bytes[j].is_ascii_digit() {
                    j += 1;
                }
                if j == start || j - start > 3 {
                    ok = false;
                    break;
                }
                parts += 1;
                if parts == 4 {
                    break;
                }
                if j < bytes.len() && bytes[j] == b'.' {
                    j += 1;
                } else {
                    ok = false;
                    break;
                }
            }
            if ok
                && parts == 4
                && !(j < bytes.len() && (bytes[j] == b'.' || bytes[j].is_ascii_digit()))
            {
                found.push(text[i..j].to_string());
                i = j;
                continue;
            }
        }
        i += 1;
    }
    found
}

#[test]
fn the_ip_scanner_finds_addresses_and_ignores_versions() {
    assert_eq!(ipv4_addresses("peer 127.0.0.1:5555 x"), ["127.0.0.1"]);
    assert_eq!(
        ipv4_addresses("a=10.1.2.3,b=192.168.0.10"),
        ["10.1.2.3", "192.168.0.10"]
    );
    assert!(ipv4_addresses("version 0.1.0 and 1.2.3.4.5 and 2026-11-23").is_empty());
}

fn assert_clean_dir(dir: &Path, canaries: &[&str], when: &str) {
    let files = all_files(dir);
    assert!(
        !files.is_empty(),
        "the data directory holds the database ({when})"
    );
    for (path, bytes) in &files {
        for canary in canaries {
            assert!(
                !contains_bytes(bytes, canary.as_bytes()),
                "{canary} was written to {path:?} ({when})"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_text_name_agent_or_address_reaches_the_logs_or_the_disk() {
    let text_canary = canary("TEXT");
    let reply_canary = canary("REPLY");
    let name_canary = canary("NAME");
    let note_canary = canary("NOTE");
    let agent_canary = canary("AGENT");
    let password = canary("PASSWORD");
    let user_canary = canary("USER");
    // What the data directory must never hold, while running and after shutdown.
    let disk_canaries: [&str; 6] = [
        &text_canary,
        &reply_canary,
        &name_canary,
        &note_canary,
        &agent_canary,
        &password,
    ];
    let token_holder;

    // Haven's own code at its most verbose.
    let (dir, config_path) = config_dir("", "", "haven=trace,info");
    staff_add(
        &config_path,
        "login-sparrow-110",
        "advocate",
        "Advocate Sam",
        &password,
    );
    staff_add(
        &config_path,
        "login-bunting-111",
        "advocate",
        "Advocate Alex",
        &password,
    );
    let data_dir = dir.path().join("data");
    let mut server = Binary::serve(dir, config_path, &[]);
    let agent = format!("Mozilla/5.0 {agent_canary}");

    {
        // Staff log in and connect, with the canary user agent.
        let mut logins = Vec::new();
        for (username, display) in [
            ("login-sparrow-110", "Advocate Sam"),
            ("login-bunting-111", "Advocate Alex"),
        ] {
            let response = reqwest::Client::builder()
                .user_agent(agent.clone())
                .build()
                .unwrap()
                .post(server.url("/api/staff/login"))
                .header("origin", server.url(""))
                .json(&json!({"username": username, "password": password}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "login of {username}");
            let cookie = session_cookie(&response);
            let (client, welcome) = console_on_duty(
                &server.ws_url("/ws/console"),
                &[("cookie", &cookie), ("user-agent", &agent)],
                &format!("console {username}"),
            )
            .await;
            assert_eq!(welcome["me"]["display_name"], display);
            let id = welcome["me"]["id"].as_str().unwrap().to_string();
            logins.push((client, id));
        }
        let (mut sam, _) = logins.remove(0);
        let (mut alex, alex_id) = logins.remove(0);

        // A chatter who typed a name in the intake form and wrote the canary text.
        let ws = upgrade(&server.ws_url("/ws/chat"), &[("user-agent", &agent)]).await;
        let mut chatter = Client::new("chatter", ws);
        token_holder = say_hello(
            &mut chatter,
            json!({"language": "en", "intake": {"name": name_canary, "age_range": "25-34"}}),
        )
        .await;
        chatter.expect("queued").await;
        let queue = sam
            .until("the chatter in the queue", |f| {
                f["type"] == "queue" && f["entries"].as_array().is_some_and(|e| !e.is_empty())
            })
            .await;
        let chat_id = queue["entries"][0]["chat_id"].as_str().unwrap().to_string();
        sam.send(json!({"type": "claim", "chat_id": chat_id})).await;
        sam.until("assigned", |f| f["type"] == "assigned").await;
        chatter.expect("joined").await;
        chatter
            .send(json!({"type": "message", "id": "c-1", "text": text_canary}))
            .await;
        chatter.until("ack", |f| f["type"] == "ack").await;
        sam.until("the canary", |f| f["text"] == text_canary.as_str())
            .await;
        sam.send(json!({"type": "message", "chat_id": chat_id, "id": "a-1", "text": reply_canary}))
            .await;
        chatter
            .until("the reply", |f| f["text"] == reply_canary.as_str())
            .await;
        chatter.send(json!({"type": "typing", "on": true})).await;
        // A transfer with a canary note (and the name the chatter typed, as advocates do).
        sam.send(
            json!({"type": "transfer", "chat_id": chat_id, "to_advocate": alex_id,
                        "note": format!("{note_canary} {name_canary}")}),
        )
        .await;
        let assigned = alex
            .until("assigned by transfer", |f| f["type"] == "assigned")
            .await;
        assert!(assigned.to_string().contains(&note_canary));
        // Some bad input, which is logged as an error event somewhere, perhaps.
        chatter
            .send(json!({"type": "message", "id": "c-2", "text": format!("{text_canary}{}", "z".repeat(5000))}))
            .await;
        chatter.expect_error("message_too_long").await;
        chatter
            .send_raw(tokio_tungstenite::tungstenite::Message::text(format!(
                "{{not json {text_canary}"
            )))
            .await;
        chatter.expect_error("malformed_json").await;
        // A failed login with the canary as the password.
        let response = post_login(
            &server.url("/api/staff/login"),
            "login-sparrow-110",
            &text_canary,
        )
        .await;
        assert_eq!(response.status(), 401);
        // A failed login with a user name that does not exist (often a person's real name or
        // e-mail address, mistyped).
        let response = post_login(&server.url("/api/staff/login"), &user_canary, "whatever").await;
        assert_eq!(response.status(), 401);
        // The chatter drops and resumes (a reconnect is a natural place to log a peer).
        drop(chatter.into_inner());
        alex.until("disconnected", |f| f["type"] == "chatter_disconnected")
            .await;
        let ws = upgrade(&server.ws_url("/ws/chat"), &[("user-agent", &agent)]).await;
        let mut back = Client::new("resumed chatter", ws);
        back.send(json!({"type": "resume", "token": token_holder, "last_seq": 0}))
            .await;
        // A resume hands out a new token; the old one no longer stands for the chat.
        let welcome = back.expect("welcome").await;
        let token_holder = welcome["token"].as_str().unwrap().to_string();
        back.send(json!({"type": "leave"})).await;
        alex.until("left", |f| f["type"] == "chatter_left").await;
        // The voluntary forms, sent for storage with the name and a city the chatter typed:
        // the name is never kept, free text is not kept on the defaults.
        let origin = server.url("");
        for (form, answers) in [
            (
                "intake",
                json!({"name": name_canary, "age_range": "25-34", "city": text_canary}),
            ),
            ("survey", json!({"got_needed": "yes", "recommend": "4"})),
        ] {
            let response = http()
                .post(server.url(&format!("/api/forms/{form}")))
                .header("origin", origin.trim_end_matches('/'))
                .json(&json!({"token": token_holder, "version": 1, "answers": answers}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201, "{form} stored");
        }

        // While running (the SQLite WAL holds recent writes): nothing on disk.
        assert_clean_dir(&data_dir, &disk_canaries, "while running");
    }

    let status = server.terminate();
    let output = server.output();
    assert!(
        status.success(),
        "SIGTERM is a graceful shutdown with exit status 0: {status:?}\n{output}"
    );
    assert!(
        output.contains("listening"),
        "the log was captured: {output}"
    );
    assert!(output.lines().count() >= 2, "{output}");

    for (what, canary) in [
        ("message text", &text_canary),
        ("advocate message text", &reply_canary),
        ("chatter's name", &name_canary),
        ("transfer note", &note_canary),
        ("user agent", &agent_canary),
        ("password", &password),
        ("unknown user name", &user_canary),
        ("resume token", &token_holder),
    ] {
        assert!(
            !output.contains(canary.as_str()),
            "the {what} ({canary}) appears in the log:\n{output}"
        );
    }
    // No IP address at all, except on the line announcing the listening address.
    for line in output.lines() {
        let addresses = ipv4_addresses(line);
        if addresses.is_empty() {
            continue;
        }
        assert!(
            line.contains("listening") && addresses.iter().all(|a| a == "127.0.0.1"),
            "an IP address appears in the log: {line}"
        );
    }
    assert!(
        !output.contains("::1"),
        "no IPv6 peer address either:\n{output}"
    );

    assert_clean_dir(&data_dir, &disk_canaries, "after shutdown");
}
