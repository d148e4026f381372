//! Settings admins edit while Haven runs (issue 9): each area saved over HTTP and seen at once
//! by the hub, the consoles and the chatter page; refusals that name the field and change
//! nothing; admins only; versions kept across a restart; an audit entry without content.

use haven::Role;
use serde_json::{json, Value};

use crate::common::{spawn_app, spawn_app_with, test_config, TestApp};
use crate::support::*;

/// Adds an admin; their session cookie.
async fn admin(app: &TestApp, username: &str) -> String {
    admin_cookie(app, username).await
}

/// `PUT` (as the admin page does) with the page's origin and a JSON body.
async fn put(app: &TestApp, cookie: &str, path: &str, body: &Value) -> (u16, Value) {
    staff_request(reqwest::Method::PUT, &app.url(""), cookie, path, Some(body)).await
}

/// The section's value in force now.
async fn current(app: &TestApp, cookie: &str, section: &str) -> Value {
    let (status, body) = get_as(app, cookie, &format!("/api/admin/settings/{section}")).await;
    assert_eq!(status, 200, "{body}");
    body["value"].clone()
}

/// Saves a section and expects it to be taken; the answer.
async fn save(app: &TestApp, cookie: &str, section: &str, value: &Value) -> Value {
    let (status, body) = put(
        app,
        cookie,
        &format!("/api/admin/settings/{section}"),
        value,
    )
    .await;
    assert_eq!(status, 200, "saving {section} {value}: {body}");
    body
}

async fn public_config(app: &TestApp, lang: &str) -> Value {
    http()
        .get(app.url(&format!("/api/public/config?lang={lang}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A window on a day three days from today: certainly closed now.
fn a_window_that_excludes_now() -> String {
    let days = ["thu", "fri", "sat", "sun", "mon", "tue", "wed"]; // 1970-01-01 was a Thursday
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!("{} 00:00-23:59", days[((secs / 86_400) as usize + 3) % 7])
}

#[tokio::test]
async fn a_new_canned_response_reaches_an_open_console_at_once_and_is_audited_without_content() {
    let app = spawn_app().await;
    let cookie = admin(&app, "set-admin-1").await;
    let mut sam = staff(&app, "set-sam-2", "Advocate Sam", Role::Advocate).await;
    let text = canary("canned");
    let mut canned = current(&app, &cookie, "canned").await;
    canned
        .as_array_mut()
        .unwrap()
        .push(json!({"title": "Shelter list", "text": text, "language": "es"}));
    let saved = save(&app, &cookie, "canned", &canned).await;
    assert_eq!(saved["version"], 1, "{saved}");

    let frame = sam.client.expect("settings").await;
    let listed = frame["canned"].as_array().unwrap();
    assert!(
        listed
            .iter()
            .any(|c| c["text"] == text.as_str() && c["language"] == "es"),
        "{frame}"
    );
    assert_eq!(queue_ids(&frame), ["general", "referrals"], "{frame}");
    // A console opened now gets it in `welcome`.
    let kim = staff(&app, "set-kim-3", "Advocate Kim", Role::Advocate).await;
    let welcome = kim
        .client
        .seen
        .iter()
        .find(|f| f["type"] == "welcome")
        .unwrap();
    assert!(welcome.to_string().contains(&text), "{welcome}");

    let (_, entries) = get_as(&app, &cookie, "/api/admin/audit?action=setting_changed").await;
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["detail"], "canned");
    let admin_id = me(&app, &cookie).await.json::<Value>().await.unwrap()["id"].clone();
    assert_eq!(entries[0]["actor"], admin_id);
    assert!(
        !Value::from(entries.clone()).to_string().contains(&text),
        "no content in the audit log"
    );
}

#[tokio::test]
async fn a_new_queue_is_offered_on_the_chatter_page_and_takes_chatters() {
    let app = spawn_app().await;
    let cookie = admin(&app, "set-admin-4").await;
    let mut sam = available_advocate(&app, "set-sam-5", "Advocate Sam").await;
    let mut queues = current(&app, &cookie, "queues").await;
    queues.as_array_mut().unwrap().push(json!({
        "id": "youth", "name": "Youth line", "languages": ["en", "es"],
        "names": {"es": "Línea juvenil"}
    }));
    save(&app, &cookie, "queues", &queues).await;

    let en = public_config(&app, "en").await;
    let youth = en["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "youth")
        .unwrap_or_else(|| panic!("youth offered: {en}"));
    assert_eq!(youth["name"], "Youth line");
    let es = public_config(&app, "es").await;
    assert_eq!(
        es["texts"]["es"]["queue_names"]["youth"], "Línea juvenil",
        "{es}"
    );
    assert_eq!(
        queue_ids(&sam.client.expect("settings").await),
        ["general", "referrals", "youth"]
    );

    let (mut chatter, tag) = {
        let tag = canary("youth");
        let chatter = hello(
            &app,
            "chatter",
            json!({"queue": "youth", "intake": {"tag": tag}}),
        )
        .await;
        (chatter, tag)
    };
    assert_eq!(chatter.client.expect("queued").await["queue"], "youth");
    assert_eq!(sam.entry_tagged(&tag).await["queue"], "youth");
}

#[tokio::test]
async fn removing_a_queue_moves_its_waiting_chatters_to_the_first_queue() {
    let app = spawn_app().await;
    let cookie = admin(&app, "set-admin-6").await;
    let mut sam = available_advocate(&app, "set-sam-7", "Advocate Sam").await;
    let tag = canary("moved");
    let mut chatter = hello(
        &app,
        "chatter",
        json!({"queue": "referrals", "intake": {"tag": tag}}),
    )
    .await;
    assert_eq!(chatter.client.expect("queued").await["queue"], "referrals");

    let queues = current(&app, &cookie, "queues").await;
    let only_general: Vec<Value> = queues
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["id"] == "general")
        .cloned()
        .collect();
    let saved = save(&app, &cookie, "queues", &Value::from(only_general)).await;
    assert_eq!(saved["moved_waiting"], 1, "{saved}");

    // Still waiting, first in line, now in `general`; nobody lost.
    let queued = chatter.client.expect("queued").await;
    assert_eq!(
        (queued["queue"].as_str(), queued["position"].as_u64()),
        (Some("general"), Some(1))
    );
    let in_general = |e: &Value| e["intake"]["tag"] == tag.as_str() && e["queue"] == "general";
    let snapshot = sam
        .client
        .until("the entry in `general`", |f| {
            f["type"] == "queue"
                && f["entries"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(in_general))
        })
        .await;
    let entry = snapshot["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| in_general(e))
        .unwrap()
        .clone();
    sam.claim(entry["chat_id"].as_str().unwrap()).await;
    chatter.client.expect("joined").await;
    // A hello naming the removed queue is refused as an unknown queue.
    let mut late = chatter_socket(&app, "late").await;
    late.send(json!({"type": "hello", "queue": "referrals"}))
        .await;
    late.expect_error("unknown_queue").await;
}

#[tokio::test]
async fn closing_the_hours_turns_new_chatters_away_and_opening_them_lets_them_in() {
    let app = spawn_app().await;
    let cookie = admin(&app, "set-admin-8").await;
    let mut sam = available_advocate(&app, "set-sam-9", "Advocate Sam").await;
    let closed = json!({"utc_offset_minutes": -300, "windows": [a_window_that_excludes_now()]});
    save(&app, &cookie, "hours", &closed).await;

    let mut chatter = chatter_socket(&app, "chatter").await;
    chatter.send(json!({"type": "hello"})).await;
    let offline = chatter.expect("offline").await;
    assert_eq!(offline["reason"], "outside_hours", "{offline}");
    assert_eq!(public_config(&app, "en").await["open_now"], false);
    sam.client
        .until("status closed", |f| {
            f["type"] == "status" && f["open_now"] == false
        })
        .await;

    save(
        &app,
        &cookie,
        "hours",
        &json!({"utc_offset_minutes": 0, "windows": []}),
    )
    .await;
    assert_eq!(public_config(&app, "en").await["open_now"], true);
    chatter.send(json!({"type": "hello"})).await;
    chatter.expect("welcome").await;
}

#[tokio::test]
async fn edited_texts_reach_the_chatter_page_and_the_offline_contacts() {
    let app = spawn_app().await;
    let cookie = admin(&app, "set-admin-10").await;
    let (note_en, note_es) = (canary("note-en"), canary("note-es"));
    let mut texts = current(&app, &cookie, "texts").await;
    texts["languages"]["en"]["offline_note"] = note_en.clone().into();
    texts["languages"]["es"]["offline_note"] = note_es.clone().into();
    texts["languages"]["es"]["emergency"] = "Si está en peligro, llame al 112.".into();
    texts["dial"]["emergency_number"] = "112".into();
    texts["languages"]["en"]["emergency"] = "In danger? Call 112.".into();
    save(&app, &cookie, "texts", &texts).await;

    let es = public_config(&app, "es").await;
    assert_eq!(es["contacts"]["note"], note_es.as_str(), "{es}");
    assert_eq!(es["emergency"], "Si está en peligro, llame al 112.");
    assert_eq!(es["dial"]["emergency"], "112");
    assert_eq!(
        public_config(&app, "en").await["contacts"]["note"],
        note_en.as_str()
    );
    // Nobody on duty: the `offline` frame carries the new note.
    let mut chatter = chatter_socket(&app, "chatter").await;
    chatter.send(json!({"type": "hello"})).await;
    let offline = chatter.expect("offline").await;
    assert_eq!(offline["contacts"]["note"], note_en.as_str(), "{offline}");
}

#[tokio::test]
async fn a_persons_chat_limit_applies_to_claims_and_shows_as_their_capacity_at_once() {
    let app = spawn_app().await;
    let cookie = admin(&app, "set-admin-11").await;
    let mut sam = available_advocate(&app, "set-sam-12", "Advocate Sam").await;
    let (status, _) = post_as(
        &app,
        &cookie,
        &format!("/api/admin/staff/{}/profile", sam.id),
        json!({"max_chats": 1}),
    )
    .await;
    assert_eq!(status, 204);
    sam.client
        .until("status with capacity 1", |f| {
            f["type"] == "status" && f["capacity"] == 1
        })
        .await;
    let (_first, _) = claimed_chat(&app, &mut sam, "first").await;
    let (mut second, tag) = tagged_hello(&app, "second").await;
    second.client.expect("queued").await;
    let chat_id = sam.chat_id_tagged(&tag).await;
    sam.client
        .send(json!({"type": "claim", "chat_id": chat_id}))
        .await;
    sam.client.expect_error("at_capacity").await;
    // Back to the default (0): the same claim now works.
    post_as(
        &app,
        &cookie,
        &format!("/api/admin/staff/{}/profile", sam.id),
        json!({"max_chats": 0}),
    )
    .await;
    sam.client
        .until("status with the default capacity", |f| {
            f["type"] == "status" && f["capacity"] == 3
        })
        .await;
    sam.claim(&chat_id).await;
}

#[tokio::test]
async fn auto_assign_skips_an_advocate_at_their_own_limit_and_gives_more_when_it_is_raised() {
    let app = spawn_app_with(|c| c.chat.auto_assign = true).await;
    let cookie = admin(&app, "set-admin-13").await;
    let mut sam = staff(&app, "set-sam-14", "Advocate Sam", Role::Advocate).await;
    let path = format!("/api/admin/staff/{}/profile", sam.id);
    assert_eq!(
        post_as(&app, &cookie, &path, json!({"max_chats": 1}))
            .await
            .0,
        204
    );
    sam.set_available(true).await;
    let (mut first, _) = tagged_hello(&app, "first").await;
    first.client.expect("joined").await;
    // The default would allow three; Sam's own limit is one: the second chatter waits.
    let (mut second, tag) = tagged_hello(&app, "second").await;
    assert_eq!(second.client.expect("queued").await["position"], 1);
    sam.entry_tagged(&tag).await;
    assert_eq!(
        post_as(&app, &cookie, &path, json!({"max_chats": 2}))
            .await
            .0,
        204
    );
    let assigned = sam.client.expect("assigned").await;
    let assigned = if assigned["intake"]["tag"] == tag.as_str() {
        assigned
    } else {
        sam.client.expect("assigned").await
    };
    assert_eq!(assigned["intake"]["tag"], tag.as_str());
    second.client.expect("joined").await;
}

#[tokio::test]
async fn bad_edits_are_refused_naming_the_field_and_nothing_changes() {
    let app = spawn_app().await;
    let cookie = admin(&app, "set-admin-15").await;
    let before: Vec<Value> = {
        let mut all = Vec::new();
        for section in ["queues", "hours", "canned", "texts"] {
            all.push(current(&app, &cookie, section).await);
        }
        all
    };
    let public_before = public_config(&app, "es").await;

    let mut queues = before[0].clone();
    queues[0]["name"] = " ".into();
    let mut untranslated = before[0].clone();
    untranslated[1]["names"]
        .as_object_mut()
        .unwrap()
        .remove("es");
    let mut texts = before[3].clone();
    texts["languages"]["es"]["mandated_reporting"] = "".into();
    let mut no_spanish = before[3].clone();
    no_spanish["languages"]
        .as_object_mut()
        .unwrap()
        .remove("es");
    let mut canned = before[2].clone();
    canned[0]["language"] = "fr".into();
    let cases = [
        ("queues", queues, "queues[0].name"),
        ("queues", untranslated, "queues[1].names.es"),
        ("queues", json!([]), "queues"),
        (
            "hours",
            json!({"utc_offset_minutes": 0, "windows": ["mon-fri 9-5"]}),
            "hours.windows[0]",
        ),
        ("texts", texts, "texts.languages.es.mandated_reporting"),
        ("texts", no_spanish, "texts.languages.es"),
        ("canned", canned, "canned[0].language"),
    ];
    for (section, value, field) in cases {
        let (status, body) = put(
            &app,
            &cookie,
            &format!("/api/admin/settings/{section}"),
            &value,
        )
        .await;
        assert_eq!(status, 400, "{section} {value}: {body}");
        assert_eq!(body["code"], "invalid_setting", "{body}");
        assert_eq!(body["field"], field, "{body}");
        assert!(body["message"].as_str().unwrap().contains(field), "{body}");
    }
    let (status, body) = put(&app, &cookie, "/api/admin/settings/colours", &json!({})).await;
    assert_eq!(status, 404, "{body}");
    // The CSRF rules of every admin POST: no foreign origin, JSON only.
    let foreign = http()
        .put(app.url("/api/admin/settings/canned"))
        .header("origin", "https://evil.example")
        .header("cookie", &cookie)
        .json(&json!([]))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let form = http()
        .put(app.url("/api/admin/settings/canned"))
        .header("origin", app.url(""))
        .header("cookie", &cookie)
        .header("content-type", "text/plain")
        .body("[]")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);

    for (i, section) in ["queues", "hours", "canned", "texts"]
        .into_iter()
        .enumerate()
    {
        let (_, body) = get_as(&app, &cookie, &format!("/api/admin/settings/{section}")).await;
        assert_eq!(body["value"], before[i], "{section} unchanged");
        assert_eq!(body["versions"], json!([]), "{section}: no version saved");
    }
    assert_eq!(public_config(&app, "es").await, public_before);
    let (_, audit) = get_as(&app, &cookie, "/api/admin/audit?action=setting_changed").await;
    assert_eq!(audit, json!([]));
}

#[tokio::test]
async fn only_admins_read_or_edit_settings() {
    let app = spawn_app().await;
    for (username, role) in [
        ("set-sup-16", Role::Supervisor),
        ("set-adv-17", Role::Advocate),
    ] {
        app.add_staff(username, "Staff", role, PASSWORD);
        let cookie = app.login(username, PASSWORD).await;
        assert_eq!(get_as(&app, &cookie, "/api/admin/settings").await.0, 403);
        assert_eq!(
            get_as(&app, &cookie, "/api/admin/settings/canned").await.0,
            403
        );
        let (status, body) = put(&app, &cookie, "/api/admin/settings/canned", &json!([])).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    }
    assert_eq!(
        get_as(&app, "haven_session=0", "/api/admin/settings")
            .await
            .0,
        401
    );
    let cookie = admin(&app, "set-admin-18").await;
    let canned = current(&app, &cookie, "canned").await;
    assert!(
        !canned.as_array().unwrap().is_empty(),
        "the file's canned responses"
    );
}

#[tokio::test]
async fn saved_settings_and_chat_limits_survive_a_restart_with_their_versions() {
    let app = spawn_app().await;
    let cookie = admin(&app, "set-admin-19").await;
    app.add_staff("set-sam-20", "Advocate Sam", Role::Advocate, PASSWORD);
    let sam_cookie = app.login("set-sam-20", PASSWORD).await;
    let sam_id = me(&app, &sam_cookie).await.json::<Value>().await.unwrap()["id"].clone();
    let path = format!("/api/admin/staff/{}/profile", sam_id.as_str().unwrap());
    assert_eq!(
        post_as(&app, &cookie, &path, json!({"max_chats": 1}))
            .await
            .0,
        204
    );
    let first = canary("first");
    let second = canary("second");
    save(
        &app,
        &cookie,
        "canned",
        &json!([{"title": "One", "text": first}]),
    )
    .await;
    let saved = save(
        &app,
        &cookie,
        "canned",
        &json!([{"title": "Two", "text": second, "language": "en"}]),
    )
    .await;
    assert_eq!(saved["version"], 2);
    app.shutdown.trigger();
    let data_dir = stopped(app).await;

    let mut config = test_config(data_dir.path());
    config.server.bind = "127.0.0.1:0".into();
    let again = haven::Application::build(config).await.expect("restarts");
    let port = again.port();
    let shutdown = again.shutdown_handle();
    let task = tokio::spawn(async move { again.run_until_stopped().await.unwrap() });
    let app = TestApp {
        port,
        addr: format!("127.0.0.1:{port}"),
        data_dir,
        shutdown,
        task,
    };

    let cookie = app.login("set-admin-19", PASSWORD).await;
    let (_, body) = get_as(&app, &cookie, "/api/admin/settings/canned").await;
    assert_eq!(
        body["value"],
        json!([{"title": "Two", "text": second, "language": "en"}])
    );
    let versions: Vec<u64> = body["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, [2, 1], "{body}");
    assert_eq!(body["versions"][1]["value"][0]["text"], first.as_str());
    let admin_id = me(&app, &cookie).await.json::<Value>().await.unwrap()["id"].clone();
    assert_eq!(body["versions"][0]["saved_by"], admin_id);
    assert!(
        body["default"].as_array().unwrap().len() > 1,
        "the file's list beside it: {body}"
    );
    // Sam's console: the saved canned response and their own limit.
    let sam_cookie = app.login("set-sam-20", PASSWORD).await;
    let sam = connect_staff(&app, "set-sam-20", "Advocate Sam", &sam_cookie).await;
    let welcome = sam
        .client
        .seen
        .iter()
        .find(|f| f["type"] == "welcome")
        .unwrap();
    assert_eq!(welcome["canned"][0]["text"], second.as_str(), "{welcome}");
    assert_eq!(welcome["capacity"], 1, "{welcome}");
    // Rolling back is saving an older version again.
    let old = body["versions"][1]["value"].clone();
    assert_eq!(save(&app, &cookie, "canned", &old).await["version"], 3);
    assert_eq!(current(&app, &cookie, "canned").await, old);
}
