//! How training examples are perturbed: each task's [`Augmentation`] (checked against its
//! modality and shape) and the perturbations themselves, each on a batch of examples laid out
//! one after another on the host (random rotation and zoom, random shifts, time reversal,
//! SpecAugment, mixup).

use super::config::TaskConfig;
use crate::data::{Modality, TaskId};
use rand::Rng;
use rand_distr::{Beta, Distribution};
use tensor::Error;

/// How training examples are perturbed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Augmentation {
    /// Random translation of images and video frames by up to this many pixels.
    pub max_shift: usize,
    /// Random rotation by up to this many degrees either way.
    pub max_rotation: f64,
    /// Random scaling by a factor within `1 ± max_zoom`.
    pub max_zoom: f64,
    /// Mixup `α` (0 = off).
    pub mixup: f64,
    /// SpecAugment masks on spectrograms.
    pub spec_augment: bool,
    /// Each clip played backwards with probability ½ (for labels that do not depend on the
    /// direction of time).
    pub time_reversal: bool,
}

impl Augmentation {
    /// The augmentation `task` asks for on examples of `modality` and `shape`: an error naming
    /// the task and the key when one does not apply to that modality (a shift, turn or zoom of
    /// audio, SpecAugment of pixels, time reversal of a still image or a spectrogram), so no
    /// setting is ignored, or when a shift could move the whole picture out of its frame. The
    /// ranges of the values are [`TaskConfig`]'s to check (`TrainConfig::validate`).
    pub fn for_task(
        task: &TaskConfig,
        modality: Modality,
        shape: &[usize],
    ) -> std::result::Result<Augmentation, String> {
        let misplaced = |setting: String, applies: &str| {
            Err(format!(
                "task {}: {setting}: applies to {applies}, and this is {} task",
                task.name,
                modality.with_article()
            ))
        };
        if modality == Modality::Audio {
            let geometric = [
                ("max_shift", task.max_shift as f64),
                ("max_rotation", task.max_rotation),
                ("max_zoom", task.max_zoom),
            ];
            if let Some((key, value)) = geometric.into_iter().find(|&(_, value)| value > 0.0) {
                return misplaced(format!("{key} = {value}"), "images and video");
            }
        }
        let side = shape[shape.len().saturating_sub(2)..].iter().min();
        if let Some(&side) = side.filter(|&&side| task.max_shift >= side) {
            return Err(format!(
                "task {}: max_shift = {}: must be less than {side}, the shorter side of the \
                 frames (examples of shape {shape:?}), or a picture could be shifted out whole",
                task.name, task.max_shift
            ));
        }
        if task.spec_augment && modality != Modality::Audio {
            return misplaced("spec_augment = true".into(), "audio");
        }
        if task.time_reversal && modality != Modality::Video {
            return misplaced("time_reversal = true".into(), "video");
        }
        let built_in = TaskId::ALL
            .into_iter()
            .find(|id| id.name() == task.name && task.data.is_none());
        let (changing, label) =
            built_in.map_or((&[][..], ""), TaskId::label_changing_augmentations);
        let on = [
            (
                "max_rotation",
                task.max_rotation > 0.0,
                format!("{}", task.max_rotation),
            ),
            ("time_reversal", task.time_reversal, "true".into()),
        ];
        if let Some((key, _, value)) = on.iter().find(|(key, on, _)| *on && changing.contains(key))
        {
            return Err(format!(
                "task {}: {key} = {value}: would change its examples' labels ({label}), not \
                 keep them",
                task.name
            ));
        }
        Ok(Augmentation {
            max_shift: task.max_shift,
            max_rotation: task.max_rotation,
            max_zoom: task.max_zoom,
            mixup: task.mixup,
            spec_augment: task.spec_augment,
            time_reversal: task.time_reversal,
        })
    }

    /// Perturbs a batch in place: `inputs` holds its examples of `shape` one after another and
    /// `targets` their target rows. In order: rotation and zoom, shift, time reversal,
    /// SpecAugment, then mixup of inputs and targets alike; each draws from `rng` only when it
    /// is on, so turning one on leaves the others' draws as they were.
    pub fn apply(
        &self,
        inputs: &mut [f32],
        targets: &mut [f32],
        shape: &[usize],
        rng: &mut impl Rng,
    ) -> tensor::Result<()> {
        if self.max_rotation > 0.0 || self.max_zoom > 0.0 {
            apply_random_rotation_and_zoom(inputs, shape, self.max_rotation, self.max_zoom, rng);
        }
        if self.max_shift > 0 {
            apply_random_shift(inputs, shape, self.max_shift, rng);
        }
        if self.time_reversal {
            apply_time_reversal(inputs, shape, rng);
        }
        if self.spec_augment {
            apply_spec_augment(inputs, shape, rng);
        }
        if self.mixup > 0.0 {
            let alpha = self.mixup;
            let beta = Beta::new(alpha, alpha).map_err(|e| {
                Error::invalid(
                    "mixup",
                    format!("alpha {alpha} gives no Beta distribution: {e}"),
                )
            })?;
            let lambda = beta.sample(rng) as f32;
            let batch = inputs.len() / shape.iter().product::<usize>().max(1);
            mix_with_reversed(inputs, batch, lambda);
            mix_with_reversed(targets, batch, lambda);
        }
        Ok(())
    }
}

/// Rotates each example (all its channels and frames alike) about its centre by an angle uniform
/// in `±max_rotation` degrees and scales it by a factor uniform in `1 ± max_zoom` (see
/// [`rotate_and_zoom`]).
pub fn apply_random_rotation_and_zoom(
    inputs: &mut [f32],
    shape: &[usize],
    max_rotation: f64,
    max_zoom: f64,
    rng: &mut impl Rng,
) {
    let draw = || {
        let angle = rng.gen_range(-max_rotation..=max_rotation).to_radians();
        (angle, rng.gen_range(1.0 - max_zoom..=1.0 + max_zoom))
    };
    redraw_each_example(
        inputs,
        shape,
        draw,
        |plane, out, height, width, &(angle, scale)| {
            rotate_and_zoom(plane, out, height, width, angle, scale)
        },
    );
}

/// Rewrites each example of `inputs` (examples of `shape`, pictures on its last two axes) with
/// one draw for the whole example, so that all its channels and frames move alike: `draw` is
/// called once per example, then `redraw(plane, out, height, width, &drawn)` writes each of the
/// example's `height × width` pictures into `out` from a copy of it, `plane`.
fn redraw_each_example<D>(
    inputs: &mut [f32],
    shape: &[usize],
    mut draw: impl FnMut() -> D,
    redraw: impl Fn(&[f32], &mut [f32], usize, usize, &D),
) {
    let (height, width) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    let per_example: usize = shape.iter().product();
    let mut plane = vec![0.0; height * width];
    for example in inputs.chunks_mut(per_example) {
        let drawn = draw();
        for image in example.chunks_mut(height * width) {
            plane.copy_from_slice(image);
            redraw(&plane, image, height, width, &drawn);
        }
    }
}

/// Writes into `out` the `height × width` picture `plane` turned clockwise (as displayed, rows
/// running down) by `angle` radians and scaled by `scale` about its centre `c`: output pixel
/// `p = (y, x)` reads `plane` at `c + R(θ)(p − c) / s`, with `R(θ)(dy, dx) = (dy·cos θ − dx·sin θ,
/// dy·sin θ + dx·cos θ)`, interpolated bilinearly; points outside the picture repeat the nearest
/// edge pixel (the background, for digits).
pub fn rotate_and_zoom(
    plane: &[f32],
    out: &mut [f32],
    height: usize,
    width: usize,
    angle: f64,
    scale: f64,
) {
    let (cy, cx) = ((height as f64 - 1.0) / 2.0, (width as f64 - 1.0) / 2.0);
    let (sin, cos) = angle.sin_cos();
    let (sin, cos) = (sin / scale, cos / scale);
    let at = |y: f64, x: f64| {
        let y = (y as isize).clamp(0, height as isize - 1) as usize;
        let x = (x as isize).clamp(0, width as isize - 1) as usize;
        plane[y * width + x]
    };
    for y in 0..height {
        for x in 0..width {
            let (dy, dx) = (y as f64 - cy, x as f64 - cx);
            let sy = cy + cos * dy - sin * dx;
            let sx = cx + sin * dy + cos * dx;
            let (y0, x0) = (sy.floor(), sx.floor());
            let (fy, fx) = ((sy - y0) as f32, (sx - x0) as f32);
            let top = at(y0, x0) * (1.0 - fx) + at(y0, x0 + 1.0) * fx;
            let bottom = at(y0 + 1.0, x0) * (1.0 - fx) + at(y0 + 1.0, x0 + 1.0) * fx;
            out[y * width + x] = top * (1.0 - fy) + bottom * fy;
        }
    }
}

/// Translates each example (all its channels and frames alike) by a random offset of up to
/// `max_shift` pixels along its last two axes; pixels shifted in repeat the nearest edge pixel
/// (the background, for digits).
pub fn apply_random_shift(
    inputs: &mut [f32],
    shape: &[usize],
    max_shift: usize,
    rng: &mut impl Rng,
) {
    let range = -(max_shift as isize)..=max_shift as isize;
    let draw = || (rng.gen_range(range.clone()), rng.gen_range(range.clone()));
    let source = |i: usize, d: isize, n: usize| (i as isize - d).clamp(0, n as isize - 1) as usize;
    redraw_each_example(
        inputs,
        shape,
        draw,
        |plane, out, height, width, &(dy, dx)| {
            for y in 0..height {
                for x in 0..width {
                    out[y * width + x] =
                        plane[source(y, dy, height) * width + source(x, dx, width)];
                }
            }
        },
    );
}

/// Plays each `[frames, ...]` example backwards with probability ½: its frames in reverse
/// order. A bouncing digit's clip played backwards is another bouncing digit's clip, so this
/// doubles the trajectories a task whose label is the digit sees.
pub fn apply_time_reversal(inputs: &mut [f32], shape: &[usize], rng: &mut impl Rng) {
    let frames = shape[0];
    let per_frame: usize = shape[1..].iter().product();
    for example in inputs.chunks_mut(frames * per_frame) {
        if rng.gen_bool(0.5) {
            for t in 0..frames / 2 {
                let (head, tail) = example.split_at_mut((frames - 1 - t) * per_frame);
                head[t * per_frame..(t + 1) * per_frame].swap_with_slice(&mut tail[..per_frame]);
            }
        }
    }
}

/// Mixup as in the reference: row `i` becomes `λ·row_i + (1 − λ)·row_{B−1−i}`.
pub fn mix_with_reversed(rows: &mut [f32], batch: usize, lambda: f32) {
    let width = rows.len() / batch.max(1);
    let original = rows.to_vec();
    for i in 0..batch {
        let j = batch - 1 - i;
        for k in 0..width {
            rows[i * width + k] =
                lambda * original[i * width + k] + (1.0 - lambda) * original[j * width + k];
        }
    }
}

/// SpecAugment on `[1, time, mel]` examples: one frequency band of up to an eighth of the mel bins
/// and one time span of up to an eighth of the frames are set to 0 (the mean after
/// standardization) in each example.
pub fn apply_spec_augment(inputs: &mut [f32], shape: &[usize], rng: &mut impl Rng) {
    let (time, mel) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    let per_example = time * mel;
    for example in inputs.chunks_mut(per_example) {
        let f = rng.gen_range(0..=mel / 8);
        let f0 = rng.gen_range(0..=mel - f);
        let t = rng.gen_range(0..=time / 8);
        let t0 = rng.gen_range(0..=time - t);
        for row in example.chunks_mut(mel) {
            row[f0..f0 + f].fill(0.0);
        }
        example[t0 * mel..(t0 + t) * mel].fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixup_pairs_each_row_with_its_mirror() {
        let mut rows = vec![1.0, 0.0, /**/ 0.0, 0.0, /**/ 0.0, 1.0];
        mix_with_reversed(&mut rows, 3, 0.75);
        assert_eq!(rows, vec![0.75, 0.25, 0.0, 0.0, 0.25, 0.75]);
    }

    #[test]
    fn a_shift_moves_every_frame_of_an_example_alike() {
        // One example of 2 frames of 3×3, each with a single bright pixel in the centre.
        let mut frame = vec![0.0; 9];
        frame[4] = 1.0;
        let mut inputs = [frame.clone(), frame].concat();
        apply_random_shift(&mut inputs, &[2, 1, 3, 3], 1, &mut tensor::rng(11));
        let bright: Vec<usize> = inputs
            .iter()
            .enumerate()
            .filter(|(_, &v)| v == 1.0)
            .map(|(i, _)| i % 9)
            .collect();
        assert_eq!(
            bright.len(),
            2,
            "a one-pixel shift keeps the centre pixel inside a 3×3 frame"
        );
        assert_eq!(bright[0], bright[1], "both frames moved by the same offset");
    }

    #[test]
    fn rotation_turns_the_picture_clockwise_about_its_centre() {
        // 3×3, one bright pixel left of the centre.
        let mut plane = vec![0.0; 9];
        plane[3] = 1.0;
        let mut out = vec![0.0; 9];
        rotate_and_zoom(&plane, &mut out, 3, 3, 0.0, 1.0);
        assert_eq!(out, plane, "no turn and no zoom copy the picture");
        rotate_and_zoom(&plane, &mut out, 3, 3, std::f64::consts::FRAC_PI_2, 1.0);
        let bright: Vec<usize> = (0..9).filter(|&i| out[i] > 0.999).collect();
        assert_eq!(bright, [1], "left of the centre turns to above it: {out:?}");
        assert!(
            out.iter().sum::<f32>() < 1.0 + 1e-6,
            "nothing else lights up: {out:?}"
        );
    }

    #[test]
    fn zoom_magnifies_about_the_centre_and_repeats_the_edges() {
        // 5×5 on a background of 0.25, one bright pixel right of the centre.
        let mut plane = vec![0.25; 25];
        plane[2 * 5 + 3] = 1.0;
        let mut out = vec![0.0; 25];
        rotate_and_zoom(&plane, &mut out, 5, 5, 0.0, 2.0);
        // Output column x reads input column 2 + (x − 2) / 2.
        assert_eq!(
            out[2 * 5 + 4],
            1.0,
            "two right of the centre reads one right"
        );
        assert_eq!(
            out[2 * 5 + 3],
            0.625,
            "halfway between the centre and the bright pixel"
        );
        assert_eq!(out[0], 0.25);
        // Zoomed out, output column x reads input column 2 + 2·(x − 2).
        let mut plane = vec![0.25; 25];
        plane[2 * 5 + 4] = 1.0;
        rotate_and_zoom(&plane, &mut out, 5, 5, 0.0, 0.5);
        assert_eq!(out[2 * 5 + 2], 0.25, "the centre stays in place");
        assert_eq!(out[2 * 5 + 3], 1.0, "one right reads two right");
        assert_eq!(
            out[2 * 5 + 4],
            1.0,
            "two right reads four right: the edge pixel repeats"
        );
    }

    #[test]
    fn rotation_and_zoom_move_every_frame_of_an_example_alike() {
        let frame: Vec<f32> = (0..36).map(|i| ((i * 7) % 11) as f32).collect();
        let mut inputs = [frame.clone(), frame.clone()].concat();
        apply_random_rotation_and_zoom(&mut inputs, &[2, 1, 6, 6], 30.0, 0.2, &mut tensor::rng(4));
        assert_ne!(inputs[..36], frame[..], "the example was turned");
        assert_eq!(inputs[..36], inputs[36..], "both frames alike");
    }

    #[test]
    fn time_reversal_plays_some_clips_backwards_and_leaves_the_others() {
        // 64 clips of 3 frames of 1×2 pixels; frame t of clip c holds the values 10·c + t.
        let (clips, frames, pixels) = (64, 3, 2);
        let mut inputs: Vec<f32> = (0..clips * frames * pixels)
            .map(|i| (10 * (i / (frames * pixels)) + (i / pixels) % frames) as f32)
            .collect();
        apply_time_reversal(&mut inputs, &[frames, 1, 1, pixels], &mut tensor::rng(5));
        let mut reversed = 0;
        for (c, clip) in inputs.chunks(frames * pixels).enumerate() {
            let order: Vec<f32> = clip
                .chunks(pixels)
                .map(|f| f[0] - (10 * c) as f32)
                .collect();
            assert!(
                clip.chunks(pixels).all(|f| f[0] == f[1]),
                "frames stay whole"
            );
            match order.as_slice() {
                [0.0, 1.0, 2.0] => {}
                [2.0, 1.0, 0.0] => reversed += 1,
                other => panic!("clip {c} has frames in the order {other:?}"),
            }
        }
        assert!(
            (16..=48).contains(&reversed),
            "{reversed} of {clips} reversed"
        );
    }

    #[test]
    fn an_augmentation_for_another_modality_is_refused_by_name() {
        let task = |edit: fn(&mut TaskConfig)| {
            let mut t = TaskConfig::new("clips");
            edit(&mut t);
            t
        };
        let shifted = task(|t| t.max_shift = 2);
        let masked = task(|t| t.spec_augment = true);
        let reversed = task(|t| t.time_reversal = true);
        let turned = task(|t| t.max_rotation = 12.5);
        let zoomed = task(|t| t.max_zoom = 0.1);
        let refused = |t: &TaskConfig, m| Augmentation::for_task(t, m, &[1, 28, 28]).unwrap_err();
        assert_eq!(
            refused(&shifted, Modality::Audio),
            "task clips: max_shift = 2: applies to images and video, and this is an audio task"
        );
        assert_eq!(
            refused(&turned, Modality::Audio),
            "task clips: max_rotation = 12.5: applies to images and video, and this is an audio \
             task"
        );
        assert!(
            refused(&zoomed, Modality::Audio).starts_with("task clips: max_zoom = 0.1: applies")
        );
        let turned_video = Augmentation::for_task(&turned, Modality::Video, &[8, 1, 32, 32]);
        assert_eq!(turned_video.unwrap().max_rotation, 12.5);
        assert!(refused(&masked, Modality::Video).contains("spec_augment = true: applies to audio"));
        assert!(
            refused(&reversed, Modality::Image).contains("time_reversal = true: applies to video")
        );
        assert!(refused(&reversed, Modality::Audio).contains("an audio task"));
        assert!(
            Augmentation::for_task(&reversed, Modality::Video, &[8, 1, 32, 32])
                .unwrap()
                .time_reversal
        );
        assert_eq!(
            Augmentation::for_task(&shifted, Modality::Image, &[1, 28, 28])
                .unwrap()
                .max_shift,
            2
        );
        let too_far = task(|t| t.max_shift = 16);
        assert_eq!(
            Augmentation::for_task(&too_far, Modality::Video, &[8, 1, 32, 16]).unwrap_err(),
            "task clips: max_shift = 16: must be less than 16, the shorter side of the frames \
             (examples of shape [8, 1, 32, 16]), or a picture could be shifted out whole"
        );
        assert!(Augmentation::for_task(&too_far, Modality::Image, &[3, 17, 20]).is_ok());
        // Built-in tasks whose label is a direction: a turn or a reversal would change it.
        let built_in = |name: &str, edit: fn(&mut TaskConfig)| {
            let mut t = TaskConfig::new(name);
            edit(&mut t);
            Augmentation::for_task(&t, Modality::Video, &[8, 1, 32, 32])
        };
        let turn = |t: &mut TaskConfig| t.max_rotation = 10.0;
        let reverse = |t: &mut TaskConfig| t.time_reversal = true;
        assert_eq!(
            built_in("moving_mnist_direction", turn).unwrap_err(),
            "task moving_mnist_direction: max_rotation = 10: would change its examples' labels \
             (which way the digit moves), not keep them"
        );
        assert!(built_in("moving_mnist_direction", reverse).is_err());
        assert_eq!(
            built_in("arrow_of_time", reverse).unwrap_err(),
            "task arrow_of_time: time_reversal = true: would change its examples' labels \
             (whether the clip plays forwards), not keep them"
        );
        assert!(built_in("arrow_of_time", turn).is_ok());
        assert!(built_in("moving_mnist_class", reverse).is_ok());
    }

    #[test]
    fn spec_augment_masks_stay_inside_each_example() {
        let mut rng = tensor::rng(3);
        let mut inputs = vec![1.0; 2 * 16 * 8];
        apply_spec_augment(&mut inputs, &[1, 16, 8], &mut rng);
        let zeros = inputs.iter().filter(|&&v| v == 0.0).count();
        assert!(
            zeros <= 2 * (16 + 2 * 8),
            "at most one band and one span per example"
        );
    }
}
