//! `Layout`: how a flat buffer is read as an n-dimensional array.
//!
//! Element `[i0, i1, ...]` lives at `offset + Σ ik·strides[k]` (strides in elements). A stride of 0
//! repeats one element along that axis: that is how broadcasting works without copying. Transpose,
//! permute, narrow and broadcast only change the layout; they never touch the numbers.

use crate::{Error, Result};
use std::ops::Range;

/// Shape, strides (in elements) and starting offset of a view into a buffer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    shape: Vec<usize>,
    strides: Vec<usize>,
    offset: usize,
}

/// Row-major (C order) strides of a dense array of `shape`. The products saturate: only a shape
/// with a zero elsewhere can pass usize (`[0, 2⁴⁰, 2⁴⁰]`), and its strides are never stepped.
pub fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![0; shape.len()];
    let mut step = 1usize;
    for (stride, &dim) in strides.iter_mut().zip(shape).rev() {
        *stride = step;
        step = step.saturating_mul(dim);
    }
    strides
}

/// The number of elements of `shape`, or an error naming `op` and the shape when it does not fit
/// in `usize`. An empty shape must fit too, its empty axis left out: an op that removes that axis
/// (a sum over it) would otherwise make a shape whose count wraps.
pub fn checked_numel(op: &'static str, shape: &[usize]) -> Result<usize> {
    match nonzero_product(shape) {
        Some(_) if shape.contains(&0) => Ok(0),
        Some(numel) => Ok(numel),
        None => Err(Error::shape(
            op,
            format!("shape {} has too many elements", shape_str(shape)),
        )),
    }
}

/// The product of the sizes of `shape` other than 0, or `None` when it overflows `usize`.
fn nonzero_product(shape: &[usize]) -> Option<usize> {
    shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(1usize, |n, &d| n.checked_mul(d))
}

/// Writes a shape the way error messages show it: `[2, 3]`.
pub fn shape_str(shape: &[usize]) -> String {
    format!("{shape:?}")
}

impl Layout {
    /// A dense row-major layout of `shape` starting at offset 0.
    pub fn contiguous(shape: &[usize]) -> Self {
        Layout {
            shape: shape.to_vec(),
            strides: contiguous_strides(shape),
            offset: 0,
        }
    }

    /// A layout from its parts; `shape` and `strides` must have the same length.
    pub fn new(shape: Vec<usize>, strides: Vec<usize>, offset: usize) -> Result<Self> {
        if shape.len() != strides.len() {
            return Err(Error::shape(
                "layout",
                format!(
                    "shape {} and strides {strides:?} differ in rank",
                    shape_str(&shape)
                ),
            ));
        }
        Ok(Layout {
            shape,
            strides,
            offset,
        })
    }

    /// The size of each axis, outermost first (empty for a scalar).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// How many buffer elements one step along each axis moves (0 on a broadcast axis), one per
    /// axis of [`Layout::shape`].
    pub fn strides(&self) -> &[usize] {
        &self.strides
    }

    /// The stride a kernel steps `axis` by: 0 on an axis of one entry, whose stride is never
    /// multiplied by a nonzero index and may be anything (after a reshape or an unsqueeze), so
    /// that it cannot overflow a kernel's narrower index type.
    pub fn walk_stride(&self, axis: usize) -> usize {
        if self.shape[axis] > 1 {
            self.strides[axis]
        } else {
            0
        }
    }

    /// The buffer index, in elements, of the element at index `[0, 0, ...]`.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The number of axes (0 for a scalar).
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements (1 for a scalar, 0 if any dimension is 0, whatever the others).
    pub fn numel(&self) -> usize {
        if self.shape.contains(&0) {
            return 0;
        }
        self.shape.iter().product()
    }

    /// True when the elements are dense and in row-major order (size-1 axes may have any stride).
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1;
        for (&dim, &stride) in self.shape.iter().zip(&self.strides).rev() {
            if dim != 1 && stride != expected {
                return false;
            }
            expected = expected.saturating_mul(dim);
        }
        true
    }

    /// The buffer range holding the elements, when the layout is contiguous.
    /// (An empty layout holds none, whatever its offset: `0..0`.)
    pub fn contiguous_range(&self) -> Option<Range<usize>> {
        if self.numel() == 0 {
            return Some(0..0);
        }
        self.is_contiguous()
            .then(|| self.offset..self.offset + self.numel())
    }

    /// One past the largest buffer index this layout can touch (0 when empty: it touches none),
    /// or `None` when the element count (of the sizes other than 0, as [`checked_numel`]) or
    /// that index does not fit in `usize`.
    pub fn end(&self) -> Option<usize> {
        nonzero_product(&self.shape)?;
        if self.shape.contains(&0) {
            return Some(0);
        }
        self.shape
            .iter()
            .zip(&self.strides)
            .try_fold(self.offset, |end, (&d, &s)| {
                end.checked_add((d - 1).checked_mul(s)?)
            })?
            .checked_add(1)
    }

    /// Checks that every element this layout can touch lies in a buffer of `len` elements.
    pub fn check_within(&self, op: &'static str, len: usize) -> Result<()> {
        match self.end() {
            Some(end) if end <= len => Ok(()),
            Some(end) => Err(Error::shape(
                op,
                format!(
                    "layout {} with strides {:?} and offset {} reaches element {}, but the buffer \
                     holds {len}",
                    shape_str(&self.shape),
                    self.strides,
                    self.offset,
                    end - 1
                ),
            )),
            None => Err(Error::shape(
                op,
                format!(
                    "layout {} with strides {:?} and offset {} overflows the address space",
                    shape_str(&self.shape),
                    self.strides,
                    self.offset
                ),
            )),
        }
    }

    /// True when no two positions of the layout name the same element (so it can be written
    /// through). Sufficient test: sorted by stride, each axis steps past everything the smaller
    /// axes span.
    pub fn is_non_overlapping(&self) -> bool {
        let mut axes: Vec<(usize, usize)> = self
            .shape
            .iter()
            .zip(&self.strides)
            .filter(|(&d, _)| d > 1)
            .map(|(&d, &s)| (s, d))
            .collect();
        if self.shape.contains(&0) {
            return true;
        }
        axes.sort_unstable();
        let mut span = 0usize;
        for (stride, dim) in axes {
            if stride <= span {
                return false;
            }
            span = match (dim - 1)
                .checked_mul(stride)
                .and_then(|e| e.checked_add(span))
            {
                Some(s) => s,
                None => return false,
            };
        }
        true
    }

    /// The layout of the first `axes` axes alone, at the same offset (e.g. the batch axes of a
    /// batch of matrices).
    pub fn leading(&self, axes: usize) -> Layout {
        Layout {
            shape: self.shape[..axes].to_vec(),
            strides: self.strides[..axes].to_vec(),
            offset: self.offset,
        }
    }

    /// Splits a reduction over `axes` into two layouts of full rank: `kept` (the reduced axes set
    /// to size 1, at this offset) walks the outputs, `reduced` (the other axes set to size 1, at
    /// offset 0) walks the elements folded into one output, relative to that output's start.
    pub fn split_reduced(&self, axes: &[usize]) -> (Layout, Layout) {
        let size = |keep: bool| -> Vec<usize> {
            (0..self.rank())
                .map(|a| {
                    if axes.contains(&a) != keep {
                        self.shape[a]
                    } else {
                        1
                    }
                })
                .collect()
        };
        let kept = Layout {
            shape: size(true),
            strides: self.strides.clone(),
            offset: self.offset,
        };
        let reduced = Layout {
            shape: size(false),
            strides: self.strides.clone(),
            offset: 0,
        };
        (kept, reduced)
    }

    /// Checks that `axis` is valid for this rank.
    pub fn check_axis(&self, op: &'static str, axis: usize) -> Result<()> {
        if axis >= self.rank() {
            return Err(Error::shape(
                op,
                format!(
                    "axis {axis} is out of range for shape {}",
                    shape_str(&self.shape)
                ),
            ));
        }
        Ok(())
    }

    /// Reorders the axes: result axis `k` is input axis `axes[k]`.
    pub fn permute(&self, axes: &[usize]) -> Result<Layout> {
        let mut seen = vec![false; self.rank()];
        let valid = axes.len() == self.rank()
            && axes
                .iter()
                .all(|&a| a < self.rank() && !std::mem::replace(&mut seen[a], true));
        if !valid {
            return Err(Error::shape(
                "permute",
                format!(
                    "{axes:?} is not a permutation of the axes of {}",
                    shape_str(&self.shape)
                ),
            ));
        }
        Ok(Layout {
            shape: axes.iter().map(|&a| self.shape[a]).collect(),
            strides: axes.iter().map(|&a| self.strides[a]).collect(),
            offset: self.offset,
        })
    }

    /// Swaps two axes.
    pub fn transpose(&self, a: usize, b: usize) -> Result<Layout> {
        self.check_axis("transpose", a)?;
        self.check_axis("transpose", b)?;
        let mut out = self.clone();
        out.shape.swap(a, b);
        out.strides.swap(a, b);
        Ok(out)
    }

    /// Keeps `len` entries of `axis` starting at `start`.
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Result<Layout> {
        self.check_axis("narrow", axis)?;
        if start
            .checked_add(len)
            .is_none_or(|end| end > self.shape[axis])
        {
            return Err(Error::shape(
                "narrow",
                format!(
                    "range {start}..{} is out of bounds for axis {axis} of {}",
                    start.saturating_add(len),
                    shape_str(&self.shape)
                ),
            ));
        }
        let mut out = self.clone();
        out.shape[axis] = len;
        if len > 0 {
            out.offset += start * self.strides[axis];
        }
        Ok(out)
    }

    /// This layout without `axis`, and that axis's stride (0 when the axis has at most one entry,
    /// whose stride is never used and may be arbitrary): the view of the "columns" an index
    /// along `axis` picks from.
    pub fn without_axis(&self, axis: usize) -> Result<(Layout, usize)> {
        self.check_axis("without_axis", axis)?;
        let mut shape = self.shape.clone();
        let mut strides = self.strides.clone();
        shape.remove(axis);
        strides.remove(axis);
        let rest = Layout::new(shape, strides, self.offset)?;
        Ok((rest, self.walk_stride(axis)))
    }

    /// Views this layout as `shape` by NumPy broadcasting: size-1 axes (and missing leading axes)
    /// get stride 0.
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Layout> {
        let fail = || {
            Error::shape(
                "broadcast_to",
                format!(
                    "cannot broadcast {} to {}",
                    shape_str(&self.shape),
                    shape_str(shape)
                ),
            )
        };
        if shape.len() < self.rank() {
            return Err(fail());
        }
        // A broadcast view holds no more memory, but its element count must still be a `usize`.
        checked_numel("broadcast_to", shape)?;
        let lead = shape.len() - self.rank();
        let mut strides = vec![0; shape.len()];
        for (k, &dim) in self.shape.iter().enumerate() {
            let target = shape[lead + k];
            if dim == target {
                strides[lead + k] = self.strides[k];
            } else if dim != 1 {
                return Err(fail());
            }
        }
        Ok(Layout {
            shape: shape.to_vec(),
            strides,
            offset: self.offset,
        })
    }

    /// The same elements seen with a new shape of equal size, without copying; `None` unless the
    /// layout is contiguous (then the caller must copy first), even where other strides could
    /// express the new shape (PyTorch's `view` finds those; this keeps the rule simple).
    pub fn reshape(&self, shape: &[usize]) -> Option<Layout> {
        if checked_numel("reshape", shape).ok() != Some(self.numel()) {
            return None;
        }
        if self.is_contiguous() {
            return Some(Layout {
                shape: shape.to_vec(),
                strides: contiguous_strides(shape),
                offset: self.offset,
            });
        }
        None
    }

    /// Removes axis `axis`, which must have size 1.
    pub fn squeeze(&self, axis: usize) -> Result<Layout> {
        self.check_axis("squeeze", axis)?;
        if self.shape[axis] != 1 {
            return Err(Error::shape(
                "squeeze",
                format!(
                    "axis {axis} of {} has size {}, not 1",
                    shape_str(&self.shape),
                    self.shape[axis]
                ),
            ));
        }
        let mut out = self.clone();
        out.shape.remove(axis);
        out.strides.remove(axis);
        Ok(out)
    }

    /// Inserts a size-1 axis at position `axis` (0..=rank).
    pub fn unsqueeze(&self, axis: usize) -> Result<Layout> {
        if axis > self.rank() {
            return Err(Error::shape(
                "unsqueeze",
                format!(
                    "position {axis} is out of range for shape {}",
                    shape_str(&self.shape)
                ),
            ));
        }
        let mut out = self.clone();
        out.shape.insert(axis, 1);
        out.strides.insert(axis, 0);
        Ok(out)
    }
}

/// The NumPy broadcast of two shapes: align on the right; sizes must agree or one must be 1.
pub fn broadcast_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let dim = |s: &[usize], k: usize| {
        if k + s.len() >= rank {
            s[k + s.len() - rank]
        } else {
            1
        }
    };
    (0..rank)
        .map(|k| match (dim(a, k), dim(b, k)) {
            (x, y) if x == y || y == 1 => Ok(x),
            (1, y) => Ok(y),
            (x, y) => Err(Error::shape(
                op,
                format!(
                    "shapes {} and {} do not broadcast (axis {k}: {x} vs {y})",
                    shape_str(a),
                    shape_str(b)
                ),
            )),
        })
        .collect()
}

/// `K` same-shaped layouts walked together in row-major order, with adjacent axes merged wherever
/// every operand allows it, so the innermost loop is as long as possible.
#[derive(Clone, Debug)]
pub struct Walk<const K: usize> {
    shape: Vec<usize>,
    strides: Vec<[usize; K]>,
    starts: [usize; K],
}

impl<const K: usize> Walk<K> {
    /// Prepares a walk over `layouts`, which must all have the same shape.
    pub fn new(layouts: [&Layout; K]) -> Self {
        let full_shape = layouts[0].shape();
        debug_assert!(layouts.iter().all(|l| l.shape() == full_shape));
        let mut shape: Vec<usize> = Vec::new();
        let mut strides: Vec<[usize; K]> = Vec::new();
        for (axis, &dim) in full_shape.iter().enumerate() {
            if dim == 1 {
                continue;
            }
            let s: [usize; K] = std::array::from_fn(|k| layouts[k].strides()[axis]);
            if let (Some(last_dim), Some(last_s)) = (shape.last_mut(), strides.last_mut()) {
                if (0..K).all(|k| last_s[k] == s[k] * dim) {
                    *last_dim *= dim;
                    *last_s = s;
                    continue;
                }
            }
            shape.push(dim);
            strides.push(s);
        }
        if full_shape.contains(&0) {
            shape = vec![0];
            strides = vec![[0; K]];
        }
        if shape.is_empty() {
            shape.push(1);
            strides.push([0; K]);
        }
        Walk {
            shape,
            strides,
            starts: std::array::from_fn(|k| layouts[k].offset()),
        }
    }

    /// The number of elements walked: that of the layouts' shape (0 when an axis is empty).
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The sizes of the merged axes (at least one; none of size 1 unless it is the only one).
    pub fn dims(&self) -> &[usize] {
        &self.shape
    }

    /// The strides of each merged axis, one per operand.
    pub fn axis_strides(&self) -> &[[usize; K]] {
        &self.strides
    }

    /// The buffer index of each operand's first element.
    pub fn starts(&self) -> [usize; K] {
        self.starts
    }

    /// Strides of the innermost (merged) axis, one per operand.
    pub fn inner_strides(&self) -> [usize; K] {
        *self.strides.last().expect("a walk has at least one axis")
    }

    /// Visits the flat row-major positions in `range` as runs along the innermost axis:
    /// `f(position, run_length, operand_offsets)`; element `i` of a run is at
    /// `operand_offsets[k] + i * inner_strides()[k]` in operand `k`.
    pub fn runs(&self, range: Range<usize>, mut f: impl FnMut(usize, usize, [usize; K])) {
        if range.is_empty() {
            return;
        }
        let rank = self.shape.len();
        let inner_len = self.shape[rank - 1];
        let inner = self.inner_strides();
        // Multi-index of range.start, on the stack for the usual ranks: reductions call `runs`
        // once per output element, so a heap allocation here would be one per element.
        let mut inline = [0usize; 8];
        let mut heap = Vec::new();
        let index: &mut [usize] = if rank <= inline.len() {
            &mut inline[..rank]
        } else {
            heap.resize(rank, 0);
            &mut heap
        };
        let mut rest = range.start;
        for axis in (0..rank).rev() {
            index[axis] = rest % self.shape[axis];
            rest /= self.shape[axis];
        }
        let mut row: [usize; K] = std::array::from_fn(|k| {
            self.starts[k]
                + (0..rank - 1)
                    .map(|a| index[a] * self.strides[a][k])
                    .sum::<usize>()
        });
        let mut pos = range.start;
        let mut within = index[rank - 1];
        while pos < range.end {
            let len = (inner_len - within).min(range.end - pos);
            f(
                pos,
                len,
                std::array::from_fn(|k| row[k] + within * inner[k]),
            );
            pos += len;
            within = 0;
            // Advance the odometer of the outer axes by one row.
            for axis in (0..rank - 1).rev() {
                index[axis] += 1;
                for (r, s) in row.iter_mut().zip(&self.strides[axis]) {
                    *r += s;
                }
                if index[axis] < self.shape[axis] {
                    break;
                }
                for (r, s) in row.iter_mut().zip(&self.strides[axis]) {
                    *r -= s * self.shape[axis];
                }
                index[axis] = 0;
            }
        }
    }
}
