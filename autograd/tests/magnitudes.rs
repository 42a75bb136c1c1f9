//! Gradients at magnitudes where a textbook formula's intermediate overflows or underflows in
//! f32 though the gradient itself is representable, against the exact values, on every device.

use autograd::Var;
use tensor::{DType, Tensor};

/// `∂(a/b)/∂b = −a/b²` with `b²` out of f32's range both ways: 10⁻⁵⁰ underflows to 0 (the
/// gradient would be −∞), 10⁴⁰ overflows to ∞ (it would be −0).
#[test]
fn division_gradients_stay_finite_where_b_squared_leaves_the_range() {
    let (a, b) = ([1e-30, 1e30, 3.0], [1e-25, 1e20, -2.0]);
    for device in tensor::test_devices() {
        let var = |v: &[f64]| {
            let t = Tensor::from_f64s(v, &[v.len()], DType::F32).unwrap();
            Var::parameter(t.to_device(&device).unwrap())
        };
        let (va, vb) = (var(&a), var(&b));
        let grads = va.div(&vb).unwrap().sum_all().unwrap().backward().unwrap();
        let db = grads.get(&vb).unwrap().to_vec_f64().unwrap();
        for ((&a, &b), got) in a.iter().zip(&b).zip(db) {
            let want = -a / (b * b);
            assert!(
                ((got - want) / want).abs() < 1e-6,
                "{device}: d(a/b)/db at a = {a:e}, b = {b:e}: {got:e}, not {want:e}"
            );
        }
    }
}
