//! A readable `Display`, PyTorch style: nested brackets, long axes elided with `...`.

use crate::Tensor;
use std::fmt;

/// Axes longer than this show their first and last `EDGE` entries only.
const SUMMARIZE_ABOVE: usize = 10;
const EDGE: usize = 3;

/// `values` (row-major, of `shape`) in nested brackets; an axis marked `elided` holds only its
/// first and last `EDGE` entries, written with `...` between them. Each value is written with
/// `decimals` decimals.
fn write_nested(
    f: &mut fmt::Formatter<'_>,
    values: &[f64],
    shape: &[usize],
    elided: &[bool],
    decimals: usize,
) -> fmt::Result {
    let Some((&len, inner_shape)) = shape.split_first() else {
        return write!(f, "{:.decimals$}", values[0]);
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
                decimals,
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

/// Values with 4 decimals, or the precision asked for (`{:.8}`).
impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tensor(")?;
        let decimals = f.precision().unwrap_or(4);
        let read = summary(self)
            .and_then(|(shown, elided)| Ok((shown.to_vec_f64()?, shown.shape().to_vec(), elided)));
        match read {
            Ok((values, shape, elided)) if self.numel() > 0 => {
                write_nested(f, &values, &shape, &elided, decimals)?
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
