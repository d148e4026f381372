//! The admin page in Chromium: sign in, add a staff member (temporary password shown once),
//! that person's first login and password change, disabling an advocate whose console is open,
//! and the audit log.

use crate::harness::{chromium_available, Chrome, Key};

use crate::{common, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_and_disables_staff_and_reads_the_audit_log() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    app.add_staff("ada", "Admin Ada", haven::Role::Admin, PASSWORD);
    app.add_staff("sam", "Advocate Sam", haven::Role::Advocate, PASSWORD);
    // Sam is on the console (over a real socket).
    let cookie = app.login("sam", PASSWORD).await;
    let mut sam = app.console(&cookie).await;
    common::next_of_type(&mut sam, "welcome").await;

    let chrome = Chrome::launch().await;
    let ada = chrome.new_context().await;
    ada.goto(&app.url("/admin")).await;
    ada.type_into("#username", "ada").await;
    ada.type_into("#password", PASSWORD).await;
    ada.press(Key::Enter).await;
    ada.wait_visible("#admin-view").await;
    ada.wait_text("[data-username=sam] [data-testid=state]", "Online")
        .await;

    // Add Kim: a temporary password is shown once.
    ada.type_into("#add-username", "kim").await;
    ada.type_into("#add-display", "Advocate Kim").await;
    ada.click("[data-testid=add]").await;
    ada.wait_visible("[data-testid=temporary-password]").await;
    let temporary = ada.text("[data-testid=temporary-password]").await;
    assert_eq!(temporary.len(), 23, "{temporary}");
    ada.wait_visible("[data-username=kim]").await;

    // Kim's first login asks for a new password.
    let kim = chrome.new_context().await;
    kim.goto(&app.url("/admin")).await;
    kim.type_into("#username", "kim").await;
    kim.type_into("#password", &temporary).await;
    kim.press(Key::Enter).await;
    kim.wait_visible("#password-view").await;
    kim.type_into("#current-password", &temporary).await;
    kim.type_into("#new-password", "password1234").await;
    kim.click("[data-testid=save-password]").await;
    kim.wait_text("#password-error", "common").await;
    kim.type_into("#new-password", "kim picks a long passphrase")
        .await;
    kim.click("[data-testid=save-password]").await;
    // An advocate has no admin pages: a clear page, not a loop.
    kim.wait_visible("#forbidden-view").await;

    // Disable Sam (two clicks): Sam's console socket closes at once.
    ada.click("[data-username=sam] [data-testid=disable]").await;
    ada.click("[data-username=sam] [data-testid=disable]").await;
    ada.wait_text("[data-username=sam] [data-testid=state]", "Disabled")
        .await;
    let closed = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        loop {
            match futures_util::StreamExt::next(&mut sam).await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame))) => {
                    return frame.map(|f| u16::from(f.code))
                }
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("Sam's console closed within two seconds");
    assert_eq!(closed, Some(4001));

    // The audit log shows it, filtered.
    let chosen: bool = ada
        .eval("(document.getElementById('audit-action').value = 'staff_disabled') === 'staff_disabled'")
        .await;
    assert!(chosen);
    ada.click("[data-testid=audit-filter]").await;
    ada.wait(
        "(() => { const rows = [...document.querySelectorAll('[data-testid=audit-row]')]; \
           return rows.length > 0 && rows.every(r => r.textContent.includes('staff_disabled')); })()",
        "only staff_disabled rows",
    )
    .await;
    let rows = ada.texts("[data-testid=audit-row]").await;
    assert!(
        rows.iter().all(|r| r.contains("staff_disabled")),
        "{rows:?}"
    );
    assert!(
        rows[0].contains("ada") && rows[0].contains("sam"),
        "{rows:?}"
    );
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_requires_two_step_sign_in_and_an_advocate_sets_it_up() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    app.add_staff("ada", "Admin Ada", haven::Role::Admin, PASSWORD);
    app.add_staff("kai", "Advocate Kai", haven::Role::Advocate, PASSWORD);
    let chrome = Chrome::launch().await;
    let ada = chrome.new_context().await;
    ada.goto(&app.url("/admin")).await;
    ada.type_into("#username", "ada").await;
    ada.type_into("#password", PASSWORD).await;
    ada.press(Key::Enter).await;
    ada.wait_visible("#admin-view").await;
    ada.click("[data-testid=require-advocate]").await;
    ada.click("[data-testid=save-security]").await;
    ada.wait_text("#status", "Saved").await;

    // Kai signs in at the console: it sends them to set up the second factor, then back.
    let kai = chrome.new_context().await;
    kai.goto(&app.url("/console")).await;
    kai.type_into("#username", "kai").await;
    kai.type_into("#password", PASSWORD).await;
    kai.press(Key::Enter).await;
    kai.wait_visible("#enrol-view").await;
    assert!(kai.visible("[data-testid=enrol-required]").await);
    let loaded: bool = kai
        .eval("document.getElementById('enrol-qr').naturalWidth > 0")
        .await;
    assert!(loaded, "the QR code image is drawn");
    let secret = kai.text("[data-testid=enrol-secret]").await;
    let bytes = totp_rs::Secret::Encoded(secret.trim().to_string())
        .to_bytes()
        .unwrap();
    let code = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes)
        .unwrap()
        .generate_current()
        .unwrap();
    kai.type_into("#enrol-code", &code).await;
    kai.click("[data-testid=enrol-confirm]").await;
    kai.wait_visible("#recovery-view").await;
    assert_eq!(kai.count("#recovery-codes li").await, 10);
    let recovery = kai.text("#recovery-codes li").await;
    kai.click("[data-testid=recovery-done]").await;
    kai.wait_visible("#app-view").await;
    assert!(
        kai.eval::<String>("location.pathname")
            .await
            .starts_with("/console"),
        "set up, the advocate is back at the console"
    );

    // The next sign-in at the console asks for a code after the password.
    kai.click("[data-testid=logout]").await;
    kai.wait_visible("#login-view").await;
    kai.type_into("#username", "kai").await;
    kai.type_into("#password", PASSWORD).await;
    kai.press(Key::Enter).await;
    kai.wait_visible("#code-row").await;
    kai.type_into("#code", "000000").await;
    kai.press(Key::Enter).await;
    kai.wait_text("#login-error", "code").await;
    assert!(kai.visible("#code-row").await, "the code field stays");
    kai.type_into("#code", recovery.trim()).await;
    kai.press(Key::Enter).await;
    kai.wait_visible("#app-view").await;

    // An advocate who opens the admin page directly is told it is for admins.
    kai.goto(&app.url("/admin")).await;
    kai.wait_visible("#forbidden-view").await;
    chrome.close().await;
}

/// A page on another origin (same site: another port of 127.0.0.1, so Chromium even sends the
/// SameSite=Strict cookie) posts a form to Haven's logout: refused, and the advocate stays
/// logged in with their cookie.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_form_cannot_log_an_advocate_out() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    crate::add_advocate(&app, "sam");
    let chrome = Chrome::launch().await;
    let sam = crate::console_login(&chrome, &app, "sam").await;
    let attack = format!(
        "<!doctype html><html lang=\"en\"><head><title>Win a prize</title></head><body>\
         <form method=\"post\" action=\"{}\"><input name=\"x\" value=\"1\"></form>\
         <script>document.forms[0].submit()</script></body></html>",
        app.url("/api/staff/logout")
    );
    let evil = crate::harness::SidePages::start(vec![("/", attack)]).await;
    sam.goto(&evil.url("/")).await;
    sam.wait_url(&app.url("/api/staff/logout")).await;
    sam.wait_text("body", "cross_site_request").await;
    // Still logged in, cookie and server session alike.
    sam.goto(&app.url("/api/staff/me")).await;
    sam.wait_text("body", "\"username\":\"sam\"").await;
    chrome.close().await;
}

/// An admin rewrites an English canned response in /admin; an advocate whose console is open
/// in a chat offers the new text at once, without reloading.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_edits_a_canned_response_and_an_open_console_offers_it() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    app.add_staff("ada", "Admin Ada", haven::Role::Admin, PASSWORD);
    crate::add_advocate(&app, "sam");
    let chrome = Chrome::launch().await;
    let sam = crate::console_login(&chrome, &app, "sam").await;
    crate::go_available(&sam).await;
    let mut chatter = app.chatter().await;
    common::send(
        &mut chatter,
        serde_json::json!({"type": "hello", "language": "en"}),
    )
    .await;
    common::next_of_type(&mut chatter, "welcome").await;
    crate::claim_first(&sam).await;

    let ada = chrome.new_context().await;
    ada.goto(&app.url("/admin")).await;
    ada.type_into("#username", "ada").await;
    ada.type_into("#password", PASSWORD).await;
    ada.press(Key::Enter).await;
    ada.wait_visible("#admin-view").await;
    let first_text =
        "[data-testid=canned-group-en] [data-testid=canned-item]:first-child [data-testid=canned-text]";
    ada.wait_visible(first_text).await;
    let cleared: bool = ada
        .eval(&format!(
            "(() => {{ const e = document.querySelector({}); e.value = ''; return e.value === ''; }})()",
            crate::harness::js_str(first_text)
        ))
        .await;
    assert!(cleared);
    let new_text = "Take your time. I am here whenever you are ready to write.";
    ada.type_into(first_text, new_text).await;
    ada.click("[data-testid=save-canned]").await;
    ada.wait_text("#status", "Saved canned responses").await;
    ada.wait_text("[data-history=canned] summary", "Versions (1)")
        .await;

    // Sam's open console offers it through the "/" shortcut.
    let composer = format!("{} [data-testid=composer]", crate::ACTIVE);
    sam.type_into(&composer, "/ready to write").await;
    let list = format!("{} [data-testid=canned-list]", crate::ACTIVE);
    sam.wait_visible(&list).await;
    sam.wait_text(&list, new_text).await;

    // A refused edit names the field and keeps what is in force.
    let first_title =
        "[data-testid=canned-group-en] [data-testid=canned-item]:first-child [data-testid=canned-title]";
    let emptied: bool = ada
        .eval(&format!(
            "(() => {{ const e = document.querySelector({}); e.value = ' '; return true; }})()",
            crate::harness::js_str(first_title)
        ))
        .await;
    assert!(emptied);
    ada.click("[data-testid=save-canned]").await;
    ada.wait_text(
        "#canned-form [data-testid=settings-error]",
        "canned[0].title",
    )
    .await;
    let marked: bool = ada
        .eval(&format!(
            "document.querySelector({}).getAttribute('aria-invalid') === 'true'",
            crate::harness::js_str(first_title)
        ))
        .await;
    assert!(marked, "the refused field is marked");

    // On a 320 px phone the settings fit the width, and axe finds nothing serious.
    ada.set_viewport(320, 640).await;
    let fits: bool = ada
        .eval("(() => { const s = document.getElementById('settings'); return s.scrollWidth <= s.clientWidth && document.documentElement.scrollWidth <= 320; })()")
        .await;
    assert!(fits, "the settings fit in 320 px");
    let serious = ada.axe_serious("admin settings").await;
    assert!(serious.is_empty(), "{serious:#?}");
    chrome.close().await;
}
