//! Every user-facing op given mismatched shapes, axes, indices or dtypes returns an error (never
//! panics) whose message names the op and the shapes (or types) involved.

use tensor::{DType, Device, Error, Tensor};

fn z(shape: &[usize]) -> Tensor {
    Tensor::zeros(shape, DType::F32)
}

fn z64(shape: &[usize]) -> Tensor {
    Tensor::zeros(shape, DType::F64)
}

/// The message of an expected error.
fn msg(result: tensor::Result<Tensor>) -> String {
    match result {
        Ok(t) => panic!("expected an error, got a tensor of shape {:?}", t.shape()),
        Err(e) => e.to_string(),
    }
}

/// Asserts that `message` starts with `op: ` and mentions every one of `parts`.
#[track_caller]
fn assert_names(message: &str, op: &str, parts: &[&str]) {
    assert!(
        message.starts_with(&format!("{op}: ")),
        "{message:?} should start with {op:?}"
    );
    for part in parts {
        assert!(
            message.contains(part),
            "{message:?} should mention {part:?}"
        );
    }
}

// ---------------------------------------------------------------- matmul

#[test]
fn matmul_inner_dimension_mismatch() {
    assert_eq!(
        msg(z(&[2, 3]).matmul(&z(&[4, 5]))),
        "matmul: [2, 3] x [4, 5]: inner dimensions 3 and 4 differ"
    );
    assert_eq!(
        msg(z(&[3]).matmul(&z(&[4]))),
        "matmul: [3] x [4]: inner dimensions 3 and 4 differ"
    );
    assert_eq!(
        msg(z(&[7, 2, 3]).matmul(&z(&[2]))),
        "matmul: [7, 2, 3] x [2]: inner dimensions 3 and 2 differ"
    );
}

#[test]
fn matmul_batch_mismatch_names_both_full_shapes() {
    let m = msg(z(&[2, 4, 3]).matmul(&z(&[5, 3, 6])));
    assert_names(&m, "matmul", &["[2, 4, 3]", "[5, 3, 6]"]);
    let m = msg(z(&[2, 1, 4, 3]).matmul(&z(&[3, 3, 3, 6])));
    assert_names(&m, "matmul", &["[2, 1, 4, 3]", "[3, 3, 3, 6]"]);
}

#[test]
fn matmul_of_a_scalar() {
    let m = msg(Tensor::scalar(1.0, DType::F32).matmul(&z(&[2, 2])));
    assert_names(&m, "matmul", &["[]", "[2, 2]"]);
}

#[test]
fn matmul_dtype_mismatch() {
    assert_eq!(
        msg(z(&[2, 3]).matmul(&z64(&[3, 2]))),
        "matmul: element types differ (f32 and f64)"
    );
}

// ---------------------------------------------------------------- element-wise

#[test]
fn broadcasting_mismatch_names_op_and_both_shapes() {
    assert_eq!(
        msg(z(&[2, 3]).add(&z(&[4]))),
        "add: shapes [2, 3] and [4] do not broadcast (axis 1: 3 vs 4)"
    );
    type Op = fn(&Tensor, &Tensor) -> tensor::Result<Tensor>;
    let ops: [(&str, Op); 14] = [
        ("add", Tensor::add),
        ("sub", Tensor::sub),
        ("mul", Tensor::mul),
        ("zero_safe_mul", Tensor::zero_safe_mul),
        ("div", Tensor::div),
        ("pow", Tensor::pow),
        ("maximum", Tensor::maximum),
        ("minimum", Tensor::minimum),
        ("eq", Tensor::eq),
        ("ne", Tensor::ne),
        ("lt", Tensor::lt),
        ("le", Tensor::le),
        ("gt", Tensor::gt),
        ("ge", Tensor::ge),
    ];
    for (name, op) in ops {
        let m = msg(op(&z(&[5, 2, 3]), &z(&[4, 1])));
        assert_names(&m, name, &["[5, 2, 3]", "[4, 1]"]);
        let m = msg(op(&z(&[3]), &z64(&[3])));
        assert_eq!(m, format!("{name}: element types differ (f32 and f64)"));
    }
}

// ---------------------------------------------------------------- axes

/// An axis listed twice is refused (as PyTorch does), not quietly reduced once; no axes at all
/// reduce nothing (NumPy's `axis=()`).
#[test]
fn reductions_refuse_an_axis_listed_twice() {
    let x = z(&[2, 3]);
    for (op, result) in [
        ("sum", x.sum(&[1, 0, 1], false)),
        ("mean", x.mean(&[1, 0, 1], false)),
        ("max", x.max(&[1, 0, 1], true)),
        ("min", x.min(&[1, 0, 1], true)),
    ] {
        assert_eq!(
            msg(result),
            format!("{op}: axis 1 is listed twice in [1, 0, 1] (shape [2, 3])")
        );
    }
    assert_eq!(x.sum(&[], false).unwrap().shape(), [2, 3]);
}

#[test]
fn out_of_range_axes_name_op_axis_and_shape() {
    let x = z(&[2, 3]);
    let expect = |op: &str, result: tensor::Result<Tensor>| {
        assert_eq!(
            msg(result),
            format!("{op}: axis 2 is out of range for shape [2, 3]")
        );
    };
    expect("sum", x.sum(&[0, 2], false));
    expect("mean", x.mean(&[2], true));
    expect("max", x.max(&[2], false));
    expect("min", x.min(&[2], false));
    expect("argmax", x.argmax(2, false));
    expect("argmin", x.argmin(2, false));
    expect("softmax", x.softmax(2));
    expect("log_softmax", x.log_softmax(2));
    expect("transpose", x.transpose(0, 2));
    expect("narrow", x.narrow(2, 0, 1));
    expect("squeeze", x.squeeze(2));
    expect("concat", Tensor::concat(&[x.clone(), x.clone()], 2));
    expect("index_select", x.index_select(2, &ix(&[0])));
    assert_names(&msg(x.unsqueeze(3)), "unsqueeze", &["3", "[2, 3]"]);
    assert_names(
        &msg(Tensor::stack(&[x.clone(), x.clone()], 4)),
        "stack",
        &["4", "[2, 3]"],
    );
    assert_names(&msg(x.permute(&[0, 0])), "permute", &["[0, 0]", "[2, 3]"]);
    assert_names(&msg(x.permute(&[1])), "permute", &["[1]", "[2, 3]"]);
    assert_names(&msg(z(&[3]).t()), "t", &["[3]"]);
    assert_eq!(
        x.dim(5).unwrap_err().to_string(),
        "dim: axis 5 is out of range for shape [2, 3]"
    );
}

#[test]
fn reductions_over_empty_axes() {
    let x = z(&[2, 0]);
    assert_names(&msg(x.max(&[1], false)), "max", &["[2, 0]"]);
    assert_names(&msg(x.min(&[0, 1], true)), "min", &["[2, 0]"]);
    assert_names(&msg(x.argmax(1, false)), "argmax", &["[2, 0]"]);
    assert_names(&msg(x.argmin(1, true)), "argmin", &["[2, 0]"]);
    // Indices are values of the dtype: in f32 the last index must be at most 2²⁴ (one more
    // would round to a neighbour). Broadcast views: nothing is allocated.
    let long = |n: usize, dtype| Tensor::zeros(&[1], dtype).broadcast_to(&[n]).unwrap();
    let exact = (1 << 24) + 1;
    assert_eq!(
        long(exact, DType::F32)
            .argmax(0, false)
            .unwrap()
            .to_vec_f64()
            .unwrap(),
        [0.0]
    );
    assert_names(
        &msg(long(exact + 1, DType::F32).argmin(0, false)),
        "argmin",
        &[
            "[16777218]",
            "indices past 16777216, which f32 cannot hold exactly",
            "use f64",
        ],
    );
    assert!(long(exact + 1, DType::F64).argmax(0, false).is_ok());
    // Summing nothing is fine (0), as in NumPy.
    assert_eq!(
        x.sum(&[1], false).unwrap().to_vec::<f32>().unwrap(),
        [0.0; 2]
    );
}

// ---------------------------------------------------------------- views

#[test]
fn reshape_of_wrong_size() {
    assert_eq!(
        msg(z(&[2, 3]).reshape(&[4, 2])),
        "reshape: cannot view [2, 3] (6 elements) as [4, 2]"
    );
    assert_names(
        &msg(z(&[2, 3]).reshape(&[4, usize::MAX])),
        "reshape",
        &["[2, 3]"],
    );
    assert_names(
        &msg(z(&[2, 3]).reshape(&[usize::MAX, usize::MAX])),
        "reshape",
        &["[2, 3]"],
    );
}

#[test]
fn bad_views() {
    assert_eq!(
        msg(z(&[2, 3]).narrow(1, 2, 2)),
        "narrow: range 2..4 is out of bounds for axis 1 of [2, 3]"
    );
    assert_eq!(
        msg(z(&[2, 3]).broadcast_to(&[2, 4])),
        "broadcast_to: cannot broadcast [2, 3] to [2, 4]"
    );
    assert_names(
        &msg(z(&[2, 3]).broadcast_to(&[3])),
        "broadcast_to",
        &["[2, 3]", "[3]"],
    );
    assert_eq!(
        msg(z(&[2, 3]).squeeze(0)),
        "squeeze: axis 0 of [2, 3] has size 2, not 1"
    );
    // A broadcast view's element count must fit a `usize` (it wrapped to 0, and overflowed in
    // debug builds, in `numel`, `reshape` and printing), however little memory it holds.
    let huge = 1usize << (usize::BITS - 2);
    assert_eq!(
        msg(z(&[1, 1]).broadcast_to(&[huge, 4])),
        format!("broadcast_to: shape [{huge}, 4] has too many elements")
    );
    assert_eq!(
        z(&[1, 1]).broadcast_to(&[huge, 3]).unwrap().numel(),
        huge * 3
    );
}

// ---------------------------------------------------------------- joins and gathers

#[test]
fn concat_and_stack_mismatches() {
    assert_eq!(
        msg(Tensor::concat(&[z(&[2, 3]), z(&[2, 4])], 0)),
        "concat: cannot join [2, 3] and [2, 4] along axis 0"
    );
    assert_names(
        &msg(Tensor::concat(&[z(&[2, 3]), z(&[2, 3, 1])], 0)),
        "concat",
        &["[2, 3]", "[2, 3, 1]"],
    );
    assert_eq!(
        msg(Tensor::concat(&[z(&[2, 3]), z64(&[2, 3])], 0)),
        "concat: element types differ (f32 and f64)"
    );
    assert_names(&msg(Tensor::concat(&[], 0)), "concat", &[]);
    assert_eq!(
        msg(Tensor::stack(&[z(&[2, 3]), z(&[3, 2])], 0)),
        "stack: shapes [2, 3] and [3, 2] differ"
    );
    assert_names(
        &msg(Tensor::stack(&[z(&[2, 3]), z64(&[2, 3])], 0)),
        "stack",
        &["f32", "f64"],
    );
    assert_names(&msg(Tensor::stack(&[], 0)), "stack", &[]);
    // narrow_into names itself and both shapes, whatever is wrong (the axis, the range).
    for (shape, axis, start) in [
        (&[2, 3][..], 4, 0),
        (&[1, 3][..], 0, 0),
        (&[2, 3, 1][..], 0, 0),
    ] {
        assert_eq!(
            msg(z(&[2, 3]).narrow_into(shape, axis, start)),
            format!("narrow_into: [2, 3] does not fit at {start} along axis {axis} of {shape:?}")
        );
    }
}

#[test]
fn index_out_of_range() {
    assert_eq!(
        msg(z(&[2, 3]).index_select(0, &ix(&[0, 5]))),
        "index_select: index 5 is out of range for axis 0 of size 2 (shape [2, 3])"
    );
    assert_names(
        &msg(z(&[2, 3]).index_add_into(&[4, 3], 0, &ix(&[1, 4]))),
        "index_add",
        &["4", "[4, 3]"],
    );
    // The source must match the destination with the indexed axis replaced.
    assert_eq!(
        msg(z(&[2, 3]).index_add_into(&[4, 5], 0, &ix(&[1, 2]))),
        "index_add: source [2, 3] does not match [4, 5] with 2 indices along axis 0"
    );
    // An axis past the destination's rank is an error, not a panic.
    assert_names(
        &msg(z(&[2, 0]).index_add_into(&[2], 1, &ix(&[]))),
        "index_add",
        &["[2]"],
    );
    assert_names(
        &msg(z(&[2]).index_add_into(&[2, 3], 1, &ix(&[0, 1]))),
        "index_add",
        &["[2]", "[2, 3]"],
    );
}

#[test]
fn gather_and_scatter_add_name_the_bad_index() {
    let t = |values: &[f64], shape: &[usize]| Tensor::from_f64s(values, shape, DType::F64).unwrap();
    let x = z(&[2, 3]);
    // A value that is not a whole number below the axis size, named with where it is.
    for bad in [3.0, -1.0, 1.5, f64::NAN, f64::INFINITY] {
        assert_eq!(
            msg(x.gather(1, &t(&[0.0, 1.0, 2.0, bad], &[2, 2]))),
            format!(
                "gather: index {bad} at [1, 1] of the index tensor [2, 2] is not a whole number \
                 below 3, the size of axis 1 of [2, 3]"
            )
        );
    }
    // An index larger than the input on another axis, or of another rank.
    for shape in [&[3, 1][..], &[2], &[1, 1, 1]] {
        let n: usize = shape.iter().product();
        assert_eq!(
            msg(x.gather(1, &t(&vec![0.0; n], shape))),
            format!(
                "gather: an index of shape {shape:?} does not fit [2, 3] (same rank, no larger on \
                 any axis but 1)"
            )
        );
    }
    assert_names(
        &msg(x.gather(2, &t(&[0.0], &[1, 1]))),
        "gather",
        &["axis 2"],
    );
    // scatter_add: the index must fit the source too.
    let ones = Tensor::full(&[2, 1], 1.0, DType::F32);
    assert_eq!(
        msg(x.scatter_add(1, &t(&[0.0, 1.0, 2.0, 0.0], &[2, 2]), &ones)),
        "scatter_add: an index of shape [2, 2] does not fit the source [2, 1] (same rank, no \
         larger on any axis)"
    );
    assert_names(
        &msg(x.scatter_add(0, &t(&[2.0], &[1, 1]), &ones)),
        "scatter_add",
        &["index 2", "below 2"],
    );
    // The source's dtype must be the destination's.
    assert_names(
        &msg(x.scatter_add(1, &t(&[0.0], &[1, 1]), &z64(&[1, 1]))),
        "scatter_add",
        &["f32", "f64"],
    );
}

// ---------------------------------------------------------------- fused row ops

#[test]
fn softmax_of_a_scalar() {
    assert_names(
        &msg(Tensor::scalar(1.0, DType::F32).softmax(0)),
        "softmax",
        &["[]"],
    );
}

#[test]
fn softmax_backward_mismatches() {
    let y = z(&[2, 4]);
    assert_names(
        &msg(y.softmax_backward(&z(&[4, 2]), 1, 1.0)),
        "softmax_backward",
        &["[2, 4]", "[4, 2]"],
    );
    assert_names(
        &msg(y.log_softmax_backward(&z(&[2, 4]), 2)),
        "log_softmax_backward",
        &["axis 2"],
    );
    assert_names(
        &msg(y.softmax_backward(&z64(&[2, 4]), 0, 1.0)),
        "softmax_backward",
        &["f32", "f64"],
    );
}

#[test]
fn layer_norm_mismatches() {
    let x = z(&[2, 4]);
    assert_eq!(
        msg(x.layer_norm(&z(&[3]), &z(&[4]), 1e-5)),
        "layer_norm: input [2, 4] needs scale and shift of shape [4], got [3] and [4]"
    );
    assert_eq!(
        msg(x.layer_norm(&z64(&[4]), &z(&[4]), 1e-5)),
        "layer_norm: element types differ (f32 and f64)"
    );
    assert_names(
        &msg(Tensor::scalar(1.0, DType::F32).layer_norm(&z(&[1]), &z(&[1]), 1e-5)),
        "layer_norm",
        &[],
    );
    // An ε that would make a row's `σ² + ε` NaN or negative is refused, not run.
    for eps in [f64::NAN, -1e-6, f64::INFINITY] {
        assert_eq!(
            msg(x.layer_norm(&z(&[4]), &z(&[4]), eps)),
            format!("layer_norm: eps = {eps} must be finite and ≥ 0 (it is added to the variance)")
        );
    }
    assert!(x.layer_norm(&z(&[4]), &z(&[4]), 0.0).is_ok());
}

/// The backward pass validates its saved tensors instead of indexing out of bounds.
#[test]
fn layer_norm_backward_mismatches() {
    let (x, gamma) = (z(&[2, 4]), Tensor::ones(&[4], DType::F32));
    let stats = x.layer_norm_with_stats(&gamma, &z(&[4]), 1e-5).unwrap();
    let dy = z(&[2, 4]);
    let backward = |dy: &Tensor, x: &Tensor, mean: &Tensor, rstd: &Tensor, gamma: &Tensor| {
        dy.layer_norm_backward(x, mean, rstd, gamma)
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        backward(&z(&[2, 3]), &x, &stats.mean, &stats.rstd, &gamma),
        "layer_norm_backward: gradient [2, 3] and input [2, 4] differ"
    );
    let m = backward(&dy, &x, &stats.mean, &stats.rstd, &z(&[3]));
    assert_names(&m, "layer_norm_backward", &["[2, 4]", "[3]"]);
    let m = backward(&dy, &x, &z(&[1]), &stats.rstd, &gamma);
    assert_names(&m, "layer_norm_backward", &["[2, 4]", "[1]"]);
    let m = backward(&dy, &x, &stats.mean, &z(&[3]), &gamma);
    assert_names(&m, "layer_norm_backward", &["[2, 4]", "[3]"]);
    let m = backward(&dy, &x, &stats.mean, &stats.rstd, &z64(&[4]));
    assert_names(&m, "layer_norm_backward", &["f32", "f64"]);
}

// ---------------------------------------------------------------- creation and conversion

#[test]
fn creation_and_conversion_errors() {
    assert_eq!(
        msg(Tensor::from_vec(vec![1.0f32; 5], &[2, 3])),
        "from_vec: 5 values cannot fill shape [2, 3] (6 elements)"
    );
    assert_names(
        &msg(Tensor::arange(0.0, 1.0, 0.0, DType::F32)),
        "arange",
        &[],
    );
    assert_eq!(
        msg(Tensor::arange(1.0, 0.0, 1.0, DType::F32)),
        "arange: the step 1 leads away from 0, starting at 1"
    );
    assert_eq!(
        Tensor::arange(2.0, 2.0, -1.0, DType::F32).unwrap().numel(),
        0
    );
    let before = tensor::transfers();
    assert_eq!(
        z(&[2]).to_vec::<f64>().unwrap_err().to_string(),
        "to_vec: element types differ (f32 and f64)"
    );
    assert_eq!(
        tensor::transfers(),
        before,
        "a refused download is not a transfer"
    );
    assert_eq!(
        z(&[2, 3]).to_scalar().unwrap_err().to_string(),
        "to_scalar: tensor of shape [2, 3] has 6 elements, not 1"
    );
}

#[test]
fn errors_are_typed() {
    assert!(matches!(
        z(&[2, 3]).matmul(&z(&[4, 5])),
        Err(Error::Shape { op: "matmul", .. })
    ));
    assert!(matches!(
        z(&[2]).add(&z64(&[2])),
        Err(Error::DType {
            op: "add",
            lhs: DType::F32,
            rhs: DType::F64,
            roles: None
        })
    ));
}

/// An index list on the CPU.
fn ix(indices: &[usize]) -> tensor::Indices {
    tensor::Indices::new(&tensor::Device::Cpu, indices).unwrap()
}

#[test]
fn shapes_whose_size_overflows_are_errors() {
    let huge = [1usize << 40, 1 << 40];
    assert_names(
        &msg(Tensor::from_vec_on(
            Vec::<f32>::new(),
            &huge,
            &tensor::Device::Cpu,
        )),
        "from_vec",
        &["too many elements"],
    );
    assert_names(
        &msg(Tensor::zeros_on(&huge, DType::F32, &tensor::Device::Cpu)),
        "full",
        &["too many elements"],
    );
    // Nor may a broadcast view, which holds no memory, have more elements than a `usize`
    // counts (`devices/tests/soundness.rs` shows the kernels refusing such layouts too).
    assert_names(
        &msg(Tensor::zeros(&[1, 1], DType::F32).broadcast_to(&huge)),
        "broadcast_to",
        &["too many elements"],
    );
}

/// Sizes past what a buffer can hold are errors, never a panic or (for the matmul kernel, which
/// writes through a pointer) a write past the output.
#[test]
fn sizes_past_a_buffer_are_errors() {
    let huge = (1usize << 62) + 1;
    let rows = z(&[1, 1]).broadcast_to(&[huge, 1]).unwrap();
    assert_names(
        &msg(rows.matmul(&z(&[1, 4]))),
        "matmul",
        &["too many elements"],
    );
    let indices = tensor::Indices::new(&tensor::Device::Cpu, &[0; 8]).unwrap();
    let wide = z(&[1, 1]).broadcast_to(&[1, huge]).unwrap();
    assert_names(
        &msg(wide.index_select(0, &indices)),
        "index_select",
        &["too many elements"],
    );
    assert_names(
        &msg(Tensor::full_on(
            &[usize::MAX / 2],
            0.0,
            DType::F64,
            &tensor::Device::Cpu,
        )),
        "full",
        &["more than one buffer can hold"],
    );
    assert_names(
        &msg(z(&[2, 3]).narrow(1, 2, usize::MAX)),
        "narrow",
        &["[2, 3]"],
    );
    assert_names(
        &msg(z(&[2, 3]).reshape(&[usize::MAX, usize::MAX, 0, usize::MAX])),
        "reshape",
        &["[2, 3]"],
    );
    let long = z(&[1, 1]).broadcast_to(&[1, usize::MAX / 2 + 1]).unwrap();
    assert_names(
        &msg(Tensor::concat(&[long.clone(), long], 1)),
        "concat",
        &["too many elements"],
    );
    assert_names(
        &msg(Tensor::arange(-1e308, 1e308, 1.0, DType::F32)),
        "arange",
        &["too many elements"],
    );
}

#[test]
fn adamw_update_names_mismatched_shapes_and_types() {
    let step = tensor::AdamWStep {
        lr: 0.1,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
        bias_correction1: 0.1,
        bias_correction2: 0.001,
    };
    let update = |p: &Tensor, g: &Tensor, m: Option<(&Tensor, &Tensor)>| {
        p.adamw_update(g, m, &step).map(|(p, _, _)| p)
    };
    assert_names(
        &msg(update(&z(&[2, 3]), &z(&[3, 2]), None)),
        "adamw_update",
        &["[2, 3]", "[3, 2]", "gradient"],
    );
    let (m, v) = (z(&[2, 3]), z(&[6]));
    assert_names(
        &msg(update(&z(&[2, 3]), &z(&[2, 3]), Some((&m, &v)))),
        "adamw_update",
        &["[2, 3]", "[6]", "second moment"],
    );
    assert_names(
        &msg(update(&z(&[2]), &z64(&[2]), None)),
        "adamw_update",
        &["f32", "f64"],
    );
}

#[test]
fn add_scaled_names_mismatched_shapes_and_types() {
    assert_names(
        &msg(z(&[2, 3]).add_scaled(&z(&[3, 2]), 0.5)),
        "add_scaled",
        &["[2, 3]", "[3, 2]"],
    );
    assert_names(
        &msg(z(&[2]).add_scaled(&z64(&[2]), 0.5)),
        "add_scaled",
        &["f32", "f64"],
    );
}

/// A tensor the host cannot hold is an error naming the operation and the size, not the end of
/// the process (4 PiB: within what one buffer may address, beyond any machine's memory).
#[test]
fn a_tensor_too_large_for_memory_is_an_error() {
    let shape = [1 << 25, 1 << 25];
    let bytes = "4503599627370496 bytes";
    let m = msg(Tensor::zeros_on(&shape, DType::F32, &Device::Cpu));
    assert!(
        m.starts_with("full: out of memory: ") && m.contains(bytes),
        "{m}"
    );
    let mut rng = tensor::rng(0);
    let m = msg(Tensor::rand_on(
        &shape,
        0.0,
        1.0,
        DType::F32,
        &Device::Cpu,
        &mut rng,
    ));
    assert!(m.starts_with("rand: out of memory: "), "{m}");
}

// ---------------------------------------------------------------- random tensors

/// A range or distribution that would fill a tensor with NaN, inf or mirrored samples is refused
/// before the seeded stream is touched, naming the values.
#[test]
fn random_tensors_refuse_bounds_and_stds_that_are_not_numbers() {
    let nan = f64::NAN;
    for (low, high) in [(nan, 1.0), (0.0, f64::INFINITY), (1.0, 0.0)] {
        let mut rng = tensor::rng(0);
        let err = msg(Tensor::rand_on(
            &[3],
            low,
            high,
            DType::F32,
            &Device::Cpu,
            &mut rng,
        ));
        assert_names(&err, "rand", &[&format!("[{low}, {high})")]);
    }
    for (mean, std) in [(0.0, nan), (0.0, -1.0), (f64::NEG_INFINITY, 1.0)] {
        let mut rng = tensor::rng(0);
        let err = msg(Tensor::randn_on(
            &[3],
            mean,
            std,
            DType::F32,
            &Device::Cpu,
            &mut rng,
        ));
        assert_names(
            &err,
            "randn",
            &[&format!("mean {mean}"), &format!("std {std}")],
        );
    }
    // A refused call leaves the stream where it was: the next draw is the seed's first.
    let mut rng = tensor::rng(5);
    assert!(Tensor::randn_on(&[3], 0.0, -1.0, DType::F64, &Device::Cpu, &mut rng).is_err());
    let after = Tensor::randn(&[3], 0.0, 1.0, DType::F64, &mut rng);
    let fresh = Tensor::randn(&[3], 0.0, 1.0, DType::F64, &mut tensor::rng(5));
    assert_eq!(after.to_vec_f64().unwrap(), fresh.to_vec_f64().unwrap());
    // Equal bounds are a constant, as `torch.Tensor.uniform_(a, a)` gives.
    let same = Tensor::rand(&[2], 2.5, 2.5, DType::F64, &mut tensor::rng(0));
    assert_eq!(same.to_vec_f64().unwrap(), [2.5, 2.5]);
}

/// Operands that differ in both device and dtype are told the device first (as PyTorch's "on the
/// same device"), by the element-wise ops and by the layers' kind check alike.
#[test]
fn a_device_mismatch_is_named_before_a_dtype_mismatch() {
    let devices = tensor::test_devices();
    let Some(other) = devices.iter().find(|d| **d != Device::Cpu) else {
        return; // One device only: nothing can differ (CI has OpenCL, and fails without it).
    };
    let x = Tensor::zeros(&[2], DType::F32);
    let y = Tensor::zeros(&[2], DType::F64).to_device(other).unwrap();
    assert_names(&msg(x.add(&y)), "add", &["operands are on cpu and opencl"]);
    let roles = ["the logits are", "the targets"];
    let err = x
        .check_kind_against("loss", &y, roles)
        .unwrap_err()
        .to_string();
    assert_names(
        &err,
        "loss",
        &["the logits are on cpu and the targets on opencl"],
    );
}

/// where_cond names all three operands when they do not broadcast or do not match in kind.
#[test]
fn where_cond_names_all_three_operands() {
    let condition = Tensor::ones(&[2], DType::F32);
    let err = condition
        .where_cond(
            &Tensor::ones(&[3], DType::F32),
            &Tensor::ones(&[2], DType::F32),
        )
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "where_cond: the condition [2], on_true [3], on_false [2] do not broadcast together"
    );
    let err = condition
        .where_cond(
            &Tensor::ones(&[2], DType::F32),
            &Tensor::ones(&[2], DType::F64),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the condition is f32 on cpu, on_true is f32 on cpu, on_false is f64 on cpu"),
        "{err}"
    );
}
