//! Staff login, sessions and logout over HTTP.

use haven::Role;
use serde_json::Value;

use crate::common::{spawn_app, spawn_app_with};
use crate::support::*;

#[tokio::test]
async fn login_sets_a_strict_http_only_session_cookie_and_me_answers() {
    let app = spawn_app().await;
    app.add_staff("login-avocet-70", "Advocate Sam", Role::Advocate, PASSWORD);
    let response = post_login(&app.url("/api/staff/login"), "login-avocet-70", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let cookie_header = response
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_string();
    let attributes: Vec<String> = cookie_header
        .split(';')
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    assert!(
        attributes[0].starts_with("haven_session="),
        "without secure_cookies the plain name: {cookie_header}"
    );
    assert!(
        attributes[0].len() > "haven_session=".len() + 20,
        "an unguessable session id: {cookie_header}"
    );
    assert!(
        attributes.contains(&"httponly".to_string()),
        "{cookie_header}"
    );
    assert!(
        attributes.contains(&"samesite=strict".to_string()),
        "{cookie_header}"
    );
    assert!(
        attributes.contains(&"path=/".to_string()),
        "{cookie_header}"
    );
    assert!(
        !attributes.contains(&"secure".to_string()),
        "no Secure over plain HTTP unless configured: {cookie_header}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["username"], "login-avocet-70");
    assert_eq!(body["display_name"], "Advocate Sam");
    assert_eq!(body["role"], "advocate");
    assert!(body["id"].is_string());
    let text = body.to_string();
    assert!(
        !text.contains(PASSWORD) && !text.contains("argon2"),
        "{text}"
    );

    let cookie = cookie_header.split(';').next().unwrap().to_string();
    let me: Value = me(&app, &cookie).await.json().await.unwrap();
    assert_eq!(me, body, "/api/staff/me answers what login answered");

    // Without a cookie: 401 not_logged_in.
    let response = http().get(app.url("/api/staff/me")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "not_logged_in");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn secure_cookies_use_the_host_prefix_and_the_secure_attribute() {
    let app = spawn_app_with(|c| c.auth.secure_cookies = true).await;
    app.add_staff("login-stilt-71", "Advocate Sam", Role::Advocate, PASSWORD);
    let response = post_login(&app.url("/api/staff/login"), "login-stilt-71", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("__Host-haven_session="))
        .unwrap_or_else(|| panic!("a __Host- session cookie: {cookies:?}"));
    for cookie in &cookies {
        let attributes: Vec<String> = cookie
            .split(';')
            .map(|a| a.trim().to_ascii_lowercase())
            .collect();
        assert!(attributes[0].starts_with("__host-"), "{cookie}");
        for wanted in ["secure", "httponly", "samesite=strict", "path=/"] {
            assert!(
                attributes.iter().any(|a| a == wanted),
                "{wanted} in {cookie}"
            );
        }
        assert!(
            !attributes.iter().any(|a| a.starts_with("domain")),
            "a __Host- cookie has no Domain: {cookie}"
        );
    }
    // The session works under its __Host- name, and not under the plain one.
    let value = session.split(';').next().unwrap();
    assert_eq!(me(&app, value).await.status(), 200);
    let plain = value.replacen("__Host-", "", 1);
    assert_eq!(me(&app, &plain).await.status(), 401);
}

#[tokio::test]
async fn a_login_gives_a_new_session_id_and_ends_the_one_the_browser_had() {
    let app = spawn_app().await;
    app.add_staff("login-ibis-90", "Advocate Sam", Role::Advocate, PASSWORD);
    let first = app.login("login-ibis-90", PASSWORD).await;
    let response = http()
        .post(app.url("/api/staff/login"))
        .header("origin", app.url(""))
        .header("cookie", &first)
        .json(&serde_json::json!({"username": "login-ibis-90", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let second = session_cookie(&response);
    assert_ne!(first, second, "a new session id at login");
    assert_eq!(me(&app, &first).await.status(), 401, "the old id is void");
    assert_eq!(me(&app, &second).await.status(), 200);
}

/// Starts Haven with a clock the test moves forward.
async fn spawn_app_with_clock() -> (crate::common::TestApp, haven::auth::Clock) {
    spawn_app_with_clock_and(|_| {}).await
}

async fn spawn_app_with_clock_and(
    tweak: impl FnOnce(&mut haven::Config),
) -> (crate::common::TestApp, haven::auth::Clock) {
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = crate::common::test_config(data_dir.path());
    tweak(&mut config);
    let clock = haven::auth::Clock::default();
    let app = haven::Application::build_with_clock(config, clock.clone())
        .await
        .unwrap();
    let port = app.port();
    let shutdown = app.shutdown_handle();
    let task = tokio::spawn(async move { app.run_until_stopped().await.unwrap() });
    let app = crate::common::TestApp {
        port,
        addr: format!("127.0.0.1:{port}"),
        data_dir,
        shutdown,
        task,
    };
    (app, clock)
}

#[tokio::test]
async fn an_idle_session_ends_after_the_idle_timeout_and_use_keeps_it_alive() {
    let (app, clock) = spawn_app_with_clock().await;
    let idle = haven::Config::embedded_defaults().auth.session_idle_minutes as i64 * 60;
    assert_eq!(idle, 30 * 60, "the documented default");
    app.add_staff("login-coot-91", "Advocate Sam", Role::Advocate, PASSWORD);
    let cookie = app.login("login-coot-91", PASSWORD).await;
    // Used every 25 minutes for two hours: still alive.
    for _ in 0..5 {
        clock.advance(25 * 60);
        assert_eq!(me(&app, &cookie).await.status(), 200);
    }
    clock.advance(idle + 1);
    let response = me(&app, &cookie).await;
    assert_eq!(response.status(), 401, "idle for longer than the timeout");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "not_logged_in");
}

#[tokio::test]
async fn a_session_used_all_day_ends_at_its_absolute_lifetime() {
    let (app, clock) = spawn_app_with_clock().await;
    let absolute = haven::Config::embedded_defaults()
        .auth
        .session_absolute_hours as i64
        * 3600;
    assert_eq!(absolute, 12 * 3600, "the documented default");
    app.add_staff("login-crake-92", "Advocate Sam", Role::Advocate, PASSWORD);
    let cookie = app.login("login-crake-92", PASSWORD).await;
    let step = 20 * 60;
    let mut elapsed = 0;
    while elapsed + step < absolute {
        clock.advance(step);
        elapsed += step;
        assert_eq!(
            me(&app, &cookie).await.status(),
            200,
            "alive after {elapsed} s of use"
        );
    }
    clock.advance(absolute - elapsed + 1);
    assert_eq!(
        me(&app, &cookie).await.status(),
        401,
        "over the absolute lifetime, however busy"
    );
    // A fresh login works again.
    let again = app.login("login-crake-92", PASSWORD).await;
    assert_eq!(me(&app, &again).await.status(), 200);
}

#[tokio::test]
async fn an_open_console_closes_when_its_session_reaches_its_lifetime() {
    let (app, clock) = spawn_app_with_clock_and(|c| c.auth.console_session_check_secs = 1).await;
    app.add_staff("login-grebe-93", "Advocate Sam", Role::Advocate, PASSWORD);
    let cookie = app.login("login-grebe-93", PASSWORD).await;
    let mut sam =
        crate::support::connect_staff(&app, "login-grebe-93", "Advocate Sam", &cookie).await;
    // An open console is use: it outlives the idle timeout while it is connected...
    let idle = haven::Config::embedded_defaults().auth.session_idle_minutes as i64 * 60;
    for _ in 0..3 {
        clock.advance(idle / 2);
        tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    }
    sam.client.still_works().await;
    // ...but not its absolute lifetime: the socket is told and closed with 4001.
    clock.advance(13 * 3600);
    sam.client.expect_error("session_expired").await;
    let ending = sam.client.ended(std::time::Duration::from_secs(5)).await;
    assert_eq!(ending.code(), Some(4001), "{ending:?}");
    assert_eq!(me(&app, &cookie).await.status(), 401);
}

#[tokio::test]
async fn state_changing_requests_from_another_origin_or_without_one_are_refused() {
    let app = spawn_app().await;
    app.add_staff("login-dunlin-93", "Advocate Sam", Role::Advocate, PASSWORD);
    let cookie = app.login("login-dunlin-93", PASSWORD).await;
    let logout_with = |headers: Vec<(&'static str, String)>| {
        let mut request = http()
            .post(app.url("/api/staff/logout"))
            .header("cookie", &cookie);
        for (k, v) in headers {
            request = request.header(k, v);
        }
        request.send()
    };
    for (case, headers, status, code) in [
        (
            "foreign origin",
            vec![("origin", "http://evil.example".to_string())],
            403,
            "cross_site_request",
        ),
        ("no origin at all", vec![], 403, "cross_site_request"),
        (
            "cross-site fetch metadata",
            vec![("sec-fetch-site", "cross-site".to_string())],
            403,
            "cross_site_request",
        ),
        (
            "a form post from Haven's own origin",
            vec![
                ("origin", app.url("")),
                (
                    "content-type",
                    "application/x-www-form-urlencoded".to_string(),
                ),
            ],
            415,
            "unsupported_media_type",
        ),
    ] {
        let response = logout_with(headers).await.unwrap();
        assert_eq!(response.status(), status, "{case}");
        assert!(
            response.headers().get("set-cookie").is_none(),
            "{case}: the cookie is not touched"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], code, "{case}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(
            me(&app, &cookie).await.status(),
            200,
            "{case}: still logged in"
        );
    }
    // A login from another origin is refused too, before any password is checked.
    let response = http()
        .post(app.url("/api/staff/login"))
        .header("origin", "http://evil.example")
        .json(&serde_json::json!({"username": "login-dunlin-93", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // Fetch metadata alone (a browser that sends no Origin) is enough when same-origin.
    let response = logout_with(vec![("sec-fetch-site", "same-origin".to_string())])
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(me(&app, &cookie).await.status(), 401);
}

#[tokio::test]
async fn no_state_changes_on_get() {
    let app = spawn_app().await;
    app.add_staff("login-knot-94", "Advocate Sam", Role::Advocate, PASSWORD);
    let cookie = app.login("login-knot-94", PASSWORD).await;
    for path in [
        "/api/staff/logout",
        "/api/staff/login",
        "/api/staff/password",
    ] {
        let response = http()
            .get(app.url(path))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "GET {path}");
    }
    assert_eq!(me(&app, &cookie).await.status(), 200);
}

#[tokio::test]
async fn staff_add_and_login_share_the_password_policy() {
    let app = spawn_app().await;
    let store = haven::store::Store::open(app.data_dir.path()).unwrap();
    for weak in [
        "1234567890",
        "aaaaaaaaaaaaaaaa",
        "password1234",
        "short pass",
    ] {
        let error = store
            .add_staff("login-weak-95", "Sam", Role::Advocate, weak)
            .expect_err(weak)
            .to_string();
        assert!(error.contains("password"), "{weak}: {error}");
    }
    let too_long = "x".repeat(2000);
    assert!(store
        .add_staff("login-weak-95", "Sam", Role::Advocate, &too_long)
        .is_err());
    // The longest password staff add accepts also logs in.
    let longest = "ab1".repeat(42) + "cd";
    assert_eq!(longest.chars().count(), 128);
    app.add_staff("login-long-96", "Advocate Sam", Role::Advocate, &longest);
    let (status, _) = try_login(&app, "login-long-96", &longest).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_temporary_password_must_be_changed_before_anything_else() {
    let app = spawn_app().await;
    let store = haven::store::Store::open(app.data_dir.path()).unwrap();
    store
        .add_staff_with(
            "login-shag-97",
            "Advocate Sam",
            Role::Advocate,
            "temporary pass 4471",
            true,
        )
        .unwrap();
    let response = post_login(
        &app.url("/api/staff/login"),
        "login-shag-97",
        "temporary pass 4471",
    )
    .await;
    assert_eq!(response.status(), 200);
    let cookie = session_cookie(&response);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["must_change_password"], true);
    // The console is closed until the password is changed.
    let (status, body) = refused_upgrade(
        &format!("ws://{}/ws/console", app.addr),
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "password_change_required");
    let change = |current: &str, new: &str| {
        http()
            .post(app.url("/api/staff/password"))
            .header("origin", app.url(""))
            .header("cookie", &cookie)
            .json(&serde_json::json!({"current_password": current, "new_password": new}))
            .send()
    };
    let response = change("temporary pass 4471", "password1234").await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "weak_password");
    let response = change("wrong current pass", "a new long passphrase")
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = change("temporary pass 4471", "a new long passphrase")
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let fresh = session_cookie(&response);
    assert_ne!(fresh, cookie, "a new session id after the change");
    assert_eq!(
        me(&app, &cookie).await.status(),
        401,
        "the old session ended"
    );
    let me_now: Value = me(&app, &fresh).await.json().await.unwrap();
    assert_eq!(me_now["must_change_password"], false);
    let _console = app.console(&fresh).await;
    let (status, _) = try_login(&app, "login-shag-97", "temporary pass 4471").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_wrong_password_gets_the_same_answer_whether_or_not_the_user_exists() {
    let app = spawn_app().await;
    app.add_staff("login-bittern-72", "Advocate Sam", Role::Advocate, PASSWORD);
    let (status, known) = try_login(&app, "login-bittern-72", "wrong password").await;
    assert_eq!(status, 401);
    assert_eq!(known["code"], "invalid_credentials");
    let (status, unknown) = try_login(&app, "login-nobody-73", "wrong password").await;
    assert_eq!(status, 401);
    assert_eq!(
        unknown, known,
        "the same body for an unknown user and a wrong password"
    );
    // An empty password is just wrong, too.
    let (status, empty) = try_login(&app, "login-bittern-72", "").await;
    assert_eq!(status, 401);
    assert_eq!(empty, known);
    // The real password still works.
    let (status, _) = try_login(&app, "login-bittern-72", PASSWORD).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn repeated_failed_logins_are_throttled_for_that_user_name() {
    let app = spawn_app().await;
    app.add_staff("login-heron-74", "Advocate Sam", Role::Advocate, PASSWORD);
    app.add_staff("login-egret-75", "Advocate Alex", Role::Advocate, PASSWORD);
    let max = haven::Config::embedded_defaults()
        .auth
        .max_failed_logins_per_minute;
    for attempt in 1..=max {
        let (status, body) = try_login(&app, "login-heron-74", "guess").await;
        assert_eq!(status, 401, "attempt {attempt} of {max}: {body}");
    }
    let response = post_login(&app.url("/api/staff/login"), "login-heron-74", "guess").await;
    assert_eq!(
        response.status(),
        429,
        "attempt {} is one too many",
        max + 1
    );
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=900).contains(&retry),
        "a back-off, not a lock: {retry}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "too_many_attempts");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    // While throttled, even the right password waits (no oracle for a guesser).
    let (status, _) = try_login(&app, "login-heron-74", PASSWORD).await;
    assert_eq!(status, 429);
    // An unknown user name is throttled the same way.
    for _ in 1..=max {
        try_login(&app, "login-ghost-76", "guess").await;
    }
    let (status, body) = try_login(&app, "login-ghost-76", "guess").await;
    assert_eq!(status, 429, "{body}");
    // Another user name is not affected.
    let (status, _) = try_login(&app, "login-egret-75", PASSWORD).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_login_request_that_is_not_the_expected_json_is_a_400() {
    let app = spawn_app().await;
    for body in [
        "not json",
        "{}",
        r#"{"username": "x"}"#,
        r#"{"username": 1, "password": 2}"#,
    ] {
        let response = http()
            .post(app.url("/api/staff/login"))
            .header("origin", app.url(""))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "body {body:?}");
        let json: Value = response.json().await.unwrap();
        assert_eq!(json["code"], "invalid_request", "body {body:?}: {json}");
        assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[tokio::test]
async fn logout_ends_the_session_and_clears_the_cookie() {
    let app = spawn_app().await;
    let mut sam = staff(&app, "login-rail-77", "Advocate Sam", Role::Advocate).await;
    // A second session of the same person is a separate session.
    let other = app.login("login-rail-77", PASSWORD).await;
    let response = logout(&app, &sam.cookie).await;
    assert_eq!(response.status(), 204);
    let cleared = response
        .headers()
        .get("set-cookie")
        .expect("logout clears the cookie")
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(cleared.starts_with("haven_session="), "{cleared}");
    assert!(
        cleared.contains("max-age=0") || cleared.contains("expires="),
        "the cleared cookie expires: {cleared}"
    );
    sam.client.expect_error("session_expired").await;
    let ending = sam.client.ended(WAIT).await;
    assert_eq!(ending.code(), Some(4001), "{ending:?}");

    // The old cookie opens nothing any more.
    let (status, body) = refused_upgrade(
        &format!("ws://{}/ws/console", app.addr),
        &[("cookie", &sam.cookie)],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "not_logged_in");
    // The other session still works.
    let response = me(&app, &other).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn logging_out_one_session_leaves_a_console_on_another_session_open() {
    let app = spawn_app().await;
    app.add_staff("login-jacana-78", "Advocate Sam", Role::Advocate, PASSWORD);
    // The advocate is logged in on a phone (A) and works on a desktop console (B).
    let phone = app.login("login-jacana-78", PASSWORD).await;
    let desktop = app.login("login-jacana-78", PASSWORD).await;
    let mut sam = connect_staff(&app, "login-jacana-78", "Advocate Sam", &desktop).await;
    sam.set_available(true).await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "chatter").await;

    let response = logout(&app, &phone).await;
    assert_eq!(response.status(), 204);
    // Logout "ends the session and closes its console sockets": the phone's, not the desktop's.
    sam.client.still_works().await;
    exchange(&mut chatter, &mut sam, &chat_id, "after-other-logout").await;
    let response = me(&app, &desktop).await;
    assert_eq!(response.status(), 200);
    let response = me(&app, &phone).await;
    assert_eq!(response.status(), 401);
}
