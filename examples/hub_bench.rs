//! The hub alone, no sockets (issue 10): what one `hello` costs with 1,000, 10,000 and 50,000
//! chatters already waiting, and what a claim at the front costs (it moves everyone behind).
//! The cost of a `hello` must not grow with the line; a claim's grows with what it moves.
//!
//! ```text
//! cargo run --release --example hub_bench              # sizes 1000 10000 50000
//! cargo run --release --example hub_bench -- 2000 20000
//! ```

use std::time::{Duration, Instant};

use haven::hub::{outbox::Outbox, Hello, Hub, LoginId, Settings};
use haven::staff::Staff;
use haven::{Config, Role};
use uuid::Uuid;

#[path = "shared/percentile.rs"]
#[allow(dead_code)] // `micros` there is whole microseconds; this file wants fractions
mod percentile;
use percentile::percentile;

/// Timed hellos per size.
const TIMED: usize = 1_000;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("sizes are numbers"))
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000, 50_000]
    } else {
        sizes
    };
    println!("| waiting | hello median µs | hello p99 µs | claim of the oldest µs |");
    println!("| ---: | ---: | ---: | ---: |");
    for waiting in sizes {
        let (hello, claim) = measure(waiting);
        println!(
            "| {waiting} | {:.1} | {:.1} | {:.1} |",
            micros(percentile(&hello, 50.0).unwrap_or_default()),
            micros(percentile(&hello, 99.0).unwrap_or_default()),
            micros(claim),
        );
    }
}

fn measure(waiting: usize) -> (Vec<Duration>, Duration) {
    let mut config = Config::embedded_defaults();
    config.chat.auto_assign = false;
    config.chat.max_waiting = waiting + TIMED + 10;
    let hub = Hub::new(Settings::from_config(&config));
    let (console, mut console_inbox) = Outbox::new(64);
    let advocate = hub.advocate_connect(
        Staff {
            id: Uuid::new_v4(),
            username: "bench".into(),
            display_name: "Bench".into(),
            role: Role::Advocate,
        },
        LoginId::default(),
        &console,
    );
    hub.advocate_status(&advocate, true);
    // Each chatter's outbox is kept (its socket would be), with what it was sent.
    let mut chatters = Vec::with_capacity(waiting + TIMED);
    let mut first = None;
    for _ in 0..waiting {
        let (outbox, inbox) = Outbox::new(64);
        let handle = hub
            .chatter_hello(&outbox, hello())
            .expect("hello")
            .expect("queued");
        first.get_or_insert(handle.chat_id);
        chatters.push((outbox, inbox));
        drain(&mut console_inbox);
    }
    let mut times = Vec::with_capacity(TIMED);
    for _ in 0..TIMED {
        let (outbox, inbox) = Outbox::new(64);
        let started = Instant::now();
        hub.chatter_hello(&outbox, hello())
            .expect("hello")
            .expect("queued");
        times.push(started.elapsed());
        chatters.push((outbox, inbox));
        drain(&mut console_inbox);
    }
    times.sort_unstable();
    let started = Instant::now();
    hub.claim(&advocate, first.expect("someone waits"))
        .expect("claim");
    let claim = started.elapsed();
    (times, claim)
}

fn hello() -> Hello {
    Hello {
        queue: None,
        language: None,
        intake: None,
    }
}

/// Empties the console's queue and snapshots, as its socket's writer would.
fn drain(inbox: &mut haven::hub::outbox::Inbox) {
    while inbox.rx.try_recv().is_ok() {}
    inbox.latest.take();
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
