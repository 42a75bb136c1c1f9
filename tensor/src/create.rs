//! Creating tensors: constants, ranges, host data and seeded random numbers.

use crate::{Rng, Tensor};
use devices::{checked_numel, DType, Device, Error, Result, Storage, TypedElement};
use rand::Rng as _;
use rand_distr::{Distribution, StandardNormal};

impl Tensor {
    /// A tensor of `shape` holding `data` (row-major) on `device`.
    pub fn from_vec_on<T: TypedElement>(
        data: Vec<T>,
        shape: &[usize],
        device: &Device,
    ) -> Result<Tensor> {
        let expected = checked_numel("from_vec", shape)?;
        if data.len() != expected {
            return Err(Error::shape(
                "from_vec",
                format!(
                    "{} values cannot fill shape {:?} ({} elements)",
                    data.len(),
                    shape,
                    expected
                ),
            ));
        }
        Ok(Tensor::from_storage(
            Storage::from_host(device, &data)?,
            shape,
        ))
    }

    /// A CPU tensor of `shape` holding `data` (row-major).
    pub fn from_vec<T: TypedElement>(data: Vec<T>, shape: &[usize]) -> Result<Tensor> {
        Tensor::from_vec_on(data, shape, &Device::Cpu)
    }

    /// A tensor of `shape` on `device` holding `data` converted to `dtype` (one upload).
    pub fn from_f64s_on(
        data: &[f64],
        shape: &[usize],
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor> {
        match dtype {
            DType::F64 => Tensor::from_vec_on(data.to_vec(), shape, device),
            DType::F32 => {
                Tensor::from_vec_on(data.iter().map(|&v| v as f32).collect(), shape, device)
            }
        }
    }

    /// A CPU tensor of `shape` holding `data` converted to `dtype`.
    pub fn from_f64s(data: &[f64], shape: &[usize], dtype: DType) -> Result<Tensor> {
        Tensor::from_f64s_on(data, shape, dtype, &Device::Cpu)
    }

    /// A tensor of `shape` filled with `value` on `device` (filled there: nothing is uploaded).
    pub fn full_on(shape: &[usize], value: f64, dtype: DType, device: &Device) -> Result<Tensor> {
        let len = checked_numel("full", shape)?;
        Ok(Tensor::from_storage(
            Storage::full(device, dtype, len, value)?,
            shape,
        ))
    }

    /// A CPU tensor of `shape` filled with `value`.
    ///
    /// # Panics
    /// When the shape has more elements than `usize` can count; [`Tensor::full_on`] returns an
    /// error instead.
    pub fn full(shape: &[usize], value: f64, dtype: DType) -> Tensor {
        Tensor::full_on(shape, value, dtype, &Device::Cpu).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A tensor of zeros on `device`.
    pub fn zeros_on(shape: &[usize], dtype: DType, device: &Device) -> Result<Tensor> {
        Tensor::full_on(shape, 0.0, dtype, device)
    }

    /// A tensor of ones on `device`.
    pub fn ones_on(shape: &[usize], dtype: DType, device: &Device) -> Result<Tensor> {
        Tensor::full_on(shape, 1.0, dtype, device)
    }

    /// A CPU tensor of zeros (panics like [`Tensor::full`]).
    pub fn zeros(shape: &[usize], dtype: DType) -> Tensor {
        Tensor::full(shape, 0.0, dtype)
    }

    /// A CPU tensor of ones (panics like [`Tensor::full`]).
    pub fn ones(shape: &[usize], dtype: DType) -> Tensor {
        Tensor::full(shape, 1.0, dtype)
    }

    /// A tensor of zeros with the shape, dtype and device of `self`.
    pub fn zeros_like(&self) -> Result<Tensor> {
        Tensor::full_on(self.shape(), 0.0, self.dtype(), &self.device())
    }

    /// A tensor of ones with the shape, dtype and device of `self`.
    pub fn ones_like(&self) -> Result<Tensor> {
        Tensor::full_on(self.shape(), 1.0, self.dtype(), &self.device())
    }

    /// A 0-dimensional CPU tensor holding `value`.
    pub fn scalar(value: f64, dtype: DType) -> Tensor {
        Tensor::full(&[], value, dtype)
    }

    /// A scalar with the dtype and device of `self` (for mixing constants into expressions).
    pub fn scalar_like(&self, value: f64) -> Result<Tensor> {
        Tensor::full_on(&[], value, self.dtype(), &self.device())
    }

    /// The 1-D CPU tensor `[start, start + step, ...]` of values below `end` (above, if `step < 0`).
    pub fn arange(start: f64, end: f64, step: f64, dtype: DType) -> Result<Tensor> {
        Tensor::arange_on(start, end, step, dtype, &Device::Cpu)
    }

    /// [`Tensor::arange`] on `device`.
    pub fn arange_on(
        start: f64,
        end: f64,
        step: f64,
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor> {
        if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
            return Err(Error::shape(
                "arange",
                format!("invalid range {start}..{end} with step {step}"),
            ));
        }
        let count = ((end - start) / step).ceil().max(0.0) as usize;
        let values: Vec<f64> = (0..count).map(|i| start + i as f64 * step).collect();
        Tensor::from_f64s_on(&values, &[count], dtype, device)
    }

    /// A CPU tensor of independent uniform samples from `[low, high)` (panics like
    /// [`Tensor::full`]).
    pub fn rand(shape: &[usize], low: f64, high: f64, dtype: DType, rng: &mut Rng) -> Tensor {
        Tensor::rand_on(shape, low, high, dtype, &Device::Cpu, rng)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Independent uniform samples from `[low, high)`, drawn on the host from the seeded `rng`
    /// (so every device sees the same numbers) and uploaded to `device` once.
    pub fn rand_on(
        shape: &[usize],
        low: f64,
        high: f64,
        dtype: DType,
        device: &Device,
        rng: &mut Rng,
    ) -> Result<Tensor> {
        let len = checked_numel("rand", shape)?;
        let values: Vec<f64> = (0..len)
            .map(|_| rng.gen_range(0.0..1.0) * (high - low) + low)
            .collect();
        Tensor::from_f64s_on(&values, shape, dtype, device)
    }

    /// A CPU tensor of independent normal samples with the given mean and standard deviation
    /// (panics like [`Tensor::full`]).
    pub fn randn(shape: &[usize], mean: f64, std: f64, dtype: DType, rng: &mut Rng) -> Tensor {
        Tensor::randn_on(shape, mean, std, dtype, &Device::Cpu, rng)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Independent normal samples, drawn on the host like [`Tensor::rand_on`] and uploaded once.
    pub fn randn_on(
        shape: &[usize],
        mean: f64,
        std: f64,
        dtype: DType,
        device: &Device,
        rng: &mut Rng,
    ) -> Result<Tensor> {
        let len = checked_numel("randn", shape)?;
        let values: Vec<f64> = (0..len)
            .map(|_| {
                mean + std * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, rng)
            })
            .collect();
        Tensor::from_f64s_on(&values, shape, dtype, device)
    }
}
