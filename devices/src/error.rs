//! The one error type of the numerical stack.
//!
//! Every message names the operation and the shapes or types involved, so a user can find the
//! offending call without a debugger, e.g.
//! `matmul: [2, 3] x [4, 5]: inner dimensions 3 and 4 differ`.

use crate::DType;
use std::fmt;

/// What went wrong, and in which operation.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// Shapes (or axes, or indices) that do not fit the operation.
    Shape { op: &'static str, msg: String },
    /// Operands of different element types, or a type the operation does not take.
    DType {
        op: &'static str,
        lhs: DType,
        rhs: DType,
    },
    /// Operands on different devices.
    Device { op: &'static str, msg: String },
    /// An argument or a state the operation cannot use, other than a shape: an unknown name, a
    /// value out of its range, optimizer state that does not belong, a graph already
    /// back-propagated.
    Invalid { op: &'static str, msg: String },
    /// The host refused to allocate a buffer of `bytes` bytes for `op`.
    OutOfMemory { op: &'static str, bytes: usize },
    /// A device backend could not be used (no OpenCL platform, a kernel failed to build, ...).
    Backend(String),
}

impl Error {
    /// A shape error for `op` with a free-form explanation.
    pub fn shape(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Shape {
            op,
            msg: msg.into(),
        }
    }

    /// An [`Error::Invalid`] for `op` with a free-form explanation.
    pub fn invalid(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Invalid {
            op,
            msg: msg.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape { op, msg } => write!(f, "{op}: {msg}"),
            Error::DType { op, lhs, rhs } => {
                write!(f, "{op}: element types differ ({lhs} and {rhs})")
            }
            Error::Device { op, msg } | Error::Invalid { op, msg } => write!(f, "{op}: {msg}"),
            Error::OutOfMemory { op, bytes } => {
                let gib = *bytes as f64 / f64::from(1u32 << 30);
                write!(
                    f,
                    "{op}: out of memory: {bytes} bytes ({gib:.1} GiB) could not be allocated"
                )
            }
            Error::Backend(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {}

/// The result type of the numerical stack.
pub type Result<T> = std::result::Result<T, Error>;
