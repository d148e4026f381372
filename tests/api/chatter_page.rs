//! What the chatter page relies on from the server (issue 7): a quick exit the advocate can tell
//! apart from a normal end, the program's texts in every language, whether anyone is on duty
//! and when the chat opens next, and the neutral site written into the page itself.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{spawn_app, spawn_app_with};
use crate::support::*;

#[tokio::test]
async fn a_quick_exit_reaches_the_advocate_as_its_own_reason_and_nothing_more() {
    let app = spawn_app().await;
    let mut sam = available_advocate(&app, "sam", "Sam").await;

    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "hurried").await;
    chatter
        .client
        .send(json!({"type": "leave", "reason": "quick_exit"}))
        .await;
    let ended = chatter.client.expect("ended").await;
    assert_eq!(ended["reason"], "chatter_left", "{ended}");
    let left = sam
        .client
        .until("`chatter_left`", |f| f["type"] == "chatter_left")
        .await;
    assert_eq!(
        left,
        json!({"type": "chatter_left", "chat_id": chat_id, "reason": "quick_exit"}),
        "the advocate learns the reason and nothing else"
    );

    // An ordinary leave, and a leave with a reason Haven does not know, are plain `left`:
    // a leave is never refused because of its reason.
    for (name, frame) in [
        ("calm", json!({"type": "leave"})),
        ("odd", json!({"type": "leave", "reason": "bored"})),
    ] {
        let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, name).await;
        chatter.client.send(frame).await;
        chatter.client.expect("ended").await;
        let left = sam
            .client
            .until("`chatter_left`", |f| f["type"] == "chatter_left")
            .await;
        assert_eq!(left["chat_id"], chat_id.as_str());
        assert_eq!(left["reason"], "left", "{name}: {left}");
    }
    sam.client.still_works().await;
}

async fn public_config(app: &crate::common::TestApp, query: &str) -> Value {
    let response = http()
        .get(app.url(&format!("/api/public/config{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_public_config_speaks_every_offered_language() {
    let app = spawn_app().await;
    let defaults = haven::Config::embedded_defaults();
    let es = &defaults.program.text["es"];

    let english = public_config(&app, "").await;
    assert_eq!(english["lang"], "en");
    assert_eq!(english["emergency"], defaults.program.emergency.as_str());

    let spanish = public_config(&app, "?lang=es").await;
    assert_eq!(spanish["lang"], "es");
    assert_eq!(spanish["emergency"], es.emergency.as_deref().unwrap());
    assert_eq!(
        spanish["mandated_reporting"],
        es.mandated_reporting.as_deref().unwrap()
    );
    assert_eq!(
        spanish["contacts"]["text"],
        es.hotline_text.as_deref().unwrap()
    );
    assert_eq!(
        spanish["contacts"]["note"],
        es.offline_note.as_deref().unwrap()
    );
    assert_eq!(spanish["queues"][0]["name"], es.queue_names["general"]);

    // Every language at once, the same texts as `?lang=`.
    for lang in ["en", "es"] {
        let one = public_config(&app, &format!("?lang={lang}")).await;
        let all = &english["texts"][lang];
        assert_eq!(all["emergency"], one["emergency"], "{lang}");
        assert_eq!(all["offline_note"], one["contacts"]["note"], "{lang}");
        assert_eq!(all["queue_names"]["general"], one["queues"][0]["name"]);
    }
    // A language not offered gets the default language, not an error.
    let unknown = public_config(&app, "?lang=xx").await;
    assert_eq!(unknown["lang"], "en");

    // Dialable numbers and the page's behaviour keys.
    assert_eq!(english["dial"]["emergency"], "911");
    assert_eq!(english["dial"]["hotline"], "18007997233");
    assert_eq!(english["dial"]["sms"], "88788");
    assert_eq!(english["dial"]["sms_body"], "START");
    assert_eq!(english["page"]["forget_on_pagehide"], true);
    assert_eq!(english["page"]["escape_key"], "unless_typing");
}

#[tokio::test]
async fn the_start_screen_learns_who_is_on_duty_and_when_chat_opens() {
    // Always open (no windows): open, nobody on duty yet, no next opening.
    let app = spawn_app().await;
    let body = public_config(&app, "").await;
    assert_eq!(body["open_now"], true);
    assert_eq!(body["on_duty"], false, "no advocate is available yet");
    assert_eq!(body["next_open_at"], Value::Null);
    let _sam = available_advocate(&app, "sam", "Sam").await;
    let body = public_config(&app, "").await;
    assert_eq!(body["on_duty"], true, "an available advocate");

    // Closed at every moment of today but open tomorrow: closed, with the next opening ahead.
    let today = (time_now_secs() / 86_400 + 3).rem_euclid(7) as usize;
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let tomorrow = days[(today + 1) % 7];
    let window = format!("{tomorrow} 09:00-10:00");
    let app = spawn_app_with(move |c| c.service_hours.windows = vec![window]).await;
    let _sam = available_advocate(&app, "sam", "Sam").await;
    let body = public_config(&app, "").await;
    assert_eq!(body["open_now"], false);
    assert_eq!(body["on_duty"], false, "nobody answers outside the hours");
    let next = body["next_open_at"].as_i64().expect("a time in Unix ms");
    let now_ms = time_now_secs() * 1000;
    assert!(
        next > now_ms && next - now_ms <= 34 * 3600 * 1000,
        "tomorrow 09:00 UTC: {next} vs now {now_ms}"
    );
    assert_eq!(next % 60_000, 0, "on the minute");
}

fn time_now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn the_chat_page_links_quick_exit_to_the_neutral_site_before_any_script() {
    let app =
        spawn_app_with(|c| c.program.quick_exit_url = "https://example.org/?a=1&b=\"2\"".into())
            .await;
    for path in ["/", "/chat"] {
        let html = http()
            .get(app.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(r#"href="https://example.org/?a=1&amp;b=&quot;2&quot;""#),
            "{path}: the link holds the escaped neutral URL"
        );
        assert!(!html.contains("__QUICK_EXIT_URL__"), "{path}");
        assert!(!html.contains("about:blank"), "{path}");
    }
}

#[test]
fn a_missing_translation_is_named_in_a_warning_at_start() {
    let (dir, path) = config_dir(
        "",
        concat!(
            "[program]\nlanguages = [\"en\", \"fr\"]\n\n[program.text.fr]\n",
            "emergency = \"En cas de danger, appelez le 911.\"\n\n",
            // Forms must be complete in every language (issue 6): none are asked here.
            "[forms.intake]\nquestions = []\n[forms.survey]\nquestions = []\n",
            "[forms.ui.fr]\nintake_title = \"a\"\nintake_intro = \"a\"\nsurvey_title = \"a\"\n",
            "survey_intro = \"a\"\nsubmit = \"a\"\nskip = \"a\"\nprefer_not_to_say = \"a\"\n",
            "kept_note = \"a\"\ndeletion_note = \"a\"\n",
        ),
        "info",
    );
    let mut server = Binary::serve(dir, path, &[]);
    // The warning is logged before `listening`, which `serve` waited for.
    std::thread::sleep(Duration::from_millis(100));
    let output = server.output();
    server.terminate();
    assert!(
        output.contains("program.text.fr.mandated_reporting")
            && output.contains("program.text.fr.queue_names.general"),
        "the warning names the missing keys: {output}"
    );
    assert!(
        !output.contains("program.text.fr.emergency") && !output.contains("program.text.es"),
        "a key that is given is not named: {output}"
    );
}
