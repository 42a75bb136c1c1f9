//! The registry of differentiable operations.
//!
//! Every graph node is tagged with an [`Op`]. [`Op::ALL`] is generated from the same list as the
//! enum, so adding a variant adds it to the registry, and the gradient-check suite then fails until
//! the new op has a check.

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
    Neg => "neg",
    Exp => "exp",
    Log => "log",
    Sqrt => "sqrt",
    Tanh => "tanh",
    Abs => "abs",
    Recip => "recip",
    Sigmoid => "sigmoid",
    Relu => "relu",
    Softplus => "softplus",
    Gelu => "gelu",
    PowScalar => "pow_scalar",
    AddScalar => "add_scalar",
    MulScalar => "mul_scalar",
    DivScalar => "div_scalar",
    Add => "add",
    Sub => "sub",
    Mul => "mul",
    Div => "div",
    Pow => "pow",
    Maximum => "maximum",
    Minimum => "minimum",
    Sum => "sum",
    Mean => "mean",
    Max => "max",
    Min => "min",
    Reshape => "reshape",
    Permute => "permute",
    Narrow => "narrow",
    BroadcastTo => "broadcast_to",
    Concat => "concat",
    IndexSelect => "index_select",
    Matmul => "matmul",
    Softmax => "softmax",
    LogSoftmax => "log_softmax",
    LayerNorm => "layer_norm",
    SoftmaxCrossEntropy => "softmax_cross_entropy",
    SigmoidBinaryCrossEntropy => "sigmoid_binary_cross_entropy",
    /// An op defined outside this crate with [`Var::custom`](crate::Var::custom): its value and
    /// its backward rule are the caller's.
    Custom => "custom",
}
