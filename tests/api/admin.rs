//! Staff administration over the admin API, its audit trail, and the `haven staff` verbs.

use std::time::{Duration, Instant};

use haven::Role;
use serde_json::{json, Value};

use crate::common::{spawn_app, TestApp};
use crate::support::*;

/// Adds an admin and returns their session cookie.
async fn admin(app: &TestApp, username: &str) -> String {
    admin_cookie(app, username).await
}

fn listed<'a>(list: &'a Value, username: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|s| s["username"] == username)
        .unwrap_or_else(|| panic!("{username} in {list}"))
}

#[tokio::test]
async fn only_admins_reach_the_admin_api() {
    let app = spawn_app().await;
    app.add_staff("admin-avocet-1", "Advocate Sam", Role::Advocate, PASSWORD);
    let advocate = app.login("admin-avocet-1", PASSWORD).await;
    let (status, body) = get_as(&app, &advocate, "/api/admin/staff").await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "forbidden");
    let (status, _) = post_as(
        &app,
        &advocate,
        "/api/admin/staff",
        json!({"username": "x", "display_name": "x", "role": "admin"}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = get_as(&app, "haven_session=0", "/api/admin/audit").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn an_admin_lists_staff_with_presence_and_adds_one_with_a_temporary_password() {
    let app = spawn_app().await;
    let cookie = admin(&app, "admin-osprey-2").await;
    let mut sam = available_advocate(&app, "admin-sam-3", "Advocate Sam").await;
    let (_chatter, _chat) = claimed_chat(&app, &mut sam, "chatter").await;
    let (status, list) = get_as(&app, &cookie, "/api/admin/staff").await;
    assert_eq!(status, 200);
    let entry = listed(&list, "admin-sam-3");
    assert_eq!(entry["online"], true);
    assert_eq!(entry["available"], true);
    assert_eq!(entry["load"], 1);
    assert_eq!(entry["role"], "advocate");
    assert_eq!(entry["disabled"], false);
    assert!(entry["sessions"].as_u64().unwrap() >= 1);
    assert!(!list.to_string().contains("argon2"), "no password material");

    let (status, added) = post_as(
        &app,
        &cookie,
        "/api/admin/staff",
        json!({"username": "admin-kite-4", "display_name": "Advocate Kim", "role": "advocate"}),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    let temporary = added["temporary_password"].as_str().unwrap().to_string();
    let response = post_login(&app.url("/api/staff/login"), "admin-kite-4", &temporary).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["must_change_password"], true);
    // A user name that exists is a clear 409.
    let (status, body) = post_as(
        &app,
        &cookie,
        "/api/admin/staff",
        json!({"username": "admin-kite-4", "display_name": "Other", "role": "advocate"}),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(body["code"], "username_taken");
}

#[tokio::test]
async fn disabling_closes_the_console_within_a_second_and_hands_the_chats_back() {
    let app = spawn_app().await;
    let cookie = admin(&app, "admin-harrier-5").await;
    let mut sam = available_advocate(&app, "admin-sam-6", "Advocate Sam").await;
    let (mut chatter, _chat) = claimed_chat(&app, &mut sam, "chatter").await;

    let started = Instant::now();
    let (status, _) = post_as(
        &app,
        &cookie,
        &format!("/api/admin/staff/{}/disable", sam.id),
        json!({}),
    )
    .await;
    assert_eq!(status, 204);
    sam.client.expect_error("session_expired").await;
    let ending = sam.client.ended(WAIT).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "closed after {:?}",
        started.elapsed()
    );
    assert_eq!(ending.code(), Some(4001));
    // The chatter is told and waits in the queue again.
    chatter
        .client
        .until("the system line", |f| {
            f["type"] == "message" && f["from"] == "system"
        })
        .await;
    // Sam cannot log in or use the old session.
    let (status, body) = try_login(&app, "admin-sam-6", PASSWORD).await;
    assert_eq!(
        status, 401,
        "a disabled account answers like a wrong password"
    );
    assert_eq!(body["code"], "invalid_credentials");
    assert_eq!(me(&app, &sam.cookie).await.status(), 401);
    let (_, list) = get_as(&app, &cookie, "/api/admin/staff").await;
    assert_eq!(listed(&list, "admin-sam-6")["disabled"], true);
    // Enabled again, Sam logs in.
    let (status, _) = post_as(
        &app,
        &cookie,
        &format!("/api/admin/staff/{}/enable", sam.id),
        json!({}),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = try_login(&app, "admin-sam-6", PASSWORD).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn role_changes_resets_and_revocations_end_sessions() {
    let app = spawn_app().await;
    let cookie = admin(&app, "admin-merlin-7").await;
    app.add_staff("admin-pat-8", "Pat", Role::Advocate, PASSWORD);
    let id = {
        let (_, list) = get_as(&app, &cookie, "/api/admin/staff").await;
        listed(&list, "admin-pat-8")["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let pat = app.login("admin-pat-8", PASSWORD).await;
    let (status, _) = post_as(
        &app,
        &cookie,
        &format!("/api/admin/staff/{id}/role"),
        json!({"role": "supervisor"}),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        me(&app, &pat).await.status(),
        401,
        "a role change ends the session"
    );
    let pat = app.login("admin-pat-8", PASSWORD).await;
    let me_now: Value = me(&app, &pat).await.json().await.unwrap();
    assert_eq!(me_now["role"], "supervisor");

    let (status, _) = post_as(
        &app,
        &cookie,
        &format!("/api/admin/staff/{id}/revoke-sessions"),
        json!({}),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(me(&app, &pat).await.status(), 401);

    let (status, _) = post_as(
        &app,
        &cookie,
        &format!("/api/admin/staff/{id}/profile"),
        json!({"display_name": "Advocate Pat", "max_chats": 5}),
    )
    .await;
    assert_eq!(status, 204);
    let (status, body) = post_as(
        &app,
        &cookie,
        &format!("/api/admin/staff/{id}/profile"),
        json!({"max_chats": 500}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (_, list) = get_as(&app, &cookie, "/api/admin/staff").await;
    assert_eq!(listed(&list, "admin-pat-8")["display_name"], "Advocate Pat");
    assert_eq!(listed(&list, "admin-pat-8")["max_chats"], 5);

    let (status, reset) = post_as(
        &app,
        &cookie,
        &format!("/api/admin/staff/{id}/reset-password"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = try_login(&app, "admin-pat-8", PASSWORD).await;
    assert_eq!(status, 401, "the old password is gone");
    let temporary = reset["temporary_password"].as_str().unwrap();
    let (status, body) = try_login(&app, "admin-pat-8", temporary).await;
    assert_eq!(status, 200);
    assert_eq!(body["must_change_password"], true);
}

#[tokio::test]
async fn the_last_admin_cannot_be_disabled_or_demoted() {
    let app = spawn_app().await;
    let cookie = admin(&app, "admin-eagle-9").await;
    let me_now: Value = me(&app, &cookie).await.json().await.unwrap();
    let id = me_now["id"].as_str().unwrap();
    for path in ["disable", "role"] {
        let (status, body) = post_as(
            &app,
            &cookie,
            &format!("/api/admin/staff/{id}/{path}"),
            json!({"role": "advocate"}),
        )
        .await;
        assert_eq!(status, 409, "{path}: {body}");
        assert_eq!(body["code"], "last_admin");
    }
    assert_eq!(me(&app, &cookie).await.status(), 200);
    let (status, _) = post_as(
        &app,
        &cookie,
        &format!("/api/admin/staff/{}/disable", uuid::Uuid::new_v4()),
        json!({}),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_audit_log_has_the_actions_and_no_content() {
    let app = spawn_app().await;
    let cookie = admin(&app, "admin-falcon-10").await;
    let mut sam = available_advocate(&app, "admin-sam-11", "Advocate Sam").await;
    let canary_text = "canary-message-7c1f";
    let canary_intake = "canary-intake-a93e";
    let (mut chatter, tag) = tagged_hello(&app, canary_intake).await;
    chatter.client.expect("queued").await;
    let chat_id = sam.chat_id_tagged(&tag).await;
    sam.claim(&chat_id).await;
    chatter.client.expect("joined").await;
    chatter.say("c-1", canary_text).await;
    sam.hears(&chat_id, canary_text).await;
    let (status, _) = try_login(&app, "admin-typo-sam", "canary-password-5d2b").await;
    assert_eq!(status, 401);
    let (status, _) = post_as(
        &app,
        &cookie,
        &format!("/api/admin/staff/{}/disable", sam.id),
        json!({}),
    )
    .await;
    assert_eq!(status, 204);

    // A statistics download is an export too.
    let response = http()
        .get(app.url("/api/stats.csv"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // The writer is asynchronous: wait for the entries.
    let deadline = Instant::now() + WAIT;
    let entries = loop {
        let (status, entries) = get_as(&app, &cookie, "/api/admin/audit").await;
        assert_eq!(status, 200);
        let has = |action: &str| {
            entries
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == action)
        };
        if has("login")
            && has("login_failed")
            && has("staff_disabled")
            && has("chat_claimed")
            && has("statistics_exported")
        {
            break entries;
        }
        assert!(Instant::now() < deadline, "audit entries: {entries}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let failed = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "login_failed")
        .unwrap();
    assert_eq!(failed["attempted_username"], "admin-typo-sam");
    let disabled = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "staff_disabled")
        .unwrap();
    assert_eq!(disabled["target"], sam.id.as_str());
    // Filtered by action.
    let (_, only) = get_as(&app, &cookie, "/api/admin/audit?action=staff_disabled").await;
    assert!(only
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["action"] == "staff_disabled"));
    // Exported as CSV (and the export itself audited).
    let response = http()
        .post(app.url("/api/admin/audit/export"))
        .header("origin", app.url(""))
        .header("cookie", &cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with("at,actor,action"), "{csv}");
    assert!(csv.contains("staff_disabled"));

    // Canary scan of everything on disk: no chat content, intake, password or address.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut disk = Vec::new();
    for entry in std::fs::read_dir(app.data_dir.path()).unwrap() {
        disk.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let disk = String::from_utf8_lossy(&disk);
    for canary in [
        canary_text,
        canary_intake,
        "canary-password-5d2b",
        "127.0.0.1",
        &chat_id,
    ] {
        assert!(!disk.contains(canary), "{canary} reached the disk");
    }
    assert!(
        disk.contains("admin-typo-sam"),
        "the scan reads the database"
    );
}

#[tokio::test]
async fn the_command_line_lists_disables_resets_and_re_roles() {
    let (_dir, path) = config_dir("", "", "warn");
    staff_add(
        &path,
        "cli-robin-12",
        "advocate",
        "Advocate Robin",
        PASSWORD,
    );
    let run = |args: &[&str]| {
        let output = haven_command(&path).args(args).output().unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).to_string()
                + &String::from_utf8_lossy(&output.stderr),
        )
    };
    let (ok, out) = run(&["staff", "list"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("cli-robin-12\tadvocate\tAdvocate Robin\tenabled"),
        "{out}"
    );
    let (ok, out) = run(&["staff", "disable", "cli-robin-12"]);
    assert!(ok, "{out}");
    assert!(run(&["staff", "list"]).1.contains("disabled"));
    let (ok, out) = run(&["staff", "enable", "cli-robin-12"]);
    assert!(ok, "{out}");
    let (ok, out) = run(&["staff", "set-role", "cli-robin-12", "supervisor"]);
    assert!(ok, "{out}");
    assert!(run(&["staff", "list"])
        .1
        .contains("cli-robin-12\tsupervisor"));
    let (ok, out) = run(&["staff", "reset-password", "cli-robin-12"]);
    assert!(ok, "{out}");
    let temporary = out.lines().last().unwrap().trim();
    assert_eq!(temporary.len(), 23, "{out}");
    assert!(run(&["staff", "list"]).1.contains("must change password"));
    let (ok, out) = run(&["staff", "revoke-sessions", "cli-robin-12"]);
    assert!(ok, "{out}");
    let (ok, out) = run(&["staff", "disable", "cli-nobody"]);
    assert!(!ok);
    assert!(out.contains("cli-nobody"), "{out}");
}
