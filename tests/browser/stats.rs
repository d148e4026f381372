//! The evaluator's pages: /stats shows the counts move as chatters answer the exit survey and
//! go back when one uses /forget; the CSV download holds what is shown; the page works at
//! 320 px and prints; roles are enforced with Logout on every view; /followups lists and erases
//! follow-up emails for the configured role.

use chromiumoxide::cdp::browser_protocol::emulation::SetEmulatedMediaParams;
use serde_json::{json, Value};

use crate::{
    available_advocate, common,
    harness::{chromium_available, js_str, Chrome, Tab},
    PASSWORD,
};

/// Haven with small counts visible (the smallest threshold allowed) and counters written at
/// once, so a test's handful of chats shows.
async fn spawn_stats_app() -> common::TestApp {
    common::spawn_app_with(|config| {
        config.stats.suppress_below = 5;
        config.stats.flush_secs = 1;
    })
    .await
}

/// Sign in at /stats (or another staff page at `path`) in a fresh browser context.
async fn staff_login(chrome: &Chrome, app: &common::TestApp, path: &str, username: &str) -> Tab {
    let tab = chrome.new_context().await;
    tab.goto(&app.url(path)).await;
    tab.wait_visible("#login-form").await;
    tab.type_into("#username", username).await;
    tab.type_into("#password", PASSWORD).await;
    tab.click("#login-submit").await;
    tab.wait_visible("#me-bar").await;
    tab
}

/// A whole chat on raw sockets: hello, claimed and ended by `advocate`. Returns the chatter's
/// resume token, which the exit survey needs.
async fn finished_chat(app: &common::TestApp, advocate: &mut common::Ws) -> String {
    let mut chatter = app.chatter().await;
    common::send(&mut chatter, json!({"type": "hello", "v": 1})).await;
    let token = common::next_of_type(&mut chatter, "welcome").await["token"]
        .as_str()
        .expect("token")
        .to_string();
    let chat_id = claim_waiting(advocate).await;
    common::send(advocate, json!({"type": "end", "chat_id": chat_id})).await;
    common::next_of_type(&mut chatter, "ended").await;
    token
}

/// Claim the chatter waiting in the queue; returns the chat id once assigned.
async fn claim_waiting(advocate: &mut common::Ws) -> Value {
    let chat_id = loop {
        let queue = common::next_of_type(advocate, "queue").await;
        if let Some(entry) = queue["entries"].as_array().and_then(|e| e.first()) {
            break entry["chat_id"].clone();
        }
    };
    common::send(advocate, json!({"type": "claim", "chat_id": chat_id})).await;
    loop {
        let assigned = common::next_of_type(advocate, "assigned").await;
        if assigned["chat_id"] == chat_id {
            return chat_id;
        }
    }
}

async fn post_survey(app: &common::TestApp, token: &str, answers: Value) -> Value {
    let response = reqwest::Client::new()
        .post(app.url("/api/forms/survey"))
        .header("origin", format!("http://{}", app.addr))
        .json(&json!({"token": token, "version": 1, "answers": answers}))
        .send()
        .await
        .expect("survey request");
    assert_eq!(response.status(), 201, "survey stored");
    response.json().await.expect("JSON")
}

/// The count the page shows for `option` (its label) in the table of question `question`.
async fn shown_count(tab: &Tab, question: &str, option: &str) -> String {
    tab.eval(&format!(
        "(() => {{ const q = document.querySelector('[data-question=\"' + {} + '\"] table'); if (!q) return ''; \
           const row = [...q.querySelectorAll('tbody tr')].find(r => r.querySelector('th').textContent === {}); \
           return row ? row.querySelectorAll('td')[0].textContent : ''; }})()",
        js_str(question),
        js_str(option)
    ))
    .await
}

/// Press Show until the table of `question` shows `expected` for `option` (counters are
/// written to disk every second).
async fn wait_count(tab: &Tab, question: &str, option: &str, expected: &str) {
    for _ in 0..40 {
        tab.click("#show").await;
        tab.wait(
            "document.getElementById('stats-status').textContent.startsWith('Showing')",
            "the report",
        )
        .await;
        if shown_count(tab, question, option).await == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!(
        "{question} / {option} never showed {expected}; it shows {:?}",
        shown_count(tab, question, option).await
    );
}

/// Pick the exit survey in the filters, once Haven's options have filled them.
async fn choose_survey(tab: &Tab) {
    tab.wait(
        "document.querySelector('#form option[value=survey]')",
        "the forms in the filters",
    )
    .await;
    tab.eval::<bool>("(() => { const f = document.getElementById('form'); f.value = 'survey'; f.dispatchEvent(new Event('change')); return true; })()")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluator_sees_counts_move_downloads_the_csv_and_forget_takes_one_back() {
    if !chromium_available() {
        return;
    }
    let app = spawn_stats_app().await;
    app.add_staff("eve", "Evaluator Eve", haven::Role::Evaluator, PASSWORD);
    let mut advocate = available_advocate(&app, "ada").await;
    for _ in 0..5 {
        let token = finished_chat(&app, &mut advocate).await;
        post_survey(&app, &token, json!({"got_needed": "yes", "recommend": "4"})).await;
    }

    let chrome = Chrome::launch().await;
    let eve = staff_login(&chrome, &app, "/stats", "eve").await;
    eve.wait_visible("#filters").await;
    choose_survey(&eve).await;
    wait_count(&eve, "got_needed", "Yes", "5").await;
    let note = eve.text("[data-testid=suppression-note]").await;
    assert!(
        note.contains("<5"),
        "the legend explains the marker: {note}"
    );

    // A chatter in the browser: a chat, then the exit survey, then the deletion code.
    let chatter = chrome.new_context().await;
    chatter.goto(&app.url("/chat")).await;
    chatter.click("#start").await;
    chatter.wait_visible("#queue-info").await;
    let chat_id = claim_waiting(&mut advocate).await;
    common::send(&mut advocate, json!({"type": "end", "chat_id": chat_id})).await;
    chatter.wait_visible("#form-survey").await;
    chatter.click("#f-survey-got_needed-yes").await;
    chatter.click("#form-survey [type=submit]").await;
    chatter.wait_visible("#ended-form .f-code").await;
    let code = chatter.text("#ended-form .f-code").await;

    wait_count(&eve, "got_needed", "Yes", "6").await;
    // The operational counts show too: six chats answered.
    let totals = eve.text("[data-testid=totals]").await;
    assert!(
        totals.contains("Answered by an advocate6"),
        "answered chats counted: {totals}"
    );

    // The CSV download is what is shown: fetched by the page with its session, parsed here.
    let csv_text: String = eve
        .eval("fetch(document.getElementById('download-csv').href).then(r => r.text())")
        .await;
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().expect("CSV header").clone();
    assert_eq!(&headers[0], "section");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("CSV row")).collect();
    let find = |item: &str, option: &str| {
        rows.iter()
            .find(|r| &r[0] == "question" && r[3].ends_with(item) && &r[4] == option)
            .map(|r| r[5].to_string())
    };
    assert_eq!(
        find(":got_needed", "yes").as_deref(),
        Some("6"),
        "CSV: {csv_text}"
    );
    assert!(
        rows.iter()
            .any(|r| &r[0] == "meta" && &r[3] == "suppression_threshold" && &r[5] == "5"),
        "the CSV names its threshold"
    );
    let json_link: String = eve
        .eval("document.getElementById('download-json').getAttribute('href')")
        .await;
    assert!(json_link.starts_with("/api/stats?"), "{json_link}");

    // The chatter erases their answers: the count goes back.
    let forget = chrome.new_context().await;
    forget.goto(&app.url("/forget")).await;
    forget.type_into("#code", &code).await;
    forget.click("#forget-submit").await;
    forget.wait_visible("#answer").await;
    wait_count(&eve, "got_needed", "Yes", "5").await;

    // The funder preset for the fiscal year: contacts and both forms.
    eve.click("#funder").await;
    eve.wait_text("#report-title", "Funder report").await;
    let sections = eve.count(".report [data-form]").await;
    assert_eq!(sections, 2, "intake and survey in the funder report");
    let csv_href: String = eve
        .eval("document.getElementById('download-csv').getAttribute('href')")
        .await;
    assert!(
        csv_href.starts_with("/api/stats/funder.csv?fiscal_year="),
        "{csv_href}"
    );

    // Logout is on the page and ends the session.
    eve.click("#logout").await;
    eve.wait_visible("#login-form").await;
    let report = eve.count(".report").await;
    assert_eq!(report, 0, "nothing of the report stays after logout");
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_works_at_320_px_prints_and_passes_axe() {
    if !chromium_available() {
        return;
    }
    let app = spawn_stats_app().await;
    app.add_staff("eve", "Evaluator Eve", haven::Role::Evaluator, PASSWORD);
    let mut advocate = available_advocate(&app, "ada").await;
    for _ in 0..2 {
        let token = finished_chat(&app, &mut advocate).await;
        post_survey(&app, &token, json!({"got_needed": "partly"})).await;
    }
    let chrome = Chrome::launch().await;
    let mut found = Vec::new();

    let tab = chrome.new_context().await;
    tab.set_viewport(320, 700).await;
    tab.goto(&app.url("/stats")).await;
    tab.wait_visible("#login-form").await;
    found.extend(tab.axe_serious("stats login 320px").await);
    tab.type_into("#username", "eve").await;
    tab.type_into("#password", "wrong password").await;
    tab.click("#login-submit").await;
    tab.wait_visible("#login-error").await;
    found.extend(tab.axe_serious("stats login error").await);
    let _: bool = tab
        .eval("(() => { document.getElementById('password').value = ''; return true; })()")
        .await;
    tab.type_into("#password", PASSWORD).await;
    tab.click("#login-submit").await;
    tab.wait_visible("#filters").await;
    choose_survey(&tab).await;
    // Small counts are shown as the API gives them, never as numbers.
    wait_count(&tab, "got_needed", "Partly", "<5").await;
    tab.wait(
        "document.querySelectorAll('.report .fig svg').length > 1",
        "charts",
    )
    .await;
    let overflow: bool = tab.eval("document.documentElement.scrollWidth > 320").await;
    assert!(!overflow, "no sideways scrolling at 320 px");
    found.extend(tab.axe_serious("stats report 320px").await);

    // Fiscal-year and quarter periods are whole buckets on the fiscal calendar.
    let _: bool = tab
        .eval("(() => { const k = document.getElementById('period-kind'); k.value = 'fiscal_year'; k.dispatchEvent(new Event('change')); return true; })()")
        .await;
    let fy: String = tab.eval("document.getElementById('period').value").await;
    assert!(
        fy.ends_with("-10"),
        "fiscal years start in October by default: {fy}"
    );
    tab.click("#show").await;
    tab.wait_text("#report-title", "FY").await;

    // Print: the report alone, with its tables; and a PDF comes out.
    tab.set_viewport(1000, 800).await;
    tab.page
        .execute(SetEmulatedMediaParams::builder().media("print").build())
        .await
        .expect("print media");
    let printed: Value = tab
        .eval("({ filters: getComputedStyle(document.getElementById('filters')).display, header: getComputedStyle(document.querySelector('.top')).display, tables: document.querySelectorAll('.report table').length, visible: document.querySelector('.report').getClientRects().length > 0 })")
        .await;
    assert_eq!(printed["filters"], "none", "{printed}");
    assert_eq!(printed["header"], "none", "{printed}");
    assert_eq!(printed["visible"], true, "{printed}");
    assert!(printed["tables"].as_u64().unwrap_or(0) >= 3, "{printed}");
    let pdf = tab
        .page
        .pdf(Default::default())
        .await
        .expect("the report prints to PDF");
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    report_violations(&found);
    chrome.close().await;
}

fn report_violations(found: &[String]) {
    assert!(
        found.is_empty(),
        "accessibility violations:\n{}",
        found.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advocates_get_no_statistics_and_keep_a_logout_button() {
    if !chromium_available() {
        return;
    }
    let app = spawn_stats_app().await;
    crate::add_advocate(&app, "sam");
    let chrome = Chrome::launch().await;
    let tab = staff_login(&chrome, &app, "/stats", "sam").await;
    tab.wait_visible("#denied-view").await;
    assert!(
        !tab.visible("#app-view").await,
        "no statistics for an advocate"
    );
    assert!(tab.visible("#logout").await, "Logout on the denied view");
    let mut found = tab.axe_serious("stats denied").await;
    tab.click("#logout").await;
    tab.wait_visible("#login-form").await;
    found.extend(tab.axe_serious("stats after logout").await);
    report_violations(&found);
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followup_role_lists_emails_and_done_erases_them() {
    if !chromium_available() {
        return;
    }
    let app = spawn_stats_app().await;
    app.add_staff("sue", "Supervisor Sue", haven::Role::Supervisor, PASSWORD);
    app.add_staff("eve", "Evaluator Eve", haven::Role::Evaluator, PASSWORD);
    let mut advocate = available_advocate(&app, "ada").await;
    let token = finished_chat(&app, &mut advocate).await;
    post_survey(
        &app,
        &token,
        json!({"got_needed": "no", "followup_email": "followme@example.org"}),
    )
    .await;

    let chrome = Chrome::launch().await;
    let eve = staff_login(&chrome, &app, "/followups", "eve").await;
    eve.wait_visible("#denied-view").await;
    assert!(eve.visible("#logout").await, "Logout on the denied view");

    let sue = staff_login(&chrome, &app, "/followups", "sue").await;
    sue.wait_text("[data-testid=followups]", "followme@example.org")
        .await;
    let mut found = sue.axe_serious("followups").await;
    sue.click("[data-testid=followup] .done").await;
    sue.wait_text("#followups-status", "No follow-up requests")
        .await;
    found.extend(sue.axe_serious("followups empty").await);
    report_violations(&found);
    let left = reqwest::Client::new()
        .get(app.url("/api/followups"))
        .header("cookie", app.login("sue", PASSWORD).await)
        .send()
        .await
        .expect("followups")
        .json::<Value>()
        .await
        .expect("JSON");
    assert_eq!(left["followups"], json!([]), "done erases the email");
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluator_reads_free_text_one_page_at_a_time_when_the_program_keeps_it() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app_with(|config| {
        config.stats.suppress_below = 5;
        config.stats.flush_secs = 1;
        config.forms.store_free_text = true;
    })
    .await;
    app.add_staff("eve", "Evaluator Eve", haven::Role::Evaluator, PASSWORD);
    // Someone is on duty, so the chat starts (and gets its token).
    let _advocate = available_advocate(&app, "ada").await;
    let mut chatter = app.chatter().await;
    common::send(&mut chatter, json!({"type": "hello", "v": 1})).await;
    let token = common::next_of_type(&mut chatter, "welcome").await["token"]
        .as_str()
        .expect("token")
        .to_string();
    let response = reqwest::Client::new()
        .post(app.url("/api/forms/intake"))
        .header("origin", format!("http://{}", app.addr))
        .json(&json!({"token": token, "version": 1, "answers": {"city": "Hartford"}}))
        .send()
        .await
        .expect("intake request");
    assert_eq!(response.status(), 201, "intake stored");

    let chrome = Chrome::launch().await;
    let eve = staff_login(&chrome, &app, "/stats", "eve").await;
    eve.wait_visible("[data-question=city] .free-text button")
        .await;
    let mut found = eve.axe_serious("stats with free text").await;
    for _ in 0..40 {
        eve.click("[data-question=city] .free-text button").await;
        eve.wait("document.querySelector('[data-question=city] .free-text-panel [role=status]').textContent.length > 0", "the answers")
            .await;
        if eve.text("[data-question=city] .free-text-list").await == "Hartford" {
            break;
        }
        // Closed again, then reopened until the stored batch is on disk.
        eve.click("[data-question=city] .free-text button").await;
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(
        eve.text("[data-question=city] .free-text-list").await,
        "Hartford"
    );
    let status = eve
        .text("[data-question=city] .free-text-panel [role=status]")
        .await;
    assert!(status.contains("Page 1 of 1"), "{status}");
    found.extend(eve.axe_serious("free text open").await);
    report_violations(&found);
    // Never in the export.
    let csv_text: String = eve
        .eval("fetch(document.getElementById('download-csv').href).then(r => r.text())")
        .await;
    assert!(!csv_text.contains("Hartford"), "free text never exported");
    chrome.close().await;
}
