/* Layer norm forward, one work-group per row of the contiguous [rows, d] input:
 * mu = inv_d * sum x (or x[0] exactly when every x equals it: inv_d * sum x can miss a constant
 * row's value by an ulp, which r amplifies up to 1/sqrt(eps)), var = inv_d * sum (x - mu)^2,
 * r = 1/sqrt(var + eps) (NaN when var overflows the type, as on the CPU, where r = 0 would give
 * every y its beta silently), y = (x - mu) * r * gamma + beta; mean[row] = mu, rstd[row] = r. */
/* Evaluated as written, as the CPU's row kernels are: no a*b + c fused into an FMA. */
#pragma OPENCL FP_CONTRACT OFF

__kernel void layer_norm(__global const T *x, __global const T *gamma, __global const T *beta,
                         const uint d, const T inv_d, const T eps, __global T *y,
                         __global T *mean, __global T *rstd, __local T *scratch) {
    const uint row = get_group_id(0);
    const uint base = row * d;
    const uint lid = get_local_id(0);
    const uint size = get_local_size(0);
    const T first = d > 0 ? x[base] : (T)0;
    T s = (T)0;
    T spread = (T)0;
    for (uint j = lid; j < d; j += size) {
        s += x[base + j];
        spread += fabs(x[base + j] - first);
    }
    const T sum = group_sum(scratch, s);
    const T mu = group_sum(scratch, spread) == (T)0 ? first : sum * inv_d;
    T v = (T)0;
    for (uint j = lid; j < d; j += size) {
        const T c = x[base + j] - mu;
        v += c * c;
    }
    const T var = group_sum(scratch, v) * inv_d;
    const T r = isinf(var) ? (T)NAN : (T)1 / sqrt(var + eps);
    for (uint j = lid; j < d; j += size) {
        y[base + j] = (x[base + j] - mu) * r * gamma[j] + beta[j];
    }
    if (lid == 0) {
        mean[row] = mu;
        rstd[row] = r;
    }
}

/* Layer norm backward, input gradient, one work-group per row: with xh = (x - mu) * r and
 * g = dy * gamma, dx = r * (g - mean(g) - xh * mean(g * xh)). */
__kernel void layer_norm_dx(__global const T *dy, __global const T *x, __global const T *mean,
                            __global const T *rstd, __global const T *gamma, const uint d,
                            const T inv_d, __global T *dx, __local T *scratch) {
    const uint row = get_group_id(0);
    const uint base = row * d;
    const uint lid = get_local_id(0);
    const uint size = get_local_size(0);
    const T mu = mean[row];
    const T r = rstd[row];
    T sg = (T)0;
    T sgx = (T)0;
    for (uint j = lid; j < d; j += size) {
        const T g = dy[base + j] * gamma[j];
        sg += g;
        sgx += g * ((x[base + j] - mu) * r);
    }
    const T mean_g = group_sum(scratch, sg) * inv_d;
    const T mean_gx = group_sum(scratch, sgx) * inv_d;
    for (uint j = lid; j < d; j += size) {
        const T xh = (x[base + j] - mu) * r;
        dx[base + j] = r * (dy[base + j] * gamma[j] - mean_g - xh * mean_gx);
    }
}

/* Layer norm backward, parameter gradients, in two stages so that more than one item per column
 * works (a column's rows summed by one item kept a GPU nearly idle). Stage one: item i = c * d + j
 * sums column j over rows [c * chunk, min((c + 1) * chunk, rows)) in order:
 * partial_g[i] = sum dy[r, j] * xh[r, j], partial_b[i] = sum dy[r, j]. */
__kernel void layer_norm_columns(__global const T *dy, __global const T *x, __global const T *mean,
                                 __global const T *rstd, const uint rows, const uint d,
                                 const uint chunk, const uint chunks, __global T *partial_g,
                                 __global T *partial_b) {
    const uint i = get_global_id(0);
    if (i >= chunks * d) {
        return;
    }
    const uint c = i / d;
    const uint j = i - c * d;
    const uint end = min(c * chunk + chunk, rows);
    T sg = (T)0;
    T sb = (T)0;
    for (uint r = c * chunk; r < end; ++r) {
        const T v = dy[r * d + j];
        sg += v * ((x[r * d + j] - mean[r]) * rstd[r]);
        sb += v;
    }
    partial_g[i] = sg;
    partial_b[i] = sb;
}

/* Stage two, one item per column j, the chunks summed in order (the same result on every run):
 * dgamma_j = sum_c partial_g[c * d + j], dbeta_j = sum_c partial_b[c * d + j]. */
__kernel void layer_norm_columns_sum(__global const T *partial_g, __global const T *partial_b,
                                     const uint d, const uint chunks, __global T *dgamma,
                                     __global T *dbeta) {
    const uint j = get_global_id(0);
    if (j >= d) {
        return;
    }
    T sg = (T)0;
    T sb = (T)0;
    for (uint c = 0; c < chunks; ++c) {
        sg += partial_g[c * d + j];
        sb += partial_b[c * d + j];
    }
    dgamma[j] = sg;
    dbeta[j] = sb;
}
