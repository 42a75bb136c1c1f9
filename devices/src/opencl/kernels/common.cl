/* Shared by every program. The host prepends `#define T float` (or double, with cl_khr_fp64
 * enabled) and GELU's two constants, and appends, per program, the op functions spliced in from
 * ops.rs. */

#define MAX_RANK 8

/* A strided view, passed by value: element i (row-major position) of a view of `shape` lives at
 * buffer index offset + sum_a idx_a(i) * stride[a]. Axes are merged on the host wherever the
 * strides allow (as `Walk` does), so rank <= MAX_RANK; the host checks every index fits in 32 bits. */
typedef struct {
    uint rank;
    uint offset;
    uint shape[MAX_RANK];
    uint stride[MAX_RANK];
} Strided;

/* Buffer index of row-major position i of the view l. */
inline uint at(const Strided *l, uint i) {
    uint index = l->offset;
    for (int a = (int)l->rank - 1; a >= 0; --a) {
        const uint d = l->shape[a];
        index += (i % d) * l->stride[a];
        i /= d;
    }
    return index;
}

/* tanh u = 1 - 2/(e^{2u} + 1), the same formula as ops.rs's `tanh_via_exp`, so GELU agrees with
 * the CPU to a few ulps. */
inline T tanh_via_exp(T u) {
    return (T)1 - (T)2 / (exp((T)2 * u) + (T)1);
}

/* The tanh form of GELU (ops.rs's GeluTanh and GeluTanhBackward), written as they are and
 * rounded like them (no fused multiply-adds, in these bodies only): t = tanh u with
 * u = c(x + a x^3), where the host defines GELU_C = sqrt(2/pi) and GELU_A = 0.044715 from
 * ops.rs's constants. */
inline T gelu_tanh(T x) {
#pragma OPENCL FP_CONTRACT OFF
    return tanh_via_exp(GELU_C * (x + GELU_A * x * x * x));
}

/* d/dx of x(1 + t)/2: (1 + t)/2 + x(1 - t^2)/2 * c(1 + 3a x^2). */
inline T gelu_tanh_slope(T x) {
#pragma OPENCL FP_CONTRACT OFF
    const T t = gelu_tanh(x);
    return (T)0.5 * ((T)1 + t) + (T)0.5 * x * ((T)1 - t * t) * GELU_C * ((T)1 + (T)3 * GELU_A * x * x);
}

/* d/dx of the exact GELU x*Phi(x): Phi(x) + x*phi(x), with Phi(x) = erfc(-x/sqrt 2)/2 and
 * phi(x) = exp(-x^2/2)/sqrt(2 pi) (ops.rs's GeluErfBackward); the host defines SQRT_HALF and
 * INV_SQRT_2PI from ops.rs's constants. */
inline T gelu_erf_slope(T x) {
    return (T)0.5 * erfc(-x * SQRT_HALF) + x * exp((T)-0.5 * x * x) * INV_SQRT_2PI;
}

/* Sum of v over the work-group (whose size is a power of two), returned to every item. `scratch`
 * holds one T per item; it is free again when this returns. */
inline T group_sum(__local T *scratch, T v) {
    const uint lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = get_local_size(0) >> 1; s > 0; s >>= 1) {
        if (lid < s) {
            scratch[lid] += scratch[lid + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const T total = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

/* Maximum of v over the work-group (fmax: NaN is ignored, as Rust's `max` does). */
inline T group_max(__local T *scratch, T v) {
    const uint lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = get_local_size(0) >> 1; s > 0; s >>= 1) {
        if (lid < s) {
            scratch[lid] = fmax(scratch[lid], scratch[lid + s]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const T total = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}
