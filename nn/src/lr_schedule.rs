//! Learning-rate schedules: the learning rate as a function of the step.

use std::f64::consts::PI;

/// A learning-rate schedule.
///
/// ```
/// use nn::lr_schedule::{cosine_factor, warmup_factor, LrSchedule};
/// let lr = LrSchedule::WarmupCosine { base: 0.1, warmup: 10, total: 110 };
/// assert_eq!(lr.at(0), 0.0);
/// assert!((lr.at(5) - 0.05).abs() < 1e-12); // half-way up the warmup
/// assert!((lr.at(10) - 0.1).abs() < 1e-12); // the peak
/// assert!((lr.at(60) - 0.05).abs() < 1e-12); // half-way down the cosine
/// assert!(lr.at(110).abs() < 1e-12);
/// assert_eq!(LrSchedule::PerStep { base: 2.0, multipliers: vec![1.0, 0.5] }.at(7), 1.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum LrSchedule {
    /// The same rate at every step.
    Constant(f64),
    /// Linear warmup from 0 to `base` over `warmup` steps, then cosine decay to 0 at `total`:
    /// `lr(s) = base · min(1, s/warmup) · ½(1 + cos(π·p))` with
    /// `p = clamp((s − warmup)/(total − warmup), 0, 1)`.
    WarmupCosine {
        /// The peak rate.
        base: f64,
        /// Steps of linear warmup.
        warmup: u64,
        /// The step at which the rate reaches 0.
        total: u64,
    },
    /// An explicit multiplier per step (steps past the end reuse the last one) times `base`.
    PerStep {
        /// The rate that the multipliers scale.
        base: f64,
        /// One multiplier per step.
        multipliers: Vec<f64>,
    },
}

impl LrSchedule {
    /// The learning rate at step `step` (counting from 0).
    pub fn at(&self, step: u64) -> f64 {
        match self {
            LrSchedule::Constant(lr) => *lr,
            LrSchedule::WarmupCosine {
                base,
                warmup,
                total,
            } => base * warmup_factor(step, *warmup) * cosine_factor(step, *warmup, *total),
            LrSchedule::PerStep { base, multipliers } => {
                let index = (step as usize).min(multipliers.len().saturating_sub(1));
                base * multipliers.get(index).copied().unwrap_or(1.0)
            }
        }
    }
}

/// `min(1, s/warmup)` (1 when there is no warmup).
///
/// ```
/// use nn::lr_schedule::{cosine_factor, warmup_factor, LrSchedule};
/// assert_eq!([warmup_factor(0, 4), warmup_factor(1, 4), warmup_factor(9, 4)], [0.0, 0.25, 1.0]);
/// assert_eq!(warmup_factor(0, 0), 1.0);
/// ```
pub fn warmup_factor(step: u64, warmup: u64) -> f64 {
    if warmup == 0 {
        1.0
    } else {
        (step as f64 / warmup as f64).min(1.0)
    }
}

/// `½(1 + cos(π·p))` with `p` the fraction of the post-warmup steps done.
///
/// ```
/// use nn::lr_schedule::{cosine_factor, warmup_factor, LrSchedule};
/// assert_eq!(cosine_factor(5, 10, 110), 1.0); // still warming up
/// assert!((cosine_factor(60, 10, 110) - 0.5).abs() < 1e-12);
/// assert!(cosine_factor(110, 10, 110).abs() < 1e-12);
/// ```
pub fn cosine_factor(step: u64, warmup: u64, total: u64) -> f64 {
    let span = total.saturating_sub(warmup).max(1) as f64;
    let progress = (step.saturating_sub(warmup) as f64 / span).clamp(0.0, 1.0);
    0.5 * (1.0 + (PI * progress).cos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_cosine_rises_linearly_then_decays_to_zero() {
        let s = LrSchedule::WarmupCosine {
            base: 0.1,
            warmup: 10,
            total: 110,
        };
        assert_eq!(s.at(0), 0.0);
        assert!((s.at(5) - 0.05).abs() < 1e-12);
        assert!((s.at(10) - 0.1).abs() < 1e-12);
        assert!(
            (s.at(60) - 0.05).abs() < 1e-12,
            "half-way through the decay the rate is halved"
        );
        assert!(s.at(110).abs() < 1e-12);
        assert!(s.at(200).abs() < 1e-12);
    }

    #[test]
    fn per_step_multipliers_hold_their_last_value() {
        let s = LrSchedule::PerStep {
            base: 2.0,
            multipliers: vec![1.0, 0.5, 0.25],
        };
        assert_eq!([s.at(0), s.at(1), s.at(2), s.at(9)], [2.0, 1.0, 0.5, 0.5]);
        assert_eq!(LrSchedule::Constant(0.3).at(1000), 0.3);
    }
}
