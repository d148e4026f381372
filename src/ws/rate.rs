//! A token bucket per connection: a burst, then a steady rate.

use tokio::time::Instant;

pub struct RateLimiter {
    capacity: f64,
    per_sec: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    pub fn new(burst: u32, per_sec: u32) -> RateLimiter {
        RateLimiter {
            capacity: f64::from(burst),
            per_sec: f64::from(per_sec),
            tokens: f64::from(burst),
            last: Instant::now(),
        }
    }

    /// How long until the next token, from the last `try_take`.
    pub fn retry_after(&self) -> std::time::Duration {
        let missing = (1.0 - self.tokens).max(0.0);
        std::time::Duration::from_secs_f64(missing / self.per_sec)
    }

    /// Takes one token if there is one.
    pub fn try_take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * self.per_sec;
        self.tokens = (self.tokens + refill).min(self.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn burst_then_steady_rate() {
        let mut limiter = RateLimiter::new(3, 2);
        assert!((0..3).all(|_| limiter.try_take()));
        assert!(!limiter.try_take());
        tokio::time::advance(std::time::Duration::from_millis(500)).await;
        assert!(limiter.try_take());
        assert!(!limiter.try_take());
        assert_eq!(limiter.retry_after().as_millis(), 500);
    }
}
