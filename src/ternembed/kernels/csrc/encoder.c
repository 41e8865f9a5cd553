/* The fused forward of a post-LayerNorm transformer encoder (BERT, MiniLM, MPNet) over packed ternary
 * weights: one call runs every layer, so no Python, torch dispatch or per-op allocation sits between
 * the matmuls. Per layer:
 *     qkv = x Wqkv^T + b;  ctx = softmax(q k^T * scale + position_bias + key_bias) v   (per head)
 *     x = LayerNorm(x + ctx Wo^T + b);  x = LayerNorm(x + GELU(x W1^T + b1) W2^T + b2)
 * Sequences are independent, so the batch runs in chunks of whole sequences (about TE_ENCODER_ROWS
 * tokens): the workspace stays a few MB and in cache whatever the batch size.
 */
#include <math.h>
#include <stdlib.h>

#include "ternary_kernels.h"

#define TE_ENCODER_ROWS 512
#define TE_ENCODER_PARALLEL_MIN_MACS 1e7 /* inside one forward the pool's workers are awake */
#define TE_ENCODER_PARALLEL_MIN_FLOATS 16384
#define TE_ENCODER_PARALLEL_MIN_ROWS 64 /* smaller forwards run on the calling thread alone (measured) */
#define TE_MAX_THREADS 256

typedef struct {
    te_weights qkv, out, ffn_in, ffn_out;
    const float *attention_norm_weight, *attention_norm_bias;
    const float *output_norm_weight, *output_norm_bias;
} te_encoder_layer;

typedef struct {
    const te_encoder_layer *layers;
    int64_t num_layers, hidden, heads, intermediate;
    float norm_eps;
    int mode;
} te_encoder;

typedef struct {
    const te_encoder *enc;
    const te_encoder_layer *layer;
    float *x, *qkv, *ctx, *delta, *inter;
    int64_t seq, rows;
    const float *key_bias, *position_bias;
    float *scratch;
    int64_t scratch_floats;
    int isa;
} te_step;

static float *workspace;
static size_t workspace_floats;

static void attention_task(void *arg, int64_t task, int thread) {
    const te_step *s = (const te_step *)arg;
    const te_encoder *e = s->enc;
    int64_t sequence = task / e->heads, head = task % e->heads, d = e->hidden / e->heads;
    te_attention_shape a = {s->seq, d, 3 * e->hidden, e->hidden, 1.0f / sqrtf((float)d), e->mode == TE_MODE_INT8};
    const float *q = s->qkv + sequence * s->seq * 3 * e->hidden + head * d;
    te_attention(&a, q, q + e->hidden, q + 2 * e->hidden, s->key_bias ? s->key_bias + sequence * s->seq : 0,
                 s->position_bias ? s->position_bias + head * s->seq * s->seq : 0,
                 s->ctx + sequence * s->seq * e->hidden + head * d, s->scratch + thread * s->scratch_floats, s->isa);
}

#define ROWS_PER_TASK 16

static void norm_task(void *arg, int64_t task, int thread) {
    (void)thread;
    const te_step *s = (const te_step *)arg;
    const te_encoder *e = s->enc;
    int attention = s->inter == 0; /* which of the layer's two norms */
    for (int64_t r = task * ROWS_PER_TASK; r < (task + 1) * ROWS_PER_TASK && r < s->rows; r++)
        te_add_layer_norm(s->x + r * e->hidden, s->delta + r * e->hidden, e->hidden,
                          attention ? s->layer->attention_norm_weight : s->layer->output_norm_weight,
                          attention ? s->layer->attention_norm_bias : s->layer->output_norm_bias, e->norm_eps, s->isa);
}

static void gelu_task(void *arg, int64_t task, int thread) {
    (void)thread;
    const te_step *s = (const te_step *)arg;
    int64_t n = s->enc->intermediate;
    for (int64_t r = task * ROWS_PER_TASK; r < (task + 1) * ROWS_PER_TASK && r < s->rows; r++)
        te_gelu(s->inter + r * n, n, s->isa);
}

static int threads_for_floats(int64_t floats, int nthreads) {
    return floats < TE_ENCODER_PARALLEL_MIN_FLOATS ? 1 : nthreads;
}

static int linear(const te_weights *w, const float *x, int64_t rows, float *y, int mode, int isa, int nthreads) {
    double macs = (double)rows * (double)w->k_padded * (double)w->n_padded;
    return te_linear_run(w, x, rows, w->k, y, mode, isa, TE_EPILOGUE_NONE,
                         macs < TE_ENCODER_PARALLEL_MIN_MACS ? 1 : nthreads);
}

static int run_layer(te_step *s, int nthreads) {
    const te_encoder *e = s->enc;
    const te_encoder_layer *l = s->layer;
    int64_t rows = s->rows, row_tasks = (rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
    int code = linear(&l->qkv, s->x, rows, s->qkv, e->mode, s->isa, nthreads);
    if (code) return code;
    int64_t sequences = rows / s->seq;
    te_pool_run(attention_task, s, sequences * e->heads, threads_for_floats(rows * s->seq * e->hidden, nthreads));
    if ((code = linear(&l->out, s->ctx, rows, s->delta, e->mode, s->isa, nthreads))) return code;
    float *inter = s->inter;
    s->inter = 0;
    te_pool_run(norm_task, s, row_tasks, threads_for_floats(rows * e->hidden, nthreads));
    s->inter = inter;
    if ((code = linear(&l->ffn_in, s->x, rows, s->inter, e->mode, s->isa, nthreads))) return code;
    te_pool_run(gelu_task, s, row_tasks, threads_for_floats(rows * e->intermediate, nthreads));
    if ((code = linear(&l->ffn_out, s->inter, rows, s->delta, e->mode, s->isa, nthreads))) return code;
    te_pool_run(norm_task, s, row_tasks, threads_for_floats(rows * e->hidden, nthreads));
    return 0;
}

static int valid_weights(const te_weights *w, int64_t n, int64_t k, int mode, int isa) {
    return w->codes && w->scales && w->n == n && w->k == k && w->k_padded % TE_BLOCK_K == 0 && w->n_padded % 32 == 0 &&
           w->group_padded % TE_BLOCK_K == 0 && !(isa == TE_ISA_AMX && mode == TE_MODE_FLOAT && !w->bf16);
}

static int valid_encoder(const te_encoder *e, int isa) {
    if (!e->layers || e->num_layers < 1 || e->hidden < 1 || e->heads < 1 || e->hidden % e->heads ||
        e->intermediate < 1 || e->mode < 0 || e->mode > 1)
        return 0;
    for (int64_t i = 0; i < e->num_layers; i++) {
        const te_encoder_layer *l = &e->layers[i];
        if (!valid_weights(&l->qkv, 3 * e->hidden, e->hidden, e->mode, isa) ||
            !valid_weights(&l->out, e->hidden, e->hidden, e->mode, isa) ||
            !valid_weights(&l->ffn_in, e->intermediate, e->hidden, e->mode, isa) ||
            !valid_weights(&l->ffn_out, e->hidden, e->intermediate, e->mode, isa) || !l->attention_norm_weight ||
            !l->attention_norm_bias || !l->output_norm_weight || !l->output_norm_bias)
            return 0;
    }
    return 1;
}

/* hidden: [batch * seq, hidden] float32, replaced by the encoder's output. key_bias: [batch, seq] added to
 * the scores of each key (0 or a large negative for padding), or NULL. position_bias: [heads, seq, seq]
 * added to the scores of every sequence (MPNet's relative positions), or NULL.
 * Returns 0, -1 (bad argument), -2 (ISA not on this CPU) or -3 (out of memory). */
int te_encoder_forward(const te_encoder *enc, float *hidden, int64_t batch, int64_t seq, const float *key_bias,
                       const float *position_bias, int isa, int nthreads) {
    if (batch < 0 || seq < 1 || isa < 0 || isa > TE_ISA_AMX || !valid_encoder(enc, isa)) return -1;
    if (isa > te_cpu_isa()) return -2;
    if (nthreads < 1) nthreads = 1;
    if (nthreads > TE_MAX_THREADS) nthreads = TE_MAX_THREADS;
    if (batch * seq < TE_ENCODER_PARALLEL_MIN_ROWS) nthreads = 1;
    int64_t per_chunk = TE_ENCODER_ROWS / seq > 0 ? TE_ENCODER_ROWS / seq : 1;
    if (per_chunk > batch) per_chunk = batch;
    int64_t rows = per_chunk * seq, h = enc->hidden;
    int64_t scratch_floats = (te_attention_scratch_floats(seq, h / enc->heads) + 15) / 16 * 16;
    size_t need = (size_t)rows * (3 * h + 2 * h + enc->intermediate) + (size_t)nthreads * scratch_floats;
    te_call_lock();
    if (need > workspace_floats) {
        free(workspace);
        workspace = aligned_alloc(64, ((need * sizeof(float)) + 63) & ~(size_t)63);
        workspace_floats = workspace ? need : 0;
    }
    if (!workspace) {
        te_call_unlock();
        return -3;
    }
    te_step s = {enc, 0, 0, workspace, workspace + rows * 3 * h, workspace + rows * 4 * h, workspace + rows * 5 * h,
                 seq, 0, 0, position_bias, workspace + rows * (5 * h + enc->intermediate), scratch_floats, isa};
    int code = 0;
    if (nthreads > 1) te_pool_hold(nthreads);
    for (int64_t first = 0; first < batch && !code; first += per_chunk) {
        int64_t count = batch - first < per_chunk ? batch - first : per_chunk;
        s.x = hidden + first * seq * h;
        s.rows = count * seq;
        s.key_bias = key_bias ? key_bias + first * seq : 0;
        for (int64_t i = 0; i < enc->num_layers && !code; i++) {
            s.layer = &enc->layers[i];
            code = run_layer(&s, nthreads);
        }
    }
    if (nthreads > 1) te_pool_hold(0);
    te_call_unlock();
    return code;
}
