//! Initializers of the reference implementation.

use crate::hyperparameter::check_range;
use tensor::{DType, Rng, Tensor};

/// Xavier (Glorot) uniform for a `[fan_out, fan_in]` weight: `U(−a, a)`,
/// `a = √(6/(fan_in + fan_out))`.
///
/// ```
/// use tensor::DType;
/// let w = nn::init::xavier_uniform(30, 20, DType::F64, &mut tensor::rng(0));
/// let bound = (6.0f64 / 50.0).sqrt();
/// assert_eq!(w.shape(), [30, 20]);
/// assert!(w.abs()?.max(&[0, 1], false)?.to_scalar()? <= bound);
/// # Ok::<(), tensor::Error>(())
/// ```
pub fn xavier_uniform(fan_out: usize, fan_in: usize, dtype: DType, rng: &mut Rng) -> Tensor {
    // Zero fans make an empty weight, which any finite bound fills.
    let bound = (6.0 / (fan_in + fan_out).max(1) as f64).sqrt();
    Tensor::rand(&[fan_out, fan_in], -bound, bound, dtype, rng)
}

/// LeCun normal for a `[fan_out, fan_in]` weight: truncated normal with std `√(1/fan_in)` (as in
/// JAX: a standard normal truncated to ±2, rescaled by 1/0.8796 so the std is exact).
///
/// ```
/// use tensor::DType;
/// let w = nn::init::lecun_normal(200, 100, DType::F64, &mut tensor::rng(0));
/// let std = w.square()?.mean_all()?.to_scalar()?.sqrt(); // ≈ √(1/100)
/// assert!((std - 0.1).abs() < 0.005, "{std}");
/// # Ok::<(), tensor::Error>(())
/// ```
pub fn lecun_normal(fan_out: usize, fan_in: usize, dtype: DType, rng: &mut Rng) -> Tensor {
    truncated_normal(
        &[fan_out, fan_in],
        (1.0 / fan_in.max(1) as f64).sqrt() / 0.879_625_8, // fan_in 0: an empty weight
        dtype,
        rng,
    )
}

/// Samples of a normal distribution with standard deviation `std`, each redrawn until within
/// ±2 `std`; cutting the tails leaves a standard deviation of about 0.88 `std` (which
/// [`lecun_normal`] divides out). Panics, naming the value, if `std` is negative or not finite
/// (as [`Tensor::randn`] does).
///
/// ```
/// use tensor::DType;
/// let x = nn::init::truncated_normal(&[1000], 0.5, DType::F64, &mut tensor::rng(0));
/// assert!(x.abs()?.max(&[0], false)?.to_scalar()? <= 1.0, "within 2 std");
/// let refused = std::panic::catch_unwind(|| {
///     nn::init::truncated_normal(&[3], f64::NAN, DType::F64, &mut tensor::rng(0))
/// });
/// assert!(refused.is_err(), "a NaN std would fill the tensor with NaN");
/// # Ok::<(), tensor::Error>(())
/// ```
pub fn truncated_normal(shape: &[usize], std: f64, dtype: DType, rng: &mut Rng) -> Tensor {
    check_range("truncated_normal", "std", std, 0.0..f64::INFINITY)
        .unwrap_or_else(|e| panic!("{e}"));
    let len: usize = shape.iter().product();
    let values: Vec<f64> = (0..len)
        .map(|_| loop {
            let z = standard_normal(rng);
            if z.abs() <= 2.0 {
                break z * std;
            }
        })
        .collect();
    Tensor::from_f64s(&values, shape, dtype).expect("the length matches the shape")
}

/// A standard normal sample by the Box–Muller transform.
fn standard_normal(rng: &mut Rng) -> f64 {
    use rand::Rng as _;
    let u1: f64 = rng.gen_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.gen_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}
