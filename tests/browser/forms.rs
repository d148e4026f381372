//! The voluntary forms on the chatter page (web/chat/forms.js): the intake form before a chat
//! reaches the advocate's console, the exit survey after a normal end gives a deletion code,
//! /forget answers neutrally, Skip and Start chat never wait on a form, every screen passes
//! axe at 320 px, and the page with its forms stays within its weight budget.

use serde_json::{json, Value};

use crate::{
    add_advocate, available_advocate, claim_first, common, console_login, go_available,
    harness::{chromium_available, js_str, Chrome, Tab},
    ACTIVE,
};

/// What a chatter types as a nickname: it must reach the advocate holding the chat only.
const CANARY: &str = "Canary Nickname Zq7";

fn report(violations: &[String]) {
    assert!(
        violations.is_empty(),
        "accessibility violations:\n{}",
        violations.join("\n")
    );
}

/// Check the radio or checkbox of `question` with option `option` in the open form `form`.
async fn choose(tab: &Tab, form: &str, question: &str, option: &str) {
    let id = format!("f-{form}-{question}-{option}").replace(
        |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_',
        "_",
    );
    tab.click(&format!("#{id}")).await;
    let checked: bool = tab
        .eval(&format!("document.getElementById({}).checked", js_str(&id)))
        .await;
    assert!(checked, "{question} = {option} is chosen");
}

/// Open the chatter page in a fresh context and open the intake form.
async fn open_intake(chrome: &Chrome, app: &common::TestApp) -> Tab {
    let tab = chrome.new_context().await;
    tab.goto(&app.url("/chat")).await;
    tab.wait_visible("#start").await;
    tab.click(".f-offer").await;
    tab.wait_visible("#form-intake").await;
    let focused: String = tab.eval("document.activeElement.id").await;
    assert_eq!(focused, "f-intake", "focus moves to the form's heading");
    tab
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_reaches_the_advocate_and_the_survey_gives_a_deletion_code() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    add_advocate(&app, "sam");
    let chrome = Chrome::launch().await;
    let sam = console_login(&chrome, &app, "sam").await;
    go_available(&sam).await;

    let chatter = open_intake(&chrome, &app).await;
    // Every question optional, every choice question with "prefer not to say".
    let required: usize = chatter.count("#form-intake [required]").await;
    assert_eq!(required, 0, "no question is required");
    let fieldsets = chatter.count("#form-intake fieldset").await;
    let prefer = chatter
        .count("#form-intake fieldset input[value=prefer_not_to_say]")
        .await;
    assert!(fieldsets >= 2, "choice questions are fieldsets");
    assert_eq!(
        prefer, fieldsets,
        "each choice question offers prefer not to say"
    );
    // Skip is as prominent as Submit: same size, same style.
    let same: bool = chatter
        .eval("(() => { const s = document.querySelector('#form-intake [type=submit]'), k = document.querySelector('#form-intake .f-skip'); const a = s.getBoundingClientRect(), b = k.getBoundingClientRect(); return s.className === 'btn' && k.className === 'btn f-skip' && Math.abs(a.width - b.width) < 2 && Math.abs(a.height - b.height) < 2; })()")
        .await;
    assert!(same, "Skip and Submit look alike");

    chatter.type_into("#f-intake-name", CANARY).await;
    choose(&chatter, "intake", "gender", "woman").await;
    choose(&chatter, "intake", "age_range", "25-34").await;
    choose(&chatter, "intake", "heard_from", "friend").await;
    chatter.type_into("#f-intake-zip", "06103").await;
    chatter.click("#form-intake [type=submit]").await;
    // Submit goes on to the chat.
    chatter.wait_visible("#queue-info").await;

    // The intake form's deletion code shows in the chat once Haven has the answers.
    chatter.wait_visible("#form-receipt .f-code").await;
    let intake_code = chatter.text("#form-receipt .f-code").await;
    assert!(intake_code.len() >= 16, "a deletion code: {intake_code}");
    let note = chatter.text("#form-receipt").await;
    assert!(note.contains("Keep this code"), "why to keep it: {note}");
    let privacy: usize = chatter.count("#form-receipt a[href='/privacy']").await;
    assert_eq!(privacy, 1, "a link to the privacy page");

    // The queue list every console sees never carries the nickname.
    sam.wait_visible("[data-testid=queue-entry]").await;
    let queue_text = sam.text("[data-testid=queue-list]").await;
    assert!(
        !queue_text.contains(CANARY),
        "no nickname in the queue: {queue_text}"
    );
    claim_first(&sam).await;
    // The advocate holding the chat sees the answers, as the chatter read them.
    sam.wait_text(&format!("{ACTIVE} [data-testid=chat-intake]"), CANARY)
        .await;
    let intake = sam
        .text(&format!("{ACTIVE} [data-testid=chat-intake]"))
        .await;
    assert!(intake.contains("Woman"), "gender label shown: {intake}");
    assert!(intake.contains("25–34"), "age range label shown: {intake}");

    // The advocate ends the chat: the survey is offered on the ended screen.
    sam.js_click(&format!("{ACTIVE} [data-testid=end-button]"))
        .await;
    sam.click("#end-confirm").await;
    chatter.wait_visible("#screen-ended").await;
    chatter.wait_visible("#form-survey").await;
    let focused: String = chatter.eval("document.activeElement.id").await;
    assert_eq!(
        focused, "ended-title",
        "the end is announced first, the survey does not steal focus"
    );
    let scale = chatter
        .count("#form-survey .f-scale input[type=radio]")
        .await;
    assert_eq!(scale, 6, "a 1–5 scale plus prefer not to say");

    // A bad email is explained next to its field, and nothing is sent.
    choose(&chatter, "survey", "got_needed", "yes").await;
    choose(&chatter, "survey", "recommend", "5").await;
    chatter
        .type_into("#f-survey-followup_email", "not-an-email")
        .await;
    chatter.click("#form-survey [type=submit]").await;
    chatter
        .wait_text("[data-q=followup_email] .f-err", "email")
        .await;
    let invalid: String = chatter
        .eval("document.getElementById('f-survey-followup_email').getAttribute('aria-invalid')")
        .await;
    assert_eq!(invalid, "true");
    let alert = chatter.text("#form-survey .f-alert").await;
    assert!(alert.contains("email"), "the error is announced: {alert}");
    let _: bool = chatter
        .eval("(() => { const i = document.getElementById('f-survey-followup_email'); i.value = ''; return true; })()")
        .await;
    chatter.click("#form-survey [type=submit]").await;
    chatter.wait_visible("#ended-form .f-code").await;
    let survey_code = chatter.text("#ended-form .f-code").await;
    assert_ne!(
        survey_code, intake_code,
        "two separate submissions, two codes"
    );
    let copy: usize = chatter.count("#ended-form .f-receipt button").await;
    assert_eq!(copy, 1, "a Copy button");

    // The chatter erases the survey answers on /forget: the page answers neutrally, and
    // the same code again gets the very same answer.
    let forget = chrome.new_context().await;
    forget.goto(&app.url("/forget")).await;
    forget.wait_visible("#code").await;
    forget.type_into("#code", &survey_code).await;
    forget.click("#forget-submit").await;
    forget.wait_visible("#answer").await;
    let first = forget.text("#answer").await;
    let value: String = forget.eval("document.getElementById('code').value").await;
    assert_eq!(value, "", "the code leaves the screen");
    forget.type_into("#code", &survey_code).await;
    forget.click("#forget-submit").await;
    forget.type_into("#code", "WXYZ-WXYZ-WXYZ-WXYZ").await;
    forget.click("#forget-submit").await;
    let second = forget.text("#answer").await;
    assert_eq!(
        first, second,
        "no oracle: used and wrong codes get the same answer"
    );
    let storage: Value = forget
        .eval("({ cookie: document.cookie, local: localStorage.length, session: sessionStorage.length })")
        .await;
    assert_eq!(storage, json!({"cookie": "", "local": 0, "session": 0}));
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_and_start_never_wait_on_the_form() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    let mut advocate = available_advocate(&app, "ada").await;
    let chrome = Chrome::launch().await;

    // Start chat stays one tap: no form in the way.
    let direct = chrome.new_context().await;
    direct.goto(&app.url("/chat")).await;
    direct.wait_visible(".f-offer").await;
    direct.click("#start").await;
    direct.wait_visible("#queue-info").await;
    let queue = common::next_of_type(&mut advocate, "queue").await;
    let mut entries = queue["entries"].as_array().cloned().unwrap_or_default();
    while entries.is_empty() {
        entries = common::next_of_type(&mut advocate, "queue").await["entries"]
            .as_array()
            .cloned()
            .unwrap_or_default();
    }
    assert!(
        entries[0]["intake"].is_null(),
        "no intake without the form: {entries:?}"
    );

    // Opening the form, answering, then Skip: the chat starts and nothing is sent.
    let skipper = open_intake(&chrome, &app).await;
    choose(&skipper, "intake", "gender", "man").await;
    skipper.click("#form-intake .f-skip").await;
    skipper.wait_visible("#queue-info").await;
    loop {
        let queue = common::next_of_type(&mut advocate, "queue").await;
        let entries = queue["entries"].as_array().cloned().unwrap_or_default();
        if entries.len() == 2 {
            assert!(
                entries.iter().all(|e| e["intake"].is_null()),
                "Skip sends nothing: {entries:?}"
            );
            break;
        }
    }
    let receipts = skipper.count("#form-receipt .f-receipt").await;
    assert_eq!(receipts, 0, "nothing submitted, no receipt");

    // A zip code that is not one is explained before the chat starts.
    let typo = open_intake(&chrome, &app).await;
    typo.type_into("#f-intake-zip", "12").await;
    typo.click("#form-intake [type=submit]").await;
    typo.wait_text("[data-q=zip] .f-err", "zip").await;
    let focused: String = typo.eval("document.activeElement.id").await;
    assert_eq!(focused, "f-intake-zip", "focus goes to the field to fix");
    assert!(
        typo.visible("#screen-start").await,
        "the chat did not start"
    );
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_and_forget_have_no_serious_accessibility_violations_at_320_px() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    let mut advocate = available_advocate(&app, "ada").await;
    let chrome = Chrome::launch().await;
    let mut found = Vec::new();

    let tab = chrome.new_context().await;
    tab.set_viewport(320, 640).await;
    tab.goto(&app.url("/chat")).await;
    tab.wait_visible("#start").await;
    tab.click(".f-offer").await;
    tab.wait_visible("#form-intake").await;
    let overflow: bool = tab.eval("document.documentElement.scrollWidth > 320").await;
    assert!(!overflow, "the intake form fits 320 px");
    found.extend(tab.axe_serious("intake form 320px").await);
    // The form follows the language switch, keeping what was chosen.
    choose(&tab, "intake", "gender", "woman").await;
    let _: bool = tab
        .eval("(() => { const s = document.getElementById('language'); s.value = 'es'; s.dispatchEvent(new Event('change')); return true; })()")
        .await;
    tab.wait_text("#form-intake .f-skip", "Saltar").await;
    let kept: bool = tab
        .eval("document.getElementById('f-intake-gender-woman').checked")
        .await;
    assert!(kept, "the answer survives the language switch");
    found.extend(tab.axe_serious("intake form es").await);
    tab.click("#form-intake [type=submit]").await;
    tab.wait_visible("#form-receipt .f-code").await;
    found.extend(tab.axe_serious("intake receipt in chat").await);

    // The chatter ends the chat: the survey.
    let assigned = loop {
        let queue = common::next_of_type(&mut advocate, "queue").await;
        if let Some(entry) = queue["entries"].as_array().and_then(|e| e.first()) {
            break entry["chat_id"].clone();
        }
    };
    common::send(&mut advocate, json!({"type": "claim", "chat_id": assigned})).await;
    common::next_of_type(&mut advocate, "assigned").await;
    tab.click("#end-chat").await;
    tab.click("#confirm-end-yes").await;
    tab.wait_visible("#form-survey").await;
    let overflow: bool = tab.eval("document.documentElement.scrollWidth > 320").await;
    assert!(!overflow, "the survey fits 320 px");
    found.extend(tab.axe_serious("survey 320px").await);
    tab.click("#form-survey .f-skip").await;
    tab.wait_hidden("#form-survey").await;
    let focused: String = tab.eval("document.activeElement.id").await;
    assert_eq!(
        focused, "new-chat",
        "after Skip, focus goes to Start a new chat"
    );

    let forget = chrome.new_context().await;
    forget.set_viewport(320, 640).await;
    forget.goto(&app.url("/forget")).await;
    forget.wait_visible("#code").await;
    found.extend(forget.axe_serious("forget 320px").await);
    forget.click("#forget-submit").await;
    forget.wait_visible("#answer").await;
    found.extend(forget.axe_serious("forget, empty code").await);
    report(&found);
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chatter_page_with_its_forms_stays_under_60_kb() {
    let app = common::spawn_app().await;
    let client = reqwest::Client::new();
    let mut total = 0;
    let mut forms = 0;
    // HTML, scripts, styles and the largest language file (Spanish), as served.
    for path in [
        "/chat",
        "/chat/chat.js",
        "/chat/proof.js",
        "/shared/socket.js",
        "/chat/chat.css",
        "/chat/forms.js",
        "/chat/forms.css",
        "/chat/i18n/es.json",
    ] {
        let response = client
            .get(app.url(path))
            .header("accept-encoding", "identity")
            .send()
            .await
            .expect("page file");
        assert_eq!(response.status(), 200, "{path}");
        let bytes = response.bytes().await.expect("body").len();
        if path.contains("forms.") {
            forms += bytes;
        }
        total += bytes;
    }
    // The forms' own answer to /api/public/forms is fetched only when offered.
    println!("chatter page with forms: {total} bytes (forms.js + forms.css: {forms})");
    assert!(
        forms < 10 * 1024,
        "forms.js + forms.css under 10 KB: {forms}"
    );
    assert!(total < 60 * 1024, "chatter page under 60 KB: {total}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_under_13_gets_a_neutral_thank_you_and_no_code() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    let mut advocate = available_advocate(&app, "ada").await;
    let chrome = Chrome::launch().await;
    let child = open_intake(&chrome, &app).await;
    choose(&child, "intake", "age_range", "under_13").await;
    child.click("#form-intake [type=submit]").await;
    child.wait_visible("#queue-info").await;
    child.wait_visible("#form-receipt .f-receipt").await;
    let receipt = child.text("#form-receipt").await;
    assert!(
        receipt.contains("Thank you"),
        "a neutral thank-you: {receipt}"
    );
    assert_eq!(
        child.count("#form-receipt .f-code").await,
        0,
        "no deletion code: nothing was kept"
    );
    // The advocate still sees the answer during the chat.
    loop {
        let queue = common::next_of_type(&mut advocate, "queue").await;
        if let Some(entry) = queue["entries"].as_array().and_then(|e| e.first()) {
            assert_eq!(entry["intake"]["age_range"], "Under 13", "{entry}");
            break;
        }
    }
    chrome.close().await;
}
