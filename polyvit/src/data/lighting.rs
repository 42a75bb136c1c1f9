//! The paper under a glyph, lit unevenly: a photograph of a digit on a page is brighter on the
//! side nearer the window and darker where the phone's shadow falls, so the page is not one
//! grey level but a smooth surface. [`paper_surface`] estimates that surface from the picture's
//! border, where the page shows, so that the glyph is what differs from the page beneath it
//! rather than from one level (under which the darker side of the page would count as ink).
//!
//! The surface is a quadratic `s(u, v) = c₀ + c₁u + c₂v + c₃u² + c₄uv + c₅v²` in coordinates
//! `u, v ∈ [−1, 1]` across the picture, fitted to the border pixels by least squares with
//! Tukey's biweight (iteratively reweighted): border pixels that belong to a glyph touching the
//! edge get no weight. It starts from the border's median level, and a border whose pixels are
//! mostly exactly that level (an image that was prepared, not photographed) keeps exactly it.

/// Iterations of reweighting.
const ITERATIONS: usize = 8;
/// Tukey's biweight constant, in units of the residuals' robust spread.
const TUKEY: f64 = 4.685;
/// Residuals within this of the fit count as on it when their spread is nil.
const EXACT: f64 = 1e-6;

/// The terms of the quadratic at `(u, v)`.
fn terms(u: f64, v: f64) -> [f64; 6] {
    [1.0, u, v, u * u, u * v, v * v]
}

/// Solves the 6×6 system `a·c = b` by Gaussian elimination with partial pivoting; `None` when
/// it is (nearly) singular.
fn solve(mut a: [[f64; 6]; 6], mut b: [f64; 6]) -> Option<[f64; 6]> {
    for col in 0..6 {
        let pivot = (col..6).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-9 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (upper, lower) = a.split_at_mut(col + 1);
        let pivot_row = &upper[col];
        for (offset, row) in lower.iter_mut().enumerate() {
            let f = row[col] / pivot_row[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[col + 1 + offset] -= f * b[col];
        }
    }
    let mut c = [0.0; 6];
    for row in (0..6).rev() {
        let tail: f64 = (row + 1..6).map(|k| a[row][k] * c[k]).sum();
        c[row] = (b[row] - tail) / a[row][row];
    }
    Some(c)
}

/// The median of `values` (not empty).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The page's level under every pixel of the grey `height × width` `image` (row-major), fitted
/// to its border as the module docs say. A picture too small for a surface (under 3 pixels on
/// a side) gets its border's median everywhere; an empty one (or one whose size does not match
/// `height × width`) gets zeros.
pub fn paper_surface(image: &[f32], height: usize, width: usize) -> Vec<f32> {
    let coordinate = |i: usize, n: usize| {
        if n > 1 {
            2.0 * i as f64 / (n - 1) as f64 - 1.0
        } else {
            0.0
        }
    };
    if image.is_empty() || image.len() != height * width {
        return vec![0.0; image.len()];
    }
    let ring: Vec<([f64; 6], f64)> = (0..height)
        .flat_map(|y| (0..width).map(move |x| (y, x)))
        .filter(|&(y, x)| y == 0 || x == 0 || y + 1 == height || x + 1 == width)
        .map(|(y, x)| {
            let t = terms(coordinate(x, width), coordinate(y, height));
            (t, image[y * width + x] as f64)
        })
        .collect();
    let level = median(ring.iter().map(|&(_, v)| v).collect());
    let mut coefficients = [level, 0.0, 0.0, 0.0, 0.0, 0.0];
    if height >= 3 && width >= 3 {
        for _ in 0..ITERATIONS {
            let fit = |t: &[f64; 6]| t.iter().zip(&coefficients).map(|(a, b)| a * b).sum::<f64>();
            let residuals: Vec<f64> = ring.iter().map(|(t, v)| v - fit(t)).collect();
            let spread = 1.4826 * median(residuals.iter().map(|r| r.abs()).collect());
            let weight = |r: f64| match spread > EXACT {
                true => (1.0 - (r / (TUKEY * spread)).powi(2)).max(0.0).powi(2),
                false => f64::from(u8::from(r.abs() <= EXACT)),
            };
            let (mut a, mut b) = ([[0.0; 6]; 6], [0.0; 6]);
            for ((t, v), r) in ring.iter().zip(&residuals) {
                let w = weight(*r);
                for i in 0..6 {
                    b[i] += w * t[i] * v;
                    for j in 0..6 {
                        a[i][j] += w * t[i] * t[j];
                    }
                }
            }
            match solve(a, b) {
                Some(c) => coefficients = c,
                None => break,
            }
        }
    }
    (0..height)
        .flat_map(|y| (0..width).map(move |x| (y, x)))
        .map(|(y, x)| {
            let t = terms(coordinate(x, width), coordinate(y, height));
            t.iter().zip(&coefficients).map(|(a, b)| a * b).sum::<f64>() as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page lit from the left (0.9 falling to 0.5 across it, and a little darker at the
    /// bottom) with a dark stroke touching its top edge: the surface follows the page, not the
    /// stroke, inside as on the border.
    #[test]
    fn the_surface_follows_an_unevenly_lit_page_under_a_glyph() {
        let (h, w) = (40, 60);
        let page =
            |y: usize, x: usize| 0.9 - 0.4 * x as f32 / 59.0 - 0.05 * (y as f32 / 39.0).powi(2);
        let mut image: Vec<f32> = (0..h * w).map(|i| page(i / w, i % w)).collect();
        for y in 0..25 {
            for x in 28..32 {
                image[y * w + x] = 0.05;
            }
        }
        let surface = paper_surface(&image, h, w);
        for (i, s) in surface.iter().enumerate() {
            let want = page(i / w, i % w);
            assert!((s - want).abs() < 1e-3, "pixel {i}: {s} against {want}");
        }
    }

    /// A prepared image (black border, a glyph touching the edge) keeps exactly its border's
    /// level; a tiny picture gets its median.
    #[test]
    fn a_plain_border_keeps_exactly_its_level() {
        let mut image = vec![0.0f32; 28 * 28];
        for y in 0..28 {
            image[y * 28 + 13] = 1.0;
        }
        assert!(paper_surface(&image, 28, 28).iter().all(|&s| s == 0.0));
        assert_eq!(paper_surface(&[0.2, 0.9, 0.3, 0.4], 2, 2), vec![0.4; 4]);
        assert!(paper_surface(&[], 0, 5).is_empty());
    }
}
