/* The fused optimizer arithmetic. Each step is rounded where the composed ops (composed.rs)
 * round it: no a*b + c fused into an FMA. */
#pragma OPENCL FP_CONTRACT OFF

/* out = a + alpha * b, the product rounded before the sum (SGD's m <- g + mu * m and
 * p <- p - lr * m, as alpha = mu and alpha = -lr). */
__kernel void add_scaled(__global const T *a, __global const T *b, const T alpha, __global T *out,
                         const uint n) {
    const uint i = get_global_id(0);
    if (i < n) {
        out[i] = a[i] + b[i] * alpha;
    }
}

/* One AdamW update per element, the fused form of the composed default (composed.rs):
 * m' = beta1 * m + (1 - beta1) * g, v' = beta2 * v + (1 - beta2) * g^2,
 * p' = p * decay - ((m' / c1) / (sqrt(v' / c2) + eps)) * lr, with decay = 1 - lr * weight_decay. */
inline T adamw_parameter(const T p, const T m, const T v, const T c1, const T c2, const T eps,
                         const T lr, const T decay) {
    const T denominator = sqrt(v / c2) + eps;
    return p * decay - ((m / c1) / denominator) * lr;
}

/* A step with moments m and v from the steps before. */
__kernel void adamw(__global const T *p, __global const T *g, __global const T *m,
                    __global const T *v, const T beta1, const T beta2, const T one_minus_beta1,
                    const T one_minus_beta2, const T c1, const T c2, const T eps, const T lr,
                    const T decay, __global T *p_out, __global T *m_out, __global T *v_out,
                    const uint n) {
    const uint i = get_global_id(0);
    if (i < n) {
        const T gi = g[i];
        const T mi = m[i] * beta1 + gi * one_minus_beta1;
        const T vi = v[i] * beta2 + (gi * gi) * one_minus_beta2;
        m_out[i] = mi;
        v_out[i] = vi;
        p_out[i] = adamw_parameter(p[i], mi, vi, c1, c2, eps, lr, decay);
    }
}

/* The first step: both moments count as zero and are not read. */
__kernel void adamw_first(__global const T *p, __global const T *g, const T one_minus_beta1,
                          const T one_minus_beta2, const T c1, const T c2, const T eps,
                          const T lr, const T decay, __global T *p_out, __global T *m_out,
                          __global T *v_out, const uint n) {
    const uint i = get_global_id(0);
    if (i < n) {
        const T gi = g[i];
        const T mi = gi * one_minus_beta1;
        const T vi = (gi * gi) * one_minus_beta2;
        m_out[i] = mi;
        v_out[i] = vi;
        p_out[i] = adamw_parameter(p[i], mi, vi, c1, c2, eps, lr, decay);
    }
}
