//! Hand-checked examples of the main ops (the exhaustive property tests live in `properties.rs`).

use tensor::{DType, Tensor};

fn t(values: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_f64s(values, shape, DType::F32).unwrap()
}

#[test]
fn matmul_of_transposed_operand_matches_hand_computation() {
    let a = t(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    let b = t(&[1., 0., 0., 1., 1., 1.], &[2, 3]);
    let c = a.matmul(&b.t().unwrap()).unwrap();
    assert_eq!(c.shape(), &[2, 2]);
    assert_eq!(c.to_vec::<f32>().unwrap(), vec![1., 6., 4., 15.]);
}

#[test]
fn matmul_error_names_both_shapes() {
    let a = Tensor::zeros(&[2, 3], DType::F32);
    let b = Tensor::zeros(&[4, 5], DType::F32);
    let err = a.matmul(&b).unwrap_err().to_string();
    assert_eq!(
        err,
        "matmul: [2, 3] x [4, 5]: inner dimensions 3 and 4 differ"
    );
}

#[test]
fn broadcasting_add_and_column_sum() {
    let a = t(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    let row = t(&[10., 20., 30.], &[3]);
    let s = a.add(&row).unwrap();
    assert_eq!(
        s.to_vec::<f32>().unwrap(),
        vec![11., 22., 33., 14., 25., 36.]
    );
    assert_eq!(
        s.sum(&[0], false).unwrap().to_vec::<f32>().unwrap(),
        vec![25., 47., 69.]
    );
    assert_eq!(s.sum(&[1], true).unwrap().shape(), &[2, 1]);
    assert_eq!(
        s.max(&[1], false).unwrap().to_vec::<f32>().unwrap(),
        vec![33., 36.]
    );
    assert_eq!(
        s.argmax(0, false).unwrap().to_vec::<f32>().unwrap(),
        vec![1., 1., 1.]
    );
}

#[test]
fn softmax_rows_sum_to_one_even_for_huge_inputs() {
    let x = t(&[1e4, -1e4, 0., 1e4, 1e4, 1e4], &[2, 3]);
    let y = x.softmax(1).unwrap().to_vec::<f32>().unwrap();
    assert!(y.iter().all(|v| v.is_finite()));
    assert_eq!(y[0], 1.0);
    let ls = x.log_softmax(1).unwrap().to_vec::<f32>().unwrap();
    assert!(ls.iter().all(|v| v.is_finite()));
    assert!((ls[4] + 3f32.ln()).abs() < 1e-6);
}

#[test]
fn display_is_readable() {
    let a = t(&[1., 2., 3., 4.], &[2, 2]);
    let shown = a.to_string();
    assert!(shown.starts_with("tensor([[1.0000, 2.0000],"), "{shown}");
    assert!(
        shown.ends_with("shape=[2, 2], dtype=f32, device=cpu)"),
        "{shown}"
    );
    // The precision asked for; long axes show their first and last three entries.
    assert!(format!("{:.8}", t(&[0.123456789], &[1])).starts_with("tensor([0.12345679]"));
    // Values across orders of magnitude, in scientific notation (as PyTorch writes them).
    let wide = Tensor::from_f64s(&[1e-8, 12345678.0, -1e-5], &[3], DType::F64).unwrap();
    assert!(
        wide.to_string()
            .starts_with("tensor([1.0000e-8, 1.2346e7, -1.0000e-5]"),
        "{wide}"
    );
    let long = Tensor::arange(0.0, 24.0, 1.0, DType::F64)
        .unwrap()
        .reshape(&[2, 12])
        .unwrap();
    assert_eq!(
        format!("{long:.0}"),
        "tensor([[0, 1, 2, ..., 9, 10, 11],\n        [12, 13, 14, ..., 21, 22, 23]], \
         shape=[2, 12], dtype=f64, device=cpu)"
    );
    // A view of 2⁴⁰ elements is read in the 36 values shown, not copied whole.
    let huge = Tensor::scalar(1.0, DType::F32)
        .broadcast_to(&[1 << 20, 1 << 20])
        .unwrap();
    assert!(
        huge.to_string()
            .starts_with("tensor([[1.0000, 1.0000, 1.0000, ..., 1.0000, 1.0000, 1.0000],"),
        "{huge}"
    );
}

/// Materializing a view larger than the host's memory is an out-of-memory error naming the
/// op, as for `zeros` (it used to end the process: `vec!` aborts when refused).
#[test]
fn materializing_a_huge_view_is_an_error() {
    // 2⁵⁰ elements: more than any address space, whatever the kernel's overcommit policy.
    let huge = Tensor::scalar(1.0, DType::F32)
        .broadcast_to(&[1 << 25, 1 << 25])
        .unwrap();
    let named = |result: tensor::Result<Tensor>, op: &str| {
        let err = result.unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{op}: out of memory: {} bytes", 4u64 << 50)),
            "{err}"
        );
    };
    named(huge.exp(), "exp");
    named(huge.add(&huge), "add");
    named(huge.mul_scalar(2.0), "mul");
    let pairs = Tensor::scalar(1.0, DType::F32)
        .broadcast_to(&[1 << 25, 1 << 25, 2])
        .unwrap();
    named(pairs.sum(&[2], false), "sum");
    named(pairs.argmax(2, false), "argmax");
    named(huge.contiguous(), "identity");
    named(
        huge.narrow(1, 0, 1)
            .unwrap()
            .matmul(&huge.narrow(0, 0, 1).unwrap()),
        "matmul",
    );
    assert!(huge
        .to_vec::<f32>()
        .unwrap_err()
        .to_string()
        .contains("out of memory"));
}
