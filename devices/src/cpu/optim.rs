//! The fused optimizer arithmetic: `a + α·b` (SGD's momentum and step) and the AdamW update,
//! one pass each over a parameter, its gradient and its state.

use super::isa::per_isa;
use super::CpuBuffer;
use crate::backend::{AdamWScalars, AdamWStep};
use crate::Element;

per_isa! {
    /// `out = a + α·b`, element by element.
    pub(crate) fn add_scaled_into<T: Element>(out: &mut [T], a: &[T], b: &[T], alpha: T) {
        for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
            *o = a + b * alpha;
        }
    }
}

/// [`crate::Backend::add_scaled`] on the CPU: `b·α` rounded, then the sum (Rust does not
/// contract `a + b·α` into a fused multiply-add), so the composed default's bits.
pub fn add_scaled<T: Element>(a: &[T], b: &[T], len: usize, alpha: T) -> CpuBuffer<T> {
    let mut out = CpuBuffer::for_overwrite(len);
    add_scaled_into(&mut out, &a[..len], &b[..len], alpha);
    out
}

per_isa! {
    /// Writes the updated parameter and moments into `out` (`[p', m', v']`) from `p`, `g` and the
    /// moments `(m, v)`, or from zero moments when there are none (the first step).
    pub(crate) fn update<T: Element>(
        out: [&mut [T]; 3],
        p: &[T],
        g: &[T],
        moments: Option<[&[T]; 2]>,
        s: AdamWScalars<T>,
    ) {
        let [p_out, m_out, v_out] = out;
        let rest = |p: T, m: T, v: T| {
            let denominator = (v / s.bias_correction2).sqrt() + s.eps;
            p * s.decay - ((m / s.bias_correction1) / denominator) * s.lr
        };
        let outputs = p_out.iter_mut().zip(m_out.iter_mut()).zip(v_out.iter_mut());
        let inputs = p.iter().zip(g);
        match moments {
            Some([m, v]) => {
                for ((((p_out, m_out), v_out), (&p, &g)), (&m, &v)) in
                    outputs.zip(inputs).zip(m.iter().zip(v))
                {
                    *m_out = m * s.beta1 + g * s.one_minus_beta1;
                    *v_out = v * s.beta2 + (g * g) * s.one_minus_beta2;
                    *p_out = rest(p, *m_out, *v_out);
                }
            }
            None => {
                for (((p_out, m_out), v_out), (&p, &g)) in outputs.zip(inputs) {
                    *m_out = g * s.one_minus_beta1;
                    *v_out = (g * g) * s.one_minus_beta2;
                    *p_out = rest(p, *m_out, *v_out);
                }
            }
        }
    }
}

/// [`crate::Backend::adamw_update`] on the CPU: one pass, with each step rounded as the composed
/// default rounds it (Rust does not contract `a·b + c` into a fused multiply-add), so the two
/// give the same bits.
pub fn adamw_update<T: Element>(
    p: &[T],
    g: &[T],
    moments: Option<[&CpuBuffer<T>; 2]>,
    len: usize,
    step: &AdamWStep,
) -> [CpuBuffer<T>; 3] {
    let mut out = [(); 3].map(|_| CpuBuffer::for_overwrite(len));
    let [p_out, m_out, v_out] = &mut out;
    update(
        [&mut p_out[..], &mut m_out[..], &mut v_out[..]],
        &p[..len],
        &g[..len],
        moments.map(|[m, v]| [&m[..len], &v[..len]]),
        step.scalars(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::{adamw_update, add_scaled};
    use crate::backend::AdamWStep;
    use crate::{composed, Backend, Cpu, Element};

    fn values<T: Element>(len: usize, seed: u64) -> Vec<T> {
        (0..len)
            .map(|i| {
                let x = ((i as u64 * 2_654_435_761 + seed * 97) % 1000) as f64;
                T::from_f64(x / 250.0 - 2.0)
            })
            .collect()
    }

    /// The fused kernel gives the composed default's bits, with and without moments, at lengths
    /// around the vector widths and for both element types.
    fn same_bits_as_composed<T: Element>() {
        let step = AdamWStep {
            lr: 3e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.05,
            bias_correction1: 1.0 - 0.9f64.powi(7),
            bias_correction2: 1.0 - 0.999f64.powi(7),
        };
        for len in [0, 1, 15, 16, 17, 100] {
            let buffer = |seed| Cpu.from_host(&values::<T>(len, seed)).unwrap();
            let (p, g, m) = (buffer(1), buffer(2), buffer(3));
            let squares: Vec<T> = values::<T>(len, 4).iter().map(|x| *x * *x).collect();
            let v = Cpu.from_host(&squares).unwrap();
            for moments in [None, Some([&m, &v])] {
                let fused = adamw_update(&p, &g, moments, len, &step);
                let reference = composed::adamw_update(&Cpu, &p, &g, moments, len, &step).unwrap();
                for (k, (a, b)) in fused.iter().zip(&reference).enumerate() {
                    let bits = |x: &[T]| {
                        x.iter()
                            .map(|&v| Element::to_f64(v).to_bits())
                            .collect::<Vec<_>>()
                    };
                    assert_eq!(
                        bits(a),
                        bits(b),
                        "output {k}, len {len}, moments {}",
                        moments.is_some()
                    );
                }
            }
        }
    }

    /// `a + α·b` gives the composed default's bits, at lengths around the vector widths.
    fn add_scaled_same_bits_as_composed<T: Element>() {
        for len in [0, 1, 15, 16, 17, 100] {
            let buffer = |seed| Cpu.from_host(&values::<T>(len, seed)).unwrap();
            let (a, b) = (buffer(5), buffer(6));
            for alpha in [0.9, -3e-3, -1.0] {
                let alpha = T::from_f64(alpha);
                let fused = add_scaled(&a, &b, len, alpha);
                let reference = composed::add_scaled(&Cpu, &a, &b, len, alpha).unwrap();
                let bits = |x: &[T]| x.iter().map(|&v| v.to_f64().to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&fused), bits(&reference), "len {len}");
            }
        }
    }

    #[test]
    fn fused_add_scaled_matches_the_composed_formula_bit_for_bit() {
        add_scaled_same_bits_as_composed::<f32>();
        add_scaled_same_bits_as_composed::<f64>();
    }

    #[test]
    fn fused_adamw_matches_the_composed_formula_bit_for_bit() {
        same_bits_as_composed::<f32>();
        same_bits_as_composed::<f64>();
    }
}
