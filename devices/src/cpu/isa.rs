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

/// `per_isa! { /// docs
///     pub(crate) fn name<T: Bound, ...>(arg: Type, ...) { body } }`: see the module docs.
macro_rules! per_isa {
    ($(#[$meta:meta])* pub(crate) fn $name:ident<$($g:ident: $bound:path),*>($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        pub(crate) fn $name<$($g: $bound),*>($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn avx512<$($g: $bound),*>($($arg: $ty),*) $body
                #[target_feature(enable = "avx2,fma")]
                fn avx2<$($g: $bound),*>($($arg: $ty),*) $body
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
