/* Plain C task bodies, compiled once per target (see portable.c); TE_NAME(x) adds the suffix.
 * Codes are read from the blocked layout described in ternary_kernels.h, one 32-output panel
 * (two 16-output blocks) at a time. */

void TE_NAME(te_task_float)(TE_TASK_ARGS) {
    const te_weights *w = p->w;
    const int64_t kp = w->k_padded, kblocks = kp / TE_BLOCK_K, group_blocks = w->group_padded / TE_BLOCK_K;
    float *total = (float *)scratch;
    for (int64_t panel = panel0; panel < panel1 && panel * 32 < w->n; panel++) {
        for (int64_t r = row0; r < row0 + rows; r++) {
            const float *xr = (const float *)p->stage + r * kp;
            for (int c = 0; c < 32; c++) total[c] = 0.0f;
            for (int64_t g = 0; g < w->ngroups; g++) {
                float part[32] = {0};
                for (int64_t kb = g * group_blocks; kb < (g + 1) * group_blocks; kb++)
                    for (int half = 0; half < 2; half++) {
                        const int8_t *block = w->codes + ((2 * panel + half) * kblocks + kb) * TE_BLOCK_BYTES;
                        const float *xk = xr + kb * TE_BLOCK_K;
                        for (int kk = 0; kk < TE_BLOCK_K / 4; kk++)
                            for (int n = 0; n < TE_BLOCK_N; n++)
                                for (int j = 0; j < 4; j++)
                                    part[half * 16 + n] += xk[kk * 4 + j] * block[kk * 64 + n * 4 + j];
                    }
                for (int c = 0; c < 32; c++) total[c] += part[c] * w->scales[g * w->n_padded + panel * 32 + c];
            }
            te_store_row(p, r, panel * 32, total, 1.0f);
        }
    }
}

void TE_NAME(te_task_int8)(TE_TASK_ARGS) {
    const te_weights *w = p->w;
    const int64_t kp = w->k_padded, kblocks = kp / TE_BLOCK_K, group_blocks = w->group_padded / TE_BLOCK_K;
    float *total = (float *)scratch;
    for (int64_t panel = panel0; panel < panel1 && panel * 32 < w->n; panel++) {
        for (int64_t r = row0; r < row0 + rows; r++) {
            const int8_t *qr = (const int8_t *)p->stage + r * kp;
            for (int c = 0; c < 32; c++) total[c] = 0.0f;
            for (int64_t g = 0; g < w->ngroups; g++) {
                int32_t part[32] = {0};
                for (int64_t kb = g * group_blocks; kb < (g + 1) * group_blocks; kb++)
                    for (int half = 0; half < 2; half++) {
                        const int8_t *block = w->codes + ((2 * panel + half) * kblocks + kb) * TE_BLOCK_BYTES;
                        const int8_t *qk = qr + kb * TE_BLOCK_K;
                        for (int kk = 0; kk < TE_BLOCK_K / 4; kk++)
                            for (int n = 0; n < TE_BLOCK_N; n++)
                                for (int j = 0; j < 4; j++)
                                    part[half * 16 + n] += qk[kk * 4 + j] * block[kk * 64 + n * 4 + j];
                    }
                for (int c = 0; c < 32; c++)
                    total[c] += (float)part[c] * w->scales[g * w->n_padded + panel * 32 + c];
            }
            te_store_row(p, r, panel * 32, total, p->row_scale[r]);
        }
    }
}
