//! Learning-rate schedules: the learning rate as a function of the step.

use std::f64::consts::PI;

/// The reference's learning-rate schedule: linear warmup from 0 to `base` over `warmup` steps,
/// then cosine decay to 0 at `total`:
/// `lr(s) = base · min(1, s/warmup) · ½(1 + cos(π·p))` with
/// `p = clamp((s − warmup)/(total − warmup), 0, 1)`.
///
/// ```
/// use nn::lr_schedule::WarmupCosine;
/// let lr = WarmupCosine { base: 0.1, warmup: 10, total: 110 };
/// assert_eq!(lr.at(0), 0.0);
/// assert!((lr.at(5) - 0.05).abs() < 1e-12); // half-way up the warmup
/// assert!((lr.at(10) - 0.1).abs() < 1e-12); // the peak
/// assert!((lr.at(60) - 0.05).abs() < 1e-12); // half-way down the cosine
/// assert!(lr.at(110).abs() < 1e-12);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct WarmupCosine {
    /// The peak rate.
    pub base: f64,
    /// Steps of linear warmup.
    pub warmup: u64,
    /// The step at which the rate reaches 0; greater than `warmup` (with `total ≤ warmup` there
    /// is no decay: the rate peaks at step `warmup` and is 0 from the next step on; `polyvit`'s
    /// configuration refuses such a schedule).
    pub total: u64,
}

impl WarmupCosine {
    /// The learning rate at step `step` (counting from 0).
    pub fn at(&self, step: u64) -> f64 {
        self.base * warmup_factor(step, self.warmup) * cosine_factor(step, self.warmup, self.total)
    }
}

/// `min(1, s/warmup)` (1 when there is no warmup).
///
/// ```
/// use nn::lr_schedule::{cosine_factor, warmup_factor};
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
/// use nn::lr_schedule::{cosine_factor, warmup_factor};
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
        let s = WarmupCosine {
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
}
