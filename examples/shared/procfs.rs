//! What the load tools read about the server process from `/proc`: resident memory, its
//! high-water mark and CPU time, and a sampler that keeps the peak.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{sleep, Instant};

/// RSS sampling period.
const SAMPLE_EVERY: Duration = Duration::from_millis(50);
/// The sampler stops by itself after this long, whatever happens to its owner.
const SAMPLE_AT_MOST: Duration = Duration::from_secs(1800);

/// A `kB` line of `/proc/<pid>/status`, e.g. `VmRSS:`.
pub fn status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Resident memory now.
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

/// The kernel's own peak of resident memory since the process started.
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}

/// utime + stime of the process, in clock ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the state (field 3).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

pub fn clock_ticks_per_sec() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Samples a process's RSS every 50 ms and keeps the highest value seen.
pub struct PeakSampler {
    peak: Arc<AtomicU64>,
    running: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl PeakSampler {
    /// Starts sampling `pid`; `floor` is a value already seen (it counts as the peak so far).
    pub fn start(pid: u32, floor: u64) -> Self {
        let peak = Arc::new(AtomicU64::new(floor));
        let running = Arc::new(AtomicBool::new(true));
        let task = tokio::spawn({
            let (peak, running) = (peak.clone(), running.clone());
            async move {
                let cap = Instant::now() + SAMPLE_AT_MOST;
                while running.load(Ordering::Relaxed) && Instant::now() < cap {
                    if let Some(kib) = rss_kib(pid) {
                        peak.fetch_max(kib, Ordering::Relaxed);
                    }
                    sleep(SAMPLE_EVERY).await;
                }
            }
        });
        Self {
            peak,
            running,
            task,
        }
    }

    /// Stops sampling; the peak seen.
    pub async fn stop(self) -> u64 {
        self.running.store(false, Ordering::Relaxed);
        let _ = self.task.await;
        self.peak.load(Ordering::Relaxed)
    }
}
