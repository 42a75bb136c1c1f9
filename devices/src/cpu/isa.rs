//! Kernels compiled once per vector ISA and chosen at run time.
//!
//! `per_isa!` defines a function whose body is compiled three times — for AVX-512F, for AVX2 +
//! FMA and for the baseline target — behind a dispatcher that runs the widest copy this CPU
//! has (the features are detected at run time; std caches the answer), so the loops inside
//! vectorize at full width without `target-cpu` flags. The loop must sit in the body itself:
//! a closure handed to a `#[target_feature]` function only gets that function's ISA if LLVM
//! decides to inline it, which it stops doing once the loop is large (GELU's backward was
//! compiled for the baseline that way). What the body calls, such as an op's `apply`, is
//! `#[inline(always)]`, so it is compiled into each copy.

use crate::Element;

/// `per_isa! { /// docs
///     pub(crate) fn name<T: Bound, ...>(arg: Type, ...) [-> Type] { body } }`: see the module
/// docs.
macro_rules! per_isa {
    ($(#[$meta:meta])* pub(crate) fn $name:ident<$($g:ident: $bound:path),*>($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        pub(crate) fn $name<$($g: $bound),*>($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn avx512<$($g: $bound),*>($($arg: $ty),*) $(-> $ret)? $body
                #[target_feature(enable = "avx2,fma")]
                fn avx2<$($g: $bound),*>($($arg: $ty),*) $(-> $ret)? $body
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F (just detected), all `avx512` requires.
                    return unsafe { avx512::<$($g),*>($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU has AVX2 and FMA (just detected), all `avx2` requires.
                    return unsafe { avx2::<$($g),*>($($arg),*) };
                }
            }
            $body
        }
    };
}

pub(crate) use per_isa;

/// Lanes of the row folds: enough independent accumulators for one AVX-512 register of f32.
pub(crate) const LANES: usize = 16;

/// `combine` over `map(v)` for every `v` of `row`, in [`LANES`] interleaved accumulators and
/// then across them: the same result for the same row every time, and a loop the compiler can
/// vectorize (a single accumulator is a chain it may not reorder). `combine` must be
/// associative and commutative up to rounding (a sum, a max), `identity` its neutral element.
#[inline(always)]
pub(crate) fn lanes_fold<T: Element>(
    row: &[T],
    identity: T,
    map: impl Fn(T) -> T,
    combine: impl Fn(T, T) -> T,
) -> T {
    let mut lanes = [identity; LANES];
    let mut chunks = row.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane = combine(*lane, map(v));
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .fold(identity, |a, &v| combine(a, map(v)));
    lanes.iter().fold(tail, |a, &v| combine(a, v))
}

/// `Σ a_i·b_i` over two rows of the same length, folded in lanes (see [`lanes_fold`]).
#[inline(always)]
pub(crate) fn lanes_dot<T: Element>(a: &[T], b: &[T]) -> T {
    debug_assert_eq!(a.len(), b.len());
    let mut lanes = [T::zero(); LANES];
    let (mut a_chunks, mut b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    for (xs, ys) in (&mut a_chunks).zip(&mut b_chunks) {
        for ((lane, &x), &y) in lanes.iter_mut().zip(xs).zip(ys) {
            *lane = *lane + x * y;
        }
    }
    let tail = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .fold(T::zero(), |s, (&x, &y)| s + x * y);
    lanes.iter().fold(tail, |s, &v| s + v)
}

/// `Σ map(v)` over `row`, folded in lanes (see [`lanes_fold`]).
#[inline(always)]
pub(crate) fn lanes_sum<T: Element>(row: &[T], map: impl Fn(T) -> T) -> T {
    lanes_fold(row, T::zero(), map, |a, b| a + b)
}
