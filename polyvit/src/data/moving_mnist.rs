//! Moving-MNIST (Srivastava et al. 2015) generated from real digits: one 28×28 digit, shrunk
//! by an integer factor, moves across a black canvas for `frames` frames at a constant speed in
//! one of `directions` directions. Direction `k` is the angle `2πk / directions` measured
//! counter-clockwise from "right" as seen on screen: velocity `(dx, dy) = speed · (cos, −sin)`
//! with x to the right and y downwards, so with 8 directions 0 = right, 2 = up, 4 = left,
//! 6 = down. Positions are continuous and rounded to whole pixels when drawn.

use super::error::{DataError, DataResult};
use rand::Rng;
use std::f32::consts::PI;

/// Side of an MNIST digit in pixels.
pub const DIGIT_SIDE: usize = 28;

/// Parameters of generated clips.
#[derive(Debug, Clone, PartialEq)]
pub struct MovingMnistConfig {
    /// Frames per clip (T).
    pub frames: usize,
    /// Canvas side in pixels (H = W).
    pub canvas: usize,
    /// The digit is mean-pooled by this factor (must divide 28): 2 gives a 14×14 digit.
    pub digit_scale: usize,
    /// Slowest speed in pixels per frame.
    pub min_speed: f32,
    /// Fastest speed in pixels per frame.
    pub max_speed: f32,
    /// Number of direction classes.
    pub directions: usize,
}

impl Default for MovingMnistConfig {
    /// 8 frames of 32×32, a 14×14 digit, 1–2.5 pixels per frame, 8 directions.
    fn default() -> Self {
        Self {
            frames: 8,
            canvas: 32,
            digit_scale: 2,
            min_speed: 1.0,
            max_speed: 2.5,
            directions: 8,
        }
    }
}

/// How the digit may move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motion {
    /// Starts anywhere and reflects off the borders (the classic Moving-MNIST).
    Bounce,
    /// Starts where the whole straight path stays inside the canvas: it never reflects, so the
    /// direction label holds for every frame.
    Straight,
}

/// One generated clip.
#[derive(Debug, Clone, PartialEq)]
pub struct MovingClip {
    /// `frames × canvas × canvas` pixels, frame-major.
    pub pixels: Vec<u8>,
    /// The direction class of the starting velocity.
    pub direction: usize,
    /// Top-left corner (x, y) of the digit in every frame.
    pub positions: Vec<(usize, usize)>,
    /// How many times the digit reflected off a border.
    pub reflections: usize,
}

impl MovingMnistConfig {
    /// Side of the shrunk digit.
    pub fn glyph_side(&self) -> usize {
        DIGIT_SIDE / self.digit_scale.max(1)
    }

    /// Checks the parameters for `motion`.
    pub fn validate(&self, motion: Motion) -> DataResult<()> {
        let err = |p: String| Err(DataError::new("moving-mnist config", p));
        if self.digit_scale == 0 || !DIGIT_SIDE.is_multiple_of(self.digit_scale) {
            return err(format!(
                "digit_scale {} must divide {DIGIT_SIDE}",
                self.digit_scale
            ));
        }
        if self.frames == 0 || self.directions == 0 {
            return err(format!(
                "frames ({}) and directions ({}) must be positive",
                self.frames, self.directions
            ));
        }
        if self.glyph_side() >= self.canvas {
            return err(format!(
                "a {0}×{0} digit leaves no room on a {1}×{1} canvas",
                self.glyph_side(),
                self.canvas
            ));
        }
        let room = (self.canvas - self.glyph_side()) as f32;
        if !(0.0 < self.min_speed && self.min_speed <= self.max_speed && self.max_speed < room) {
            return err(format!(
                "need 0 < min_speed ({}) <= max_speed ({}) < free room ({room})",
                self.min_speed, self.max_speed
            ));
        }
        if motion == Motion::Straight && (self.frames - 1) as f32 * self.max_speed > room {
            return err(format!(
                "{} frames at {} px/frame do not fit a straight path in {room} px",
                self.frames, self.max_speed
            ));
        }
        Ok(())
    }
}

/// Mean-pools a 28×28 digit by `scale` (which must divide 28).
fn shrink(digit: &[u8], scale: usize) -> Vec<u8> {
    let side = DIGIT_SIDE / scale;
    let mut out = Vec::with_capacity(side * side);
    for y in 0..side {
        for x in 0..side {
            let sum: usize = (0..scale * scale)
                .map(|i| {
                    digit[(y * scale + i / scale) * DIGIT_SIDE + x * scale + i % scale] as usize
                })
                .sum();
            out.push(((sum + scale * scale / 2) / (scale * scale)) as u8);
        }
    }
    out
}

/// Moves `p` by `v` and reflects it into `[0, room]`; returns whether it reflected.
fn step(p: &mut f32, v: &mut f32, room: f32) -> bool {
    *p += *v;
    if *p < 0.0 {
        *p = -*p;
    } else if *p > room {
        *p = 2.0 * room - *p;
    } else {
        return false;
    }
    *v = -*v;
    true
}

/// Draws a start coordinate: anywhere for bounces, else where `t·v` stays inside for all frames.
fn start<R: Rng>(rng: &mut R, v: f32, room: f32, frames: usize, motion: Motion) -> f32 {
    let travel = match motion {
        Motion::Bounce => 0.0,
        Motion::Straight => (frames - 1) as f32 * v.abs(),
    };
    let p = rng.gen_range(0.0..=(room - travel).max(0.0));
    if v < 0.0 {
        p + travel
    } else {
        p
    }
}

/// Generates one clip of the 28×28 `digit` (784 bytes, row-major).
pub fn generate<R: Rng>(
    digit: &[u8],
    config: &MovingMnistConfig,
    motion: Motion,
    rng: &mut R,
) -> DataResult<MovingClip> {
    config.validate(motion)?;
    if digit.len() != DIGIT_SIDE * DIGIT_SIDE {
        return Err(DataError::new(
            "moving-mnist",
            format!(
                "a digit must have {} pixels, got {}",
                DIGIT_SIDE * DIGIT_SIDE,
                digit.len()
            ),
        ));
    }
    let glyph = shrink(digit, config.digit_scale);
    let (side, canvas) = (config.glyph_side(), config.canvas);
    let room = (canvas - side) as f32;
    let direction = rng.gen_range(0..config.directions);
    let speed = rng.gen_range(config.min_speed..=config.max_speed);
    let angle = 2.0 * PI * direction as f32 / config.directions as f32;
    let (mut vx, mut vy) = (speed * angle.cos(), -speed * angle.sin());
    let mut x = start(rng, vx, room, config.frames, motion);
    let mut y = start(rng, vy, room, config.frames, motion);
    let mut pixels = vec![0u8; config.frames * canvas * canvas];
    let (mut positions, mut reflections) = (Vec::with_capacity(config.frames), 0);
    for t in 0..config.frames {
        let (px, py) = (
            x.round().clamp(0.0, room) as usize,
            y.round().clamp(0.0, room) as usize,
        );
        positions.push((px, py));
        let frame = &mut pixels[t * canvas * canvas..(t + 1) * canvas * canvas];
        for (r, row) in glyph.chunks_exact(side).enumerate() {
            frame[(py + r) * canvas + px..(py + r) * canvas + px + side].copy_from_slice(row);
        }
        if t + 1 == config.frames {
            break;
        }
        match motion {
            Motion::Bounce => {
                reflections +=
                    step(&mut x, &mut vx, room) as usize + step(&mut y, &mut vy, room) as usize
            }
            Motion::Straight => (x, y) = (x + vx, y + vy),
        }
    }
    Ok(MovingClip {
        pixels,
        direction,
        positions,
        reflections,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// A digit-like blob: a bright 8×12 block with a gradient, off-centre.
    fn digit() -> Vec<u8> {
        (0..784)
            .map(|i| {
                if (8..20).contains(&(i / 28)) && (6..14).contains(&(i % 28)) {
                    100 + (i % 28) as u8 * 5
                } else {
                    0
                }
            })
            .collect()
    }

    fn centroid(frame: &[u8], canvas: usize) -> (f64, f64) {
        let (mut sx, mut sy, mut s) = (0.0, 0.0, 0.0);
        for (i, &p) in frame.iter().enumerate() {
            let p = p as f64;
            sx += p * (i % canvas) as f64;
            sy += p * (i / canvas) as f64;
            s += p;
        }
        (sx / s, sy / s)
    }

    #[test]
    fn same_seed_same_clip_other_seed_other_clip() {
        let cfg = MovingMnistConfig::default();
        let a = generate(
            &digit(),
            &cfg,
            Motion::Bounce,
            &mut ChaCha8Rng::seed_from_u64(7),
        )
        .unwrap();
        let b = generate(
            &digit(),
            &cfg,
            Motion::Bounce,
            &mut ChaCha8Rng::seed_from_u64(7),
        )
        .unwrap();
        let c = generate(
            &digit(),
            &cfg,
            Motion::Bounce,
            &mut ChaCha8Rng::seed_from_u64(8),
        )
        .unwrap();
        assert_eq!(a, b);
        assert_ne!(a.pixels, c.pixels);
        assert_eq!(a.pixels.len(), 8 * 32 * 32);
    }

    #[test]
    fn direction_label_matches_the_displacement() {
        let cfg = MovingMnistConfig::default();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut seen = vec![0; cfg.directions];
        for _ in 0..400 {
            let clip = generate(&digit(), &cfg, Motion::Straight, &mut rng).unwrap();
            assert_eq!(clip.reflections, 0);
            let frame = |t: usize| &clip.pixels[t * 1024..(t + 1) * 1024];
            let (x0, y0) = centroid(frame(0), 32);
            let (x1, y1) = centroid(frame(cfg.frames - 1), 32);
            // Screen y grows downwards; directions count counter-clockwise from "right".
            let angle = (-(y1 - y0))
                .atan2(x1 - x0)
                .rem_euclid(2.0 * std::f64::consts::PI);
            let measured = (angle / (2.0 * std::f64::consts::PI / 8.0)).round() as usize % 8;
            assert_eq!(
                measured,
                clip.direction,
                "displacement ({}, {})",
                x1 - x0,
                y1 - y0
            );
            let moved = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt();
            assert!(
                (7.0 * 1.0 - 1.5..=7.0 * 2.5 + 1.5).contains(&moved),
                "moved {moved}"
            );
            seen[clip.direction] += 1;
        }
        assert!(
            seen.iter().all(|&n| n > 20),
            "every direction occurs: {seen:?}"
        );
    }

    #[test]
    fn bouncing_digits_reflect_and_stay_on_the_canvas() {
        let cfg = MovingMnistConfig {
            frames: 20,
            ..MovingMnistConfig::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let glyph = shrink(&digit(), 2);
        let mut reflections = 0;
        for _ in 0..50 {
            let clip = generate(&digit(), &cfg, Motion::Bounce, &mut rng).unwrap();
            reflections += clip.reflections;
            for (t, &(x, y)) in clip.positions.iter().enumerate() {
                assert!(x <= 18 && y <= 18);
                let frame = &clip.pixels[t * 1024..(t + 1) * 1024];
                let total: u32 = frame.iter().map(|&p| p as u32).sum();
                assert_eq!(
                    total,
                    glyph.iter().map(|&p| p as u32).sum::<u32>(),
                    "the whole digit is drawn"
                );
                assert_eq!(
                    &frame[(y + 4) * 32 + x..(y + 4) * 32 + x + 14],
                    &glyph[4 * 14..5 * 14]
                );
            }
        }
        assert!(reflections > 20, "only {reflections} reflections");
    }

    #[test]
    fn shrink_averages_blocks() {
        let mut d = vec![0u8; 784];
        d[0] = 100;
        d[1] = 200;
        d[28] = 0;
        d[29] = 100;
        assert_eq!(shrink(&d, 2)[0], 100);
        assert_eq!(shrink(&d, 2).len(), 196);
    }

    #[test]
    fn bad_configs_and_digits_are_errors() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let ok = MovingMnistConfig::default();
        let bad = [
            MovingMnistConfig {
                digit_scale: 3,
                ..ok.clone()
            },
            MovingMnistConfig {
                canvas: 14,
                ..ok.clone()
            },
            MovingMnistConfig {
                min_speed: 0.0,
                ..ok.clone()
            },
            MovingMnistConfig {
                frames: 10,
                ..ok.clone()
            },
        ];
        for cfg in bad {
            assert!(
                generate(&digit(), &cfg, Motion::Straight, &mut rng).is_err(),
                "{cfg:?}"
            );
        }
        assert!(generate(
            &digit(),
            &MovingMnistConfig {
                frames: 10,
                ..ok.clone()
            },
            Motion::Bounce,
            &mut rng
        )
        .is_ok());
        assert!(generate(&[0; 100], &ok, Motion::Bounce, &mut rng)
            .unwrap_err()
            .problem
            .contains("784"));
    }
}
