//! Hub behaviour without sockets: outboxes are read directly. Timers use paused time.

use std::time::Duration;

use serde_json::Value;
use uuid::Uuid;

use super::{
    outbox::{Frame, Inbox, Outbox},
    text::{ClientId, MessageText},
    Hello, Hub, Settings,
};
use crate::{
    config::Config,
    staff::{Role, Staff},
};

fn hub_with(tweak: impl FnOnce(&mut Config)) -> Hub {
    let mut config = Config::embedded_defaults();
    tweak(&mut config);
    Hub::new(Settings::from_config(&config))
}

fn staff(name: &str) -> Staff {
    Staff {
        id: Uuid::new_v4(),
        username: name.into(),
        display_name: format!("Advocate {name}"),
        role: Role::Advocate,
    }
}

/// Every text frame queued so far, then the pending snapshots, as JSON.
fn drain(inbox: &mut Inbox) -> Vec<Value> {
    let mut frames = Vec::new();
    while let Ok(frame) = inbox.rx.try_recv() {
        if let Frame::Text(text) | Frame::Ack(text) = frame {
            frames.push(serde_json::from_str(&text).unwrap());
        }
    }
    for text in inbox.latest.take() {
        frames.push(serde_json::from_str(&text).unwrap());
    }
    frames
}

fn of_type<'a>(frames: &'a [Value], kind: &str) -> Vec<&'a Value> {
    frames.iter().filter(|f| f["type"] == kind).collect()
}

fn hello() -> Hello {
    Hello {
        queue: None,
        language: None,
        intake: None,
    }
}

#[tokio::test(start_paused = true)]
async fn purged_transcript_is_gone_and_its_token_says_so() {
    let hub = hub_with(|c| {
        c.chat.retention_after_close_secs = 30;
        c.chat.purge_interval_secs = 10;
    });
    let (adv_out, _adv_in) = Outbox::new(64);
    let advocate = hub.advocate_connect(staff("sam"), super::LoginId::default(), &adv_out);
    hub.advocate_status(&advocate, true);
    let (chat_out, mut chat_in) = Outbox::new(64);
    let chat = hub.chatter_hello(&chat_out, hello()).unwrap().unwrap();
    let token = of_type(&drain(&mut chat_in), "welcome")[0]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    hub.chatter_message(
        &chat,
        ClientId::parse("c1".into()).unwrap(),
        MessageText::parse("secret".into(), 100).unwrap(),
    )
    .unwrap();
    hub.chatter_leave(&chat, false).unwrap();

    let stop = tokio_util::sync::CancellationToken::new();
    let purge = super::purge::spawn(&hub, stop.clone());
    tokio::time::sleep(Duration::from_secs(15)).await;
    assert_eq!(
        hub.counts().closed_awaiting_purge,
        1,
        "kept during the retention period"
    );
    let (again, _) = Outbox::new(8);
    assert_eq!(
        hub.chatter_resume(&again, &token, 0).unwrap_err(),
        crate::error::HubError::ChatClosed
    );

    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(
        hub.counts().closed_awaiting_purge,
        0,
        "purged after retention"
    );
    assert!(hub.lock().chats.is_empty());
    assert_eq!(
        hub.chatter_resume(&again, &token, 0).unwrap_err(),
        crate::error::HubError::ChatPurged
    );
    stop.cancel();
    purge.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn chatter_who_does_not_return_is_reported_left() {
    let hub = hub_with(|c| c.chat.resume_grace_secs = 5);
    let (adv_out, mut adv_in) = Outbox::new(64);
    let advocate = hub.advocate_connect(staff("sam"), super::LoginId::default(), &adv_out);
    hub.advocate_status(&advocate, true);
    let (chat_out, _chat_in) = Outbox::new(64);
    let chat = hub.chatter_hello(&chat_out, hello()).unwrap().unwrap();
    hub.claim(&advocate, chat.chat_id).unwrap();
    hub.chatter_disconnected(&chat);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(of_type(&drain(&mut adv_in), "chatter_left").is_empty());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let frames = drain(&mut adv_in);
    let left = of_type(&frames, "chatter_left");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["reason"], "timed_out");
}

#[test]
fn of_many_simultaneous_claims_exactly_one_wins() {
    for _ in 0..50 {
        let hub = hub_with(|_| {});
        let advocates: Vec<_> = (0..4)
            .map(|i| {
                let (out, inbox) = Outbox::new(256);
                (
                    hub.advocate_connect(staff(&format!("a{i}")), super::LoginId::default(), &out),
                    out,
                    inbox,
                )
            })
            .collect();
        hub.advocate_status(&advocates[0].0, true);
        let (chat_out, _chat_in) = Outbox::new(64);
        let chat = hub.chatter_hello(&chat_out, hello()).unwrap().unwrap();
        let barrier = std::sync::Barrier::new(advocates.len());
        let wins = std::thread::scope(|scope| {
            let handles: Vec<_> = advocates
                .iter()
                .map(|(me, _, _)| {
                    let (hub, barrier) = (&hub, &barrier);
                    scope.spawn(move || {
                        barrier.wait();
                        hub.claim(me, chat.chat_id)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        });
        assert_eq!(wins.iter().filter(|r| r.is_ok()).count(), 1);
        assert!(wins
            .iter()
            .filter(|r| r.is_err())
            .all(|r| *r == Err(crate::error::HubError::AlreadyClaimed)));
    }
}

#[test]
fn a_full_outbox_drops_only_that_connection() {
    let hub = hub_with(|_| {});
    let (adv_out, mut adv_in) = Outbox::new(1024);
    let advocate = hub.advocate_connect(staff("sam"), super::LoginId::default(), &adv_out);
    hub.advocate_status(&advocate, true);
    let (slow_out, _slow_in) = Outbox::new(4);
    let slow = hub.chatter_hello(&slow_out, hello()).unwrap().unwrap();
    let (fast_out, mut fast_in) = Outbox::new(1024);
    let fast = hub.chatter_hello(&fast_out, hello()).unwrap().unwrap();
    hub.claim(&advocate, slow.chat_id).unwrap();
    hub.claim(&advocate, fast.chat_id).unwrap();
    drain(&mut adv_in);
    drain(&mut fast_in);
    for i in 0..20 {
        let text = || MessageText::parse(format!("m{i}"), 100).unwrap();
        let _ = hub.advocate_message(
            &advocate,
            slow.chat_id,
            ClientId::parse(format!("s{i}")).unwrap(),
            text(),
        );
        hub.advocate_message(
            &advocate,
            fast.chat_id,
            ClientId::parse(format!("f{i}")).unwrap(),
            text(),
        )
        .unwrap();
    }
    assert!(slow_out.is_killed(), "the slow chatter is dropped");
    assert!(!fast_out.is_killed());
    assert_eq!(
        of_type(&drain(&mut fast_in), "message").len(),
        20,
        "the other chat got every message"
    );
}

#[test]
fn a_chatter_far_back_in_the_queue_is_not_dropped_by_position_updates() {
    let hub = hub_with(|c| c.chat.max_chats_per_advocate = 100);
    let (adv_out, _adv_in) = Outbox::new(1024);
    let advocate = hub.advocate_connect(staff("sam"), super::LoginId::default(), &adv_out);
    hub.advocate_status(&advocate, true);
    let chatters: Vec<_> = (0..40)
        .map(|_| {
            let (out, inbox) = Outbox::new(8);
            let handle = hub.chatter_hello(&out, hello()).unwrap().unwrap();
            (handle, out, inbox)
        })
        .collect();
    for (handle, _, _) in &chatters[..39] {
        hub.claim(&advocate, handle.chat_id).unwrap();
    }
    let (_, last_out, last_in) = chatters.last().unwrap();
    assert!(
        !last_out.is_killed(),
        "39 position changes fit in an 8-frame queue"
    );
    let frames: Vec<Value> = last_in
        .latest
        .take()
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect();
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0]["type"], "queued");
    assert_eq!(
        frames[0]["position"], 1,
        "only the newest position is pending"
    );
}

#[test]
fn system_lines_carry_a_key_the_chatter_page_can_translate() {
    let hub = hub_with(|_| {});
    let (adv_out, _adv_in) = Outbox::new(256);
    let advocate = hub.advocate_connect(staff("sam"), super::LoginId::default(), &adv_out);
    hub.advocate_status(&advocate, true);
    let (chat_out, mut chat_in) = Outbox::new(256);
    let chat = hub.chatter_hello(&chat_out, hello()).unwrap().unwrap();
    hub.claim(&advocate, chat.chat_id).unwrap();
    hub.transfer(
        &advocate,
        chat.chat_id,
        super::TransferTarget::Queue("referrals".into()),
        None,
    )
    .unwrap();
    let frames = drain(&mut chat_in);
    let system: Vec<_> = of_type(&frames, "message")
        .into_iter()
        .filter(|m| m["from"] == "system")
        .collect();
    assert_eq!(system.len(), 1);
    assert_eq!(system[0]["key"], "transfer_to_queue");
    assert!(system[0]["text"]
        .as_str()
        .unwrap()
        .contains("Member organization referrals"));
    let chatter_line = |frames: &[Value]| {
        of_type(frames, "message")
            .iter()
            .all(|m| m["from"] != "chatter" || m.get("key").is_none())
    };
    assert!(chatter_line(&frames), "people's lines have no key");
}

#[test]
fn a_hello_at_the_back_of_a_long_line_sends_consoles_only_the_new_total() {
    let hub = hub_with(|c| {
        c.chat.auto_assign = false;
        c.chat.max_waiting = 1_000;
    });
    let (sam_out, mut sam_in) = Outbox::new(64);
    let sam = hub.advocate_connect(staff("sam"), super::LoginId::default(), &sam_out);
    hub.advocate_status(&sam, true);
    let (kim_out, mut kim_in) = Outbox::new(64);
    hub.advocate_connect(staff("kim"), super::LoginId::default(), &kim_out);
    let mut chatters = Vec::new();
    for _ in 0..crate::protocol::QUEUE_PAGE + 20 {
        let (out, inbox) = Outbox::new(64);
        hub.chatter_hello(&out, hello()).unwrap().unwrap();
        chatters.push((out, inbox));
    }
    let page: Vec<_> = of_type(&drain(&mut sam_in), "queue")[0]["entries"]
        .as_array()
        .unwrap()
        .clone();
    drain(&mut kim_in);

    let (out, _inbox) = Outbox::new(64);
    hub.chatter_hello(&out, hello()).unwrap().unwrap();
    for inbox in [&mut sam_in, &mut kim_in] {
        let frames = drain(inbox);
        let kinds: Vec<_> = frames.iter().map(|f| f["type"].clone()).collect();
        assert_eq!(kinds, ["queue"], "only the line changed: {frames:?}");
        assert_eq!(frames[0]["total"], crate::protocol::QUEUE_PAGE + 21);
        assert_eq!(
            frames[0]["entries"].as_array().unwrap(),
            &page,
            "same first page"
        );
    }

    // A console that connects later gets every snapshot, and a change on the roster reaches
    // everyone once.
    let (lee_out, mut lee_in) = Outbox::new(64);
    hub.advocate_connect(staff("lee"), super::LoginId::default(), &lee_out);
    let lee: Vec<_> = drain(&mut lee_in)
        .iter()
        .map(|f| f["type"].clone())
        .collect();
    for kind in ["welcome", "queue", "advocates", "status"] {
        assert!(lee.contains(&kind.into()), "{kind} in {lee:?}");
    }
    let sam_frames = drain(&mut sam_in);
    assert_eq!(of_type(&sam_frames, "advocates").len(), 1, "{sam_frames:?}");
    assert!(of_type(&sam_frames, "queue").is_empty(), "{sam_frames:?}");
    // Claiming the oldest changes the page, the roster and the claimer's status.
    let oldest = page[0]["chat_id"].as_str().unwrap().parse().unwrap();
    hub.claim(&sam, oldest).unwrap();
    let sam_frames = drain(&mut sam_in);
    let queue = of_type(&sam_frames, "queue");
    assert_eq!(
        queue[0]["entries"][0], page[1],
        "the page moved up: {sam_frames:?}"
    );
    assert_eq!(of_type(&sam_frames, "status")[0]["load"], 1);
    let kim_frames = drain(&mut kim_in);
    assert!(
        of_type(&kim_frames, "status").is_empty(),
        "kim's own status did not change"
    );
    assert_eq!(of_type(&kim_frames, "advocates").len(), 1);
}
