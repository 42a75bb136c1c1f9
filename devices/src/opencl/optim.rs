//! Launch glue for the fused optimizer arithmetic (`kernels/optim.cl`): `a + α·b` and the AdamW
//! update, one work item per element.

use super::launch::{uint, Launch};
use super::pool::ClBuffer;
use super::runtime::Runtime;
use super::source::{ProgramSource, OPTIM};
use crate::backend::AdamWStep;
use crate::{Element, Result};
use std::sync::Arc;

/// [`crate::Backend::add_scaled`] on an OpenCL device: `a + α·b` over `len` contiguous elements.
pub(crate) fn add_scaled<T: Element>(
    rt: &Arc<Runtime>,
    a: &ClBuffer<T>,
    b: &ClBuffer<T>,
    len: usize,
    alpha: T,
) -> Result<ClBuffer<T>> {
    let out = ClBuffer::new(rt, len)?;
    if len == 0 {
        return Ok(out);
    }
    let entry = rt.kernel(&ProgramSource::plain(OPTIM, T::DTYPE, ""), "add_scaled")?;
    Launch::new(rt, &entry)
        .buffer(a)?
        .buffer(b)?
        .scalar(alpha)?
        .buffer(&out)?
        .arg(&uint("a parameter's length", len)?)?
        .run_1d(len)?;
    Ok(out)
}

/// [`crate::Backend::adamw_update`] on an OpenCL device: `[p', m', v']` from `p`, `g` and the
/// moments (none on the first step), each `len` contiguous elements.
pub(crate) fn adamw_update<T: Element>(
    rt: &Arc<Runtime>,
    p: &ClBuffer<T>,
    g: &ClBuffer<T>,
    moments: Option<[&ClBuffer<T>; 2]>,
    len: usize,
    step: &AdamWStep,
) -> Result<[ClBuffer<T>; 3]> {
    let outputs = [
        ClBuffer::new(rt, len)?,
        ClBuffer::new(rt, len)?,
        ClBuffer::new(rt, len)?,
    ];
    if len == 0 {
        return Ok(outputs);
    }
    let source = ProgramSource::plain(OPTIM, T::DTYPE, "");
    let s = step.scalars::<T>();
    let name = if moments.is_some() {
        "adamw"
    } else {
        "adamw_first"
    };
    let entry = rt.kernel(&source, name)?;
    let mut launch = Launch::new(rt, &entry).buffer(p)?.buffer(g)?;
    if let Some([m, v]) = moments {
        launch = launch
            .buffer(m)?
            .buffer(v)?
            .scalar(s.beta1)?
            .scalar(s.beta2)?;
    }
    let [p_out, m_out, v_out] = &outputs;
    launch
        .scalar(s.one_minus_beta1)?
        .scalar(s.one_minus_beta2)?
        .scalar(s.bias_correction1)?
        .scalar(s.bias_correction2)?
        .scalar(s.eps)?
        .scalar(s.lr)?
        .scalar(s.decay)?
        .buffer(p_out)?
        .buffer(m_out)?
        .buffer(v_out)?
        .arg(&uint("a parameter's length", len)?)?
        .run_1d(len)?;
    Ok(outputs)
}
