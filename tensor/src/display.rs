//! A readable `Display`, PyTorch style: nested brackets, long axes elided with `...`.

use crate::Tensor;
use std::fmt;

/// Axes longer than this show their first and last `EDGE` entries only.
const SUMMARIZE_ABOVE: usize = 10;
const EDGE: usize = 3;

fn write_nested(
    f: &mut fmt::Formatter<'_>,
    values: &[f64],
    shape: &[usize],
    depth: usize,
) -> fmt::Result {
    let Some((&len, inner_shape)) = shape.split_first() else {
        return write!(f, "{:.4}", values[0]);
    };
    let inner: usize = inner_shape.iter().product();
    let shown: Vec<Option<usize>> = if len > SUMMARIZE_ABOVE {
        (0..EDGE)
            .map(Some)
            .chain([None])
            .chain((len - EDGE..len).map(Some))
            .collect()
    } else {
        (0..len).map(Some).collect()
    };
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
                depth + 1,
            )?,
            None => f.write_str("...")?,
        }
    }
    f.write_str("]")
}

impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tensor(")?;
        match self.to_vec_f64() {
            Ok(values) if self.numel() > 0 => write_nested(f, &values, self.shape(), 0)?,
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
