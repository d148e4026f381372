//! Issue 11, part 1: the real server started with `store.postgres_url`. Staff log in, an admin
//! changes accounts, a chatter's survey is stored and statistics count it, all in PostgreSQL
//! and nothing in the data directory; a second server on the same database (another node)
//! sees the same accounts, sessions and answers. Skipped loudly without PostgreSQL; a failure
//! when `CI=true`.

use haven::{
    store::{postgres::scratch::ScratchDatabase, Store},
    Role,
};
use serde_json::{json, Value};

use crate::common::{spawn_app_with, TestApp};
use crate::forms::submit;
use crate::support::*;

async fn spawn_on(scratch: &ScratchDatabase) -> TestApp {
    let config = scratch.store_config();
    spawn_app_with(move |c| {
        c.store = config;
        c.stats.suppress_below = 1;
        // Node one writes its chat counts where node two reads them.
        c.stats.flush_secs = 1;
    })
    .await
}

/// What `haven staff add` does, on the shared database.
pub fn add_staff(scratch: &ScratchDatabase, username: &str, role: Role) {
    let store = Store::connect(
        &scratch.store_config(),
        std::path::Path::new("/nonexistent"),
        std::time::Duration::from_secs(3),
    )
    .expect("the PostgreSQL store opens");
    store
        .add_staff(username, username, role, PASSWORD)
        .expect("staff added");
}

fn count(scratch: &ScratchDatabase, table: &str) -> i64 {
    let url = scratch.url().to_owned();
    let sql = format!("SELECT COUNT(*) FROM {table}");
    // The synchronous client may not run (or be dropped) on this test's async thread.
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connects");
        client.query_one(&sql, &[]).expect("count").get(0)
    })
    .join()
    .unwrap()
}

#[tokio::test]
async fn two_nodes_on_postgres_share_staff_sessions_answers_and_statistics() {
    let Some(scratch) = ScratchDatabase::create() else {
        return;
    };
    let one = spawn_on(&scratch).await;
    add_staff(&scratch, "pg-admin", Role::Admin);
    add_staff(&scratch, "pg-advocate", Role::Advocate);
    let admin = one.login("pg-admin", PASSWORD).await;

    // An admin adds an account and changes one.
    let (status, added) = post_as(
        &one,
        &admin,
        "/api/admin/staff",
        json!({"username": "pg-new", "display_name": "New", "role": "advocate"}),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    let temporary = added["temporary_password"].as_str().unwrap().to_owned();
    let (status, taken) = post_as(
        &one,
        &admin,
        "/api/admin/staff",
        json!({"username": "pg-new", "display_name": "Other", "role": "advocate"}),
    )
    .await;
    assert_eq!(
        (status, taken["code"].as_str()),
        (409, Some("username_taken"))
    );

    // An answered chat and its survey.
    let cookie = one.login("pg-advocate", PASSWORD).await;
    let mut advocate = connect_staff(&one, "pg-advocate", "pg-advocate", &cookie).await;
    advocate.set_available(true).await;
    let (mut chatter, chat_id) = claimed_chat(&one, &mut advocate, "pg-chatter").await;
    advocate.end(&chat_id).await;
    chatter.client.expect("ended").await;
    let (status, body) = submit(
        &one,
        "survey",
        &chatter.token,
        json!({"got_needed": "yes", "recommend": "5"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(count(&scratch, "submissions"), 1);

    // The role change ends the advocate's session, on every node.
    let advocate_id = advocate.id.clone();
    let (status, _) = post_as(
        &one,
        &admin,
        &format!("/api/admin/staff/{advocate_id}/role"),
        json!({"role": "supervisor"}),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(me(&one, &cookie).await.status(), 401);

    // Another node on the same database.
    let two = spawn_on(&scratch).await;
    assert_eq!(
        me(&two, &admin).await.status(),
        200,
        "the session is shared"
    );
    assert_eq!(me(&two, &cookie).await.status(), 401);
    let response = post_login(&two.url("/api/staff/login"), "pg-new", &temporary).await;
    assert_eq!(response.status(), 200, "an account added on node one");
    let supervisor = two.login("pg-advocate", PASSWORD).await;
    let me_now: Value = me(&two, &supervisor).await.json().await.unwrap();
    assert_eq!(me_now["role"], "supervisor");

    // Statistics, asked of node two, count node one's chat (once flushed) and survey.
    let today = haven::stats::calendar::local_date(haven::hub::now_ms(), 0);
    let month = haven::stats::calendar::Month::of(today).to_string();
    let query = format!("/api/stats?period=month&start={month}&form=survey");
    let mut report = Value::Null;
    for _ in 0..50 {
        let (status, body) = get_as(&two, &admin, &query).await;
        assert_eq!(status, 200, "{body}");
        report = body;
        if report["totals"]["answered"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(report["form"]["submissions"], 1, "{report}");
    assert_eq!(report["totals"]["answered"], 1, "{report}");

    let (status, entries) = get_as(&two, &admin, "/api/admin/audit").await;
    assert_eq!(status, 200);
    assert!(
        entries.to_string().contains("role_changed"),
        "node one's audit entries: {entries}"
    );
    // Nothing of this is in the data directories.
    for node in [&one, &two] {
        assert!(
            !node.data_dir.path().join("haven.db").exists(),
            "no SQLite file with store.postgres_url"
        );
    }
    one.shutdown.trigger();
    two.shutdown.trigger();
}
