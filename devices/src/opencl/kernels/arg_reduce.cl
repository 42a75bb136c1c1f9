/* y[g] = the first j < len maximizing (find_max) or minimizing x[at(kept, g) + j * stride],
 * stored as T; a NaN counts as the extreme (the first NaN wins). One item per output. */
__kernel void arg_reduce(__global const T *x, const Strided kept, const uint len, const uint stride,
                         const int find_max, __global T *y, const uint outputs) {
    const uint g = get_global_id(0);
    if (g >= outputs) {
        return;
    }
    const uint base = at(&kept, g);
    uint best = 0;
    T best_value = x[base];
    for (uint j = 1; j < len; ++j) {
        const T v = x[base + j * stride];
        const int better =
            !isnan(best_value) && (isnan(v) || (find_max ? v > best_value : v < best_value));
        if (better) {
            best = j;
            best_value = v;
        }
    }
    y[g] = (T)best;
}
