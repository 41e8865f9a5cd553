/* Entry points called from Python (ctypes): CPU feature detection and the threaded linear layer. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ternary_kernels.h"

#define TE_MAX_THREADS 256
#define TE_SCRATCH_FIXED_BYTES (TE_TASK_ROWS * 32 * 8 + 65536)

typedef struct {
    te_problem problem;
    te_stage_fn stage;
    te_task_fn task;
    int64_t task_rows;
    int64_t slices;
    int64_t panels;
} te_job;

static void *scratch[TE_MAX_THREADS];
static size_t scratch_size[TE_MAX_THREADS];
static void *stage_buffer;
static size_t stage_size;

static int reserve(void **buffer, size_t *size, size_t bytes) {
    if (*size >= bytes) return 0;
    free(*buffer);
    *buffer = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    *size = *buffer ? bytes : 0;
    return *buffer ? 0 : -1;
}

/* Per-thread scratch: result tiles plus, for 2-bit codes, one expanded panel (2 x Kp/64 int8 blocks). */
static int reserve_scratch(int nthreads, const te_weights *w) {
    size_t bytes = TE_SCRATCH_FIXED_BYTES + (w->codes2 ? (size_t)(w->k_padded / TE_BLOCK_K) * 2 * TE_BLOCK_BYTES : 0);
    for (int t = 0; t < nthreads; t++)
        if (reserve(&scratch[t], &scratch_size[t], bytes)) return -1;
    return 0;
}

static void run_stage_task(void *ctx, int64_t task, int thread) {
    (void)thread;
    const te_job *job = (const te_job *)ctx;
    int64_t row0 = task * job->task_rows;
    int64_t rows = job->problem.m - row0 < job->task_rows ? job->problem.m - row0 : job->task_rows;
    job->stage(&job->problem, row0, rows);
}

static void run_compute_task(void *ctx, int64_t task, int thread) {
    const te_job *job = (const te_job *)ctx;
    int64_t row_block = task / job->slices, slice = task % job->slices;
    int64_t row0 = row_block * job->task_rows;
    int64_t rows = job->problem.m - row0 < job->task_rows ? job->problem.m - row0 : job->task_rows;
    int64_t panel0 = slice * job->panels / job->slices, panel1 = (slice + 1) * job->panels / job->slices;
    job->task(&job->problem, row0, rows, panel0, panel1, scratch[thread]);
}

int te_cpu_isa(void) {
    __builtin_cpu_init();
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni"))
        return te_amx_enable() ? TE_ISA_AMX : TE_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return TE_ISA_AVX2;
#endif
    return TE_ISA_PORTABLE;
}

static const te_task_fn tasks[4][2] = {
    {te_task_float_portable, te_task_int8_portable},
    {te_task_float_avx2, te_task_int8_avx2},
    {te_task_float_avx512, te_task_int8_avx512},
    {te_task_float_amx, te_task_int8_amx},
};

/* One chunk of at most TE_CHUNK_ROWS rows: stage the activations, then compute all output panels. */
static int run_chunk(const te_weights *w, const float *x, int64_t m, int64_t ldx, float *y, int mode, int isa,
                     int epilogue, int nthreads) {
    int64_t m_padded = (m + TE_ROWS - 1) / TE_ROWS * TE_ROWS;
    int bf16x3 = isa == TE_ISA_AMX && mode == TE_MODE_FLOAT;
    size_t values = (size_t)m_padded * w->k_padded;
    size_t bytes = mode == TE_MODE_INT8 ? values + (size_t)m_padded * (4 + 4 * w->ngroups) + 64
                                        : values * (bf16x3 ? 6 : 4);
    if (reserve(&stage_buffer, &stage_size, bytes) || reserve_scratch(nthreads, w)) return -3;

    te_job job;
    job.problem = (te_problem){w, x, ldx, y, m, m_padded, epilogue, stage_buffer, 0, 0};
    if (mode == TE_MODE_INT8) {
        job.problem.row_scale = (float *)((int8_t *)stage_buffer + ((values + 63) & ~(size_t)63));
        job.problem.row_sums = (int32_t *)(job.problem.row_scale + m_padded);
    }
    job.stage = bf16x3                 ? te_stage_bf16x3
                : mode == TE_MODE_FLOAT ? te_stage_float
                : isa >= TE_ISA_AVX512  ? te_stage_int8_avx512
                                        : te_stage_int8;
    job.task = tasks[isa][mode];
    job.panels = w->n_padded / 32;
    /* Rows per task: whole TE_ROWS blocks, up to TE_TASK_ROWS, while keeping >= 4 tasks per thread. */
    int64_t blocks_per_task = m_padded / TE_ROWS / (4 * (int64_t)nthreads);
    if (blocks_per_task < 1) blocks_per_task = 1;
    if (blocks_per_task > TE_TASK_ROWS / TE_ROWS) blocks_per_task = TE_TASK_ROWS / TE_ROWS;
    /* 2-bit codes are expanded once per panel and task: one task takes all rows of a small product. */
    if (w->codes2 && isa == TE_ISA_AMX && mode == TE_MODE_INT8 && m <= TE_CODES2_MAX_ROWS)
        blocks_per_task = m_padded / TE_ROWS;
    job.task_rows = blocks_per_task * TE_ROWS;
    int64_t row_tasks = (m + job.task_rows - 1) / job.task_rows;
    job.slices = 1;
    if (row_tasks < 4 * (int64_t)nthreads) {
        job.slices = (4 * (int64_t)nthreads + row_tasks - 1) / row_tasks;
        if (job.slices > job.panels) job.slices = job.panels;
    }
    te_pool_run(run_stage_task, &job, row_tasks, m >= 256 ? nthreads : 1);
    te_pool_run(run_compute_task, &job, row_tasks * job.slices, nthreads);
    return 0;
}

static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;

/* The staging buffer and scratch are shared: one call runs at a time (ctypes releases the GIL). */
void te_call_lock(void) { pthread_mutex_lock(&call_lock); }
void te_call_unlock(void) { pthread_mutex_unlock(&call_lock); }

/* Rows go in chunks so the staged activations stay small (a few MB) whatever the batch. */
int te_linear_run(const te_weights *w, const float *x, int64_t m, int64_t ldx, float *y, int mode, int isa,
                  int epilogue, int nthreads) {
    for (int64_t row0 = 0; row0 < m; row0 += TE_CHUNK_ROWS) {
        int64_t rows = m - row0 < TE_CHUNK_ROWS ? m - row0 : TE_CHUNK_ROWS;
        int code = run_chunk(w, x + row0 * ldx, rows, ldx, y + row0 * w->n, mode, isa, epilogue, nthreads);
        if (code) return code;
    }
    return 0;
}

/* y[m, n] = epilogue(x[m, :k] . W^T * scales + bias). Returns 0, or a negative error code:
 * -1 bad argument, -2 ISA not available on this CPU, -3 out of memory. */
int te_linear(const te_weights *w, const float *x, int64_t m, int64_t ldx, float *y, int mode, int isa,
              int epilogue, int nthreads) {
    if (mode < 0 || mode > 1 || isa < 0 || isa > TE_ISA_AMX || m < 0 || w->k_padded % TE_BLOCK_K ||
        w->n_padded % 32 || w->group_padded % TE_BLOCK_K)
        return -1;
    if (isa > te_cpu_isa()) return -2;
    if (isa == TE_ISA_AMX && mode == TE_MODE_FLOAT && !w->bf16) return -1;
    if (nthreads < 1) nthreads = 1;
    if (nthreads > TE_MAX_THREADS) nthreads = TE_MAX_THREADS;
    /* Waking threads costs more than it saves on small products, above all on a busy machine. */
    if ((double)m * (double)w->k_padded * (double)w->n_padded < TE_PARALLEL_MIN_MACS) nthreads = 1;
    te_call_lock();
    int code = te_linear_run(w, x, m, ldx, y, mode, isa, epilogue, nthreads);
    te_call_unlock();
    return code;
}

/* ---- staging and epilogue shared by the ISA files ---- */

static int64_t group_length(const te_weights *w, int64_t g) {
    int64_t start = g * w->group;
    return w->k - start < w->group ? w->k - start : w->group;
}

/* Write one row of a 32-column panel: y = acc * row_scale + bias, then the epilogue. */
void te_store_row(const te_problem *p, int64_t row, int64_t col0, const float *acc, float row_scale) {
    const te_weights *w = p->w;
    float *out = p->y + row * w->n + col0;
    int64_t cols = w->n - col0 < 32 ? w->n - col0 : 32;
    for (int64_t c = 0; c < cols; c++) {
        float v = acc[c] * row_scale;
        if (w->bias) v += w->bias[col0 + c];
        out[c] = p->epilogue == TE_EPILOGUE_GELU ? 0.5f * v * (1.0f + erff(v * 0.70710678118654752440f)) : v;
    }
}

/* Float rows in the padded column layout; the padding columns are zeroed (codes there are zero too,
 * but garbage could be NaN). Rows past m are left as they are: their results are never stored. */
void te_stage_float(const te_problem *p, int64_t row0, int64_t rows) {
    const te_weights *w = p->w;
    for (int64_t r = row0; r < row0 + rows; r++) {
        const float *src = p->x + r * p->ldx;
        float *dst = (float *)p->stage + r * w->k_padded;
        for (int64_t g = 0; g < w->ngroups; g++) {
            int64_t len = group_length(w, g);
            memcpy(dst + g * w->group_padded, src + g * w->group, sizeof(float) * len);
            memset(dst + g * w->group_padded + len, 0, sizeof(float) * (w->group_padded - len));
        }
    }
}

/* Symmetric per-row int8, as ternembed.ternary.quantize_activations_int8 (x times the float reciprocal of the scale, round half even). */
void te_stage_int8(const te_problem *p, int64_t row0, int64_t rows) {
    const te_weights *w = p->w;
    for (int64_t r = row0; r < row0 + rows; r++) {
        const float *src = p->x + r * p->ldx;
        float amax = 0.0f;
        for (int64_t k = 0; k < w->k; k++) {
            float a = fabsf(src[k]);
            amax = a > amax ? a : amax;
        }
        float scale = (amax > 1e-8f ? amax : 1e-8f) / 127.0f, inverse = 1.0f / scale;
        for (int64_t g = 0; g < w->ngroups; g++) {
            int64_t len = group_length(w, g);
            int8_t *dst = (int8_t *)p->stage + r * w->k_padded + g * w->group_padded;
            int32_t sum = 0;
            for (int64_t k = 0; k < len; k++) {
                float v = nearbyintf(src[g * w->group + k] * inverse);
                v = v < -127.0f ? -127.0f : v > 127.0f ? 127.0f : v;
                dst[k] = (int8_t)v;
                sum += (int32_t)v;
            }
            memset(dst + len, 0, (size_t)(w->group_padded - len));
            p->row_sums[r * w->ngroups + g] = sum;
        }
        p->row_scale[r] = scale;
    }
}
