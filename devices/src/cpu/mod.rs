//! The CPU backend: host memory, `rayon` threads above a size threshold, `gemm` micro-kernels
//! chosen at run time from the CPU's features.

mod buffer;
mod index;
mod isa;
mod layer_norm;
mod map;
mod matmul;
mod optim;
mod parallel;
mod reduce;
mod softmax;

pub use buffer::CpuBuffer;
pub use parallel::on_compute_thread;

use crate::backend::{AdamWStep, LayerNormGrads, LayerNormOutput};
use crate::ops::{ArgKind, BinaryOp, Identity, ReduceOp, UnaryOp};
use crate::{Backend, Element, Layout, Result};

/// The CPU device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cpu;

impl Backend for Cpu {
    type Buffer<T: Element> = CpuBuffer<T>;
    type Indices = Vec<u32>;

    fn len<T: Element>(buffer: &CpuBuffer<T>) -> usize {
        buffer.len()
    }

    fn indices_from_host(&self, indices: &[u32]) -> Result<Vec<u32>> {
        Ok(indices.to_vec())
    }

    fn from_host<T: Element>(&self, data: &[T]) -> Result<CpuBuffer<T>> {
        let mut buffer = CpuBuffer::for_overwrite(data.len());
        buffer.copy_from_slice(data);
        Ok(buffer)
    }

    fn to_host<T: Element>(&self, x: &CpuBuffer<T>, layout: &Layout) -> Result<Vec<T>> {
        match layout.contiguous_range() {
            Some(range) => Ok(x[range].to_vec()),
            None => Ok(map::unary::<T, Identity>(x, layout)?.into_vec()),
        }
    }

    fn full<T: Element>(&self, len: usize, value: T) -> Result<CpuBuffer<T>> {
        CpuBuffer::try_filled("full", len, value)
    }

    fn unary<T: Element, Op: UnaryOp>(
        &self,
        x: &CpuBuffer<T>,
        layout: &Layout,
    ) -> Result<CpuBuffer<T>> {
        map::unary::<T, Op>(x, layout)
    }

    fn binary<T: Element, Op: BinaryOp>(
        &self,
        a: &CpuBuffer<T>,
        a_layout: &Layout,
        b: &CpuBuffer<T>,
        b_layout: &Layout,
    ) -> Result<CpuBuffer<T>> {
        map::binary::<T, Op>(a, a_layout, b, b_layout)
    }

    fn binary_scalar<T: Element, Op: BinaryOp>(
        &self,
        x: &CpuBuffer<T>,
        layout: &Layout,
        value: T,
    ) -> Result<CpuBuffer<T>> {
        map::binary_scalar::<T, Op>(x, layout, value)
    }

    fn reduce<T: Element, Op: ReduceOp>(
        &self,
        x: &CpuBuffer<T>,
        layout: &Layout,
        axes: &[usize],
    ) -> Result<CpuBuffer<T>> {
        reduce::reduce::<T, Op>(x, layout, axes)
    }

    fn arg_reduce<T: Element>(
        &self,
        x: &CpuBuffer<T>,
        layout: &Layout,
        axis: usize,
        kind: ArgKind,
    ) -> Result<CpuBuffer<T>> {
        reduce::arg_reduce(x, layout, axis, kind)
    }

    fn matmul<T: Element>(
        &self,
        a: &CpuBuffer<T>,
        a_layout: &Layout,
        b: &CpuBuffer<T>,
        b_layout: &Layout,
    ) -> Result<CpuBuffer<T>> {
        matmul::matmul(a, a_layout, b, b_layout)
    }

    fn copy_into<T: Element>(
        &self,
        src: &CpuBuffer<T>,
        src_layout: &Layout,
        dst: &mut CpuBuffer<T>,
        dst_layout: &Layout,
    ) -> Result<()> {
        map::combine_into(src, src_layout, dst, dst_layout, |_, s| s);
        Ok(())
    }

    fn index_select<T: Element>(
        &self,
        x: &CpuBuffer<T>,
        layout: &Layout,
        axis: usize,
        indices: &Vec<u32>,
        count: usize,
    ) -> Result<CpuBuffer<T>> {
        debug_assert_eq!(indices.len(), count);
        index::index_select(x, layout, axis, indices)
    }

    fn index_add<T: Element>(
        &self,
        dst: &mut CpuBuffer<T>,
        dst_shape: &[usize],
        axis: usize,
        indices: &Vec<u32>,
        src: &CpuBuffer<T>,
        src_layout: &Layout,
    ) -> Result<()> {
        index::index_add(dst, dst_shape, axis, indices, src, src_layout)
    }

    fn gather<T: Element>(
        &self,
        x: &CpuBuffer<T>,
        layout: &Layout,
        axis: usize,
        index: &Vec<u32>,
        count: usize,
    ) -> Result<CpuBuffer<T>> {
        index::gather(x, layout, axis, index, count)
    }

    fn scatter_add<T: Element>(
        &self,
        dst: &mut CpuBuffer<T>,
        dst_layout: &Layout,
        axis: usize,
        index: &Vec<u32>,
        src: &CpuBuffer<T>,
        src_layout: &Layout,
    ) -> Result<()> {
        index::scatter_add(dst, dst_layout, axis, index, src, src_layout)
    }

    fn softmax_last<T: Element>(
        &self,
        x: &CpuBuffer<T>,
        rows: usize,
        n: usize,
        scale: f64,
        log: bool,
    ) -> Result<CpuBuffer<T>> {
        Ok(softmax::softmax_last(&x[..rows * n], n, scale, log))
    }

    fn softmax_last_backward<T: Element>(
        &self,
        y: &CpuBuffer<T>,
        g: &CpuBuffer<T>,
        rows: usize,
        n: usize,
        scale: f64,
        log: bool,
    ) -> Result<CpuBuffer<T>> {
        let len = rows * n;
        Ok(softmax::softmax_last_backward(
            &y[..len],
            &g[..len],
            n,
            scale,
            log,
        ))
    }

    fn add_scaled<T: Element>(
        &self,
        a: &CpuBuffer<T>,
        b: &CpuBuffer<T>,
        len: usize,
        alpha: T,
    ) -> Result<CpuBuffer<T>> {
        Ok(optim::add_scaled(a, b, len, alpha))
    }

    fn adamw_update<T: Element>(
        &self,
        p: &CpuBuffer<T>,
        g: &CpuBuffer<T>,
        moments: Option<[&CpuBuffer<T>; 2]>,
        len: usize,
        step: &AdamWStep,
    ) -> Result<[CpuBuffer<T>; 3]> {
        Ok(optim::adamw_update(p, g, moments, len, step))
    }

    fn layer_norm<T: Element>(
        &self,
        x: &CpuBuffer<T>,
        gamma: &CpuBuffer<T>,
        beta: &CpuBuffer<T>,
        rows: usize,
        d: usize,
        eps: f64,
    ) -> Result<LayerNormOutput<CpuBuffer<T>>> {
        layer_norm::layer_norm(x, gamma, beta, rows, d, eps)
    }

    fn layer_norm_backward<T: Element>(
        &self,
        dy: &CpuBuffer<T>,
        x: &CpuBuffer<T>,
        mean: &CpuBuffer<T>,
        rstd: &CpuBuffer<T>,
        gamma: &CpuBuffer<T>,
        rows: usize,
        d: usize,
    ) -> Result<LayerNormGrads<CpuBuffer<T>>> {
        Ok(layer_norm::layer_norm_backward(
            dy, x, mean, rstd, gamma, rows, d,
        ))
    }
}
