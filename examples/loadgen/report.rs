//! What a run measured, as one JSON object (`--json`, read by `scripts/bench.sh`) or as a few
//! lines for a person. The fields are the same for both targets where they apply.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::exchange::{EchoerStats, PairStats};
use crate::fairness::Fairness;
use crate::percentile::percentile;
use crate::Args;

/// The server's resident memory at each moment of the run (KiB), with `--server-pid`.
#[derive(Default)]
pub struct Memory {
    pub before: Option<u64>,
    pub logged_in: Option<u64>,
    pub connected: Option<u64>,
    pub peak_sampled: Option<u64>,
    pub vm_hwm: Option<u64>,
    pub after: Option<u64>,
    pub under_attack: Option<u64>,
}

/// Everything a run gathered, before it is summed up.
pub struct Measured {
    pub chatters: Vec<PairStats>,
    pub echoers: Vec<EchoerStats>,
    pub setup_secs: f64,
    pub logins_secs: Option<f64>,
    pub echoers_ready_secs: f64,
    /// Server CPU seconds over the measured window, and the window's length.
    pub cpu_secs: Option<f64>,
    pub cpu_window_secs: f64,
    pub memory: Memory,
    pub attack_made: Option<u64>,
}

pub fn to_json(args: &Args, m: &Measured) -> Value {
    let mut rtt: Vec<u32> = m
        .chatters
        .iter()
        .flat_map(|s| s.rtt_us.iter().copied())
        .collect();
    let mut ack: Vec<u32> = m
        .chatters
        .iter()
        .flat_map(|s| s.ack_us.iter().copied())
        .collect();
    rtt.sort_unstable();
    ack.sort_unstable();
    let per_pair: Vec<u64> = m.chatters.iter().map(|s| s.rtt_us.len() as u64).collect();
    let fairness = Fairness::of(&per_pair);
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let (chatter, echoer) = match args.target {
        crate::Target::Haven => ("chatter", "advocate"),
        crate::Target::Relay => ("chatter", "echoer"),
    };
    for s in &m.chatters {
        for (code, n) in &s.errors {
            *errors.entry(format!("{chatter}:{code}")).or_default() += n;
        }
    }
    for s in &m.echoers {
        for (code, n) in &s.errors {
            *errors.entry(format!("{echoer}:{code}")).or_default() += n;
        }
    }
    let sum = |f: fn(&PairStats) -> u64| m.chatters.iter().map(f).sum::<u64>();
    let round_trips_per_sec = rtt.len() as f64 / args.seconds;
    // Each round trip is two deliveries: the chatter's message and the echo.
    let deliveries_per_sec = 2.0 * round_trips_per_sec;
    let cpu_pct = m.cpu_secs.map(|s| 100.0 * s / m.cpu_window_secs);
    let cpu_us_per_delivery = m
        .cpu_secs
        .filter(|_| deliveries_per_sec > 0.0)
        .map(|s| 1e6 * s / m.cpu_window_secs / deliveries_per_sec);
    let ms = |us: u32| us as f64 / 1000.0;
    let pct = |v: &[u32], p: f64| percentile(v, p).map(ms);
    let mem = &m.memory;
    // Haven's pairs are counted from after the logins (their memory is the password hashing's).
    let per_pair_kib = match (mem.logged_in.or(mem.before), mem.connected) {
        (Some(a), Some(b)) => Some((b as f64 - a as f64) / args.pairs as f64),
        _ => None,
    };

    json!({
        "target": format!("{:?}", args.target).to_lowercase(),
        "protocol": (args.target == crate::Target::Haven).then_some(args.protocol),
        "pairs": args.pairs,
        "rate_per_pair": args.rate,
        "mode": if args.rate == 0.0 { "closed_loop" } else { "open_loop" },
        "in_flight": args.in_flight,
        "seconds": args.seconds,
        "warmup_seconds": args.warmup,
        "text_bytes": args.text_bytes,
        "setup_secs": m.setup_secs,
        "logins_secs": m.logins_secs,
        "advocates_ready_secs": m.echoers_ready_secs,
        "sent": sum(|s| s.sent),
        "echoed": sum(|s| s.echoed),
        "measured_sent": sum(|s| s.measured_sent),
        "round_trips": rtt.len(),
        "round_trips_per_sec": round_trips_per_sec,
        // Every round trip is two chat messages (the chatter's and the echo), each delivered once.
        "chat_messages_per_sec": deliveries_per_sec,
        "deliveries_per_sec": deliveries_per_sec,
        "lost": sum(|s| s.lost),
        "errors": errors,
        "rtt_ms": {
            "p50": pct(&rtt, 50.0), "p90": pct(&rtt, 90.0), "p99": pct(&rtt, 99.0),
            "max": rtt.last().copied().map(ms),
        },
        "ack_ms": {
            "p50": pct(&ack, 50.0), "p90": pct(&ack, 90.0), "p99": pct(&ack, 99.0),
            "max": ack.last().copied().map(ms),
        },
        "fairness": fairness.as_ref().map(Fairness::to_json),
        "advocate_frames_in": m.echoers.iter().map(|s| s.frames_in).sum::<u64>(),
        "advocate_bytes_in": m.echoers.iter().map(|s| s.bytes_in).sum::<u64>(),
        "advocate_snapshot_frames_in": m.echoers.iter().map(|s| s.snapshot_frames).sum::<u64>(),
        "attack": args.attack.map(|kind| json!({
            "kind": format!("{kind:?}").to_lowercase(),
            "connections": args.attack_connections,
            "connections_made": m.attack_made,
            "rss_at_end_of_load_kib": mem.under_attack,
        })),
        "server": {
            "pid": args.server_pid,
            "rss_before_kib": mem.before,
            "rss_logged_in_kib": mem.logged_in,
            "rss_connected_kib": mem.connected,
            "rss_per_pair_kib": per_pair_kib,
            "rss_peak_sampled_kib": mem.peak_sampled,
            "vm_hwm_kib": mem.vm_hwm,
            "rss_after_kib": mem.after,
            "cpu_pct_of_one_core": cpu_pct,
            "cpu_us_per_delivery": cpu_us_per_delivery,
        },
    })
}

pub fn print_human(r: &Value) {
    let f = |v: &Value| {
        v.as_f64()
            .map(|x| format!("{x:.2}"))
            .unwrap_or_else(|| "-".into())
    };
    let k = |v: &Value| {
        v.as_u64()
            .map(|x| format!("{x} KiB"))
            .unwrap_or_else(|| "-".into())
    };
    let haven = r["target"] == "haven";
    let mode = if r["mode"] == "closed_loop" {
        format!("closed loop, {} in flight per pair", r["in_flight"])
    } else {
        format!("{}/s per pair", r["rate_per_pair"])
    };
    let what = if haven {
        format!("Haven (protocol {})", r["protocol"])
    } else {
        "the bare relay".to_string()
    };
    println!(
        "loadgen against {what}: {} pairs, {mode}, {}s measured after {}s warm-up, {}-byte messages",
        r["pairs"], r["seconds"], r["warmup_seconds"], r["text_bytes"]
    );
    if haven {
        println!(
            "setup:        {} s in all: logins {} s, every advocate available at {} s",
            f(&r["setup_secs"]),
            f(&r["logins_secs"]),
            f(&r["advocates_ready_secs"])
        );
    } else {
        println!(
            "setup:        {} s to connect every pair",
            f(&r["setup_secs"])
        );
    }
    println!(
        "throughput:   {} round trips/s = {} deliveries/s ({} round trips measured, {} sent in all, {} lost)",
        f(&r["round_trips_per_sec"]),
        f(&r["deliveries_per_sec"]),
        r["round_trips"],
        r["sent"],
        r["lost"]
    );
    let l = &r["rtt_ms"];
    println!(
        "round trip:   p50 {} ms  p90 {} ms  p99 {} ms  max {} ms",
        f(&l["p50"]),
        f(&l["p90"]),
        f(&l["p99"]),
        f(&l["max"])
    );
    if haven {
        let a = &r["ack_ms"];
        println!(
            "ack:          p50 {} ms  p90 {} ms  p99 {} ms  max {} ms",
            f(&a["p50"]),
            f(&a["p90"]),
            f(&a["p99"]),
            f(&a["max"])
        );
    }
    let fair = &r["fairness"];
    let per = &fair["round_trips_per_pair"];
    println!(
        "fairness:     least-served pair {} of the mean, 10th percentile {} (round trips per pair: min {}, p10 {}, mean {}, max {})",
        f(&fair["min_over_mean"]),
        f(&fair["p10_over_mean"]),
        per["min"],
        per["p10"],
        f(&per["mean"]),
        per["max"]
    );
    let errors = r["errors"].as_object().map(|m| m.len()).unwrap_or(0);
    println!(
        "errors:       {}",
        if errors == 0 {
            "none".to_string()
        } else {
            r["errors"].to_string()
        }
    );
    if haven {
        println!(
            "advocates:    {} frames / {} bytes received in all, {} of them queue/advocates snapshots",
            r["advocate_frames_in"], r["advocate_bytes_in"], r["advocate_snapshot_frames_in"]
        );
    }
    let s = &r["server"];
    if s["pid"].is_null() {
        println!("server:       (no --server-pid: memory and CPU not measured)");
    } else {
        let logins = if haven {
            format!(", after logins {}", k(&s["rss_logged_in_kib"]))
        } else {
            String::new()
        };
        println!(
            "server RSS:   before {}{logins}, connected {} ({} KiB per pair), peak {} (VmHWM {}), after {}",
            k(&s["rss_before_kib"]),
            k(&s["rss_connected_kib"]),
            f(&s["rss_per_pair_kib"]),
            k(&s["rss_peak_sampled_kib"]),
            k(&s["vm_hwm_kib"]),
            k(&s["rss_after_kib"])
        );
        println!(
            "server CPU:   {} % of one core during the measured window, {} µs per delivery",
            f(&s["cpu_pct_of_one_core"]),
            f(&s["cpu_us_per_delivery"])
        );
    }
}
