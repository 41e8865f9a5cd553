/* AVX-512 kernels: int8 activations with VNNI (vpdpbusd), float activations with FMA.
 *
 * One 64-byte row of a code block holds 16 outputs x 4 inputs, i.e. one dword per output, so a
 * single load feeds vpdpbusd directly; for floats each byte of the dwords is sign-extended with a
 * shift pair and converted. Eight activation rows x two 16-output blocks are kept in registers.
 */
#include "ternary_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TE_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define MR 8

/* te_store_row for AVX-512 CPUs: y = acc * row_scale + bias over one 32-output panel row. */
TE_AVX512 void te_store_row_avx512(const te_problem *p, int64_t row, int64_t col0, const float *acc, float row_scale) {
    const te_weights *w = p->w;
    if (p->epilogue != TE_EPILOGUE_NONE) {
        te_store_row(p, row, col0, acc, row_scale);
        return;
    }
    float *out = p->y + row * w->n + col0;
    int64_t cols = w->n - col0 < 32 ? w->n - col0 : 32;
    __m512 scale = _mm512_set1_ps(row_scale);
    for (int64_t c = 0; c < cols; c += 16) {
        __mmask16 mask = cols - c >= 16 ? 0xFFFF : (__mmask16)((1u << (cols - c)) - 1);
        __m512 v = _mm512_mul_ps(_mm512_loadu_ps(acc + c), scale);
        if (w->bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, w->bias + col0 + c));
        _mm512_mask_storeu_ps(out + c, mask, v);
    }
}

/* te_stage_int8 for AVX-512 CPUs: same arithmetic (multiply by the reciprocal, round half to even), 16 lanes. */
TE_AVX512 void te_stage_int8_avx512(const te_problem *p, int64_t row0, int64_t rows) {
    const te_weights *w = p->w;
    const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
    for (int64_t r = row0; r < row0 + rows; r++) {
        const float *src = p->x + r * p->ldx;
        __m512 amax = _mm512_setzero_ps();
        for (int64_t k = 0; k < w->k; k += 16) {
            __mmask16 mask = w->k - k >= 16 ? 0xFFFF : (__mmask16)((1u << (w->k - k)) - 1);
            amax = _mm512_max_ps(amax, _mm512_abs_ps(_mm512_maskz_loadu_ps(mask, src + k)));
        }
        float top = _mm512_reduce_max_ps(amax);
        float scale = (top > 1e-8f ? top : 1e-8f) / 127.0f;
        __m512 inverse = _mm512_set1_ps(1.0f / scale);
        for (int64_t g = 0; g < w->ngroups; g++) {
            int64_t len = w->k - g * w->group < w->group ? w->k - g * w->group : w->group;
            int8_t *dst = (int8_t *)p->stage + r * w->k_padded + g * w->group_padded;
            __m512i sum = _mm512_setzero_si512();
            for (int64_t k = 0; k < w->group_padded; k += 16) {
                __mmask16 mask = len - k >= 16 ? 0xFFFF : len - k <= 0 ? 0 : (__mmask16)((1u << (len - k)) - 1);
                __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, src + g * w->group + k), inverse);
                v = _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                __m512i q = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(v, lo), hi));
                sum = _mm512_add_epi32(sum, q);
                _mm_storeu_si128((__m128i *)(dst + k), _mm512_cvtepi32_epi8(q));
            }
            p->row_sums[r * w->ngroups + g] = _mm512_reduce_add_epi32(sum);
        }
        p->row_scale[r] = scale;
    }
}

TE_AVX512 void te_task_float_avx512(TE_TASK_ARGS) {
    const te_weights *w = p->w;
    const int64_t kp = w->k_padded, kblocks = kp / TE_BLOCK_K, group_blocks = w->group_padded / TE_BLOCK_K;
    const float *xs = (const float *)p->stage + row0 * kp;
    float *total = (float *)scratch; /* [MR][32] */
    for (int64_t panel = panel0; panel < panel1; panel++) {
        int64_t n0 = panel * 32;
        if (n0 >= w->n) break;
        for (int64_t r0 = 0; r0 < rows; r0 += MR) {
            for (int i = 0; i < MR * 32; i++) total[i] = 0.0f;
            for (int64_t g = 0; g < w->ngroups; g++) {
                __m512 acc[MR][2];
                for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
                for (int64_t kb = g * group_blocks; kb < (g + 1) * group_blocks; kb++) {
                    const int8_t *b0 = w->codes + ((2 * panel) * kblocks + kb) * TE_BLOCK_BYTES;
                    const int8_t *b1 = b0 + kblocks * TE_BLOCK_BYTES;
                    const float *xr = xs + r0 * kp + kb * TE_BLOCK_K;
                    for (int kk = 0; kk < TE_BLOCK_K / 4; kk++) {
                        __m512i w0 = _mm512_loadu_si512(b0 + kk * 64), w1 = _mm512_loadu_si512(b1 + kk * 64);
#define TE_STEP(j)                                                                               \
    {                                                                                            \
        __m512 f0 = _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(w0, 24 - 8 * j), 24)); \
        __m512 f1 = _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(w1, 24 - 8 * j), 24)); \
        for (int i = 0; i < MR; i++) {                                                           \
            __m512 xv = _mm512_set1_ps(xr[i * kp + kk * 4 + j]);                                 \
            acc[i][0] = _mm512_fmadd_ps(xv, f0, acc[i][0]);                                      \
            acc[i][1] = _mm512_fmadd_ps(xv, f1, acc[i][1]);                                      \
        }                                                                                        \
    }
                        TE_STEP(0) TE_STEP(1) TE_STEP(2) TE_STEP(3)
#undef TE_STEP
                    }
                }
                __m512 s0 = _mm512_loadu_ps(w->scales + g * w->n_padded + n0);
                __m512 s1 = _mm512_loadu_ps(w->scales + g * w->n_padded + n0 + 16);
                for (int i = 0; i < MR; i++) {
                    _mm512_storeu_ps(total + i * 32, _mm512_fmadd_ps(acc[i][0], s0, _mm512_loadu_ps(total + i * 32)));
                    _mm512_storeu_ps(total + i * 32 + 16,
                                     _mm512_fmadd_ps(acc[i][1], s1, _mm512_loadu_ps(total + i * 32 + 16)));
                }
            }
            for (int i = 0; i < MR && r0 + i < rows; i++) te_store_row_avx512(p, row0 + r0 + i, n0, total + i * 32, 1.0f);
        }
    }
}

TE_AVX512 void te_task_int8_avx512(TE_TASK_ARGS) {
    const te_weights *w = p->w;
    const int64_t kp = w->k_padded, kblocks = kp / TE_BLOCK_K, group_blocks = w->group_padded / TE_BLOCK_K;
    const int8_t *q = (const int8_t *)p->stage + row0 * kp;
    const float *row_scale = p->row_scale + row0;
    const int32_t *row_sums = p->row_sums + row0 * w->ngroups;
    float *total = (float *)scratch; /* [MR][32] */
    /* vpdpbusd multiplies unsigned by signed bytes: use codes + 1 in {0,1,2} and subtract the row sums. */
    const __m512i ones = _mm512_set1_epi8(1);
    for (int64_t panel = panel0; panel < panel1; panel++) {
        int64_t n0 = panel * 32;
        if (n0 >= w->n) break;
        for (int64_t r0 = 0; r0 < rows; r0 += MR) {
            for (int i = 0; i < MR * 32; i++) total[i] = 0.0f;
            for (int64_t g = 0; g < w->ngroups; g++) {
                __m512i acc[MR][2];
                for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_si512();
                for (int64_t kb = g * group_blocks; kb < (g + 1) * group_blocks; kb++) {
                    const int8_t *b0 = w->codes + ((2 * panel) * kblocks + kb) * TE_BLOCK_BYTES;
                    const int8_t *b1 = b0 + kblocks * TE_BLOCK_BYTES;
                    const int8_t *qr = q + r0 * kp + kb * TE_BLOCK_K;
                    for (int kk = 0; kk < TE_BLOCK_K / 4; kk++) {
                        __m512i w0 = _mm512_add_epi8(_mm512_loadu_si512(b0 + kk * 64), ones);
                        __m512i w1 = _mm512_add_epi8(_mm512_loadu_si512(b1 + kk * 64), ones);
                        for (int i = 0; i < MR; i++) {
                            __m512i xv = _mm512_set1_epi32(*(const int32_t *)(qr + i * kp + kk * 4));
                            acc[i][0] = _mm512_dpbusd_epi32(acc[i][0], w0, xv);
                            acc[i][1] = _mm512_dpbusd_epi32(acc[i][1], w1, xv);
                        }
                    }
                }
                __m512 s0 = _mm512_loadu_ps(w->scales + g * w->n_padded + n0);
                __m512 s1 = _mm512_loadu_ps(w->scales + g * w->n_padded + n0 + 16);
                for (int i = 0; i < MR; i++) {
                    __m512i sum = _mm512_set1_epi32(row_sums[(r0 + i) * w->ngroups + g]);
                    __m512 v0 = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[i][0], sum));
                    __m512 v1 = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[i][1], sum));
                    _mm512_storeu_ps(total + i * 32, _mm512_fmadd_ps(v0, s0, _mm512_loadu_ps(total + i * 32)));
                    _mm512_storeu_ps(total + i * 32 + 16, _mm512_fmadd_ps(v1, s1, _mm512_loadu_ps(total + i * 32 + 16)));
                }
            }
            for (int i = 0; i < MR && r0 + i < rows; i++)
                te_store_row_avx512(p, row0 + r0 + i, n0, total + i * 32, row_scale[r0 + i]);
        }
    }
}

#else
void te_store_row_avx512(const te_problem *p, int64_t row, int64_t col0, const float *acc, float row_scale) {
    te_store_row(p, row, col0, acc, row_scale);
}
void te_stage_int8_avx512(const te_problem *p, int64_t row0, int64_t rows) { te_stage_int8(p, row0, rows); }
void te_task_float_avx512(TE_TASK_ARGS) { te_task_float_portable(p, row0, rows, panel0, panel1, scratch); }
void te_task_int8_avx512(TE_TASK_ARGS) { te_task_int8_portable(p, row0, rows, panel0, panel1, scratch); }
#endif
