//! Login throttling that cannot be turned against staff: atomic counters, back-off, device
//! cookies, and a budget of password checks that a spray cannot take from real logins.
//! Attackers connect from other loopback addresses (127.0.0.2 …), the advocate from 127.0.0.1.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{
    atomic::{AtomicBool, AtomicU32, Ordering},
    Arc,
};

use haven::Role;
use serde_json::json;

use crate::common::{spawn_app, TestApp};
use crate::support::*;

fn client_from(last_octet: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last_octet)))
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

/// One login; the status and the `name=value` of each cookie set.
async fn login_from(
    client: &reqwest::Client,
    app: &TestApp,
    username: &str,
    password: &str,
    cookie: Option<&str>,
) -> (u16, Vec<String>) {
    let mut request = client
        .post(app.url("/api/staff/login"))
        .header("origin", app.url(""))
        .json(&json!({"username": username, "password": password}));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.expect("login request");
    let cookies = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect();
    (response.status().as_u16(), cookies)
}

fn device_cookie(cookies: &[String]) -> String {
    cookies
        .iter()
        .find(|c| c.starts_with("haven_device="))
        .unwrap_or_else(|| panic!("a device cookie in {cookies:?}"))
        .clone()
}

#[tokio::test]
async fn parallel_guesses_are_counted_before_they_are_checked() {
    let app = Arc::new(spawn_app().await);
    app.add_staff("throttle-loon-1", "Advocate Sam", Role::Advocate, PASSWORD);
    let limit = haven::Config::embedded_defaults()
        .auth
        .max_failed_logins_per_minute;
    let mut guesses = Vec::new();
    for i in 0..32u8 {
        let app = app.clone();
        // From 32 addresses, so that only the account's counter can stop them.
        let client = client_from(10 + i);
        guesses.push(tokio::spawn(async move {
            login_from(&client, &app, "throttle-loon-1", "a wrong guess", None)
                .await
                .0
        }));
    }
    let mut checked = 0;
    for guess in guesses {
        match guess.await.unwrap() {
            401 => checked += 1,
            429 => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        checked <= limit,
        "{checked} of 32 parallel guesses were checked against a limit of {limit}"
    );
}

#[tokio::test]
async fn an_attack_from_elsewhere_does_not_keep_the_advocate_out_of_their_browser() {
    let app = Arc::new(spawn_app().await);
    app.add_staff("throttle-grebe-2", "Advocate Sam", Role::Advocate, PASSWORD);
    let advocate = client_from(1);
    // Sam logged in from this browser yesterday: it holds a device cookie.
    let (status, cookies) = login_from(&advocate, &app, "throttle-grebe-2", PASSWORD, None).await;
    assert_eq!(status, 200);
    let device = device_cookie(&cookies);

    // Someone who knows Sam's user name keeps guessing from another address.
    let stop = Arc::new(AtomicBool::new(false));
    let throttled = Arc::new(AtomicU32::new(0));
    let attack = {
        let (app, stop, throttled) = (app.clone(), stop.clone(), throttled.clone());
        tokio::spawn(async move {
            let attacker = client_from(66);
            while !stop.load(Ordering::Relaxed) {
                let (status, _) =
                    login_from(&attacker, &app, "throttle-grebe-2", "wrong guess 123", None).await;
                assert_ne!(status, 200);
                if status == 429 {
                    throttled.fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        })
    };
    // Let the attack reach the account's back-off.
    let deadline = tokio::time::Instant::now() + 6 * WAIT;
    while throttled.load(Ordering::Relaxed) < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the attacker is throttled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A browser Sam never used is held back like the attacker...
    let (status, _) = login_from(&client_from(1), &app, "throttle-grebe-2", PASSWORD, None).await;
    assert_eq!(
        status, 429,
        "without a device cookie the account's back-off applies"
    );
    // ...but Sam's own browser gets in, again and again, while the attack goes on.
    for round in 0..3 {
        let (status, cookies) =
            login_from(&advocate, &app, "throttle-grebe-2", PASSWORD, Some(&device)).await;
        assert_eq!(
            status, 200,
            "round {round}: the right password from Sam's browser"
        );
        assert!(cookies.iter().any(|c| c.starts_with("haven_session=")));
    }
    // A device cookie is bound to its user name: it does not help guess someone else's.
    app.add_staff(
        "throttle-grebe-3",
        "Advocate Alex",
        Role::Advocate,
        PASSWORD,
    );
    for _ in 0..8 {
        login_from(
            &client_from(67),
            &app,
            "throttle-grebe-3",
            "wrong guess 123",
            Some(&device),
        )
        .await;
    }
    let (status, _) = login_from(
        &client_from(67),
        &app,
        "throttle-grebe-3",
        "wrong guess 123",
        Some(&device),
    )
    .await;
    assert_eq!(status, 429);
    stop.store(true, Ordering::Relaxed);
    attack.await.unwrap();
}

#[tokio::test]
async fn a_spray_over_many_names_and_addresses_does_not_starve_real_logins() {
    let app = Arc::new(spawn_app().await);
    let mut devices = Vec::new();
    for i in 0..10 {
        let name = format!("throttle-tern-{i}");
        app.add_staff(&name, "Advocate", Role::Advocate, PASSWORD);
        let (status, cookies) = login_from(&client_from(1), &app, &name, PASSWORD, None).await;
        assert_eq!(status, 200);
        devices.push((name, device_cookie(&cookies)));
    }
    // 64 sprayers on 64 addresses, each trying a new user name every time.
    let stop = Arc::new(AtomicBool::new(false));
    let mut sprayers = Vec::new();
    for s in 0..64u8 {
        let (app, stop) = (app.clone(), stop.clone());
        sprayers.push(tokio::spawn(async move {
            let client = client_from(100 + s);
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let name = format!("spray-{s}-{n}");
                let response = client
                    .post(app.url("/api/staff/login"))
                    .header("origin", app.url(""))
                    .json(&json!({"username": name, "password": "Summer2024!"}))
                    .send()
                    .await;
                // A sprayer may also wait past its own timeout: that is fine.
                if let Ok(response) = response {
                    assert_ne!(response.status(), 200);
                }
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mut failures = Vec::new();
    for (name, device) in &devices {
        let (status, _) = login_from(&client_from(1), &app, name, PASSWORD, Some(device)).await;
        if status != 200 {
            failures.push((name.clone(), status));
        }
    }
    stop.store(true, Ordering::Relaxed);
    for sprayer in sprayers {
        sprayer.await.unwrap();
    }
    assert!(
        failures.is_empty(),
        "real logins failed during the spray: {failures:?}"
    );
}

/// Behind a trusted reverse proxy every login arrives from the proxy's address: failures are
/// counted for the client the proxy names, so an attacker's source limit is not everyone's.
#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_source_limit() {
    let app = crate::common::spawn_app_with(|c| {
        c.protection.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        c.auth.max_failed_logins_per_minute = 1;
    })
    .await;
    app.add_staff("login-heron-77", "Advocate Sam", Role::Advocate, PASSWORD);
    let proxy = client_from(1);
    let via = |forwarded: &'static str, username: &str, password: &str| {
        proxy
            .post(app.url("/api/staff/login"))
            .header("origin", app.url(""))
            .header("x-forwarded-for", forwarded)
            .json(&json!({"username": username, "password": password}))
            .send()
    };
    // The attacker, forwarded as 10.9.8.7, guesses at many names until its source is slowed.
    let mut throttled = false;
    for i in 0..12 {
        let status = via("10.9.8.7", &format!("nobody-{i}"), "wrong password 123")
            .await
            .unwrap()
            .status();
        if status == 429 {
            throttled = true;
            break;
        }
        assert_eq!(status, 401);
    }
    assert!(throttled, "the attacking client is slowed down");
    // The advocate, forwarded as another client through the same proxy, is not.
    let response = via("10.1.2.3", "login-heron-77", PASSWORD).await.unwrap();
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
}
