/* y[i] = unary_op(x[at(xl, i)]) for i < n; y is contiguous. */
__kernel void unary(__global const T *x, const Strided xl, __global T *y, const uint n) {
    const uint i = get_global_id(0);
    if (i < n) {
        y[i] = unary_op(x[at(&xl, i)]);
    }
}
