//! The run's optimizer, chosen in the configuration: SGD with momentum (the paper's) or AdamW.

use nn::optim::{AdamW, Optimizer, Sgd};
use serde::{Deserialize, Serialize};

/// Which optimizer a run updates its parameters with, and its settings (the `[optimizer]` table
/// of the configuration, selected by `name`). A setting left out takes the default run's value
/// (β₁, β₂ and ε are PyTorch's defaults; weight decay 0.05) or, for SGD, the paper's momentum
/// 0.9, so `[optimizer] name = "adamw"` alone is the default run's optimizer and
/// `name = "sgd"` alone the paper's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// Heavy-ball momentum in the reference's form, `m ← g + μ·m`, `θ ← θ − lr·m`, one momentum
    /// buffer per parameter, shared by every task's steps; by default no weight decay (as the
    /// paper) and no Nesterov momentum (see [`nn::optim::Sgd`]).
    Sgd {
        /// `μ`, in [0, 1); 0.9 when left out.
        #[serde(default = "defaults::momentum")]
        momentum: f64,
        /// `λ` of the L2 decay added to each gradient, `g ← g + λθ` (PyTorch's SGD
        /// `weight_decay`); 0 or positive; 0 when left out (and then not written).
        #[serde(default, skip_serializing_if = "defaults::is_zero")]
        weight_decay: f64,
        /// Step along `g + μ·m` instead of `m`; needs `μ > 0`; off when left out (and then not
        /// written).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        nesterov: bool,
    },
    /// Adam with decoupled weight decay (PyTorch's `AdamW`), applied to every parameter.
    Adamw {
        /// `β₁`, the decay of the first moment, in [0, 1); 0.9 when left out.
        #[serde(default = "defaults::beta1")]
        beta1: f64,
        /// `β₂`, the decay of the second moment, in [0, 1); 0.999 when left out.
        #[serde(default = "defaults::beta2")]
        beta2: f64,
        /// `ε`, added to `√v̂`; positive; 1e-8 when left out.
        #[serde(default = "defaults::eps")]
        eps: f64,
        /// `λ`: each step multiplies every parameter by `1 − lr·λ`; 0 or positive; the default
        /// run's 0.05 when left out (PyTorch's is 0.01).
        #[serde(default = "defaults::weight_decay")]
        weight_decay: f64,
    },
}

/// The values of the settings a configuration leaves out.
mod defaults {
    pub fn momentum() -> f64 {
        0.9
    }
    pub fn beta1() -> f64 {
        0.9
    }
    pub fn beta2() -> f64 {
        0.999
    }
    pub fn eps() -> f64 {
        1e-8
    }
    pub fn weight_decay() -> f64 {
        0.05
    }
    pub fn is_zero(value: &f64) -> bool {
        *value == 0.0
    }
}

impl Default for OptimizerConfig {
    /// The default run's: AdamW with weight decay 0.05 (chosen on validation; `TrainConfig`).
    fn default() -> Self {
        OptimizerConfig::adamw(defaults::weight_decay())
    }
}

impl OptimizerConfig {
    /// The paper's optimizer: SGD with momentum 0.9.
    pub fn sgd() -> OptimizerConfig {
        OptimizerConfig::Sgd {
            momentum: defaults::momentum(),
            weight_decay: 0.0,
            nesterov: false,
        }
    }

    /// AdamW with PyTorch's defaults for β₁, β₂ and ε, and weight decay `weight_decay`.
    pub fn adamw(weight_decay: f64) -> OptimizerConfig {
        OptimizerConfig::Adamw {
            beta1: defaults::beta1(),
            beta2: defaults::beta2(),
            eps: defaults::eps(),
            weight_decay,
        }
    }

    /// The optimizer's name in the configuration (`sgd`, `adamw`).
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerConfig::Sgd { .. } => "sgd",
            OptimizerConfig::Adamw { .. } => "adamw",
        }
    }

    /// Values of state the optimizer keeps per parameter: SGD's momentum, AdamW's two moments.
    pub fn state_per_parameter(&self) -> u64 {
        match self {
            OptimizerConfig::Sgd { .. } => 1,
            OptimizerConfig::Adamw { .. } => 2,
        }
    }

    /// Checks every value's range; the error names the key and the value.
    pub fn validate(&self) -> Result<(), String> {
        let in_unit = |key: &str, v: f64| {
            if v.is_finite() && (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("optimizer.{key} = {v}: must be in [0, 1)"))
            }
        };
        let decay = |weight_decay: f64| {
            if weight_decay.is_finite() && weight_decay >= 0.0 {
                Ok(())
            } else {
                Err(format!(
                    "optimizer.weight_decay = {weight_decay}: must be 0 or positive and finite"
                ))
            }
        };
        match *self {
            OptimizerConfig::Sgd {
                momentum,
                weight_decay,
                nesterov,
            } => {
                in_unit("momentum", momentum)?;
                decay(weight_decay)?;
                if nesterov && momentum == 0.0 {
                    return Err(
                        "optimizer.nesterov = true: needs optimizer.momentum above 0 (it is 0)"
                            .into(),
                    );
                }
                Ok(())
            }
            OptimizerConfig::Adamw {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => {
                in_unit("beta1", beta1)?;
                in_unit("beta2", beta2)?;
                if !(eps.is_finite() && eps > 0.0) {
                    return Err(format!(
                        "optimizer.eps = {eps}: must be positive and finite"
                    ));
                }
                decay(weight_decay)
            }
        }
    }

    /// A fresh optimizer (no state yet) with these settings.
    pub fn build(&self) -> Box<dyn Optimizer> {
        match *self {
            OptimizerConfig::Sgd {
                momentum,
                weight_decay,
                nesterov,
            } => Box::new(
                Sgd::new(momentum)
                    .weight_decay(weight_decay)
                    .nesterov(nesterov),
            ),
            OptimizerConfig::Adamw {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => Box::new(AdamW::new(beta1, beta2, eps, weight_decay)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        optimizer: OptimizerConfig,
    }

    #[test]
    fn both_optimizers_round_trip_as_a_named_table() {
        for optimizer in [OptimizerConfig::sgd(), OptimizerConfig::adamw(0.05)] {
            let holder = Holder { optimizer };
            let text = toml::to_string(&holder).unwrap();
            assert!(
                text.contains(&format!("name = \"{}\"", holder.optimizer.name())),
                "{text}"
            );
            assert_eq!(toml::from_str::<Holder>(&text).unwrap(), holder);
        }
    }

    /// `name` alone is a whole optimizer: every setting left out takes its documented default.
    #[test]
    fn settings_left_out_take_their_defaults() {
        let read = |text: &str| toml::from_str::<Holder>(text).unwrap().optimizer;
        assert_eq!(
            read("[optimizer]\nname = \"sgd\"\n"),
            OptimizerConfig::sgd()
        );
        let nesterov = "[optimizer]\nname = \"sgd\"\nweight_decay = 1e-4\nnesterov = true\n";
        assert_eq!(
            read(nesterov),
            OptimizerConfig::Sgd {
                momentum: 0.9,
                weight_decay: 1e-4,
                nesterov: true,
            }
        );
        // Left at their defaults, the two are not written: files stay as they were.
        let plain = toml::to_string(&Holder {
            optimizer: OptimizerConfig::sgd(),
        })
        .unwrap();
        assert!(
            !plain.contains("nesterov") && !plain.contains("weight_decay"),
            "{plain}"
        );
        assert_eq!(
            read("[optimizer]\nname = \"adamw\"\n"),
            OptimizerConfig::default()
        );
        assert_eq!(
            read("[optimizer]\nname = \"adamw\"\nweight_decay = 0.05\nbeta2 = 0.98\n"),
            OptimizerConfig::Adamw {
                beta1: 0.9,
                beta2: 0.98,
                eps: 1e-8,
                weight_decay: 0.05,
            }
        );
    }

    #[test]
    fn keys_of_the_other_optimizer_and_unknown_names_are_refused() {
        let err = toml::from_str::<Holder>("[optimizer]\nname = \"adamw\"\nmomentum = 0.9\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("momentum"), "{err}");
        let err = toml::from_str::<Holder>("[optimizer]\nname = \"lion\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("lion"), "{err}");
    }

    #[test]
    fn out_of_range_values_are_named() {
        let cases = [
            (
                OptimizerConfig::Sgd {
                    momentum: 1.0,
                    weight_decay: 0.0,
                    nesterov: false,
                },
                "optimizer.momentum = 1",
            ),
            (
                OptimizerConfig::Sgd {
                    momentum: 0.9,
                    weight_decay: -1.0,
                    nesterov: false,
                },
                "optimizer.weight_decay = -1",
            ),
            (
                OptimizerConfig::Sgd {
                    momentum: 0.0,
                    weight_decay: 0.0,
                    nesterov: true,
                },
                "optimizer.nesterov = true: needs optimizer.momentum above 0",
            ),
            (
                OptimizerConfig::Adamw {
                    beta1: 0.9,
                    beta2: f64::NAN,
                    eps: 1e-8,
                    weight_decay: 0.0,
                },
                "optimizer.beta2 = NaN",
            ),
            (
                OptimizerConfig::Adamw {
                    beta1: 0.9,
                    beta2: 0.999,
                    eps: 0.0,
                    weight_decay: 0.0,
                },
                "optimizer.eps = 0",
            ),
            (
                OptimizerConfig::adamw(-0.1),
                "optimizer.weight_decay = -0.1",
            ),
        ];
        for (config, expected) in cases {
            let err = config.validate().unwrap_err();
            assert!(
                err.contains(expected),
                "{err:?} should contain {expected:?}"
            );
        }
        assert!(OptimizerConfig::sgd().validate().is_ok());
        assert!(OptimizerConfig::adamw(0.05).validate().is_ok());
    }
}
