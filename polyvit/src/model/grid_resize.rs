//! Bilinear resizing of a grid of feature vectors (position embeddings over a patch grid).

/// For each output index along one axis: the two source indices and the weight of the second,
/// with PyTorch's `align_corners=False` convention (half-pixel centers: output `i` samples the
/// source at `(i + ½)·in/out − ½`, clamped at 0; past the last source index, the last one).
fn axis_samples(input: usize, output: usize) -> Vec<(usize, usize, f64)> {
    let scale = input as f64 / output as f64;
    (0..output)
        .map(|i| {
            let source = ((i as f64 + 0.5) * scale - 0.5).max(0.0);
            let low = (source.floor() as usize).min(input - 1);
            let high = (low + 1).min(input - 1);
            (low, high, source - low as f64)
        })
        .collect()
}

/// Resizes `grid`, `rows × cols` vectors of `features` values (row-major, features last), to
/// `out_rows × out_cols` by bilinear interpolation, as
/// `torch.nn.functional.interpolate(mode="bilinear", align_corners=False)` does on the
/// `[1, features, rows, cols]` image of it. Every size must be at least 1.
pub fn resize_bilinear(
    grid: &[f64],
    (rows, cols): (usize, usize),
    features: usize,
    (out_rows, out_cols): (usize, usize),
) -> Vec<f64> {
    assert_eq!(grid.len(), rows * cols * features, "grid size");
    assert!(
        rows > 0 && cols > 0 && out_rows > 0 && out_cols > 0,
        "empty grid"
    );
    let at = |r: usize, c: usize| &grid[(r * cols + c) * features..][..features];
    let mut out = Vec::with_capacity(out_rows * out_cols * features);
    let column_samples = axis_samples(cols, out_cols);
    for (r0, r1, dr) in axis_samples(rows, out_rows) {
        for &(c0, c1, dc) in &column_samples {
            let (top_left, top_right) = (at(r0, c0), at(r0, c1));
            let (bottom_left, bottom_right) = (at(r1, c0), at(r1, c1));
            out.extend((0..features).map(|f| {
                let top = (1.0 - dc) * top_left[f] + dc * top_right[f];
                let bottom = (1.0 - dc) * bottom_left[f] + dc * bottom_right[f];
                (1.0 - dr) * top + dr * bottom
            }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_size_is_the_identity() {
        let grid: Vec<f64> = (0..12).map(|v| v as f64 * 0.5).collect();
        assert_eq!(resize_bilinear(&grid, (2, 3), 2, (2, 3)), grid);
    }

    /// `F.interpolate(torch.tensor([[[[0., 1.], [2., 3.]]]]), size=(3, 4), mode="bilinear",
    /// align_corners=False)`, worked out by hand: columns sample 0, 0.25, 0.75, 1 (the outer
    /// ones clamped), rows sample 0, 0.5, 1.
    #[test]
    fn upsampling_follows_half_pixel_centers() {
        let out = resize_bilinear(&[0.0, 1.0, 2.0, 3.0], (2, 2), 1, (3, 4));
        let expected = [
            0.0, 0.25, 0.75, 1.0, //
            1.0, 1.25, 1.75, 2.0, //
            2.0, 2.25, 2.75, 3.0,
        ];
        for (o, e) in out.iter().zip(expected) {
            assert!((o - e).abs() < 1e-12, "{out:?}");
        }
    }

    #[test]
    fn downsampling_averages_neighbours() {
        // 4 → 2 samples at 0.5 and 2.5: the means of 0,1 and 2,3.
        let out = resize_bilinear(&[0.0, 10.0, 20.0, 30.0], (1, 4), 1, (1, 2));
        assert_eq!(out, [5.0, 25.0]);
    }
}
