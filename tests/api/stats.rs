//! Issue 6: aggregate statistics for evaluators over real HTTP: roles, queries, counts that
//! move with real chats and surveys, suppression, the CSV matching the JSON, and retention.

use std::sync::Arc;

use haven::Role;
use serde_json::{json, Value};

use crate::common::{spawn_app_with, TestApp};
use crate::forms::{count_rows, submit};
use crate::support::*;

async fn cookie_for(app: &TestApp, username: &str, role: Role) -> String {
    app.add_staff(username, username, role, PASSWORD);
    app.login(username, PASSWORD).await
}

async fn get(app: &TestApp, path: &str, cookie: Option<&str>) -> (u16, String) {
    let mut request = http().get(app.url(path));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.expect("request");
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

async fn report(app: &TestApp, cookie: &str, query: &str) -> Value {
    let (status, body) = get(app, &format!("/api/stats?{query}"), Some(cookie)).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("JSON report")
}

/// A chat answered and ended by an advocate; the chatter's token.
async fn finished_chat(app: &TestApp, advocate: &mut Staff, who: &str) -> String {
    let (mut chatter, chat_id) = claimed_chat(app, advocate, who).await;
    advocate.end(&chat_id).await;
    chatter.client.expect("ended").await;
    chatter.token
}

fn this_month() -> String {
    let today = haven::stats::calendar::local_date(haven::hub::now_ms(), 0);
    haven::stats::calendar::Month::of(today).to_string()
}

#[tokio::test]
async fn every_evaluator_endpoint_checks_the_role() {
    let app = spawn_app_with(|_| {}).await;
    let advocate = cookie_for(&app, "role-advocate", Role::Advocate).await;
    let supervisor = cookie_for(&app, "role-supervisor", Role::Supervisor).await;
    let evaluator = cookie_for(&app, "role-evaluator", Role::Evaluator).await;
    let admin = cookie_for(&app, "role-admin", Role::Admin).await;
    for path in [
        "/api/stats",
        "/api/stats.csv",
        "/api/stats/options",
        "/api/stats/funder?fiscal_year=2026",
        "/api/stats/funder.csv?fiscal_year=2026",
    ] {
        assert_eq!(get(&app, path, None).await.0, 401, "{path} anonymous");
        assert_eq!(
            get(&app, path, Some(&advocate)).await.0,
            403,
            "{path} advocate"
        );
        assert_eq!(
            get(&app, path, Some(&supervisor)).await.0,
            403,
            "{path} supervisor"
        );
        assert_eq!(
            get(&app, path, Some(&evaluator)).await.0,
            200,
            "{path} evaluator"
        );
        assert_eq!(get(&app, path, Some(&admin)).await.0, 200, "{path} admin");
    }
    // Free text is the evaluator's alone, and absent while the program does not store it.
    let free = "/api/stats/free_text?form=survey&question=city";
    assert_eq!(get(&app, free, Some(&admin)).await.0, 403);
    assert_eq!(get(&app, free, Some(&evaluator)).await.0, 404);
    // Follow-up emails: the configured role (supervisor) and admins only.
    assert_eq!(get(&app, "/api/followups", None).await.0, 401);
    assert_eq!(get(&app, "/api/followups", Some(&evaluator)).await.0, 403);
    assert_eq!(get(&app, "/api/followups", Some(&advocate)).await.0, 403);
    assert_eq!(get(&app, "/api/followups", Some(&supervisor)).await.0, 200);
}

#[tokio::test]
async fn a_bad_query_gets_400_saying_why() {
    let app = spawn_app_with(|_| {}).await;
    let evaluator = cookie_for(&app, "bad-query", Role::Evaluator).await;
    for (query, says) in [
        ("period=week", "period"),
        ("period=month&start=2026-13", "start"),
        ("period=quarter&start=2026-11", "quarter"),
        ("period=fiscal_year&start=2026-01", "fiscal year"),
        ("queue=nowhere", "queue"),
        ("form=exit", "form"),
        ("version=zero", "version"),
        ("from=2026-11-01", "Unknown parameter"),
    ] {
        let (status, body) = get(&app, &format!("/api/stats?{query}"), Some(&evaluator)).await;
        assert_eq!(status, 400, "{query}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["code"], "bad_query");
        assert!(
            body["message"].as_str().unwrap().contains(says),
            "{query}: {body}"
        );
    }
    let (status, _) = get(
        &app,
        "/api/stats/funder?fiscal_year=twenty",
        Some(&evaluator),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn counts_move_with_real_chats_the_csv_matches_and_forgetting_moves_them_back() {
    let app = spawn_app_with(|c| c.stats.suppress_below = 5).await;
    let evaluator = cookie_for(&app, "counts-evaluator", Role::Evaluator).await;
    let month = this_month();
    let query = format!("period=month&start={month}&form=survey");
    let before = report(&app, &evaluator, &query).await;
    assert_eq!(before["totals"]["answered"], 0, "{before}");
    assert_eq!(before["suppression"]["marker"], "<5");

    let mut advocate = available_advocate(&app, "counts-advocate", "Counts").await;
    let mut codes = Vec::new();
    for i in 0..5 {
        let token = finished_chat(&app, &mut advocate, &format!("counts-{i}")).await;
        let (status, body) = submit(
            &app,
            "survey",
            &token,
            json!({"got_needed": "yes", "recommend": "5"}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        codes.push(body["deletion_code"].as_str().unwrap().to_string());
    }
    let after = report(&app, &evaluator, &query).await;
    assert_eq!(after["totals"]["answered"], 5, "{after}");
    assert_eq!(after["totals"]["contacts"], 5, "{after}");
    assert_eq!(after["totals"]["abandoned"], 0, "{after}");
    assert_eq!(after["form"]["submissions"], 5, "{after}");
    let got_needed = after["form"]["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "got_needed")
        .unwrap()
        .clone();
    assert_eq!(got_needed["respondents"], 5);
    assert_eq!(
        got_needed["options"][0],
        json!({"id": "yes", "label": "Yes", "count": 5, "share": 100.0})
    );
    assert!(after["wait"]["median"].is_string(), "{after}");

    // The CSV says exactly what the JSON says.
    let (status, csv) = get(&app, &format!("/api/stats.csv?{query}"), Some(&evaluator)).await;
    assert_eq!(status, 200);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        ["section", "period", "queue", "item", "option", "value", "share"]
    );
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .expect("CSV parses");
    let find = |section: &str, item: &str, option: &str| {
        rows.iter()
            .find(|r| &r[0] == section && &r[3] == item && &r[4] == option)
            .unwrap_or_else(|| panic!("CSV has {section}/{item}/{option}"))
            .clone()
    };
    for (key, value) in after["totals"].as_object().unwrap() {
        let shown = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_string);
        assert_eq!(&find("totals", key, "")[5], shown.as_str(), "totals.{key}");
    }
    assert_eq!(&find("meta", "suppression_threshold", "")[5], "5");
    assert_eq!(&find("meta", "form_version", "")[5], "1");
    assert_eq!(&find("meta", "period_start", "")[5], month.as_str());
    let yes = find("question", "survey v1:got_needed", "yes");
    assert_eq!((&yes[5], &yes[6]), ("5", "100.0"));

    // One person erases their answers: the count goes back below the threshold and hides.
    let (status, _) =
        crate::forms::post_json(&app, "/api/forget", &json!({"code": codes[0]})).await;
    assert_eq!(status, 200);
    let forgotten = report(&app, &evaluator, &query).await;
    assert_eq!(forgotten["form"]["submissions"], "<5", "{forgotten}");
    assert_eq!(
        forgotten["totals"]["answered"], 5,
        "chats still count: {forgotten}"
    );
}

#[tokio::test]
async fn a_few_turned_away_hide_with_every_number_that_would_give_them_away() {
    let app = spawn_app_with(|c| c.stats.suppress_below = 5).await;
    let evaluator = cookie_for(&app, "few-evaluator", Role::Evaluator).await;
    // One chatter comes while nobody is on duty.
    let mut early = chatter_socket(&app, "early").await;
    early.send(json!({"type": "hello"})).await;
    assert_eq!(early.expect("offline").await["reason"], "no_advocates");
    let mut advocate = available_advocate(&app, "few-advocate", "Few").await;
    for i in 0..5 {
        finished_chat(&app, &mut advocate, &format!("few-{i}")).await;
    }
    let month = this_month();
    let report = report(&app, &evaluator, &format!("period=month&start={month}")).await;
    let totals = &report["totals"];
    assert_eq!(totals["contacts"], 6, "{report}");
    // 6 contacts − 5 answered would give away the one turned away: both hide.
    for hidden in [
        "turned_away",
        "no_advocates",
        "not_served",
        "answered",
        "abandoned",
        "offered",
    ] {
        assert_eq!(totals[hidden], "<5", "{hidden}: {report}");
    }
    // Nor can the other queue's zero be subtracted from all queues.
    let general = self::report(
        &app,
        &evaluator,
        &format!("period=month&start={month}&queue=general"),
    )
    .await;
    let referrals = self::report(
        &app,
        &evaluator,
        &format!("period=month&start={month}&queue=referrals"),
    )
    .await;
    assert_eq!(general["totals"]["answered"], "<5", "{general}");
    assert_eq!(referrals["totals"]["answered"], "<5", "{referrals}");
}

#[tokio::test]
async fn the_funder_preset_gives_a_fiscal_years_counts_for_both_forms() {
    let app = spawn_app_with(|_| {}).await;
    let evaluator = cookie_for(&app, "funder", Role::Evaluator).await;
    let (status, body) = get(&app, "/api/stats/funder?fiscal_year=2027", Some(&evaluator)).await;
    assert_eq!(status, 200, "{body}");
    let funder: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(funder["preset"], "funder");
    assert_eq!(funder["period"]["label"], "FY2027");
    assert_eq!(funder["period"]["start"], "2026-10");
    for key in [
        "contacts",
        "answered",
        "not_served",
        "abandoned",
        "turned_away",
    ] {
        assert!(funder["totals"].get(key).is_some(), "{key}: {funder}");
    }
    for form in ["intake", "survey"] {
        assert_eq!(funder["forms"][form]["form"], form, "{funder}");
    }
    let (status, csv) = get(
        &app,
        "/api/stats/funder.csv?fiscal_year=2027",
        Some(&evaluator),
    )
    .await;
    assert_eq!(status, 200);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert!(reader.records().all(|r| r.is_ok_and(|r| r.len() == 7)));
}

#[tokio::test]
async fn the_retention_job_deletes_old_answers_and_expired_emails() {
    let app = spawn_app_with(|_| {}).await;
    let mut advocate = available_advocate(&app, "retention", "Retention").await;
    let token = finished_chat(&app, &mut advocate, "retention").await;
    let (status, body) = submit(
        &app,
        "survey",
        &token,
        json!({"got_needed": "yes", "followup_email": "someone@example.org"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let dir = app.data_dir.path().to_path_buf();
    let mut config = crate::common::test_config(&dir);
    config.server.data_dir = dir.clone();
    let config = Arc::new(config);
    let store = haven::store::Store::open(&dir).unwrap();
    let forms = haven::forms::Forms::new(Arc::clone(&config), store).unwrap();
    let today = haven::stats::calendar::local_date(haven::hub::now_ms(), 0);
    // Tomorrow nothing goes; after the 30-day window the email goes; after 24 months, all.
    assert_eq!(
        forms
            .delete_expired(today + time::Duration::days(1))
            .unwrap(),
        0
    );
    assert_eq!(
        (
            count_rows(&dir, "submissions"),
            count_rows(&dir, "followups")
        ),
        (1, 1)
    );
    forms
        .delete_expired(today + time::Duration::days(31))
        .unwrap();
    assert_eq!(
        (
            count_rows(&dir, "submissions"),
            count_rows(&dir, "followups")
        ),
        (1, 0)
    );
    forms
        .delete_expired(today + time::Duration::days(31 * 25))
        .unwrap();
    assert_eq!(count_rows(&dir, "submissions"), 0);
    assert_eq!(count_rows(&dir, "answers"), 0);
}
