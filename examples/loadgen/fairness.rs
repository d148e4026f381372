//! Per-pair fairness: how evenly the server shared its throughput among the pairs. Each pair's
//! share is the round trips it completed in the measured window; `min_over_mean` is the
//! least-served pair's share of the mean (1.0 = perfectly even; the goal of issue 10 is at least
//! 0.9 with 1,000 pairs), `p10_over_mean` the same for the 10th percentile, which one unlucky
//! pair does not move.

use serde_json::{json, Value};

use crate::percentile::percentile;

/// Round trips per pair in the measured window, summarised.
#[derive(Debug, PartialEq)]
pub struct Fairness {
    pub min: u64,
    pub p10: u64,
    pub mean: f64,
    pub max: u64,
}

impl Fairness {
    /// `None` without pairs.
    pub fn of(per_pair: &[u64]) -> Option<Self> {
        let mut sorted = per_pair.to_vec();
        sorted.sort_unstable();
        let mean = sorted.iter().sum::<u64>() as f64 / sorted.len().max(1) as f64;
        Some(Self {
            min: *sorted.first()?,
            p10: percentile(&sorted, 10.0)?,
            mean,
            max: *sorted.last()?,
        })
    }

    /// `min / mean`; `None` when no pair completed anything.
    pub fn min_over_mean(&self) -> Option<f64> {
        (self.mean > 0.0).then(|| self.min as f64 / self.mean)
    }

    pub fn p10_over_mean(&self) -> Option<f64> {
        (self.mean > 0.0).then(|| self.p10 as f64 / self.mean)
    }

    pub fn to_json(&self) -> Value {
        json!({
            "min_over_mean": self.min_over_mean(),
            "p10_over_mean": self.p10_over_mean(),
            "round_trips_per_pair": {
                "min": self.min, "p10": self.p10, "mean": self.mean, "max": self.max,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_even_share_is_one_and_the_least_served_pair_sets_the_minimum() {
        let even = Fairness::of(&[10, 10, 10, 10]).unwrap();
        assert_eq!(even.min_over_mean(), Some(1.0));
        let uneven = Fairness::of(&[5, 10, 10, 15, 10, 10, 10, 10, 10, 10]).unwrap();
        assert_eq!(uneven.min_over_mean(), Some(0.5));
        assert_eq!(uneven.p10, 5);
        assert_eq!(uneven.max, 15);
    }

    #[test]
    fn nothing_completed_has_no_ratio() {
        assert_eq!(Fairness::of(&[0, 0]).unwrap().min_over_mean(), None);
        assert_eq!(Fairness::of(&[]), None);
    }
}
