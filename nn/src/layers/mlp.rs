//! The transformer's feed-forward block.

use super::{Dropout, Linear, LinearInit};
use crate::{impl_parameters, Context, Module};
use autograd::Var;
use tensor::{DType, Result, Rng};

/// Which of GELU's two forms an MLP applies. Weights trained with one give other outputs
/// through the other (the two differ by up to 4.7·10⁻⁴ per activation), so a model loaded from
/// elsewhere should use the form it was trained with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Gelu {
    /// `½x(1 + tanh(√(2/π)(x + 0.044715x³)))` ([`Var::gelu`]): the reference PolyViT's (Flax's
    /// `nn.gelu` default) and the cheaper of the two.
    #[default]
    Tanh,
    /// `x·Φ(x)`, `Φ` the standard normal CDF ([`Var::gelu_erf`]): `torch.nn.GELU()`'s default,
    /// and timm's and Hugging Face's ViTs'.
    Erf,
}

impl Gelu {
    /// Both forms, in the order of their names.
    pub const ALL: [Gelu; 2] = [Gelu::Tanh, Gelu::Erf];

    /// The form's name in configurations: `tanh` or `erf`.
    pub fn name(self) -> &'static str {
        match self {
            Gelu::Tanh => "tanh",
            Gelu::Erf => "erf",
        }
    }

    /// The form a name (as [`Gelu::name`] writes it) stands for, or `None`.
    pub fn from_name(name: &str) -> Option<Gelu> {
        Gelu::ALL.into_iter().find(|form| form.name() == name)
    }

    /// This form of GELU applied to every element of `x`.
    pub fn apply(self, x: &Var) -> Result<Var> {
        match self {
            Gelu::Tanh => x.gelu(),
            Gelu::Erf => x.gelu_erf(),
        }
    }
}

/// `fc2(dropout(gelu(fc1(x))))`, followed by dropout, with either form of GELU.
///
/// ```
/// use autograd::Var;
/// use nn::layers::{Gelu, Mlp};
/// use nn::{Context, Module, Parameters};
/// use tensor::{DType, Tensor};
/// let mlp = Mlp::new(4, 8, Gelu::Tanh, 0.0, DType::F64, &mut tensor::rng(0));
/// let x = Var::constant(Tensor::randn(&[2, 5, 4], 0.0, 1.0, DType::F64, &mut tensor::rng(1)));
/// let ctx = &mut Context::eval();
/// let y = mlp.forward(&x, ctx)?;
/// assert_eq!(y.shape(), [2, 5, 4]);
/// let by_hand = mlp.fc2.forward(&mlp.fc1.forward(&x, ctx)?.gelu()?, ctx)?;
/// assert_eq!(y.value().to_vec_f64()?, by_hand.value().to_vec_f64()?);
/// assert_eq!(mlp.parameter_count(), (4 * 8 + 8) + (8 * 4 + 4));
/// # Ok::<(), tensor::Error>(())
/// ```
pub struct Mlp {
    /// `dim → hidden`.
    pub fc1: Linear,
    /// `hidden → dim`.
    pub fc2: Linear,
    /// Applied after the GELU and after `fc2`.
    pub dropout: Dropout,
    /// The form of GELU between `fc1` and `fc2`.
    pub gelu: Gelu,
}

impl_parameters!(Mlp { fc1, fc2 });

impl Mlp {
    /// `dim → hidden → dim`, Xavier-uniform weights and `N(0, 10⁻¹²)` biases (the reference's).
    pub fn new(
        dim: usize,
        hidden: usize,
        gelu: Gelu,
        dropout: f64,
        dtype: DType,
        rng: &mut Rng,
    ) -> Self {
        let init = LinearInit::XavierUniformNormalBias(1e-6);
        Mlp {
            fc1: Linear::new(dim, hidden, init, dtype, rng),
            fc2: Linear::new(hidden, dim, init, dtype, rng),
            dropout: Dropout { rate: dropout },
            gelu,
        }
    }
}

impl Module for Mlp {
    fn forward(&self, x: &Var, ctx: &mut Context) -> Result<Var> {
        let hidden = self
            .dropout
            .forward(&self.gelu.apply(&self.fc1.forward(x, ctx)?)?, ctx)?;
        self.dropout.forward(&self.fc2.forward(&hidden, ctx)?, ctx)
    }
}
