/* y[i] = binary_op(a[at(al, i)], b[at(bl, i)]) for i < n; al and bl have the same shape. */
__kernel void binary(__global const T *a, const Strided al, __global const T *b, const Strided bl,
                     __global T *y, const uint n) {
    const uint i = get_global_id(0);
    if (i < n) {
        y[i] = binary_op(a[at(&al, i)], b[at(&bl, i)]);
    }
}

/* y[i] = binary_op(a[at(al, i)], value): the scalar is a kernel argument, not a buffer. */
__kernel void binary_scalar(__global const T *a, const Strided al, const T value, __global T *y,
                            const uint n) {
    const uint i = get_global_id(0);
    if (i < n) {
        y[i] = binary_op(a[at(&al, i)], value);
    }
}
