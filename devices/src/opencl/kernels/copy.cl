/* dst[at(dl, i)] = src[at(sl, i)] for i < n; dl names no element twice (checked by Storage). */
__kernel void copy(__global const T *src, const Strided sl, __global T *dst, const Strided dl,
                   const uint n) {
    const uint i = get_global_id(0);
    if (i < n) {
        dst[at(&dl, i)] = src[at(&sl, i)];
    }
}
