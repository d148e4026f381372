//! The TOTP second factor: enrolment with a QR code, login with a code computed here, single-use
//! codes and recovery codes, and the admin setting that requires it for a role (a hard gate).

use haven::Role;
use serde_json::{json, Value};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::common::{spawn_app, TestApp};
use crate::support::*;

async fn login_with(app: &TestApp, username: &str, code: Option<&str>) -> (u16, Value, String) {
    let mut body = json!({"username": username, "password": PASSWORD});
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    let response = http()
        .post(app.url("/api/staff/login"))
        .header("origin", app.url(""))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("haven_session="))
        .unwrap_or_default();
    (status, response.json().await.unwrap_or(Value::Null), cookie)
}

fn code_now(secret_base32: &str) -> String {
    let secret = Secret::Encoded(secret_base32.to_string())
        .to_bytes()
        .unwrap();
    TOTP::new(Algorithm::SHA1, 6, 1, 30, secret)
        .unwrap()
        .generate_current()
        .unwrap()
}

/// Enrols the logged-in staff member; returns the secret and the recovery codes.
async fn enrol(app: &TestApp, cookie: &str) -> (String, Vec<String>) {
    let (status, setup) = post_as(app, cookie, "/api/staff/2fa/setup", json!({})).await;
    assert_eq!(status, 200, "{setup}");
    let secret = setup["secret"].as_str().unwrap().to_string();
    assert!(setup["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    assert!(
        setup["qr_svg"].as_str().unwrap().contains("<svg"),
        "a QR code drawn by Haven"
    );
    let (status, body) = post_as(
        app,
        cookie,
        "/api/staff/2fa/confirm",
        json!({"code": "000000"}),
    )
    .await;
    assert_eq!(status, 401, "a wrong code does not enrol: {body}");
    let (status, body) = post_as(
        app,
        cookie,
        "/api/staff/2fa/confirm",
        json!({"code": code_now(&secret)}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let codes: Vec<String> = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

#[tokio::test]
async fn totp_login_with_a_code_computed_here_and_single_use_recovery_codes() {
    let app = spawn_app().await;
    app.add_staff("mfa-sora-1", "Advocate Sam", Role::Advocate, PASSWORD);
    let cookie = app.login("mfa-sora-1", PASSWORD).await;
    let (secret, recovery) = enrol(&app, &cookie).await;

    let (status, body, _) = login_with(&app, "mfa-sora-1", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "second_factor_required");
    let (status, body, _) = login_with(&app, "mfa-sora-1", Some("123456")).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "invalid_second_factor");

    // The enrolment used the current code: wait for the next step, as an app would show.
    let used = code_now(&secret);
    let mut code = used.clone();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(35);
    while code == used {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        code = code_now(&secret);
    }
    let (status, body, fresh) = login_with(&app, "mfa-sora-1", Some(&code)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["totp_enabled"], true);
    assert_eq!(me(&app, &fresh).await.status(), 200);
    // The same code does not work twice.
    let (status, _, _) = login_with(&app, "mfa-sora-1", Some(&code)).await;
    assert_eq!(status, 401);

    let (status, _, _) = login_with(&app, "mfa-sora-1", Some(&recovery[3])).await;
    assert_eq!(status, 200, "a recovery code works");
    let (status, _, _) = login_with(&app, "mfa-sora-1", Some(&recovery[3])).await;
    assert_eq!(status, 401, "once");
}

#[tokio::test]
async fn a_role_that_requires_a_second_factor_is_held_at_enrolment() {
    let app = spawn_app().await;
    app.add_staff("mfa-admin-2", "Admin", Role::Admin, PASSWORD);
    app.add_staff("mfa-kai-3", "Advocate Kai", Role::Advocate, PASSWORD);
    app.add_staff("mfa-sue-4", "Supervisor Sue", Role::Supervisor, PASSWORD);
    let admin = app.login("mfa-admin-2", PASSWORD).await;
    let (status, _) = post_as(
        &app,
        &admin,
        "/api/admin/settings/security",
        json!({"require_2fa_roles": ["advocate"]}),
    )
    .await;
    assert_eq!(status, 204);
    let settings: Value = http()
        .get(app.url("/api/admin/settings/security"))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(settings["require_2fa_roles"], json!(["advocate"]));

    // Kai's password is right, but without a second factor nothing opens but enrolment.
    let (status, body, kai) = login_with(&app, "mfa-kai-3", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["needs_second_factor"], true);
    let (status, body) = refused_upgrade(
        &format!("ws://{}/ws/console", app.addr),
        &[("cookie", &kai)],
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "second_factor_enrolment_required");
    // A role the setting does not name is not held.
    let sue = app.login("mfa-sue-4", PASSWORD).await;
    let _console = app.console(&sue).await;

    enrol(&app, &kai).await;
    let me_now: Value = me(&app, &kai).await.json().await.unwrap();
    assert_eq!(me_now["needs_second_factor"], false);
    let mut console = Client::new("kai", app.console(&kai).await);
    console.expect("welcome").await;
    // From now on Kai's login needs the code.
    let (status, body, _) = login_with(&app, "mfa-kai-3", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "second_factor_required");
}
