/* One work-group per output g: y[g] = fold of reduce_combine over reduce_map(x[at(kept, g) +
 * at(red, j)]), j < count, starting from reduce_identity(). Each item folds a strided share of the j's, then
 * the group combines the partials in a tree in local memory (size a power of two). */
__kernel void reduce(__global const T *x, const Strided kept, const Strided red, const uint count,
                     __global T *y, __local T *scratch) {
    const uint g = get_group_id(0);
    const uint lid = get_local_id(0);
    const uint size = get_local_size(0);
    const uint base = at(&kept, g);
    T acc = reduce_identity();
    for (uint j = lid; j < count; j += size) {
        acc = reduce_combine(acc, reduce_map(x[base + at(&red, j)]));
    }
    scratch[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = size >> 1; s > 0; s >>= 1) {
        if (lid < s) {
            scratch[lid] = reduce_combine(scratch[lid], scratch[lid + s]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        y[g] = scratch[0];
    }
}
