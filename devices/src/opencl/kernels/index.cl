/* Gather along an axis. The output is the contiguous [outer, count, inner]; `rest` is the input
 * view with the indexed axis removed (shape [outer.., inner..]) and axis_stride that axis's stride:
 * y[o, j, r] = x[at(rest, o * inner + r) + idx[j] * axis_stride]. */
__kernel void index_select(__global const T *x, const Strided rest, const uint axis_stride,
                           __global const uint *idx, const uint count, const uint inner,
                           __global T *y, const uint n) {
    const uint i = get_global_id(0);
    if (i >= n) {
        return;
    }
    const uint r = i % inner;
    const uint j = (i / inner) % count;
    const uint o = i / (inner * count);
    y[i] = x[at(&rest, o * inner + r) + idx[j] * axis_stride];
}

/* Scatter-add, the adjoint of index_select: dst is the contiguous [outer, size, inner] and
 * dst[o, idx[j], r] += src[at(rest, o * inner + r) + j * axis_stride] for j = 0, 1, .. in order.
 * One item per column c = o * inner + r owns every element it writes, so repeated indices
 * accumulate without atomics, in the same order on every run. */
__kernel void index_add(__global T *dst, const uint size, const uint inner,
                        __global const uint *idx, const uint count, __global const T *src,
                        const Strided rest, const uint axis_stride, const uint columns) {
    const uint c = get_global_id(0);
    if (c >= columns) {
        return;
    }
    const uint o = c / inner;
    const uint r = c % inner;
    const uint from = at(&rest, c);
    const uint base = o * size * inner + r;
    for (uint j = 0; j < count; ++j) {
        dst[base + idx[j] * inner] += src[from + j * axis_stride];
    }
}

/* Gather: one index per output position. The output is the contiguous [outer, count, inner] and
 * idx has that shape; `rest` is the input view with the indexed axis removed:
 * y[o, j, r] = x[at(rest, o * inner + r) + idx[o, j, r] * axis_stride]. */
__kernel void gather(__global const T *x, const Strided rest, const uint axis_stride,
                     __global const uint *idx, const uint count, const uint inner,
                     __global T *y, const uint n) {
    const uint i = get_global_id(0);
    if (i >= n) {
        return;
    }
    const uint column = i / (count * inner) * inner + i % inner;
    y[i] = x[at(&rest, column) + idx[i] * axis_stride];
}

/* Scatter-add, the adjoint of gather: dst[at(dst_rest, c) + idx[o, j, r] * dst_stride] +=
 * src[at(src_rest, c) + j * src_stride] for j = 0, 1, .. in order, c = o * inner + r. One item
 * per column c owns every element it writes (columns differ outside the indexed axis), so
 * repeated indices accumulate without atomics, in the same order on every run. */
__kernel void scatter_add(__global T *dst, const Strided dst_rest, const uint dst_stride,
                          __global const uint *idx, const uint count, const uint inner,
                          __global const T *src, const Strided src_rest,
                          const uint src_stride, const uint columns) {
    const uint c = get_global_id(0);
    if (c >= columns) {
        return;
    }
    const uint to = at(&dst_rest, c);
    const uint from = at(&src_rest, c);
    const uint first = c / inner * count * inner + c % inner;
    for (uint j = 0; j < count; ++j) {
        dst[to + idx[first + j * inner] * dst_stride] += src[from + j * src_stride];
    }
}
