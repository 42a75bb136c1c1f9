//! Ink: how far each pixel of a picture of a glyph lies from the page beneath it, toward the
//! glyph's side (darker for pen on paper, lighter for chalk on a board).
//!
//! The page's light is a smooth surface fitted to the border ([`paper_surface`]). That follows a
//! page lit from one side, but not a shadow whose edge crosses the picture (a hand or a phone
//! over one corner): the surface cannot bend that sharply, so the shadowed part of the page
//! would differ from it as ink does. What tells such a shadow from a glyph is that it enters
//! from the border, where the glyph rarely reaches, and along a long stretch of it; and that it
//! dims the page rather than darkening it as far as ink.
//!
//! So, with `t = σ·(x − s)` the residual from the surface `s` signed so that ink is positive
//! (`σ` the sign of the residuals at least half the largest, the ink's side):
//! 1. The border is walked round; a run of border pixels whose `t` is at least
//!    [`INK_SHARE`] of the largest `t` in the picture, covering at least [`SHADOW_RUN`] of the
//!    border, even along it ([`SHADOW_EVENNESS`]) and with a median `t` at most
//!    [`SHADOW_DEPTH`] of the largest, is a shadow entering the picture: its pixels start as
//!    page at their own level, `min(t, SHADOW_DEPTH·max t)`. Every other border pixel is page at
//!    the surface's level, `min(t, 0)` (a glyph touching the border is not taken for page).
//! 2. The page level `p` spreads inward from the border like water filling a basin from its rim
//!    (a priority flood, the highest level first): a pixel `q` reached from a neighbour at level
//!    `l` is page, `p(q) = min(t(q), l)`, unless it is deeper than that by [`INK_SHARE`] of the
//!    largest `t`: then it is ink, and the level it carries on is the surface's, `min(l, 0)`.
//!    Without shadow runs every level is at most 0 and this is `p(q) = min(t(q), max over
//!    paths from the border to q of the smallest level along the path)`: a glyph, however large,
//!    whose every path to the border crosses the page gets the page level around it. A shadowed
//!    region reached from a shadow run is page at its own level, soft edge included, while the
//!    ink in it, and any glyph crossing the shadow's edge, is measured against the lit surface:
//!    a shadow's level does not travel along a stroke into the light.
//! 3. The ink depth is `t − p ≥ 0`: nothing where the page shows, the glyph's contrast with
//!    the page around it where it does not.
//!
//! A picture without such a shadow gets the residual from the surface, `max(t, 0)` give or take
//! its noise: the same glyph as the surface alone finds.

use super::lighting::paper_surface;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A pixel is ink when its distance from the page is at least this share of the picture's
/// largest (and a border pixel differs from the page like ink or a shadow): chosen on the
/// exported validation splits, where a third cut the faint edges of Fashion-MNIST's items off
/// their boxes (validation top-1 0.847 framed against 0.866 as they are) and 0.15 kept both
/// tasks within 0.001 of their unframed scores.
pub const INK_SHARE: f32 = 0.15;
/// The shortest run of differing border pixels, as a share of the whole border, that can be a
/// shadow entering the picture: a shadow cast from outside over a corner or along a side covers
/// that much, a glyph cut by the frame mostly less (among the exported Fashion-MNIST test items,
/// an eighth took 64 of 2,000 for shadows and cost 0.004 top-1; a quarter takes none).
pub const SHADOW_RUN: f32 = 0.25;
/// The deepest a shadow dims the page, as a share of the strongest ink: a run of border pixels
/// whose median is deeper than this is a glyph cut by the border, not a shadow. A shadow that
/// leaves a quarter of the light on white paper under black ink is still page.
pub const SHADOW_DEPTH: f32 = 0.75;
/// A shadow dims a stretch of the border evenly: the middle half of its run lies within this
/// share of the run's median depth (strokes running along the edge vary far more: of the
/// 1,152 runs over an eighth of the border in the UCI digits, 5 are this even and no deeper than
/// [`SHADOW_DEPTH`]).
pub const SHADOW_EVENNESS: f32 = 0.2;

/// The border pixels of a `height × width` picture (both at least 1) in order round it: along
/// the top, down the right, back along the bottom, up the left. A picture one pixel thin is all
/// border, in reading order.
fn border_walk(height: usize, width: usize) -> Vec<usize> {
    if height == 1 || width == 1 {
        return (0..height * width).collect();
    }
    let top = 0..width;
    let right = (1..height).map(|y| y * width + width - 1);
    let bottom = (0..width - 1).rev().map(|x| (height - 1) * width + x);
    let left = (1..height - 1).rev().map(|y| y * width);
    top.chain(right).chain(bottom).chain(left).collect()
}

/// The runs of `true` in the cyclic sequence `flags`, as `(start, length)` with the start an
/// index into `flags` (a run may wrap past the end).
fn cyclic_runs(flags: &[bool]) -> Vec<(usize, usize)> {
    let n = flags.len();
    let Some(clear) = flags.iter().position(|&f| !f) else {
        return if n == 0 { vec![] } else { vec![(0, n)] };
    };
    let mut runs = Vec::new();
    let mut start = None;
    for step in 1..=n {
        let i = (clear + step) % n;
        match (flags[i], start) {
            (true, None) => start = Some(step),
            (false, Some(s)) => {
                runs.push(((clear + s) % n, step - s));
                start = None;
            }
            _ => {}
        }
    }
    runs
}

/// The lower quartile, median and upper quartile of `values` (not empty).
fn quartiles(mut values: Vec<f32>) -> [f32; 3] {
    values.sort_by(f32::total_cmp);
    [1, 2, 3].map(|q| values[q * (values.len() - 1) / 4])
}

/// The page level each border pixel of `walk` starts the flood at (step 1 of the module docs),
/// given the residuals `t` and the strongest `strongest > 0`.
fn border_levels(t: &[f32], walk: &[usize], strongest: f32) -> Vec<f32> {
    let flags: Vec<bool> = walk
        .iter()
        .map(|&i| t[i] >= INK_SHARE * strongest)
        .collect();
    let mut levels: Vec<f32> = walk.iter().map(|&i| t[i].min(0.0)).collect();
    for (start, length) in cyclic_runs(&flags) {
        let run = (start..start + length).map(|k| k % walk.len());
        let [lower, depth, upper] = quartiles(run.clone().map(|k| t[walk[k]]).collect());
        let long = length as f32 >= SHADOW_RUN * walk.len() as f32;
        let even = upper - lower <= SHADOW_EVENNESS * depth;
        if long && even && depth <= SHADOW_DEPTH * strongest {
            for k in run {
                levels[k] = t[walk[k]].min(SHADOW_DEPTH * strongest);
            }
        }
    }
    levels
}

/// A pixel waiting in the flood, ordered by its level (highest first), then by index (lowest
/// first) so that the flood's order never depends on the heap's.
struct Waiting {
    level: f32,
    index: usize,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Waiting {}

impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> Ordering {
        let by_level = self.level.total_cmp(&other.level);
        by_level.then_with(|| other.index.cmp(&self.index))
    }
}

/// The page level under every pixel of the `height × width` residuals `t`, flooded in from the
/// border pixels `walk` at `levels` (step 2 of the module docs): the highest level first, each
/// pixel reached taking the smaller of its own residual and its neighbour's level, or, when it
/// lies deeper than that level by `ink_step` or more, the surface's level (0) if that is lower.
fn flood(
    t: &[f32],
    height: usize,
    width: usize,
    walk: &[usize],
    levels: &[f32],
    ink_step: f32,
) -> Vec<f32> {
    let mut page = vec![0.0; t.len()];
    let mut reached = vec![false; t.len()];
    let mut waiting = BinaryHeap::with_capacity(walk.len());
    for (&index, &level) in walk.iter().zip(levels) {
        (page[index], reached[index]) = (level, true);
        waiting.push(Waiting { level, index });
    }
    while let Some(Waiting { level, index }) = waiting.pop() {
        let (y, x) = (index / width, index % width);
        let up = (y > 0).then(|| index - width);
        let down = (y + 1 < height).then(|| index + width);
        let left = (x > 0).then(|| index - 1);
        let right = (x + 1 < width).then(|| index + 1);
        for next in [up, down, left, right].into_iter().flatten() {
            if !reached[next] {
                let level = match t[next] >= level + ink_step {
                    true => level.min(0.0),
                    false => t[next].min(level),
                };
                (page[next], reached[next]) = (level, true);
                waiting.push(Waiting { level, index: next });
            }
        }
    }
    page
}

/// The ink depth of every pixel of the grey `height × width` `image` (row-major, values in
/// [0, 1]), as the module docs say: 0 where the page shows, the glyph's contrast with the page
/// around it elsewhere. All zeros for an empty picture, one whose size does not match, or one
/// with nothing on its page.
pub fn ink_depth(image: &[f32], height: usize, width: usize) -> Vec<f32> {
    if image.is_empty() || image.len() != height * width {
        return vec![0.0; image.len()];
    }
    let surface = paper_surface(image, height, width);
    let residual: Vec<f32> = image.iter().zip(&surface).map(|(x, s)| x - s).collect();
    let largest = residual.iter().fold(0.0f32, |m, r| m.max(r.abs()));
    let ink_side: f32 = residual.iter().filter(|r| r.abs() >= 0.5 * largest).sum();
    let sign = if ink_side < 0.0 { -1.0 } else { 1.0 };
    let t: Vec<f32> = residual.iter().map(|r| sign * r).collect();
    let strongest = t.iter().copied().fold(0.0, f32::max);
    if strongest <= 0.0 {
        return vec![0.0; image.len()];
    }
    let walk = border_walk(height, width);
    let levels = border_levels(&t, &walk, strongest);
    let page = flood(&t, height, width, &walk, &levels, INK_SHARE * strongest);
    t.iter().zip(&page).map(|(t, p)| t - p).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::{Just, Strategy};

    /// A white page, `h × w`, with a black ring (a glyph "0") in the middle, under `shade`.
    fn ring_on_page(h: usize, w: usize, shade: impl Fn(usize, usize) -> f32) -> Vec<f32> {
        let (cy, cx) = (h as f32 / 2.0, w as f32 / 2.0);
        (0..h * w)
            .map(|i| {
                let (y, x) = (i / w, i % w);
                let r = ((y as f32 - cy).powi(2) + (x as f32 - cx).powi(2)).sqrt();
                let ink = (h as f32 / 6.0..h as f32 / 4.0).contains(&r);
                shade(y, x) * if ink { 0.0 } else { 1.0 }
            })
            .collect()
    }

    fn ink_pixels(depth: &[f32]) -> Vec<bool> {
        let strongest = depth.iter().copied().fold(0.0, f32::max);
        depth.iter().map(|&d| d >= INK_SHARE * strongest).collect()
    }

    #[test]
    fn the_border_is_walked_round_once() {
        assert_eq!(border_walk(3, 4), vec![0, 1, 2, 3, 7, 11, 10, 9, 8, 4]);
        assert_eq!(border_walk(1, 3), vec![0, 1, 2]);
        assert_eq!(border_walk(2, 2), vec![0, 1, 3, 2]);
    }

    #[test]
    fn runs_wrap_round_the_end() {
        let flags = [true, false, true, true, false, true];
        assert_eq!(cyclic_runs(&flags), vec![(2, 2), (5, 2)]);
        assert_eq!(cyclic_runs(&[true; 3]), vec![(0, 3)]);
        assert!(cyclic_runs(&[false; 3]).is_empty());
    }

    /// Under a shadow over the top-left corner (half the light there, its edge soft over a tenth
    /// of the picture), the ink is the ring and only the ring, in the shadow as in the light.
    #[test]
    fn a_shadow_entering_from_a_corner_is_page_not_ink() {
        let (h, w) = (60, 60);
        let shade = |y: usize, x: usize| 0.5 + 0.5 * ((x + y) as f32 / 6.0 - 6.0).clamp(0.0, 1.0);
        let image = ring_on_page(h, w, shade);
        let plain = ring_on_page(h, w, |_, _| 1.0);
        let found = ink_pixels(&ink_depth(&image, h, w));
        let want: Vec<bool> = plain.iter().map(|&v| v < 0.5).collect();
        assert_eq!(found, want);
        // The surface alone takes the shadowed corner for ink.
        let surface = paper_surface(&image, h, w);
        assert!((surface[0] - image[0]).abs() > INK_SHARE);
    }

    /// A bar of black ink crossing the edge of a shadow over the left of a white page: the
    /// shadowed page and its soft edge are page, and the bar is ink at its full depth along its
    /// whole length, in the light as in the shadow.
    #[test]
    fn a_stroke_crossing_a_shadow_edge_keeps_its_depth_in_the_light() {
        let (h, w) = (60, 60);
        let bar = |y: usize, x: usize| (10..13).contains(&y) && (5..55).contains(&x);
        let image: Vec<f32> = (0..h * w)
            .map(|i| {
                let (y, x) = (i / w, i % w);
                let light = 0.5 + 0.5 * ((x as f32 - 20.0) / 5.0).clamp(0.0, 1.0);
                if bar(y, x) {
                    0.0
                } else {
                    light
                }
            })
            .collect();
        // The border pixels of the soft edge lighter than the ink threshold start at the
        // surface's level, so they keep a little depth; no other page pixel does.
        for (i, &d) in ink_depth(&image, h, w).iter().enumerate() {
            match bar(i / w, i % w) {
                true => assert_eq!(d, 1.0, "pixel {i}"),
                false => assert!(d < INK_SHARE, "pixel {i}: {d}"),
            }
        }
    }

    /// A solid glyph covering most of the picture (a product photo) is ink throughout, not page,
    /// and a glyph touching the border keeps its ink there.
    #[test]
    fn a_solid_glyph_and_one_touching_the_border_stay_ink() {
        let (h, w) = (40, 50);
        let solid: Vec<f32> = (0..h * w)
            .map(
                |i| match (4..36).contains(&(i / w)) && (5..45).contains(&(i % w)) {
                    true => 0.3,
                    false => 0.95,
                },
            )
            .collect();
        let depth = ink_depth(&solid, h, w);
        for (i, d) in depth.iter().enumerate() {
            let want = if solid[i] < 0.5 { 0.65 } else { 0.0 };
            assert!((d - want).abs() < 1e-5, "pixel {i}: {d} against {want}");
        }
        // Light strokes on black, one running off the top edge.
        let mut strokes = vec![0.0f32; h * w];
        for y in 0..30 {
            strokes[y * w + 20] = 1.0;
            strokes[y * w + 21] = 0.6;
        }
        let depth = ink_depth(&strokes, h, w);
        assert_eq!(depth, strokes);
    }

    proptest::proptest! {
        /// Any picture, of any size down to one pixel: the flood reaches every pixel, and every
        /// depth is finite and at least 0.
        #[test]
        fn every_depth_is_finite_and_never_negative(
            (h, w, image) in (1usize..12, 1usize..12).prop_flat_map(|(h, w)| {
                (Just(h), Just(w), proptest::collection::vec(0.0f32..=1.0, h * w))
            })
        ) {
            let depth = ink_depth(&image, h, w);
            proptest::prop_assert_eq!(depth.len(), h * w);
            proptest::prop_assert!(depth.iter().all(|d| d.is_finite() && *d >= 0.0), "{depth:?}");
        }
    }

    #[test]
    fn a_blank_or_mismatched_picture_has_no_ink() {
        assert_eq!(ink_depth(&[0.7; 12], 3, 4), vec![0.0; 12]);
        assert_eq!(ink_depth(&[0.7; 5], 3, 4), vec![0.0; 5]);
        assert!(ink_depth(&[], 0, 0).is_empty());
    }
}
