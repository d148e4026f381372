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
        "{cookie_header}"
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
async fn secure_cookies_add_the_secure_attribute() {
    let app = spawn_app_with(|c| c.auth.secure_cookies = true).await;
    app.add_staff("login-stilt-71", "Advocate Sam", Role::Advocate, PASSWORD);
    let response = post_login(&app.url("/api/staff/login"), "login-stilt-71", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie
            .split(';')
            .any(|a| a.trim().eq_ignore_ascii_case("secure")),
        "{cookie}"
    );
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
    let (status, body) = try_login(&app, "login-heron-74", "guess").await;
    assert_eq!(status, 429, "attempt {} is one too many: {body}", max + 1);
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
