//! Glyphs on a plain background (handwritten digits, letters, clothes photographed on white and
//! negated): reading a new picture the way the training images were made.
//!
//! MNIST-style images are prepared, not just photographed: light ink on a dark, plain background,
//! the glyph scaled so that the longer side of its bounding box spans a fixed number of pixels
//! (20 of MNIST's 28) and moved so that its centre of mass sits at the centre. A digit drawn by
//! someone else — dark ink on white paper, any size, anywhere in the picture — only looks like
//! that data once it is brought to the same form; resized as it is, the model trained on MNIST
//! scores it little better than chance.
//!
//! [`GlyphFrame::measure`] finds what a task's training images share (a plain background of one
//! level, and the median size of their glyphs), and [`GlyphFrame::frame`] brings a new grey
//! picture to it, where the training glyphs were brought to one size ([`GlyphFrame::prepared`];
//! glyphs of many sizes were not, and new pictures for them are only resized, as their files
//! were):
//! 1. its ink depth `d` is how far each pixel lies from the page beneath it, toward the glyph's
//!    side ([`ink_depth`]: the page's light is a smooth surface fitted to its border, one level
//!    for a prepared image, a slope for a photograph of paper lit from one side, and a shadow
//!    entering from the border counts as page too), and the glyph is every pixel whose depth is
//!    at least 0.15 of the largest (the same share finds the training glyphs), so dark ink on
//!    white paper and light ink on black come out alike; a picture over 512 pixels on a side is
//!    first reduced to that;
//! 2. the bounding box of the glyph is cut out and scaled (keeping its aspect ratio) so that its
//!    longer side spans the training glyphs' median extent;
//! 3. its pixels are set to `background + (ink − background)·d / max d`, with
//!    `background` the training images' and `ink` the level of their strongest ink (the median
//!    over the images, toward the far end of [0, 1]: the training polarity; MNIST's 1.0, a set
//!    drawn at 0.78 on black its 0.78);
//! 4. it is placed on a canvas of the training background, centred as the training glyphs are:
//!    by mass (MNIST's digits), or by their bounding box (Fashion-MNIST's items, extended to a
//!    square around their box). [`GlyphFrame::measure`] tells which from the training images
//!    themselves: whichever places them nearer the centre (median distance; mass on a tie).
//!    Centred by the other rule, a task's own test images can read at chance (an "F" in eight
//!    orientations, box-centred, re-centred by mass).
//!
//! A picture with no glyph (no pixel 0.1 deep) becomes a blank canvas, and one already in the
//! training form is kept as it is: of the input's size, on the training background, its glyph's
//! extent, contrast and distance from the centre within the range most training glyphs lie in
//! (their 5th to 95th percentiles, [`GlyphRange`]). Framed again, the exported test digits of a
//! task trained without shifts lost 35 of 1,000 (the scaling and resampling move a glyph by a
//! pixel or blur it). A test digit outside that range is framed like any new picture, so a
//! task's exported test split can score a little differently by default than as it is
//! (`--as-is`): the same with the default run's model, 0.567 against 0.582 with a model trained
//! for 1,500 steps.

use super::ink::{ink_depth, INK_SHARE};
use image::{imageops::FilterType, DynamicImage, GrayImage, Luma};
use serde::{Deserialize, Serialize};

/// The side of the square at each corner of a training image where its background is read.
const CORNER: usize = 2;
/// A corner pixel at most this far from the background level counts as background.
const PLAIN: f32 = 0.1;
/// The share of the corner pixels, and then of the images, that must be background for the
/// background to count as plain.
const PLAIN_SHARE: f64 = 0.9;
/// A picture longer than this on either side is first reduced to it, area-weighted: its glyph
/// ends up some twenty pixels across whatever its size, and a phone's 12-megapixel photo would
/// take seconds to flood at full size ([`ink_depth`]).
const WORKING_SIDE: u32 = 512;
/// An image whose largest distance from its background is below this has no glyph.
const NO_INK: f32 = 0.1;

/// How the training glyphs are centred, and a new picture's glyph with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Centring {
    /// Its centre of mass at the centre (the rule before frames recorded one).
    #[default]
    Mass,
    /// The centre of its bounding box at the centre.
    Box,
}

/// What the training images of a grey task share: a plain background and the size of their
/// glyphs (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GlyphFrame {
    /// The background level, in [0, 1] (0 for MNIST's black).
    pub background: f32,
    /// The median longer side of the glyphs' bounding boxes, in pixels of the input.
    pub extent: f32,
    /// How the glyphs are centred.
    #[serde(default)]
    pub centring: Centring,
    /// The median of the glyphs' largest distance from the background: how far toward the far
    /// end of [0, 1] their strongest ink lies (`None` in frames recorded before it was: the far
    /// end itself).
    #[serde(default)]
    pub contrast: Option<f32>,
    /// The range of the training glyphs, within which a picture is kept as it is (`None` in
    /// frames recorded before it was: every picture is framed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<GlyphRange>,
}

/// The range most training glyphs lie in, from their 5th to their 95th percentile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GlyphRange {
    /// The longer side of their bounding boxes, in pixels: lowest and highest.
    pub extent: [f32; 2],
    /// Their largest distance from the background: lowest and highest.
    pub contrast: [f32; 2],
    /// The distance of their centre (by the frame's centring) from the image's centre, in
    /// pixels: the highest.
    pub off_centre: f32,
}

/// The lower and upper ends of [`GlyphRange`], as percentiles.
const RANGE_PERCENTILES: [f64; 2] = [0.05, 0.95];

/// Training glyphs brought to one size span at most this ratio from their 5th to their 95th
/// percentile extent (MNIST's 20 to 20 pixels, Fashion-MNIST's 27 to 28).
const PREPARED_EXTENT_SPREAD: f32 = 1.25;

impl GlyphFrame {
    /// Whether the training glyphs were prepared: brought to one size, as MNIST's and
    /// Fashion-MNIST's were, so that a new picture is read the way they were made by being
    /// framed to them (its polarity, contrast and size to theirs, and centred). Glyphs of many
    /// sizes (shapes drawn at random sizes, pictures of any size resized as they are) were not
    /// scaled to one: a new picture is read as the training files were, resized, since scaling
    /// its glyph to their median size would take away what may tell its class (a model trained
    /// on varied shapes read its own training pictures at 0.63 framed, 0.90 resized). A frame
    /// recorded without a range (before 2026-12-05) counts as prepared, as it was read then.
    pub fn prepared(&self) -> bool {
        let Some(range) = self.range else {
            return true;
        };
        let [low, high] = range.extent;
        high <= PREPARED_EXTENT_SPREAD * low
    }
}

/// The pixels of the `CORNER × CORNER` squares at the four corners of a `height × width` image
/// (at least `CORNER` on each side): where a glyph that fills the frame, such as a
/// Fashion-MNIST dress touching the top and bottom, still leaves the background.
fn corners(image: &[f32], height: usize, width: usize) -> Vec<f32> {
    let mut pixels = Vec::with_capacity(4 * CORNER * CORNER);
    for y in (0..CORNER).chain(height - CORNER..height) {
        for x in (0..CORNER).chain(width - CORNER..width) {
            pixels.push(image[y * width + x]);
        }
    }
    pixels
}

/// Whether the corner pixels `ground` of an image are its plain background at `level`: at
/// least [`PLAIN_SHARE`] of them within [`PLAIN`] of it.
fn plain(ground: &[f32], level: f32) -> bool {
    let near = ground
        .iter()
        .filter(|&&v| (v - level).abs() <= PLAIN)
        .count();
    near as f64 >= PLAIN_SHARE * ground.len() as f64
}

/// The median of `values` (not empty).
fn median(values: Vec<f32>) -> f32 {
    percentile(values, 0.5)
}

/// The value of `values` (not empty) that a share `p` of them lie below: the median at 0.5.
fn percentile(mut values: Vec<f32>, p: f64) -> f32 {
    values.sort_by(f32::total_cmp);
    values[((values.len() as f64 * p) as usize).min(values.len() - 1)]
}

/// The distance of each pixel of `image` from `level`, and the largest.
fn distances(image: &[f32], level: f32) -> (Vec<f32>, f32) {
    let distance: Vec<f32> = image.iter().map(|&v| (v - level).abs()).collect();
    let strongest = distance.iter().copied().fold(0.0, f32::max);
    (distance, strongest)
}

/// The bounding box `(top, left, bottom, right)` (inclusive) of the ink among pixels at
/// `distance` from the background of an image `width` wide (see [`INK_SHARE`]), if any.
fn glyph_box(
    distance: &[f32],
    strongest: f32,
    width: usize,
) -> Option<(usize, usize, usize, usize)> {
    if strongest < NO_INK {
        return None;
    }
    let mut found: Option<(usize, usize, usize, usize)> = None;
    for (i, &d) in distance.iter().enumerate() {
        if d >= INK_SHARE * strongest {
            let (y, x) = (i / width, i % width);
            found = Some(match found {
                None => (y, x, y, x),
                Some((t, l, b, r)) => (t.min(y), l.min(x), b.max(y), r.max(x)),
            });
        }
    }
    found
}

/// Where a training glyph sits and how large it is, in pixels.
struct Placed {
    /// The longer side of its bounding box.
    extent: f32,
    /// The centre `(y, x)` of its bounding box.
    box_centre: (f32, f32),
    /// Its centre of mass `(y, x)`, weighing each pixel of the box by its distance from the
    /// background, as [`GlyphFrame::frame`] does.
    mass: (f32, f32),
    /// Its largest distance from the background.
    strongest: f32,
}

impl Placed {
    /// Its centre under `centring`.
    fn centre(&self, centring: Centring) -> (f32, f32) {
        match centring {
            Centring::Mass => self.mass,
            Centring::Box => self.box_centre,
        }
    }

    /// The distance of its centre under `centring` from the centre of a `height × width` image.
    fn off_centre(&self, centring: Centring, height: usize, width: usize) -> f32 {
        let (y, x) = self.centre(centring);
        (y - height as f32 / 2.0).hypot(x - width as f32 / 2.0)
    }

    /// The glyph of an image `width` wide whose pixels are at `distance` from the background
    /// (the largest `strongest`), within its bounding box `(top, left, bottom, right)`.
    fn of(
        distance: &[f32],
        strongest: f32,
        width: usize,
        (top, left, bottom, right): (usize, usize, usize, usize),
    ) -> Placed {
        let (mut total, mut my, mut mx) = (0.0f32, 0.0f32, 0.0f32);
        for y in top..=bottom {
            for x in left..=right {
                let w = distance[y * width + x] / strongest;
                total += w;
                my += w * (y as f32 + 0.5);
                mx += w * (x as f32 + 0.5);
            }
        }
        Placed {
            extent: (bottom - top + 1).max(right - left + 1) as f32,
            box_centre: (
                (top + bottom + 1) as f32 / 2.0,
                (left + right + 1) as f32 / 2.0,
            ),
            mass: (my / total, mx / total),
            strongest,
        }
    }
}

impl GlyphFrame {
    /// The frame of `images`, grey `height × width` images one after the other with values in
    /// [0, 1], or `None` when they are not glyphs on a plain background: fewer than 90 % of them
    /// have 90 % of their corner pixels within 0.1 of the common level, or fewer than half hold
    /// ink.
    pub fn measure(images: &[f32], height: usize, width: usize) -> Option<GlyphFrame> {
        let pixels = height * width;
        if pixels == 0
            || images.is_empty()
            || !images.len().is_multiple_of(pixels)
            || height.min(width) < 2 * CORNER
        {
            return None;
        }
        // Pixels / 255, give or take the rounding of a standardization undone.
        if images.iter().any(|v| !(-1e-3..=1.0 + 1e-3).contains(v)) {
            return None;
        }
        let grounds: Vec<Vec<f32>> = images
            .chunks_exact(pixels)
            .map(|image| corners(image, height, width))
            .collect();
        let background = median(grounds.iter().map(|g| median(g.clone())).collect());
        let plain_images = grounds.iter().filter(|g| plain(g, background)).count();
        if (plain_images as f64) < PLAIN_SHARE * grounds.len() as f64 {
            return None;
        }
        let glyphs: Vec<Placed> = images
            .chunks_exact(pixels)
            .filter_map(|image| {
                let (distance, strongest) = distances(image, background);
                let found = glyph_box(&distance, strongest, width)?;
                Some(Placed::of(&distance, strongest, width, found))
            })
            .collect();
        if glyphs.len() * 2 < grounds.len() {
            return None;
        }
        let off_centre = |centring| -> Vec<f32> {
            glyphs
                .iter()
                .map(|g| g.off_centre(centring, height, width))
                .collect()
        };
        // MNIST's: 0.8 pixels by mass, 1.4 by box; Fashion-MNIST's: 1.5 and 0.5.
        let centring = match median(off_centre(Centring::Mass)) <= median(off_centre(Centring::Box))
        {
            true => Centring::Mass,
            false => Centring::Box,
        };
        let extents: Vec<f32> = glyphs.iter().map(|g| g.extent).collect();
        let contrasts: Vec<f32> = glyphs.iter().map(|g| g.strongest).collect();
        let [low, high] = RANGE_PERCENTILES;
        Some(GlyphFrame {
            background,
            extent: median(extents.clone()),
            centring,
            contrast: Some(median(contrasts.clone())),
            range: Some(GlyphRange {
                extent: [percentile(extents.clone(), low), percentile(extents, high)],
                contrast: [
                    percentile(contrasts.clone(), low),
                    percentile(contrasts, high),
                ],
                off_centre: percentile(off_centre(centring), high),
            }),
        })
    }

    /// `picture` as it is, as a `height × width` grey input, when it is already in the
    /// training form: of that size, its corners on the training background, and its glyph on
    /// the training side of it with extent, contrast and distance from the centre within the
    /// training glyphs' [`GlyphRange`]; `None` otherwise (or when the frame records no range).
    fn as_it_is(&self, picture: &DynamicImage, height: usize, width: usize) -> Option<Vec<f32>> {
        let range = self.range?;
        if (picture.height() as usize, picture.width() as usize) != (height, width)
            || height.min(width) < 2 * CORNER
        {
            return None;
        }
        let x = picture.to_luma32f().into_raw();
        if !plain(&corners(&x, height, width), self.background) {
            return None;
        }
        let (distance, strongest) = distances(&x, self.background);
        let glyph = Placed::of(
            &distance,
            strongest,
            width,
            glyph_box(&distance, strongest, width)?,
        );
        let toward = if self.background < 0.5 { 1.0 } else { -1.0 };
        let on_training_side = x
            .iter()
            .any(|&v| (v - self.background) * toward >= strongest);
        let within = |[low, high]: [f32; 2], v: f32| (low..=high).contains(&v);
        let kept = on_training_side
            && within(range.extent, glyph.extent)
            && within(range.contrast, strongest)
            && glyph.off_centre(self.centring, height, width) <= range.off_centre;
        kept.then_some(x)
    }

    /// The frame in words, for the message that says new pictures are brought to it.
    pub fn describe(&self) -> String {
        let (glyph, ground) = match self.background < 0.5 {
            true => ("light", "dark"),
            false => ("dark", "light"),
        };
        let centred = match self.centring {
            Centring::Mass => "by mass",
            Centring::Box => "by its bounding box",
        };
        let kept = match self.range {
            Some(_) => "; a picture already in that form is kept as it is",
            None => "",
        };
        format!(
            "a {glyph} glyph on a {ground} background (whatever the picture's polarity), scaled \
             to {:.0} pixels and centred {centred}{kept}",
            self.extent
        )
    }

    /// `picture` brought to a `height × width` grey input in this frame (see the module docs).
    pub fn frame(&self, picture: &DynamicImage, height: usize, width: usize) -> Vec<f32> {
        if let Some(kept) = self.as_it_is(picture, height, width) {
            return kept;
        }
        let mut grey = picture.to_luma32f();
        let longer = grey.width().max(grey.height());
        if longer > WORKING_SIDE {
            let fit = |n: u32| (n as u64 * WORKING_SIDE as u64 / longer as u64).max(1) as u32;
            let (w, h) = (fit(grey.width()), fit(grey.height()));
            grey = image::imageops::resize(&grey, w, h, FilterType::Triangle);
        }
        let w0 = grey.width() as usize;
        let x = grey.into_raw();
        let mut canvas = vec![self.background; height * width];
        if x.is_empty() || canvas.is_empty() {
            return canvas;
        }
        let distance = ink_depth(&x, x.len() / w0, w0);
        let strongest = distance.iter().copied().fold(0.0, f32::max);
        let Some((top, left, bottom, right)) = glyph_box(&distance, strongest, w0) else {
            return canvas;
        };
        // The cut-out as 8-bit grey: the distance from the background, the strongest ink at 255.
        let (cut_w, cut_h) = (right - left + 1, bottom - top + 1);
        let cut = GrayImage::from_fn(cut_w as u32, cut_h as u32, |cx, cy| {
            let d = distance[(top + cy as usize) * w0 + left + cx as usize];
            Luma([(d / strongest * 255.0).round() as u8])
        });
        let scale = self.extent.min(height.min(width) as f32) / cut_w.max(cut_h) as f32;
        let size = |n: usize, limit: usize| ((n as f32 * scale).round() as usize).clamp(1, limit);
        let (gw, gh) = (size(cut_w, width), size(cut_h, height));
        let scaled = image::imageops::resize(&cut, gw as u32, gh as u32, FilterType::Triangle);
        let weights: Vec<f32> = scaled.pixels().map(|p| p.0[0] as f32 / 255.0).collect();
        // The glyph's centre under the training rule, in pixel units of the scaled glyph (pixel
        // centres at i + ½).
        let total: f32 = weights.iter().sum::<f32>().max(f32::MIN_POSITIVE);
        let mass = |vertical: bool| {
            let at = |i: usize| if vertical { i / gw } else { i % gw };
            weights
                .iter()
                .enumerate()
                .map(|(i, w)| w * (at(i) as f32 + 0.5))
                .sum::<f32>()
                / total
        };
        let (my, mx) = match self.centring {
            Centring::Mass => (mass(true), mass(false)),
            Centring::Box => (gh as f32 / 2.0, gw as f32 / 2.0),
        };
        let place = |centre: f32, glyph: usize, canvas: usize| {
            ((canvas as f32 / 2.0 - centre).round().max(0.0) as usize).min(canvas - glyph)
        };
        let (oy, ox) = (place(my, gh, height), place(mx, gw, width));
        let far_end = if self.background < 0.5 { 1.0 } else { 0.0 };
        let ink = match self.contrast {
            Some(contrast) => self.background + (far_end - self.background).signum() * contrast,
            None => far_end,
        };
        for (i, w) in weights.iter().enumerate() {
            let (y, x) = (oy + i / gw, ox + i % gw);
            canvas[y * width + x] = self.background + (ink - self.background) * w;
        }
        canvas
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 28×28 MNIST-like "L": light strokes on black, 20 pixels tall, centred.
    fn letter_l() -> Vec<f32> {
        let mut image = vec![0.0; 28 * 28];
        for y in 4..24 {
            for x in 9..12 {
                image[y * 28 + x] = 1.0;
            }
        }
        for y in 21..24 {
            for x in 9..21 {
                image[y * 28 + x] = 1.0;
            }
        }
        image
    }

    /// `image` (28×28) moved down by `dy` and right by `dx` pixels, black where nothing comes.
    fn moved(image: &[f32], dy: i64, dx: i64) -> Vec<f32> {
        (0..28 * 28)
            .map(|i| {
                let (y, x) = (i as i64 / 28 - dy, i as i64 % 28 - dx);
                match (0..28).contains(&y) && (0..28).contains(&x) {
                    true => image[(y * 28 + x) as usize],
                    false => 0.0,
                }
            })
            .collect()
    }

    #[test]
    fn measures_the_background_and_the_glyph_extent() {
        // The letter's box is centred (within a pixel), its mass 3 pixels off: box-centred.
        let images: Vec<f32> = (0..10).flat_map(|_| letter_l()).collect();
        let frame = GlyphFrame::measure(&images, 28, 28).unwrap();
        assert_eq!(
            frame,
            GlyphFrame {
                background: 0.0,
                extent: 20.0,
                centring: Centring::Box,
                contrast: Some(1.0),
                range: Some(GlyphRange {
                    extent: [20.0, 20.0],
                    contrast: [1.0, 1.0],
                    off_centre: 1.0,
                }),
            }
        );
        // Moved up 3 and right 2 pixels, its mass is centred and its box 4 pixels off.
        let by_mass = moved(&letter_l(), -3, 2).repeat(10);
        let frame = GlyphFrame::measure(&by_mass, 28, 28).unwrap();
        assert_eq!(frame.centring, Centring::Mass);
        // Images whose corners are not one plain level, or values outside [0, 1], are not glyphs.
        let stripes: Vec<f32> = (0..10 * 28 * 28).map(|i| ((i / 28) % 2) as f32).collect();
        assert_eq!(GlyphFrame::measure(&stripes, 28, 28), None);
        let standardized: Vec<f32> = images.iter().map(|v| v * 3.0 - 0.4).collect();
        assert_eq!(GlyphFrame::measure(&standardized, 28, 28), None);
        assert_eq!(GlyphFrame::measure(&vec![0.0; 10 * 28 * 28], 28, 28), None);
        // A glyph may touch the border (a dress spanning the frame) as long as the corners are
        // background.
        let dress: Vec<f32> = (0..28 * 28)
            .map(|i| {
                if (8..20).contains(&(i % 28)) {
                    0.8
                } else {
                    0.0
                }
            })
            .collect();
        let frame = GlyphFrame::measure(&dress.repeat(10), 28, 28).unwrap();
        // Symmetric, it is centred by both rules; a tie goes to mass.
        assert_eq!((frame.extent, frame.centring), (28.0, Centring::Mass));
    }

    /// The letter four times larger and off-centre in a 300×160 picture, each pixel's grey
    /// level given by `shade(x, y, ink)`.
    fn letter_on_paper(shade: impl Fn(u32, u32, bool) -> u8) -> GrayImage {
        let l = letter_l();
        GrayImage::from_fn(300, 160, |x, y| {
            let (sx, sy) = (x as i64 - 150, y as i64 - 40);
            let ink = (0..112).contains(&sx)
                && (0..112).contains(&sy)
                && l[(sy / 4) as usize * 28 + (sx / 4) as usize] > 0.5;
            Luma([shade(x, y, ink)])
        })
    }

    /// The letter drawn in black on white, four times larger and off-centre in a wide picture,
    /// comes back as the training images are: light on black, 20 pixels tall, centred by mass.
    #[test]
    fn a_dark_glyph_on_white_comes_out_light_on_black_scaled_and_centred() {
        let l = letter_l();
        let picture = letter_on_paper(|_, _, ink| if ink { 20 } else { 235 });
        let frame = GlyphFrame {
            background: 0.0,
            extent: 20.0,
            centring: Centring::Mass,
            contrast: None,
            range: None,
        };
        let x = frame.frame(&DynamicImage::ImageLuma8(picture), 28, 28);
        assert_in_frame(&x);
        assert_eq!(x[0], 0.0, "the background is the training images'");
        assert!(x.contains(&1.0), "the strongest ink is full intensity");
        // The same shape as the original: their ink boxes agree pixel for pixel but for a few
        // at the edges of the strokes.
        assert_eq!(glyph(&x), glyph(&l));
    }

    /// The letter in dark ink (8 %) on white paper (92 %) under `light(x, y)`.
    fn letter_under(light: impl Fn(u32, u32) -> f32) -> GrayImage {
        letter_on_paper(|x, y, ink| {
            ((if ink { 0.08 } else { 0.92 }) * light(x, y) * 255.0).round() as u8
        })
    }

    /// `picture`, framed as MNIST's, is the letter in the training form.
    fn assert_reads_as_the_letter(picture: GrayImage) {
        let frame = GlyphFrame {
            background: 0.0,
            extent: 20.0,
            centring: Centring::Mass,
            contrast: None,
            range: None,
        };
        let x = frame.frame(&DynamicImage::ImageLuma8(picture), 28, 28);
        assert_in_frame(&x);
        assert_eq!(glyph(&x), glyph(&letter_l()));
    }

    /// The same letter photographed on a page lit from one side (white falling to mid-grey
    /// across it, darker towards a corner): the page is not ink, and the letter comes back as
    /// from evenly lit paper.
    #[test]
    fn a_glyph_on_unevenly_lit_paper_comes_out_as_on_even_paper() {
        assert_reads_as_the_letter(letter_under(|x, y| {
            1.0 - 0.45 * x as f32 / 299.0 - 0.1 * (y as f32 / 159.0).powi(2)
        }));
    }

    /// The same letter with a shadow over the page's top-left corner (half the light there,
    /// its edge soft over 20 pixels) that does not reach the letter: the shadow is page, not
    /// ink, and the letter comes back as from evenly lit paper.
    #[test]
    fn a_shadow_entering_from_a_corner_is_not_taken_for_ink() {
        assert_reads_as_the_letter(letter_under(|x, y| {
            0.5 + 0.5 * ((x + y) as f32 / 20.0 - 6.0).clamp(0.0, 1.0)
        }));
    }

    /// A picture far larger than [`WORKING_SIDE`] (the letter on paper, eight times larger) is
    /// reduced before it is read, and comes back as the smaller one does.
    #[test]
    fn a_large_photo_comes_out_as_a_small_one() {
        let small = letter_on_paper(|_, _, ink| if ink { 20 } else { 235 });
        assert_reads_as_the_letter(image::imageops::resize(
            &small,
            2400,
            1280,
            FilterType::Nearest,
        ));
    }

    /// The bounding box of the pixels of a 28-wide image at 0.5 or above.
    fn half_box(x: &[f32]) -> (usize, usize, usize, usize) {
        let at: Vec<(usize, usize)> = (0..x.len())
            .filter(|&i| x[i] >= 0.5)
            .map(|i| (i / 28, i % 28))
            .collect();
        let (ys, xs) = (at.iter().map(|p| p.0), at.iter().map(|p| p.1));
        let (t, b) = (ys.clone().min().unwrap(), ys.max().unwrap());
        (t, xs.clone().min().unwrap(), b, xs.max().unwrap())
    }

    /// The ink of a 28-wide image, cut out by its bounding box.
    fn glyph(x: &[f32]) -> Vec<Vec<bool>> {
        let (t, l, b, r) = half_box(x);
        (t..=b)
            .map(|y| (l..=r).map(|c| x[y * 28 + c] >= 0.5).collect())
            .collect()
    }

    /// `x` is a 28×28 input with a glyph 20 pixels tall and 12 wide, centred by mass.
    fn assert_in_frame(x: &[f32]) {
        let (t, l, b, r) = half_box(x);
        assert_eq!((b - t + 1, r - l + 1), (20, 12));
        let total: f32 = x.iter().sum();
        let at = |axis: fn(usize) -> usize| {
            x.iter()
                .enumerate()
                .map(|(i, v)| v * (axis(i) as f32 + 0.5))
                .sum::<f32>()
                / total
        };
        let (cy, cx) = (at(|i| i / 28), at(|i| i % 28));
        assert!(
            (cy - 14.0).abs() <= 0.5 && (cx - 14.0).abs() <= 0.5,
            "{cy} {cx}"
        );
        assert!(x.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    /// The strongest ink comes out at the training glyphs' contrast, toward their side.
    #[test]
    fn the_ink_comes_out_at_the_training_contrast() {
        let picture = letter_on_paper(|_, _, ink| if ink { 20 } else { 235 });
        let picture = DynamicImage::ImageLuma8(picture);
        for (background, contrast, strongest) in [(0.0, 0.78, 0.78), (0.9, 0.5, 0.4)] {
            let frame = GlyphFrame {
                background,
                extent: 20.0,
                centring: Centring::Mass,
                contrast: Some(contrast),
                range: None,
            };
            let x = frame.frame(&picture, 28, 28);
            let far = x
                .iter()
                .copied()
                .max_by(|a, b| (a - background).abs().total_cmp(&(b - background).abs()))
                .unwrap();
            assert!((far - strongest).abs() < 1e-6, "{far}");
        }
    }

    /// A picture already in the training form keeps its polarity (and is only centred by mass);
    /// a blank one becomes a blank canvas.
    #[test]
    fn a_light_glyph_stays_and_a_blank_picture_is_resized() {
        let frame = GlyphFrame {
            background: 0.0,
            extent: 20.0,
            centring: Centring::Mass,
            contrast: None,
            range: None,
        };
        let l = letter_l();
        let picture = GrayImage::from_fn(28, 28, |x, y| {
            Luma([(l[(y * 28 + x) as usize] * 255.0) as u8])
        });
        let x = frame.frame(&DynamicImage::ImageLuma8(picture), 28, 28);
        assert_in_frame(&x);
        assert_eq!(glyph(&x), glyph(&l));
        let blank = GrayImage::from_pixel(40, 40, Luma([250]));
        let x = frame.frame(&DynamicImage::ImageLuma8(blank), 28, 28);
        assert_eq!(x, vec![0.0; 28 * 28]);
    }

    /// A picture already in the training form (of the input's size, on the training
    /// background, its glyph within the training glyphs' range) is kept as it is; moved beyond
    /// that range, or read by a frame that records no range, it is framed again.
    #[test]
    fn a_picture_in_the_training_form_is_kept_as_it_is() {
        let shifts = [(0, 0), (1, 0), (0, 1), (-1, 0), (0, -1)];
        let training: Vec<f32> = shifts
            .iter()
            .flat_map(|&(dy, dx)| moved(&letter_l(), dy, dx))
            .collect();
        let frame = GlyphFrame::measure(&training, 28, 28).unwrap();
        let picture = |x: &[f32]| {
            DynamicImage::ImageLuma8(GrayImage::from_fn(28, 28, |px, py| {
                Luma([(x[(py * 28 + px) as usize] * 255.0).round() as u8])
            }))
        };
        let within = moved(&letter_l(), 1, 0);
        assert_eq!(frame.frame(&picture(&within), 28, 28), within);
        let beyond = moved(&letter_l(), 3, 3);
        let framed = frame.frame(&picture(&beyond), 28, 28);
        assert_ne!(framed, beyond);
        let (t, l, b, r) = half_box(&framed);
        assert_eq!((t + b + 1, l + r + 1), (28, 28), "box-centred");
        let older = GlyphFrame {
            range: None,
            ..frame
        };
        assert_ne!(older.frame(&picture(&within), 28, 28), within);
        // Of another size, it is framed whatever it holds.
        let larger = DynamicImage::ImageLuma8(GrayImage::from_fn(30, 30, |px, py| {
            let inside = px < 28 && py < 28;
            Luma([if inside {
                (within[(py * 28 + px) as usize] * 255.0) as u8
            } else {
                0
            }])
        }));
        assert_ne!(frame.frame(&larger, 28, 28), within);
    }

    /// Frames as the default run's MNIST and Fashion-MNIST record them are prepared (new
    /// pictures are framed), and so are glyphs of one size anywhere in the picture; glyphs of
    /// many sizes are not (new pictures are resized as the training files were); a frame
    /// without a range is.
    #[test]
    fn only_glyphs_of_one_size_count_as_prepared() {
        let frame = |extent: f32, spread: [f32; 2], off_centre: f32| GlyphFrame {
            background: 0.0,
            extent,
            centring: Centring::Mass,
            contrast: Some(1.0),
            range: Some(GlyphRange {
                extent: spread,
                contrast: [0.99, 1.0],
                off_centre,
            }),
        };
        assert!(frame(20.0, [20.0, 20.0], 1.2).prepared()); // MNIST
        assert!(frame(28.0, [27.0, 28.0], 1.0).prepared()); // Fashion-MNIST
        assert!(frame(16.0, [16.0, 16.0], 3.9).prepared()); // one size, anywhere
        assert!(!frame(17.0, [12.0, 22.0], 1.0).prepared()); // shapes of many sizes
        assert!(!frame(17.0, [13.0, 22.0], 3.9).prepared());
        let old = GlyphFrame {
            range: None,
            ..frame(20.0, [20.0, 20.0], 1.2)
        };
        assert!(old.prepared());
    }
}
