//! Edge cases and regressions for bugs the property tests and audits found: empty axes, recycled
//! buffers, axes at the boundary of the valid range, views of many axes.

use tensor::{DType, Tensor};

/// A layer norm over an empty last axis still defines every row's statistics (mean 0, rstd
/// 1/√ε), even when the stat buffers come from the pool holding old values.
#[test]
fn layer_norm_over_an_empty_axis_writes_its_statistics() {
    let rows = 40_000; // 160 KB of f32: large enough to be recycled through the buffer pool.
    for _ in 0..2 {
        // Leave buffers of the right size full of 7s in the pool.
        drop(
            Tensor::full(&[rows], 7.0, DType::F32)
                .add_scalar(0.0)
                .unwrap(),
        );
        let x = Tensor::zeros(&[rows, 0], DType::F32);
        let (gamma, beta) = (
            Tensor::zeros(&[0], DType::F32),
            Tensor::zeros(&[0], DType::F32),
        );
        let stats = x.layer_norm_with_stats(&gamma, &beta, 1e-4).unwrap();
        assert_eq!(stats.y.shape(), &[rows, 0]);
        assert_eq!(stats.mean.shape(), &[rows]);
        assert!(stats
            .mean
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .all(|&m| m == 0.0));
        assert!(stats
            .rstd
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .all(|&r| (r - 100.0).abs() < 1e-3));
        let tensor::LayerNormGrads { dx, dgamma, dbeta } = x
            .layer_norm_backward(&x, &stats.mean, &stats.rstd, &gamma)
            .unwrap();
        assert_eq!(
            (dx.shape(), dgamma.shape(), dbeta.shape()),
            (&[rows, 0][..], &[0][..], &[0][..])
        );
    }
}

/// An f32 row whose variance overflows (`[1e20, −1e20, 3e19, 0]`) cannot be normalized in f32:
/// its outputs and `rstd` are NaN, not `β` (which `1/√∞ = 0` gave, silently); in f64 the same
/// row is normalized. A row beside it is unaffected. On every device.
#[test]
fn layer_norm_of_a_row_whose_variance_overflows_is_nan() {
    let values = [1e20, -1e20, 3e19, 0.0, 1.0, 2.0, 3.0, 4.0];
    for device in tensor::test_devices() {
        for dtype in [DType::F32, DType::F64] {
            let x = Tensor::from_f64s_on(&values, &[2, 4], dtype, &device).unwrap();
            let gamma = Tensor::full_on(&[4], 1.0, dtype, &device).unwrap();
            let beta = Tensor::full_on(&[4], 0.5, dtype, &device).unwrap();
            let stats = x.layer_norm_with_stats(&gamma, &beta, 1e-6).unwrap();
            let y = stats.y.to_vec_f64().unwrap();
            let rstd = stats.rstd.to_vec_f64().unwrap();
            let overflowed = dtype == DType::F32;
            let what = format!("{dtype} on {device}: y {y:?}, rstd {rstd:?}");
            assert_eq!(y[..4].iter().all(|v| v.is_nan()), overflowed, "{what}");
            assert_eq!(rstd[0].is_nan(), overflowed, "{what}");
            assert!(y[..4].iter().all(|v| v.is_finite()) || overflowed, "{what}");
            assert!(
                (y[4] + 0.8416).abs() < 1e-4 && rstd[1].is_finite(),
                "{what}"
            );
        }
    }
}

#[test]
fn stack_accepts_every_position_up_to_the_rank() {
    let a = Tensor::from_f64s(&[1., 2., 3., 4., 5., 6.], &[2, 3], DType::F64).unwrap();
    let b = a.mul_scalar(10.0).unwrap();
    for (axis, shape) in [(0, [2, 2, 3]), (1, [2, 2, 3]), (2, [2, 3, 2])] {
        let s = Tensor::stack(&[a.clone(), b.clone()], axis).unwrap();
        assert_eq!(s.shape(), &shape);
    }
    let s = Tensor::stack(&[a.clone(), b.clone()], 2).unwrap();
    assert_eq!(
        s.to_vec::<f64>().unwrap(),
        [1., 10., 2., 20., 3., 30., 4., 40., 5., 50., 6., 60.]
    );
    assert!(Tensor::stack(&[a.clone(), b], 3).is_err());
}

#[test]
fn index_add_into_checks_against_the_destination() {
    let src = Tensor::from_f64s(&[1., 2., 3., 4.], &[2, 2], DType::F32).unwrap();
    // Repeated indices accumulate; index 3 is valid for the destination (size 4), not the source.
    let out = src
        .index_add_into(
            &[4, 2],
            0,
            &tensor::Indices::new(&tensor::Device::Cpu, &[3, 3]).unwrap(),
        )
        .unwrap();
    assert_eq!(
        out.to_vec::<f32>().unwrap(),
        [0., 0., 0., 0., 0., 0., 4., 6.]
    );
    assert!(src
        .index_add_into(
            &[2],
            1,
            &tensor::Indices::new(&tensor::Device::Cpu, &[]).unwrap()
        )
        .is_err());
}

#[test]
fn matmul_with_empty_inner_dimension_is_zeros() {
    for (m, n) in [(3, 4), (300, 300)] {
        let a = Tensor::zeros(&[m, 0], DType::F32);
        let b = Tensor::zeros(&[0, n], DType::F32);
        // Recycled output buffers must still come back zeroed.
        drop(
            Tensor::full(&[m, n], 5.0, DType::F32)
                .add_scalar(0.0)
                .unwrap(),
        );
        let c = a.matmul(&b).unwrap();
        assert_eq!(c.shape(), &[m, n]);
        assert!(c.to_vec::<f32>().unwrap().iter().all(|&v| v == 0.0));
    }
}

#[test]
fn reductions_of_empty_tensors() {
    let x = Tensor::zeros(&[0, 3], DType::F64);
    assert_eq!(
        x.sum(&[0], false).unwrap().to_vec::<f64>().unwrap(),
        [0.0; 3]
    );
    assert_eq!(x.sum(&[1], true).unwrap().shape(), &[0, 1]);
    assert!(x.mean_all().unwrap().to_scalar().unwrap().is_nan());
    assert_eq!(x.max(&[1], false).unwrap().shape(), &[0]);
}

/// Views with more axes than an OpenCL kernel takes once merged (a fully reversed rank-11 tensor
/// has 11 that cannot merge; the kernels take 8) give on every device what they give on the CPU:
/// read back, copied, mapped, combined, reduced, gathered and multiplied.
#[test]
fn views_of_more_axes_than_a_kernel_takes() {
    let shape = [2; 11];
    let reversed: Vec<usize> = (0..11).rev().collect();
    let x = Tensor::arange(0.0, 2048.0, 1.0, DType::F32)
        .unwrap()
        .mul_scalar(1.0 / 1024.0)
        .unwrap()
        .reshape(&shape)
        .unwrap();
    let results = |x: &Tensor| -> Vec<Vec<f64>> {
        let p = x.permute(&reversed).unwrap();
        let indices = tensor::Indices::new(&x.device(), &[1, 0, 1]).unwrap();
        [
            p.clone(),
            p.contiguous().unwrap(),
            p.exp().unwrap(),
            p.mul(&p.contiguous().unwrap()).unwrap(),
            p.add_scalar(1.0).unwrap(),
            p.sum(&[0, 2, 4, 6], false).unwrap(),
            p.argmax(5, false).unwrap(),
            p.index_select(3, &indices).unwrap(),
            p.matmul(&p.transpose(9, 10).unwrap()).unwrap(),
        ]
        .iter()
        .map(|t| t.to_vec_f64().unwrap())
        .collect()
    };
    let on_cpu = results(&x);
    for device in tensor::test_devices() {
        agree(&device, &results(&x.to_device(&device).unwrap()), &on_cpu);
    }
}

/// Each of the results `got` on `device` equals the CPU's (`want`) to f32 rounding.
fn agree(device: &tensor::Device, got: &[Vec<f64>], want: &[Vec<f64>]) {
    for (i, (got, want)) in got.iter().zip(want).enumerate() {
        assert_eq!(got.len(), want.len(), "{device}: result {i}");
        for (g, w) in got.iter().zip(want) {
            assert!(
                (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
                "{device}: result {i}: {g} vs {w}"
            );
        }
    }
}

/// Folds and gathers whose own views have more axes than a kernel takes, though the view they
/// read may have fewer (removing axes parts merged runs: the odd axes of a contiguous `[2; 17]`
/// are 9 that cannot merge), give on every device what they give on the CPU.
#[test]
fn folds_whose_parts_have_more_axes_than_a_kernel_takes() {
    let values = |n: usize| {
        Tensor::arange(0.0, n as f64, 1.0, DType::F32)
            .unwrap()
            .mul_scalar(1.0 / n as f64)
            .unwrap()
    };
    let odd_axes: Vec<usize> = (1..17).step_by(2).collect();
    let wide = values(1 << 17).reshape(&[2; 17]).unwrap();
    let perm = [9, 8, 7, 6, 5, 4, 3, 0, 1, 2];
    let deep = values(1 << 10).reshape(&[2; 10]).unwrap();
    let results = |wide: &Tensor, deep: &Tensor| -> Vec<Vec<f64>> {
        let p = deep.permute(&perm).unwrap();
        let indices = tensor::Indices::new(&deep.device(), &[1, 0, 1]).unwrap();
        let pairs = tensor::Indices::new(&deep.device(), &[1, 0]).unwrap();
        [
            wide.sum(&odd_axes, false).unwrap(),
            wide.max(&odd_axes, false).unwrap(),
            wide.mean(&odd_axes, false).unwrap(),
            p.sum(&[8], false).unwrap(),
            p.max(&[8], false).unwrap(),
            p.argmax(8, false).unwrap(),
            p.argmin(8, false).unwrap(),
            p.index_select(8, &indices).unwrap(),
            p.index_add_into(&[2; 10], 8, &pairs).unwrap(),
        ]
        .iter()
        .map(|t| t.to_vec_f64().unwrap())
        .collect()
    };
    let on_cpu = results(&wide, &deep);
    for device in tensor::test_devices() {
        let got = results(
            &wide.to_device(&device).unwrap(),
            &deep.to_device(&device).unwrap(),
        );
        agree(&device, &got, &on_cpu);
    }
}

/// A fold longer than any buffer (a broadcast view's) is refused by a device whose kernels count
/// in 32 bits, naming the op and the shapes, before its loop counter could wrap and never end.
#[test]
fn folds_longer_than_a_kernel_counts_are_refused_by_name() {
    let long = (1usize << 31) + 1;
    for device in tensor::test_devices() {
        if device == tensor::Device::Cpu {
            continue;
        }
        let one = Tensor::from_f64s_on(&[1.0], &[1, 1], DType::F32, &device).unwrap();
        let row = one.broadcast_to(&[1, long]).unwrap();
        let err = row.sum_all().unwrap_err().to_string();
        assert!(
            err.starts_with("sum: [1, 2147483649]: OpenCL: the reduced count = 2147483649"),
            "{err}"
        );
        let column = one.broadcast_to(&[long, 1]).unwrap();
        let err = row.matmul(&column).unwrap_err().to_string();
        assert!(
            err.starts_with("matmul: [1, 2147483649] and [2147483649, 1]: OpenCL: k = 2147483649"),
            "{err}"
        );
    }
}

/// An empty index picks nothing whatever its shape, as in PyTorch: `gather` gives an empty
/// tensor of the index's shape, `scatter_add` a copy of the destination (its source unread, the
/// source's gradient zeros), on every device.
#[test]
fn empty_indices_of_any_shape_pick_nothing() {
    for device in tensor::test_devices() {
        let x = Tensor::from_f64s(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], &[2, 3], DType::F32)
            .unwrap()
            .to_device(&device)
            .unwrap();
        for shape in [&[3, 0][..], &[0], &[0, 5, 7]] {
            let index = Tensor::zeros(shape, DType::F32);
            let picked = x.gather(1, &index).unwrap();
            assert_eq!(picked.shape(), shape);
            let added = x.scatter_add(1, &index, &x).unwrap();
            assert_eq!(added.to_vec_f64().unwrap(), x.to_vec_f64().unwrap());
        }
        // The axis is still checked, and so is the source's dtype.
        assert!(x.gather(2, &Tensor::zeros(&[0], DType::F32)).is_err());
        let f64s = Tensor::zeros(&[2, 3], DType::F64)
            .to_device(&device)
            .unwrap();
        assert!(x
            .scatter_add(1, &Tensor::zeros(&[0], DType::F32), &f64s)
            .is_err());
    }
}
