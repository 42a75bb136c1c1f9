//! Creating tensors: constants, ranges, host data and seeded random numbers.

use crate::{Rng, Tensor};
use devices::{checked_numel, DType, Device, Error, Result, Storage, TypedElement};
use rand::Rng as _;
use rand_distr::{Distribution, StandardNormal};

impl Tensor {
    /// A tensor of `shape` holding `data` (row-major) on `device`.
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let x = Tensor::from_vec_on(vec![1.0f32, 2.0], &[2], &Device::Cpu)?;
    /// assert_eq!(x.device(), Device::Cpu);
    /// assert_eq!(x.dtype(), DType::F32); // the element type comes from the Vec
    /// # Ok::<(), tensor::Error>(())
    /// ```
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
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
    /// assert_eq!((x.shape(), x.dtype()), (&[2, 3][..], DType::F64));
    /// let err = Tensor::from_vec(vec![1.0f32; 5], &[2, 3]).unwrap_err();
    /// assert!(err.to_string().contains("5 values cannot fill shape [2, 3]"), "{err}");
    /// # Ok::<(), tensor::Error>(())
    /// ```
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
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let x = Tensor::from_f64s(&[0.5, 1.5], &[2], DType::F32)?;
    /// assert_eq!(x.to_vec::<f32>()?, [0.5f32, 1.5]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn from_f64s(data: &[f64], shape: &[usize], dtype: DType) -> Result<Tensor> {
        Tensor::from_f64s_on(data, shape, dtype, &Device::Cpu)
    }

    /// A tensor of `shape` filled with `value` on `device` (filled there: nothing is uploaded).
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let x = Tensor::full_on(&[3], 0.25, DType::F32, &Device::Cpu)?;
    /// assert_eq!(x.to_vec::<f32>()?, [0.25f32; 3]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
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
    /// When the shape has more elements than `usize` can count, or more than the host's memory
    /// can hold; [`Tensor::full_on`] returns these as errors instead.
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let x = Tensor::full(&[2, 2], 7.0, DType::F32);
    /// assert_eq!(x.to_vec_f64()?, [7.0; 4]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn full(shape: &[usize], value: f64, dtype: DType) -> Tensor {
        Tensor::full_on(shape, value, dtype, &Device::Cpu).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A tensor of zeros on `device`.
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let x = Tensor::zeros_on(&[2, 2], DType::F64, &Device::Cpu)?;
    /// assert_eq!(x.to_vec_f64()?, [0.0; 4]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn zeros_on(shape: &[usize], dtype: DType, device: &Device) -> Result<Tensor> {
        Tensor::full_on(shape, 0.0, dtype, device)
    }

    /// A tensor of ones on `device`.
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let x = Tensor::ones_on(&[2], DType::F32, &Device::Cpu)?;
    /// assert_eq!(x.to_vec::<f32>()?, [1.0f32; 2]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn ones_on(shape: &[usize], dtype: DType, device: &Device) -> Result<Tensor> {
        Tensor::full_on(shape, 1.0, dtype, device)
    }

    /// A CPU tensor of zeros (panics like [`Tensor::full`]).
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// assert_eq!(Tensor::zeros(&[3], DType::F64).to_vec_f64()?, [0.0; 3]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn zeros(shape: &[usize], dtype: DType) -> Tensor {
        Tensor::full(shape, 0.0, dtype)
    }

    /// A CPU tensor of ones (panics like [`Tensor::full`]).
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// assert_eq!(Tensor::ones(&[2, 1], DType::F64).to_vec_f64()?, [1.0; 2]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn ones(shape: &[usize], dtype: DType) -> Tensor {
        Tensor::full(shape, 1.0, dtype)
    }

    /// A tensor of zeros with the shape, dtype and device of `self`.
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let x = Tensor::full(&[2, 3], 5.0, DType::F32);
    /// let z = x.zeros_like()?;
    /// assert_eq!((z.shape(), z.dtype()), (x.shape(), DType::F32));
    /// assert_eq!(z.sum_all()?.to_scalar()?, 0.0);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn zeros_like(&self) -> Result<Tensor> {
        Tensor::full_on(self.shape(), 0.0, self.dtype(), &self.device())
    }

    /// A tensor of ones with the shape, dtype and device of `self`.
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let x = Tensor::zeros(&[2, 3], DType::F64);
    /// assert_eq!(x.ones_like()?.sum_all()?.to_scalar()?, 6.0);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn ones_like(&self) -> Result<Tensor> {
        Tensor::full_on(self.shape(), 1.0, self.dtype(), &self.device())
    }

    /// A 0-dimensional CPU tensor holding `value` (it cannot fail: one element).
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let s = Tensor::scalar(2.5, DType::F64);
    /// assert_eq!((s.rank(), s.to_scalar()?), (0, 2.5));
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn scalar(value: f64, dtype: DType) -> Tensor {
        Tensor::full(&[], value, dtype)
    }

    /// A scalar with the dtype and device of `self` (for mixing constants into expressions).
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let x = Tensor::zeros(&[4], DType::F32);
    /// let half = x.scalar_like(0.5)?;
    /// assert_eq!((half.dtype(), half.to_scalar()?), (DType::F32, 0.5));
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn scalar_like(&self, value: f64) -> Result<Tensor> {
        Tensor::full_on(&[], value, self.dtype(), &self.device())
    }

    /// The 1-D CPU tensor `[start, start + step, ...]` of values below `end` (above, if
    /// `step < 0`); empty when `start = end`, an error when the step leads away from `end`.
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// assert_eq!(Tensor::arange(0.0, 1.0, 0.25, DType::F64)?.to_vec_f64()?, [0.0, 0.25, 0.5, 0.75]);
    /// assert_eq!(Tensor::arange(3.0, 0.0, -1.0, DType::F64)?.to_vec_f64()?, [3.0, 2.0, 1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
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
        if (end - start) * step < 0.0 {
            return Err(Error::shape(
                "arange",
                format!("the step {step} leads away from {end}, starting at {start}"),
            ));
        }
        let count = ((end - start) / step).ceil();
        // Values are made as f64 first: more than a buffer of them can hold is an error.
        if count > (isize::MAX as usize / std::mem::size_of::<f64>()) as f64 {
            return Err(Error::shape(
                "arange",
                format!("{start}..{end} in steps of {step} has too many elements"),
            ));
        }
        let mut values = devices::filled_vec("arange", count as usize, 0.0)?;
        for (i, v) in values.iter_mut().enumerate() {
            *v = start + i as f64 * step;
        }
        Tensor::from_f64s_on(&values, &[values.len()], dtype, device)
    }

    /// `steps` evenly spaced values from `start` to `end`, both included (`torch.linspace`): the
    /// `i`-th is `start + i·δ`, `δ = (end − start)/(steps − 1)`, computed from the nearer end
    /// (`end − (steps − 1 − i)·δ` in the second half), so both ends are exact. One step gives
    /// `[start]`, none an empty tensor; a bound that is not finite is an error.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::linspace(0.0, 1.0, 5, DType::F64)?;
    /// assert_eq!(x.to_vec_f64()?, [0.0, 0.25, 0.5, 0.75, 1.0]);
    /// assert_eq!(Tensor::linspace(3.0, 3.0, 1, DType::F64)?.to_vec_f64()?, [3.0]);
    /// assert!(Tensor::linspace(0.0, f64::INFINITY, 3, DType::F64).is_err());
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn linspace(start: f64, end: f64, steps: usize, dtype: DType) -> Result<Tensor> {
        Tensor::linspace_on(start, end, steps, dtype, &Device::Cpu)
    }

    /// [`Tensor::linspace`] on `device`.
    pub fn linspace_on(
        start: f64,
        end: f64,
        steps: usize,
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor> {
        if !start.is_finite() || !end.is_finite() {
            return Err(Error::invalid(
                "linspace",
                format!("bounds {start} and {end}: both must be finite"),
            ));
        }
        let mut values = devices::filled_vec("linspace", steps, start)?;
        if steps > 1 {
            let delta = (end - start) / (steps - 1) as f64;
            for (i, v) in values.iter_mut().enumerate() {
                *v = if i < steps / 2 {
                    start + i as f64 * delta
                } else {
                    end - (steps - 1 - i) as f64 * delta
                };
            }
        }
        Tensor::from_f64s_on(&values, &[steps], dtype, device)
    }

    /// The `n × n` identity matrix (`torch.eye`).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// assert_eq!(Tensor::eye(2, DType::F64)?.to_vec_f64()?, [1.0, 0.0, 0.0, 1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn eye(n: usize, dtype: DType) -> Result<Tensor> {
        Tensor::eye_on(n, dtype, &Device::Cpu)
    }

    /// [`Tensor::eye`] on `device`.
    pub fn eye_on(n: usize, dtype: DType, device: &Device) -> Result<Tensor> {
        let count = n.checked_mul(n).ok_or_else(|| {
            Error::shape("eye", format!("{n} × {n} elements do not fit in memory"))
        })?;
        let mut values = devices::filled_vec("eye", count, 0.0)?;
        for i in 0..n {
            values[i * n + i] = 1.0;
        }
        Tensor::from_f64s_on(&values, &[n, n], dtype, device)
    }

    /// A CPU tensor of independent uniform samples from `[low, high)` (panics like
    /// [`Tensor::full`], and on bounds that are not finite or with `low > high`;
    /// [`Tensor::rand_on`] returns each of these as an error).
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let a = Tensor::rand(&[1000], -1.0, 1.0, DType::F64, &mut tensor::rng(7));
    /// let b = Tensor::rand(&[1000], -1.0, 1.0, DType::F64, &mut tensor::rng(7));
    /// assert_eq!(a.to_vec_f64()?, b.to_vec_f64()?, "the same seed gives the same numbers");
    /// assert!(a.min(&[0], false)?.to_scalar()? >= -1.0 && a.max(&[0], false)?.to_scalar()? < 1.0);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn rand(shape: &[usize], low: f64, high: f64, dtype: DType, rng: &mut Rng) -> Tensor {
        Tensor::rand_on(shape, low, high, dtype, &Device::Cpu, rng)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Independent uniform samples from `[low, high)`, drawn on the host from the seeded `rng`
    /// (so every device sees the same numbers) and uploaded to `device` once. An error if a bound
    /// is not finite or `low > high`.
    pub fn rand_on(
        shape: &[usize],
        low: f64,
        high: f64,
        dtype: DType,
        device: &Device,
        rng: &mut Rng,
    ) -> Result<Tensor> {
        if !(low.is_finite() && high.is_finite() && low <= high) {
            return Err(Error::invalid(
                "rand",
                format!("[{low}, {high}) is not a finite range with low ≤ high"),
            ));
        }
        let mut values = devices::filled_vec("rand", checked_numel("rand", shape)?, 0.0)?;
        for v in &mut values {
            *v = rng.gen_range(0.0..1.0) * (high - low) + low;
        }
        Tensor::from_f64s_on(&values, shape, dtype, device)
    }

    /// A CPU tensor of independent normal samples with the given mean and standard deviation
    /// (panics like [`Tensor::full`], and on a mean that is not finite or a standard deviation
    /// that is negative or not finite; [`Tensor::randn_on`] returns each of these as an
    /// error).
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let x = Tensor::randn(&[10_000], 3.0, 0.5, DType::F64, &mut tensor::rng(0));
    /// let mean = x.mean_all()?.to_scalar()?;
    /// let std = x.sub_scalar(mean)?.square()?.mean_all()?.to_scalar()?.sqrt();
    /// assert!((mean - 3.0).abs() < 0.02 && (std - 0.5).abs() < 0.02, "{mean} {std}");
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn randn(shape: &[usize], mean: f64, std: f64, dtype: DType, rng: &mut Rng) -> Tensor {
        Tensor::randn_on(shape, mean, std, dtype, &Device::Cpu, rng)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Independent normal samples, drawn on the host like [`Tensor::rand_on`] and uploaded once.
    /// An error if the mean or the std is not finite or the std is negative.
    pub fn randn_on(
        shape: &[usize],
        mean: f64,
        std: f64,
        dtype: DType,
        device: &Device,
        rng: &mut Rng,
    ) -> Result<Tensor> {
        if !(mean.is_finite() && std.is_finite() && std >= 0.0) {
            return Err(Error::invalid(
                "randn",
                format!("mean {mean} and std {std}: both must be finite, the std not negative"),
            ));
        }
        let mut values = devices::filled_vec("randn", checked_numel("randn", shape)?, 0.0)?;
        for v in &mut values {
            *v = mean + std * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, rng);
        }
        Tensor::from_f64s_on(&values, shape, dtype, device)
    }
}
