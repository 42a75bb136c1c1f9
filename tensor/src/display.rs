//! A readable `Display`, PyTorch style: nested brackets, long axes elided with `...`.

use crate::Tensor;
use std::fmt;

/// Axes longer than this show their first and last `EDGE` entries only.
const SUMMARIZE_ABOVE: usize = 10;
const EDGE: usize = 3;

/// How the values are written: with a fixed number of decimals, or in scientific notation with
/// that many (as PyTorch does when the values span orders of magnitude the decimals would lose).
#[derive(Clone, Copy)]
struct Notation {
    decimals: usize,
    scientific: bool,
}

impl Notation {
    /// Scientific when a finite nonzero value is below `10⁻⁴` or at least `10⁸` in magnitude,
    /// or the largest is more than `1000` times the smallest.
    fn for_values(values: &[f64], decimals: usize) -> Notation {
        let magnitudes = values
            .iter()
            .map(|v| v.abs())
            .filter(|m| m.is_finite() && *m > 0.0);
        let (least, most) =
            magnitudes.fold((f64::INFINITY, 0.0f64), |(l, m), v| (l.min(v), m.max(v)));
        let scientific = most > 0.0 && (least < 1e-4 || most >= 1e8 || most / least > 1e3);
        Notation {
            decimals,
            scientific,
        }
    }

    fn write(self, f: &mut fmt::Formatter<'_>, value: f64) -> fmt::Result {
        let decimals = self.decimals;
        match self.scientific {
            true => write!(f, "{value:.decimals$e}"),
            false => write!(f, "{value:.decimals$}"),
        }
    }
}

/// `values` (row-major, of `shape`) in nested brackets; an axis marked `elided` holds only its
/// first and last `EDGE` entries, written with `...` between them.
fn write_nested(
    f: &mut fmt::Formatter<'_>,
    values: &[f64],
    shape: &[usize],
    elided: &[bool],
    notation: Notation,
) -> fmt::Result {
    let Some((&len, inner_shape)) = shape.split_first() else {
        return notation.write(f, values[0]);
    };
    let inner: usize = inner_shape.iter().product();
    let shown: Vec<Option<usize>> = match elided[0] {
        true => (0..EDGE)
            .map(Some)
            .chain([None])
            .chain((EDGE..len).map(Some))
            .collect(),
        false => (0..len).map(Some).collect(),
    };
    let depth = elided.len() - shape.len();
    f.write_str("[")?;
    for (k, entry) in shown.iter().enumerate() {
        if k > 0 {
            if inner_shape.is_empty() {
                f.write_str(", ")?;
            } else {
                write!(f, ",\n{:width$}", "", width = depth + 8)?;
            }
        }
        match entry {
            Some(i) => write_nested(
                f,
                &values[i * inner..(i + 1) * inner],
                inner_shape,
                &elided[1..],
                notation,
            )?,
            None => f.write_str("...")?,
        }
    }
    f.write_str("]")
}

/// The entries a summary shows: each axis longer than [`SUMMARIZE_ABOVE`] cut to its first and
/// last [`EDGE`] (so a large tensor, or a broadcast view of terabytes, is read in a few values),
/// and which axes were cut.
fn summary(t: &Tensor) -> crate::Result<(Tensor, Vec<bool>)> {
    let mut shown = t.clone();
    let mut elided = Vec::with_capacity(t.rank());
    for (axis, &len) in t.shape().iter().enumerate() {
        let cut = len > SUMMARIZE_ABOVE;
        if cut {
            let ends = [
                shown.narrow(axis, 0, EDGE)?,
                shown.narrow(axis, len - EDGE, EDGE)?,
            ];
            shown = Tensor::concat(&ends, axis)?;
        }
        elided.push(cut);
    }
    Ok((shown, elided))
}

/// Values with 4 decimals, or the precision asked for (`{:.8}`), in scientific notation where
/// they span orders of magnitude (a finite nonzero value below `10⁻⁴` or at least `10⁸` in
/// magnitude, or the largest more than `1000` times the smallest).
impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tensor(")?;
        let decimals = f.precision().unwrap_or(4);
        let read = summary(self)
            .and_then(|(shown, elided)| Ok((shown.to_vec_f64()?, shown.shape().to_vec(), elided)));
        match read {
            Ok((values, shape, elided)) if self.numel() > 0 => {
                let notation = Notation::for_values(&values, decimals);
                write_nested(f, &values, &shape, &elided, notation)?
            }
            Ok(_) => f.write_str("[]")?,
            Err(e) => write!(f, "<unreadable: {e}>")?,
        }
        write!(
            f,
            ", shape={:?}, dtype={}, device={})",
            self.shape(),
            self.dtype(),
            self.device()
        )
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
