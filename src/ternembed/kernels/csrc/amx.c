/* AMX kernels (Sapphire Rapids and later).
 *
 * int8 activations: tdpbssd on int8 tiles straight from the blocked codes (a code block is one B tile).
 * float activations: exact float through bf16 tiles. Ternary codes are exact in bf16, and every float
 * activation is split into three bf16 parts hi + mid + lo that add up to it (8 + 8 + 8 significand
 * bits), so three tdpbf16ps passes with fp32 accumulation reproduce the fp32 product to float rounding.
 * Each task computes 32 rows x 32 outputs at a time: 2 A tiles, 2 B tiles, 4 accumulator tiles.
 */
#define _GNU_SOURCE
#include "ternary_kernels.h"

#if defined(__x86_64__) && defined(__linux__) && (defined(__clang__) || __GNUC__ >= 11) /* AMX intrinsics */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "simd_math.h"
#include <sys/syscall.h>
#include <unistd.h>

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18
#define TE_AMX __attribute__((target("amx-tile,amx-int8,amx-bf16,avx512f,avx512bw,avx512vl,avx512bf16")))

typedef struct {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} te_tile_config;

int te_amx_enable(void) {
    static int state = -1;
    if (state < 0) {
        __builtin_cpu_init();
        state = __builtin_cpu_supports("amx-tile") && __builtin_cpu_supports("amx-int8") &&
                __builtin_cpu_supports("amx-bf16") && __builtin_cpu_supports("avx512bf16") &&
                syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
    }
    return state;
}

TE_AMX static void configure_tiles(void) {
    te_tile_config config;
    memset(&config, 0, sizeof(config));
    config.palette = 1;
    for (int t = 0; t < 8; t++) {
        config.rows[t] = 16;
        config.colsb[t] = 64;
    }
    _tile_loadconfig(&config);
}

/* Split float rows into bf16 hi/mid/lo planes [3][m_padded][k_padded]; padding columns are zero. */
TE_AMX void te_stage_bf16x3(const te_problem *p, int64_t row0, int64_t rows) {
    const te_weights *w = p->w;
    const int64_t plane = p->m_padded * w->k_padded;
    uint16_t *base = (uint16_t *)p->stage;
    for (int64_t r = row0; r < row0 + rows; r++) {
        const float *src = p->x + r * p->ldx;
        for (int64_t g = 0; g < w->ngroups; g++) {
            int64_t len = w->k - g * w->group < w->group ? w->k - g * w->group : w->group;
            uint16_t *dst = base + r * w->k_padded + g * w->group_padded;
            for (int64_t k = 0; k < w->group_padded; k += 16) {
                __mmask16 mask = len - k >= 16 ? 0xFFFF : len - k <= 0 ? 0 : (__mmask16)((1u << (len - k)) - 1);
                __m512 x = _mm512_maskz_loadu_ps(mask, src + g * w->group + k);
                for (int part = 0; part < 3; part++) {
                    __m256i bf = (__m256i)_mm512_cvtneps_pbh(x);
                    _mm256_storeu_si256((__m256i *)(dst + part * plane + k), bf);
                    x = _mm512_sub_ps(x, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bf), 16)));
                }
            }
        }
    }
}

/* Accumulate the 4 result tiles (32 x 32) into total[32][32] with the group's output scales. */
TE_AMX static void add_tiles_scaled(float *total, const float *tiles, const float *scales, int first) {
    __m512 s0 = _mm512_loadu_ps(scales), s1 = _mm512_loadu_ps(scales + 16);
    for (int r = 0; r < 32; r++) {
        __m512 v0 = _mm512_mul_ps(_mm512_loadu_ps(tiles + r * 32), s0);
        __m512 v1 = _mm512_mul_ps(_mm512_loadu_ps(tiles + r * 32 + 16), s1);
        if (!first) {
            v0 = _mm512_add_ps(v0, _mm512_loadu_ps(total + r * 32));
            v1 = _mm512_add_ps(v1, _mm512_loadu_ps(total + r * 32 + 16));
        }
        _mm512_storeu_ps(total + r * 32, v0);
        _mm512_storeu_ps(total + r * 32 + 16, v1);
    }
}

/* Single-scale-group epilogue straight from the int32 tiles: y = acc * scale[n] * row_scale[r] + bias[n]. */
TE_AMX static void store_int_tiles(const te_problem *p, int64_t r0, int64_t r1, int64_t col0, const int32_t *tiles) {
    const te_weights *w = p->w;
    if (p->epilogue != TE_EPILOGUE_NONE) {
        float row[32];
        for (int64_t r = r0; r < r1; r++) {
            for (int c = 0; c < 32; c++) row[c] = (float)tiles[(r - r0) * 32 + c] * w->scales[col0 + c];
            te_store_row(p, r, col0, row, p->row_scale[r]);
        }
        return;
    }
    int64_t cols = w->n - col0 < 32 ? w->n - col0 : 32;
    __mmask16 m0 = cols >= 16 ? 0xFFFF : (__mmask16)((1u << cols) - 1);
    __mmask16 m1 = cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
    __m512 s0 = _mm512_loadu_ps(w->scales + col0), s1 = _mm512_loadu_ps(w->scales + col0 + 16);
    __m512 b0 = w->bias ? _mm512_maskz_loadu_ps(m0, w->bias + col0) : _mm512_setzero_ps();
    __m512 b1 = w->bias ? _mm512_maskz_loadu_ps(m1, w->bias + col0 + 16) : _mm512_setzero_ps();
    for (int64_t r = r0; r < r1; r++) {
        const int32_t *t = tiles + (r - r0) * 32;
        float *out = p->y + r * w->n + col0;
        __m512 rs = _mm512_set1_ps(p->row_scale[r]);
        __m512 v0 = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512(t)), s0), rs);
        __m512 v1 = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512(t + 16)), s1), rs);
        _mm512_mask_storeu_ps(out, m0, _mm512_add_ps(v0, b0));
        _mm512_mask_storeu_ps(out + 16, m1, _mm512_add_ps(v1, b1));
    }
}

TE_AMX void te_task_float_amx(TE_TASK_ARGS) {
    const te_weights *w = p->w;
    const int64_t kp = w->k_padded, kblocks = kp / 32, group_blocks = w->group_padded / 32;
    const int64_t plane = p->m_padded * kp;
    const uint16_t *stage = (const uint16_t *)p->stage;
    float *tiles = (float *)scratch, *total = tiles + 32 * 32;
    configure_tiles();
    for (int64_t panel = panel0; panel < panel1 && panel * 32 < w->n; panel++) {
        const uint16_t *b0 = w->bf16 + (2 * panel) * kblocks * 512, *b1 = b0 + kblocks * 512;
        for (int64_t r0 = row0; r0 < row0 + rows; r0 += 32) {
            for (int64_t g = 0; g < w->ngroups; g++) {
                _tile_zero(0);
                _tile_zero(1);
                _tile_zero(2);
                _tile_zero(3);
                for (int64_t kb = g * group_blocks; kb < (g + 1) * group_blocks; kb++) {
                    _tile_loadd(6, b0 + kb * 512, 64);
                    _tile_loadd(7, b1 + kb * 512, 64);
                    for (int part = 0; part < 3; part++) {
                        const uint16_t *a = stage + part * plane + r0 * kp + kb * 32;
                        _tile_loadd(4, a, kp * 2);
                        _tile_loadd(5, a + 16 * kp, kp * 2);
                        _tile_dpbf16ps(0, 4, 6);
                        _tile_dpbf16ps(1, 4, 7);
                        _tile_dpbf16ps(2, 5, 6);
                        _tile_dpbf16ps(3, 5, 7);
                    }
                }
                _tile_stored(0, tiles, 128);
                _tile_stored(1, tiles + 16, 128);
                _tile_stored(2, tiles + 16 * 32, 128);
                _tile_stored(3, tiles + 16 * 32 + 16, 128);
                add_tiles_scaled(total, tiles, w->scales + g * w->n_padded + panel * 32, g == 0);
            }
            for (int64_t r = r0; r < r0 + 32 && r < row0 + rows; r++)
                te_store_row_avx512(p, r, panel * 32, total + (r - r0) * 32, 1.0f);
        }
    }
    _tile_release();
}

/* Expand 2-bit code blocks (see ternary_kernels.h) into int8 tile blocks: 64 codes per 16 source bytes. */
TE_AMX static void expand_blocks(const uint8_t *src, int8_t *dst, int64_t blocks) {
    const __m512i low2 = _mm512_set1_epi32(0x03030303), ones = _mm512_set1_epi8(1);
    for (int64_t i = 0; i < blocks * 16; i++) {
        __m512i x = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(src + i * 16)));
        x = _mm512_or_si512(_mm512_or_si512(x, _mm512_slli_epi32(x, 6)),
                            _mm512_or_si512(_mm512_slli_epi32(x, 12), _mm512_slli_epi32(x, 18)));
        _mm512_storeu_si512(dst + i * 64, _mm512_sub_epi8(_mm512_and_si512(x, low2), ones));
    }
}

TE_AMX void te_task_int8_amx(TE_TASK_ARGS) {
    const te_weights *w = p->w;
    const int64_t kp = w->k_padded, kblocks = kp / TE_BLOCK_K, group_blocks = w->group_padded / TE_BLOCK_K;
    const int8_t *stage = (const int8_t *)p->stage;
    int32_t *tiles = (int32_t *)scratch;
    float *total = (float *)(tiles + 32 * 32), *tiles_f = total + 32 * 32;
    int8_t *expanded = (int8_t *)(tiles_f + 32 * 32); /* int8 blocks expanded from the 2-bit codes */
    const int two_bit = w->codes2 && p->m <= TE_CODES2_MAX_ROWS;
    /* One block of rows uses each expanded block once: expand a pair just before its tiles load it, so the
     * expanded codes stay in L1 (a whole panel of a 1536-wide layer is 48 KB, all of L1). Several blocks of
     * rows share a panel: expand it once. */
    const int per_pair = two_bit && rows <= 32;
    const int64_t code2_bytes = TE_BLOCK_BYTES / 4;
    configure_tiles();
    for (int64_t panel = panel0; panel < panel1 && panel * 32 < w->n; panel++) {
        const uint8_t *c0 = two_bit ? w->codes2 + (2 * panel) * kblocks * code2_bytes : 0;
        const uint8_t *c1 = two_bit ? c0 + kblocks * code2_bytes : 0;
        if (two_bit && !per_pair) expand_blocks(c0, expanded, 2 * kblocks);
        const int8_t *b0 = two_bit ? expanded : w->codes + (2 * panel) * kblocks * TE_BLOCK_BYTES;
        const int8_t *b1 = b0 + kblocks * TE_BLOCK_BYTES;
        for (int64_t r0 = row0; r0 < row0 + rows; r0 += 32) {
            for (int64_t g = 0; g < w->ngroups; g++) {
                _tile_zero(0);
                _tile_zero(1);
                _tile_zero(2);
                _tile_zero(3);
                for (int64_t kb = g * group_blocks; kb < (g + 1) * group_blocks; kb++) {
                    const int8_t *a = stage + r0 * kp + kb * TE_BLOCK_K;
                    _tile_loadd(4, a, kp);
                    _tile_loadd(5, a + 16 * kp, kp);
                    if (per_pair) {
                        expand_blocks(c0 + kb * code2_bytes, expanded, 1);
                        expand_blocks(c1 + kb * code2_bytes, expanded + TE_BLOCK_BYTES, 1);
                        _tile_loadd(6, expanded, 64);
                        _tile_loadd(7, expanded + TE_BLOCK_BYTES, 64);
                    } else {
                        _tile_loadd(6, b0 + kb * TE_BLOCK_BYTES, 64);
                        _tile_loadd(7, b1 + kb * TE_BLOCK_BYTES, 64);
                    }
                    _tile_dpbssd(0, 4, 6);
                    _tile_dpbssd(1, 4, 7);
                    _tile_dpbssd(2, 5, 6);
                    _tile_dpbssd(3, 5, 7);
                }
                _tile_stored(0, tiles, 128);
                _tile_stored(1, tiles + 16, 128);
                _tile_stored(2, tiles + 16 * 32, 128);
                _tile_stored(3, tiles + 16 * 32 + 16, 128);
                if (w->ngroups == 1) break;
                for (int i = 0; i < 32 * 32; i += 16)
                    _mm512_storeu_ps(tiles_f + i, _mm512_cvtepi32_ps(_mm512_loadu_si512(tiles + i)));
                add_tiles_scaled(total, tiles_f, w->scales + g * w->n_padded + panel * 32, g == 0);
            }
            if (w->ngroups == 1)
                store_int_tiles(p, r0, r0 + 32 < row0 + rows ? r0 + 32 : row0 + rows, panel * 32, tiles);
            else
                for (int64_t r = r0; r < r0 + 32 && r < row0 + rows; r++)
                    te_store_row_avx512(p, r, panel * 32, total + (r - r0) * 32, p->row_scale[r]);
        }
    }
    _tile_release();
}

/* ---- attention of one (sequence, head) in bf16 tiles with fp32 accumulation (int8-activation mode) ----
 * Scores Q K^T and context P V run as tdpbf16ps; scale, biases, mask and softmax stay fp32 (AVX-512).
 * Head sizes 32 and 64 (one or two 32-wide K steps; up to four 16-wide context tiles). Scratch layout:
 * q [seq16][d], k^T pairs [d/2][seq32][2], v pairs [seq32/2][d][2] and p [16][seq32] in bf16;
 * scores [16][seq32] and context [16][d] in fp32. */

TE_AMX static inline __m256i to_bf16(__m512 x) { return (__m256i)_mm512_cvtneps_pbh(x); }

int64_t te_attention_amx_scratch_floats(int64_t seq, int64_t d) {
    int64_t seq16 = (seq + 15) / 16 * 16, seq32 = (seq + 31) / 32 * 32;
    return (seq16 * d + 2 * seq32 * d + 16 * seq32) / 2 + 16 * seq32 + 16 * d + 32;
}

TE_AMX static void stage_heads(const te_attention_shape *a, const float *q, const float *k, const float *v,
                               uint16_t *qb, uint16_t *kb, uint16_t *vb) {
    const int64_t seq = a->seq, d = a->head_dim, seq16 = (seq + 15) / 16 * 16, seq32 = (seq + 31) / 32 * 32;
    for (int64_t i = 0; i < seq16; i++)
        for (int64_t t = 0; t < d; t += 16)
            _mm256_storeu_si256((__m256i *)(qb + i * d + t),
                                i < seq ? to_bf16(_mm512_loadu_ps(q + i * a->ld + t)) : _mm256_setzero_si256());
    uint32_t *pairs = (uint32_t *)kb; /* [d/2][seq32] dwords, each two consecutive head dims of one key */
    for (int64_t j = 0; j < seq32; j++)
        for (int64_t t = 0; t < d; t += 16) {
            uint32_t row[8];
            _mm256_storeu_si256((__m256i *)row, j < seq ? to_bf16(_mm512_loadu_ps(k + j * a->ld + t)) : _mm256_setzero_si256());
            for (int m = 0; m < 8; m++) pairs[(t / 2 + m) * seq32 + j] = row[m];
        }
    for (int64_t j = 0; j < seq32; j += 2)
        for (int64_t t = 0; t < d; t += 16) {
            __m512 v0 = j < seq ? _mm512_loadu_ps(v + j * a->ld + t) : _mm512_setzero_ps();
            __m512 v1 = j + 1 < seq ? _mm512_loadu_ps(v + (j + 1) * a->ld + t) : _mm512_setzero_ps();
            __m512i lo = _mm512_cvtepu16_epi32(to_bf16(v0)), hi = _mm512_slli_epi32(_mm512_cvtepu16_epi32(to_bf16(v1)), 16);
            _mm512_storeu_si512(vb + (j / 2) * d * 2 + t * 2, _mm512_or_si512(lo, hi));
        }
}

/* Softmax of one 16-row score block into bf16 probabilities; returns 1/sum per row in inv. */
TE_AMX static void softmax_block(const te_attention_shape *a, int64_t i0, const float *scores, const float *key_bias,
                                 const float *position_bias, uint16_t *pb, float *inv) {
    const int64_t seq = a->seq, seq32 = (seq + 31) / 32 * 32;
    const __m512 scale = _mm512_set1_ps(a->scale), minus_inf = _mm512_set1_ps(-INFINITY);
    for (int r = 0; r < 16; r++) {
        int64_t i = i0 + r;
        __m512 top = minus_inf;
        float *row = (float *)scores + r * seq32;
        for (int64_t j = 0; j < seq32; j += 16) {
            __mmask16 valid = seq - j >= 16 ? 0xFFFF : seq - j <= 0 ? 0 : (__mmask16)((1u << (seq - j)) - 1);
            __m512 s = _mm512_mul_ps(_mm512_loadu_ps(row + j), scale);
            if (key_bias) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(valid, key_bias + j));
            if (position_bias && i < seq) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(valid, position_bias + i * seq + j));
            s = _mm512_mask_blend_ps(valid, minus_inf, s);
            top = _mm512_max_ps(top, s);
            _mm512_storeu_ps(row + j, s);
        }
        __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(top)), total = _mm512_setzero_ps();
        for (int64_t j = 0; j < seq32; j += 16) {
            __mmask16 valid = seq - j >= 16 ? 0xFFFF : seq - j <= 0 ? 0 : (__mmask16)((1u << (seq - j)) - 1);
            __m512 e = _mm512_maskz_mov_ps(valid, exp512(_mm512_sub_ps(_mm512_loadu_ps(row + j), m)));
            total = _mm512_add_ps(total, e);
            _mm256_storeu_si256((__m256i *)(pb + r * seq32 + j), to_bf16(e));
        }
        inv[r] = 1.0f / _mm512_reduce_add_ps(total);
    }
}

TE_AMX void te_attention_amx(const te_attention_shape *a, const float *q, const float *k, const float *v,
                             const float *key_bias, const float *position_bias, float *ctx, float *scratch) {
    const int64_t seq = a->seq, d = a->head_dim, seq16 = (seq + 15) / 16 * 16, seq32 = (seq + 31) / 32 * 32;
    uint16_t *qb = (uint16_t *)scratch, *kb = qb + seq16 * d, *vb = kb + seq32 * d, *pb = vb + seq32 * d;
    float *scores = (float *)(pb + 16 * seq32), *cb = scores + 16 * seq32;
    float inv[16];
    stage_heads(a, q, k, v, qb, kb, vb);
    configure_tiles();
    for (int64_t i0 = 0; i0 < seq; i0 += 16) {
        for (int64_t jb = 0; jb < seq32 / 16; jb += 4) {
            int blocks = seq32 / 16 - jb < 4 ? (int)(seq32 / 16 - jb) : 4; /* seq32/16 is even: 2 or 4 */
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            for (int64_t ks = 0; ks < d / 32; ks++) {
                _tile_loadd(4, qb + i0 * d + ks * 32, d * 2);
                const uint16_t *b = kb + ks * 16 * seq32 * 2 + jb * 16 * 2;
                _tile_loadd(5, b, seq32 * 4);
                _tile_loadd(6, b + 32, seq32 * 4);
                _tile_dpbf16ps(0, 4, 5);
                _tile_dpbf16ps(1, 4, 6);
                if (blocks == 4) {
                    _tile_loadd(7, b + 64, seq32 * 4);
                    _tile_loadd(5, b + 96, seq32 * 4);
                    _tile_dpbf16ps(2, 4, 7);
                    _tile_dpbf16ps(3, 4, 5);
                }
            }
            _tile_stored(0, scores + jb * 16, seq32 * 4);
            _tile_stored(1, scores + jb * 16 + 16, seq32 * 4);
            if (blocks == 4) {
                _tile_stored(2, scores + jb * 16 + 32, seq32 * 4);
                _tile_stored(3, scores + jb * 16 + 48, seq32 * 4);
            }
        }
        softmax_block(a, i0, scores, key_bias, position_bias, pb, inv);
        int dims = (int)(d / 16); /* 2 or 4 context tiles */
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
        for (int64_t c = 0; c < seq32 / 32; c++) {
            _tile_loadd(4, pb + c * 32, seq32 * 2);
            const uint16_t *b = vb + c * 16 * d * 2;
            _tile_loadd(5, b, d * 4);
            _tile_loadd(6, b + 32, d * 4);
            _tile_dpbf16ps(0, 4, 5);
            _tile_dpbf16ps(1, 4, 6);
            if (dims == 4) {
                _tile_loadd(7, b + 64, d * 4);
                _tile_loadd(5, b + 96, d * 4);
                _tile_dpbf16ps(2, 4, 7);
                _tile_dpbf16ps(3, 4, 5);
            }
        }
        _tile_stored(0, cb, d * 4);
        _tile_stored(1, cb + 16, d * 4);
        if (dims == 4) {
            _tile_stored(2, cb + 32, d * 4);
            _tile_stored(3, cb + 48, d * 4);
        }
        for (int r = 0; r < 16 && i0 + r < seq; r++)
            for (int64_t t = 0; t < d; t += 16)
                _mm512_storeu_ps(ctx + (i0 + r) * a->ldc + t, _mm512_mul_ps(_mm512_loadu_ps(cb + r * d + t), _mm512_set1_ps(inv[r])));
    }
    _tile_release();
}

#else
int te_amx_enable(void) { return 0; }
void te_stage_bf16x3(const te_problem *p, int64_t row0, int64_t rows) { te_stage_float(p, row0, rows); }
void te_task_float_amx(TE_TASK_ARGS) { te_task_float_portable(p, row0, rows, panel0, panel1, scratch); }
void te_task_int8_amx(TE_TASK_ARGS) { te_task_int8_portable(p, row0, rows, panel0, panel1, scratch); }
int64_t te_attention_amx_scratch_floats(int64_t seq, int64_t d) { return 0; }
void te_attention_amx(const te_attention_shape *a, const float *q, const float *k, const float *v,
                      const float *key_bias, const float *position_bias, float *ctx, float *scratch) {}
#endif
