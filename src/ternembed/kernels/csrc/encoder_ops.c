/* Row operations of the fused encoder forward (encoder.c): attention for one (sequence, head), residual
 * add + LayerNorm, exact GELU. Each has a plain C version (any CPU, libm) and an AVX-512 version with
 * vectorized exp/erf; the plain one is the reference the tests compare against through the Python layer.
 */
#include <math.h>
#include <string.h>

#include "ternary_kernels.h"

#define ATTENTION_ROWS 8 /* query rows whose scores are held at once */

static int64_t padded32(int64_t n) { return (n + 31) / 32 * 32; }

/* ---- plain C ---- */

static void attention_plain(const te_attention_shape *a, const float *q, const float *k, const float *v, const float *key_bias,
                            const float *position_bias, float *ctx, float *scratch) {
    const int64_t seq = a->seq, d = a->head_dim;
    float *scores = scratch;
    for (int64_t i = 0; i < seq; i++) {
        float top = -INFINITY;
        for (int64_t j = 0; j < seq; j++) {
            float dot = 0.0f;
            for (int64_t t = 0; t < d; t++) dot += q[i * a->ld + t] * k[j * a->ld + t];
            float s = dot * a->scale;
            if (position_bias) s += position_bias[i * seq + j];
            if (key_bias) s += key_bias[j];
            scores[j] = s;
            top = s > top ? s : top;
        }
        float total = 0.0f;
        for (int64_t j = 0; j < seq; j++) total += scores[j] = expf(scores[j] - top);
        float inv = 1.0f / total;
        for (int64_t t = 0; t < d; t++) {
            float acc = 0.0f;
            for (int64_t j = 0; j < seq; j++) acc += scores[j] * v[j * a->ld + t];
            ctx[i * a->ldc + t] = acc * inv;
        }
    }
}

static void add_layer_norm_plain(float *x, const float *delta, int64_t n, const float *weight, const float *bias,
                                 float eps) {
    float mean = 0.0f, var = 0.0f;
    for (int64_t c = 0; c < n; c++) mean += x[c] += delta ? delta[c] : 0.0f;
    mean /= (float)n;
    for (int64_t c = 0; c < n; c++) var += (x[c] - mean) * (x[c] - mean);
    float rstd = 1.0f / sqrtf(var / (float)n + eps);
    for (int64_t c = 0; c < n; c++) x[c] = (x[c] - mean) * rstd * weight[c] + bias[c];
}

static void gelu_plain(float *x, int64_t n) {
    for (int64_t c = 0; c < n; c++) x[c] = 0.5f * x[c] * (1.0f + erff(x[c] * 0.70710678118654752440f));
}

/* ---- AVX-512 ---- */
#if defined(__x86_64__)
#include <immintrin.h>
#define TE_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
#include "simd_math.h"

/* erf(x), absolute error below 3e-7 (Abramowitz & Stegun 7.1.28: 1 - 1/(1 + a1 z + ... + a6 z^6)^16),
 * no exp: 6 FMAs, 4 squarings and a refined reciprocal. */
TE_AVX512 static inline __m512 erf512(__m512 x) {
    __m512 z = _mm512_abs_ps(x);
    __m512 p = _mm512_set1_ps(0.0000430638f);
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(0.0002765672f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(0.0001520143f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(0.0092705272f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(0.0422820123f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(0.0705230784f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.0f));
    p = _mm512_mul_ps(p, p);
    p = _mm512_mul_ps(p, p);
    p = _mm512_mul_ps(p, p);
    p = _mm512_min_ps(_mm512_mul_ps(p, p), _mm512_set1_ps(1e30f)); /* (...)^16, finite for the Newton step */
    __m512 r = _mm512_rcp14_ps(p);                                 /* 1/p: 14-bit estimate + one Newton step */
    r = _mm512_mul_ps(r, _mm512_fnmadd_ps(p, r, _mm512_set1_ps(2.0f)));
    __m512 y = _mm512_sub_ps(_mm512_set1_ps(1.0f), r);
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(y),
                                               _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN))));
}

static inline __mmask16 tail_mask(int64_t left) { return left >= 16 ? 0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1); }

/* Scores, softmax and context for `rows` (1..ATTENTION_ROWS) query rows starting at i0, 32 keys or 32 head
 * dimensions per step (two vectors) so each loaded key/value vector feeds up to 2 x ATTENTION_ROWS FMAs.
 * kt: keys transposed [d][seq32], zero past seq; scores: [ATTENTION_ROWS][seq32]. */
TE_AVX512 static inline void attention_rows512(const te_attention_shape *a, int rows, int64_t i0, const float *q,
                                               const float *kt, const float *v, const float *key_bias,
                                               const float *position_bias, float *ctx, float *scores) {
    const int64_t seq = a->seq, seq32 = padded32(seq), d = a->head_dim;
    const __m512 scale = _mm512_set1_ps(a->scale), minus_inf = _mm512_set1_ps(-INFINITY);
    __m512 top[ATTENTION_ROWS];
    for (int r = 0; r < rows; r++) top[r] = minus_inf;
    for (int64_t j = 0; j < seq32; j += 32) {
        __m512 acc[ATTENTION_ROWS][2];
        for (int r = 0; r < rows; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
        for (int64_t t = 0; t < d; t++) {
            __m512 k0 = _mm512_loadu_ps(kt + t * seq32 + j), k1 = _mm512_loadu_ps(kt + t * seq32 + j + 16);
            for (int r = 0; r < rows; r++) {
                __m512 qv = _mm512_set1_ps(q[(i0 + r) * a->ld + t]);
                acc[r][0] = _mm512_fmadd_ps(qv, k0, acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(qv, k1, acc[r][1]);
            }
        }
        for (int half = 0; half < 2; half++) {
            int64_t jj = j + 16 * half;
            __mmask16 valid = tail_mask(seq - jj);
            __m512 kb = key_bias ? _mm512_maskz_loadu_ps(valid, key_bias + jj) : _mm512_setzero_ps();
            for (int r = 0; r < rows; r++) {
                __m512 sc = _mm512_fmadd_ps(acc[r][half], scale, kb);
                if (position_bias) sc = _mm512_add_ps(sc, _mm512_maskz_loadu_ps(valid, position_bias + (i0 + r) * seq + jj));
                sc = _mm512_mask_blend_ps(valid, minus_inf, sc);
                top[r] = _mm512_max_ps(top[r], sc);
                _mm512_storeu_ps(scores + r * seq32 + jj, sc);
            }
        }
    }
    __m512 inv[ATTENTION_ROWS];
    for (int r = 0; r < rows; r++) {
        __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(top[r])), total = _mm512_setzero_ps();
        for (int64_t j = 0; j < seq32; j += 16) {
            __m512 e = _mm512_maskz_mov_ps(tail_mask(seq - j), exp512(_mm512_sub_ps(_mm512_loadu_ps(scores + r * seq32 + j), m)));
            total = _mm512_add_ps(total, e);
            _mm512_storeu_ps(scores + r * seq32 + j, e);
        }
        inv[r] = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(total));
    }
    for (int64_t t = 0; t < d; t += 32) {
        __mmask16 c0 = tail_mask(d - t), c1 = tail_mask(d - t - 16);
        __m512 acc[ATTENTION_ROWS][2];
        for (int r = 0; r < rows; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
        for (int64_t j = 0; j < seq; j++) {
            __m512 v0 = _mm512_maskz_loadu_ps(c0, v + j * a->ld + t), v1 = _mm512_maskz_loadu_ps(c1, v + j * a->ld + t + 16);
            for (int r = 0; r < rows; r++) {
                __m512 p = _mm512_set1_ps(scores[r * seq32 + j]);
                acc[r][0] = _mm512_fmadd_ps(p, v0, acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(p, v1, acc[r][1]);
            }
        }
        for (int r = 0; r < rows; r++) {
            _mm512_mask_storeu_ps(ctx + (i0 + r) * a->ldc + t, c0, _mm512_mul_ps(acc[r][0], inv[r]));
            _mm512_mask_storeu_ps(ctx + (i0 + r) * a->ldc + t + 16, c1, _mm512_mul_ps(acc[r][1], inv[r]));
        }
    }
}

TE_AVX512 static void attention_avx512(const te_attention_shape *a, const float *q, const float *k, const float *v,
                                       const float *key_bias, const float *position_bias, float *ctx, float *scratch) {
    const int64_t seq = a->seq, seq32 = padded32(seq), d = a->head_dim;
    float *kt = scratch, *scores = scratch + d * seq32;
    for (int64_t t = 0; t < d; t++) {
        for (int64_t j = 0; j < seq; j++) kt[t * seq32 + j] = k[j * a->ld + t];
        for (int64_t j = seq; j < seq32; j++) kt[t * seq32 + j] = 0.0f;
    }
    int64_t i = 0;
    for (; i + ATTENTION_ROWS <= seq; i += ATTENTION_ROWS)
        attention_rows512(a, ATTENTION_ROWS, i, q, kt, v, key_bias, position_bias, ctx, scores);
    for (; i < seq; i++) attention_rows512(a, 1, i, q, kt, v, key_bias, position_bias, ctx, scores);
}

TE_AVX512 static void add_layer_norm_avx512(float *x, const float *delta, int64_t n, const float *weight,
                                            const float *bias, float eps) {
    __m512 sum = _mm512_setzero_ps();
    for (int64_t c = 0; c < n; c += 16) {
        __mmask16 m = tail_mask(n - c);
        __m512 s = _mm512_maskz_loadu_ps(m, x + c);
        if (delta) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(m, delta + c));
        _mm512_mask_storeu_ps(x + c, m, s);
        sum = _mm512_add_ps(sum, s);
    }
    __m512 mean = _mm512_set1_ps(_mm512_reduce_add_ps(sum) / (float)n), sq = _mm512_setzero_ps();
    for (int64_t c = 0; c < n; c += 16) {
        __mmask16 m = tail_mask(n - c);
        __m512 e = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, x + c), mean);
        sq = _mm512_fmadd_ps(e, e, sq);
    }
    __m512 rstd = _mm512_set1_ps(1.0f / sqrtf(_mm512_reduce_add_ps(sq) / (float)n + eps));
    for (int64_t c = 0; c < n; c += 16) {
        __mmask16 m = tail_mask(n - c);
        __m512 e = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + c), mean), rstd);
        e = _mm512_fmadd_ps(e, _mm512_maskz_loadu_ps(m, weight + c), _mm512_maskz_loadu_ps(m, bias + c));
        _mm512_mask_storeu_ps(x + c, m, e);
    }
}

TE_AVX512 static void gelu_avx512(float *x, int64_t n) {
    for (int64_t c = 0; c < n; c += 16) {
        __mmask16 m = tail_mask(n - c);
        __m512 v = _mm512_maskz_loadu_ps(m, x + c);
        __m512 e = erf512(_mm512_mul_ps(v, _mm512_set1_ps(0.70710678118654752440f)));
        _mm512_mask_storeu_ps(x + c, m, _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v), _mm512_add_ps(e, _mm512_set1_ps(1.0f))));
    }
}
#endif

/* ---- dispatch ---- */

int64_t te_attention_scratch_floats(int64_t seq, int64_t head_dim) {
    int64_t avx512 = head_dim * padded32(seq) + ATTENTION_ROWS * padded32(seq) + 16;
    int64_t amx = te_attention_amx_scratch_floats(seq, head_dim);
    return avx512 > amx ? avx512 : amx;
}

void te_attention(const te_attention_shape *a, const float *q, const float *k, const float *v, const float *key_bias,
                  const float *position_bias, float *ctx, float *scratch, int isa) {
#if defined(__x86_64__)
    if (isa == TE_ISA_AMX && a->bf16 && (a->head_dim == 32 || a->head_dim == 64)) {
        te_attention_amx(a, q, k, v, key_bias, position_bias, ctx, scratch);
        return;
    }
    if (isa >= TE_ISA_AVX512) {
        attention_avx512(a, q, k, v, key_bias, position_bias, ctx, scratch);
        return;
    }
#endif
    attention_plain(a, q, k, v, key_bias, position_bias, ctx, scratch);
}

void te_add_layer_norm(float *x, const float *delta, int64_t n, const float *weight, const float *bias, float eps,
                       int isa) {
#if defined(__x86_64__)
    if (isa >= TE_ISA_AVX512) {
        add_layer_norm_avx512(x, delta, n, weight, bias, eps);
        return;
    }
#endif
    add_layer_norm_plain(x, delta, n, weight, bias, eps);
}

void te_gelu(float *x, int64_t n, int isa) {
#if defined(__x86_64__)
    if (isa >= TE_ISA_AVX512) {
        gelu_avx512(x, n);
        return;
    }
#endif
    gelu_plain(x, n);
}
