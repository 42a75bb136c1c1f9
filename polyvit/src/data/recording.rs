//! New recordings brought to the form a task's training clips were made in, before their
//! features are computed: the embedded clips were cut and levelled when they were built, so a
//! recording of one's own only looks like them once it is cut the same way.
//!
//! - **Trimmed speech** ([`RecordingForm::TrimmedSpeech`]). The speech clips were trimmed of
//!   silence and peak-normalized to −1 dBFS (`polyvit/scripts/build_speech.py`: sox cuts what
//!   stays below 0.3 % of the clip's peak, then `norm -1` at 8 kHz), and nearly all fit the
//!   0.98 s feature window, which holds them centred. A recording of one's own usually starts
//!   with a second of room noise: centre-cropped as it is, the word lands off-centre or outside
//!   the window. So a recording longer than the window is cut to the window's length around its
//!   speech ([`around_speech`]); one that fits is left as it is (the window centres it anyway).
//!   Room noise is well above sox's 0.3 %, so the rule that finds the speech follows the
//!   recording's own levels: in windows of 20 ms every 10 ms, a window is loud when its power
//!   is within 40 dB of the loudest window's and at least 10 dB above the noise floor (the 10th
//!   percentile of the windows' powers); loud windows less than 0.3 s apart are one sound, and
//!   the speech is the sound with the most energy, so the click of the key that started or
//!   stopped the recording is not taken for it (with a click at each end, the default run's
//!   model heard 29 of 60 real test digits in faint room noise right when the cut ran from the
//!   first loud window to the last, 36 this way, and 37 without the clicks). The cut keeps the
//!   recording's background around the word, as the training copies have noise throughout their
//!   window ([`super::augment`]): cut to the word alone and padded with digital silence, a word
//!   in noise 20 dB under it reads as no training copy does (the default run's model heard 27
//!   of the 60 real test digits right in pink noise at that level cut that way, 39 with the
//!   background kept, as many as with no noise; `EXPERIMENTS.md`). Then its peak is brought to
//!   −1 dBFS, as the clips' was: the log-mel features follow a recording's level (their floor
//!   is a fixed energy), so one recorded 26 dB quieter than the clips would otherwise read as
//!   another sound (an earlier default run's model answered 37 of the 60 real test digits right
//!   at a twentieth of their level, 43 at theirs). Before both, what lies below 200 Hz is
//!   filtered out (a second-order Butterworth high-pass): mains hum and rumble live there, the
//!   telephone recordings the task is tested on hold nothing below 300 Hz, and three of every
//!   four training clips passed a random high-pass at 60–400 Hz ([`super::augment`]). With 50
//!   Hz hum at a tenth of the speech's level, 44.1 kHz copies of the 60 real test digits went
//!   from 32 to 39 right with the default run's model of `9a2e75b`; the digits as they are read
//!   as before (`EXPERIMENTS.md`, *Spoken digits: recordings of one's own*, has four models and
//!   thirteen sets).
//! - **One-shots** ([`RecordingForm::OneShot`]). The drum one-shots were cut from their onset
//!   (`polyvit/scripts/build_drums.py`: sox drops what comes before the first sample at 1 % of
//!   full scale once the peak is at −1 dBFS), 0.5 s long (cut or padded with silence), the last
//!   50 ms faded out linearly, and peak-normalized to −1 dBFS after their conversion to 8 kHz; a
//!   sample file of one's own, with its lead-in and its seconds of decay, is made the same way.
//!   A recording of several hits keeps its first 0.5 s.
//!
//! `InputFormat` applies both at the feature rate (8 kHz), after resampling, as the packs'
//! clips were levelled after theirs.

use super::biquad::{Biquad, BiquadKind, BUTTERWORTH_Q};
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// How a task's training recordings were made (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingForm {
    /// Speech trimmed of leading and trailing silence, its peak at −1 dBFS; a new recording is
    /// cut to the feature window around its speech ([`around_speech`]) and levelled.
    TrimmedSpeech,
    /// A one-shot from its onset, 0.5 s, faded out and peak-normalized ([`one_shot`]).
    OneShot,
}

impl RecordingForm {
    /// The form in words, for the message that says new recordings are made in it.
    pub fn describe(self) -> &'static str {
        match self {
            RecordingForm::TrimmedSpeech => {
                "below 200 Hz filtered out, a recording longer than the feature window cut to \
                 the window around its speech, peak at -1 dBFS"
            }
            RecordingForm::OneShot => "one-shots from their onset, 0.5 s, levelled and faded out",
        }
    }

    /// Whether `samples` (at `rate` Hz), a recording in this form, hold the sound it expects, a
    /// word or a hit: whether [`a_sound_stands_out`] once what lies below 200 Hz is filtered
    /// out by the second-order Butterworth high-pass speech passes through. The filter matters
    /// for hits too: low-pitched noise (rumble, traffic) swings from one 20 ms window to the
    /// next by more than its level tells (3 s of pink noise read 7.3–9.9 dB over its floor
    /// unfiltered, 2.2–3.0 filtered), while a hit's onset is broadband (the 401 Hydrogen
    /// one-shots longer than the drums' window read 15.3 dB and more filtered, but for a
    /// synthesizer's steady tone, 4.5 dB). `predict` notes a recording that does not: its
    /// answer is about noise. A recording that fits the feature window (`fits` samples) is not
    /// judged (true): cut to its sound, as the training clips were, it has no background for
    /// the sound to stand out of (of the 1,960 exported `spoken_digits` training clips, 27
    /// short "one"s read 3.0–6.4 dB over a floor inside the word).
    pub fn holds_a_sound(self, samples: &[f32], rate: u32, fits: usize) -> bool {
        samples.len() <= fits || a_sound_stands_out(&without_rumble(samples, rate), rate)
    }

    /// `samples` (at `rate` Hz) in this form; `fits` is the feature window in samples at `rate`.
    /// A recording of one level throughout (digital silence, or a constant offset such as a
    /// microphone's DC with nothing on it) holds no sound and is made silence, which `predict`
    /// notes as such: the high-pass would turn a constant into a click at its start, and the
    /// levelling bring that click to −1 dBFS, to be heard as something.
    pub fn prepare(self, samples: &[f32], rate: u32, fits: usize) -> Vec<f32> {
        let silence;
        let samples = match samples.iter().all(|&v| v == samples[0]) {
            true => {
                silence = vec![0.0; samples.len()];
                &silence
            }
            false => samples,
        };
        match self {
            RecordingForm::TrimmedSpeech => {
                at_peak(around_speech(&without_rumble(samples, rate), rate, fits))
            }
            RecordingForm::OneShot => one_shot(samples, rate),
        }
    }
}

/// The corner of the high-pass that new speech passes through, in Hz.
const SPEECH_HIGH_PASS_HZ: f64 = 200.0;

/// `samples` (at `rate` Hz) through a second-order Butterworth high-pass at
/// [`SPEECH_HIGH_PASS_HZ`]: hum and rumble out, speech above its fundamental kept.
fn without_rumble(samples: &[f32], rate: u32) -> Vec<f32> {
    let mut x: Vec<f64> = samples.iter().map(|&v| v as f64).collect();
    Biquad::new(
        BiquadKind::HighPass,
        SPEECH_HIGH_PASS_HZ,
        rate as f64,
        BUTTERWORTH_Q,
    )
    .run(&mut x);
    x.into_iter().map(|v| v as f32).collect()
}

/// A one-shot's length, in seconds.
const ONE_SHOT_S: f64 = 0.5;
/// Its linear fade-out, in seconds.
const FADE_S: f64 = 0.05;
/// The onset: the first sample at least this level once the peak is at [`PEAK`] (sox's `1%`
/// of full scale).
const ONSET: f32 = 0.01;
/// The peak level after normalization: −1 dBFS.
const PEAK: f32 = 0.891_250_9;

/// The largest magnitude in `samples` (0 for none).
fn peak(samples: &[f32]) -> f32 {
    samples.iter().fold(0.0f32, |m, v| m.max(v.abs()))
}

/// `samples` scaled so that their peak is at −1 dBFS (`sox norm -1`); all zeros stay zeros.
fn at_peak(samples: &[f32]) -> Vec<f32> {
    let peak = peak(samples);
    if peak == 0.0 {
        return samples.to_vec();
    }
    let gain = PEAK / peak;
    samples.iter().map(|v| v * gain).collect()
}

/// `samples` (at `rate` Hz) made a one-shot as the drum pack's were (see the module docs); all
/// zeros stay zeros.
pub fn one_shot(samples: &[f32], rate: u32) -> Vec<f32> {
    let len = (ONE_SHOT_S * rate as f64).round() as usize;
    let levelled = at_peak(samples);
    let onset = levelled.iter().position(|v| v.abs() >= ONSET).unwrap_or(0);
    let mut shot: Vec<f32> = levelled[onset..].iter().take(len).copied().collect();
    shot.resize(len, 0.0);
    let fade = ((FADE_S * rate as f64).round() as usize).min(len);
    for (i, v) in shot[len - fade..].iter_mut().enumerate() {
        *v *= 1.0 - (i + 1) as f32 / fade as f32;
    }
    shot
}

/// The analysis window, in seconds.
const WINDOW_S: f64 = 0.02;
/// The hop between windows, in seconds.
const HOP_S: f64 = 0.01;
/// Windows quieter than the loudest by more than this many decibels are silence.
const BELOW_LOUDEST_DB: f64 = 40.0;
/// Windows less than this many decibels above the noise floor are silence.
const ABOVE_FLOOR_DB: f64 = 10.0;
/// The percentile of the windows' powers taken as the noise floor.
const FLOOR_PERCENTILE: usize = 10;
/// A recording holds a sound when its loudest window is at least this many decibels above its
/// noise floor ([`a_sound_stands_out`]). Measured at 8 kHz after the 200 Hz high-pass, loudest
/// over floor: 3-second recordings of white, pink or brown noise (60) and of steady tones (6)
/// reach 0–5.6 dB; the 60 real test digits laid into 3 s of pink noise as loud as they are (an
/// SNR of 0 dB), 7.4–15.5, at 10 dB 17.4 and more. At −5 dB, 4.0–10.2: `predict` with the
/// default run's model noted 18 of those 60 (and 6 of the 18 it answered right, where it
/// answered 21 of 60 right at 0 dB), every one of the 66 noises and tones, and none of the real
/// digits at 0 dB or more.
const STANDS_OUT_DB: f64 = 6.5;
/// Loud windows closer than this, in seconds, belong to one sound (a word's stops and pauses
/// are shorter).
const LONGEST_PAUSE_S: f64 = 0.3;

/// The power ratio of `db` decibels.
fn from_db(db: f64) -> f64 {
    10f64.powf(db / 10.0)
}

/// The first sample of each analysis window of `samples` (at `rate` Hz; [`WINDOW_S`] long,
/// every [`HOP_S`]) and its mean square around `level`; none for a recording shorter than one.
fn window_powers(samples: &[f32], rate: u32, level: f64) -> (Vec<usize>, Vec<f64>) {
    let window = ((WINDOW_S * rate as f64).round() as usize).max(1);
    let hop = ((HOP_S * rate as f64).round() as usize).max(1);
    let starts: Vec<usize> = (0..(samples.len() + 1).saturating_sub(window))
        .step_by(hop)
        .collect();
    let power = starts
        .iter()
        .map(|&s| {
            let w = &samples[s..s + window];
            let square = |v: f32| (v as f64 - level) * (v as f64 - level);
            w.iter().map(|&v| square(v)).sum::<f64>() / window as f64
        })
        .collect();
    (starts, power)
}

/// The noise floor of windows' `power` (its [`FLOOR_PERCENTILE`]th percentile) and the loudest
/// (`power` not empty).
fn floor_and_loudest(power: &[f64]) -> (f64, f64) {
    let mut sorted = power.to_vec();
    sorted.sort_by(f64::total_cmp);
    (
        sorted[sorted.len() * FLOOR_PERCENTILE / 100],
        sorted[sorted.len() - 1],
    )
}

/// Whether `samples` (at `rate` Hz) hold a sound that stands out of their background: a window
/// at least `STANDS_OUT_DB` (6.5 dB) above the noise floor, the power measured around the
/// recording's mean. A recording shorter than one window, or silent, is not judged (true): a
/// silent one reaches the task as one level, which `predict` notes on its own. Steady noise and
/// a tone throughout do not stand out, nor does a word buried deeper than the noise around it.
pub fn a_sound_stands_out(samples: &[f32], rate: u32) -> bool {
    let mean = samples.iter().map(|&v| v as f64).sum::<f64>() / samples.len().max(1) as f64;
    let (_, power) = window_powers(samples, rate, mean);
    if power.is_empty() {
        return true;
    }
    let (floor, loudest) = floor_and_loudest(&power);
    loudest == 0.0 || loudest >= floor * from_db(STANDS_OUT_DB)
}

/// `samples` (at `rate` Hz) without their leading and trailing silence when there are more than
/// `fits` of them: from the first to the last loud window (see the module docs). A recording
/// that fits, or has no window 10 dB above its floor (all zeros, or a steady sound
/// throughout), is returned whole.
pub fn trim_silence(samples: &[f32], rate: u32, fits: usize) -> &[f32] {
    let Some(loud) = LoudWindows::of(samples, rate, fits, 0.0) else {
        return samples;
    };
    let first = loud.power.iter().position(|&p| p >= loud.threshold);
    let last = loud.power.iter().rposition(|&p| p >= loud.threshold);
    match (first, last) {
        (Some(first), Some(last)) => &samples[loud.span(first, last)],
        _ => samples,
    }
}

/// The `fits` samples of a recording longer than that centred on its speech, moved inside the
/// recording where the speech is near an end: the word with the recording's own background
/// around it, as the training copies have noise around theirs. The speech is the loud sound
/// with the most energy (runs of loud windows, joined across pauses shorter than 0.3 s): the
/// click of the key that started or stopped a recording is as loud as the word but a hundredth
/// as long. The window is centred on the middle of the sound's span, as the training clips,
/// trimmed to their speech, were centred. A recording that fits, or has no window 10 dB above
/// its floor, is returned whole.
pub fn around_speech(samples: &[f32], rate: u32, fits: usize) -> &[f32] {
    let Some(loud) = LoudWindows::of(samples, rate, fits, 0.0) else {
        return samples;
    };
    let Some((first, last)) = loud.most_energetic_sound() else {
        return samples;
    };
    let speech = loud.span(first, last);
    &samples[window_at(samples.len(), fits, (speech.start + speech.end) / 2)]
}

/// Where the `fits` samples centred on the strongest sound of a recording longer than that lie,
/// moved inside the recording where the sound is near an end: of the loud sounds (runs of loud
/// windows joined across pauses shorter than 0.3 s, as for speech), the one with the most
/// energy, the window centred on that energy (so a quieter stretch joined to it, such as noise
/// just before a word, does not pull the window off the word, as the middle of its span would).
/// The power is measured around the recording's mean, so that a constant offset (a cheap
/// microphone's) does not hide a sound. A recording that fits, or has no window 10 dB above its
/// floor (silence, or a steady sound throughout), is kept whole (`0..len`).
pub fn around_strongest_sound(samples: &[f32], rate: u32, fits: usize) -> Range<usize> {
    let whole = 0..samples.len();
    let mean = samples.iter().map(|&v| v as f64).sum::<f64>() / samples.len().max(1) as f64;
    let Some(loud) = LoudWindows::of(samples, rate, fits, mean) else {
        return whole;
    };
    let Some((first, last)) = loud.most_energetic_sound() else {
        return whole;
    };
    window_at(samples.len(), fits, loud.centre_of_energy(first, last))
}

/// The `fits` of `len` samples centred on `centre`, moved inside them near an end
/// (`fits ≤ len`).
fn window_at(len: usize, fits: usize, centre: usize) -> Range<usize> {
    let start = centre.saturating_sub(fits / 2).min(len - fits);
    start..start + fits
}

/// A recording's power in short windows, and the power above which a window is loud: within
/// [`BELOW_LOUDEST_DB`] of the loudest window and at least [`ABOVE_FLOOR_DB`] above the noise
/// floor (the [`FLOOR_PERCENTILE`]th percentile of the windows' powers).
struct LoudWindows {
    /// The first sample of each window.
    starts: Vec<usize>,
    /// Each window's mean square around the level it was measured from.
    power: Vec<f64>,
    threshold: f64,
    /// The window's length in samples.
    window: usize,
}

impl LoudWindows {
    /// The windows of a recording of more than `fits` samples (at `rate` Hz), their power
    /// measured around `level` (0 for a recording whose constant offset was filtered out);
    /// `None` for one that fits, or has no window 10 dB above its floor.
    fn of(samples: &[f32], rate: u32, fits: usize, level: f64) -> Option<LoudWindows> {
        let window = ((WINDOW_S * rate as f64).round() as usize).max(1);
        if samples.len() <= fits.max(window) {
            return None;
        }
        let (starts, power) = window_powers(samples, rate, level);
        let (floor, loudest) = floor_and_loudest(&power);
        // No window 10 dB above the floor (silence, or a steady sound throughout).
        if floor * from_db(ABOVE_FLOOR_DB) >= loudest {
            return None;
        }
        let threshold = (loudest * from_db(-BELOW_LOUDEST_DB)).max(floor * from_db(ABOVE_FLOOR_DB));
        Some(LoudWindows {
            starts,
            power,
            threshold,
            window,
        })
    }

    /// The sample at the centre of the energy of windows `first` to `last` (each window's power
    /// at its middle sample).
    fn centre_of_energy(&self, first: usize, last: usize) -> usize {
        let windows = first..=last;
        let energy: f64 = self.power[windows.clone()].iter().sum();
        let moment: f64 = windows
            .map(|i| self.power[i] * (self.starts[i] + self.window / 2) as f64)
            .sum();
        (moment / energy).round() as usize
    }

    /// The samples from window `first` to the end of window `last`.
    fn span(&self, first: usize, last: usize) -> Range<usize> {
        self.starts[first]..self.starts[last] + self.window
    }

    /// The first and last window of the loud sound with the most energy (the sum of its loud
    /// windows' powers), where loud windows fewer than [`LONGEST_PAUSE_S`] apart are one sound.
    fn most_energetic_sound(&self) -> Option<(usize, usize)> {
        let longest_pause = (LONGEST_PAUSE_S / HOP_S).round() as usize;
        // Sounds as (first window, last window, energy).
        let mut sounds: Vec<(usize, usize, f64)> = Vec::new();
        for (i, &p) in self.power.iter().enumerate() {
            if p < self.threshold {
                continue;
            }
            match sounds.last_mut() {
                Some((_, last, energy)) if i - *last <= longest_pause => {
                    *last = i;
                    *energy += p;
                }
                _ => sounds.push((i, i, p)),
            }
        }
        sounds
            .into_iter()
            .max_by(|a, b| a.2.total_cmp(&b.2))
            .map(|(first, last, _)| (first, last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `seconds` of a 300 Hz tone of `amplitude` at 8 kHz.
    fn tone(seconds: f64, amplitude: f32) -> Vec<f32> {
        let n = (seconds * 8000.0) as usize;
        (0..n)
            .map(|t| amplitude * (std::f32::consts::TAU * 300.0 * t as f32 / 8000.0).sin())
            .collect()
    }

    /// Uniform noise of peak `level` (deterministic), `seconds` long at 8 kHz.
    fn noise(seconds: f64, level: f32, seed: u64) -> Vec<f32> {
        crate::data::test_util::noise((seconds * 8000.0) as usize, level, seed)
    }

    /// Where `part` starts and ends in `whole`, in samples.
    fn span(whole: &[f32], part: &[f32]) -> (usize, usize) {
        let start = (part.as_ptr() as usize - whole.as_ptr() as usize) / std::mem::size_of::<f32>();
        (start, start + part.len())
    }

    #[test]
    fn room_noise_around_a_word_is_cut_and_a_quiet_onset_kept() {
        // 1.5 s of noise ~60 dB below the word, a quiet onset 30 dB below (a fricative), the
        // word, 0.7 s of noise: the cut keeps the onset and the word, within a window of their
        // edges.
        let (onset, word) = (tone(0.1, 0.016), tone(0.4, 0.5));
        let recording = [
            noise(1.5, 0.0015, 1),
            onset.clone(),
            word.clone(),
            noise(0.7, 0.0015, 2),
        ]
        .concat();
        let (start, end) = span(&recording, trim_silence(&recording, 8000, 7840));
        assert!(
            (12_000 - 160..=12_000).contains(&start),
            "starts at {start}"
        );
        let word_end = 12_000 + onset.len() + word.len();
        assert!((word_end..=word_end + 160).contains(&end), "ends at {end}");
    }

    /// A word in a long noisy recording comes out as the window around it: `fits` samples, the
    /// word at its centre, the recording's own noise on both sides; a word at either end keeps
    /// the window inside the recording.
    #[test]
    fn the_window_around_a_word_keeps_its_background() {
        let word = tone(0.4, 0.5);
        let recording = [noise(1.5, 0.02, 12), word.clone(), noise(1.0, 0.02, 13)].concat();
        let window = around_speech(&recording, 8000, 7840);
        let (start, end) = span(&recording, window);
        assert_eq!(end - start, 7840);
        // The word's centre is at 12,000 + 1,600 samples.
        let centre = start + 7840 / 2;
        assert!(centre.abs_diff(13_600) <= 160, "centred at {centre}");
        // Noise of peak 0.02 on both sides, neither silence nor the word (peak 0.5).
        for side in [&window[..2000], &window[5840..]] {
            assert!((0.01..0.03).contains(&peak(side)), "{}", peak(side));
        }
        let early = [word.clone(), noise(2.0, 0.02, 14)].concat();
        assert_eq!(span(&early, around_speech(&early, 8000, 7840)), (0, 7840));
        let late = [noise(2.0, 0.02, 15), word.clone()].concat();
        let len = late.len();
        assert_eq!(
            span(&late, around_speech(&late, 8000, 7840)),
            (len - 7840, len)
        );
        let short = [noise(0.2, 0.02, 16), word].concat();
        assert_eq!(around_speech(&short, 8000, 7840).len(), short.len(), "fits");
    }

    /// The strongest sound's window is centred on its energy: a quieter stretch joined to a word
    /// (2.5 s of noise 16 dB under it, right before it) leaves the window on the word, where the
    /// middle of the joined span, as speech is centred, holds noise alone.
    #[test]
    fn the_strongest_sound_is_centred_on_its_energy() {
        let word = tone(0.5, 0.5);
        let recording = [noise(2.5, 0.1, 21), word, noise(0.5, 0.0005, 22)].concat();
        let word_at = 20_000..24_000;
        let strongest = around_strongest_sound(&recording, 8000, 7840);
        assert_eq!(strongest.len(), 7840);
        assert!(
            strongest.start <= word_at.start && word_at.end <= strongest.end,
            "{strongest:?}"
        );
        let speech = span(&recording, around_speech(&recording, 8000, 7840));
        assert!(speech.1 <= word_at.start, "the span's middle: {speech:?}");
    }

    /// A constant offset under a recording (a cheap microphone's) does not hide its sound: the
    /// power is measured around the recording's mean.
    #[test]
    fn an_offset_does_not_hide_the_strongest_sound() {
        let mut recording = noise(5.0, 0.002, 23);
        let tone_at = 30_400..32_800;
        recording[tone_at.clone()]
            .iter_mut()
            .zip(tone(0.3, 0.15))
            .for_each(|(v, t)| *v += t);
        for offset in [0.0, 0.05, -0.3] {
            let shifted: Vec<f32> = recording.iter().map(|v| v + offset).collect();
            let window = around_strongest_sound(&shifted, 8000, 7840);
            assert!(
                window.len() == 7840 && window.start <= tone_at.start && tone_at.end <= window.end,
                "offset {offset}: {window:?}"
            );
        }
        // Silence, noise alone and a steady tone under an offset have no strongest sound.
        for steady in [vec![0.2; 40_000], noise(5.0, 0.1, 24), tone(5.0, 0.3)] {
            let shifted: Vec<f32> = steady.iter().map(|v| v + 0.05).collect();
            assert_eq!(
                around_strongest_sound(&shifted, 8000, 7840),
                0..shifted.len()
            );
        }
    }

    /// The clicks of the key that started and stopped a recording, as loud as the word, leave
    /// the window on the word: of the loud sounds it has the most energy. (`trim_silence`,
    /// which cuts from the first to the last loud window, keeps the whole recording.)
    #[test]
    fn clicks_at_the_ends_leave_the_window_on_the_word() {
        let click: Vec<f32> = (0..40)
            .map(|t| if t % 2 == 0 { 0.5 } else { -0.5 })
            .collect();
        let recording = [
            click.clone(),
            noise(1.5, 0.002, 17),
            tone(0.4, 0.5),
            noise(1.0, 0.002, 18),
            click,
        ]
        .concat();
        let (start, _) = span(&recording, around_speech(&recording, 8000, 7840));
        // The word's centre is at 40 + 12,000 + 1,600 samples.
        let centre = start + 7840 / 2;
        assert!(centre.abs_diff(13_640) <= 160, "centred at {centre}");
        assert_eq!(trim_silence(&recording, 8000, 7840).len(), recording.len());
    }

    #[test]
    fn loud_room_noise_is_cut_by_its_floor() {
        // Noise only 30 dB below the word, within 40 dB of it: the floor rule cuts it.
        let word = tone(0.5, 0.5);
        let recording = [noise(1.5, 0.02, 3), word.clone(), noise(1.0, 0.02, 4)].concat();
        let (start, end) = span(&recording, trim_silence(&recording, 8000, 7840));
        assert!(
            (12_000 - 160..=12_000 + 160).contains(&start),
            "starts at {start}"
        );
        assert!(
            (16_000 - 160..=16_000 + 160).contains(&end),
            "ends at {end}"
        );
    }

    /// A hit after 0.3 s of near-silence, decaying over 2 s, becomes 0.5 s from its onset at
    /// −1 dBFS, faded to zero; silence stays silence.
    #[test]
    fn a_long_sample_becomes_a_one_shot_from_its_onset() {
        let hit: Vec<f32> = (0..16_000)
            .map(|t| 0.2 * (-(t as f32) / 4000.0).exp() * (t as f32 * 0.3).sin())
            .collect();
        let recording = [noise(0.3, 0.0005, 7), hit.clone()].concat();
        let shot = one_shot(&recording, 8000);
        assert_eq!(shot.len(), 4000);
        let peak = shot.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!((peak - PEAK).abs() < 1e-6, "{peak}");
        // The first samples are the hit's (its first one is 0, then it rises), not the lead-in.
        let scale = PEAK / hit.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        for t in 1..100 {
            assert!((shot[t - 1] - hit[t] * scale).abs() < 1e-5, "sample {t}");
        }
        assert_eq!(shot[3999], 0.0, "faded out");
        assert!(shot[3599].abs() > 0.0);
        assert_eq!(one_shot(&[0.0; 100], 8000), vec![0.0; 4000]);
        let form = RecordingForm::OneShot;
        assert_eq!(form.prepare(&recording, 8000, 7840), shot);
    }

    /// Trimmed speech is levelled as the clips were: a recording at a twentieth of the level
    /// of another becomes the same samples, its peak at −1 dBFS; silence stays silence.
    #[test]
    fn trimmed_speech_has_its_peak_at_minus_one_dbfs_whatever_its_level() {
        let form = RecordingForm::TrimmedSpeech;
        for fits in [7840, 4000] {
            let loud = [noise(0.5, 0.0015, 8), tone(0.4, 0.5), noise(0.3, 0.0015, 9)].concat();
            let quiet: Vec<f32> = loud.iter().map(|v| v / 20.0).collect();
            let (a, b) = (
                form.prepare(&loud, 8000, fits),
                form.prepare(&quiet, 8000, fits),
            );
            assert_eq!(a.len(), b.len(), "the same cut at {fits}");
            assert!((peak(&a) - PEAK).abs() < 1e-6 && (peak(&b) - PEAK).abs() < 1e-6);
            assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-6));
        }
        assert_eq!(form.prepare(&[0.0; 9000], 8000, 7840), vec![0.0; 9000]);
    }

    /// Mains hum nearly as loud as the word (50 Hz and its harmonic) would keep the recording
    /// from being cut and take a third of its peak; filtered out, the window around the word is
    /// the one it would be without the hum (a shifted window would misplace the word's edges),
    /// levelled the same.
    #[test]
    fn speech_loses_its_hum_before_it_is_cut() {
        let word = [
            noise(0.8, 0.0015, 10),
            tone(0.4, 0.5),
            noise(0.8, 0.0015, 11),
        ]
        .concat();
        let hum: Vec<f32> = (0..word.len())
            .map(|t| {
                let phase = std::f32::consts::TAU * 50.0 * t as f32 / 8000.0;
                0.4 * phase.sin() + 0.05 * (2.0 * phase).sin()
            })
            .collect();
        let humming: Vec<f32> = word.iter().zip(&hum).map(|(w, h)| w + h).collect();
        assert_eq!(trim_silence(&humming, 8000, 4000).len(), word.len());
        let form = RecordingForm::TrimmedSpeech;
        let (clean, filtered) = (
            form.prepare(&word, 8000, 4000),
            form.prepare(&humming, 8000, 4000),
        );
        assert_eq!((clean.len(), filtered.len()), (4000, 4000));
        let worst = clean
            .iter()
            .zip(&filtered)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 0.1, "largest difference {worst}");
    }

    #[test]
    fn recordings_that_fit_or_are_silent_are_kept_whole() {
        let padded = [noise(0.3, 0.0015, 5), tone(0.3, 0.5), noise(0.3, 0.0015, 6)].concat();
        assert_eq!(
            trim_silence(&padded, 8000, 7840).len(),
            padded.len(),
            "fits the window"
        );
        assert!(
            trim_silence(&padded, 8000, 4000).len() < 3000,
            "longer than the window"
        );
        let zeros = vec![0.0; 16_000];
        assert_eq!(trim_silence(&zeros, 8000, 7840).len(), 16_000);
        let steady = tone(2.0, 0.5);
        assert_eq!(
            trim_silence(&steady, 8000, 7840).len(),
            16_000,
            "no silence to cut"
        );
    }

    /// A recording of one level throughout (a constant offset with nothing on it) is made
    /// silence in either form, not a levelled click: `predict` then notes it as silent.
    #[test]
    fn a_constant_level_is_prepared_as_silence() {
        for form in [RecordingForm::TrimmedSpeech, RecordingForm::OneShot] {
            let prepared = form.prepare(&vec![0.2; 8000], 8000, 7840);
            assert!(
                !prepared.is_empty() && prepared.iter().all(|&v| v == 0.0),
                "{form:?}"
            );
            // Sound over an offset is still heard.
            let offset: Vec<f32> = tone(1.0, 0.3).iter().map(|v| v + 0.2).collect();
            assert!(form.prepare(&offset, 8000, 7840).iter().any(|&v| v != 0.0));
        }
    }

    /// `samples` with `amplitude` of a `freq` Hz tone added from `start` to `end` seconds.
    fn with_tone(
        mut samples: Vec<f32>,
        freq: f32,
        amplitude: f32,
        start: f64,
        end: f64,
    ) -> Vec<f32> {
        let range = (start * 8000.0) as usize..(end * 8000.0) as usize;
        for t in range {
            samples[t] += amplitude * (std::f32::consts::TAU * freq * t as f32 / 8000.0).sin();
        }
        samples
    }

    /// Steady noise and a tone throughout hold no sound; a word-long tone burst 10 dB over the
    /// same noise does. A recording is judged after the high-pass, so hum louder than a word
    /// does not hide it; a recording that fits the feature window, silence, and a recording
    /// shorter than one analysis window are not judged.
    #[test]
    fn a_sound_stands_out_of_steady_noise() {
        let fits = 7840;
        for form in [RecordingForm::TrimmedSpeech, RecordingForm::OneShot] {
            let steady = noise(3.0, 0.1, 1);
            assert!(!form.holds_a_sound(&steady, 8000, fits), "{form:?}");
            assert!(!form.holds_a_sound(&tone(3.0, 0.3), 8000, fits), "{form:?}");
            assert!(form.holds_a_sound(&steady[..fits], 8000, fits), "{form:?}");
            // Uniform noise of peak 0.1 has an RMS of 0.058; the burst's is 0.18.
            let burst = with_tone(noise(3.0, 0.1, 2), 300.0, 0.26, 1.0, 1.4);
            assert!(form.holds_a_sound(&burst, 8000, fits), "{form:?}");
        }
        assert!(!a_sound_stands_out(&noise(0.5, 0.1, 1), 8000));
        let hum = with_tone(noise(3.0, 0.001, 3), 50.0, 0.2, 0.0, 3.0);
        let word_in_hum = with_tone(hum, 300.0, 0.05, 1.0, 1.4);
        assert!(!a_sound_stands_out(&word_in_hum, 8000));
        // Rumble (white noise through a leaky integrator, a low-pass near 13 Hz) swings from
        // window to window unfiltered, but is steady once filtered.
        let rumble: Vec<f32> = noise(3.0, 0.5, 5)
            .into_iter()
            .scan(0.0, |level, white| {
                *level = 0.99 * *level + 0.01 * white;
                Some(*level)
            })
            .collect();
        assert!(a_sound_stands_out(&rumble, 8000));
        for form in [RecordingForm::TrimmedSpeech, RecordingForm::OneShot] {
            assert!(form.holds_a_sound(&word_in_hum, 8000, fits), "{form:?}");
            assert!(!form.holds_a_sound(&rumble, 8000, fits), "{form:?}");
        }
        assert!(a_sound_stands_out(&[0.0; 24_000], 8000));
        assert!(a_sound_stands_out(&[0.2; 24_000], 8000));
        assert!(a_sound_stands_out(&noise(0.015, 0.1, 4), 8000));
    }
}
