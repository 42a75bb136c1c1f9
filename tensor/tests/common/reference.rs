//! Naive `f64` references of the ops with more to them than one element-wise function, shared by
//! the tensor crate's property tests and the autograd crate's forward-reference table: plain loops
//! over multi-indices (see [`Nd`]), written by the definition, sharing no code with the kernels.

use super::{broadcast, indices, Nd};
use std::f64::consts::PI;

/// The tanh-approximated GELU, `½x(1 + tanh(√(2/π)(x + 0.044715x³)))`.
pub fn gelu_ref(x: f64) -> f64 {
    let c = (2.0 / PI).sqrt();
    0.5 * x * (1.0 + (c * (x + 0.044715 * x.powi(3))).tanh())
}

/// `erf z`, written independently of the library's `erfc` (which uses a series of positive terms
/// below `|z| = 2` and a continued fraction above): below `|z| = 2` the alternating Maclaurin
/// series `(2/√π) Σₙ (−1)ⁿ z^{2n+1} / (n!(2n + 1))` (its largest term is under 11, so it loses
/// about one digit), above it Kummer's series of positive terms `(2/√π) e^{−z²} Σₙ 2ⁿ z^{2n+1} /
/// (1·3···(2n + 1))`, accurate to a few ulps of 1 (the tests compare GELU's values, whose error
/// allowance grows with `|x|`).
pub fn erf_ref(z: f64) -> f64 {
    let mut sum = 0.0f64;
    if z.abs() < 2.0 {
        let (mut power, mut n) = (z, 0.0f64);
        while power != 0.0 && (power / (2.0 * n + 1.0)).abs() > 1e-18 * sum.abs() {
            sum += power / (2.0 * n + 1.0);
            n += 1.0;
            power *= -z * z / n;
        }
        2.0 / PI.sqrt() * sum
    } else {
        let (mut term, mut n) = (z, 0.0f64);
        while term.abs() > 1e-18 * sum.abs() {
            sum += term;
            term *= 2.0 * z * z / (2.0 * n + 3.0);
            n += 1.0;
        }
        2.0 / PI.sqrt() * (-z * z).exp() * sum
    }
}

/// The exact GELU, `x·Φ(x)` with `Φ(x) = ½(1 + erf(x/√2))`.
pub fn gelu_erf_ref(x: f64) -> f64 {
    0.5 * x * (1.0 + erf_ref(x / 2f64.sqrt()))
}

/// Reference of a reduction over `axes` (sorted, distinct): per output element the sum, the sum of
/// absolute values, the sum of squares, the sum of squared deviations from the mean (`Σ(x − x̄)²`),
/// the count, the max and the min of the reduced elements.
pub struct Folded {
    pub sum: Nd,
    pub sum_abs: Nd,
    pub sum_squares: Nd,
    pub deviations: Nd,
    pub max: Nd,
    pub min: Nd,
    pub count: usize,
}

pub fn fold(x: &Nd, axes: &[usize], keepdim: bool) -> Folded {
    let kept: Vec<usize> = (0..x.rank())
        .map(|a| if axes.contains(&a) { 1 } else { x.shape[a] })
        .collect();
    let mut sum = Nd::from_fn(&kept, |_| 0.0);
    let mut sum_abs = sum.clone();
    let mut sum_squares = sum.clone();
    let mut deviations = sum.clone();
    let mut max = Nd::from_fn(&kept, |_| f64::NEG_INFINITY);
    let mut min = Nd::from_fn(&kept, |_| f64::INFINITY);
    let out = |index: &[usize]| -> Vec<usize> {
        (0..x.rank())
            .map(|a| if axes.contains(&a) { 0 } else { index[a] })
            .collect()
    };
    for index in indices(&x.shape) {
        let v = x.at(&index);
        let p = sum.position(&out(&index));
        sum.data[p] += v;
        sum_abs.data[p] += v.abs();
        sum_squares.data[p] += v * v;
        max.data[p] = max.data[p].max(v);
        min.data[p] = min.data[p].min(v);
    }
    let count = axes.iter().map(|&a| x.shape[a]).product();
    for index in indices(&x.shape) {
        let p = sum.position(&out(&index));
        deviations.data[p] += (x.at(&index) - sum.data[p] / count as f64).powi(2);
    }
    let final_shape: Vec<usize> = if keepdim {
        kept
    } else {
        (0..x.rank())
            .filter(|a| !axes.contains(a))
            .map(|a| x.shape[a])
            .collect()
    };
    let reshape = |n: Nd| n.reshape(&final_shape);
    Folded {
        sum: reshape(sum),
        sum_abs: reshape(sum_abs),
        sum_squares: reshape(sum_squares),
        deviations: reshape(deviations),
        max: reshape(max),
        min: reshape(min),
        count,
    }
}

pub fn concat_reference(parts: &[Nd], axis: usize) -> Nd {
    let mut shape = parts[0].shape.clone();
    shape[axis] = parts.iter().map(|p| p.shape[axis]).sum();
    Nd::from_fn(&shape, |i| {
        let mut index = i.to_vec();
        for p in parts {
            if index[axis] < p.shape[axis] {
                return p.at(&index);
            }
            index[axis] -= p.shape[axis];
        }
        unreachable!("index inside the joined axis")
    })
}

pub fn index_select_reference(x: &Nd, axis: usize, indices: &[usize]) -> Nd {
    let mut shape = x.shape.clone();
    shape[axis] = indices.len();
    Nd::from_fn(&shape, |i| {
        let mut src = i.to_vec();
        src[axis] = indices[i[axis]];
        x.at(&src)
    })
}

/// `gather`'s reference: `y[p] = x[p with p[axis] = index[p]]` over the index's shape.
pub fn gather_reference(x: &Nd, axis: usize, index: &Nd) -> Nd {
    Nd::from_fn(&index.shape, |p| {
        let mut src = p.to_vec();
        src[axis] = index.at(p) as usize;
        x.at(&src)
    })
}

/// `scatter_add`'s reference: `x` with `src[p]` added at `p with p[axis] = index[p]`, in
/// row-major order of `p` over the index's shape.
pub fn scatter_add_reference(x: &Nd, axis: usize, index: &Nd, src: &Nd) -> Nd {
    let mut out = x.clone();
    for p in indices(&index.shape) {
        let mut dst = p.clone();
        dst[axis] = index.at(&p) as usize;
        let at = out.position(&dst);
        out.data[at] += src.at(&p);
    }
    out
}

/// NumPy `matmul` by the definition: 1-D operands become a row (left) or a column (right) and
/// lose that axis again; batch axes broadcast. Returns the product and, per element, `Σ|a·b|`.
pub fn matmul_reference(a: &Nd, b: &Nd) -> (Nd, Nd) {
    let a2 = if a.rank() == 1 {
        a.reshape(&[1, a.shape[0]])
    } else {
        a.clone()
    };
    let b2 = if b.rank() == 1 {
        b.reshape(&[b.shape[0], 1])
    } else {
        b.clone()
    };
    let (ra, rb) = (a2.rank(), b2.rank());
    let (m, k, n) = (a2.shape[ra - 2], a2.shape[ra - 1], b2.shape[rb - 1]);
    assert_eq!(k, b2.shape[rb - 2]);
    let batch = broadcast(&a2.shape[..ra - 2], &b2.shape[..rb - 2]).expect("batch broadcasts");
    let with = |tail: [usize; 2]| batch.iter().copied().chain(tail).collect::<Vec<_>>();
    let (a3, b3) = (
        a2.broadcast_to(&with([m, k])),
        b2.broadcast_to(&with([k, n])),
    );
    let mut abs = Nd::from_fn(&with([m, n]), |_| 0.0);
    let out = Nd::from_fn(&with([m, n]), |i| {
        let r = i.len();
        let (mut ia, mut ib) = (i.to_vec(), i.to_vec());
        let (mut sum, mut sum_abs) = (0.0, 0.0);
        for p in 0..k {
            ia[r - 1] = p;
            ib[r - 2] = p;
            let t = a3.at(&ia) * b3.at(&ib);
            sum += t;
            sum_abs += t.abs();
        }
        let pos = abs.position(i);
        abs.data[pos] = sum_abs;
        sum
    });
    let mut shape = with([m, n]);
    match (a.rank(), b.rank()) {
        (1, 1) => shape.clear(),
        (1, _) => {
            shape.remove(shape.len() - 2);
        }
        (_, 1) => {
            shape.pop();
        }
        _ => {}
    }
    (out.reshape(&shape), abs.reshape(&shape))
}

/// The row-major positions of each row of `shape` along `axis` (one list per row).
pub fn rows_along(shape: &[usize], axis: usize) -> Vec<Vec<usize>> {
    let layout = Nd::from_fn(shape, |_| 0.0);
    let mut starts = shape.to_vec();
    starts[axis] = 1;
    indices(&starts)
        .into_iter()
        .map(|start| {
            let mut index = start;
            (0..shape[axis])
                .map(|j| {
                    index[axis] = j;
                    layout.position(&index)
                })
                .collect()
        })
        .collect()
}

/// Softmax (or log-softmax) along `axis` by the definition, in f64, with the row's
/// `max |xᵢ − max x|` (what f32 rounding errors grow with) per element.
pub fn softmax_reference(x: &Nd, axis: usize, log: bool) -> (Nd, Nd) {
    let mut out = Nd::from_fn(&x.shape, |_| 0.0);
    let mut spread = out.clone();
    for positions in rows_along(&x.shape, axis) {
        let values: Vec<f64> = positions.iter().map(|&p| x.data[p]).collect();
        let m = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = values.iter().map(|v| (v - m).exp()).sum();
        let range = values.iter().map(|v| (v - m).abs()).fold(0.0, f64::max);
        for (&p, &v) in positions.iter().zip(&values) {
            out.data[p] = if log {
                v - m - sum.ln()
            } else {
                (v - m).exp() / sum
            };
            spread.data[p] = range;
        }
    }
    (out, spread)
}

/// Layer norm over the last axis by the definition, in f64, with the magnitudes its f32
/// rounding errors are proportional to.
pub struct LayerNormReference {
    pub y: Nd,
    pub mean: Nd,
    pub rstd: Nd,
    /// Per element of `y`: the magnitude f32 rounding errors of `y` are proportional to.
    pub y_scale: Nd,
    /// Per row: the same for `rstd`.
    pub rstd_scale: Nd,
    /// Per row: `max |x|`.
    pub max_abs: Nd,
}

pub fn layer_norm_reference(x: &Nd, gamma: &Nd, beta: &Nd, eps: f64) -> LayerNormReference {
    let rank = x.rank();
    let d = x.shape[rank - 1];
    let rows_shape = &x.shape[..rank - 1];
    let rows: usize = rows_shape.iter().product();
    // Row-major: row r is data[r·d .. (r+1)·d].
    let row = |r: usize| &x.data[r * d..(r + 1) * d];
    // An empty row has mean 0 and variance 0 (the sums are 0; we divide by max(d, 1)).
    let count = d.max(1) as f64;
    let mean: Vec<f64> = (0..rows)
        .map(|r| row(r).iter().sum::<f64>() / count)
        .collect();
    let rstd: Vec<f64> = (0..rows)
        .map(|r| {
            let var = row(r).iter().map(|v| (v - mean[r]).powi(2)).sum::<f64>() / count;
            1.0 / (var + eps).sqrt()
        })
        .collect();
    let max_abs: Vec<f64> = (0..rows)
        .map(|r| row(r).iter().fold(0.0, |m: f64, v| m.max(v.abs())))
        .collect();
    let grow = 1.0 + d as f64 / 4.0;
    let (mut y, mut y_scale) = (Vec::new(), Vec::new());
    for r in 0..rows {
        for (j, &v) in row(r).iter().enumerate() {
            y.push((v - mean[r]) * rstd[r] * gamma.data[j] + beta.data[j]);
            y_scale.push(
                grow * rstd[r]
                    * gamma.data[j].abs()
                    * (v.abs() + max_abs[r])
                    * (1.0 + max_abs[r] * rstd[r]),
            );
        }
    }
    let rstd_scale: Vec<f64> = (0..rows)
        .map(|r| rstd[r] * grow * (1.0 + max_abs[r] * rstd[r]))
        .collect();
    LayerNormReference {
        y: Nd::new(&x.shape, y),
        mean: Nd::new(rows_shape, mean),
        rstd: Nd::new(rows_shape, rstd),
        y_scale: Nd::new(&x.shape, y_scale),
        rstd_scale: Nd::new(rows_shape, rstd_scale),
        max_abs: Nd::new(rows_shape, max_abs),
    }
}
