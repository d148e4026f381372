//! Issue 6: the voluntary intake form and exit survey over real HTTP and WebSockets. Answers
//! reach the advocate, are stored with no link to the chat, erased by deletion code, withheld
//! for children, and bad input is refused with the field named and nothing stored.

use std::path::Path;

use haven::Role;
use serde_json::{json, Value};

use crate::common::{spawn_app_with, TestApp};
use crate::support::*;

/// `POST` JSON from Haven's own origin (as the chatter page does); (status, body).
pub async fn post_json(app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    let response = http()
        .post(app.url(path))
        .header("origin", format!("http://{}", app.addr))
        .json(body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub async fn submit(app: &TestApp, form: &str, token: &str, answers: Value) -> (u16, Value) {
    post_json(
        app,
        &format!("/api/forms/{form}"),
        &json!({"token": token, "version": 1, "answers": answers}),
    )
    .await
}

/// Rows of one table in the app's database, read with SQLite itself.
pub fn count_rows(data_dir: &Path, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(data_dir.join("haven.db")).expect("database opens");
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .expect("count")
}

/// An answered chat: a chatter (with `intake` in hello) claimed by a fresh advocate; the
/// chatter, the advocate, the chat id and the `assigned` frame the advocate got.
async fn answered_chat(app: &TestApp, who: &str, intake: Value) -> (Chatter, Staff, String, Value) {
    let mut advocate =
        available_advocate(app, &format!("adv-{who}"), &format!("Advocate {who}")).await;
    let tag = format!("{who}-{}", uuid::Uuid::new_v4().simple());
    let mut intake = intake;
    intake["tag"] = json!(tag);
    let mut chatter = hello(app, who, json!({"intake": intake})).await;
    chatter.client.expect("queued").await;
    let chat_id = advocate.chat_id_tagged(&tag).await;
    let assigned = advocate.claim(&chat_id).await;
    chatter.client.expect("joined").await;
    (chatter, advocate, chat_id, assigned)
}

#[tokio::test]
async fn forms_come_in_the_chatters_language_with_prefer_not_to_say() {
    let app = spawn_app_with(|_| {}).await;
    let forms: Value = http()
        .get(app.url("/api/public/forms?lang=es"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let intake = &forms["intake"];
    assert_eq!(intake["version"], 1);
    assert_eq!(intake["skip"], "Saltar", "{intake}");
    let gender = intake["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "gender")
        .expect("a gender question");
    assert_eq!(gender["label"], "Género");
    let last = gender["options"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last,
        json!({"id": "prefer_not_to_say", "label": "Prefiero no decirlo"})
    );
    assert_eq!(forms["survey"]["form"], "survey");
}

#[tokio::test]
async fn intake_reaches_its_advocate_only_and_the_name_never_reaches_disk() {
    let app = spawn_app_with(|_| {}).await;
    let name = canary("name");
    let mut watcher = available_advocate(&app, "watcher", "Watcher").await;
    let (chatter, _advocate, chat_id, assigned) = answered_chat(
        &app,
        "intake",
        json!({"name": name, "gender": "woman", "city": "Hartford"}),
    )
    .await;
    // The claiming advocate sees every intake answer...
    assert_eq!(assigned["intake"]["name"], name.as_str(), "{assigned}");
    // ...while the queue list every console gets carried no name, no free text.
    let mut everything_seen = String::new();
    while let Some(frame) = watcher
        .client
        .try_next(std::time::Duration::from_millis(500))
        .await
    {
        everything_seen.push_str(&frame.to_string());
    }
    assert!(
        !everything_seen.contains(&name),
        "another console saw the name"
    );
    assert!(
        !everything_seen.contains("Hartford"),
        "another console saw the city"
    );
    assert!(
        everything_seen.contains("woman"),
        "choice answers stay in the queue list"
    );

    let (status, body) = submit(
        &app,
        "intake",
        &chatter.token,
        json!({"name": name, "gender": "woman", "age_range": "25-34", "city": "Hartford", "zip": "06103"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let code = body["deletion_code"].as_str().expect("a deletion code");
    assert_eq!(code.len(), 19, "{code}");
    assert_eq!(count_rows(app.data_dir.path(), "submissions"), 1);

    let data_dir = stopped(app_after(app).await).await;
    for (path, bytes) in all_files(data_dir.path()) {
        for needle in [
            name.as_str(),
            chat_id.as_str(),
            chatter.token.as_str(),
            "Hartford",
            "06103",
        ] {
            assert!(
                !contains_bytes(&bytes, needle.as_bytes()),
                "{needle} reached {}",
                path.display()
            );
        }
    }
    let conn = rusqlite::Connection::open(data_dir.path().join("haven.db")).unwrap();
    let zip: String = conn
        .query_row(
            "SELECT value FROM answers WHERE question = 'zip'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(zip, "061", "only the zip's first three digits are kept");
}

/// Triggers shutdown and hands the app back for `stopped`.
async fn app_after(app: TestApp) -> TestApp {
    app.shutdown.trigger();
    app
}

#[tokio::test]
async fn the_survey_is_taken_once_from_a_real_chat_and_bad_input_stores_nothing() {
    let app = spawn_app_with(|_| {}).await;
    let (mut chatter, mut advocate, chat_id, _) = answered_chat(&app, "survey", json!({})).await;
    advocate.end(&chat_id).await;
    chatter.client.expect("ended").await;

    let bad = [
        (json!({"nope": "yes"}), 422, "unknown_question", "nope"),
        (
            json!({"got_needed": "maybe"}),
            422,
            "invalid_option",
            "got_needed",
        ),
        (
            json!({"got_needed": ["yes"]}),
            422,
            "wrong_type",
            "got_needed",
        ),
        (json!({"zip": "12"}), 422, "invalid_zip", "zip"),
        (
            json!({"followup_email": "nobody"}),
            422,
            "invalid_email",
            "followup_email",
        ),
        (
            json!({"got_needed": "yes", "followup_email": format!("{}@example.org", "x".repeat(300))}),
            422,
            "invalid_email",
            "followup_email",
        ),
    ];
    for (answers, status, code, field) in bad {
        let (got, body) = submit(&app, "survey", &chatter.token, answers.clone()).await;
        assert_eq!(
            (got, body["code"].as_str(), body["field"].as_str()),
            (status, Some(code), Some(field)),
            "{answers} → {body}"
        );
    }
    let (status, body) = post_json(
        &app,
        "/api/forms/survey",
        &json!({"token": chatter.token, "version": 9, "answers": {"got_needed": "yes"}}),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("version")),
        "{body}"
    );
    let huge = json!({"token": chatter.token, "version": 1, "answers": {"got_needed": "x".repeat(40_000)}});
    let (status, body) = post_json(&app, "/api/forms/survey", &huge).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(
        count_rows(app.data_dir.path(), "submissions"),
        0,
        "nothing partial stored"
    );

    let (status, body) = submit(
        &app,
        "survey",
        "0123456789abcdef0123456789abcdef",
        json!({"got_needed": "yes"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("not_eligible")),
        "{body}"
    );

    let (status, body) = submit(
        &app,
        "survey",
        &chatter.token,
        json!({"got_needed": "yes", "recommend": 5}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = submit(&app, "survey", &chatter.token, json!({"got_needed": "no"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("already_submitted")),
        "{body}"
    );
    assert_eq!(count_rows(app.data_dir.path(), "submissions"), 1);
    // The stored row holds a date and nothing finer.
    let conn = rusqlite::Connection::open(app.data_dir.path().join("haven.db")).unwrap();
    let bucket: String = conn
        .query_row("SELECT bucket FROM submissions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(bucket.len(), 10, "a date only: {bucket}");
}

#[tokio::test]
async fn a_deletion_code_erases_answers_and_email_once_with_one_neutral_answer() {
    let app = spawn_app_with(|_| {}).await;
    let (mut chatter, mut advocate, chat_id, _) = answered_chat(&app, "forget", json!({})).await;
    advocate.end(&chat_id).await;
    chatter.client.expect("ended").await;
    let email = format!("{}@example.org", canary("email").to_lowercase());
    let (status, body) = submit(
        &app,
        "survey",
        &chatter.token,
        json!({"got_needed": "yes", "followup_email": email}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let code = body["deletion_code"].as_str().unwrap().to_string();
    let dir = app.data_dir.path();
    assert_eq!(
        (count_rows(dir, "submissions"), count_rows(dir, "followups")),
        (1, 1)
    );

    let forget = |code: String| {
        let app = &app;
        async move { post_json(app, "/api/forget", &json!({"code": code})).await }
    };
    let wrong = forget("AAAA-BBBB-CCCC-DDDD".into()).await;
    let malformed = forget("not a code!".into()).await;
    assert_eq!(
        (count_rows(dir, "submissions"), count_rows(dir, "followups")),
        (1, 1)
    );
    let right = forget(code.to_lowercase().replace('-', " ")).await;
    assert_eq!(
        (count_rows(dir, "submissions"), count_rows(dir, "followups")),
        (0, 0)
    );
    let again = forget(code).await;
    assert_eq!(right.0, 200);
    for other in [&wrong, &malformed, &again] {
        assert_eq!(
            other, &right,
            "the same answer whatever the code: no oracle"
        );
    }
}

#[tokio::test]
async fn an_under_13_answer_stores_nothing_of_that_chatter_and_only_a_count_moves() {
    let app = spawn_app_with(|_| {}).await;
    let (mut chatter, mut advocate, chat_id, assigned) =
        answered_chat(&app, "child", json!({"age_range": "under_13"})).await;
    assert_eq!(
        assigned["intake"]["age_range"], "under_13",
        "the advocate still sees it"
    );
    let (status, body) = submit(
        &app,
        "intake",
        &chatter.token,
        json!({"age_range": "under_13", "gender": "woman"}),
    )
    .await;
    assert_eq!((status, &body), (200, &json!({"stored": false})));
    advocate.end(&chat_id).await;
    chatter.client.expect("ended").await;
    // The survey says nothing of age, but it is the same child's: withheld too.
    let (status, body) = submit(&app, "survey", &chatter.token, json!({"got_needed": "yes"})).await;
    assert_eq!((status, &body), (200, &json!({"stored": false})));
    let dir = app.data_dir.path();
    assert_eq!(count_rows(dir, "submissions"), 0);
    assert_eq!(count_rows(dir, "answers"), 0);
    let conn = rusqlite::Connection::open(dir.join("haven.db")).unwrap();
    let withheld: i64 = conn
        .query_row("SELECT SUM(count) FROM withheld", [], |r| r.get(0))
        .unwrap();
    assert_eq!(withheld, 2);
}

#[tokio::test]
async fn the_database_does_not_reveal_the_order_answers_came_in() {
    let app = spawn_app_with(|_| {}).await;
    let mut advocate = available_advocate(&app, "order", "Order").await;
    // Twenty people answer in turn; each gives a different zip prefix, 100 to 119, in order.
    for i in 0..20 {
        let tag = format!("order-{i}-{}", uuid::Uuid::new_v4().simple());
        let chatter = hello(&app, "order", json!({"intake": {"tag": tag}})).await;
        let chat_id = advocate.chat_id_tagged(&tag).await;
        advocate.claim(&chat_id).await;
        let (status, body) = submit(
            &app,
            "intake",
            &chatter.token,
            json!({"zip": format!("{}00", 100 + i)}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        advocate.end(&chat_id).await;
    }
    // The compaction after writes rewrites the file in key order.
    tokio::time::sleep(std::time::Duration::from_millis(3_500)).await;
    let data_dir = stopped(app_after(app).await).await;
    let conn = rusqlite::Connection::open(data_dir.path().join("haven.db")).unwrap();
    let scanned: Vec<String> = conn
        .prepare("SELECT value FROM answers")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let submitted: Vec<String> = (0..20).map(|i| (100 + i).to_string()).collect();
    assert_eq!(scanned.len(), 20);
    assert_ne!(
        scanned, submitted,
        "the table scans in the order answers came"
    );
    // Nor do the bytes: where each value sits in the file follows no submission order.
    let bytes = std::fs::read(data_dir.path().join("haven.db")).unwrap();
    let offsets: Vec<usize> = submitted
        .iter()
        .map(|v| {
            let needle = format!("zip{v}");
            bytes
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
                .unwrap_or_else(|| panic!("{needle} is in the file"))
        })
        .collect();
    let mut sorted = offsets.clone();
    sorted.sort_unstable();
    let mut reversed = sorted.clone();
    reversed.reverse();
    assert!(
        offsets != sorted && offsets != reversed,
        "file layout follows submission order: {offsets:?}"
    );
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM submissions")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(ids.iter().all(|id| id.len() == 32), "random ids");
    let _ = Role::Advocate;
}

async fn page(app: &TestApp, path: &str) -> String {
    let response = http().get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn the_privacy_page_follows_the_live_configuration_in_every_language() {
    let app = spawn_app_with(|_| {}).await;
    let english = page(&app, "/privacy").await;
    for says in [
        "24 months",
        "30 days",
        "erased 10 minutes later",
        "Gender",
        "never stored",
        "/forget",
        "1-800-799-7233",
        "under 13",
    ] {
        assert!(
            english.contains(says),
            "the notice says {says:?}:\n{english}"
        );
    }
    let spanish = page(&app, "/privacy?lang=es").await;
    for says in ["24 meses", "Género", "nunca se guarda", "lang=\"es\""] {
        assert!(
            spanish.contains(says),
            "la página dice {says:?}:\n{spanish}"
        );
    }

    let changed = spawn_app_with(|c| {
        c.forms.retention_months = 6;
        c.forms.followup_window_days = 7;
        c.chat.retention_after_close_secs = 300;
        c.forms.intake.questions.retain(|q| q.id != "gender");
        c.program.hotline_phone = "1-800-555-0199".into();
    })
    .await;
    let notice = page(&changed, "/privacy").await;
    for says in [
        "6 months",
        "7 days",
        "erased 5 minutes later",
        "1-800-555-0199",
    ] {
        assert!(
            notice.contains(says),
            "the changed notice says {says:?}:\n{notice}"
        );
    }
    assert!(
        !notice.contains("Gender"),
        "a question no longer asked is no longer listed"
    );
    assert!(!notice.contains("24 months"));
}

#[tokio::test]
async fn a_form_changed_under_its_old_version_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::common::test_config(dir.path());
    drop(
        haven::Application::build(config.clone())
            .await
            .expect("first start"),
    );
    // Relabelling is fine; changing what answers mean needs a new version.
    let mut relabelled = config.clone();
    relabelled.forms.intake.questions[1]
        .label
        .insert("en".into(), "Your gender".into());
    drop(
        haven::Application::build(relabelled)
            .await
            .expect("labels may change"),
    );
    let mut changed = config.clone();
    changed.forms.intake.questions[1].options.pop();
    let error = match haven::Application::build(changed.clone()).await {
        Ok(_) => panic!("a changed form under version 1 must be refused"),
        Err(error) => error.to_string(),
    };
    assert!(error.contains("forms.intake.version"), "{error}");
    changed.forms.intake.version = 2;
    drop(
        haven::Application::build(changed)
            .await
            .expect("a new version starts"),
    );
}
