//! `Storage` is the only door into the kernels: every call with a layout, shape, axis, index or
//! element type that does not fit its buffers is an error naming the problem, on every device —
//! never an out-of-bounds read, a wrapped size or a panic.

use devices::ops::{Add, ArgKind, Exp, Sum};
use devices::{test_devices, DType, Device, Error, Indices, Layout, Storage};

/// Six f32 values `0..6` on `device`.
fn six(device: &Device) -> Storage {
    Storage::from_host(device, &[0f32, 1., 2., 3., 4., 5.]).unwrap()
}

fn layout(shape: &[usize], strides: &[usize], offset: usize) -> Layout {
    Layout::new(shape.to_vec(), strides.to_vec(), offset).unwrap()
}

/// The error's text, which must name `op` and contain every fragment of `names`.
fn assert_error<T>(result: devices::Result<T>, op: &str, names: &[&str]) {
    let message = match result {
        Ok(_) => panic!("expected a {op} error, got a result"),
        Err(e) => e.to_string(),
    };
    assert!(message.starts_with(op), "{message:?} should name {op}");
    for name in names {
        assert!(
            message.contains(name),
            "{message:?} should mention {name:?}"
        );
    }
}

#[test]
fn layouts_that_leave_the_buffer_are_errors() {
    for device in test_devices() {
        let x = six(&device);
        // Row stride 100: row 1 would start past the end.
        let wide = layout(&[2, 3], &[100, 1], 0);
        assert_error(x.to_host::<f32>(&wide), "to_vec", &["[2, 3]", "102", "6"]);
        assert_error(x.unary::<Exp>(&wide), "exp", &["[2, 3]"]);
        assert_error(x.binary::<Add>(&wide, &x, &wide), "add", &["holds 6"]);
        assert_error(
            x.add_scaled(&x, 7, 0.5),
            "add_scaled",
            &["needs 7", "holds 6"],
        );
        assert_error(x.binary_scalar::<Add>(&wide, 1.0), "add", &["holds 6"]);
        assert_error(x.reduce::<Sum>(&wide, &[1]), "sum", &["holds 6"]);
        assert_error(x.arg_reduce(&wide, 1, ArgKind::Max), "argmax", &["holds 6"]);
        // An offset that pushes a dense layout past the end.
        let shifted = layout(&[6], &[1], 1);
        assert_error(x.unary::<Exp>(&shifted), "exp", &["offset 1", "element 6"]);
        // The unsafe GEMM is behind the same check.
        let a = layout(&[2, 3], &[3, 1], 0);
        let b_too_far = layout(&[3, 2], &[1, 4], 0);
        assert_error(x.matmul(&a, &x, &b_too_far), "matmul", &["holds 6"]);
        // Empty layouts touch nothing, whatever their offset.
        let empty = layout(&[0, 3], &[3, 1], 600);
        assert_eq!(x.to_host::<f32>(&empty).unwrap(), Vec::<f32>::new());
    }
}

#[test]
fn sizes_that_overflow_are_errors() {
    for device in test_devices() {
        let x = six(&device);
        let huge = layout(&[usize::MAX / 2, 4], &[0, 0], 0);
        assert_error(x.unary::<Exp>(&huge), "exp", &["overflows"]);
        let far = layout(&[3], &[usize::MAX / 2], 3);
        assert_error(x.to_host::<f32>(&far), "to_vec", &["overflows"]);
        assert_error(
            x.softmax_last(usize::MAX / 2, 3, 1.0, false),
            "softmax",
            &["too many elements"],
        );
    }
    assert_error(
        devices::checked_numel("zeros", &[1 << 40, 1 << 40]),
        "zeros",
        &["too many elements"],
    );
    assert_error(
        Layout::new(vec![2, 3], vec![1], 0),
        "layout",
        &["[2, 3]", "[1]"],
    );
}

/// A size-1 axis's stride is never multiplied by a nonzero index, so any value makes a valid
/// layout; products read such layouts right on every device (the CPU caps the strides it hands
/// its GEMM, which negates and multiplies them).
#[test]
fn size_one_axes_with_huge_strides_read_right() {
    for device in test_devices() {
        let x = six(&device);
        let column = layout(&[2, 1], &[1, 1 << 63], 0); // x[0], x[1]
        let single = layout(&[1, 1], &[1 << 63, usize::MAX], 2); // x[2]
        let y = x.matmul(&column, &x, &single).unwrap();
        let y = y.to_host::<f32>(&Layout::contiguous(&[2, 1])).unwrap();
        assert_eq!(y, [0.0, 2.0], "{device}");
        let row = layout(&[1, 3], &[usize::MAX / 2, 1], 3); // x[3..6]
        let b = layout(&[3, 2], &[2, 1], 0);
        let y = x.matmul(&row, &x, &b).unwrap();
        let y = y.to_host::<f32>(&Layout::contiguous(&[1, 2])).unwrap();
        assert_eq!(
            y,
            [28.0, 40.0],
            "{device}: [3, 4, 5] · [[0, 1], [2, 3], [4, 5]]"
        );
    }
}

#[test]
fn shapes_that_do_not_fit_the_op_are_errors() {
    for device in test_devices() {
        let x = six(&device);
        let (a, b) = (Layout::contiguous(&[2, 3]), Layout::contiguous(&[3, 2]));
        assert_error(x.binary::<Add>(&a, &x, &b), "add", &["[2, 3]", "[3, 2]"]);
        assert_error(x.matmul(&a, &x, &a), "matmul", &["[2, 3] x [2, 3]"]);
        assert_error(
            x.matmul(&Layout::contiguous(&[6]), &x, &Layout::contiguous(&[6])),
            "matmul",
            &["[6] x [6]"],
        );
        assert_error(x.reduce::<Sum>(&a, &[1, 0]), "sum", &["[1, 0]"]);
        assert_error(x.reduce::<Sum>(&a, &[2]), "sum", &["axis 2"]);
        assert_error(
            x.arg_reduce(&Layout::contiguous(&[0, 3]), 0, ArgKind::Min),
            "argmin",
            &["empty"],
        );
        assert_error(x.softmax_last(4, 2, 1.0, true), "log_softmax", &["8", "6"]);
        let short = Storage::from_host(&device, &[1f32, 1.]).unwrap();
        assert_error(
            x.softmax_last_backward(&short, 2, 3, 1.0, false),
            "softmax_backward",
            &["gradient needs 6", "holds 2"],
        );
        assert_error(
            x.layer_norm(&short, &short, 2, 3, 1e-6),
            "layer_norm",
            &["scale needs 3"],
        );
        // Writing through a layout that names an element twice would race and lose values.
        let mut y = six(&device);
        let repeated = layout(&[2, 3], &[0, 1], 0);
        assert_error(y.copy_from(&repeated, &x, &a), "copy", &["twice"]);
    }
}

#[test]
fn indices_are_checked_against_the_axis_they_index() {
    for device in test_devices() {
        let x = six(&device);
        let rows = Layout::contiguous(&[2, 3]);
        let bad = Indices::new(&device, &[0, 2]).unwrap();
        assert_eq!((bad.len(), bad.bound()), (2, 3));
        assert_error(
            x.index_select(&rows, 0, &bad),
            "index_select",
            &["index 2", "size 2", "[2, 3]"],
        );
        let good = Indices::new(&device, &[1, 1]).unwrap();
        let mut dst = Storage::full(&device, DType::F32, 6, 0.0).unwrap();
        assert_error(
            dst.index_add(&[2, 3], 0, &good, &x, &Layout::contiguous(&[3, 2])),
            "index_add",
            &["[3, 2]", "[2, 3]"],
        );
        assert_error(
            dst.index_add(&[3, 3], 0, &good, &x, &rows),
            "index_add",
            &["holds 6"],
        );
        assert_error(Indices::new(&device, &[1 << 40]), "indices", &["32 bits"]);
    }
}

#[test]
fn element_types_must_agree() {
    for device in test_devices() {
        let x = six(&device);
        let y = Storage::from_host(&device, &[0f64; 6]).unwrap();
        let l = Layout::contiguous(&[6]);
        match x.binary::<Add>(&l, &y, &l) {
            Err(Error::DType { op, lhs, rhs, .. }) => {
                assert_eq!((op, lhs, rhs), ("add", DType::F32, DType::F64))
            }
            other => panic!("expected a dtype error, got {:?}", other.err()),
        }
        assert_error(x.to_host::<f64>(&l), "to_vec", &["f32", "f64"]);
        let m = Layout::contiguous(&[2, 3]);
        let t = Layout::contiguous(&[3, 2]);
        assert_error(x.matmul(&m, &y, &t), "matmul", &["f32", "f64"]);
    }
}

/// An empty shape is accepted only when its other sizes multiply within `usize` (as a sum over
/// its empty axis would make them a shape of their own), whatever the order of its axes.
#[test]
fn empty_shapes_whose_other_sizes_overflow_are_errors() {
    let wide = (1usize << 62) + 1;
    for shape in [[0, wide, 4], [wide, 4, 0], [4, 0, wide]] {
        assert_error(
            devices::checked_numel("zeros", &shape),
            "zeros",
            &["too many elements"],
        );
        assert_eq!(Layout::contiguous(&shape).end(), None, "{shape:?}");
    }
    assert_eq!(
        devices::checked_numel("zeros", &[0, 1 << 40, 1 << 20]).unwrap(),
        0
    );
    for device in test_devices() {
        let x = six(&device);
        let empty = layout(&[0, wide, 4], &[0, 4, 1], 0);
        assert_error(x.reduce::<Sum>(&empty, &[0]), "sum", &["overflows"]);
    }
}

/// `Storage` itself refuses what only `Tensor` used to: a max over an empty axis (it has no
/// value) and an arg-reduce whose indices the element type cannot hold exactly.
#[test]
fn reductions_without_a_defined_answer_are_errors() {
    for device in test_devices() {
        let x = six(&device);
        let empty = layout(&[2, 0], &[1, 1], 0);
        assert_error(
            x.reduce::<devices::ops::Max>(&empty, &[1]),
            "max",
            &["empty axis", "[2, 0]"],
        );
        assert_eq!(x.reduce::<Sum>(&empty, &[1]).unwrap().len(), 2);
        let long = layout(&[(1 << 24) + 2], &[0], 0);
        assert_error(
            x.arg_reduce(&long, 0, ArgKind::Max),
            "argmax",
            &["16777216", "f32"],
        );
    }
}

/// Layer norm of many rows of no feature: rows bounded by no input buffer, so an output too
/// large for the host is an error, not the end of the process.
#[test]
fn layer_norm_of_countless_empty_rows_is_an_error() {
    for device in test_devices() {
        let none = Storage::from_host::<f32>(&device, &[]).unwrap();
        let result = none.layer_norm(&none, &none, 1 << 50, 0, 1e-5);
        let message = result.err().expect("an error").to_string();
        assert!(message.contains("layer_norm"), "{message}");
    }
}

/// Empty operands touch nothing, whatever their strides: a product with k = 0 is zeros and a sum
/// over an empty axis the fold of nothing, on every device (OpenCL refused strides past 32 bits
/// that no element is read through).
#[test]
fn empty_operands_with_unused_huge_strides_give_the_empty_folds() {
    for device in test_devices() {
        let x = six(&device);
        let a = layout(&[2, 0], &[1 << 40, 1], 0);
        let b = layout(&[0, 2], &[1, 1 << 40], 0);
        let product = x.matmul(&a, &x, &b).unwrap();
        assert_eq!(
            product
                .to_host::<f32>(&Layout::contiguous(&[2, 2]))
                .unwrap(),
            [0.0; 4]
        );
        let empty = layout(&[0, 3], &[1, 1 << 40], 0);
        let sums = x.reduce::<Sum>(&empty, &[0]).unwrap();
        assert_eq!(
            sums.to_host::<f32>(&Layout::contiguous(&[1, 3])).unwrap(),
            [0.0; 3]
        );
    }
}

/// Broadcast views of 2^40 elements over a one-element buffer: the CPU kernels that list a
/// view's offsets (index_select, gather, batched matmul) allocate that list fallibly and after
/// their early return for an empty result, so an empty result is made and a result too large
/// for the host is an error, on every device — not the end of the process.
#[test]
fn broadcast_views_too_large_to_list_are_results_or_errors() {
    for device in test_devices() {
        let one = Storage::from_host(&device, &[0f32]).unwrap();
        let wide = layout(&[1, 1 << 40], &[0, 0], 0);
        let none = Indices::new(&device, &[]).unwrap();
        let picked = one.index_select(&wide, 0, &none).unwrap();
        assert_eq!(picked.len(), 0);
        let first = Indices::new(&device, &[0]).unwrap();
        assert_error(one.index_select(&wide, 0, &first), "index_select", &[]);

        let tall = layout(&[2, 1 << 40], &[0, 0], 0);
        let gathered = one.gather(&tall, 0, &none, &[0, 1 << 40]).unwrap();
        assert_eq!(gathered.len(), 0);

        // [2^40, 0, 5] · [5, 3]: no element to compute, however many products.
        let a = layout(&[1 << 40, 0, 5], &[0, 5, 1], 0);
        let b = layout(&[1 << 40, 5, 3], &[0, 0, 0], 0);
        assert_eq!(one.matmul(&a, &one, &b).unwrap().len(), 0);
    }
}
