//! Health, the public config endpoint, and configuration loading and validation.

use std::io::Write;

use serde_json::Value;

use crate::common::spawn_app;
use crate::support::*;

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let response = http().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn the_public_config_has_the_contacts_and_no_secrets() {
    let app = spawn_app().await;
    let defaults = haven::Config::embedded_defaults();
    let response = http()
        .get(app.url("/api/public/config"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(body["program_name"], defaults.program.name.as_str());
    assert_eq!(body["page_title"], defaults.program.page_title.as_str());
    assert_eq!(body["emergency"], defaults.program.emergency.as_str());
    assert_eq!(
        body["contacts"]["phone"],
        defaults.program.hotline_phone.as_str()
    );
    assert_eq!(
        body["contacts"]["text"],
        defaults.program.hotline_text.as_str()
    );
    assert_eq!(
        body["contacts"]["note"],
        defaults.program.offline_note.as_str()
    );
    assert_eq!(
        body["mandated_reporting"],
        defaults.program.mandated_reporting.as_str()
    );
    assert_eq!(
        body["quick_exit_url"],
        defaults.program.quick_exit_url.as_str()
    );
    assert_eq!(body["languages"], serde_json::json!(["en", "es"]));
    assert_eq!(queue_ids(&body), ["general", "referrals"]);
    assert_eq!(
        body["open_now"], true,
        "no service hours configured: always open"
    );

    let data_dir = app.data_dir.path().to_string_lossy().to_string();
    for secret in [
        data_dir.as_str(),
        "data_dir",
        "bind",
        "password",
        "secret",
        "session",
        "rate_",
        "allowed_origins",
        "127.0.0.1",
    ] {
        assert!(
            !text.contains(secret),
            "the public config must not mention {secret:?}: {text}"
        );
    }
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let app = spawn_app().await;
    let response = http()
        .get(app.url("/api/no/such/thing"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

fn write_config(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("haven.toml");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    (dir, path)
}

#[test]
fn a_bad_value_in_a_config_file_is_refused_naming_its_key() {
    for (text, key) in [
        ("[chat]\nmax_message_bytes = 0\n", "max_message_bytes"),
        (
            "[chat]\nmax_chats_per_advocate = 0\n",
            "max_chats_per_advocate",
        ),
        (
            "[service_hours]\nwindows = [\"someday 25:00-26:00\"]\n",
            "windows",
        ),
        ("[server]\nbind = \"not an address\"\n", "bind"),
        (
            "[server]\nallowed_origins = [\"evil.com/\"]\n",
            "allowed_origins",
        ),
        (
            "[chat]\nmax_message_bytes = \"lots\"\n",
            "max_message_bytes",
        ),
        ("[chat]\nmax_mesage_bytes = 10\n", "max_mesage_bytes"),
    ] {
        let (_dir, path) = write_config(text);
        match haven::Config::load(Some(&path)) {
            Ok(_) => panic!("config {text:?} should be refused"),
            Err(error) => {
                let message = error.to_string();
                assert!(
                    message.contains(key),
                    "the error for {text:?} names `{key}`: {message}"
                );
            }
        }
    }
}

#[test]
fn a_config_file_overrides_only_the_keys_it_names() {
    let (_dir, path) = write_config(
        "[chat]\nmax_chats_per_advocate = 7\n\n[program]\nhotline_phone = \"555-0199\"\n",
    );
    let config = haven::Config::load(Some(&path)).expect("a valid file loads");
    assert_eq!(config.chat.max_chats_per_advocate, 7);
    assert_eq!(config.program.hotline_phone, "555-0199");
    let defaults = haven::Config::embedded_defaults();
    assert_eq!(
        config.chat.max_message_bytes,
        defaults.chat.max_message_bytes
    );
    assert_eq!(config.program.hotline_text, defaults.program.hotline_text);
    assert_eq!(config.queues.len(), 2);
}

#[test]
fn a_missing_config_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    assert!(haven::Config::load(Some(&missing)).is_err());
}

#[test]
fn the_binary_refuses_a_bad_config_naming_the_key() {
    let (_dir, path) = write_config("[chat]\nresume_grace_secs = 0\n");
    let output = haven_command(&path)
        .arg("serve")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run haven");
    assert!(!output.status.success(), "a bad config stops the start");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(all.contains("resume_grace_secs"), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_environment_variable_overrides_the_config_file() {
    let (dir, path) = config_dir("", "[chat]\nmax_chats_per_advocate = 3\n", "info");
    staff_add(&path, "login-kite-80", "advocate", "Advocate Sam", PASSWORD);
    // Env vars are process-global: the override is given to a child process only.
    let server = Binary::serve(dir, path, &[("HAVEN_CHAT__MAX_CHATS_PER_ADVOCATE", "1")]);
    let response = post_login(&server.url("/api/staff/login"), "login-kite-80", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let cookie = session_cookie(&response);
    let ws = upgrade(&server.ws_url("/ws/console"), &[("cookie", &cookie)]).await;
    let mut console = Client::new("console", ws);
    let welcome = console.expect("welcome").await;
    assert_eq!(
        welcome["capacity"], 1,
        "HAVEN_CHAT__MAX_CHATS_PER_ADVOCATE=1 wins over the file's 3"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_start_without_an_admin_says_how_to_create_one() {
    let (dir, path) = config_dir("", "", "info");
    let mut server = Binary::serve(dir, path, &[]);
    let response = http().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    server.terminate();
    let output = server.output();
    assert!(
        output.contains("staff add"),
        "with no admin, the log says how to create one: {output}"
    );
}

#[test]
fn the_binary_refuses_a_misspelt_log_level_and_a_bad_frame_ancestor_naming_each_key() {
    for (text, key) in [
        ("[log]\nlevel = \"infoo\"\n", "log.level"),
        ("[log]\nlevel = \"haven=verbose\"\n", "log.level"),
        (
            "[server]\nframe_ancestors = [\"program.example/\"]\n",
            "server.frame_ancestors",
        ),
        (
            "[server]\npublic_origin = \"chat.example.org\"\n",
            "server.public_origin",
        ),
    ] {
        let (_dir, path) = write_config(text);
        let output = haven_command(&path)
            .arg("serve")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run haven");
        assert!(!output.status.success(), "{text:?} stops the start");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(all.contains(key), "{text:?} names `{key}`: {all}");
    }
}

#[test]
fn haven_config_names_the_config_file_as_help_says() {
    let (dir, path) = config_dir("", "", "info");
    staff_add(&path, "cfg-wren-81", "advocate", "Advocate Wren", PASSWORD);
    // No --config: the file comes from HAVEN_CONFIG, and is not refused as an unknown key.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(["staff", "list"])
        .env("HAVEN_CONFIG", &path)
        .output()
        .expect("run haven");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{all}");
    assert!(
        all.contains("cfg-wren-81"),
        "the file's data directory was used: {all}"
    );
    drop(dir);
}
