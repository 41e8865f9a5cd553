/* The two ends of a text encoder's forward, for the fused pipeline (ternembed/io/fast_forward.py):
 * token embeddings (word + token type + position rows, then LayerNorm) and masked mean pooling with
 * optional L2 normalization. Tables are float32 rows, or int8 rows times a float32 scale per row. */
#include <math.h>
#include <stdint.h>

#include "ternary_kernels.h"

typedef struct {
    const void *values; /* float32 [rows][dim] or int8 [rows][dim] */
    const float *scale; /* [rows] for int8 tables, NULL for float32 */
    int64_t rows;
} te_table;

static void add_row(const te_table *t, int64_t id, int64_t dim, float *out, int first) {
    if (t->scale) {
        const int8_t *row = (const int8_t *)t->values + id * dim;
        float s = t->scale[id];
        for (int64_t c = 0; c < dim; c++) out[c] = first ? (float)row[c] * s : out[c] + (float)row[c] * s;
    } else {
        const float *row = (const float *)t->values + id * dim;
        for (int64_t c = 0; c < dim; c++) out[c] = first ? row[c] : out[c] + row[c];
    }
}

/* out[i] = LayerNorm(word[input_ids[i]] + type[type_ids[i]] + position[position_ids[i]]) for i < count;
 * type may be NULL (no token types). Returns -1, writing nothing useful, if an id is out of its table. */
int te_embed(const te_table *word, const te_table *type, const te_table *position, const int64_t *input_ids,
             const int64_t *type_ids, const int64_t *position_ids, int64_t count, int64_t dim, const float *norm_weight,
             const float *norm_bias, float norm_eps, float *out, int isa) {
    for (int64_t i = 0; i < count; i++) {
        int64_t w = input_ids[i], p = position_ids[i], t = type ? type_ids[i] : 0;
        if (w < 0 || w >= word->rows || p < 0 || p >= position->rows || (type && (t < 0 || t >= type->rows)))
            return -1;
    }
    for (int64_t i = 0; i < count; i++) {
        float *row = out + i * dim;
        add_row(word, input_ids[i], dim, row, 1);
        if (type) add_row(type, type_ids[i], dim, row, 0);
        add_row(position, position_ids[i], dim, row, 0);
        te_add_layer_norm(row, 0, dim, norm_weight, norm_bias, norm_eps, isa);
    }
    return 0;
}

/* out[b] = mean of hidden[b, t] over the tokens with mask[b, t] != 0 (divided by at least 1e-9), then
 * scaled to unit L2 norm (norm at least 1e-12) when normalize is set; as sentence-transformers' Pooling
 * (mean) and Normalize modules. */
void te_mean_pool(const float *hidden, const int64_t *mask, int64_t batch, int64_t seq, int64_t dim, int normalize,
                  float *out) {
    for (int64_t b = 0; b < batch; b++) {
        float *o = out + b * dim;
        float count = 0.0f;
        for (int64_t c = 0; c < dim; c++) o[c] = 0.0f;
        for (int64_t t = 0; t < seq; t++) {
            float m = (float)mask[b * seq + t];
            if (m == 0.0f) continue;
            const float *h = hidden + (b * seq + t) * dim;
            for (int64_t c = 0; c < dim; c++) o[c] += h[c] * m;
            count += m;
        }
        float inv = 1.0f / (count > 1e-9f ? count : 1e-9f);
        for (int64_t c = 0; c < dim; c++) o[c] *= inv;
        if (normalize) {
            float norm = 0.0f;
            for (int64_t c = 0; c < dim; c++) norm += o[c] * o[c];
            norm = sqrtf(norm);
            float scale = 1.0f / (norm > 1e-12f ? norm : 1e-12f);
            for (int64_t c = 0; c < dim; c++) o[c] *= scale;
        }
    }
}
