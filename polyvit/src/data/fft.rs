//! A small iterative radix-2 complex FFT (decimation in time), planned once per length.

use super::error::{DataError, DataResult};
use std::f64::consts::PI;

/// A forward FFT of one power-of-two length: `X[k] = Σ_n x[n] · exp(−2πi·k·n / N)`.
#[derive(Debug, Clone)]
pub struct Fft {
    n: usize,
    /// `cos(2πj/N)` and `sin(2πj/N)` for `j < N/2`.
    twiddle: Vec<(f32, f32)>,
    /// Bit-reversed index of every position.
    reversed: Vec<usize>,
}

impl Fft {
    /// Plans an FFT of length `n`, which must be a power of two, at least 2.
    pub fn new(n: usize) -> DataResult<Self> {
        if n < 2 || !n.is_power_of_two() {
            return Err(DataError::new(
                "fft",
                format!("FFT length {n} is not a power of two >= 2"),
            ));
        }
        let bits = n.trailing_zeros();
        let twiddle = (0..n / 2)
            .map(|j| {
                let a = 2.0 * PI * j as f64 / n as f64;
                (a.cos() as f32, a.sin() as f32)
            })
            .collect();
        let reversed = (0..n)
            .map(|i| i.reverse_bits() >> (usize::BITS - bits))
            .collect();
        Ok(Self {
            n,
            twiddle,
            reversed,
        })
    }

    /// The transform length.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always false: a planned FFT has length at least 2.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Transforms `(re, im)` in place; both must have the planned length.
    pub fn transform(&self, re: &mut [f32], im: &mut [f32]) -> DataResult<()> {
        if re.len() != self.n || im.len() != self.n {
            return Err(DataError::new(
                "fft",
                format!(
                    "input lengths {} and {} differ from the planned {}",
                    re.len(),
                    im.len(),
                    self.n
                ),
            ));
        }
        for i in 0..self.n {
            let j = self.reversed[i];
            if i < j {
                re.swap(i, j);
                im.swap(i, j);
            }
        }
        let mut size = 2;
        while size <= self.n {
            let half = size / 2;
            let stride = self.n / size;
            for start in (0..self.n).step_by(size) {
                for k in 0..half {
                    let (c, s) = self.twiddle[k * stride];
                    let (a, b) = (start + k, start + k + half);
                    // (re[b] + i·im[b]) · exp(−iθ) = (re·c + im·s) + i(im·c − re·s)
                    let tr = re[b] * c + im[b] * s;
                    let ti = im[b] * c - re[b] * s;
                    re[b] = re[a] - tr;
                    im[b] = im[a] - ti;
                    re[a] += tr;
                    im[a] += ti;
                }
            }
            size *= 2;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_dft(x: &[f32]) -> Vec<(f64, f64)> {
        let n = x.len();
        (0..n)
            .map(|k| {
                x.iter().enumerate().fold((0.0, 0.0), |(r, i), (t, &v)| {
                    let a = -2.0 * PI * (k * t) as f64 / n as f64;
                    (r + v as f64 * a.cos(), i + v as f64 * a.sin())
                })
            })
            .collect()
    }

    #[test]
    fn matches_a_naive_dft() {
        for n in [2, 8, 64, 256] {
            let x: Vec<f32> = (0..n)
                .map(|i| ((i * 7919) % 23) as f32 / 11.0 - 1.0)
                .collect();
            let (mut re, mut im) = (x.clone(), vec![0.0; n]);
            Fft::new(n).unwrap().transform(&mut re, &mut im).unwrap();
            for (k, (r, i)) in naive_dft(&x).into_iter().enumerate() {
                assert!(
                    (re[k] as f64 - r).abs() < 1e-3 && (im[k] as f64 - i).abs() < 1e-3,
                    "n {n} bin {k}: ({}, {}) vs ({r}, {i})",
                    re[k],
                    im[k]
                );
            }
        }
    }

    #[test]
    fn rejects_bad_lengths() {
        assert!(Fft::new(0).is_err());
        assert!(Fft::new(12).unwrap_err().problem.contains("power of two"));
        let f = Fft::new(4).unwrap();
        assert_eq!(f.len(), 4);
        assert!(f.transform(&mut [0.0; 4], &mut [0.0; 3]).is_err());
    }
}
