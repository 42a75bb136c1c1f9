//! The `Backend` trait: the small set of kernels every device provides.
//!
//! Kernels read their inputs through a [`Layout`] (so transposed, narrowed and broadcast views are
//! consumed without copies) and write fresh, contiguous, row-major outputs. Everything the tensor
//! library offers is built from these primitives, plus a few fused ops (softmax, layer norm, the
//! AdamW update) whose speed matters enough to deserve a kernel of their own. Each fused op has a default composed of
//! the primitives (`composed.rs`), so a new backend is correct before it is fast.
//!
//! The trait is not exported: kernels trust their arguments, and [`Storage`](crate::Storage), the
//! only way in from outside this crate, checks every layout, axis and index against the buffers
//! before it calls one.

use crate::composed;
use crate::ops::{ArgKind, BinaryOp, ReduceOp, UnaryOp};
use crate::{Element, Layout, Result};

/// The outputs of a layer-norm forward pass over the last axis of its input, each held in a `B`
/// (a backend's buffer, a [`Storage`](crate::Storage), or a `tensor::Tensor`).
pub struct LayerNormOutput<B> {
    /// `y = (x − mean)·rstd·γ + β`, the input's shape.
    pub y: B,
    /// Per-row mean: one per row, the input's shape without its last axis.
    pub mean: B,
    /// Per-row `1/√(var + ε)`, as `mean`.
    pub rstd: B,
}

/// The gradients of a layer norm with respect to its input (the input's shape), scale and shift
/// (the last axis's size each), held as [`LayerNormOutput`]'s are.
pub struct LayerNormGrads<B> {
    /// `∂L/∂x`, the input's shape.
    pub dx: B,
    /// `∂L/∂γ = Σ_rows dy·x̂` with `x̂ = (x − mean)·rstd`, one per entry of the last axis.
    pub dgamma: B,
    /// `∂L/∂β = Σ_rows dy`, one per entry of the last axis.
    pub dbeta: B,
}

/// The scalars of one AdamW update ([`Storage::adamw_update`](crate::Storage::adamw_update)):
/// the learning rate, the optimizer's settings and this step's bias corrections
/// `c₁ = 1 − β₁ᵗ`, `c₂ = 1 − β₂ᵗ`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWStep {
    /// This step's learning rate `η`, which scales both the update and the weight decay.
    pub lr: f64,
    /// `β₁`: the decay of the first moment, `m ← β₁·m + (1 − β₁)·g`.
    pub beta1: f64,
    /// `β₂`: the decay of the second moment, `v ← β₂·v + (1 − β₂)·g²`.
    pub beta2: f64,
    /// `ε`, added to `√(v/c₂)` before it divides, so a zero second moment does not divide by 0.
    pub eps: f64,
    /// `λ`, decoupled weight decay: the parameter is first scaled by `1 − η·λ` (0 = none).
    pub weight_decay: f64,
    /// `c₁ = 1 − β₁ᵗ` for step `t` (counted from 1), which the first moment is divided by.
    pub bias_correction1: f64,
    /// `c₂ = 1 − β₂ᵗ` for step `t` (counted from 1), which the second moment is divided by.
    pub bias_correction2: f64,
}

/// An [`AdamWStep`]'s scalars in the element type, rounded once each as the composed default
/// (`composed.rs`) rounds them, so a fused kernel that is handed these computes its numbers.
#[derive(Clone, Copy)]
pub(crate) struct AdamWScalars<T> {
    pub beta1: T,
    pub beta2: T,
    pub one_minus_beta1: T,
    pub one_minus_beta2: T,
    pub bias_correction1: T,
    pub bias_correction2: T,
    pub eps: T,
    pub lr: T,
    /// `1 − lr·λ`, the factor weight decay scales the parameter by.
    pub decay: T,
}

impl AdamWStep {
    /// This step's scalars in `T`.
    pub(crate) fn scalars<T: Element>(&self) -> AdamWScalars<T> {
        let t = T::from_f64;
        AdamWScalars {
            beta1: t(self.beta1),
            beta2: t(self.beta2),
            one_minus_beta1: t(1.0 - self.beta1),
            one_minus_beta2: t(1.0 - self.beta2),
            bias_correction1: t(self.bias_correction1),
            bias_correction2: t(self.bias_correction2),
            eps: t(self.eps),
            lr: t(self.lr),
            decay: t(1.0 - self.lr * self.weight_decay),
        }
    }
}

/// A device: where buffers live and how kernels run on them.
///
/// Preconditions, established by `Storage` for every call: every layout lies inside its buffer
/// (`Layout::end() ≤ len`), operand shapes agree as each method states, axes are in range, and
/// every index in an index list is below the size of the axis it indexes.
pub trait Backend: Send + Sync {
    /// A buffer of `T` on this device.
    type Buffer<T: Element>: Send + Sync;
    /// A list of indices on this device (for gathers and scatters).
    type Indices: Send + Sync;

    /// The number of elements `buffer` holds.
    fn len<T: Element>(buffer: &Self::Buffer<T>) -> usize;

    /// Copies host data to the device (a method: the device is `self`).
    #[allow(clippy::wrong_self_convention)]
    fn from_host<T: Element>(&self, data: &[T]) -> Result<Self::Buffer<T>>;

    /// Copies an index list to the device; every index fits in `u32` (checked by the caller).
    fn indices_from_host(&self, indices: &[u32]) -> Result<Self::Indices>;

    /// Copies the elements seen through `layout` to the host, in row-major order.
    fn to_host<T: Element>(&self, x: &Self::Buffer<T>, layout: &Layout) -> Result<Vec<T>>;

    /// A buffer of `len` copies of `value`.
    fn full<T: Element>(&self, len: usize, value: T) -> Result<Self::Buffer<T>>;

    /// `y[i] = Op(x[i])` over the elements of `layout`; output contiguous.
    fn unary<T: Element, Op: UnaryOp>(
        &self,
        x: &Self::Buffer<T>,
        layout: &Layout,
    ) -> Result<Self::Buffer<T>>;

    /// `z[i] = Op(a[i], b[i])`; the two layouts have the same shape (broadcasting is done by the
    /// caller with stride-0 layouts); output contiguous.
    fn binary<T: Element, Op: BinaryOp>(
        &self,
        a: &Self::Buffer<T>,
        a_layout: &Layout,
        b: &Self::Buffer<T>,
        b_layout: &Layout,
    ) -> Result<Self::Buffer<T>>;

    /// `z[i] = Op(x[i], value)` with the scalar passed to the kernel as an argument (no buffer
    /// holds it); output contiguous.
    fn binary_scalar<T: Element, Op: BinaryOp>(
        &self,
        x: &Self::Buffer<T>,
        layout: &Layout,
        value: T,
    ) -> Result<Self::Buffer<T>>;

    /// Folds `Op` over `axes` (sorted, distinct); output contiguous with the reduced axes kept as
    /// size 1.
    fn reduce<T: Element, Op: ReduceOp>(
        &self,
        x: &Self::Buffer<T>,
        layout: &Layout,
        axes: &[usize],
    ) -> Result<Self::Buffer<T>>;

    /// The index of the largest (or smallest) element along `axis`, first one on ties, stored as
    /// `T`; output contiguous with `axis` kept as size 1. The axis is not empty.
    fn arg_reduce<T: Element>(
        &self,
        x: &Self::Buffer<T>,
        layout: &Layout,
        axis: usize,
        kind: ArgKind,
    ) -> Result<Self::Buffer<T>>;

    /// Batched matrix product `[..., m, k] · [..., k, n] → [..., m, n]`; both layouts have rank
    /// ≥ 2 and the same batch shape (broadcast batch axes have stride 0); any strides are accepted.
    fn matmul<T: Element>(
        &self,
        a: &Self::Buffer<T>,
        a_layout: &Layout,
        b: &Self::Buffer<T>,
        b_layout: &Layout,
    ) -> Result<Self::Buffer<T>>;

    /// Copies the elements of `src` seen through `src_layout` into the positions of `dst` given by
    /// `dst_layout` (same shape). `dst_layout` does not map two positions to one element.
    fn copy_into<T: Element>(
        &self,
        src: &Self::Buffer<T>,
        src_layout: &Layout,
        dst: &mut Self::Buffer<T>,
        dst_layout: &Layout,
    ) -> Result<()>;

    /// Picks `count` entries, `indices`, along `axis`: output shape is the input shape with that
    /// axis replaced by `count`; output contiguous.
    fn index_select<T: Element>(
        &self,
        x: &Self::Buffer<T>,
        layout: &Layout,
        axis: usize,
        indices: &Self::Indices,
        count: usize,
    ) -> Result<Self::Buffer<T>>;

    /// The adjoint of `index_select`: `dst[.., indices[j], ..] += src[.., j, ..]` along `axis` of
    /// the contiguous `dst` of shape `dst_shape` (repeated indices accumulate); `src_layout`'s
    /// `axis` has one entry per index.
    fn index_add<T: Element>(
        &self,
        dst: &mut Self::Buffer<T>,
        dst_shape: &[usize],
        axis: usize,
        indices: &Self::Indices,
        src: &Self::Buffer<T>,
        src_layout: &Layout,
    ) -> Result<()>;

    /// Picks one entry of `axis` per position: `y[p] = x[p with p[axis] = index[p]]` for every
    /// row-major position `p` of `layout`'s shape with `axis` resized to `count` (`index` holds
    /// one entry per position, in that order); output contiguous, of that shape.
    fn gather<T: Element>(
        &self,
        x: &Self::Buffer<T>,
        layout: &Layout,
        axis: usize,
        index: &Self::Indices,
        count: usize,
    ) -> Result<Self::Buffer<T>>;

    /// The adjoint of `gather`: `dst[p with p[axis] = index[p]] += src[p]` through `dst_layout`
    /// (a view that overlaps nowhere), for every row-major position `p` of `src_layout`'s shape,
    /// which is `dst_layout`'s with `axis` resized (`index` holds one entry per position); the
    /// sums into one element are made in order of `p[axis]`.
    fn scatter_add<T: Element>(
        &self,
        dst: &mut Self::Buffer<T>,
        dst_layout: &Layout,
        axis: usize,
        index: &Self::Indices,
        src: &Self::Buffer<T>,
        src_layout: &Layout,
    ) -> Result<()>;

    /// Softmax (or log-softmax when `log`) of `scale·x` along the last axis of a contiguous
    /// `[rows, n]` input `x`, computed stably by subtracting each row's maximum first. The scale
    /// (attention's `1/√d`) is applied as each element is read, with the rounding of a separate
    /// multiplication, but without its pass over memory.
    fn softmax_last<T: Element>(
        &self,
        x: &Self::Buffer<T>,
        rows: usize,
        n: usize,
        scale: f64,
        log: bool,
    ) -> Result<Self::Buffer<T>>
    where
        Self: Sized,
    {
        composed::softmax_last(self, x, rows, n, scale, log)
    }

    /// The backward pass of [`Backend::softmax_last`] from its output `y` and the upstream
    /// gradient `g` (both contiguous `[rows, n]`): for softmax
    /// `dx_j = (y_j·(g_j − Σ_i g_i·y_i))·scale`, for log-softmax
    /// `dx_j = (g_j − e^{y_j}·Σ_i g_i)·scale`.
    fn softmax_last_backward<T: Element>(
        &self,
        y: &Self::Buffer<T>,
        g: &Self::Buffer<T>,
        rows: usize,
        n: usize,
        scale: f64,
        log: bool,
    ) -> Result<Self::Buffer<T>>
    where
        Self: Sized,
    {
        composed::softmax_last_backward(self, y, g, rows, n, scale, log)
    }

    /// `a + α·b` for contiguous `a` and `b` of `len` elements, rounded as `binary_scalar` `Mul`
    /// and then `binary` `Add` would round it (no multiply-add fused): one pass where the
    /// composed default makes two (an optimizer's `m ← g + μ·m` and `θ ← θ − lr·m`).
    fn add_scaled<T: Element>(
        &self,
        a: &Self::Buffer<T>,
        b: &Self::Buffer<T>,
        len: usize,
        alpha: T,
    ) -> Result<Self::Buffer<T>>
    where
        Self: Sized,
    {
        composed::add_scaled(self, a, b, len, alpha)
    }

    /// One AdamW update of a parameter `p` from its gradient `g` and moments `(m, v)` (all
    /// contiguous, `len` elements; no moments on the first step, where they count as zero):
    /// `m' = β₁·m + (1 − β₁)·g`, `v' = β₂·v + (1 − β₂)·g²`,
    /// `p' = p·(1 − lr·λ) − ((m'/c₁)/(√(v'/c₂) + ε))·lr`; returns `[p', m', v']`. Each step rounds
    /// as the element-wise op of its own would, in this order, so a fused kernel gives the
    /// composed default's numbers.
    fn adamw_update<T: Element>(
        &self,
        p: &Self::Buffer<T>,
        g: &Self::Buffer<T>,
        moments: Option<[&Self::Buffer<T>; 2]>,
        len: usize,
        step: &AdamWStep,
    ) -> Result<[Self::Buffer<T>; 3]>
    where
        Self: Sized,
    {
        composed::adamw_update(self, p, g, moments, len, step)
    }

    /// Layer norm over the last axis of a contiguous `[rows, d]` input with scale `gamma` and shift
    /// `beta` (both `[d]`).
    fn layer_norm<T: Element>(
        &self,
        x: &Self::Buffer<T>,
        gamma: &Self::Buffer<T>,
        beta: &Self::Buffer<T>,
        rows: usize,
        d: usize,
        eps: f64,
    ) -> Result<LayerNormOutput<Self::Buffer<T>>>
    where
        Self: Sized,
    {
        composed::layer_norm(self, x, gamma, beta, rows, d, eps)
    }

    /// The backward pass of [`Backend::layer_norm`] given the upstream gradient `dy` (contiguous
    /// `[rows, d]`) and the saved per-row `mean` and `rstd`.
    #[allow(clippy::too_many_arguments)]
    fn layer_norm_backward<T: Element>(
        &self,
        dy: &Self::Buffer<T>,
        x: &Self::Buffer<T>,
        mean: &Self::Buffer<T>,
        rstd: &Self::Buffer<T>,
        gamma: &Self::Buffer<T>,
        rows: usize,
        d: usize,
    ) -> Result<LayerNormGrads<Self::Buffer<T>>>
    where
        Self: Sized,
    {
        composed::layer_norm_backward(self, dy, x, mean, rstd, gamma, rows, d)
    }
}
