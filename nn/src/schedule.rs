//! Learning-rate schedules: the learning rate as a function of the step.

use std::f64::consts::PI;

/// A learning-rate schedule.
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    /// The same rate at every step.
    Constant(f64),
    /// Linear warmup from 0 to `base` over `warmup` steps, then cosine decay to 0 at `total`:
    /// `lr(s) = base · min(1, s/warmup) · ½(1 + cos(π·p))` with `p = clamp((s − warmup)/(total − warmup), 0, 1)`.
    WarmupCosine { base: f64, warmup: u64, total: u64 },
    /// An explicit multiplier per step (steps past the end reuse the last one) times `base`.
    PerStep { base: f64, multipliers: Vec<f64> },
}

impl Schedule {
    /// The learning rate at step `step` (counting from 0).
    pub fn at(&self, step: u64) -> f64 {
        match self {
            Schedule::Constant(lr) => *lr,
            Schedule::WarmupCosine {
                base,
                warmup,
                total,
            } => base * warmup_factor(step, *warmup) * cosine_factor(step, *warmup, *total),
            Schedule::PerStep { base, multipliers } => {
                let index = (step as usize).min(multipliers.len().saturating_sub(1));
                base * multipliers.get(index).copied().unwrap_or(1.0)
            }
        }
    }
}

/// `min(1, s/warmup)` (1 when there is no warmup).
pub fn warmup_factor(step: u64, warmup: u64) -> f64 {
    if warmup == 0 {
        1.0
    } else {
        (step as f64 / warmup as f64).min(1.0)
    }
}

/// `½(1 + cos(π·p))` with `p` the fraction of the post-warmup steps done.
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
        let s = Schedule::WarmupCosine {
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
        let s = Schedule::PerStep {
            base: 2.0,
            multipliers: vec![1.0, 0.5, 0.25],
        };
        assert_eq!([s.at(0), s.at(1), s.at(2), s.at(9)], [2.0, 1.0, 0.5, 0.5]);
        assert_eq!(Schedule::Constant(0.3).at(1000), 0.3);
    }
}
