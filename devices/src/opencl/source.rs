//! Kernel source generation: a program is a header (element type, fp64 pragma), the shared
//! `common.cl`, the functions of one op spliced in from its single definition in [`crate::ops`],
//! and one kernel file.

use crate::ops::{BinaryOp, ReduceOp, UnaryOp, GELU_A, GELU_C, INV_SQRT_2PI, SQRT_HALF};
use crate::DType;
use std::any::TypeId;

const COMMON: &str = include_str!("kernels/common.cl");
pub(crate) const UNARY: &str = include_str!("kernels/unary.cl");
pub(crate) const BINARY: &str = include_str!("kernels/binary.cl");
pub(crate) const COPY: &str = include_str!("kernels/copy.cl");
pub(crate) const REDUCE: &str = include_str!("kernels/reduce.cl");
pub(crate) const ARG_REDUCE: &str = include_str!("kernels/arg_reduce.cl");
pub(crate) const MATMUL: &str = include_str!("kernels/matmul.cl");
pub(crate) const INDEX: &str = include_str!("kernels/index.cl");
pub(crate) const SOFTMAX: &str = include_str!("kernels/softmax.cl");
pub(crate) const LAYER_NORM: &str = include_str!("kernels/layer_norm.cl");
pub(crate) const OPTIM: &str = include_str!("kernels/optim.cl");

/// Element-wise ops are evaluated as written, without fusing `a·b + c` into an FMA (OpenCL C
/// allows that by default; Rust does not), so they round like the CPU's scalar functions.
const NO_CONTRACTION: &str = "#pragma OPENCL FP_CONTRACT OFF\n";

/// What identifies a built program on a device: the kernel file, the op spliced in (its type,
/// since two ops may share a name; and the name, `""` for none, for messages and profiles), the
/// element type and the build options.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ProgramKey {
    pub body: &'static str,
    pub op_type: TypeId,
    pub op: &'static str,
    pub dtype: DType,
    pub options: &'static str,
}

/// A program to build: its key and the op functions to splice in before the kernel file.
pub(crate) struct ProgramSource {
    pub key: ProgramKey,
    pub defs: String,
}

impl ProgramSource {
    /// A kernel file with no op spliced in.
    pub fn plain(body: &'static str, dtype: DType, options: &'static str) -> Self {
        ProgramSource {
            key: ProgramKey {
                body,
                op_type: TypeId::of::<()>(),
                op: "",
                dtype,
                options,
            },
            defs: String::new(),
        }
    }

    /// `body` with `inline T unary_op(T x) { return (Op::OPENCL); }` spliced in.
    pub fn unary<Op: UnaryOp>(body: &'static str, dtype: DType) -> Self {
        ProgramSource {
            key: ProgramKey {
                body,
                op_type: TypeId::of::<Op>(),
                op: Op::NAME,
                dtype,
                options: "",
            },
            defs: format!(
                "{NO_CONTRACTION}inline T unary_op(T x) {{ return ({}); }}\n",
                Op::OPENCL
            ),
        }
    }

    /// `body` with `inline T binary_op(T a, T b) { return (Op::OPENCL); }` spliced in.
    pub fn binary<Op: BinaryOp>(body: &'static str, dtype: DType) -> Self {
        ProgramSource {
            key: ProgramKey {
                body,
                op_type: TypeId::of::<Op>(),
                op: Op::NAME,
                dtype,
                options: "",
            },
            defs: format!(
                "{NO_CONTRACTION}inline T binary_op(T a, T b) {{ return ({}); }}\n",
                Op::OPENCL
            ),
        }
    }

    /// `body` with `reduce_identity()`, `reduce_map(x)` and `reduce_combine(acc, x)` spliced in.
    pub fn reduce<Op: ReduceOp>(body: &'static str, dtype: DType) -> Self {
        ProgramSource {
            key: ProgramKey {
                body,
                op_type: TypeId::of::<Op>(),
                op: Op::NAME,
                dtype,
                options: "",
            },
            defs: format!(
                "{NO_CONTRACTION}inline T reduce_identity(void) {{ return ({}); }}\n\
                 inline T reduce_map(T x) {{ return ({}); }}\n\
                 inline T reduce_combine(T acc, T x) {{ return ({}); }}\n",
                Op::OPENCL_IDENTITY,
                Op::OPENCL_MAP,
                Op::OPENCL_COMBINE
            ),
        }
    }

    /// The complete OpenCL C text of the program.
    pub fn text(&self) -> String {
        let dtype = self.key.dtype;
        let pragma = match dtype {
            DType::F64 => "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n",
            DType::F32 => "",
        };
        format!(
            "{pragma}#define T {}\n#define GELU_C ((T){GELU_C:?})\n#define GELU_A ((T){GELU_A:?})\n\
             #define SQRT_HALF ((T){SQRT_HALF:?})\n#define INV_SQRT_2PI ((T){INV_SQRT_2PI:?})\n\
             {COMMON}\n{}\n{}",
            dtype.opencl_name(),
            self.defs,
            self.key.body
        )
    }

    /// The program named for error messages: its first kernel signature, op and element type.
    pub fn describe(&self) -> String {
        let first = self
            .key
            .body
            .lines()
            .find(|l| l.contains("__kernel"))
            .unwrap_or("")
            .trim();
        let op = if self.key.op.is_empty() {
            String::new()
        } else {
            format!(" for op {}", self.key.op)
        };
        format!("`{first}`{op} ({})", self.key.dtype)
    }
}
