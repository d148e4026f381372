//! Claims are atomic, capacity is respected, auto-assign is fair.

use serde_json::json;

use crate::common::spawn_app_with;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_advocates_racing_for_one_chatter_never_both_get_it() {
    let app = spawn_app_with(|c| {
        // Many rounds on the same two sockets: the rate limit is not what this test is about.
        c.limits.rate_burst = 100_000;
        c.limits.rate_per_sec = 100_000;
    })
    .await;
    let mut sam = available_advocate(&app, "login-raven-20", "Advocate Sam").await;
    let mut alex = available_advocate(&app, "login-rook-21", "Advocate Alex").await;
    let (mut sam_wins, mut alex_wins) = (0, 0);
    for round in 0..50 {
        let (mut chatter, tag) = tagged_hello(&app, &format!("chatter {round}")).await;
        chatter.client.expect("queued").await;
        let chat_id = sam.chat_id_tagged(&tag).await;
        assert_eq!(alex.chat_id_tagged(&tag).await, chat_id);

        let winner = if race_for(&mut sam, &mut alex, &chat_id, round).await {
            sam_wins += 1;
            &mut sam
        } else {
            alex_wins += 1;
            &mut alex
        };
        let joined = chatter.client.expect("joined").await;
        assert_eq!(joined["advocate"], winner.display_name.as_str());
        winner.end(&chat_id).await;
        assert_eq!(
            chatter.client.expect("ended").await["reason"],
            "advocate_ended"
        );
    }
    assert_eq!(sam_wins + alex_wins, 50);
    // Neither console ever got an `assigned` it did not win (the loser's stream is checked by
    // reading up to a pong after the last round).
    let sam_assigned = sam.client.still_works().await;
    let alex_assigned = alex.client.still_works().await;
    assert!(sam_assigned.iter().all(|f| f["type"] != "assigned"));
    assert!(alex_assigned.iter().all(|f| f["type"] != "assigned"));
    let total_assigned = sam
        .client
        .seen
        .iter()
        .chain(alex.client.seen.iter())
        .filter(|f| f["type"] == "assigned")
        .count();
    assert_eq!(total_assigned, 50, "one `assigned` per chatter, in all");
}

#[tokio::test]
async fn an_advocate_at_capacity_cannot_claim_more_and_the_chatter_keeps_waiting() {
    let app = spawn_app_with(|c| c.chat.max_chats_per_advocate = 2).await;
    let mut sam = available_advocate(&app, "login-jay-22", "Advocate Sam").await;
    let (_c1, _) = claimed_chat(&app, &mut sam, "first").await;
    let (_c2, _) = claimed_chat(&app, &mut sam, "second").await;
    let status = sam
        .client
        .until("status at load 2", |f| {
            f["type"] == "status" && f["load"] == 2
        })
        .await;
    assert_eq!(status["capacity"], 2);

    let (mut third, tag) = tagged_hello(&app, "third").await;
    third.client.expect("queued").await;
    let chat_id = sam.chat_id_tagged(&tag).await;
    sam.client
        .send(json!({"type": "claim", "chat_id": chat_id}))
        .await;
    sam.client.expect_error("at_capacity").await;

    // The third chatter is still waiting and another advocate can take them.
    let mut alex = available_advocate(&app, "login-magpie-23", "Advocate Alex").await;
    alex.entry_tagged(&tag).await;
    alex.claim(&chat_id).await;
    assert_eq!(
        third.client.expect("joined").await["advocate"],
        "Advocate Alex"
    );
}

#[tokio::test]
async fn auto_assign_gives_the_oldest_chatter_to_the_least_loaded_advocate() {
    let app = spawn_app_with(|c| {
        c.chat.auto_assign = true;
        c.chat.max_chats_per_advocate = 2;
    })
    .await;
    let mut sam = available_advocate(&app, "login-pipit-24", "Advocate Sam").await;
    let mut alex = available_advocate(&app, "login-dunlin-25", "Advocate Alex").await;

    // Four chatters, one after the other: each goes to whoever has fewer chats.
    let mut chatters = Vec::new();
    for i in 0..4 {
        let (mut chatter, tag) = tagged_hello(&app, &format!("chatter {i}")).await;
        let joined = chatter.client.expect("joined").await;
        let who = joined["advocate"].as_str().unwrap().to_string();
        let advocate = if who == "Advocate Sam" {
            &mut sam
        } else {
            &mut alex
        };
        assert_eq!(who, advocate.display_name, "{joined}");
        let assigned = advocate
            .client
            .until(&format!("`assigned` of {tag}"), |f| {
                f["type"] == "assigned" && f["intake"]["tag"] == tag.as_str()
            })
            .await;
        assert!(assigned["chat_id"].is_string());
        chatters.push((chatter, who));
    }
    let sams = chatters.iter().filter(|(_, w)| w == "Advocate Sam").count();
    assert_eq!(
        sams, 2,
        "four chatters are spread 2 and 2 over two advocates"
    );
    assert_ne!(
        chatters[0].1, chatters[1].1,
        "the second chatter goes to the advocate who had none"
    );

    // Both full: the next two wait, in order.
    let (mut fifth, tag5) = tagged_hello(&app, "fifth").await;
    assert_eq!(fifth.client.expect("queued").await["position"], 1);
    let (mut sixth, _) = tagged_hello(&app, "sixth").await;
    assert_eq!(sixth.client.expect("queued").await["position"], 2);

    // A free seat goes to the oldest waiting chatter, not the newest.
    let (first, first_advocate) = &mut chatters[0];
    first.client.send(json!({"type": "leave"})).await;
    let advocate = if first_advocate == "Advocate Sam" {
        &mut sam
    } else {
        &mut alex
    };
    let assigned = advocate
        .client
        .until("`assigned` of the oldest waiting chatter", |f| {
            f["type"] == "assigned"
        })
        .await;
    assert_eq!(
        assigned["intake"]["tag"],
        tag5.as_str(),
        "FIFO: the fifth chatter waited longest; got {assigned}"
    );
    fifth.client.expect("joined").await;
    assert_eq!(sixth.client.expect("queued").await["position"], 1);
}

#[tokio::test]
async fn auto_assign_skips_advocates_who_are_away_or_full() {
    let app = spawn_app_with(|c| {
        c.chat.auto_assign = true;
        c.chat.max_chats_per_advocate = 1;
    })
    .await;
    let mut sam = available_advocate(&app, "login-godwit-26", "Advocate Sam").await;
    let mut away = staff(
        &app,
        "login-knot-27",
        "Advocate Away",
        haven::Role::Advocate,
    )
    .await;
    let (mut first, _) = tagged_hello(&app, "first").await;
    assert_eq!(
        first.client.expect("joined").await["advocate"],
        "Advocate Sam"
    );
    sam.client.expect("assigned").await;
    // Sam is full and the other advocate is away: the next chatter waits.
    let (mut second, tag) = tagged_hello(&app, "second").await;
    assert_eq!(second.client.expect("queued").await["position"], 1);
    // Going available brings the waiting chatter at once.
    away.set_available(true).await;
    let assigned = away.client.expect("assigned").await;
    assert_eq!(assigned["intake"]["tag"], tag.as_str());
    assert_eq!(
        second.client.expect("joined").await["advocate"],
        "Advocate Away"
    );
    // Sam never got a second chat.
    sam.client.still_works().await;
    assert_eq!(
        sam.client
            .seen
            .iter()
            .filter(|f| f["type"] == "assigned")
            .count(),
        1
    );
}
