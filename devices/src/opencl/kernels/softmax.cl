/* One work-group per row of the contiguous [rows, n] input, each element read as x_j * scale:
 * m = max_j x_j, shift = m (but 0 for an all -inf row, which stays NaN-free until the division,
 * like the CPU kernel; a row holding +inf gets a NaN sum, so it is NaN throughout, as in PyTorch),
 * s = sum_j e^{x_j - shift}; softmax y_j = e^{x_j - shift} * (1/s),
 * log-softmax y_j = (x_j - shift) - ln s. */
/* Evaluated as written, as the CPU's row kernels are: no a*b + c fused into an FMA. */
#pragma OPENCL FP_CONTRACT OFF

__kernel void softmax(__global const T *x, __global T *y, const uint n, const T scale,
                      const int take_log, __local T *scratch) {
    const uint base = get_group_id(0) * n;
    const uint lid = get_local_id(0);
    const uint size = get_local_size(0);
    T m = -INFINITY;
    for (uint j = lid; j < n; j += size) {
        m = fmax(m, x[base + j] * scale);
    }
    m = group_max(scratch, m);
    const T shift = (m == -INFINITY) ? (T)0 : m;
    T s = (T)0;
    for (uint j = lid; j < n; j += size) {
        s += exp(x[base + j] * scale - shift);
    }
    s = group_sum(scratch, s);
    if (take_log) {
        const T log_sum = log(s);
        for (uint j = lid; j < n; j += size) {
            y[base + j] = (x[base + j] * scale - shift) - log_sum;
        }
    } else {
        const T inv = (T)1 / s;
        for (uint j = lid; j < n; j += size) {
            y[base + j] = exp(x[base + j] * scale - shift) * inv;
        }
    }
}

/* The backward pass, one work-group per row of the contiguous [rows, n] output y and upstream
 * gradient g: softmax dx_j = y_j * (g_j - sum_i g_i y_i) * scale;
 * log-softmax dx_j = (g_j - e^{y_j} sum_i g_i) * scale. */
__kernel void softmax_backward(__global const T *y, __global const T *g, __global T *dx,
                               const uint n, const T scale, const int take_log,
                               __local T *scratch) {
    const uint base = get_group_id(0) * n;
    const uint lid = get_local_id(0);
    const uint size = get_local_size(0);
    T s = (T)0;
    for (uint j = lid; j < n; j += size) {
        s += take_log ? g[base + j] : g[base + j] * y[base + j];
    }
    s = group_sum(scratch, s);
    for (uint j = lid; j < n; j += size) {
        const T unscaled = take_log ? g[base + j] - exp(y[base + j]) * s
                                    : y[base + j] * (g[base + j] - s);
        dx[base + j] = unscaled * scale;
    }
}
