//! A shared budget for attempts at deletion codes.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

/// Guesses at deletion codes are pointless (80 bits), and this keeps them so: a budget for
/// every caller together, since Haven keeps nothing that tells callers apart.
pub struct ForgetBudget {
    window: Mutex<(Instant, u32)>,
}

const FORGET_PER_MINUTE: u32 = 30;

impl Default for ForgetBudget {
    fn default() -> Self {
        ForgetBudget {
            window: Mutex::new((Instant::now(), 0)),
        }
    }
}

impl ForgetBudget {
    pub fn allow(&self) -> bool {
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        if window.0.elapsed() >= Duration::from_secs(60) {
            *window = (Instant::now(), 0);
        }
        window.1 += 1;
        window.1 <= FORGET_PER_MINUTE
    }
}
