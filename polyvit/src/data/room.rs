//! Synthetic rooms for the spoken-digit augmentation: a recording made at a distance in a room
//! is the dry sound convolved with the room's impulse response, the direct sound followed by a
//! dense tail of reflections that decays exponentially.
//!
//! The response `h` at `rate` Hz has `h[0] = 1` (the direct sound) and, for `n ≥ 1`,
//! `h[n] = g · z[n] · exp(−3 ln 10 · n / (rate · T60))` with `z[n]` standard normal: the tail's
//! energy falls by 60 dB in `T60` seconds (the reverberation time), and it is `T60` long. The
//! gain `g` sets the direct-to-reverberant ratio `DRR = 10 log10(1 / Σ_{n≥1} h[n]²)` dB.
//! [`convolve`] computes `y[n] = Σ_k x[k] · h[n − k]` (length `|x| + |h| − 1`) through the FFT.

use super::error::DataResult;
use super::fft::Fft;
use rand::Rng;
use rand_distr::StandardNormal;

/// The impulse response of a room with reverberation time `t60_s` seconds and a
/// direct-to-reverberant ratio of `drr_db` dB, at `rate` Hz, its tail drawn from `rng`.
pub fn room_response(rate: u32, t60_s: f64, drr_db: f64, rng: &mut impl Rng) -> Vec<f32> {
    let len = ((t60_s * rate as f64).round() as usize).max(2);
    let decay = -3.0 * 10f64.ln() / (t60_s * rate as f64);
    let mut tail: Vec<f64> = (1..len)
        .map(|n| rng.sample::<f64, _>(StandardNormal) * (decay * n as f64).exp())
        .collect();
    let energy: f64 = tail.iter().map(|v| v * v).sum();
    let gain = if energy > 0.0 {
        (10f64.powf(-drr_db / 10.0) / energy).sqrt()
    } else {
        0.0
    };
    tail.iter_mut().for_each(|v| *v *= gain);
    std::iter::once(1.0)
        .chain(tail.into_iter().map(|v| v as f32))
        .collect()
}

/// The full linear convolution of `x` and `h` (empty when either is), by one FFT of each, their
/// product, and an inverse FFT (the forward transform of the conjugate, conjugated, over `N`).
pub fn convolve(x: &[f32], h: &[f32]) -> DataResult<Vec<f32>> {
    if x.is_empty() || h.is_empty() {
        return Ok(Vec::new());
    }
    let len = x.len() + h.len() - 1;
    let fft = Fft::new(len.next_power_of_two().max(2))?;
    let spectrum = |signal: &[f32]| -> DataResult<(Vec<f32>, Vec<f32>)> {
        let mut re = signal.to_vec();
        re.resize(fft.len(), 0.0);
        let mut im = vec![0.0; fft.len()];
        fft.transform(&mut re, &mut im)?;
        Ok((re, im))
    };
    let ((xr, xi), (hr, hi)) = (spectrum(x)?, spectrum(h)?);
    // The product's conjugate, so that the forward transform below inverts it.
    let mut re: Vec<f32> = (0..fft.len())
        .map(|k| xr[k] * hr[k] - xi[k] * hi[k])
        .collect();
    let mut im: Vec<f32> = (0..fft.len())
        .map(|k| -(xr[k] * hi[k] + xi[k] * hr[k]))
        .collect();
    fft.transform(&mut re, &mut im)?;
    let scale = 1.0 / fft.len() as f32;
    Ok(re[..len].iter().map(|v| v * scale).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn convolution_matches_the_direct_sum() {
        let x: Vec<f32> = (0..37)
            .map(|i| ((i * 31) % 17) as f32 / 8.0 - 1.0)
            .collect();
        let h: Vec<f32> = (0..11).map(|i| ((i * 13) % 7) as f32 / 3.0 - 1.0).collect();
        let y = convolve(&x, &h).unwrap();
        assert_eq!(y.len(), 47);
        for (n, &got) in y.iter().enumerate() {
            let want: f32 = (0..x.len())
                .filter(|&k| n >= k && n - k < h.len())
                .map(|k| x[k] * h[n - k])
                .sum();
            assert!((got - want).abs() < 1e-4, "y[{n}] = {got}, want {want}");
        }
        assert_eq!(convolve(&x, &[1.0]).unwrap().len(), x.len());
        assert!(convolve(&[], &h).unwrap().is_empty());
    }

    #[test]
    fn a_room_has_its_reverberation_time_and_direct_to_reverberant_ratio() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let h = room_response(8000, 0.5, 3.0, &mut rng);
        assert_eq!(h.len(), 4000);
        assert_eq!(h[0], 1.0);
        let energy = |s: &[f32]| s.iter().map(|v| (*v as f64).powi(2)).sum::<f64>();
        let drr = 10.0 * (1.0 / energy(&h[1..])).log10();
        assert!((drr - 3.0).abs() < 1e-6, "DRR {drr} dB");
        // 60 dB in 0.5 s is 12 dB in each tenth of a second.
        let fall = 10.0 * (energy(&h[1..800]) / energy(&h[800..1600])).log10();
        assert!((fall - 12.0).abs() < 1.0, "{fall} dB per 0.1 s");
    }
}
