//! The one check of a hyperparameter a user sets: a value inside its range, or an error saying
//! which value of which operation is outside which range.

use tensor::{Error, Result};

/// An error naming `op` unless `value`, its hyperparameter `name`, lies in `range` (NaN lies in
/// none).
pub(crate) fn check_range(
    op: &'static str,
    name: &str,
    value: f64,
    range: impl std::ops::RangeBounds<f64> + std::fmt::Debug,
) -> Result<()> {
    if range.contains(&value) {
        return Ok(());
    }
    Err(Error::invalid(
        op,
        format!("{name} = {value} is outside {range:?}"),
    ))
}
