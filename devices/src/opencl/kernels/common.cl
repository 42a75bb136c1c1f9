/* Shared by every program. The host prepends `#define T float` (or double, with cl_khr_fp64
 * enabled) and, per program, the op functions spliced in from ops.rs. */

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
