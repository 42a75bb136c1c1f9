//! Creating tensors: constants, ranges, host data and seeded random numbers.

use crate::{Rng, Tensor};
use devices::{DType, Device, Error, Result, Storage, TypedElement};
use rand::Rng as _;
use rand_distr::{Distribution, StandardNormal};

impl Tensor {
    /// A tensor of `shape` holding `data` (row-major) on `device`.
    pub fn from_vec_on<T: TypedElement>(
        data: Vec<T>,
        shape: &[usize],
        device: &Device,
    ) -> Result<Tensor> {
        let expected: usize = shape.iter().product();
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

    /// A CPU tensor of `shape` holding `data` converted to `dtype`.
    pub fn from_f64s(data: &[f64], shape: &[usize], dtype: DType) -> Result<Tensor> {
        match dtype {
            DType::F64 => Tensor::from_vec(data.to_vec(), shape),
            DType::F32 => Tensor::from_vec(data.iter().map(|&v| v as f32).collect(), shape),
        }
    }

    /// A tensor of `shape` filled with `value` on `device`.
    pub fn full_on(shape: &[usize], value: f64, dtype: DType, device: &Device) -> Result<Tensor> {
        let len = shape.iter().product();
        Ok(Tensor::from_storage(
            Storage::full(device, dtype, len, value)?,
            shape,
        ))
    }

    /// A CPU tensor of `shape` filled with `value`.
    pub fn full(shape: &[usize], value: f64, dtype: DType) -> Tensor {
        Tensor::full_on(shape, value, dtype, &Device::Cpu)
            .expect("filling a CPU buffer cannot fail")
    }

    /// A CPU tensor of zeros.
    pub fn zeros(shape: &[usize], dtype: DType) -> Tensor {
        Tensor::full(shape, 0.0, dtype)
    }

    /// A CPU tensor of ones.
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
        if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
            return Err(Error::shape(
                "arange",
                format!("invalid range {start}..{end} with step {step}"),
            ));
        }
        let count = ((end - start) / step).ceil().max(0.0) as usize;
        let values: Vec<f64> = (0..count).map(|i| start + i as f64 * step).collect();
        Tensor::from_f64s(&values, &[count], dtype)
    }

    /// A CPU tensor of independent uniform samples from `[low, high)`.
    pub fn rand(shape: &[usize], low: f64, high: f64, dtype: DType, rng: &mut Rng) -> Tensor {
        let len: usize = shape.iter().product();
        let values: Vec<f64> = (0..len)
            .map(|_| rng.gen_range(0.0..1.0) * (high - low) + low)
            .collect();
        Tensor::from_f64s(&values, shape, dtype).expect("the length matches the shape")
    }

    /// A CPU tensor of independent normal samples with the given mean and standard deviation.
    pub fn randn(shape: &[usize], mean: f64, std: f64, dtype: DType, rng: &mut Rng) -> Tensor {
        let len: usize = shape.iter().product();
        let values: Vec<f64> = (0..len)
            .map(|_| {
                mean + std * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, rng)
            })
            .collect();
        Tensor::from_f64s(&values, shape, dtype).expect("the length matches the shape")
    }
}
