//! The registry of differentiable operations.
//!
//! Every graph node is tagged with an [`Op`]. [`Op::ALL`] is generated from the same list as the
//! enum, so adding a variant adds it to the registry, and the gradient-check suite and the
//! forward-reference table (`tests/gradcheck.rs`, `tests/forward_reference.rs`, which match on
//! `Op` without a wildcard) do not compile until the new op has a check in each. Ops of a user's
//! own, recorded with [`Var::custom`](crate::Var::custom), share the one tag [`Op::Custom`]: each
//! is its author's to check with [`gradcheck`](crate::gradcheck).

macro_rules! ops {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// A differentiable operation (the kind of a graph node).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Op {
            $($(#[$doc])* $variant,)*
        }

        impl Op {
            /// Every differentiable op.
            pub const ALL: &'static [Op] = &[$(Op::$variant,)*];

            /// The op's name, as used in error messages.
            pub fn name(self) -> &'static str {
                match self {
                    $(Op::$variant => $name,)*
                }
            }
        }
    };
}

ops! {
    /// [`Var::neg`](crate::Var::neg): `−x`.
    Neg => "neg",
    /// [`Var::exp`](crate::Var::exp): `eˣ`.
    Exp => "exp",
    /// [`Var::log`](crate::Var::log): `ln x`.
    Log => "log",
    /// [`Var::sqrt`](crate::Var::sqrt): `√x`.
    Sqrt => "sqrt",
    /// [`Var::tanh`](crate::Var::tanh): `tanh x`.
    Tanh => "tanh",
    /// [`Var::abs`](crate::Var::abs): `|x|`.
    Abs => "abs",
    /// [`Var::recip`](crate::Var::recip): `1/x`.
    Recip => "recip",
    /// [`Var::sigmoid`](crate::Var::sigmoid): `1/(1 + e⁻ˣ)`.
    Sigmoid => "sigmoid",
    /// [`Var::relu`](crate::Var::relu): `max(x, 0)`.
    Relu => "relu",
    /// [`Var::softplus`](crate::Var::softplus): `ln(1 + eˣ)`.
    Softplus => "softplus",
    /// [`Var::gelu`](crate::Var::gelu): GELU, tanh form.
    Gelu => "gelu",
    /// [`Var::gelu_erf`](crate::Var::gelu_erf): GELU, exact (erf) form.
    GeluErf => "gelu_erf",
    /// [`Var::sin`](crate::Var::sin): `sin x`.
    Sin => "sin",
    /// [`Var::cos`](crate::Var::cos): `cos x`.
    Cos => "cos",
    /// [`Var::clamp`](crate::Var::clamp): `x` brought into `[min, max]`.
    Clamp => "clamp",
    /// [`Var::where_cond`](crate::Var::where_cond): one of two values per element, by a
    /// constant condition.
    WhereCond => "where_cond",
    /// [`Var::pow_scalar`](crate::Var::pow_scalar): `xᵖ` for a constant `p`.
    PowScalar => "pow_scalar",
    /// [`Var::add_scalar`](crate::Var::add_scalar): `x + c`.
    AddScalar => "add_scalar",
    /// [`Var::mul_scalar`](crate::Var::mul_scalar): `c·x`.
    MulScalar => "mul_scalar",
    /// [`Var::div_scalar`](crate::Var::div_scalar): `x / c`.
    DivScalar => "div_scalar",
    /// [`Var::add`](crate::Var::add): `a + b`, broadcasting.
    Add => "add",
    /// [`Var::sub`](crate::Var::sub): `a − b`, broadcasting.
    Sub => "sub",
    /// [`Var::mul`](crate::Var::mul): `a·b`, broadcasting.
    Mul => "mul",
    /// [`Var::div`](crate::Var::div): `a / b`, broadcasting.
    Div => "div",
    /// [`Var::pow`](crate::Var::pow): `aᵇ`, broadcasting.
    Pow => "pow",
    /// [`Var::maximum`](crate::Var::maximum): `max(a, b)`, broadcasting.
    Maximum => "maximum",
    /// [`Var::minimum`](crate::Var::minimum): `min(a, b)`, broadcasting.
    Minimum => "minimum",
    /// [`Var::sum`](crate::Var::sum) and [`Var::sum_all`](crate::Var::sum_all).
    Sum => "sum",
    /// [`Var::mean`](crate::Var::mean) and [`Var::mean_all`](crate::Var::mean_all).
    Mean => "mean",
    /// [`Var::max`](crate::Var::max): the largest element along axes.
    Max => "max",
    /// [`Var::min`](crate::Var::min): the smallest element along axes.
    Min => "min",
    /// [`Var::reshape`](crate::Var::reshape) (and the squeezes and flattenings built on it).
    Reshape => "reshape",
    /// [`Var::permute`](crate::Var::permute) (and the transposes built on it).
    Permute => "permute",
    /// [`Var::narrow`](crate::Var::narrow): a slice along one axis.
    Narrow => "narrow",
    /// [`Var::broadcast_to`](crate::Var::broadcast_to).
    BroadcastTo => "broadcast_to",
    /// [`Var::concat`](crate::Var::concat) (and [`Var::stack`](crate::Var::stack)).
    Concat => "concat",
    /// [`Var::index_select`](crate::Var::index_select): rows gathered by index.
    IndexSelect => "index_select",
    /// [`Var::gather`](crate::Var::gather): one entry picked by index per position.
    Gather => "gather",
    /// [`Var::scatter_add`](crate::Var::scatter_add): entries added at indexed positions.
    ScatterAdd => "scatter_add",
    /// [`Var::matmul`](crate::Var::matmul): batched matrix product.
    Matmul => "matmul",
    /// [`Var::softmax`](crate::Var::softmax) (and [`Var::scaled_softmax`](crate::Var::scaled_softmax)).
    Softmax => "softmax",
    /// [`Var::log_softmax`](crate::Var::log_softmax).
    LogSoftmax => "log_softmax",
    /// [`Var::layer_norm`](crate::Var::layer_norm).
    LayerNorm => "layer_norm",
    /// [`Var::softmax_cross_entropy`](crate::Var::softmax_cross_entropy).
    SoftmaxCrossEntropy => "softmax_cross_entropy",
    /// [`Var::sigmoid_binary_cross_entropy`](crate::Var::sigmoid_binary_cross_entropy).
    SigmoidBinaryCrossEntropy => "sigmoid_binary_cross_entropy",
    /// An op defined outside this crate with [`Var::custom`](crate::Var::custom): its value and
    /// its backward rule are the caller's.
    Custom => "custom",
}
