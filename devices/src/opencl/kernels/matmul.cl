/* Batched C = A * B, tiled: each work-group computes a TS x TS tile of one product, walking k in
 * steps of TK. Per step the group stages a TS x TK block of A and a TK x TS block of B in local
 * memory (zero-padded past the edges), then each item accumulates WM x WN outputs in registers
 * (rows ty + i*LY, columns tx + j*LX: interleaved, so neighbouring items read neighbouring local
 * words and write neighbouring columns of C).
 *
 * A element (r, q) of batch entry z is a[at(a_batch, z) + r * a_rs + q * a_cs], B likewise, so a
 * transposed operand is only a change of strides; a broadcast batch axis has stride 0. C is the
 * contiguous [batch, m, n] output. The host sets the blocking: TS and WM = WN (TS 64 with 4x4
 * per item = 256 items, TS 64 with 8x8 = 64 items, TS 128 with 8x8 = 256 items; matmul.rs). */

/* The index of this item's work-group along `axis` in the whole launch: a launch with more
 * groups than one enqueue takes along axes 1 and 2 runs as several with global offsets
 * (launch.rs), and get_group_id counts from each one's offset. */
#define GROUP(axis) (get_group_id(axis) + get_global_offset(axis) / get_local_size(axis))

#define TK 16
#define LX (TS / WN)
#define LY (TS / WM)
#define THREADS (LX * LY)

__kernel __attribute__((reqd_work_group_size(LX, LY, 1)))
void matmul(__global const T *a, const Strided a_batch, const uint a_rs, const uint a_cs,
            __global const T *b, const Strided b_batch, const uint b_rs, const uint b_cs,
            __global T *c, const uint m, const uint n, const uint k) {
    __local T a_tile[TK][TS + 1];
    __local T b_tile[TK][TS + 1];
    const uint tx = get_local_id(0);
    const uint ty = get_local_id(1);
    const uint tid = ty * LX + tx;
    const uint col0 = GROUP(0) * TS;
    const uint row0 = GROUP(1) * TS;
    const uint z = GROUP(2);
    const uint a0 = at(&a_batch, z);
    const uint b0 = at(&b_batch, z);

    T acc[WM][WN];
    for (uint i = 0; i < WM; ++i) {
        for (uint j = 0; j < WN; ++j) {
            acc[i][j] = (T)0;
        }
    }

    for (uint k0 = 0; k0 < k; k0 += TK) {
        for (uint e = tid; e < TS * TK; e += THREADS) {
            const uint r = e / TK;
            const uint q = e % TK;
            const uint gr = row0 + r;
            const uint gq = k0 + q;
            a_tile[q][r] = (gr < m && gq < k) ? a[a0 + gr * a_rs + gq * a_cs] : (T)0;
        }
        for (uint e = tid; e < TS * TK; e += THREADS) {
            const uint q = e / TS;
            const uint col = e % TS;
            const uint gq = k0 + q;
            const uint gc = col0 + col;
            b_tile[q][col] = (gq < k && gc < n) ? b[b0 + gq * b_rs + gc * b_cs] : (T)0;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (uint q = 0; q < TK; ++q) {
            T a_reg[WM];
            T b_reg[WN];
            for (uint i = 0; i < WM; ++i) {
                a_reg[i] = a_tile[q][ty + i * LY];
            }
            for (uint j = 0; j < WN; ++j) {
                b_reg[j] = b_tile[q][tx + j * LX];
            }
            for (uint i = 0; i < WM; ++i) {
                for (uint j = 0; j < WN; ++j) {
                    acc[i][j] += a_reg[i] * b_reg[j];
                }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    const uint c0 = z * m * n;
    for (uint i = 0; i < WM; ++i) {
        const uint r = row0 + ty + i * LY;
        for (uint j = 0; j < WN; ++j) {
            const uint col = col0 + tx + j * LX;
            if (r < m && col < n) {
                c[c0 + r * n + col] = acc[i][j];
            }
        }
    }
}
