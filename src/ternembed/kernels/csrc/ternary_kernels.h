/* Packed ternary linear kernels: shared declarations.
 *
 * Weights arrive repacked (by ternembed/kernels/native.py) as int8 codes in {-1,0,1} laid out in
 * blocks of 16 output rows x 64 input columns, 1024 bytes each, ordered [N/16][Kp/64]:
 * byte (k/4)*64 + n*4 + k%4 of a block holds code (n, k). This is the AMX int8 "B" tile layout and
 * also what AVX-512 VNNI wants (one 64-byte row = 16 outputs x 4 inputs). Scale groups are padded
 * to a multiple of 64 columns so a block never straddles two groups.
 * codes2 holds each block in 256 bytes: byte (k/4)*16 + n packs codes (n, k..k+3) as (code + 1) in
 * bits 2i..2i+1. For products of at most TE_CODES2_MAX_ROWS rows the AMX int8 kernel expands a
 * 32-output panel of it into int8 tiles in L1: a quarter of the bytes read from memory per forward,
 * which is what bounds small batches once other work has pushed the weights out of the caches.
 */
#ifndef TERNARY_KERNELS_H
#define TERNARY_KERNELS_H

#include <stdint.h>

#define TE_BLOCK_N 16
#define TE_BLOCK_K 64
#define TE_BLOCK_BYTES (TE_BLOCK_N * TE_BLOCK_K)
#define TE_ROWS 32       /* activation rows per AMX block; staged rows are padded to this */
#define TE_TASK_ROWS 128 /* most activation rows one task handles */
#define TE_CHUNK_ROWS 512 /* rows staged at once: bounds the staging buffer */
#define TE_CODES2_MAX_ROWS 128 /* products up to this many rows read 2-bit codes (AMX int8) */
#define TE_PARALLEL_MIN_MACS 3.2e7 /* smaller products run on the calling thread alone */

enum te_isa { TE_ISA_PORTABLE = 0, TE_ISA_AVX2 = 1, TE_ISA_AVX512 = 2, TE_ISA_AMX = 3 };
enum te_mode { TE_MODE_FLOAT = 0, TE_MODE_INT8 = 1 };
enum te_epilogue { TE_EPILOGUE_NONE = 0, TE_EPILOGUE_GELU = 1 };

typedef struct {
    const int8_t *codes;     /* blocked int8 codes, [Np/16][Kp/64][1024] */
    const uint8_t *codes2;   /* the same blocks at 2 bits per code (AMX int8, small batches), or NULL */
    const uint16_t *bf16;    /* same codes as bf16 in AMX bf16 B-tile blocks [Np/16][Kp/32][512], or NULL */
    const float *scales;     /* [ngroups, n_padded], zero past n */
    const float *bias;       /* [N] or NULL */
    int64_t n, k;            /* true output / input features */
    int64_t n_padded;        /* multiple of 32 */
    int64_t k_padded;        /* ngroups * group_padded */
    int64_t group;           /* input columns per scale group (k when one group) */
    int64_t group_padded;    /* group rounded up to a multiple of 64 */
    int64_t ngroups;
} te_weights;

/* One call: activations x [m, k] (row stride ldx) staged once, then tasks over rows x output panels. */
typedef struct {
    const te_weights *w;
    const float *x;
    int64_t ldx;
    float *y;                /* [m, n] */
    int64_t m;
    int64_t m_padded;        /* m rounded up to TE_ROWS: staged buffers hold this many rows */
    int epilogue;
    void *stage;             /* float [m_padded][k_padded], int8 [m_padded][k_padded] or bf16 [3][m_padded][k_padded] */
    float *row_scale;        /* int8 mode: [m_padded] */
    int32_t *row_sums;       /* int8 mode: [m_padded][ngroups], sums of the staged int8 values */
} te_problem;

/* Stage rows [row0, row0 + rows) of the activations; compute rows x panels [panel0, panel1) of 32 outputs. */
typedef void (*te_stage_fn)(const te_problem *p, int64_t row0, int64_t rows);
typedef void (*te_task_fn)(const te_problem *p, int64_t row0, int64_t rows, int64_t panel0, int64_t panel1,
                           void *scratch);
#define TE_TASK_ARGS const te_problem *p, int64_t row0, int64_t rows, int64_t panel0, int64_t panel1, void *scratch

/* Thread pool: run fn(ctx, task, thread) for task in [0, ntasks) on up to nthreads threads. */
typedef void (*te_pool_fn)(void *ctx, int64_t task, int thread);
void te_pool_run(te_pool_fn fn, void *ctx, int64_t ntasks, int nthreads);
void te_pool_hold(int nthreads);

/* Staging and epilogue shared by all paths (api.c, amx.c). */
void te_stage_float(const te_problem *p, int64_t row0, int64_t rows);
void te_stage_int8(const te_problem *p, int64_t row0, int64_t rows);
void te_stage_bf16x3(const te_problem *p, int64_t row0, int64_t rows);
void te_store_row(const te_problem *p, int64_t row, int64_t col0, const float *acc, float row_scale);
void te_store_row_avx512(const te_problem *p, int64_t row, int64_t col0, const float *acc, float row_scale);
void te_stage_int8_avx512(const te_problem *p, int64_t row0, int64_t rows);
int te_amx_enable(void);
int te_cpu_isa(void);

/* The threaded linear layer without te_linear's argument checks, lock and small-product rule (api.c). */
int te_linear_run(const te_weights *w, const float *x, int64_t m, int64_t ldx, float *y, int mode, int isa,
                  int epilogue, int nthreads);
void te_call_lock(void);
void te_call_unlock(void);

/* Fused encoder row operations (encoder_ops.c). q, k, v: rows of one head, row stride ld; ctx row stride ldc. */
typedef struct {
    int64_t seq, head_dim, ld, ldc;
    float scale;
    int bf16; /* scores and context in bf16 AMX tiles where possible (int8-activation mode) */
} te_attention_shape;
int64_t te_attention_scratch_floats(int64_t seq, int64_t head_dim);
void te_attention(const te_attention_shape *a, const float *q, const float *k, const float *v, const float *key_bias,
                  const float *position_bias, float *ctx, float *scratch, int isa);
int64_t te_attention_amx_scratch_floats(int64_t seq, int64_t head_dim);
void te_attention_amx(const te_attention_shape *a, const float *q, const float *k, const float *v,
                      const float *key_bias, const float *position_bias, float *ctx, float *scratch);
/* x = LayerNorm(x + delta) over one row of n values; delta may be NULL. */
void te_add_layer_norm(float *x, const float *delta, int64_t n, const float *weight, const float *bias, float eps,
                       int isa);
void te_gelu(float *x, int64_t n, int isa);

/* Task functions, one per (ISA, mode). */
void te_task_float_portable(TE_TASK_ARGS);
void te_task_int8_portable(TE_TASK_ARGS);
void te_task_float_avx2(TE_TASK_ARGS);
void te_task_int8_avx2(TE_TASK_ARGS);
void te_task_float_avx512(TE_TASK_ARGS);
void te_task_int8_avx512(TE_TASK_ARGS);
void te_task_float_amx(TE_TASK_ARGS);
void te_task_int8_amx(TE_TASK_ARGS);

#endif
