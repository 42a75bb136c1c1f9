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
    Shape {
        /// The operation, as the message begins with it (`matmul`, `reshape`, ...).
        op: &'static str,
        /// What does not fit, with the shapes or axes involved (the message after `op: `).
        msg: String,
    },
    /// Operands of different element types, or a type the operation does not take.
    DType {
        /// The operation, as the message begins with it.
        op: &'static str,
        /// The type of the first operand (or of the buffer being read).
        lhs: DType,
        /// The type of the operand that differs from it (or the type asked for).
        rhs: DType,
        /// What the two operands are, each with its verb (`["the input is", "the layer's
        /// weights"]`), where the caller named them ([`Error::dtype_of`]); without them the
        /// message says "element types differ".
        roles: Option<[&'static str; 2]>,
    },
    /// Operands on different devices.
    Device {
        /// The operation, as the message begins with it.
        op: &'static str,
        /// Which devices the operands are on (the message after `op: `).
        msg: String,
    },
    /// An argument or a state the operation cannot use, other than a shape: an unknown name, a
    /// value out of its range, optimizer state that does not belong, a graph already
    /// back-propagated.
    Invalid {
        /// The operation, as the message begins with it.
        op: &'static str,
        /// What is wrong with the argument or state, and the values involved (the message after
        /// `op: `).
        msg: String,
    },
    /// The host refused to allocate a buffer of `bytes` bytes for `op`.
    OutOfMemory {
        /// The operation whose buffer it was.
        op: &'static str,
        /// The size of the refused allocation in bytes (the message also gives it in GiB).
        bytes: usize,
    },
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

    /// An [`Error::DType`] for `op`: its operands are `lhs` and `rhs`.
    pub fn dtype(op: &'static str, lhs: DType, rhs: DType) -> Self {
        Error::DType {
            op,
            lhs,
            rhs,
            roles: None,
        }
    }

    /// An [`Error::DType`] for `op` in the caller's words: `roles` says what each operand is,
    /// with its verb, as `["the input is", "the layer's weights"]` gives
    /// `linear: the input is f64 and the layer's weights f32`.
    pub fn dtype_of(op: &'static str, lhs: DType, rhs: DType, roles: [&'static str; 2]) -> Self {
        Error::DType {
            op,
            lhs,
            rhs,
            roles: Some(roles),
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
            Error::DType {
                op,
                lhs,
                rhs,
                roles: None,
            } => write!(f, "{op}: element types differ ({lhs} and {rhs})"),
            Error::DType {
                op,
                lhs,
                rhs,
                roles: Some([mine, theirs]),
            } => write!(f, "{op}: {mine} {lhs} and {theirs} {rhs}"),
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
